import { describe, expect, it } from 'vitest';
import { MetadataImage, MetadataReplayError } from '../../src/metadata/image.js';
import {
  type ApiMessageAndVersion,
  ConfigResourceType,
  configRecord,
  featureLevelRecord,
  partitionChangeRecord,
  partitionRecord,
  producerIdsRecord,
  removeTopicRecord,
  topicRecord,
} from '../../src/metadata/records.js';
import { registration } from './helpers.js';

const A = 'AAAAAAAAAAAAAAAAAAAAAg';
const B = 'AAAAAAAAAAAAAAAAAAAAAw';

function partition(
  topicId: string,
  partitionId: number,
  replicas: number[],
  leader = replicas[0],
): ApiMessageAndVersion {
  return partitionRecord({
    partitionId,
    topicId,
    replicas,
    isr: replicas,
    removingReplicas: [],
    addingReplicas: [],
    leader,
    leaderRecoveryState: 0,
    leaderEpoch: 0,
    partitionEpoch: 0,
    directories: [],
    eligibleLeaderReplicas: null,
    lastKnownElr: null,
  });
}

function build(records: ApiMessageAndVersion[]): MetadataImage {
  const image = new MetadataImage();
  for (const r of records) image.replay(r);
  return image;
}

describe('MetadataImage.replay', () => {
  it('builds topics by name and id, with partitions and configs', () => {
    const image = build([
      featureLevelRecord('metadata.version', 27),
      registration(1),
      topicRecord('orders', A),
      configRecord(ConfigResourceType.TOPIC, 'orders', 'retention.ms', '1000'),
      partition(A, 0, [1]),
      partition(A, 1, [1]),
      topicRecord('pay.ments', B),
      partition(B, 0, [1]),
    ]);
    expect(image.topicCount).toBe(2);
    expect(image.topic('orders')?.id).toBe(A);
    expect(image.topicById(B)?.name).toBe('pay.ments');
    expect([...(image.topic('orders')?.partitions.keys() ?? [])]).toEqual([0, 1]);
    expect(image.partition('orders', 1)).toMatchObject({
      replicas: [1],
      isr: [1],
      leader: 1,
      leaderEpoch: 0,
    });
    expect(image.topicConfigs('orders')).toEqual(new Map([['retention.ms', '1000']]));
    expect(image.features.get('metadata.version')).toBe(27);
    expect(image.broker(1)?.endpoints[0]).toMatchObject({ host: 'localhost', port: 9093 });
    expect(image.collidingTopic('pay_ments')).toBe('pay.ments');
    expect(image.collidingTopic('pay.ments')).toBeUndefined();
    expect(image.recordsReplayed).toBe(8);
  });

  it('merges a PartitionChangeRecord as Kafka: the leader epoch moves only with the leader field', () => {
    const image = build([registration(1), registration(2), topicRecord('t', A), partition(A, 0, [1, 2])]);
    image.replay(partitionChangeRecord(A, 0, { isr: [1] }));
    expect(image.partition('t', 0)).toMatchObject({ isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 1 });
    image.replay(partitionChangeRecord(A, 0, { leader: 2, isr: [2] }));
    expect(image.partition('t', 0)).toMatchObject({ isr: [2], leader: 2, leaderEpoch: 1, partitionEpoch: 2 });
    image.replay(partitionChangeRecord(A, 0, { leader: -1 }));
    expect(image.partition('t', 0)).toMatchObject({ leader: -1, leaderEpoch: 2, replicas: [1, 2] });
  });

  it('removes a topic with its partitions and configs, and reports what was removed', () => {
    const image = build([
      topicRecord('a.b', A),
      configRecord(ConfigResourceType.TOPIC, 'a.b', 'cleanup.policy', 'compact'),
      partition(A, 0, [1]),
    ]);
    const change = image.replay(removeTopicRecord(A));
    expect(change.kind).toBe('topic-removed');
    if (change.kind === 'topic-removed') expect(change.topic.partitions.size).toBe(1);
    expect(image.topic('a.b')).toBeUndefined();
    expect(image.topicById(A)).toBeUndefined();
    expect(image.topicConfigs('a.b').size).toBe(0);
    expect(image.collidingTopic('a_b')).toBeUndefined();
    // The name can be used again, with a new id.
    image.replay(topicRecord('a.b', B));
    expect(image.topic('a.b')?.id).toBe(B);
  });

  it('sets and deletes configs (a null value deletes)', () => {
    const image = build([
      configRecord(ConfigResourceType.BROKER, '', 'log.retention.ms', '5'),
      configRecord(ConfigResourceType.BROKER, '1', 'log.retention.ms', '6'),
    ]);
    expect(image.configs(ConfigResourceType.BROKER, '').get('log.retention.ms')).toBe('5');
    image.replay(configRecord(ConfigResourceType.BROKER, '', 'log.retention.ms', null));
    expect(image.configs(ConfigResourceType.BROKER, '').size).toBe(0);
    expect([...image.configResources(ConfigResourceType.BROKER)]).toEqual(['1']);
  });

  it('tracks broker registration, fencing and features', () => {
    const image = build([registration(1), registration(2, { epoch: 7n })]);
    expect(image.usableBrokers().map((b) => b.brokerId)).toEqual([1, 2]);
    image.replay({ type: 7, version: 0, message: { id: 2, epoch: 7n } });
    expect(image.usableBrokers().map((b) => b.brokerId)).toEqual([1]);
    image.replay({ type: 8, version: 0, message: { id: 2, epoch: 7n } });
    expect(image.broker(2)?.fenced).toBe(false);
    image.replay({
      type: 17,
      version: 2,
      message: { brokerId: 2, brokerEpoch: 7n, fenced: 0, inControlledShutdown: 1, logDirs: [] },
    });
    expect(image.broker(2)?.inControlledShutdown).toBe(true);
    expect(image.usableBrokers().map((b) => b.brokerId)).toEqual([1]);
    image.replay({ type: 1, version: 0, message: { brokerId: 2, brokerEpoch: 7n } });
    expect(image.broker(2)).toBeUndefined();
    image.replay(featureLevelRecord('group.version', 1));
    image.replay(featureLevelRecord('group.version', 0));
    expect(image.features.has('group.version')).toBe(false);
  });

  it('keeps the producer-id block and refuses to move it backwards', () => {
    const image = build([registration(1), producerIdsRecord(1, 1n, 1000n)]);
    expect(image.producerIds?.nextProducerId).toBe(1000n);
    expect(() => image.replay(producerIdsRecord(1, 1n, 1000n))).toThrow(MetadataReplayError);
  });

  it('refuses records that contradict the image', () => {
    const image = build([topicRecord('t', A)]);
    expect(() => image.replay(topicRecord('t', B))).toThrow(MetadataReplayError);
    expect(() => image.replay(topicRecord('u', A))).toThrow(MetadataReplayError);
    expect(() => image.replay(partition(B, 0, [1]))).toThrow(MetadataReplayError);
    expect(() => image.replay(partitionChangeRecord(A, 5, { leader: 1 }))).toThrow(MetadataReplayError);
    expect(() => image.replay(removeTopicRecord(B))).toThrow(MetadataReplayError);
    expect(() => image.replay({ type: 7, version: 0, message: { id: 9, epoch: 1n } })).toThrow(
      MetadataReplayError,
    );
  });

  it('ignores records Samsa does not model (NoOpRecord, ...)', () => {
    const image = new MetadataImage();
    expect(image.replay({ type: 20, version: 0, message: {} })).toEqual({ kind: 'none' });
  });

  it('toRecords rebuilds an equal image', () => {
    const image = build([
      featureLevelRecord('metadata.version', 27),
      registration(1),
      registration(2, { fenced: true }),
      producerIdsRecord(1, 1n, 3000n),
      topicRecord('orders', A),
      configRecord(ConfigResourceType.TOPIC, 'orders', 'retention.ms', '1000'),
      partition(A, 0, [1, 2]),
      partition(A, 1, [2, 1]),
      partitionChangeRecord(A, 1, { leader: 1, isr: [1] }),
      topicRecord('gone', B),
      partition(B, 0, [1]),
      removeTopicRecord(B),
      configRecord(ConfigResourceType.BROKER, '', 'log.retention.ms', '5'),
      configRecord(ConfigResourceType.TOPIC, 'not-yet-created', 'retention.ms', '7'),
    ]);
    const copy = build(image.toRecords());
    expect(copy.toRecords()).toEqual(image.toRecords());
    expect([...copy.topics()]).toEqual([...image.topics()]);
    expect(copy.partition('orders', 1)).toEqual(image.partition('orders', 1));
    expect(copy.configs(ConfigResourceType.TOPIC, 'not-yet-created').get('retention.ms')).toBe('7');
  });
});
