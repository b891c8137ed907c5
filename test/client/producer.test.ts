// The Samsa producer against an in-process broker: records in every codec read back identically
// by kcat and confluent-kafka-python; acks 0/1/all; keyless stickiness; flush, close and the
// delivery timeout; idempotence (and its explicit fallback when the broker lacks InitProducerId).

import { randomBytes as randomRaw } from 'node:crypto';

const randomHex = (k: number) => randomRaw(k).toString('hex');

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { FetchApi, InitProducerIdApi } from '../../src/client/apis.js';
import { Cluster } from '../../src/client/cluster.js';
import { ClientClosedError, type KafkaError, KafkaTimeoutError } from '../../src/client/errors.js';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { decodeRecordSet } from '../../src/protocol/records/record-set.js';
import { hasConfluentKafka, hasKcat, requireClient } from '../helpers/tools.js';
import { ApiHidingProxy, brokerBehindProxy, captureLogger, kcat, python, testBroker } from './helpers.js';

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

interface Expected {
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: [string, Buffer | null][];
  timestamp: number;
}

function makeRecords(n: number, partitions: number, text = false, nullHeaders = text): Expected[] {
  const out: Expected[] = [];
  // Text mode (for kcat's JSON output): printable bytes only.
  const randomBytes = text ? (k: number) => Buffer.from(randomHex(k).slice(0, k)) : randomRaw;
  for (let i = 0; i < n; i++) {
    out.push({
      partition: i % partitions,
      // Binary keys and values (every byte value), some null, some empty.
      key: i % 7 === 0 ? null : i % 11 === 0 ? Buffer.alloc(0) : randomBytes(1 + (i % 40)),
      value: i % 13 === 0 ? null : randomBytes(i % 300),
      // Debian's confluent-kafka-python crashes at exit after reading a null header value, so the
      // python tests do without them.
      headers:
        i % 3 === 0
          ? []
          : [
              ['h1', randomBytes(i % 5)],
              ['h2', nullHeaders ? null : Buffer.from('h2')],
              ['h1', Buffer.from(`again-${i}`)],
            ],
      timestamp: 1_700_000_000_000 + i * 1000,
    });
  }
  return out;
}

async function produceAll(p: Producer, topic: string, recs: Expected[]) {
  return p.send({
    topic,
    messages: recs.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers.map(([key, value]) => ({ key, value })),
      partition: r.partition,
      timestamp: r.timestamp,
    })),
  });
}

/** Every record batch of partition 0 of a topic, read with one Fetch from offset 0. */
async function readPartition(bootstrap: string, topic: string) {
  const c = new Cluster({ brokers: bootstrap });
  try {
    await c.waitForTopics([topic], 5000);
    const resp = await c.send(c.leaderFor(topic, 0), FetchApi, (v) => ({
      ...FetchApi.request.default(),
      maxWaitMs: 0,
      topics: [
        {
          topic: v >= 13 ? '' : topic,
          topicId:
            v >= 13
              ? (c.topic(topic)?.topicId as string)
              : (FetchApi.request.default().topics[0]?.topicId ?? 'AAAAAAAAAAAAAAAAAAAAAA'),
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: 0n,
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: 8 << 20,
              replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
            },
          ],
        },
      ],
    }));
    const records = resp.responses[0].partitions[0].records as Buffer;
    return decodeRecordSet(records, { maxUncompressedBytes: 8 << 20 }).batches;
  } finally {
    await c.close();
  }
}

const hex = (b: Buffer | null) => (b === null ? null : b.toString('hex'));

