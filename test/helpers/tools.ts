// Third-party clients the compat tests drive. A missing client fails the run under CI=true
// (.ci/run installs them) and skips the test elsewhere, saying what to install.

import { spawn, spawnSync } from 'node:child_process';

/** Debian's Python: the one that can import Debian's python3-confluent-kafka. */
export const PYTHON = '/usr/bin/python3';

function available(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0;
}

export const hasKcat = available('kcat', ['-V']);
export const hasConfluentKafka = available(PYTHON, ['-c', 'import confluent_kafka']);
/** kafka-python (Debian's python3-kafka 2.0.2), for clients pinned to pre-2.1 protocol versions. */
export const hasKafkaPython = available(PYTHON, ['-c', 'import kafka']);

/** The Debian package that brings each client. */
const PACKAGES: Record<string, string> = {
  kcat: 'kcat',
  'confluent-kafka-python': 'python3-confluent-kafka',
  'kafka-python': 'python3-kafka',
  sarama: 'golang-go golang-github-shopify-sarama-dev',
  'kafka-go': 'golang-go golang-github-segmentio-kafka-go-dev',
};

/**
 * Throws under CI=true when a client is missing; otherwise reports whether tests may run.
 * Use as `describe.skipIf(!requireClient('kcat', hasKcat))`.
 */
export function requireClient(name: string, present: boolean): boolean {
  if (present) return true;
  const hint = `${name} is not installed (apt-get install ${PACKAGES[name] ?? name})`;
  if (process.env.CI === 'true') throw new Error(`${hint}: compat tests cannot run`);
  console.warn(`skipping ${name} compat tests: ${hint}`);
  return false;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, feeding `input` on stdin; resolves with its exit code and output. */
export function run(cmd: string, args: string[], input = ''): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr }),
    );
    p.stdin.end(input);
  });
}

/** Polls `cond` until it holds; the deadline only guards against a hung test (no timing claims). */
export async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
