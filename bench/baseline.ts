// Baselines for the broker benchmarks, measured on this machine in the same run as them: what
// raw Node TCP over loopback and raw sequential disk writes reach, with no Kafka in the way.
//
//   npm run bench:baseline [-- --seconds 3 --dir /tmp]
//
// Exported so that the broker benchmarks can measure the baseline beside each of their figures.

import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export interface Rate {
  bytesPerSec: number;
}

/** One client streams `chunkBytes` writes to a server that discards them, for `seconds`. */
export async function loopbackTcp(seconds: number, chunkBytes = 64 * 1024): Promise<Rate> {
  let received = 0;
  const server = createServer((s) => s.on('data', (d: Buffer) => (received += d.length)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', r));
  const chunk = Buffer.alloc(chunkBytes, 1);
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (performance.now() < deadline) {
        if (!sock.write(chunk)) {
          sock.once('drain', pump);
          return;
        }
      }
      resolve();
    };
    pump();
  });
  const elapsed = (performance.now() - start) / 1000;
  sock.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return { bytesPerSec: received / elapsed };
}

/**
 * Request/response round trips over loopback with no Kafka in between: `connections` clients
 * each keep `inFlight` frames of `frameBytes` outstanding against a server that echoes every
 * frame back. The ceiling for small-request benchmarks (OffsetCommit, Heartbeat) on this machine.
 */
export async function echoRoundTrips(
  seconds: number,
  connections: number,
  inFlight: number,
  frameBytes: number,
): Promise<{ perSec: number }> {
  const server = createServer((s) => {
    s.setNoDelay(true);
    // Clients hang up at the deadline with echoes still on the way.
    s.on('error', () => {});
    let pending: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      pending = pending.length === 0 ? d : Buffer.concat([pending, d]);
      let at = 0;
      while (pending.length - at >= 4 && pending.length - at >= 4 + pending.readInt32BE(at)) {
        const size = 4 + pending.readInt32BE(at);
        s.write(pending.subarray(at, at + size));
        at += size;
      }
      pending = pending.subarray(at);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const frame = Buffer.alloc(frameBytes, 3);
  frame.writeInt32BE(frameBytes - 4, 0);
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const sock = connect(port, '127.0.0.1');
      sock.setNoDelay(true);
      await new Promise<void>((r) => sock.once('connect', r));
      await new Promise<void>((resolve) => {
        let got = 0;
        sock.on('data', (d: Buffer) => {
          got += d.length;
          while (got >= frameBytes) {
            got -= frameBytes;
            done++;
            if (performance.now() < deadline) sock.write(frame);
            else if (got === 0) {
              sock.destroy();
              resolve();
            }
          }
        });
        for (let i = 0; i < inFlight; i++) sock.write(frame);
      });
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  await new Promise<void>((r) => server.close(() => r()));
  return { perSec: done / elapsed };
}

/** Sequential writes of `chunkBytes`, with an fdatasync every `syncEveryBytes` (0: never). */
export function diskWrite(dir: string, seconds: number, chunkBytes: number, syncEveryBytes: number): Rate {
  const path = join(dir, `baseline-${process.pid}.bin`);
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(chunkBytes, 2);
  let written = 0;
  let sinceSync = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  try {
    while (performance.now() < deadline) {
      writeSync(fd, chunk);
      written += chunkBytes;
      sinceSync += chunkBytes;
      if (syncEveryBytes > 0 && sinceSync >= syncEveryBytes) {
        fdatasyncSync(fd);
        sinceSync = 0;
      }
    }
    if (syncEveryBytes > 0) fdatasyncSync(fd);
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  return { bytesPerSec: written / ((performance.now() - start) / 1000) };
}

export interface Latency {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * The disk's own latency at a paced load: every `tickMs`, `mbPerSec`'s share is appended to a
 * file (then fdatasynced when `sync`); for each tick, the time from when it was due to when it was
 * done. Ticks that fall due during a slow write share the next one (group commit). With sync this
 * is the floor under a durable broker's end-to-end latency at that load (an acknowledgement, and
 * the high watermark a consumer reads up to, wait for the fdatasync); without, a page-cache write.
 */
export function diskLatency(
  dir: string,
  seconds: number,
  mbPerSec: number,
  sync: boolean,
  tickMs = 1,
): Latency {
  const path = join(dir, `latency-${process.pid}.bin`);
  const fd = openSync(path, 'w');
  const tickBytes = Math.max(1, Math.round((mbPerSec * 1e6 * tickMs) / 1000));
  const times: number[] = [];
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const start = performance.now();
  const end = start + seconds * 1000;
  let due = start; // when the oldest tick not yet written was due
  try {
    while (due < end) {
      const wait = due - performance.now();
      if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);
      // Group commit: every tick due by now goes in one write and one fdatasync, as a broker's
      // log does with the appends that queued behind a slow fsync.
      const ticks = Math.max(1, Math.floor((performance.now() - due) / tickMs) + 1);
      writeSync(fd, Buffer.alloc(tickBytes * ticks, 3));
      if (sync) fdatasyncSync(fd);
      const done = performance.now();
      // From each tick's due time, not the write's start: a stall counts for every tick it held up.
      for (let i = 0; i < ticks; i++) times.push(done - (due + i * tickMs));
      due += ticks * tickMs;
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  times.sort((a, b) => a - b);
  return {
    p50Ms: times[Math.floor(times.length / 2)],
    p99Ms: times[Math.floor(times.length * 0.99)],
    maxMs: times[times.length - 1],
  };
}

const MB = (r: Rate) => `${(r.bytesPerSec / 1e6).toFixed(0)} MB/s`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '3' }, dir: { type: 'string' } },
  });
  const seconds = Number(values.seconds);
  const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'samsa-baseline-'));
  try {
    console.log(
      `machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, node ${process.version}, ${new Date().toISOString()}`,
    );
    console.log(`disk: ${dir}\n`);
    console.log('| baseline | rate |');
    console.log('|---|---|');
    console.log(`| loopback TCP, one connection, 64 KiB writes | ${MB(await loopbackTcp(seconds))} |`);
    console.log(
      `| disk write 1 MiB chunks, no fdatasync (page cache) | ${MB(diskWrite(dir, seconds, 1 << 20, 0))} |`,
    );
    console.log(
      `| disk write 1 MiB chunks, fdatasync each 1 MiB | ${MB(diskWrite(dir, seconds, 1 << 20, 1 << 20))} |`,
    );
    console.log(
      `| disk write 64 KiB chunks, fdatasync each 64 KiB | ${MB(diskWrite(dir, seconds, 64 << 10, 64 << 10))} |`,
    );
    for (const sync of [true, false]) {
      const l = diskLatency(dir, seconds, 50, sync);
      console.log(
        `| 50 MB/s in 1 ms writes${sync ? ' + fdatasync each' : ''}: time from due to done | p50 ${l.p50Ms.toFixed(2)} ms, p99 ${l.p99Ms.toFixed(2)} ms, max ${l.maxMs.toFixed(1)} ms |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
