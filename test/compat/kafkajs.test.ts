// kafkajs 2.x against an in-process Samsa broker: the admin client (create/describe/alter-configs/
// create-partitions/delete-topics, metadata, cluster, offsets and offsets by timestamp) and the
// producer (idempotent: false; the idempotent one is in idempotent.test.ts) with keys and headers in each
// codec, read back byte-exact through kafkajs's own Fetch path and through @platformatic/kafka.
//
// kafkajs's group consumer (consumer.run) and group admin calls are in groups-node.test.ts.
// Not covered yet: the transactional producer (AddPartitionsToTxn, EndTxn: the exactly-once
// issue).
// admin.deleteTopicRecords runs once the broker serves DeleteRecords (it skips itself before).

import { Consumer } from '@platformatic/kafka';
import {
  type Admin,
  CompressionTypes,
  ConfigResourceTypes,
  Kafka,
  logLevel,
  type Message,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installKafkajsCodecs } from '../protocol/records/kafkajs.js';
import {
  expectedRecords,
  firstMismatch,
  installPlatformaticZstd,
  kafkajsReadPartition,
  makeRecords,
  platformaticReadPartition,
  serves,
  startTestBroker,
  type TestBroker,
  type TestRecord,
} from './node-helpers.js';

const BASE_TS = 1_700_000_000_000;

