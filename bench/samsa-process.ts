// A Samsa broker as a child process (`bin/samsa.cjs start`) for the benchmarks, so that the
// broker's event loop is not shared with the load generator; and one-shot round trips to it.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRequest } from '../src/protocol/frame.js';
import { ApiVersionsRequest } from '../src/protocol/generated/messages/ApiVersionsRequest.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

export interface Running {
  port: number;
  /** The HTTP listener's port (/metrics, /health), or null when the overrides turned it off. */
  httpPort: number | null;
  pid: number;
  stop(): Promise<void>;
  startMs: number;
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts `samsa start` and resolves once it answers requests; startMs is spawn → first answer.
 * The HTTP listener is on, as `samsa start`'s default, but on a free port (9644 may be taken)
 * unless the overrides set http.listeners.
 */
export async function startBroker(
  dataDir: string,
  overrides: string[] = [],
  nodeArgs: string[] = [],
  /** Listeners served beside the PLAINTEXT one the readiness check uses (NAME://host:port). */
  extraListeners: string[] = [],
): Promise<Running> {
  const port = await freePort();
  let httpPort: number | null = null;
  const httpSetting = overrides.find((o) => o.startsWith('http.listeners='));
  if (httpSetting === undefined) {
    httpPort = await freePort();
    overrides = [...overrides, `http.listeners=http://127.0.0.1:${httpPort}`];
  } else {
    const m = /:(\d+)\/?$/.exec(httpSetting);
    httpPort = m ? Number(m[1]) : null;
  }
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      // e.g. BENCH_BROKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the broker.
      ...(process.env.BENCH_BROKER_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? []),
      ...nodeArgs,
      join(root, 'bin/samsa.cjs'),
      'start',
      '--listeners',
      [`PLAINTEXT://127.0.0.1:${port}`, ...extraListeners].join(','),
      '--log-dirs',
      dataDir,
      ...overrides.flatMap((o) => ['-o', o]),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, SAMSA_LOG_LEVEL: 'warn' } },
  );
  // Ready means answering: the listener is bound early (connections wait while the broker
  // starts), so a TCP accept proves nothing. Time the first answered ApiVersions request.
  const apiVersions = Buffer.concat(
    encodeRequest({ apiKey: 18, apiVersion: 3, correlationId: 0, clientId: 'bench' }, ApiVersionsRequest, {
      clientSoftwareName: 'bench',
      clientSoftwareVersion: '1',
    }),
  );
  for (;;) {
    const ok = await roundTrip(port, apiVersions).then(
      () => true,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null) throw new Error('broker exited');
    // 1 ms between attempts: the figure is this poll's resolution.
    await new Promise((r) => setTimeout(r, 1));
  }
  const startMs = performance.now() - t0;
  return {
    port,
    httpPort,
    pid: child.pid!,
    startMs,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** User + system CPU seconds a process has used so far (Linux: /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ)
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** One request over a fresh connection; resolves with the round-trip time in ms. */
export function roundTrip(port: number, frame: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      const t0 = performance.now();
      let got = 0;
      let need = -1;
      s.on('data', (d: Buffer) => {
        if (need < 0) need = d.readInt32BE(0) + 4;
        got += d.length;
        if (got >= need) {
          s.destroy();
          resolve(performance.now() - t0);
        }
      });
      s.write(frame);
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error('connection closed before the answer')));
  });
}
