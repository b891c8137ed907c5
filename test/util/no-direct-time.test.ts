// The one-clock rule (DESIGN.md "One clock", issue 14): outside src/util/clock.ts, no module of
// the node reads the wall clock or sets a timer directly; everything goes through the Clock and
// Scheduler handed down from startBroker, so a whole node can run on simulated time. The client
// library (src/client) and the CLI (src/cli) keep their own timers and are not checked.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');
const EXEMPT = ['util/clock.ts', 'client/', 'cli/'];

const RULES: Array<[string, RegExp]> = [
  ['Date.now', /\bDate\.now\b/],
  ['new Date() (the current time)', /\bnew Date\(\s*\)/],
  // A bare call: `socket.setTimeout` (a socket's own idle time-out) is another API.
  ['a bare timer call', /(?<![.\w$])(setTimeout|setInterval|clearTimeout|clearInterval)\s*\(/],
  ['a global timer', /\b(globalThis|global)\.(setTimeout|setInterval|clearTimeout|clearInterval)\b/],
  ['performance.now', /\bperformance\.now\b/],
  ['process.hrtime', /\bprocess\.hrtime\b/],
  ['AbortSignal.timeout', /\bAbortSignal\.timeout\b/],
  [
    'a timer imported from node:timers',
    /\b(setTimeout|setInterval|scheduler)\b[^;]*from\s*['"](node:)?timers/,
  ],
];

/** The rule's breaches in `text`, as "line: what". Comment lines are skipped (they may name the calls). */
function violations(text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (t.startsWith('//') || t.startsWith('*') || t.startsWith('/*')) return;
    for (const [what, re] of RULES) if (re.test(line)) found.push(`${i + 1}: ${what}: ${t}`);
  });
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

describe('one clock', () => {
  it('no module outside src/util/clock.ts (and the client and CLI) reads the time or sets timers', () => {
    const files = sourceFiles(SRC).filter((f) => {
      const rel = relative(SRC, f).split('\\').join('/');
      return !EXEMPT.some((e) => rel === e || rel.startsWith(e));
    });
    expect(files.length).toBeGreaterThan(100);
    const breaches = files.flatMap((f) =>
      violations(readFileSync(f, 'utf8')).map((v) => `${relative(SRC, f)}:${v}`),
    );
    expect(breaches).toEqual([]);
  });

  it('the check catches each shape of direct time, and lets socket.setTimeout and comments be', () => {
    for (const bad of [
      'const t = Date.now();',
      'const d = new Date();',
      'const h = setTimeout(() => {}, 5);',
      'setInterval(tick, 1000);',
      'clearTimeout(h);',
      'globalThis.setTimeout(f, 1);',
      'const s = performance.now();',
      'const n = process.hrtime.bigint();',
      'const sig = AbortSignal.timeout(100);',
      "import { setTimeout as sleep } from 'node:timers/promises';",
    ]) {
      expect(violations(bad), bad).toHaveLength(1);
    }
    for (const ok of [
      'socket.setTimeout(options.idleTimeoutMs);',
      '// setTimeout would fire at once beyond 2^31-1 ms',
      ' * Date.now() in a doc comment',
      'const d = new Date(time.now());',
      'const cancel = time.schedule(5, fire);',
      "import { setImmediate as nextTurn } from 'node:timers/promises';",
    ]) {
      expect(violations(ok), ok).toEqual([]);
    }
  });
});
