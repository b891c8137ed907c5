// Running the `samsa` CLI in-process through main(argv, io) with byte-exact stdout (a Buffer, not
// a string: produce and consume are tested for binary keys and values), and as a real process.

import { type ChildProcess, spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { main } from '../../src/cli/commands.js';

export interface CliResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs one command line in-process; `input` is stdin (one chunk per element). */
export async function runCli(
  brokers: string,
  args: string[],
  input: Buffer | string | (Buffer | string)[] = [],
): Promise<CliResult> {
  const out: Buffer[] = [];
  let stderr = '';
  const chunks = (Array.isArray(input) ? input : [input]).map((c) =>
    typeof c === 'string' ? Buffer.from(c) : c,
  );
  const code = await main(['-b', brokers, '--request-timeout', '10000', ...args], {
    stdout: { write: (s: string | Uint8Array) => out.push(Buffer.from(s)) },
    stderr: { write: (s: string | Uint8Array) => (stderr += String(s)) },
    stdin: Readable.from(chunks),
    env: {},
  });
  return { code, stdout: Buffer.concat(out), stderr };
}

/** Spawns the compiled CLI (`cli` from buildBroker()) with SAMSA_BROKERS set. */
export function spawnCli(cli: string, brokers: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [cli, ...args], {
    env: { ...process.env, SAMSA_BROKERS: brokers },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Collects a child's output and resolves with its exit code once it ends. */
export function finished(
  child: ChildProcess,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}
