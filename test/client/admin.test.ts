// Each admin call against an in-process broker.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { Admin, ConfigResourceType, ConfigSource } from '../../src/client/admin.js';
import { Consumer } from '../../src/client/consumer.js';
import { KafkaError } from '../../src/client/errors.js';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { testBroker } from './helpers.js';

describe('admin', () => {
  let broker: Broker;
  let admin: Admin;

  beforeAll(async () => {
    broker = await testBroker();
    admin = new Admin({ brokers: broker.bootstrap });
  });
  afterAll(async () => {
    await admin?.close();
    await broker?.stop();
  });

  it('creates, lists, describes, grows and deletes topics', async () => {
    await admin.createTopics([
      { name: 'a1', numPartitions: 2, configs: { 'retention.ms': '3600000' } },
      { name: 'a2' },
    ]);
    const err = await admin.createTopics([{ name: 'a1', numPartitions: 1 }]).catch((e) => e);
    expect(err).toBeInstanceOf(KafkaError);
    expect(err.code).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
    expect(err.details[0].topic).toBe('a1');
    expect(await admin.listTopics()).toEqual(expect.arrayContaining(['a1', 'a2']));
    const [d] = await admin.describeTopics(['a1']);
    expect(d.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr])).toEqual([
      [0, 1, [1], [1]],
      [1, 1, [1], [1]],
    ]);
    await admin.createPartitions([{ topic: 'a1', count: 4 }]);
    expect((await admin.describeTopics(['a1']))[0].partitions).toHaveLength(4);
    await expect(admin.createPartitions([{ topic: 'a1', count: 2 }])).rejects.toMatchObject({
      code: ErrorCode.INVALID_PARTITIONS,
    });
    await admin.deleteTopics(['a2']);
    expect(await admin.listTopics()).not.toContain('a2');
    await expect(admin.describeTopics(['a2'])).rejects.toMatchObject({
      code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    });
    await expect(admin.deleteTopics(['never-was'])).rejects.toMatchObject({
      code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    });
  });

  it('describes and incrementally alters configs', async () => {
    const before = await admin.describeConfigs([
      { type: ConfigResourceType.Topic, name: 'a1', names: ['retention.ms', 'cleanup.policy'] },
    ]);
    const entries = before.get('a1') ?? [];
    expect(entries.find((e) => e.name === 'retention.ms')).toMatchObject({
      value: '3600000',
      source: ConfigSource.DYNAMIC_TOPIC_CONFIG,
    });
    expect(entries.find((e) => e.name === 'cleanup.policy')).toMatchObject({
      value: 'delete',
      isDefault: true,
    });
    await admin.incrementalAlterConfigs([
      {
        type: ConfigResourceType.Topic,
        name: 'a1',
        ops: [
          { name: 'retention.ms', op: 'delete' },
          { name: 'segment.bytes', op: 'set', value: '1048576' },
        ],
      },
    ]);
    const after =
      (await admin.describeConfigs([{ type: ConfigResourceType.Topic, name: 'a1' }])).get('a1') ?? [];
    expect(after.find((e) => e.name === 'segment.bytes')?.value).toBe('1048576');
    expect(after.find((e) => e.name === 'retention.ms')?.source).not.toBe(ConfigSource.DYNAMIC_TOPIC_CONFIG);
    const brokerConfigs = await admin.describeConfigs([
      { type: ConfigResourceType.Broker, name: '1', names: ['num.partitions'] },
    ]);
    expect(brokerConfigs.get('1')?.[0]).toMatchObject({ name: 'num.partitions', value: '1' });
    await expect(
      admin.incrementalAlterConfigs([
        {
          type: ConfigResourceType.Topic,
          name: 'a1',
          ops: [{ name: 'cleanup.policy', op: 'set', value: 'sideways' }],
        },
      ]),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_CONFIG });
  });

  it('groups: list, describe, offsets, lag, reset, delete offsets, delete', async () => {
    const p = new Producer({ brokers: broker.bootstrap });
    await p.send({
      topic: 'a1',
      messages: Array.from({ length: 40 }, (_, i) => ({ value: `${i}`, partition: i % 4 })),
    });
    await p.close();
    const c = new Consumer({
      brokers: broker.bootstrap,
      groupId: 'admin-group',
      autoOffsetReset: 'earliest',
      enableAutoCommit: false,
      clientId: 'who',
    });
    c.subscribe({ topics: ['a1'] });
    let n = 0;
    while (n < 40) n += (await c.poll({ timeoutMs: 500 })).length;
    await c.commit([
      { topic: 'a1', partition: 0, offset: 10 },
      { topic: 'a1', partition: 1, offset: 3 },
    ]);
    const listed = await admin.listGroups();
    expect(listed).toContainEqual(
      expect.objectContaining({ groupId: 'admin-group', protocolType: 'consumer', state: 'Stable' }),
    );
    const [g] = await admin.describeGroups(['admin-group']);
    expect(g).toMatchObject({
      groupId: 'admin-group',
      state: 'Stable',
      protocolType: 'consumer',
      protocol: 'range',
    });
    expect(g.members).toHaveLength(1);
    expect(g.members[0]).toMatchObject({ clientId: 'who', subscription: ['a1'] });
    expect(g.members[0].assignment?.map((tp) => tp.partition)).toEqual([0, 1, 2, 3]);
    // Resetting a live group is refused by the coordinator.
    await expect(admin.resetConsumerGroupOffsets('admin-group', 'a1', 'earliest')).rejects.toBeInstanceOf(
      KafkaError,
    );
    await c.close();
    expect((await admin.listConsumerGroupOffsets('admin-group')).map((o) => [o.partition, o.offset])).toEqual(
      [
        [0, 10n],
        [1, 3n],
      ],
    );
    expect(
      (await admin.consumerGroupLag('admin-group')).map((l) => [l.partition, l.committed, l.end, l.lag]),
    ).toEqual([
      [0, 10n, 10n, 0n],
      [1, 3n, 10n, 7n],
    ]);
    const reset = await admin.resetConsumerGroupOffsets('admin-group', 'a1', 'earliest');
    expect(reset.map((r) => r.offset)).toEqual([0n, 0n, 0n, 0n]);
    await admin.alterConsumerGroupOffsets('admin-group', [{ topic: 'a1', partition: 3, offset: 7 }]);
    await admin.resetConsumerGroupOffsets('admin-group', 'a1', 'latest', { partitions: [2] });
    expect((await admin.listConsumerGroupOffsets('admin-group')).map((o) => [o.partition, o.offset])).toEqual(
      [
        [0, 0n],
        [1, 0n],
        [2, 10n],
        [3, 7n],
      ],
    );
    await admin.deleteConsumerGroupOffsets('admin-group', [{ topic: 'a1', partition: 3 }]);
    expect((await admin.listConsumerGroupOffsets('admin-group')).map((o) => o.partition)).toEqual([0, 1, 2]);
    await admin.deleteGroups(['admin-group']);
    expect((await admin.listGroups()).map((x) => x.groupId)).not.toContain('admin-group');
    await expect(admin.deleteGroups(['admin-group'])).rejects.toMatchObject({
      code: ErrorCode.GROUP_ID_NOT_FOUND,
    });
  });

  it('deletes records, lists offsets, describes the cluster and log dirs', async () => {
    const low = await admin.deleteRecords([{ topic: 'a1', partition: 0, offset: 4 }]);
    expect([...low.values()]).toEqual([4n]);
    const earliest = await admin.listOffsets([{ topic: 'a1', partition: 0 }], 'earliest');
    expect([...earliest.values()][0].offset).toBe(4n);
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toEqual([{ nodeId: 1, host: '127.0.0.1', port: broker.port, rack: null }]);
    expect(cluster.clusterId).toEqual(expect.any(String));
    const dirs = await admin.describeLogDirs();
    const parts = dirs.get(1)?.[0].partitions ?? [];
    expect(parts.find((x) => x.topic === 'a1' && x.partition === 1)?.size).toBeGreaterThan(0n);
  });
});
