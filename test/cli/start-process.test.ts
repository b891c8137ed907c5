// `samsa start` as a real process: its log flags (--log-format, --log-level, SAMSA_LOG_LEVEL), and
// its life under a supervisor: started by `npm start` (npm, then `sh -c`, then the broker), the
// broker stops when npm is killed with SIGTERM or SIGKILL, and releases its port; a node parent
// with --exit-with-parent, and --exit-on-stdin-close, likewise.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, ConfigResourceType } from '../../src/client/index.js';
import { buildBroker, removeBrokerBuild } from '../helpers/broker-process.js';
import { until } from '../helpers/tools.js';

let main: string;
/** script(1) (util-linux), which runs a command on a pseudo-terminal. */
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
let work: string;
const children: ChildProcess[] = [];
const brokerPids: number[] = [];

beforeAll(async () => {
  main = await buildBroker();
  work = mkdtempSync(join(tmpdir(), 'samsa-start-test-'));
}, 120_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of brokerPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(work, { recursive: true, force: true });
  removeBrokerBuild();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether 127.0.0.1:port can be bound (the broker released it). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

interface Started {
  child: ChildProcess;
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `cmd args`, collecting stdout+stderr lines. */
function launch(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd = work): Started {
  const child = spawn(cmd, args, {
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, npm_lifecycle_event: undefined, SAMSA_LOG_LEVEL: undefined, ...env },
  });
  children.push(child);
  const lines: string[] = [];
  let partial = '';
  const onData = (d: Buffer) => {
    partial += d.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, lines, exited };
}

/** The broker's JSON "listening" line: its pid and port. */
async function listening(s: Started): Promise<{ pid: number; port: number }> {
  let found: { pid: number; port: number } | undefined;
  await until(
    () => {
      for (const line of s.lines) {
        if (!line.startsWith('{')) continue;
        const e = JSON.parse(line) as { msg?: string; pid?: number; listener?: string };
        if (e.msg?.includes('listening') && e.pid && e.listener) {
          found = { pid: e.pid, port: Number(e.listener.slice(e.listener.lastIndexOf(':') + 1)) };
          return true;
        }
      }
      return s.child.exitCode !== null;
    },
    `the broker's listening line:\n${s.lines.join('\n')}`,
  );
  if (!found) throw new Error(`no listening line:\n${s.lines.join('\n')}`);
  brokerPids.push(found.pid);
  return found;
}

function startArgs(name: string): string[] {
  return ['start', '--listeners', 'PLAINTEXT://127.0.0.1:0', '--log-dirs', join(work, name)];
}

/** The kernel's view of a process (state, parent), for a failure message. */
function procStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').slice(0, 8).join('; ');
  } catch {
    return 'gone';
  }
}

async function expectBrokerGone(b: { pid: number; port: number }): Promise<void> {
  await until(() => !alive(b.pid), `broker ${b.pid} to exit`, 30_000).catch((err: Error) => {
    throw new Error(`${err.message} (${procStatus(b.pid)})`);
  });
  expect(await portFree(b.port)).toBe(true);
}

describe('samsa start: logs', () => {
  it('--log-format pretty --log-level debug: readable lines with level, message and fields; debug lines present', async () => {
    const s = launch(process.execPath, [
      main,
      ...startArgs('pretty'),
      '--log-format',
      'pretty',
      '--log-level',
      'debug',
    ]);
    let port = 0;
    await until(() => {
      const m = s.lines
        .map((l) => /INFO {2}Samsa broker listening on 127\.0\.0\.1:(\d+) /.exec(l))
        .find(Boolean);
      if (m) port = Number(m[1]);
      return port > 0 || s.child.exitCode !== null;
    }, 'the pretty listening line');
    expect(port).toBeGreaterThan(0);
    const admin = new Admin({ brokers: `127.0.0.1:${port}` });
    await admin.listTopics();
    await admin.close();
    await until(
      () => s.lines.some((l) => / DEBUG connection closed .*reason="closed by the client"/.test(l)),
      'a debug line',
    );
    const listeningLine = s.lines.find((l) => l.includes('listening on'))!;
    expect(listeningLine).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO {2}/);
    expect(listeningLine).toMatch(/ nodeId=1( |$)/);
    expect(s.lines.every((l) => !l.startsWith('{'))).toBe(true);
    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
    expect(s.lines.some((l) => / INFO {2}shutting down signal=SIGTERM/.test(l))).toBe(true);
  });

  it.skipIf(!hasScript)(
    'pretty by default on a terminal (a pty from script(1)), coloured unless NO_COLOR',
    async () => {
      for (const noColor of [false, true]) {
        const command = [process.execPath, main, ...startArgs(`tty-${noColor}`)]
          .map((a) => `'${a}'`)
          .join(' ');
        const s = launch('script', ['-qfec', command, '/dev/null'], noColor ? { NO_COLOR: '1' } : {});
        await until(
          () => s.lines.some((l) => l.includes('Samsa broker listening on')) || s.child.exitCode !== null,
          `the listening line on a terminal:\n${s.lines.join('\n')}`,
        );
        const line = s.lines.find((l) => l.includes('Samsa broker listening on'))!;
        expect(line.startsWith('{')).toBe(false);
        if (noColor)
          expect(line).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO {2}Samsa broker listening/);
        else expect(line).toContain('\x1b[32mINFO');
        s.child.kill('SIGTERM'); // script(1) ends its session, and the broker with it
        await s.exited;
      }
    },
  );

  it('JSON when stdout is not a terminal; SAMSA_LOG_LEVEL=trace gives a line per request; the rebalance delay stays 3000', async () => {
    const s = launch(process.execPath, [main, ...startArgs('json')], { SAMSA_LOG_LEVEL: 'trace' });
    const b = await listening(s);
    const admin = new Admin({ brokers: `127.0.0.1:${b.port}`, clientId: 'trace-test' });
    await admin.listTopics();
    // Unlike startBroker(), samsa start keeps Kafka's group.initial.rebalance.delay.ms.
    const configs = await admin.describeConfigs([
      { type: ConfigResourceType.Broker, name: '1', names: ['group.initial.rebalance.delay.ms'] },
    ]);
    expect(
      [...configs.values()].flat().find((c) => c.name === 'group.initial.rebalance.delay.ms')?.value,
    ).toBe('3000');
    await admin.close();
    await until(() => s.lines.some((l) => l.includes('"msg":"request"')), 'a trace line');
    const trace = JSON.parse(s.lines.find((l) => l.includes('"msg":"request"'))!) as Record<string, unknown>;
    expect(trace).toMatchObject({ level: 10, clientId: 'trace-test', api: 'ApiVersions' });
    s.child.kill('SIGTERM');
    await s.exited;
  });

  it('--log-level info hides debug lines even when SAMSA_LOG_LEVEL=debug; an unknown level is a usage error', async () => {
    const s = launch(process.execPath, [main, ...startArgs('info'), '--log-level', 'info'], {
      SAMSA_LOG_LEVEL: 'debug',
    });
    const b = await listening(s);
    const admin = new Admin({ brokers: `127.0.0.1:${b.port}` });
    await admin.listTopics();
    await admin.close();
    s.child.kill('SIGTERM');
    await s.exited;
    expect(s.lines.some((l) => l.includes('"level":20'))).toBe(false);
    const bad = launch(process.execPath, [main, ...startArgs('bad'), '--log-level', 'loud']);
    expect((await bad.exited).code).toBe(1);
    expect(bad.lines.join('\n')).toMatch(
      /--log-level.*one of fatal, error, warn, info, debug, trace, silent/,
    );
  });
});

