// A Samsa broker in a child process, for tests that kill it (SIGKILL), stop it with a signal, or
// measure its memory apart from the test runner's.
//
// How the child runs: the sources are compiled with the project's tsc (tsconfig.build.json) into
// a private directory, node_modules/.cache/samsa-test-<pid>-<n>/, once per test file, bundled as
// `npm run build` bundles dist/ (scripts/bundle.ts), and the child runs that bundle through
// cli/bin.cjs (`samsa start`), as bin/samsa.cjs does. Not dist/: dist/ may be stale, and
// another test file or session building it at the same moment would race this one. Under
// node_modules/ the compiled files still resolve the project's dependencies. tsc takes ~2 s,
// the bundle ~0.5 s.
// A type error elsewhere in src/ does not stop the emit; only a missing main.js fails the build.
// SAMSA_TEST_BROKER_MAIN=/path/to/src/cli/main.js runs a given build instead (e.g. a deliberately
// broken one, to check that a test catches the fault).
//
// Ports: the first start listens on port 0 and reads the port the OS picked from the broker's
// "listening" log line; a restart asks for the same port again, so that clients and metadata stay
// valid across restarts (after SIGKILL the port is free again at once: the listener had no peer).
//
// Cleanup: every child is tracked; `stopAllBrokers()` (call it in afterAll) SIGKILLs the ones
// still running, and the worker's exit hook does the same should a test die first.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleCli } from '../../scripts/bundle.js';

const ROOT = join(import.meta.dirname, '..', '..');
let buildCounter = 0;
let build: Promise<string> | null = null;
let buildDir: string | null = null;
const running = new Set<BrokerProcess>();

process.once('exit', () => {
  for (const b of running) b.child.kill('SIGKILL');
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
});

/** Compiles the broker once for this test file; resolves to the path of its CLI entry point. */
export function buildBroker(): Promise<string> {
  const given = process.env.SAMSA_TEST_BROKER_MAIN;
  if (given) return Promise.resolve(given);
  if (!build) {
    build = new Promise<string>((resolve, reject) => {
      const out = join(ROOT, 'node_modules', '.cache', `samsa-test-${process.pid}-${buildCounter++}`);
      buildDir = out;
      const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
      const child = spawn(
        tsc,
        ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out, '--sourceMap', 'false'],
        {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d));
      child.stderr.on('data', (d: Buffer) => (output += d));
      child.on('error', reject);
      child.on('close', () => {
        const main = join(out, 'src', 'cli', 'main.js');
        if (!existsSync(main)) {
          reject(new Error(`tsc did not emit ${main}:\n${output}`));
          return;
        }
        // Bundled as `npm run build` bundles it: the child runs what bin/samsa.cjs runs.
        bundleCli(out).then(resolve, reject);
      });
    });
  }
  return build;
}

/** Removes this test file's build (call in afterAll, after stopAllBrokers). */
export function removeBrokerBuild(): void {
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  buildDir = null;
  build = null;
}

export interface BrokerProcessOptions {
  dataDir: string;
  /** 0 (the default) lets the OS pick. */
  port?: number;
  /** Broker configs by Kafka name, passed as --override name=value. */
  overrides?: Record<string, string>;
  /** How long to wait for the "listening" line. */
  startTimeoutMs?: number;
  /** Options for node itself, before the script (e.g. --require a preload). */
  nodeArgs?: string[];
  /**
   * Keep `samsa start`'s default HTTP listener (http://127.0.0.1:9644). Otherwise it is off
   * (http.listeners empty) unless the overrides set it, so that brokers started in parallel do not
   * contend for the one default port.
   */
  defaultHttpListener?: boolean;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Output {
  /** Every JSON log line the broker wrote, parsed (non-JSON lines are kept as { raw }). */
  logs: Record<string, unknown>[];
  stderr: string;
}

export class BrokerProcess {
  readonly exited: Promise<Exit>;
  private exit: Exit | null = null;

  private constructor(
    readonly child: ChildProcess,
    readonly dataDir: string,
    readonly port: number,
    readonly overrides: Record<string, string>,
    private readonly output: Output,
    exited: Promise<Exit>,
  ) {
    this.exited = exited.then((e) => {
      this.exit = e;
      running.delete(this);
      return e;
    });
  }