/** kafkajs's message shape; a repeated header key becomes an array of values. */
function toKafkajs(r: TestRecord, partition: number): Message {
  const headers: Record<string, Buffer | Buffer[]> = {};
  for (const [k, v] of r.headers) {
    const prev = headers[k];
    headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return { key: r.key, value: r.value, headers, partition, timestamp: String(r.timestamp) };
}

/**
 * The error kafkajs rejected with, and its Kafka error type(s): an aggregate's per-topic types, or
 * the type of the error itself or of its cause (when kafkajs gave up retrying a retriable one).
 */
async function rejection(p: Promise<unknown>): Promise<{ type?: string; types: string[]; error: unknown }> {
  try {
    await p;
  } catch (error) {
    const e = error as { type?: string; cause?: { type?: string }; errors?: { type?: string }[] };
    return { type: e.type ?? e.cause?.type, types: (e.errors ?? []).map((x) => x.type ?? '?'), error };
  }
  throw new Error('expected a rejection');
}

describe('kafkajs', () => {
  let tb: TestBroker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let pltConsumer: Consumer;

  beforeAll(async () => {
    await installKafkajsCodecs();
    await installPlatformaticZstd();
    tb = await startTestBroker('kafkajs', { 'num.partitions': '2' });
    kafka = new Kafka({
      clientId: 'samsa-compat',
      brokers: [tb.broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 2, initialRetryTime: 50 },
    });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    pltConsumer = new Consumer({
      clientId: 'samsa-compat-reader',
      groupId: 'unused',
      bootstrapBrokers: [tb.broker.bootstrap],
      retries: 0,
    });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await pltConsumer?.close();
    await tb?.stop();
  });

  it('creates topics; reports an existing topic, an invalid name and a bad config as Kafka does', async () => {
    expect(
      await admin.createTopics({
        topics: [
          {
            topic: 'js-topic',
            numPartitions: 3,
            replicationFactor: 1,
            configEntries: [{ name: 'retention.ms', value: '3600000' }],
          },
        ],
      }),
    ).toBe(true);
    // kafkajs answers false (not an error) when every topic already exists.
    expect(await admin.createTopics({ topics: [{ topic: 'js-topic', numPartitions: 1 }] })).toBe(false);

    const badName = await rejection(admin.createTopics({ topics: [{ topic: 'bad/name' }] }));
    expect(badName.types).toEqual(['INVALID_TOPIC_EXCEPTION']);
    const badConfig = await rejection(
      admin.createTopics({
        topics: [{ topic: 'js-badconf', configEntries: [{ name: 'cleanup.policy', value: 'sideways' }] }],
      }),
    );
    expect(badConfig.types).toEqual(['INVALID_CONFIG']);
    const badCount = await rejection(
      admin.createTopics({ topics: [{ topic: 'js-badcount', numPartitions: 1, replicationFactor: 3 }] }),
    );
    expect(badCount.types).toEqual(['INVALID_REPLICATION_FACTOR']);

    // validate_only creates nothing (waitForLeaders would ask Metadata, which auto-creates).
    expect(
      await admin.createTopics({
        validateOnly: true,
        waitForLeaders: false,
        topics: [{ topic: 'js-validate' }],
      }),
    ).toBe(true);
    const topics = await admin.listTopics();
    expect(topics).toContain('js-topic');
    expect(topics).not.toContain('js-validate');
    expect(topics).not.toContain('js-badconf');
  });

  it('describes metadata and the cluster', async () => {
    const md = await admin.fetchTopicMetadata({ topics: ['js-topic'] });
    expect(md.topics).toHaveLength(1);
    expect(md.topics[0].name).toBe('js-topic');
    expect(md.topics[0].partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
    for (const p of md.topics[0].partitions)
      expect(p).toMatchObject({
        partitionErrorCode: 0,
        leader: 1,
        replicas: [1],
        isr: [1],
        offlineReplicas: [],
      });

    const cluster = await admin.describeCluster();
    expect(cluster).toEqual({
      brokers: [{ nodeId: 1, host: '127.0.0.1', port: tb.broker.port }],
      controller: 1,
      clusterId: tb.broker.services.clusterId,
    });
  });

  it('describes and alters topic configs; describes broker configs', async () => {
    const describe = async (names: string[]) => {
      const r = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js-topic', configNames: names }],
      });
      expect(r.resources[0]).toMatchObject({ errorCode: 0, resourceName: 'js-topic' });
      return Object.fromEntries(
        r.resources[0].configEntries.map((e) => [
          e.configName,
          {
            value: e.configValue,
            isDefault: e.isDefault,
            source: (e as { configSource?: number }).configSource,
          },
        ]),
      );
    };
    // Sources: 1 is DYNAMIC_TOPIC_CONFIG, 5 is DEFAULT_CONFIG.
    expect(await describe(['retention.ms', 'cleanup.policy'])).toEqual({
      'retention.ms': { value: '3600000', isDefault: false, source: 1 },
      'cleanup.policy': { value: 'delete', isDefault: true, source: 5 },
    });

    // AlterConfigs replaces the whole dynamic set: retention.ms set again, segment.bytes added.
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: 'js-topic',
          configEntries: [
            { name: 'retention.ms', value: '7200000' },
            { name: 'segment.bytes', value: '1048576' },
          ],
        },
      ],
    });
    expect(await describe(['retention.ms', 'segment.bytes'])).toEqual({
      'retention.ms': { value: '7200000', isDefault: false, source: 1 },
      'segment.bytes': { value: '1048576', isDefault: false, source: 1 },
    });

    // validate_only changes nothing; a bad value is INVALID_CONFIG; an unknown topic is reported.
    await admin.alterConfigs({
      validateOnly: true,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: 'js-topic',
          configEntries: [{ name: 'retention.ms', value: '1' }],
        },
      ],
    });
    expect((await describe(['retention.ms']))['retention.ms'].value).toBe('7200000');
    const bad = await rejection(
      admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: 'js-topic',
            configEntries: [{ name: 'retention.ms', value: 'forever' }],
          },
        ],
      }),
    );
    expect(bad.type).toBe('INVALID_CONFIG');
    const unknown = await rejection(
      admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js-no-such-topic' }],
      }),
    );
    expect(unknown.type).toBe('UNKNOWN_TOPIC_OR_PARTITION');

    const brokerConfigs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.BROKER, name: '1', configNames: ['num.partitions', 'message.max.bytes'] },
      ],
    });
    const entries = Object.fromEntries(
      brokerConfigs.resources[0].configEntries.map((e) => [e.configName, e.configValue]),
    );
    // num.partitions=2 comes from this broker's static config.
    expect(entries).toEqual({ 'num.partitions': '2', 'message.max.bytes': '1048588' });
  });

  it('creates partitions and refuses to shrink', async () => {
    await admin.createPartitions({ topicPartitions: [{ topic: 'js-topic', count: 5 }] });
    const md = await admin.fetchTopicMetadata({ topics: ['js-topic'] });
    expect(md.topics[0].partitions).toHaveLength(5);
    const shrink = await rejection(
      admin.createPartitions({ topicPartitions: [{ topic: 'js-topic', count: 2 }] }),
    );
    expect(shrink.type).toBe('INVALID_PARTITIONS');
    const unknown = await rejection(
      admin.createPartitions({ topicPartitions: [{ topic: 'js-no-such-topic', count: 2 }] }),
    );
    expect(unknown.type).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it.each([
    ['none', CompressionTypes.None],
    ['gzip', CompressionTypes.GZIP],
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
  ])(
    'produces keyed records with headers (compression %s, acks=all), read back byte-exact by both clients',
    async (codec, compression) => {
      const topic = `js-produce-${codec}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
      const records = makeRecords(3000, `kafkajs-${codec}`, {
        baseTimestamp: BASE_TS,
        repeatedHeaderKeys: true,
      });
      // Sends of varying size: each is one batch for partition 1, so the log holds batches of
      // 1 to 1000 records and reads start inside batches.
      let sent = 0;
      for (const size of [1, 2, 97, 400, 1000, 500, 999, 1]) {
        const chunk = records.slice(sent, sent + size);
        const result = await producer.send({
          topic,
          acks: -1,
          compression,
          messages: chunk.map((r) => toKafkajs(r, 1)),
        });
        expect(result).toEqual([
          expect.objectContaining({ topicName: topic, partition: 1, errorCode: 0, baseOffset: String(sent) }),
        ]);
        sent += size;
      }
      expect(sent).toBe(records.length);

      const want = expectedRecords(records);
      expect(firstMismatch(await kafkajsReadPartition(kafka, topic, 1, 0n, records.length), want)).toBeNull();
      // From an offset inside a batch: the broker returns the whole batch, the client skips ahead.
      expect(
        firstMismatch(await kafkajsReadPartition(kafka, topic, 1, 150n, 10), want.slice(150, 160)),
      ).toBeNull();
      // @platformatic/kafka 1.35 cannot decompress xerial-framed snappy, which kafkajs's snappy codec
      // (like the Java client) writes: its wasm snappy takes raw blocks only (platformatic/kafka#282).
      if (codec !== 'snappy') {
        expect(
          firstMismatch(await platformaticReadPartition(pltConsumer, topic, 1, 0n, records.length), want),
        ).toBeNull();
        expect(
          firstMismatch(
            await platformaticReadPartition(pltConsumer, topic, 1, 150n, 10),
            want.slice(150, 160),
          ),
        ).toBeNull();
      }
      // Partition 0 got nothing.
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets.sort((a, b) => a.partition - b.partition)).toEqual([
        { partition: 0, offset: '0', high: '0', low: '0' },
        { partition: 1, offset: String(records.length), high: String(records.length), low: '0' },
      ]);
    },
  );

  it('produces with acks=1 and acks=0, to several topics at once, and by key across partitions', async () => {
    await admin.createTopics({
      topics: [
        { topic: 'js-acks-a', numPartitions: 1 },
        { topic: 'js-acks-b', numPartitions: 4 },
      ],
    });
    const r1 = await producer.send({ topic: 'js-acks-a', acks: 1, messages: [{ key: 'k', value: 'one' }] });
    expect(r1).toEqual([expect.objectContaining({ partition: 0, errorCode: 0, baseOffset: '0' })]);

    // acks=0: no response, so kafkajs reports nothing; the record shows up all the same.
    const r0 = await producer.send({ topic: 'js-acks-a', acks: 0, messages: [{ key: 'k', value: 'zero' }] });
    expect(r0).toEqual([]);
    const read = await kafkajsReadPartition(kafka, 'js-acks-a', 0, 0n, 2);
    expect(read.map((r) => [r.offset, r.value?.toString()])).toEqual([
      [0n, 'one'],
      [1n, 'zero'],
    ]);

    // Past the end: OFFSET_OUT_OF_RANGE. At the end: fetches wait until a produce arrives.
    const outOfRange = await rejection(kafkajsReadPartition(kafka, 'js-acks-a', 0, 100n, 1));
    expect(outOfRange.type).toBe('OFFSET_OUT_OF_RANGE');
    const waiting = kafkajsReadPartition(kafka, 'js-acks-a', 0, 2n, 1);
    await new Promise((r) => setTimeout(r, 300));
    await producer.send({ topic: 'js-acks-a', acks: 1, messages: [{ value: 'late' }] });
    expect((await waiting).map((r) => [r.offset, r.value?.toString()])).toEqual([[2n, 'late']]);

    // sendBatch: one Produce request carrying both topics; keys spread over partitions by murmur2.
    const keyed = Array.from({ length: 40 }, (_, i) => ({ key: `user-${i}`, value: `v${i}` }));
    const rb = await producer.sendBatch({
      acks: -1,
      topicMessages: [
        { topic: 'js-acks-a', messages: [{ value: 'batched' }] },
        { topic: 'js-acks-b', messages: keyed },
      ],
    });
    expect(rb.every((r) => r.errorCode === 0)).toBe(true);
    expect(rb.find((r) => r.topicName === 'js-acks-a')?.baseOffset).toBe('3');
    const perPartition = await admin.fetchTopicOffsets('js-acks-b');
    expect(perPartition.reduce((n, p) => n + Number(p.high), 0)).toBe(40);
    expect(perPartition.filter((p) => Number(p.high) > 0).length).toBeGreaterThan(1);
    // The same key always lands in the same partition: read every partition back and check.
    const where = new Map<string, number>();
    for (const p of perPartition)
      for (const r of await kafkajsReadPartition(kafka, 'js-acks-b', p.partition, 0n, Number(p.high)))
        where.set(r.key!.toString(), p.partition);
    expect(where.size).toBe(40);
    await producer.send({ topic: 'js-acks-b', acks: -1, messages: [{ key: 'user-7', value: 'again' }] });
    const p7 = where.get('user-7')!;
    const again = await kafkajsReadPartition(
      kafka,
      'js-acks-b',
      p7,
      BigInt(perPartition.find((p) => p.partition === p7)!.high),
      1,
    );
    expect(again[0].value?.toString()).toBe('again');
  });

  it('finds offsets by timestamp (ListOffsets)', async () => {
    await admin.createTopics({ topics: [{ topic: 'js-times', numPartitions: 2 }] });
    const records = makeRecords(1000, 'times', { baseTimestamp: BASE_TS, repeatedHeaderKeys: false });
    await producer.send({
      topic: 'js-times',
      acks: -1,
      messages: records.slice(0, 600).map((r) => toKafkajs(r, 0)),
    });
    await producer.send({
      topic: 'js-times',
      acks: -1,
      messages: records.slice(600).map((r) => toKafkajs(r, 0)),
    });
    const at = async (ts: number) =>
      (await admin.fetchTopicOffsetsByTimestamp('js-times', ts)).sort((a, b) => a.partition - b.partition);
    // The first record at or after the timestamp, within a batch and at a batch boundary.
    expect(await at(BASE_TS + 500)).toEqual([
      { partition: 0, offset: '500' },
      { partition: 1, offset: '0' },
    ]);
    expect((await at(BASE_TS + 600))[0].offset).toBe('600');
    expect((await at(0))[0].offset).toBe('0');
    // Past the last timestamp Kafka answers -1, which kafkajs replaces with the high watermark.
    expect((await at(BASE_TS + 10_000))[0].offset).toBe('1000');
  });

  it('auto-creates a topic on produce, and not when the client asks it not to', async () => {
    await producer.send({ topic: 'js-auto', acks: -1, messages: [{ value: 'hello' }] });
    const md = await admin.fetchTopicMetadata({ topics: ['js-auto'] });
    expect(md.topics[0].partitions).toHaveLength(2); // num.partitions=2 on this broker

    const strict = kafka.producer({
      idempotent: false,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 0 },
    });
    await strict.connect();
    try {
      const err = await rejection(strict.send({ topic: 'js-not-auto', messages: [{ value: 'x' }] }));
      expect(err.type).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    } finally {
      await strict.disconnect();
    }
    expect(await admin.listTopics()).not.toContain('js-not-auto');
  });

  it('rejects a batch over max.message.bytes with MESSAGE_TOO_LARGE', async () => {
    await admin.createTopics({
      topics: [{ topic: 'js-small', configEntries: [{ name: 'max.message.bytes', value: '10000' }] }],
    });
    const err = await rejection(
      producer.send({ topic: 'js-small', acks: -1, messages: [{ value: Buffer.alloc(20_000, 1) }] }),
    );
    expect(err.type).toBe('MESSAGE_TOO_LARGE');
    const ok = await producer.send({
      topic: 'js-small',
      acks: -1,
      messages: [{ value: Buffer.alloc(5_000, 1) }],
    });
    expect(ok[0]).toMatchObject({ errorCode: 0, baseOffset: '0' });
  });

  it('rejects what Kafka rejects: bad acks, a timestamp too far ahead, a keyless record on a compacted topic', async () => {
    await admin.createTopics({
      topics: [
        { topic: 'js-validate-plain', numPartitions: 1 },
        {
          topic: 'js-validate-compacted',
          numPartitions: 1,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
    });
    const strict = kafka.producer({
      idempotent: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 0 },
    });
    await strict.connect();
    try {
      const send = (topic: string, acks: number, message: Message) =>
        rejection(strict.send({ topic, acks, messages: [message] }));
      expect((await send('js-validate-plain', 2, { value: 'x' })).type).toBe('INVALID_REQUIRED_ACKS');
      // message.timestamp.after.max.ms defaults to one hour (Kafka 4.0).
      const ahead = String(Date.now() + 2 * 3600_000);
      expect((await send('js-validate-plain', -1, { value: 'x', timestamp: ahead })).type).toBe(
        'INVALID_TIMESTAMP',
      );
      expect((await send('js-validate-compacted', -1, { value: 'x' })).type).toBe('INVALID_RECORD');
      // None of it was written; a keyed record on the compacted topic is fine.
      const ok = await strict.send({
        topic: 'js-validate-compacted',
        acks: -1,
        messages: [{ key: 'k', value: 'x' }],
      });
      expect(ok[0]).toMatchObject({ errorCode: 0, baseOffset: '0' });
      expect((await admin.fetchTopicOffsets('js-validate-plain'))[0].high).toBe('0');
    } finally {
      await strict.disconnect();
    }
  });

  it('stamps LogAppendTime topics with the broker time', async () => {
    await admin.createTopics({
      topics: [
        {
          topic: 'js-appendtime',
          numPartitions: 1,
          configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
        },
      ],
    });
    const before = Date.now();
    const [r] = await producer.send({
      topic: 'js-appendtime',
      acks: -1,
      messages: [
        { value: 'a', timestamp: '1000' },
        { value: 'b', timestamp: '2000' },
      ],
    });
    const after = Date.now();
    const appended = Number(r.logAppendTime);
    expect(appended).toBeGreaterThanOrEqual(before);
    expect(appended).toBeLessThanOrEqual(after);
    const read = await kafkajsReadPartition(kafka, 'js-appendtime', 0, 0n, 2);
    expect(read.map((x) => x.timestamp)).toEqual([BigInt(appended), BigInt(appended)]);
  });

  it('deletes topics', async () => {
    await admin.createTopics({ topics: [{ topic: 'js-doomed', numPartitions: 2 }] });
    await producer.send({ topic: 'js-doomed', acks: -1, messages: [{ value: 'bye' }] });
    await admin.deleteTopics({ topics: ['js-doomed'] });
    expect(await admin.listTopics()).not.toContain('js-doomed');
    const impatient = kafka.admin({ retry: { retries: 0 } });
    await impatient.connect();
    try {
      const again = await rejection(impatient.deleteTopics({ topics: ['js-doomed'] }));
      expect(again.type).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    } finally {
      await impatient.disconnect();
    }
  });

  it('deletes records (DeleteRecords): the low watermark moves and reads below it are out of range', async (ctx) => {
    if (!serves(tb, 21)) ctx.skip('DeleteRecords (key 21) is not served yet');
    await admin.createTopics({ topics: [{ topic: 'js-trim', numPartitions: 2 }] });
    await producer.send({
      topic: 'js-trim',
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, partition: 0 })),
    });
    // kafkajs looks the leaders up in its cached metadata before anything else.
    await admin.fetchTopicMetadata({ topics: ['js-trim'] });
    await admin.deleteTopicRecords({ topic: 'js-trim', partitions: [{ partition: 0, offset: '4' }] });
    const offsets = (await admin.fetchTopicOffsets('js-trim')).sort((a, b) => a.partition - b.partition);
    expect(offsets[0]).toEqual({ partition: 0, offset: '10', high: '10', low: '4' });
    expect((await kafkajsReadPartition(kafka, 'js-trim', 0, 4n, 6)).map((r) => r.value?.toString())).toEqual([
      'v4',
      'v5',
      'v6',
      'v7',
      'v8',
      'v9',
    ]);
    expect((await rejection(kafkajsReadPartition(kafka, 'js-trim', 0, 0n, 1))).type).toBe(
      'OFFSET_OUT_OF_RANGE',
    );
    // -1 means "up to the high watermark".
    await admin.deleteTopicRecords({ topic: 'js-trim', partitions: [{ partition: 0, offset: '-1' }] });
    expect((await admin.fetchTopicOffsets('js-trim')).find((p) => p.partition === 0)?.low).toBe('10');
  });

  it.todo('produces in transactions (needs the transaction APIs; idempotence: idempotent.test.ts)');
});
