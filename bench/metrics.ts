// Metrics benchmark: what the HTTP listener and /metrics cost a Samsa broker (child processes).
//
//   npm run bench:metrics
//
// Measures, in one run:
// - start (spawn to first answered request) and idle RSS, with the HTTP listener and without
//   (five starts each, alternated), and the RSS once /metrics was scraped (prom-client loaded);
// - produce throughput with metrics on (HTTP listener, counters) and off (http.listeners empty):
//   two brokers side by side, measured in turns (on, off, on, off, ...), each turn a fresh topic,
//   driven by `samsa perf produce` (Samsa's client, 100-byte records, acks=all) in its own process;
// - the time of a scrape with 10,000 partitions (100 topics of 100, each with data): the first
//   (which loads prom-client) and the median of 20 after it, as a Prometheus server sees them
//   (HTTP round trip included).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { encodeRequest } from '../src/protocol/frame.js';
import { CreateTopicsRequest, ProduceRequest } from '../src/protocol/generated/index.js';
import { encodeRecordBatch } from '../src/protocol/records/encode.js';
import { root, roundTrip, rssMb, startBroker } from './samsa-process.js';

const work = mkdtempSync(join(process.env.BENCH_DIR ?? root, '.bench-'));
const rows: string[][] = [];
const row = (...cells: (string | number)[]) => rows.push(cells.map(String));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const OFF = 'http.listeners=';

interface PerfResult {
  recordsPerSec: number;
  mbPerSec: number;
}

/** `samsa perf produce` against a broker, in its own process; its JSON summary. */
function perfProduce(port: number, topic: string, records: number, size: number): PerfResult {
  const out = execFileSync(
    process.execPath,
    [
      join(root, 'bin/samsa.cjs'),
      '-b',
      `127.0.0.1:${port}`,
      '--json',
      'perf',
      'produce',
      '-t',
      topic,
      '-n',
      String(records),
      '-s',
      String(size),
      '--create',
      '-p',
      '3',
      '--reporting-interval',
      '60000',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as PerfResult;
}

async function scrape(httpPort: number): Promise<{ ms: number; bytes: number; series: number }> {
  const t0 = performance.now();
  const r = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  const text = await r.text();
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  return {
    ms,
    bytes: text.length,
    series: text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
  };
}

async function main(): Promise<void> {
  // ---- start time and idle RSS, HTTP listener on and off ----
  const starts: Record<'on' | 'off', number[]> = { on: [], off: [] };
  const rss: Record<'on' | 'off', number[]> = { on: [], off: [] };
  const scrapedRss: number[] = [];
  for (let i = 0; i < 5; i++) {
    for (const mode of ['on', 'off'] as const) {
      const b = await startBroker(join(work, `empty-${mode}-${i}`), mode === 'off' ? [OFF] : []);
      starts[mode].push(b.startMs);
      await new Promise((r) => setTimeout(r, 1000));
      rss[mode].push(rssMb(b.pid));
      if (mode === 'on' && b.httpPort !== null) {
        await scrape(b.httpPort);
        await new Promise((r) => setTimeout(r, 1000));
        scrapedRss.push(rssMb(b.pid));
      }
      await b.stop();
    }
  }
  for (const mode of ['on', 'off'] as const) {
    const label =
      mode === 'on' ? 'with the HTTP listener (samsa start default)' : 'without (http.listeners empty)';
    row(
      `start to first answered request, ${label}, median of 5`,
      `${median(starts[mode]).toFixed(0)} ms`,
      '<= 200 ms',
      `each: ${starts[mode].map((s) => s.toFixed(0)).join(', ')} ms`,
    );
    row(`idle RSS, ${label}, median of 5`, `${median(rss[mode]).toFixed(0)} MB`, '<= 60 MB', '');
  }
  row(
    'idle RSS after one /metrics scrape (prom-client loaded), median of 5',
    `${median(scrapedRss).toFixed(0)} MB`,
    '',
    '',
  );

  // ---- produce throughput, metrics on and off ----
  const on = await startBroker(join(work, 'produce-on'));
  const off = await startBroker(join(work, 'produce-off'), [OFF]);
  const records = 300_000;
  const size = 100;
  // Warm both up (JIT, heap growth) before anything is measured.
  perfProduce(on.port, 'warm-up', records, size);
  perfProduce(off.port, 'warm-up', records, size);
  const rates: Record<'on' | 'off', number[]> = { on: [], off: [] };
  const rounds = 5;
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so that a drift of the machine falls on both.
    const order = i % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
    for (const mode of order) {
      const b = mode === 'on' ? on : off;
      rates[mode].push(perfProduce(b.port, `p-${i}`, records, size).recordsPerSec);
    }
  }
  const [mOn, mOff] = [median(rates.on), median(rates.off)];
  const fmt = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(0)).join(', ');
  row(
    `produce ${size} B, acks=all, metrics on (median of ${rounds})`,
    `${(mOn / 1000).toFixed(0)} k records/s`,
    '',
    `each: ${fmt(rates.on)} k`,
  );
  row(
    `produce ${size} B, acks=all, metrics off (median of ${rounds})`,
    `${(mOff / 1000).toFixed(0)} k records/s`,
    '',
    `each: ${fmt(rates.off)} k`,
  );
  row(
    'produce throughput, metrics on vs off',
    `${(((mOn - mOff) / mOff) * 100).toFixed(1)}%`,
    'within 3%',
    'Samsa client (samsa perf produce), 3 partitions',
  );
  await off.stop();

  // ---- scrape with 10,000 partitions ----
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
  await roundTrip(on.port, create);
  // Ten records in every one of the 10,000 partitions (one Produce request), so that every topic
  // has its BrokerTopicMetrics and every log a size.
  const batch = encodeRecordBatch(Array.from({ length: 10 }, () => ({ value: Buffer.alloc(100, 1) })));
  const produce = Buffer.concat(
    encodeRequest({ apiKey: 0, apiVersion: 9, correlationId: 2, clientId: 'bench' }, ProduceRequest, {
      ...ProduceRequest.default(),
      acks: -1,
      timeoutMs: 60_000,
      topicData: Array.from({ length: 100 }, (_, i) => ({
        name: `many-${i}`,
        partitionData: Array.from({ length: 100 }, (_, index) => ({ index, records: batch })),
      })),
    }),
  );
  await roundTrip(on.port, produce);
  const first = await scrape(on.httpPort!);
  const times: number[] = [];
  let last = first;
  for (let i = 0; i < 20; i++) {
    last = await scrape(on.httpPort!);
    times.push(last.ms);
  }
  times.sort((a, b) => a - b);
  row(
    'scrape /metrics with 10,000 partitions (median of 20)',
    `${times[10].toFixed(1)} ms`,
    '<= 20 ms',
    `max ${times[19].toFixed(1)} ms; ${last.series} series, ${(last.bytes / 1e6).toFixed(1)} MB; first scrape (loads prom-client) ${first.ms.toFixed(0)} ms`,
  );
  row('RSS with 10,000 partitions after the scrapes', `${rssMb(on.pid).toFixed(0)} MB`, '', '');
  await on.stop();

  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, node ${process.version}, ${new Date().toISOString()}`,
  );
  console.log(`data dir on ${work}\n`);
  console.log('| measurement | result | goal | note |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  // A broker a failure left running may still write there: give it a moment, and never mask the error.
  await new Promise((r) => setTimeout(r, 500));
  try {
    rmSync(work, { recursive: true, force: true });
  } catch {}
}
