// The Samsa consumer against an in-process broker: reads what kcat and confluent-kafka-python
// wrote, byte for byte; shares a group with confluent-kafka-python members; cooperative-sticky
// rebalances among Samsa members; commits seen by kafkajs; seek, seek to timestamp, pause/resume,
// auto.offset.reset, the batch handler and the async iterator.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { Admin } from '../../src/client/admin.js';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer.js';
import type { TopicPartition } from '../../src/client/consumer-protocol.js';
import { Producer } from '../../src/client/producer.js';
import { hasConfluentKafka, hasKcat, requireClient, until } from '../helpers/tools.js';
import { kcat, python, testBroker } from './helpers.js';

async function readN(c: Consumer, n: number, timeoutMs = 30_000): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    if (Date.now() > deadline) throw new Error(`read ${out.length} of ${n} records`);
    out.push(...(await c.poll({ timeoutMs: 500 })));
  }
  return out;
}

const all = (topic: string, n: number): TopicPartition[] =>
  Array.from({ length: n }, (_, partition) => ({ topic, partition }));

describe('consumer', () => {
  let broker: Broker;
  let dir: string;
  let admin: Admin;

  beforeAll(async () => {
    broker = await testBroker({ 'num.partitions': '3' });
    dir = mkdtempSync(join(tmpdir(), 'samsa-consumer-'));
    admin = new Admin({ brokers: broker.bootstrap });
  });
  afterAll(async () => {
    await admin?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!requireClient('kcat', hasKcat))(
    'reads what kcat produced: keys, values, headers, in order',
    async () => {
      const lines = Array.from({ length: 500 }, (_, i) => `key-${i}:value-${i}`);
      for (const codec of ['none', 'zstd']) {
        const topic = `c-kcat-${codec}`;
        const r = await kcat(
          [
            '-b',
            broker.bootstrap,
            '-P',
            '-t',
            topic,
            '-p',
            '1',
            '-K',
            ':',
            '-z',
            codec,
            '-H',
            'h1=one',
            '-H',
            'h2=two',
          ],
          lines.join('\n'),
        );
        expect(r.code, r.stderr).toBe(0);
        const c = new Consumer({ brokers: broker.bootstrap, autoOffsetReset: 'earliest' });
        c.assign([{ topic, partition: 1 }]);
        const got = await readN(c, 500);
        await c.close();
        expect(got.map((g) => `${g.key?.toString()}:${g.value?.toString()}`)).toEqual(lines);
        expect(got.map((g) => g.offset)).toEqual(lines.map((_, i) => BigInt(i)));
        expect(got[0].headers.map((h) => [h.key, h.value?.toString()])).toEqual([
          ['h1', 'one'],
          ['h2', 'two'],
        ]);
        expect(got.every((g) => g.partition === 1 && g.timestampType === 'CreateTime')).toBe(true);
      }
    },
  );

  it.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))(
    'reads what confluent-kafka-python produced, byte for byte, in every codec',
    async () => {
      for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
        const topic = `c-py-${codec}`;
        const spec = Array.from({ length: 300 }, (_, i) => ({
          partition: i % 3,
          key: i % 5 === 0 ? null : Buffer.from([i & 0xff, 0, 0xff, i >> 8]).toString('hex'),
          value: i % 9 === 0 ? null : Buffer.alloc(i, i & 0xff).toString('hex'),
          headers:
            i % 2 === 0
              ? []
              : [
                  ['a', Buffer.from([0, 1, 2]).toString('hex')],
                  ['b', ''],
                ],
          timestamp: 1_600_000_000_000 + i,
        }));
        const file = join(dir, `${topic}.json`);
        writeFileSync(file, JSON.stringify(spec));
        const r = await python('interop.py', ['produce', broker.bootstrap, topic, file, codec]);
        expect(r.code, r.stderr).toBe(0);
        const c = new Consumer({ brokers: broker.bootstrap, autoOffsetReset: 'earliest' });
        c.assign(all(topic, 3));
        const got = await readN(c, spec.length);
        await c.close();
        const hex = (b: Buffer | null) => (b === null ? null : b.toString('hex'));
        for (const p of [0, 1, 2]) {
          const mine = got.filter((g) => g.partition === p);
          const theirs = spec.filter((s) => s.partition === p);
          expect(
            mine.map((g) => ({
              partition: g.partition,
              key: hex(g.key),
              value: hex(g.value),
              headers: g.headers.map((h) => [h.key, hex(h.value)]),
              timestamp: g.timestamp,
            })),
          ).toEqual(theirs);
        }
      }
    },
  );

  it.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))(
    'shares a group with confluent-kafka-python members (range): every record consumed exactly once',
    async () => {
      const topic = 'c-mixed';
      const group = 'mixed-group';
      await admin.createTopics([{ name: topic, numPartitions: 6 }]);
      const N = 3000;
      const p = new Producer({ brokers: broker.bootstrap });
      const wave = (from: number, to: number) =>
        p.send({
          topic,
          messages: Array.from({ length: to - from }, (_, k) => ({
            value: String(from + k),
            partition: (from + k) % 6,
          })),
        });
      await wave(0, N / 2);
      // A python member for 8 s (it commits each record synchronously), two Samsa members joining.
      const py = python('interop.py', ['member', broker.bootstrap, topic, group, 'range', '8']);
      await new Promise((r) => setTimeout(r, 1500));
      const seen: string[] = [];
      const samsaCount = [0, 0];
      const members = [0, 1].map(
        () =>
          new Consumer({
            brokers: broker.bootstrap,
            groupId: group,
            autoOffsetReset: 'earliest',
            partitionAssignors: ['range'],
            heartbeatIntervalMs: 500,
            sessionTimeoutMs: 6000,
            metadataMaxAgeMs: 2000,
          }),
      );
      const ac = new AbortController();
      const runs = members.map((m, i) => {
        m.subscribe({ topics: [topic] });
        return m.run({
          signal: ac.signal,
          eachBatch: async (b) => {
            for (const r of b.records) seen.push(`${r.partition}:${r.offset}`);
            samsaCount[i] += b.records.length;
            await m.commit();
          },
        });
      });
      // The second half goes out once both Samsa members hold partitions, so each has records to
      // consume whatever the first half's timing was.
      await until(
        () => members.every((m) => m.assignment().length > 0),
        'both Samsa members assigned',
        60_000,
      );
      await wave(N / 2, N);
      await p.close();
      const pyResult = await py;
      expect(pyResult.code, pyResult.stderr).toBe(0);
      const pySeen = pyResult.stdout
        .trim()
        .split('\n')
        .filter((l) => l)
        .map((l) => (JSON.parse(l) as number[]).join(':'));
      await until(() => seen.length + pySeen.length >= N, 'all records consumed', 60_000);
      await new Promise((r) => setTimeout(r, 500));
      ac.abort();
      await Promise.all(runs);
      await Promise.all(members.map((m) => m.close()));
      const everything = [...seen, ...pySeen];
      expect(new Set(everything).size).toBe(N);
      expect(everything.length).toBe(N);
      expect(pySeen.length).toBeGreaterThan(0);
      expect(samsaCount.every((n) => n > 0)).toBe(true);
    },
    120_000,
  );

  it('cooperative-sticky: a joining member takes partitions without the first one giving up the rest', async () => {
    const topic = 'c-coop';
    await admin.createTopics([{ name: topic, numPartitions: 6 }]);
    const events: string[] = [];
    const make = (name: string) => {
      const c = new Consumer({
        brokers: broker.bootstrap,
        groupId: 'coop-group',
        partitionAssignors: ['cooperative-sticky'],
        heartbeatIntervalMs: 200,
        autoOffsetReset: 'earliest',
      });
      c.subscribe({
        topics: [topic],
        listener: {
          onPartitionsAssigned: (tps) => {
            events.push(
              `${name}+${tps
                .map((t) => t.partition)
                .sort()
                .join(',')}`,
            );
          },
          onPartitionsRevoked: (tps) => {
            events.push(
              `${name}-${tps
                .map((t) => t.partition)
                .sort()
                .join(',')}`,
            );
          },
        },
      });
      return c;
    };
    let stop = false;
    const a = make('a');
    const pollA = (async () => {
      while (!stop) await a.poll({ timeoutMs: 200 });
    })();
    await until(() => a.assignment().length === 6, 'a owns all 6 partitions', 30_000);
    const b = make('b');
    const pollB = (async () => {
      while (!stop) await b.poll({ timeoutMs: 200 });
    })();
    await until(
      () => a.assignment().length === 3 && b.assignment().length === 3,
      'a and b own 3 each',
      30_000,
    );
    stop = true;
    await Promise.all([pollA, pollB]);
    expect(a.groupMetadata?.protocol).toBe('cooperative-sticky');
    // a never revoked everything: only the three that moved to b.
    const aRevoked = events.filter((e) => e.startsWith('a-'));
    expect(aRevoked).toHaveLength(1);
    expect(aRevoked[0].slice(2).split(',')).toHaveLength(3);
    const moved = aRevoked[0].slice(2).split(',').map(Number);
    expect(
      b
        .assignment()
        .map((t) => t.partition)
        .sort(),
    ).toEqual(moved.sort());
    await Promise.all([a.close(), b.close()]);
  }, 60_000);

  it('commits are what kafkajs admin.fetchOffsets reports', async () => {
    const topic = 'c-commit';
    const p = new Producer({ brokers: broker.bootstrap });
    await p.send({
      topic,
      messages: Array.from({ length: 30 }, (_, i) => ({ value: `${i}`, partition: i % 3 })),
    });
    await p.close();
    const c = new Consumer({
      brokers: broker.bootstrap,
      groupId: 'commit-group',
      autoOffsetReset: 'earliest',
      enableAutoCommit: false,
    });
    c.subscribe({ topics: [topic] });
    await readN(c, 30);
    await c.commit();
    await c.commit([{ topic, partition: 2, offset: 4, metadata: 'custom' }]);
    await c.close();
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const kadmin = kafka.admin();
    await kadmin.connect();
    const offsets = await kadmin.fetchOffsets({ groupId: 'commit-group', topics: [topic] });
    await kadmin.disconnect();
    // (kafkajs shows an empty metadata string as null.)
    expect(offsets[0].partitions.sort((x, y) => x.partition - y.partition)).toEqual([
      { partition: 0, offset: '10', metadata: null },
      { partition: 1, offset: '10', metadata: null },
      { partition: 2, offset: '4', metadata: 'custom' },
    ]);
    // A new member of the group starts at the committed offsets.
    const again = new Consumer({
      brokers: broker.bootstrap,
      groupId: 'commit-group',
      autoOffsetReset: 'earliest',
    });
    again.subscribe({ topics: [topic] });
    const rest = await readN(again, 6);
    await again.close();
    expect(rest.map((r) => `${r.partition}:${r.offset}`).sort()).toEqual([
      '2:4',
      '2:5',
      '2:6',
      '2:7',
      '2:8',
      '2:9',
    ]);
  }, 60_000);

  it('seek, seekToTimestamp, pause/resume and auto.offset.reset', async () => {
    const topic = 'c-seek';
    const p = new Producer({ brokers: broker.bootstrap });
    await p.send({
      topic,
      messages: Array.from({ length: 20 }, (_, i) => ({
        value: `${i}`,
        partition: i % 2,
        timestamp: 1_000_000 + i * 10,
      })),
    });
    await p.close();
    const latest = new Consumer({ brokers: broker.bootstrap });
    latest.assign([{ topic, partition: 0 }]);
    expect(await latest.poll({ timeoutMs: 300 })).toEqual([]);
    expect(latest.position({ topic, partition: 0 })).toBe(10n);
    await latest.close();

    const c = new Consumer({ brokers: broker.bootstrap, autoOffsetReset: 'earliest' });
    c.assign([
      { topic, partition: 0, offset: 7 },
      { topic, partition: 1 },
    ]);
    const got = await readN(c, 13);
    expect(got.filter((r) => r.partition === 0).map((r) => r.value?.toString())).toEqual(['14', '16', '18']);
    c.seek({ topic, partition: 1 }, 8);
    expect((await readN(c, 2)).map((r) => r.value?.toString())).toEqual(['17', '19']);
    // Timestamps of partition 0 are 1_000_000 + 20k: the first at or after 1_000_095 is i = 10.
    await c.seekToTimestamp(1_000_095, [{ topic, partition: 0 }]);
    expect((await readN(c, 5)).map((r) => r.value?.toString())).toEqual(['10', '12', '14', '16', '18']);
    c.seekToBeginning();
    c.pause([{ topic, partition: 0 }]);
    const only1 = await readN(c, 10);
    expect(only1.every((r) => r.partition === 1)).toBe(true);
    expect(await c.poll({ timeoutMs: 300 })).toEqual([]);
    expect(c.paused()).toEqual([{ topic, partition: 0 }]);
    c.resume([{ topic, partition: 0 }]);
    expect((await readN(c, 10)).every((r) => r.partition === 0)).toBe(true);
    await c.close();
  }, 60_000);

  it('run(): a failing batch handler gets the batch again; the async iterator yields one at a time', async () => {
    const topic = 'c-run';
    const p = new Producer({ brokers: broker.bootstrap });
    await p.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `${i}`, partition: 0 })),
    });
    await p.close();
    const c = new Consumer({
      brokers: broker.bootstrap,
      groupId: 'run-group',
      autoOffsetReset: 'earliest',
      enableAutoCommit: false,
    });
    c.subscribe({ topics: [topic] });
    let calls = 0;
    await expect(
      c.run({
        eachBatch: () => {
          calls++;
          throw new Error('boom');
        },
      }),
    ).rejects.toThrow('boom');
    expect(c.position({ topic, partition: 0 })).toBe(0n);
    const ac = new AbortController();
    const values: string[] = [];
    await c.run({
      signal: ac.signal,
      eachBatch: (b) => {
        values.push(...b.records.map((r) => r.value?.toString() as string));
        if (values.length >= 10) ac.abort();
      },
    });
    expect(values).toEqual(Array.from({ length: 10 }, (_, i) => `${i}`));
    expect(calls).toBe(1);
    // The iterator: break after 3 records; the position (what commit() commits) is right after them.
    c.seek({ topic, partition: 0 }, 0);
    const it3: string[] = [];
    for await (const r of c) {
      it3.push(r.value?.toString() as string);
      if (it3.length === 3) break;
    }
    expect(it3).toEqual(['0', '1', '2']);
    expect(c.position({ topic, partition: 0 })).toBe(3n);
    await c.commit();
    expect((await c.committed([{ topic, partition: 0 }])).get(`${topic}\u00000`)?.offset).toBe(3n);
    await c.close();
  }, 60_000);
});
