// Helpers for the Node client compat tests (kafkajs.test.ts, platformatic.test.ts): an in-process
// broker per test file, a common shape for records read back, and group-less readers built from
// each client's own Fetch path (neither client can consume without consumer groups otherwise, and
// Samsa has no group coordinator yet).

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Consumer, compressionsAlgorithms } from '@platformatic/kafka';
import type { Kafka } from 'kafkajs';
import { pino } from 'pino';
import { type Broker, startBroker } from '../../src/broker/broker.js';

const require = createRequire(import.meta.url);

export interface TestBroker {
  broker: Broker;
  dir: string;
  stop(): Promise<void>;
}

/** A broker on a free port with its data in a fresh temporary directory, removed on stop. */
export async function startTestBroker(
  prefix: string,
  config: Record<string, string> = {},
): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), `samsa-${prefix}-`));
  const broker = await startBroker({
    config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': join(dir, 'data'), ...config },
    logger: pino({ level: 'silent' }),
  });
  return {
    broker,
    dir,
    async stop() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Whether the broker serves an API (its handler registry, which ApiVersions reports). Tests of
 * APIs that are still being added skip themselves until the handler is registered.
 */
export function serves(tb: TestBroker, apiKey: number): boolean {
  return tb.broker.services.registry.versions().some((v) => v.apiKey === apiKey);
}

/** A record as either client read it back: the fields a producer controls, plus its offset. */
export interface ReadRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: [string, Buffer | null][];
}

/** A record to produce; `headers` keep their order, repeated keys adjacent (kafkajs groups them). */
export interface TestRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: [string, Buffer][];
  timestamp: number;
}

const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/**
 * `count` records exercising what a record can carry: null and binary keys, null (tombstone),
 * empty and binary values, no headers, several headers, an empty header value and (when
 * `repeatedHeaderKeys`) a header key used twice. Timestamps are baseTimestamp + i.
 */
export function makeRecords(
  count: number,
  tag: string,
  opts: { baseTimestamp: number; repeatedHeaderKeys: boolean },
): TestRecord[] {
  const out: TestRecord[] = [];
  for (let i = 0; i < count; i++) {
    const key =
      i % 7 === 0
        ? null
        : i % 11 === 0
          ? Buffer.concat([BINARY, Buffer.from(`${i}`)])
          : Buffer.from(`key-${i % 100}`);
    const value =
      i % 13 === 0
        ? null
        : i % 17 === 0
          ? Buffer.alloc(0)
          : i % 19 === 0
            ? Buffer.concat([Buffer.from(`${i}`), BINARY.subarray(i % 256)])
            : Buffer.from(`value-${tag}-${i}-${'x'.repeat(i % 50)}`);
    const headers: [string, Buffer][] = [];
    if (i % 5 !== 0) {
      headers.push(['source', Buffer.from(tag)]);
      if (opts.repeatedHeaderKeys && i % 3 === 0) headers.push(['source', BINARY.subarray(0, i % 40)]);
      headers.push(['index', Buffer.from(String(i))]);
      if (i % 4 === 0) headers.push(['empty', Buffer.alloc(0)]);
    }
    out.push({ key, value, headers, timestamp: opts.baseTimestamp + i });
  }
  return out;
}

/** What reading back `records` produced from offset `firstOffset` on should give. */
export function expectedRecords(records: TestRecord[], firstOffset = 0n): ReadRecord[] {
  return records.map((r, i) => ({
    offset: firstOffset + BigInt(i),
    timestamp: BigInt(r.timestamp),
    key: r.key,
    value: r.value,
    headers: r.headers,
  }));
}

/**
 * Compares two record lists one by one, so a mismatch names the first differing record instead
 * of diffing thousands of Buffers.
 */
export function firstMismatch(got: ReadRecord[], want: ReadRecord[]): string | null {
  if (got.length !== want.length) return `got ${got.length} records, want ${want.length}`;
  const eq = (a: Buffer | null, b: Buffer | null) => (a === null || b === null ? a === b : a.equals(b));
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const same =
      g.offset === w.offset &&
      g.timestamp === w.timestamp &&
      eq(g.key, w.key) &&
      eq(g.value, w.value) &&
      g.headers.length === w.headers.length &&
      g.headers.every(([k, v], j) => k === w.headers[j][0] && eq(v, w.headers[j][1]));
    if (!same) {
      const show = (r: ReadRecord) =>
        JSON.stringify({
          offset: String(r.offset),
          timestamp: String(r.timestamp),
          key: r.key?.toString('hex') ?? null,
          value: r.value?.toString('hex') ?? null,
          headers: r.headers.map(([k, v]) => [k, v?.toString('hex') ?? null]),
        });
      return `record ${i} differs:\n got  ${show(g)}\n want ${show(w)}`;
    }
  }
  return null;
}

// ---- kafkajs: its consumer's fetch path without a group ----

// biome-ignore-start lint/suspicious/noExplicitAny: kafkajs internals (Cluster, Broker, Batch) are untyped CommonJS.
const KafkajsBatch: any = require('kafkajs/src/consumer/batch');

/**
 * kafkajs's Cluster for a Kafka client object: the factory kafka.producer()/consumer()/admin() use,
 * kept under a private symbol.
 */
function kafkajsCluster(kafka: Kafka): any {
  const sym = Object.getOwnPropertySymbols(kafka).find(
    (s) => s.description === 'private:Kafka:createCluster',
  );
  if (!sym) throw new Error('kafkajs internals changed: no createCluster symbol');
  return (kafka as any)[sym]({ metadataMaxAge: 300_000, allowAutoTopicCreation: false });
}