describe('producer', () => {
  let broker: Broker;
  let dir: string;

  beforeAll(async () => {
    broker = await testBroker({ 'num.partitions': '3' });
    dir = mkdtempSync(join(tmpdir(), 'samsa-client-'));
  });
  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe.skipIf(!requireClient('kcat', hasKcat))('read back by kcat', () => {
    it.each(CODECS)('keys, values, headers and timestamps survive (compression %s)', async (codec) => {
      const topic = `p-kcat-${codec}`;
      const recs = makeRecords(300, 3, true);
      const p = new Producer({ brokers: broker.bootstrap, compression: codec, lingerMs: 20 });
      const meta = await produceAll(p, topic, recs);
      await p.close();
      expect(meta.map((m) => m.partition)).toEqual(recs.map((r) => r.partition));
      expect(meta.map((m) => m.timestamp)).toEqual(recs.map((r) => r.timestamp));
      // kcat -J prints keys, values and headers as strings: these records are text.
      const r = await kcat(['-b', broker.bootstrap, '-C', '-t', topic, '-e', '-q', '-J']);
      expect(r.code, r.stderr).toBe(0);
      const got = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(got).toHaveLength(recs.length);
      const byPartition = new Map<number, Expected[]>();
      for (const rec of recs)
        byPartition.set(rec.partition, [...(byPartition.get(rec.partition) ?? []), rec]);
      for (const g of got) {
        const exp = (byPartition.get(g.partition) as Expected[])[g.offset];
        const want: Record<string, unknown> = {
          topic,
          partition: exp.partition,
          offset: g.offset,
          tstype: 'create',
          ts: exp.timestamp,
          broker: 1,
          key: exp.key === null ? null : exp.key.toString(),
          payload: exp.value === null ? null : exp.value.toString(),
        };
        if (exp.headers.length > 0)
          want.headers = exp.headers.flatMap(([k, v]) => [k, v === null ? null : v.toString()]);
        expect(g).toEqual(want);
      }
      // Every offset send() reported is where kcat found the record.
      for (let i = 0; i < recs.length; i++) {
        const partRecs = byPartition.get(recs[i].partition) as Expected[];
        expect(meta[i].offset).toBe(BigInt(partRecs.indexOf(recs[i])));
      }
    });

    it('keyed records land where kcat (librdkafka murmur2_random) puts them', async () => {
      const topic = 'p-keys-kcat';
      const keys = Array.from({ length: 200 }, (_, i) => `key-${i}-${'x'.repeat(i % 17)}`);
      const r = await kcat(
        ['-b', broker.bootstrap, '-P', '-t', topic, '-K', '\t', '-X', 'partitioner=murmur2_random'],
        keys.map((k) => `${k}\tv`).join('\n'),
      );
      expect(r.code, r.stderr).toBe(0);
      const out = await kcat(['-b', broker.bootstrap, '-C', '-t', topic, '-e', '-q', '-f', '%k %p\\n']);
      const theirs = new Map(
        out.stdout
          .trim()
          .split('\n')
          .map((l) => [l.split(' ')[0], Number(l.split(' ')[1])]),
      );
      expect(theirs.size).toBe(keys.length);
      const p = new Producer({ brokers: broker.bootstrap });
      const meta = await p.send({ topic, messages: keys.map((key) => ({ key, value: 'mine' })) });
      await p.close();
      expect(new Set(meta.map((m) => m.partition)).size).toBe(3);
      expect(meta.map((m) => m.partition)).toEqual(keys.map((k) => theirs.get(k)));
    });
  });

  describe.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))(
    'read back by confluent-kafka-python',
    () => {
      it.each(CODECS)('every byte, header and timestamp is identical (compression %s)', async (codec) => {
        const topic = `p-py-${codec}`;
        const recs = makeRecords(200, 3);
        const p = new Producer({ brokers: broker.bootstrap, compression: codec });
        await produceAll(p, topic, recs);
        await p.close();
        const r = await python('interop.py', ['consume', broker.bootstrap, topic, String(recs.length)]);
        expect(r.code, r.stderr).toBe(0);
        const got = r.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        expect(got).toHaveLength(recs.length);
        const byPartition = new Map<number, Expected[]>();
        for (const rec of recs)
          byPartition.set(rec.partition, [...(byPartition.get(rec.partition) ?? []), rec]);
        for (const g of got) {
          const exp = (byPartition.get(g.partition) as Expected[])[g.offset];
          expect(g).toEqual({
            partition: exp.partition,
            offset: g.offset,
            key: hex(exp.key),
            value: hex(exp.value),
            headers: exp.headers.map(([k, v]) => [k, hex(v)]),
            tstype: 1, // TIMESTAMP_CREATE_TIME
            ts: exp.timestamp,
          });
        }
      });

      it('keyed records land where librdkafka murmur2_random puts them', async () => {
        const topic = 'p-keys-py';
        const keys = Array.from({ length: 100 }, (_, i) => `k${i * 7919}`);
        const file = join(dir, 'keys.json');
        writeFileSync(file, JSON.stringify(keys));
        const r = await python('interop.py', ['partitions', broker.bootstrap, topic, file]);
        expect(r.code, r.stderr).toBe(0);
        const theirs = JSON.parse(r.stdout) as Record<string, number>;
        const p = new Producer({ brokers: broker.bootstrap });
        const meta = await p.send({ topic, messages: keys.map((key) => ({ key, value: 'v' })) });
        await p.close();
        expect(meta.map((m) => m.partition)).toEqual(keys.map((k) => theirs[k]));
      });
    },
  );

  it.each([0, 1, -1] as const)('acks=%s delivers; offsets are reported unless acks=0', async (acks) => {
    const topic = `p-acks-${acks}`;
    const p = new Producer({ brokers: broker.bootstrap, acks, lingerMs: 0 });
    const meta = await p.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, partition: 0 })),
    });
    await p.close();
    if (acks === 0) expect(meta.every((m) => m.offset === -1n)).toBe(true);
    else expect(meta.map((m) => m.offset)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));
    // All ten are in the log whatever the acks (with acks=0 nothing says when: the broker may still
    // be appending when ListOffsets arrives on another connection, so look a few times).
    const c = new Cluster({ brokers: broker.bootstrap });
    const { listOffsets } = await import('../../src/client/list-offsets.js');
    let endOffset = -1n;
    for (let i = 0; i < 50 && endOffset !== 10n; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      const end = await listOffsets(c, [{ topic, partition: 0, timestamp: -1n }]);
      endOffset = [...end.values()][0].offset;
    }
    await c.close();
    expect(endOffset).toBe(10n);
  });

  it('metadata: false resolves with no per-record metadata once every record is written', async () => {
    const topic = 'p-no-metadata';
    const p = new Producer({ brokers: broker.bootstrap, lingerMs: 0, batchSize: 2048 });
    // Several batches and several send() calls in flight at once.
    const sends = Array.from({ length: 5 }, (_, s) =>
      p.send({
        topic,
        messages: Array.from({ length: 200 }, (_, i) => ({ value: `v${s * 200 + i}`, partition: 0 })),
        metadata: false,
      }),
    );
    for (const r of await Promise.all(sends)) expect(r).toEqual([]);
    // With onRecord the metadata is built for it.
    const seen: bigint[] = [];
    const withCallback = await p.send({
      topic,
      messages: [{ value: 'last', partition: 0 }],
      metadata: false,
      onRecord: (_i, err, m) => {
        expect(err).toBeNull();
        seen.push(m?.offset ?? -2n);
      },
    });
    await p.close();
    expect(seen).toEqual([1000n]);
    expect(withCallback.map((m) => m.offset)).toEqual([1000n]);
    const records = (await readPartition(broker.bootstrap, topic)).flatMap((b) => b.records);
    expect(records.map((r) => r.value?.toString())).toEqual([
      ...Array.from({ length: 1000 }, (_, i) => `v${i}`),
      'last',
    ]);
  });

  it('a record whose timestamp a batch cannot hold fails alone with INVALID_TIMESTAMP', async () => {
    const topic = 'p-bad-timestamp';
    const p = new Producer({ brokers: broker.bootstrap, lingerMs: 0 });
    const outcomes: (string | bigint)[] = [];
    await expect(
      p.send({
        topic,
        messages: [
          { value: 'a', partition: 0, timestamp: 1_700_000_000_000 },
          { value: 'b', partition: 0, timestamp: 1.5 },
          { value: 'c', partition: 0, timestamp: 1_700_000_000_001 },
        ],
        onRecord: (_i, err, m) =>
          outcomes.push(err === null ? (m?.offset ?? -2n) : (err as KafkaError).code.toString()),
      }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_TIMESTAMP });
    // The first bad record in a fresh batch leaves no empty batch behind.
    await expect(
      p.send({ topic, messages: [{ value: 'x', partition: 0, timestamp: Number.NaN }] }),
    ).rejects.toMatchObject({
      code: ErrorCode.INVALID_TIMESTAMP,
    });
    const [d] = await p.send({ topic, messages: [{ value: 'd', partition: 0 }] });
    await p.close();
    expect(outcomes.sort()).toEqual([0n, 1n, String(ErrorCode.INVALID_TIMESTAMP)].sort());
    expect(d.offset).toBe(2n);
  });

  it('keyless records stick to one partition per batch (KIP-480) and spread across batches', async () => {
    const topic = 'p-sticky';
    const p = new Producer({ brokers: broker.bootstrap, lingerMs: 50, batchSize: 4096 });
    const first = await p.send({ topic, messages: Array.from({ length: 20 }, () => ({ value: 'small' })) });
    expect(new Set(first.map((m) => m.partition)).size).toBe(1);
    // ~100 KB in 4 KB batches: several batches, and more than one partition.
    const many = await p.send({
      topic,
      messages: Array.from({ length: 400 }, () => ({ value: Buffer.alloc(250) })),
    });
    await p.close();
    expect(new Set(many.map((m) => m.partition)).size).toBeGreaterThan(1);
    // Consecutive records mostly share a partition (one switch per batch at most).
    let switches = 0;
    for (let i = 1; i < many.length; i++) if (many[i].partition !== many[i - 1].partition) switches++;
    expect(switches).toBeLessThan(40);
  });

  it('flush() sends records held by linger.ms at once', async () => {
    const p = new Producer({ brokers: broker.bootstrap, lingerMs: 60_000 });
    const started = Date.now();
    const pending = p.send({ topic: 'p-flush', messages: [{ value: 'held', partition: 0 }] });
    await new Promise((r) => setTimeout(r, 50));
    await p.flush();
    const [m] = await pending;
    // Far below linger.ms: flush did not wait for it.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(m.offset).toBeGreaterThanOrEqual(0n);
    await p.close();
  }, 120_000);

  it('flush() covers a send() still waiting for metadata (Kafka: appends in progress)', async () => {
    const p = new Producer({ brokers: broker.bootstrap, lingerMs: 60_000 });
    const started = Date.now();
    // A topic nobody has seen: the send is still looking it up (and creating it) when flush starts.
    const pending = p.send({ topic: 'p-flush-early', messages: [{ value: 'early', partition: 0 }] });
    await p.flush();
    const [m] = await pending;
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(m.offset).toBe(0n);
    await p.close();
  }, 120_000);

  it('close() delivers what is buffered', async () => {
    const p = new Producer({ brokers: broker.bootstrap, lingerMs: 60_000 });
    const pending = p.send({
      topic: 'p-close',
      messages: Array.from({ length: 5 }, (_, i) => ({ value: `${i}`, partition: 1 })),
    });
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await p.close();
    const meta = await pending;
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(meta.map((m) => m.offset)).toEqual([0n, 1n, 2n, 3n, 4n]);
    await expect(p.send({ topic: 'p-close', messages: [{ value: 'late' }] })).rejects.toBeInstanceOf(
      ClientClosedError,
    );
  }, 120_000);

  it('close() with a timeout rejects what could not be delivered; delivery.timeout.ms bounds retries', async () => {
    const { broker: b2, proxy } = await brokerBehindProxy();
    try {
      const p = new Producer({
        brokers: proxy.bootstrap,
        lingerMs: 0,
        deliveryTimeoutMs: 1500,
        requestTimeoutMs: 1000,
      });
      await p.send({ topic: 'p-down', messages: [{ value: 'ok', partition: 0 }] });
      proxy.refuse = true;
      proxy.cutAll();
      const lost = p.send({ topic: 'p-down', messages: [{ value: 'lost', partition: 0 }] });
      await expect(lost).rejects.toBeInstanceOf(KafkaTimeoutError);
      const p2 = new Producer({ brokers: proxy.bootstrap, lingerMs: 0 });
      await p2.close({ timeoutMs: 10 });
      const pending = p.send({ topic: 'p-down', messages: [{ value: 'never', partition: 0 }] });
      const closed = p.close({ timeoutMs: 200 });
      await expect(pending).rejects.toBeInstanceOf(ClientClosedError);
      await closed;
    } finally {
      await proxy.close();
      await b2.stop();
    }
  }, 60_000);
});

