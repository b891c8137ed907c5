// @platformatic/kafka 1.x against an in-process Samsa broker: Admin (create/describe/alter/
// incremental-alter configs, create partitions, delete topics, metadata, list offsets), a raw
// DescribeCluster, the Producer (non-idempotent, its default) with keys and headers in each codec
// and each acks, and the Consumer's group-less calls (fetch, listOffsets,
// listOffsetsWithTimestamps); data read back byte-exact by both this client and kafkajs.
//
// Consumer.consume() (its stream joins a group) is in groups-node.test.ts; the idempotent producer
// is in idempotent.test.ts. Not covered yet: transactions (the exactly-once issue), and the Admin
// calls for APIs Samsa does not serve (ACLs, quotas). deleteRecords and describeLogDirs run once the broker serves them (they
// skip themselves before).

import { join } from 'node:path';
import {
  Admin,
  ConfigResourceTypes,
  Connection,
  Consumer,
  deleteTopicsV6,
  describeClusterV1,
  fetchV17,
  IncrementalAlterConfigOperationTypes,
  ListOffsetTimestamps,
  type MessageToProduce,
  ProduceAcks,
  Producer,
} from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
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

/**
 * The Kafka error names (apiId) inside a @platformatic/kafka error, which nests them as
 * MultipleErrors > ResponseError > ProtocolError.
 */
function apiIds(error: unknown): string[] {
  const e = error as { apiId?: string; errors?: unknown[] };
  return [...(e.apiId ? [e.apiId] : []), ...(e.errors ?? []).flatMap(apiIds)];
}

/** The distinct Kafka error names a call rejected with (a retried call repeats them). */
async function rejectionIds(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (error) {
    return [...new Set(apiIds(error))];
  }
  throw new Error('expected a rejection');
}

/** @platformatic/kafka's message shape. Headers go in a Map keyed by Buffer objects, so a repeated
 * key is two distinct Map keys; null key and value are written as absent. */
function toPlatformatic(r: TestRecord, topic: string, partition: number): MessageToProduce {
  return {
    topic,
    partition,
    key: r.key ?? undefined,
    value: r.value ?? undefined,
    headers: new Map(r.headers.map(([k, v]) => [Buffer.from(k), v])),
    timestamp: BigInt(r.timestamp),
  };
}