/**
 * Reads `count` records of one partition from `fromOffset` the way kafkajs's consumer does, minus
 * the group: Fetch (kafkajs picks v11 here) through its Broker, then its Batch, which drops
 * records before the fetch offset (whole batches come back) and control records.
 */
export async function kafkajsReadPartition(
  kafka: Kafka,
  topic: string,
  partition: number,
  fromOffset: bigint,
  count: number,
): Promise<ReadRecord[]> {
  const cluster = kafkajsCluster(kafka);
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    const meta = cluster.findTopicPartitionMetadata(topic).find((p: any) => p.partitionId === partition);
    const broker = await cluster.findBroker({ nodeId: meta.leader });
    const out: ReadRecord[] = [];
    let offset = fromOffset;
    let idle = 0;
    while (out.length < count && idle < 20) {
      const response = await broker.fetch({
        replicaId: -1,
        isolationLevel: 1,
        maxWaitTime: 200,
        minBytes: 1,
        maxBytes: 10 * 1024 * 1024,
        topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: 1024 * 1024 }] }],
      });
      const data = response.responses[0].partitions[0];
      const batch = new KafkajsBatch(topic, String(offset), data);
      if (batch.isEmpty()) {
        idle++;
        continue;
      }
      for (const m of batch.messages) {
        const headers: [string, Buffer | null][] = [];
        for (const [k, v] of Object.entries(m.headers as Record<string, Buffer | Buffer[]>))
          for (const one of Array.isArray(v) ? v : [v]) headers.push([k, one]);
        out.push({
          offset: BigInt(m.offset),
          timestamp: BigInt(m.timestamp),
          key: m.key,
          value: m.value,
          headers,
        });
      }
      offset = BigInt(batch.messages[batch.messages.length - 1].offset) + 1n;
    }
    return out.slice(0, count);
  } finally {
    await cluster.disconnect();
  }
}
// biome-ignore-end lint/suspicious/noExplicitAny: end of the untyped section

// ---- @platformatic/kafka: Consumer.fetch (a raw Fetch, v17 here, no group) ----

const IS_LOG_APPEND_TIME = 0x08;
const IS_CONTROL = 0x20;

/**
 * Reads `count` records of one partition from `fromOffset` with @platformatic/kafka's
 * Consumer.fetch, which sends a Fetch by topic id to a given node and decodes the batches; its
 * stream consumer (consume()) always joins a group first.
 */
export async function platformaticReadPartition(
  consumer: Consumer,
  topic: string,
  partition: number,
  fromOffset: bigint,
  count: number,
): Promise<ReadRecord[]> {
  const metadata = await consumer.metadata({ topics: [topic], forceUpdate: true });
  const t = metadata.topics.get(topic);
  if (!t) throw new Error(`no metadata for ${topic}`);
  const out: ReadRecord[] = [];
  let offset = fromOffset;
  let idle = 0;
  while (out.length < count && idle < 20) {
    const response = await consumer.fetch({
      node: t.partitions[partition].leader,
      maxWaitTime: 200,
      topics: [
        {
          topicId: t.id,
          partitions: [
            {
              partition,
              fetchOffset: offset,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
              partitionMaxBytes: 1024 * 1024,
            },
          ],
        },
      ],
    });
    const before = out.length;
    for (const batch of response.responses[0].partitions[0].records ?? []) {
      if (batch.attributes & IS_CONTROL) continue;
      for (const r of batch.records) {
        const o = batch.firstOffset + BigInt(r.offsetDelta);
        if (o < offset) continue;
        out.push({
          offset: o,
          timestamp:
            batch.attributes & IS_LOG_APPEND_TIME
              ? batch.maxTimestamp
              : batch.firstTimestamp + r.timestampDelta,
          key: r.key,
          value: r.value,
          headers: r.headers.map(([k, v]) => [k?.toString() ?? '', v]),
        });
      }
    }
    if (out.length === before) idle++;
    else offset = out[out.length - 1].offset + 1n;
  }
  return out.slice(0, count);
}

// ---- codecs ----

interface ZstdApi {
  Simple: new () => { compress(d: Uint8Array, level?: number): Uint8Array };
  Streaming: new () => { decompress(d: Uint8Array): Uint8Array };
}

let zstdInstalled: Promise<void> | undefined;

/**
 * @platformatic/kafka takes zstd from node:zlib, which Node 20 lacks; fill its codec slot with
 * zstd-codec (wasm, independent of Samsa's native zstd) when that is so.
 */
export function installPlatformaticZstd(): Promise<void> {
  zstdInstalled ??= (async () => {
    const slot = compressionsAlgorithms.zstd as {
      available: boolean;
      compressSync(data: unknown): Buffer;
      decompressSync(data: unknown): Buffer;
    };
    if (slot.available) return;
    const { ZstdCodec } = require('zstd-codec') as { ZstdCodec: { run(cb: (z: ZstdApi) => void): void } };
    const zstd: ZstdApi = await new Promise((resolve) => ZstdCodec.run(resolve));
    const bytes = (d: unknown): Buffer => (Buffer.isBuffer(d) ? d : (d as { buffer: Buffer }).buffer);
    slot.compressSync = (d) => Buffer.from(new zstd.Simple().compress(bytes(d), 3));
    slot.decompressSync = (d) => Buffer.from(new zstd.Streaming().decompress(bytes(d)));
    slot.available = true;
  })();
  return zstdInstalled;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
