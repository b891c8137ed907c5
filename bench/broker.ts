// Broker benchmark: librdkafka (bench/rdkafka-bench.c, compiled here) against a Samsa broker
// started as a child process, each figure beside the baselines measured in the same run.
//
//   npm run bench:broker            needs gcc and librdkafka-dev (apt-get install librdkafka-dev)
//
// Measures: produce 100-byte and 1 KiB records (default durability: fsync before ack; and
// page-cache mode), consume 100-byte records, end-to-end latency at 50 MB/s, start time and idle
// RSS, and 10,000 partitions: start time and a Metadata request for all of them.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { encodeRequest } from '../src/protocol/frame.js';
import { CreateTopicsRequest, MetadataRequest } from '../src/protocol/generated/index.js';
import { diskLatency, diskWrite, loopbackTcp } from './baseline.js';
import { cpuSeconds, root, roundTrip, rssMb, startBroker } from './samsa-process.js';

const work = mkdtempSync(join(process.env.BENCH_DIR ?? root, '.bench-'));
const driver = join(work, 'rdkafka-bench');

function run(args: string[]): Record<string, number> {
  const out = execFileSync(driver, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/**
 * A produce run with the CPU both sides used: on this 2-core machine the driver (librdkafka) and
 * the broker share the cores, so "cores busy" near 2 means the machine, not either side, is the
 * limit.
 */
function produce(brokerPid: number, args: string[]): { r: Record<string, number>; cpu: string } {
  const before = cpuSeconds(brokerPid);
  const r = run(['produce', ...args]);
  const broker = cpuSeconds(brokerPid) - before;
  const busy = (r.cpu_seconds + broker) / r.seconds;
  return {
    r,
    cpu: `CPU: driver ${r.cpu_seconds.toFixed(1)} s + broker ${broker.toFixed(1)} s in ${r.seconds.toFixed(1)} s = ${busy.toFixed(2)} of ${cpus().length} cores`,
  };
}

const rows: string[][] = [];
const row = (...cells: (string | number)[]) => rows.push(cells.map(String));

async function main(): Promise<void> {
  execFileSync('gcc', ['-O2', '-o', driver, join(root, 'bench/rdkafka-bench.c'), '-lrdkafka']);
  const seconds = 3;
  const tcp = await loopbackTcp(seconds);
  const syncMb = diskWrite(work, seconds, 1 << 20, 1 << 20).bytesPerSec / 1e6;
  const bufferedMb = diskWrite(work, seconds, 1 << 20, 0).bytesPerSec / 1e6;
  row('baseline: loopback TCP, 64 KiB writes', `${(tcp.bytesPerSec / 1e6).toFixed(0)} MB/s`, '', '');
  row('baseline: disk write 1 MiB + fdatasync', `${syncMb.toFixed(0)} MB/s`, '', '');
  row('baseline: disk write 1 MiB, page cache', `${bufferedMb.toFixed(0)} MB/s`, '', '');
  for (const sync of [true, false]) {
    const l = diskLatency(work, seconds * 2, 50, sync);
    row(
      `baseline: disk at 50 MB/s in 1 ms appends${sync ? ' + fdatasync' : ''}, due to done`,
      `p99 ${l.p99Ms.toFixed(2)} ms`,
      '',
      `p50 ${l.p50Ms.toFixed(2)} ms, max ${l.maxMs.toFixed(1)} ms`,
    );
  }

  // Start time and idle RSS of an empty broker: five starts, each on a new data dir (one start
  // alone swung by 100 ms right after the disk baselines).
  const starts: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < 5; i++) {
    const empty = await startBroker(join(work, `empty-${i}`));
    starts.push(empty.startMs);
    await new Promise((r) => setTimeout(r, 1000));
    rss.push(rssMb(empty.pid));
    await empty.stop();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  row(
    'start to first answered request (empty, median of 5)',
    `${median(starts).toFixed(0)} ms`,
    '<= 200 ms',
    `each: ${starts.map((s) => s.toFixed(0)).join(', ')} ms`,
  );
  row('idle RSS (empty, median of 5)', `${median(rss).toFixed(0)} MB`, '<= 60 MB', '');

  // Page-cache mode as Kafka ships it: log.flush.interval.messages at its default, Long.MAX_VALUE
  // (no fsync by count; the OS writes back, the log fsyncs at roll and close).
  const kafkaFlush = 'log.flush.interval.messages=9223372036854775807';
  for (const mode of ['fsync before ack (default)', `page cache (Kafka's default flush: ${kafkaFlush})`]) {
    const pageCache = mode.startsWith('page');
    const b = await startBroker(join(work, pageCache ? 'pc' : 'durable'), pageCache ? [kafkaFlush] : []);
    const bs = `127.0.0.1:${b.port}`;
    // Steady state, as the goals mean it: a first run on a fresh broker also pays for its JIT and
    // for growing its heap (tens of thousands of page faults on this VM), 10-30% of that run.
    run(['produce', bs, 'warm-up', '1000000', '100']);
    const { r: p100, cpu: p100Cpu } = produce(b.pid, [bs, 'p100', '3000000', '100']);
    row(
      `produce 100 B, acks=all, ${mode}`,
      `${(p100.records_per_sec / 1e6).toFixed(2)} M records/s`,
      '>= 1 M records/s',
      `${p100.mb_per_sec} MB/s; ${p100Cpu}`,
    );
    const { r: p1k, cpu: p1kCpu } = produce(b.pid, [bs, 'p1k', '500000', '1024']);
    const base = pageCache ? bufferedMb : syncMb;
    row(
      `produce 1 KiB, acks=all, ${mode}`,
      `${p1k.mb_per_sec} MB/s`,
      pageCache ? '>= 80% of buffered write' : '>= 70% of write+fdatasync',
      `${((p1k.mb_per_sec / base) * 100).toFixed(0)}% of baseline; ${p1kCpu}`,
    );
    if (!pageCache) {
      const c100 = run(['consume', bs, 'p100', '3000000']);
      row(
        'consume 100 B',
        `${(c100.records_per_sec / 1e6).toFixed(2)} M records/s`,
        '>= 2 M records/s',
        `${c100.mb_per_sec} MB/s`,
      );
    }
    const lat = run(['latency', bs, `lat-${pageCache ? 'pc' : 'd'}`, '50', '1024', '5', 'linger.ms=1']);
    row(
      `end-to-end latency at 50 MB/s, ${mode}`,
      `p99 ${lat.p99_ms} ms`,
      'p99 <= 3 ms',
      `p50 ${lat.p50_ms} ms, max ${lat.max_ms} ms`,
    );
    await b.stop();
  }

  // Not Samsa's default, a finding: with V8's GC on the main thread only, its concurrent marking
  // and sweeping threads no longer compete with the broker and librdkafka's threads for the two
  // cores, and the page-cache tail shrinks (node flags cannot be set from inside the process).
  const stgc = await startBroker(join(work, 'pc-stgc'), [kafkaFlush], ['--single-threaded-gc']);
  // A first run warms this fresh broker up (its JIT), as the produce runs did the one above.
  run(['latency', `127.0.0.1:${stgc.port}`, 'warm-stgc', '50', '1024', '3', 'linger.ms=1']);
  const latSt = run(['latency', `127.0.0.1:${stgc.port}`, 'lat-stgc', '50', '1024', '5', 'linger.ms=1']);
  row(
    'end-to-end latency at 50 MB/s, page cache, broker run with node --single-threaded-gc',
    `p99 ${latSt.p99_ms} ms`,
    '',
    `p50 ${latSt.p50_ms} ms, max ${latSt.max_ms} ms`,
  );
  await stgc.stop();

  // 10,000 partitions: create them, restart, time the start and a Metadata request for all.
  const dir = join(work, 'many');
  let b = await startBroker(dir);
  const create = Buffer.concat(
    encodeRequest({ apiKey: 19, apiVersion: 7, correlationId: 1, clientId: 'bench' }, CreateTopicsRequest, {
      timeoutMs: 60_000,
      validateOnly: false,
      topics: Array.from({ length: 100 }, (_, i) => ({
        name: `many-${i}`,
        numPartitions: 100,
        replicationFactor: 1,
        assignments: [],
        configs: [],
      })),
    }),
  );
  await roundTrip(b.port, create);
  await b.stop();
  b = await startBroker(dir);
  row('start with 10,000 partitions', `${b.startMs.toFixed(0)} ms`, '<= 2 s', '');
  const md = Buffer.concat(
    encodeRequest({ apiKey: 3, apiVersion: 12, correlationId: 2, clientId: 'bench' }, MetadataRequest, {
      ...MetadataRequest.default(),
      topics: null,
    }),
  );
  const times: number[] = [];
  for (let i = 0; i < 20; i++) times.push(await roundTrip(b.port, md));
  times.sort((x, y) => x - y);
  row(
    'Metadata for 10,000 partitions (median of 20)',
    `${times[10].toFixed(1)} ms`,
    '<= 50 ms',
    `max ${times[19].toFixed(1)} ms`,
  );
  row('idle RSS with 10,000 partitions', `${rssMb(b.pid).toFixed(0)} MB`, '', '');
  await b.stop();

  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, node ${process.version}, ${new Date().toISOString()}`,
  );
  console.log(
    `librdkafka: ${spawnSync('pkg-config', ['--modversion', 'rdkafka'], { encoding: 'utf8' }).stdout.trim()}, data dir on ${work}\n`,
  );
  console.log('| measurement | result | goal | note |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
