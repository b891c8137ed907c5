// The bundled CLI's V8 code cache (src/cli/bin.ts): a run writes the cache of every bundled file
// it compiled without one, a second after loading it or at exit if that comes first; the next run
// uses it and rewrites nothing; a corrupt cache is rejected by V8 (the broker starts as usual) and
// replaced. The broker runs as a process
// from a fresh bundle of this tree (test/helpers/broker-process.ts, as bin/samsa.cjs runs it).

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BrokerProcess, buildBroker, removeBrokerBuild, stopAllBrokers } from '../helpers/broker-process.js';

const dirs: string[] = [];
afterAll(async () => {
  await stopAllBrokers();
  removeBrokerBuild();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function startAndStop(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'samsa-codecache-'));
  dirs.push(dataDir);
  const b = await BrokerProcess.start({ dataDir });
  expect((await b.stop()).code).toBe(0);
}

const caches = (cliDir: string) =>
  new Map(
    readdirSync(cliDir)
      .filter((f) => f.endsWith('.v8cache'))
      .map((f) => [f, statSync(join(cliDir, f)).mtimeMs] as const),
  );

describe('code cache of the bundled CLI', () => {
  it('is written by a first run, used as is by the next, and replaced when corrupt', async () => {
    const cliDir = dirname(await buildBroker());
    expect(caches(cliDir).size).toBe(0); // a fresh bundle
    await startAndStop();
    const first = caches(cliDir);
    // The entry and the broker chunk at least: what every start compiles.
    expect(first.has('samsa.cjs.v8cache')).toBe(true);
    const broker = [...first.keys()].find((f) => f.startsWith('broker-'));
    expect(broker).toBeDefined();

    await startAndStop();
    const second = caches(cliDir);
    for (const [f, mtime] of first) expect(second.get(f)).toBe(mtime); // accepted: not rewritten

    const garbage = Buffer.alloc(4096, 0x5a);
    writeFileSync(join(cliDir, broker!), garbage);
    await startAndStop();
    expect(readFileSync(join(cliDir, broker!)).equals(garbage)).toBe(false);
  });

  it('is written while the broker runs, a second after the start (not only at its exit)', async () => {
    const cliDir = dirname(await buildBroker());
    for (const f of caches(cliDir).keys()) rmSync(join(cliDir, f));
    const dataDir = mkdtempSync(join(tmpdir(), 'samsa-codecache-'));
    dirs.push(dataDir);
    const b = await BrokerProcess.start({ dataDir });
    // No deadline of its own: the test's timeout bounds the wait.
    while (!caches(cliDir).has('samsa.cjs.v8cache') && b.alive) await new Promise((r) => setTimeout(r, 50));
    expect(b.alive).toBe(true);
    expect((await b.stop()).code).toBe(0);
  });

  it('leaves the built-ins it defers unloaded through a start and a clean stop', async () => {
    // scripts/bundle.ts makes dependencies' assert lazy; the broker times its start with
    // process.hrtime, not the global performance (which loads perf_hooks). A preload records
    // which of Node's modules the process loaded, at exit.
    const dataDir = mkdtempSync(join(tmpdir(), 'samsa-builtins-'));
    dirs.push(dataDir);
    const preload = join(dataDir, 'modules.cjs');
    const list = join(dataDir, 'modules.txt');
    writeFileSync(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));`,
    );
    const b = await BrokerProcess.start({ dataDir, nodeArgs: ['--require', preload] });
    expect((await b.stop()).code).toBe(0);
    const loaded = readFileSync(list, 'utf8').split('\n');
    expect(loaded).toContain('NativeModule net'); // the list is the real one
    expect(loaded).not.toContain('NativeModule assert');
    expect(loaded).not.toContain('NativeModule perf_hooks');
  });
});