  get logs(): Record<string, unknown>[] {
    return this.output.logs;
  }

  get stderr(): string {
    return this.output.stderr;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.exit === null;
  }

  /** Starts a broker on `dataDir` and resolves once it accepts requests. */
  static async start(options: BrokerProcessOptions): Promise<BrokerProcess> {
    const main = await buildBroker();
    const overrides = options.overrides ?? {};
    const args = [
      ...(options.nodeArgs ?? []),
      main,
      'start',
      '--listeners',
      `PLAINTEXT://127.0.0.1:${options.port ?? 0}`,
      '--log-dirs',
      options.dataDir,
    ];
    for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
    if (!options.defaultHttpListener && overrides['http.listeners'] === undefined)
      args.push('--override', 'http.listeners=');
    const child = spawn(process.execPath, args, {
      cwd: options.dataDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SAMSA_LOG_LEVEL: 'info' },
    });
    const output: Output = { logs: [], stderr: '' };
    let partial = '';
    let onListening: ((port: number) => void) | null = null;
    child.stdout!.on('data', (d: Buffer) => {
      partial += d.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (line.trim() === '') continue;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          entry = { raw: line };
        }
        output.logs.push(entry);
        const listener = entry.listener;
        if (onListening && typeof listener === 'string' && /listening/.test(String(entry.msg))) {
          onListening(Number(listener.slice(listener.lastIndexOf(':') + 1)));
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      output.stderr += d.toString('utf8');
    });
    const exited = new Promise<Exit>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    let port: number;
    try {
      port = await new Promise<number>((resolve, reject) => {
        onListening = resolve;
        child.once('error', reject);
        void exited.then((e) =>
          reject(
            new Error(
              `broker exited (${e.code ?? e.signal}) before listening:\n${output.stderr}\n${partial}`,
            ),
          ),
        );
        timer = setTimeout(
          () => reject(new Error(`broker did not start in ${timeoutMs} ms:\n${output.stderr}`)),
          timeoutMs,
        );
      });
    } catch (err) {
      child.kill('SIGKILL');
      await exited;
      throw err;
    } finally {
      clearTimeout(timer);
    }
    const b = new BrokerProcess(child, options.dataDir, port, overrides, output, exited);
    running.add(b);
    return b;
  }

  /** Starts a new broker on the same data directory, port and overrides (after this one exited). */
  async restart(): Promise<BrokerProcess> {
    if (this.alive) throw new Error('restart() of a broker that is still running');
    return BrokerProcess.start({ dataDir: this.dataDir, port: this.port, overrides: this.overrides });
  }

  /** SIGKILL: no shutdown code runs, as in a crash. Resolves once the process is gone. */
  async kill(): Promise<Exit> {
    if (this.alive) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** SIGTERM: the clean shutdown path (flush, checkpoints, clean-shutdown marker). */
  async stop(): Promise<Exit> {
    if (this.alive) this.child.kill('SIGTERM');
    return this.exited;
  }

  /** Resident memory now and at its peak (VmRSS / VmHWM from /proc), in bytes. */
  memory(): { rss: number; peak: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (name: string) => {
      const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
      if (!m) throw new Error(`no ${name} in /proc/${this.pid}/status`);
      return Number(m[1]) * 1024;
    };
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  }

  /**
   * Resets the peak (VmHWM) to the current resident size (Linux: "5" to /proc/<pid>/clear_refs),
   * so that a later peak measures what happened since. Returns false if the kernel refused.
   */
  resetPeak(): boolean {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  }

  /** Log lines whose message matches. */
  logsMatching(pattern: RegExp): Record<string, unknown>[] {
    return this.logs.filter((l) => pattern.test(String(l.msg ?? l.raw ?? '')));
  }
}

/** SIGKILLs every broker this test file started that is still running. */
export async function stopAllBrokers(): Promise<void> {
  await Promise.all([...running].map((b) => b.kill()));
}

/** Whether a process is still alive (signal 0). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills a child we started and waits for it (for tool processes: producers, consumers). */
export function killChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