describe('idempotence', () => {
  it('uses a producer id and sequences when the broker serves InitProducerId', async (ctx) => {
    const broker = await testBroker();
    try {
      const probe = new Cluster({ brokers: broker.bootstrap });
      const served = await probe.supports(InitProducerIdApi);
      await probe.close();
      if (!served) ctx.skip();
      const p = new Producer({ brokers: broker.bootstrap, lingerMs: 0 });
      await p.send({ topic: 'idem', messages: [{ value: 'a', partition: 0 }] });
      await p.send({
        topic: 'idem',
        messages: [
          { value: 'b', partition: 0 },
          { value: 'c', partition: 0 },
        ],
      });
      expect(p.isIdempotent).toBe(true);
      const { producerId, producerEpoch } = p.producerIdAndEpoch;
      expect(producerId).toBeGreaterThanOrEqual(0n);
      await p.close();
      // The batches on disk carry the producer id and consecutive sequences.
      const c = new Cluster({ brokers: broker.bootstrap });
      await c.waitForTopics(['idem'], 5000);
      const resp = await c.send(c.leaderFor('idem', 0), FetchApi, (v) => ({
        ...FetchApi.request.default(),
        maxWaitMs: 0,
        topics: [
          {
            topic: v >= 13 ? '' : 'idem',
            topicId:
              v >= 13
                ? (c.topic('idem')?.topicId as string)
                : (FetchApi.request.default().topics[0]?.topicId ?? 'AAAAAAAAAAAAAAAAAAAAAA'),
            partitions: [
              {
                partition: 0,
                currentLeaderEpoch: -1,
                fetchOffset: 0n,
                lastFetchedEpoch: -1,
                logStartOffset: -1n,
                partitionMaxBytes: 1 << 20,
                replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
              },
            ],
          },
        ],
      }));
      await c.close();
      const records = resp.responses[0].partitions[0].records as Buffer;
      const batches = decodeRecordSet(records, { maxUncompressedBytes: 1 << 20 }).batches;
      const headers = batches.map((b) => (b.magic === 2 ? b.header : null));
      expect(headers.map((h) => [h?.producerId, h?.producerEpoch, h?.baseSequence])).toEqual([
        [producerId, producerEpoch, 0],
        [producerId, producerEpoch, 1],
      ]);
    } finally {
      await broker.stop();
    }
  });

  it('falls back to a non-idempotent producer, with a warning, when the broker lacks InitProducerId', async () => {
    const { broker, proxy } = await ApiHidingProxy.withBroker([InitProducerIdApi.apiKey]);
    try {
      const logger = captureLogger();
      const p = new Producer({ brokers: proxy.bootstrap, logger, lingerMs: 0 });
      const meta = await p.send({ topic: 'no-idem', messages: [{ value: 'a', partition: 0 }] });
      expect(meta[0].offset).toBe(0n);
      expect(p.isIdempotent).toBe(false);
      expect(p.producerIdAndEpoch.producerId).toBe(-1n);
      expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
        expect.stringContaining('does not support InitProducerId'),
      ]);
      await p.close();
      // Asked for explicitly, idempotence without the API is an error, as in Kafka.
      const strict = new Producer({ brokers: proxy.bootstrap, idempotent: true, lingerMs: 0 });
      await expect(
        strict.send({ topic: 'no-idem', messages: [{ value: 'b', partition: 0 }] }),
      ).rejects.toThrow(/InitProducerId/);
      await strict.close({ timeoutMs: 100 });
    } finally {
      await proxy.close();
      await broker.stop();
    }
  });
});