describe('samsa start: loading', () => {
  it("the CLI's main chunk does not carry pino: only samsa start loads the logger, on demand", () => {
    const cli = dirname(main);
    const chunk = (name: string) => readFileSync(join(cli, name), 'latin1');
    expect(chunk('samsa.cjs')).not.toContain('SonicBoom');
    const withPino = readdirSync(cli).filter((f) => f.endsWith('.cjs') && chunk(f).includes('SonicBoom'));
    expect(withPino.length).toBeGreaterThan(0); // the check looks for something that is there
  });
});

describe('samsa start under a supervisor', () => {
  /** A project whose `npm start` runs this build's `samsa start` (as the package's own script does). */
  function npmProject(name: string): string {
    const dir = join(work, name);
    const args = [main, ...startArgs(`${name}-data`)].map((a) => JSON.stringify(a)).join(' ');
    const pkg = {
      name: `samsa-supervisor-${name}`,
      version: '1.0.0',
      private: true,
      scripts: { start: `node ${args}` },
    };
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
    return dir;
  }

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`npm start: ${signal} to npm stops the broker and frees its port`, async () => {
      const s = launch('npm', ['start', '--silent'], {}, npmProject(`npm-${signal}`));
      const b = await listening(s);
      expect(b.pid).not.toBe(s.child.pid); // npm runs the broker in another process
      s.child.kill(signal);
      await s.exited;
      await expectBrokerGone(b);
    });
  }

  it('--exit-with-parent: a node parent killed with SIGKILL takes the broker with it', async () => {
    // The parent spawns the broker, relays its output, and is then killed.
    const script = `const { spawn } = require('node:child_process');
      spawn(process.execPath, ${JSON.stringify([main, ...startArgs('parent'), '--exit-with-parent'])}, { stdio: 'inherit' });`;
    const s = launch(process.execPath, ['-e', script]);
    const b = await listening(s);
    s.child.kill('SIGKILL');
    await s.exited;
    await expectBrokerGone(b);
  });

  it('without npm and without --exit-with-parent, the broker outlives its parent (nohup-style use)', async () => {
    const script = `const { spawn } = require('node:child_process');
      spawn(process.execPath, ${JSON.stringify([main, ...startArgs('orphan')])}, { stdio: 'inherit' });`;
    const s = launch(process.execPath, ['-e', script]);
    const b = await listening(s);
    s.child.kill('SIGKILL');
    await s.exited;
    // Give a parent watch (500 ms polls) ample time to have fired, were it on.
    await new Promise((r) => setTimeout(r, 2000));
    expect(alive(b.pid)).toBe(true);
    process.kill(b.pid, 'SIGTERM');
    await expectBrokerGone(b);
  });

  it('--exit-on-stdin-close: the broker stops cleanly when its stdin closes', async () => {
    const s = launch(process.execPath, [main, ...startArgs('stdin'), '--exit-on-stdin-close']);
    const b = await listening(s);
    s.child.stdin!.end();
    expect((await s.exited).code).toBe(0);
    expect(s.lines.some((l) => l.includes('"reason":"stdin closed"'))).toBe(true);
    await expectBrokerGone(b);
  });
});