describe('@platformatic/kafka', () => {
  let tb: TestBroker;
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer;
  let kafka: Kafka;
  const topicIds = new Map<string, string>();

  beforeAll(async () => {
    await installPlatformaticZstd();
    await installKafkajsCodecs();
    tb = await startTestBroker('platformatic');
    const base = { bootstrapBrokers: [tb.broker.bootstrap], retries: 1, retryDelay: 50 };
    admin = new Admin({ clientId: 'samsa-compat-admin', ...base });
    producer = new Producer({ clientId: 'samsa-compat-producer', ...base });
    consumer = new Consumer({ clientId: 'samsa-compat-consumer', groupId: 'unused', ...base });
    kafka = new Kafka({ brokers: [tb.broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 1 } });
  });

  afterAll(async () => {
    await producer?.close();
    await consumer?.close();
    await admin?.close();
    await tb?.stop();
  });

  it('creates topics; reports an existing topic, an invalid name and a bad config as Kafka does', async () => {
    const [created] = await admin.createTopics({
      topics: ['plt-topic'],
      partitions: 3,
      replicas: 1,
      configs: [{ name: 'retention.ms', value: '3600000' }],
    });
    expect(created).toMatchObject({ name: 'plt-topic', partitions: 3, replicas: 1 });
    expect(created.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // CreateTopics v5+ returns the topic's effective configs.
    expect(created.configuration).toMatchObject({
      'retention.ms': '3600000',
      'cleanup.policy': 'delete',
      'max.message.bytes': '1048588',
    });
    topicIds.set('plt-topic', created.id);

    expect(await rejectionIds(admin.createTopics({ topics: ['plt-topic'], partitions: 1 }))).toEqual([
      'TOPIC_ALREADY_EXISTS',
    ]);
    expect(await rejectionIds(admin.createTopics({ topics: ['bad/name'], partitions: 1 }))).toEqual([
      'INVALID_TOPIC_EXCEPTION',
    ]);
    expect(
      await rejectionIds(
        admin.createTopics({
          topics: ['plt-badconf'],
          configs: [{ name: 'cleanup.policy', value: 'sideways' }],
        }),
      ),
    ).toEqual(['INVALID_CONFIG']);
    // Manual assignment to a broker that does not exist.
    expect(
      await rejectionIds(
        admin.createTopics({
          topics: ['plt-badassign'],
          partitions: -1,
          replicas: -1,
          assignments: [{ partition: 0, brokers: [7] }],
        }),
      ),
    ).toEqual(['INVALID_REPLICA_ASSIGNMENT']);
    const topics = await admin.listTopics();
    expect(topics).toContain('plt-topic');
    expect(topics).not.toContain('plt-badconf');
    expect(topics).not.toContain('plt-badassign');
  });

  it('describes metadata (with topic ids) and the cluster', async () => {
    const md = await admin.metadata({ topics: ['plt-topic'], forceUpdate: true });
    expect(md.id).toBe(tb.broker.services.clusterId);
    expect(md.controllerId).toBe(1);
    expect([...md.brokers]).toEqual([[1, { host: '127.0.0.1', port: tb.broker.port, rack: null }]]);
    const t = md.topics.get('plt-topic')!;
    expect(t.id).toBe(topicIds.get('plt-topic'));
    expect(t.partitionsCount).toBe(3);
    for (const p of t.partitions)
      expect(p).toEqual({ leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: [] });

    // The Admin has no describeCluster(); the library's DescribeCluster v1 codec on a connection.
    const connection = new Connection('samsa-compat');
    await connection.connect('127.0.0.1', tb.broker.port);
    try {
      const cluster = await describeClusterV1.api.async(connection, false, 1);
      expect(cluster).toMatchObject({
        errorCode: 0,
        endpointType: 1,
        clusterId: tb.broker.services.clusterId,
        controllerId: 1,
        brokers: [{ brokerId: 1, host: '127.0.0.1', port: tb.broker.port, rack: null }],
      });
    } finally {
      await connection.close();
    }
  });

  it('describes configs with synonyms; alters them whole and incrementally', async () => {
    const describe = async (names: string[], includeSynonyms = false) => {
      const [r] = await admin.describeConfigs({
        resources: [
          { resourceType: ConfigResourceTypes.TOPIC, resourceName: 'plt-topic', configurationKeys: names },
        ],
        includeSynonyms,
      });
      return Object.fromEntries(r.configs.map((c) => [c.name, c]));
    };
    const first = await describe(['retention.ms', 'cleanup.policy'], true);
    // Sources: 1 is DYNAMIC_TOPIC_CONFIG, 5 is DEFAULT_CONFIG; types: 5 LONG, 7 LIST.
    expect(first['retention.ms']).toMatchObject({
      value: '3600000',
      configSource: 1,
      configType: 5,
      synonyms: [{ name: 'retention.ms', value: '3600000', source: 1 }],
    });
    expect(first['cleanup.policy']).toMatchObject({
      value: 'delete',
      configSource: 5,
      configType: 7,
      synonyms: [{ name: 'log.cleanup.policy', value: 'delete', source: 5 }],
    });

    // AlterConfigs replaces the whole set: retention.ms goes back to its default.
    await admin.alterConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: 'plt-topic',
          configs: [{ name: 'segment.bytes', value: '1048576' }],
        },
      ],
    });
    let now = await describe(['retention.ms', 'segment.bytes']);
    expect([now['retention.ms'].value, now['retention.ms'].configSource]).toEqual(['604800000', 5]);
    expect([now['segment.bytes'].value, now['segment.bytes'].configSource]).toEqual(['1048576', 1]);

    // IncrementalAlterConfigs: SET, APPEND to a list, DELETE (back to the default).
    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: 'plt-topic',
          configs: [
            {
              name: 'retention.ms',
              configOperation: IncrementalAlterConfigOperationTypes.SET,
              value: '7200000',
            },
            {
              name: 'cleanup.policy',
              configOperation: IncrementalAlterConfigOperationTypes.APPEND,
              value: 'compact',
            },
            { name: 'segment.bytes', configOperation: IncrementalAlterConfigOperationTypes.DELETE },
          ],
        },
      ],
    });
    now = await describe(['retention.ms', 'cleanup.policy', 'segment.bytes']);
    expect(Object.fromEntries(Object.entries(now).map(([k, c]) => [k, [c.value, c.configSource]]))).toEqual({
      'retention.ms': ['7200000', 1],
      'cleanup.policy': ['delete,compact', 1],
      'segment.bytes': ['1073741824', 5],
    });
    // SUBTRACT from the list.
    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: 'plt-topic',
          configs: [
            {
              name: 'cleanup.policy',
              configOperation: IncrementalAlterConfigOperationTypes.SUBTRACT,
              value: 'compact',
            },
          ],
        },
      ],
    });
    expect((await describe(['cleanup.policy']))['cleanup.policy'].value).toBe('delete');

    // validate_only changes nothing; a bad value and an unknown name are INVALID_CONFIG.
    await admin.incrementalAlterConfigs({
      validateOnly: true,
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: 'plt-topic',
          configs: [
            { name: 'retention.ms', configOperation: IncrementalAlterConfigOperationTypes.SET, value: '1' },
          ],
        },
      ],
    });
    expect((await describe(['retention.ms']))['retention.ms'].value).toBe('7200000');
    for (const [name, value] of [
      ['retention.ms', 'soon'],
      ['no.such.config', '1'],
    ])
      expect(
        await rejectionIds(
          admin.incrementalAlterConfigs({
            resources: [
              {
                resourceType: ConfigResourceTypes.TOPIC,
                resourceName: 'plt-topic',
                configs: [{ name, configOperation: IncrementalAlterConfigOperationTypes.SET, value }],
              },
            ],
          }),
        ),
      ).toEqual(['INVALID_CONFIG']);

    const [brokerConfigs] = await admin.describeConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.BROKER,
          resourceName: '1',
          configurationKeys: ['num.partitions'],
        },
      ],
    });
    expect(brokerConfigs.configs).toEqual([expect.objectContaining({ name: 'num.partitions', value: '1' })]);
  });

  it('creates partitions and refuses to shrink', async () => {
    await admin.createPartitions({ topics: [{ name: 'plt-topic', count: 5 }] });
    const md = await admin.metadata({ topics: ['plt-topic'], forceUpdate: true });
    expect(md.topics.get('plt-topic')?.partitionsCount).toBe(5);
    expect(await rejectionIds(admin.createPartitions({ topics: [{ name: 'plt-topic', count: 2 }] }))).toEqual(
      ['INVALID_PARTITIONS'],
    );
    // validate_only: accepted, nothing changes.
    await admin.createPartitions({ topics: [{ name: 'plt-topic', count: 8 }], validateOnly: true });
    const again = await admin.metadata({ topics: ['plt-topic'], forceUpdate: true });
    expect(again.topics.get('plt-topic')?.partitionsCount).toBe(5);
  });

  it.each(['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const)(
    'produces keyed records with headers (compression %s, acks=all), read back byte-exact by both clients',
    async (compression) => {
      const topic = `plt-produce-${compression}`;
      await admin.createTopics({ topics: [topic], partitions: 2 });
      const records = makeRecords(3000, `platformatic-${compression}`, {
        baseTimestamp: BASE_TS,
        repeatedHeaderKeys: true,
      });
      let sent = 0;
      for (const size of [1, 2, 97, 400, 1000, 500, 999, 1]) {
        const chunk = records.slice(sent, sent + size);
        const result = await producer.send({
          acks: ProduceAcks.ALL,
          compression,
          messages: chunk.map((r) => toPlatformatic(r, topic, 0)),
        });
        expect(result.offsets).toEqual([{ topic, partition: 0, offset: BigInt(sent) }]);
        sent += size;
      }
      const want = expectedRecords(records);
      expect(
        firstMismatch(await platformaticReadPartition(consumer, topic, 0, 0n, records.length), want),
      ).toBeNull();
      expect(firstMismatch(await kafkajsReadPartition(kafka, topic, 0, 0n, records.length), want)).toBeNull();
      // From an offset inside a batch: the broker returns the whole batch, the client skips ahead.
      expect(
        firstMismatch(await platformaticReadPartition(consumer, topic, 0, 1234n, 5), want.slice(1234, 1239)),
      ).toBeNull();
    },
  );

  it('produces with acks=1 (its default) and acks=0, and by key across partitions', async () => {
    await admin.createTopics({ topics: ['plt-acks'], partitions: 3 });
    const one = await producer.send({
      messages: [{ topic: 'plt-acks', partition: 2, value: Buffer.from('one') }],
    });
    expect(one.offsets).toEqual([{ topic: 'plt-acks', partition: 2, offset: 0n }]);
    // acks=0: no response, so no offsets; the record shows up all the same.
    const zero = await producer.send({
      acks: ProduceAcks.NO_RESPONSE,
      messages: [{ topic: 'plt-acks', partition: 2, value: Buffer.from('zero') }],
    });
    expect(zero.offsets).toBeUndefined();
    const read = await platformaticReadPartition(consumer, 'plt-acks', 2, 0n, 2);
    expect(read.map((r) => [r.offset, r.value?.toString()])).toEqual([
      [0n, 'one'],
      [1n, 'zero'],
    ]);

    // Keys pick partitions (murmur2): the same key lands in the same partition every time.
    const keyed = await producer.send({
      acks: ProduceAcks.ALL,
      messages: Array.from({ length: 30 }, (_, i) => ({
        topic: 'plt-acks',
        key: Buffer.from(`user-${i % 10}`),
        value: Buffer.from(`v${i}`),
      })),
    });
    expect(keyed.offsets?.length).toBeGreaterThan(1);
    const where = new Map<string, Set<number>>();
    const latest = await consumer.listOffsets({ topics: ['plt-acks'] });
    const ends = latest.get('plt-acks')!;
    expect(ends.reduce((a, b) => a + b, 0n)).toBe(32n);
    for (let p = 0; p < 3; p++)
      for (const r of await platformaticReadPartition(consumer, 'plt-acks', p, 0n, Number(ends[p])))
        if (r.key) where.set(r.key.toString(), (where.get(r.key.toString()) ?? new Set()).add(p));
    expect(where.size).toBe(10);
    for (const partitions of where.values()) expect(partitions.size).toBe(1);
  });

  it('lists offsets: earliest, latest, by timestamp, max timestamp (Consumer and Admin)', async () => {
    await admin.createTopics({ topics: ['plt-times'], partitions: 2 });
    const records = makeRecords(1000, 'times', { baseTimestamp: BASE_TS, repeatedHeaderKeys: false });
    // Timestamps rise except one late outlier at offset 700, so max timestamp is not the last.
    records[700].timestamp = BASE_TS + 5000;
    await producer.send({
      acks: ProduceAcks.ALL,
      messages: records.slice(0, 600).map((r) => toPlatformatic(r, 'plt-times', 0)),
    });
    await producer.send({
      acks: ProduceAcks.ALL,
      messages: records.slice(600).map((r) => toPlatformatic(r, 'plt-times', 0)),
    });

    expect(await consumer.listOffsets({ topics: ['plt-times'] })).toEqual(
      new Map([['plt-times', [1000n, 0n]]]),
    );
    expect(
      await consumer.listOffsets({ topics: ['plt-times'], timestamp: ListOffsetTimestamps.EARLIEST }),
    ).toEqual(new Map([['plt-times', [0n, 0n]]]));
    const byTime = await consumer.listOffsetsWithTimestamps({
      topics: ['plt-times'],
      timestamp: BigInt(BASE_TS + 500),
    });
    // The first record at or after the timestamp; an empty partition has none (-1).
    expect(byTime.get('plt-times')?.get(0)).toEqual({ offset: 500n, timestamp: BigInt(BASE_TS + 500) });
    expect(byTime.get('plt-times')?.get(1)).toEqual({ offset: -1n, timestamp: -1n });

    const [listed] = await admin.listOffsets({
      topics: [
        {
          name: 'plt-times',
          partitions: [
            { partitionIndex: 0, timestamp: BigInt(BASE_TS + 601) },
            { partitionIndex: 1, timestamp: ListOffsetTimestamps.LATEST },
          ],
        },
      ],
    });
    expect(listed.partitions).toEqual([
      { partitionIndex: 0, timestamp: BigInt(BASE_TS + 601), offset: 601n, leaderEpoch: 0 },
      { partitionIndex: 1, timestamp: -1n, offset: 0n, leaderEpoch: 0 },
    ]);
    // MAX_TIMESTAMP (-3, ListOffsets v7+): the offset of the record with the largest timestamp.
    const [max] = await admin.listOffsets({
      topics: [{ name: 'plt-times', partitions: [{ partitionIndex: 0, timestamp: -3n }] }],
    });
    expect(max.partitions[0]).toMatchObject({ offset: 700n, timestamp: BigInt(BASE_TS + 5000) });
    // Past the last timestamp: -1.
    const [future] = await admin.listOffsets({
      topics: [
        { name: 'plt-times', partitions: [{ partitionIndex: 0, timestamp: BigInt(BASE_TS + 10_000) }] },
      ],
    });
    expect(future.partitions[0]).toMatchObject({ offset: -1n, timestamp: -1n });
  });

  it('fetches by topic id: OFFSET_OUT_OF_RANGE past the end, the whole batch from inside one', async () => {
    await admin.createTopics({ topics: ['plt-fetch'], partitions: 1 });
    await producer.send({
      acks: ProduceAcks.ALL,
      messages: ['a', 'b', 'c', 'd'].map((v) => ({
        topic: 'plt-fetch',
        partition: 0,
        value: Buffer.from(v),
      })),
    });
    const md = await consumer.metadata({ topics: ['plt-fetch'], forceUpdate: true });
    const topicId = md.topics.get('plt-fetch')!.id;
    const fetchAt = (fetchOffset: bigint) =>
      consumer.fetch({
        node: 1,
        maxWaitTime: 100,
        topics: [
          {
            topicId,
            partitions: [
              {
                partition: 0,
                fetchOffset,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
                partitionMaxBytes: 1 << 20,
              },
            ],
          },
        ],
      });
    const inside = await fetchAt(2n);
    const p = inside.responses[0].partitions[0];
    expect(p).toMatchObject({ errorCode: 0, highWatermark: 4n, lastStableOffset: 4n, logStartOffset: 0n });
    expect(p.records?.map((b) => [b.firstOffset, b.records.length])).toEqual([[0n, 4]]);
    expect(await rejectionIds(fetchAt(10n))).toEqual(['OFFSET_OUT_OF_RANGE']);
    // At the end: an empty answer after max_wait_ms.
    const atEnd = await fetchAt(4n);
    expect(atEnd.responses[0].partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 4n });
    expect(atEnd.responses[0].partitions[0].records ?? []).toEqual([]);
  });

  it('keeps incremental fetch sessions (KIP-227) through the library Fetch v17 codec', async () => {
    const [t] = await admin.createTopics({ topics: ['plt-session'], partitions: 2 });
    await producer.send({
      acks: ProduceAcks.ALL,
      messages: [0, 1].map((partition) => ({
        topic: 'plt-session',
        partition,
        value: Buffer.from(`p${partition}`),
      })),
    });
    const connection = new Connection('samsa-compat-session');
    await connection.connect('127.0.0.1', tb.broker.port);
    try {
      const at = (...offsets: [number, bigint][]) =>
        offsets.length === 0
          ? []
          : [
              {
                topicId: t.id,
                partitions: offsets.map(([partition, fetchOffset]) => ({
                  partition,
                  fetchOffset,
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                  partitionMaxBytes: 1 << 20,
                })),
              },
            ];
      const fetch = (
        sessionId: number,
        epoch: number,
        topics: ReturnType<typeof at>,
        forget: number[] = [],
      ) =>
        fetchV17.api.async(
          connection,
          100,
          1,
          1 << 20,
          0,
          sessionId,
          epoch,
          topics,
          forget.length ? [{ topic: t.id, partitions: forget }] : [],
          '',
        );
      const seen = (r: Awaited<ReturnType<typeof fetch>>) =>
        r.responses.flatMap((x) =>
          x.partitions.map((p) => [
            p.partitionIndex,
            p.highWatermark,
            (p.records ?? []).flatMap((b) => b.records.map((rec) => rec.value?.toString())),
          ]),
        );
      // Epoch 0 opens a session (a full fetch).
      const full = await fetch(0, 0, at([0, 1n], [1, 0n]));
      const session = full.sessionId;
      expect(session).not.toBe(0);
      expect(seen(full)).toEqual([
        [0, 1n, []],
        [1, 1n, ['p1']],
      ]);
      // Incremental, nothing new: partitions without changes are left out.
      const quiet = await fetch(session, 1, at([1, 1n]));
      expect(quiet).toMatchObject({ errorCode: 0, sessionId: session });
      expect(seen(quiet)).toEqual([]);
      // New data on partition 0 (whose cached fetch offset is 1): only it comes back.
      await producer.send({
        acks: ProduceAcks.ALL,
        messages: [{ topic: 'plt-session', partition: 0, value: Buffer.from('p0b') }],
      });
      expect(seen(await fetch(session, 2, at([0, 1n])))).toEqual([[0, 2n, ['p0b']]]);
      // A stale epoch is INVALID_FETCH_SESSION_EPOCH with session id 0.
      expect(await rejectionIds(fetch(session, 2, []))).toEqual(['INVALID_FETCH_SESSION_EPOCH']);
      // Forgetting partition 0, then new data on it: not reported.
      await fetch(session, 3, [], [0]);
      await producer.send({
        acks: ProduceAcks.ALL,
        messages: [{ topic: 'plt-session', partition: 0, value: Buffer.from('p0c') }],
      });
      expect(seen(await fetch(session, 4, []))).toEqual([]);
      // Epoch -1 closes the session; the answer is sessionless.
      expect((await fetch(session, -1, [])).sessionId).toBe(0);
      expect(await rejectionIds(fetch(session, 5, []))).toEqual(['FETCH_SESSION_ID_NOT_FOUND']);
      // An unknown topic id is UNKNOWN_TOPIC_ID for its partitions.
      const unknown = await rejectionIds(
        fetchV17.api.async(
          connection,
          100,
          1,
          1 << 20,
          0,
          0,
          -1,
          [{ ...at([0, 0n])[0], topicId: '00000000-0000-0000-0000-0000000000ff' }],
          [],
          '',
        ),
      );
      expect(unknown).toEqual(['UNKNOWN_TOPIC_ID']);
    } finally {
      await connection.close();
    }
  });

  it('returns a batch larger than the fetch limits whole (KIP-74); null header values survive', async () => {
    await admin.createTopics({ topics: ['plt-big'], partitions: 1 });
    const big = Buffer.alloc(1_000_000, 7);
    await producer.send({
      acks: ProduceAcks.ALL,
      messages: [
        {
          topic: 'plt-big',
          partition: 0,
          value: big,
          // A null header value: the Map value is written as length -1.
          headers: new Map([[Buffer.from('nothing'), undefined as unknown as Buffer]]),
        },
        { topic: 'plt-big', partition: 0, value: Buffer.from('small') },
      ],
    });
    const md = await consumer.metadata({ topics: ['plt-big'], forceUpdate: true });
    const topicId = md.topics.get('plt-big')!.id;
    for (const [maxBytes, partitionMaxBytes] of [
      [100, 10_000_000],
      [10_000_000, 100],
    ]) {
      const r = await consumer.fetch({
        node: 1,
        maxBytes,
        maxWaitTime: 100,
        topics: [
          {
            topicId,
            partitions: [
              {
                partition: 0,
                fetchOffset: 0n,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
                partitionMaxBytes,
              },
            ],
          },
        ],
      });
      const batches = r.responses[0].partitions[0].records ?? [];
      expect(batches).toHaveLength(1);
      expect(batches[0].records.map((x) => x.value?.length)).toEqual([1_000_000, 5]);
    }
    const [first] = await kafkajsReadPartition(kafka, 'plt-big', 0, 0n, 1);
    expect(first.value?.equals(big)).toBe(true);
    expect(first.headers).toEqual([['nothing', null]]);
  });

  // Regression: Samsa once stored the producer's codec whatever the topic's compression.type. Kafka's
  // LogValidator recompresses every batch to the topic's codec unless it is 'producer'
  // (BrokerCompressionType.targetCompression, checked by Kafka's BrokerCompressionTest).
  it('recompresses to the topic compression.type', async () => {
    await admin.createTopics({
      topics: ['plt-gzip'],
      partitions: 1,
      configs: [{ name: 'compression.type', value: 'gzip' }],
    });
    await producer.send({
      acks: ProduceAcks.ALL,
      compression: 'lz4',
      messages: [{ topic: 'plt-gzip', partition: 0, value: Buffer.from('lz4 in') }],
    });
    await producer.send({
      acks: ProduceAcks.ALL,
      messages: [{ topic: 'plt-gzip', partition: 0, value: Buffer.from('none in') }],
    });
    const md = await consumer.metadata({ topics: ['plt-gzip'], forceUpdate: true });
    const r = await consumer.fetch({
      node: 1,
      maxWaitTime: 100,
      topics: [
        {
          topicId: md.topics.get('plt-gzip')!.id,
          partitions: [
            {
              partition: 0,
              fetchOffset: 0n,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
              partitionMaxBytes: 1 << 20,
            },
          ],
        },
      ],
    });
    const batches = r.responses[0].partitions[0].records ?? [];
    expect(batches.map((b) => [b.records[0].value?.toString(), b.attributes & 7])).toEqual([
      ['lz4 in', 1],
      ['none in', 1],
    ]);
  });

  // Regression: a partition named twice in one ListOffsets request. Kafka answers INVALID_REQUEST for
  // every entry of it (ListOffsetsRequest.duplicatePartitions, then KafkaApis.handleListOffsetRequest);
  // Samsa once answered the first entry normally and only the repeats with INVALID_REQUEST.
  it('answers INVALID_REQUEST for every entry of a partition listed twice in ListOffsets', async () => {
    await admin.createTopics({ topics: ['plt-dup'], partitions: 1 });
    let response: { topics: { partitions: { errorCode: number }[] }[] } | undefined;
    try {
      await admin.listOffsets({
        topics: [
          {
            name: 'plt-dup',
            partitions: [
              { partitionIndex: 0, timestamp: ListOffsetTimestamps.LATEST },
              { partitionIndex: 0, timestamp: ListOffsetTimestamps.EARLIEST },
            ],
          },
        ],
      });
    } catch (error) {
      response = (error as { errors: { response: typeof response }[] }).errors[0].response;
    }
    expect(response?.topics[0].partitions.map((p) => p.errorCode)).toEqual([42, 42]);
  });

  it('deletes topics by name and by topic id', async () => {
    await admin.createTopics({ topics: ['plt-doomed'], partitions: 2 });
    await producer.send({ messages: [{ topic: 'plt-doomed', value: Buffer.from('bye') }] });
    await admin.deleteTopics({ topics: ['plt-doomed'] });
    expect(await admin.listTopics()).not.toContain('plt-doomed');
    expect(await rejectionIds(admin.deleteTopics({ topics: ['plt-doomed'] }))).toEqual([
      'UNKNOWN_TOPIC_OR_PARTITION',
    ]);

    // DeleteTopics v6 by id (name null): the Admin only deletes by name, so the library's codec.
    const [doomed] = await admin.createTopics({ topics: ['plt-doomed-by-id'], partitions: 1 });
    const connection = new Connection('samsa-compat-delete');
    await connection.connect('127.0.0.1', tb.broker.port);
    try {
      const byId = [{ name: null as unknown as string, topicId: doomed.id }];
      const r = await deleteTopicsV6.api.async(connection, byId, 5000);
      expect(r.responses).toEqual([
        { name: 'plt-doomed-by-id', topicId: doomed.id, errorCode: 0, errorMessage: null },
      ]);
      expect(await rejectionIds(deleteTopicsV6.api.async(connection, byId, 5000))).toEqual([
        'UNKNOWN_TOPIC_ID',
      ]);
    } finally {
      await connection.close();
    }
    expect(await admin.listTopics()).not.toContain('plt-doomed-by-id');
  });

  it('deletes records (DeleteRecords) and lists the earliest local offset', async (ctx) => {
    if (!serves(tb, 21)) ctx.skip('DeleteRecords (key 21) is not served yet');
    await admin.createTopics({ topics: ['plt-trim'], partitions: 2 });
    await producer.send({
      acks: ProduceAcks.ALL,
      messages: Array.from({ length: 10 }, (_, i) => ({
        topic: 'plt-trim',
        partition: 0,
        value: Buffer.from(`v${i}`),
      })),
    });
    expect(
      await admin.deleteRecords({
        topics: [{ name: 'plt-trim', partitions: [{ partition: 0, offset: 6n }] }],
      }),
    ).toEqual([{ name: 'plt-trim', partitions: [{ partition: 0, lowWatermark: 6n }] }]);
    // -1 means "up to the high watermark" (0 on the empty partition 1).
    expect(
      await admin.deleteRecords({
        topics: [{ name: 'plt-trim', partitions: [{ partition: 1, offset: -1n }] }],
      }),
    ).toEqual([{ name: 'plt-trim', partitions: [{ partition: 1, lowWatermark: 0n }] }]);
    // Past the high watermark: OFFSET_OUT_OF_RANGE.
    expect(
      await rejectionIds(
        admin.deleteRecords({ topics: [{ name: 'plt-trim', partitions: [{ partition: 0, offset: 60n }] }] }),
      ),
    ).toEqual(['OFFSET_OUT_OF_RANGE']);
    expect(
      await consumer.listOffsets({ topics: ['plt-trim'], timestamp: ListOffsetTimestamps.EARLIEST }),
    ).toEqual(new Map([['plt-trim', [6n, 0n]]]));
    // EARLIEST_LOCAL_TIMESTAMP (-4, ListOffsets v8+): the local log start, the same without tiering.
    const [local] = await admin.listOffsets({
      topics: [{ name: 'plt-trim', partitions: [{ partitionIndex: 0, timestamp: -4n }] }],
    });
    expect(local.partitions[0]).toMatchObject({ offset: 6n });
    const read = await platformaticReadPartition(consumer, 'plt-trim', 0, 6n, 4);
    expect(read.map((r) => r.value?.toString())).toEqual(['v6', 'v7', 'v8', 'v9']);
  });

  it('describes log dirs (DescribeLogDirs)', async (ctx) => {
    if (!serves(tb, 35)) ctx.skip('DescribeLogDirs (key 35) is not served yet');
    await admin.createTopics({ topics: ['plt-dirs'], partitions: 2 });
    await producer.send({
      acks: ProduceAcks.ALL,
      messages: [{ topic: 'plt-dirs', partition: 0, value: Buffer.from('some bytes') }],
    });
    const [described] = await admin.describeLogDirs({ topics: [{ name: 'plt-dirs', partitions: [0, 1] }] });
    expect(described.broker).toBe(1);
    expect(described.results).toHaveLength(1);
    const [dir] = described.results;
    expect(dir.logDir).toBe(join(tb.dir, 'data'));
    expect(dir.totalBytes).toBeGreaterThan(0n);
    expect(dir.usableBytes).toBeGreaterThan(0n);
    const partitions = dir.topics.find((t) => t.name === 'plt-dirs')?.partitions ?? [];
    expect(partitions.map((p) => [p.partitionIndex, p.offsetLag, p.isFutureKey])).toEqual([
      [0, 0n, false],
      [1, 0n, false],
    ]);
    expect(partitions[0].partitionSize).toBeGreaterThan(0n);
    expect(partitions[1].partitionSize).toBe(0n);
  });

  it.todo('produces in transactions (needs the transaction APIs; idempotence: idempotent.test.ts)');
});
