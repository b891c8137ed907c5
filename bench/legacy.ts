// Down-conversion benchmark: one partition of 100-byte records in v2 batches of 1,000, read from
// offset 0 to the end by sequential Fetch requests (max.partition.fetch.bytes 1 MiB, the Java
// consumer's default) at Fetch v11 (the batches as stored), v3 (converted to magic 1) and v1
// (converted to magic 0), uncompressed and lz4, taking turns three times; each figure is the
// median of its rounds, and the down-converting rates are compared with the v11 rate of the same
// run (goal: >= 30%). Memory: the largest records field a down-converting fetch answered (bounded
// by the partition's max bytes, or one converted batch when that is larger), and the broker's RSS
// before and after the down-converting fetches.
//
//   npm run bench:legacy            (prints a Markdown table for BENCHMARKS.md)

import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompressionType } from '../src/protocol/compression/types.js';
import {
  CreateTopicsRequest,
  CreateTopicsResponse,
  FetchRequest,
  FetchResponse,
  ProduceRequest,
  ProduceResponse,
} from '../src/protocol/generated/index.js';
import { encodeRecordBatch } from '../src/protocol/records/index.js';
import { BenchConnection } from './rpc.js';
import { rssMb, startBroker } from './samsa-process.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 200_000);
const PER_BATCH = 1000;
const PARTITION_MAX_BYTES = 1 << 20;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

// Key (11 B) and value: 100 B of payload per record.
const value = Buffer.alloc(100 - 11, 'v');

async function fill(c: BenchConnection, topic: string, compression: CompressionType): Promise<void> {
  const created = await c.request(19, 7, CreateTopicsRequest, CreateTopicsResponse, {
    ...CreateTopicsRequest.default(),
    timeoutMs: 30_000,
    topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
  });
  if (created.topics[0].errorCode !== 0) throw new Error(`create ${topic}: ${created.topics[0].errorCode}`);
  for (let sent = 0; sent < RECORDS; sent += PER_BATCH) {
    const batch = encodeRecordBatch(
      Array.from({ length: PER_BATCH }, (_, i) => ({
        key: Buffer.from(`k-${String(sent + i).padStart(9, '0')}`),
        value,
        timestamp: 1_700_000_000_000 + sent + i,
      })),
      { compression },
    );
    const r = await c.request(0, 9, ProduceRequest, ProduceResponse, {
      ...ProduceRequest.default(),
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
    });
    const code = r.responses[0].partitionResponses[0].errorCode;
    if (code !== 0) throw new Error(`produce ${topic}: ${code}`);
  }
}

interface ReadStats {
  recordsPerSec: number;
  largestRecordsField: number;
}

/** Reads the partition from 0 to its end at `version`. */
async function readAll(c: BenchConnection, topic: string, version: number): Promise<ReadStats> {
  let offset = 0n;
  let largest = 0;
  const start = performance.now();
  while (offset < BigInt(RECORDS)) {
    const r = await c.request(1, version, FetchRequest, FetchResponse, {
      ...FetchRequest.default(),
      maxWaitMs: 0,
      topics: [
        {
          topic,
          topicId: ZERO_UUID,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: offset,
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: PARTITION_MAX_BYTES,
              replicaDirectoryId: ZERO_UUID,
            },
          ],
        },
      ],
    });
    const p = r.responses[0].partitions[0];
    if (p.errorCode !== 0) throw new Error(`fetch v${version}: error ${p.errorCode}`);
    const records = p.records ?? Buffer.alloc(0);
    largest = Math.max(largest, records.length);
    // The next offset: after the last complete entry (a v2 batch's last offset, a legacy
    // message's offset; a wrapper's is its last inner one). Walked by the size fields only, so
    // that the client's share of the two cores stays small whatever the format.
    let pos = 0;
    let next = -1n;
    while (pos + 12 <= records.length) {
      const size = records.readInt32BE(pos + 8);
      if (pos + 12 + size > records.length) break;
      const first = records.readBigInt64BE(pos);
      next = records[pos + 16] === 2 ? first + BigInt(records.readInt32BE(pos + 23)) + 1n : first + 1n;
      pos += 12 + size;
    }
    if (next < 0n) throw new Error(`fetch v${version} at ${offset}: no data`);
    offset = next;
  }
  const seconds = (performance.now() - start) / 1000;
  return { recordsPerSec: RECORDS / seconds, largestRecordsField: largest };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-bench-legacy-'));
  const broker = await startBroker(join(dir, 'data'));
  const c = await BenchConnection.open(broker.port);
  try {
    const codecs: [string, CompressionType][] = [
      ['none', CompressionType.None],
      ['lz4', CompressionType.Lz4],
    ];
    for (const [name, codec] of codecs) await fill(c, `legacy-${name}`, codec);
    const rows: string[] = [];
    for (const [name] of codecs) {
      const topic = `legacy-${name}`;
      const rates: Record<number, number[]> = { 11: [], 3: [], 1: [] };
      const largest: Record<number, number> = { 11: 0, 3: 0, 1: 0 };
      // A first read of each, untimed: the segments into the page cache, the code warm.
      for (const v of [11, 3, 1]) await readAll(c, topic, v);
      const rssBefore = rssMb(broker.pid);
      let rssPeak = rssBefore;
      for (let round = 0; round < ROUNDS; round++) {
        for (const v of [11, 3, 1]) {
          const s = await readAll(c, topic, v);
          rates[v].push(s.recordsPerSec);
          largest[v] = Math.max(largest[v], s.largestRecordsField);
          rssPeak = Math.max(rssPeak, rssMb(broker.pid));
        }
      }
      const base = median(rates[11]);
      const k = (x: number) => `${(x / 1000).toFixed(0)} k records/s`;
      rows.push(
        `| ${name}: Fetch v11 (v2 batches as stored) | ${k(base)} | | largest records field ${largest[11]} B |`,
      );
      for (const [v, label] of [
        [3, 'Fetch v3 (down-converted to magic 1)'],
        [1, 'Fetch v1 (down-converted to magic 0)'],
      ] as const) {
        const rate = median(rates[v]);
        rows.push(
          `| ${name}: ${label} | ${k(rate)} | ${((100 * rate) / base).toFixed(0)}% of v11 (goal >= 30%) | largest records field ${largest[v]} B (max.partition.fetch.bytes ${PARTITION_MAX_BYTES}) |`,
        );
      }
      rows.push(
        `| ${name}: broker RSS | ${rssBefore.toFixed(0)} MB before | ${rssPeak.toFixed(0)} MB peak during the timed reads | |`,
      );
    }
    console.log(
      `\n${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, ${new Date().toISOString()}`,
    );
    console.log(`${RECORDS} records of 100 B in batches of ${PER_BATCH}; ${ROUNDS} rounds, medians\n`);
    console.log('| measurement | rate | vs v2 | memory |');
    console.log('|---|---|---|---|');
    for (const r of rows) console.log(r);
  } finally {
    c.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
