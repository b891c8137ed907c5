import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { CreatePartitionsRequest, DeleteTopicsRequest } from '../../src/protocol/generated/index.js';
import { ZERO_UUID } from '../../src/protocol/message.js';
import { createTopics, setup, topic } from './helpers.js';

const byNames = (...topicNames: string[]): DeleteTopicsRequest => ({
  topics: [],
  topicNames,
  timeoutMs: 1000,
});
const v6 = (...topics: { name: string | null; topicId: string }[]): DeleteTopicsRequest => ({
  topics,
  topicNames: [],
  timeoutMs: 1000,
});

function withTopics(...names: string[]) {
  const f = setup({ brokers: [1, 2] });
  f.apply(f.controller.createTopics(createTopics(names.map((n) => topic(n, 2, 1)))));
  return f;
}

describe('DeleteTopics', () => {
  it('refuses the internal topics with TOPIC_DELETION_DISABLED, by name and by id, and deletes the rest', () => {
    const f = setup({ brokers: [1] });
    f.apply(
      f.controller.createTopics(
        createTopics([
          topic('__consumer_offsets', 3, 1),
          topic('__transaction_state', 2, 1),
          topic('a', 1, 1),
        ]),
      ),
    );
    const offsetsId = f.image.topic('__consumer_offsets')?.id as string;
    const txnId = f.image.topic('__transaction_state')?.id as string;
    const aId = f.image.topic('a')?.id as string;
    const refused = (name: string, topicId: string) => ({
      name,
      topicId,
      errorCode: ErrorCode.TOPIC_DELETION_DISABLED,
      errorMessage: `Topic ${name} is a Kafka internal topic and is not allowed to be deleted.`,
    });
    const byName = f.controller.deleteTopics(byNames('__consumer_offsets', '__transaction_state', 'a'));
    expect(byName.records).toEqual([{ type: 9, version: 0, message: { topicId: aId } }]);
    expect(f.apply(byName).responses).toEqual([
      refused('__consumer_offsets', offsetsId),
      refused('__transaction_state', txnId),
      { name: 'a', topicId: aId, errorCode: 0, errorMessage: null },
    ]);
    const byId = f.controller.deleteTopics(v6({ name: null, topicId: offsetsId }));
    expect(byId.records).toEqual([]);
    expect(byId.response.responses).toEqual([refused('__consumer_offsets', offsetsId)]);
    expect(f.image.topic('__consumer_offsets')?.partitions.size).toBe(3);
    expect(f.image.topic('__transaction_state')?.partitions.size).toBe(2);
  });

  it('deletes by name (v0-5) and removes the topic, its partitions and configs on replay', () => {
    const f = withTopics('a', 'b');
    const id = f.image.topic('a')?.id as string;
    const res = f.controller.deleteTopics(byNames('a', 'nope'));
    expect(res.records).toEqual([{ type: 9, version: 0, message: { topicId: id } }]);
    expect(f.apply(res).responses).toEqual([
      { name: 'a', topicId: id, errorCode: 0, errorMessage: null },
      {
        name: 'nope',
        topicId: ZERO_UUID,
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: 'This server does not host this topic-partition.',
      },
    ]);
    expect(f.image.topic('a')).toBeUndefined();
    expect(f.image.topic('b')).toBeDefined();
  });

  it('deletes by id (v6) and answers UNKNOWN_TOPIC_ID for an unknown id', () => {
    const f = withTopics('a');
    const id = f.image.topic('a')?.id as string;
    const unknown = 'AAAAAAAAAAAAAAAAAAAAQQ';
    const res = f.apply(
      f.controller.deleteTopics(v6({ name: null, topicId: id }, { name: null, topicId: unknown })),
    );
    expect(res.responses).toEqual([
      { name: 'a', topicId: id, errorCode: 0, errorMessage: null },
      {
        name: null,
        topicId: unknown,
        errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
        errorMessage: 'This server does not host this topic ID.',
      },
    ]);
    expect(f.image.topicCount).toBe(0);
  });

  it('rejects malformed and duplicate entries with INVALID_REQUEST', () => {
    const f = withTopics('a', 'b', 'c');
    const idB = f.image.topic('b')?.id as string;
    const idC = f.image.topic('c')?.id as string;
    const res = f.controller.deleteTopics(
      v6(
        { name: null, topicId: ZERO_UUID },
        { name: 'a', topicId: idB },
        { name: 'b', topicId: ZERO_UUID },
        { name: 'b', topicId: ZERO_UUID },
        { name: null, topicId: idC },
        { name: null, topicId: idC },
      ),
    );
    expect(res.records).toEqual([]);
    expect(res.response.responses.map((r) => [r.name, r.errorCode, r.errorMessage])).toEqual([
      [null, ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.'],
      ['a', ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.'],
      ['b', ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'],
      [null, ErrorCode.INVALID_REQUEST, 'Duplicate topic id.'],
    ]);
  });

  it('rejects a name that maps to an id given in the same request', () => {
    const f = withTopics('a');
    const id = f.image.topic('a')?.id as string;
    const res = f.controller.deleteTopics(v6({ name: null, topicId: id }, { name: 'a', topicId: ZERO_UUID }));
    expect(res.records).toHaveLength(1);
    expect(res.response.responses[1]).toMatchObject({
      name: 'a',
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'The provided topic name maps to an ID that was already supplied.',
    });
  });

  it('answers TOPIC_DELETION_DISABLED when delete.topic.enable=false', () => {
    const f = setup({ config: { 'delete.topic.enable': 'false' } });
    f.apply(f.controller.createTopics(createTopics([topic('a')])));
    const res = f.controller.deleteTopics(byNames('a'));
    expect(res.records).toEqual([]);
    expect(res.response.responses[0].errorCode).toBe(ErrorCode.TOPIC_DELETION_DISABLED);
  });
});

const grow = (
  topics: CreatePartitionsRequest.CreatePartitionsTopic[],
  validateOnly = false,
): CreatePartitionsRequest => ({ topics, timeoutMs: 1000, validateOnly });

describe('CreatePartitions', () => {
  it('grows an internal topic as Kafka does (only deletion of one is refused)', () => {
    const f = setup({ brokers: [1] });
    f.apply(f.controller.createTopics(createTopics([topic('__consumer_offsets', 2, 1)])));
    const res = f.controller.createPartitions(
      grow([{ name: '__consumer_offsets', count: 3, assignments: null }]),
    );
    expect(res.response.results).toEqual([{ name: '__consumer_offsets', errorCode: 0, errorMessage: null }]);
    f.apply(res);
    expect(f.image.topic('__consumer_offsets')?.partitions.size).toBe(3);
  });

  it("adds partitions with the topic's replication factor, numbered after the existing ones", () => {
    const f = setup({ brokers: [1, 2, 3] });
    f.apply(f.controller.createTopics(createTopics([topic('t', 2, 2)])));
    const res = f.controller.createPartitions(grow([{ name: 't', count: 5, assignments: null }]));
    expect(res.response.results).toEqual([{ name: 't', errorCode: 0, errorMessage: null }]);
    expect(res.records.map((r) => (r.type === 3 ? r.message.partitionId : -1))).toEqual([2, 3, 4]);
    f.apply(res);
    const t = f.image.topic('t');
    expect(t?.partitions.size).toBe(5);
    for (const p of t?.partitions.values() ?? []) expect(p.replicas).toHaveLength(2);
    expect(f.image.partition('t', 2)?.replicas).toEqual([3, 1]);
  });

  it('uses the given assignments, validated as CreateTopics validates them', () => {
    const f = setup({ brokers: [1, 2, 3], fenced: [3] });
    f.apply(f.controller.createTopics(createTopics([topic('t', 1, 2)])));
    const ok = f.apply(
      f.controller.createPartitions(grow([{ name: 't', count: 2, assignments: [{ brokerIds: [2, 3] }] }])),
    );
    expect(ok.results[0].errorCode).toBe(0);
    expect(f.image.partition('t', 1)).toMatchObject({ replicas: [2, 3], isr: [2], leader: 2 });
    const cases: [CreatePartitionsRequest.CreatePartitionsAssignment[], number, string | RegExp][] = [
      [
        [{ brokerIds: [1, 2] }, { brokerIds: [1, 2] }],
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'Attempted to add 1 additional partition(s), but only 2 assignment(s) were specified.',
      ],
      [
        [{ brokerIds: [1] }],
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        /includes a partition with 1 replica\(s\)/,
      ],
      [
        [{ brokerIds: [1, 7] }],
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        /includes broker 7, but no such broker is registered/,
      ],
      [[{ brokerIds: [3, 3] }], ErrorCode.INVALID_REPLICA_ASSIGNMENT, /includes the broker 3 more than once/],
    ];
    for (const [assignments, code, message] of cases) {
      const res = f.controller.createPartitions(grow([{ name: 't', count: 3, assignments }]));
      expect(res.records).toEqual([]);
      expect(res.response.results[0].errorCode).toBe(code);
      expect(res.response.results[0].errorMessage).toMatch(message);
    }
  });

  it('only increases: INVALID_PARTITIONS for the same or a lower count', () => {
    const f = withTopics('t');
    const res = f.controller.createPartitions(
      grow([
        { name: 't', count: 2, assignments: null },
        { name: 'unknown', count: 3, assignments: null },
      ]),
    );
    expect(res.response.results).toEqual([
      {
        name: 't',
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: 'Topic already has 2 partition(s).',
      },
      { name: 'unknown', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null },
    ]);
    const lower = f.controller.createPartitions(grow([{ name: 't', count: 1, assignments: null }]));
    expect(lower.response.results[0]).toEqual({
      name: 't',
      errorCode: ErrorCode.INVALID_PARTITIONS,
      errorMessage: 'The topic t currently has 2 partition(s); 1 would not be an increase.',
    });
  });

  it('validate_only answers but writes nothing; duplicates get INVALID_REQUEST', () => {
    const f = withTopics('t', 'u');
    const res = f.controller.createPartitions(
      grow(
        [
          { name: 't', count: 4, assignments: null },
          { name: 'u', count: 4, assignments: null },
          { name: 'u', count: 5, assignments: null },
        ],
        true,
      ),
    );
    expect(res.records).toEqual([]);
    expect(res.response.results.map((r) => [r.name, r.errorCode])).toEqual([
      ['t', 0],
      ['u', ErrorCode.INVALID_REQUEST],
    ]);
  });

  it('fails when the replication factor can no longer be met', () => {
    const f = setup({ brokers: [1, 2] });
    f.apply(f.controller.createTopics(createTopics([topic('t', 1, 2)])));
    f.image.replay({ type: 1, version: 0, message: { brokerId: 2, brokerEpoch: 1n } });
    const res = f.controller.createPartitions(grow([{ name: 't', count: 2, assignments: null }]));
    expect(res.response.results[0]).toMatchObject({
      errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
      errorMessage:
        'The target replication factor of 2 cannot be reached because only 1 broker(s) are registered.',
    });
  });

  it('refuses more than 10,000 new partitions in one request', () => {
    const f = withTopics('t');
    const res = f.controller.createPartitions(grow([{ name: 't', count: 20_000, assignments: null }]));
    expect(res.records).toEqual([]);
    expect(res.response.results[0].errorCode).toBe(ErrorCode.POLICY_VIOLATION);
  });
});

describe('AllocateProducerIds', () => {
  it('hands out consecutive blocks of 1000 to a registered broker', () => {
    const f = setup();
    const epoch = f.image.broker(1)?.brokerEpoch as bigint;
    const a = f.apply(f.controller.allocateProducerIds(1, epoch));
    const b = f.apply(f.controller.allocateProducerIds(1, epoch));
    expect([a.producerIdStart, a.producerIdLen, b.producerIdStart]).toEqual([0n, 1000, 1000n]);
    expect(f.image.producerIds?.nextProducerId).toBe(2000n);
    expect(f.controller.allocateProducerIds(1, epoch + 1n).response.errorCode).toBe(
      ErrorCode.STALE_BROKER_EPOCH,
    );
    expect(f.controller.allocateProducerIds(5, 1n).response.errorCode).toBe(
      ErrorCode.BROKER_ID_NOT_REGISTERED,
    );
  });
});
