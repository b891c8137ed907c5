import { describe, expect, it } from 'vitest';
import { ConfigSource } from '../../src/metadata/config-defs.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ZERO_UUID } from '../../src/protocol/message.js';
import { configs, createTopics, setup, topic } from './helpers.js';

describe('CreateTopics', () => {
  it('creates a topic with the broker defaults (-1 / -1) and returns id, partitions, rf and configs', () => {
    const f = setup({ config: { 'num.partitions': '3' } });
    const result = f.controller.createTopics(createTopics([topic('orders')]));
    expect(result.records.map((r) => r.type)).toEqual([2, 3, 3, 3]);
    const res = f.apply(result).topics[0];
    expect(res).toMatchObject({
      name: 'orders',
      errorCode: 0,
      errorMessage: null,
      numPartitions: 3,
      replicationFactor: 1,
    });
    expect(res.topicId).not.toBe(ZERO_UUID);
    const t = f.image.topic('orders');
    expect(t?.id).toBe(res.topicId);
    expect([...(t?.partitions.values() ?? [])]).toEqual(
      Array.from({ length: 3 }, () =>
        expect.objectContaining({ replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 }),
      ),
    );
    // Every topic config, sorted, with its source.
    const names = (res.configs ?? []).map((c) => c.name);
    expect(names).toEqual([...names].sort());
    expect(names).toContain('cleanup.policy');
    expect(res.configs?.find((c) => c.name === 'retention.ms')).toMatchObject({
      value: '604800000',
      configSource: ConfigSource.DEFAULT_CONFIG,
      readOnly: false,
      isSensitive: false,
    });
  });

  it('writes TopicRecord, then ConfigRecords, then PartitionRecords', () => {
    const f = setup();
    const result = f.controller.createTopics(
      createTopics([
        topic('c', 2, 1, { configs: configs({ 'cleanup.policy': 'compact', 'retention.ms': '100' }) }),
      ]),
    );
    expect(result.records.map((r) => r.type)).toEqual([2, 4, 4, 3, 3]);
    const res = f.apply(result).topics[0];
    expect(f.image.topicConfigs('c')).toEqual(
      new Map([
        ['cleanup.policy', 'compact'],
        ['retention.ms', '100'],
      ]),
    );
    expect(res.configs?.find((c) => c.name === 'cleanup.policy')).toMatchObject({
      value: 'compact',
      configSource: ConfigSource.DYNAMIC_TOPIC_CONFIG,
    });
  });

  it('validate_only answers as a real creation would, but writes nothing', () => {
    const f = setup();
    const result = f.controller.createTopics(createTopics([topic('v', 4, 1), topic('bad name')], true));
    expect(result.records).toEqual([]);
    expect(result.response.topics.map((t) => [t.name, t.errorCode, t.numPartitions])).toEqual([
      ['v', 0, 4],
      ['bad name', ErrorCode.INVALID_TOPIC_EXCEPTION, -1],
    ]);
  });

  it.each([
    ['', "Topic name is illegal, it can't be empty"],
    ['.', 'Topic name cannot be "." or ".."'],
    ['..', 'Topic name cannot be "." or ".."'],
    ['a'.repeat(250), /can't be longer than 249 characters/],
    ['has space', /contains a character other than ASCII alphanumerics/],
    ['slash/es', /contains a character other than ASCII alphanumerics/],
  ])('rejects the topic name %j with INVALID_TOPIC_EXCEPTION', (name, message) => {
    const f = setup();
    const res = f.controller.createTopics(createTopics([topic(name)]));
    expect(res.records).toEqual([]);
    expect(res.response.topics[0].errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    expect(res.response.topics[0].errorMessage).toMatch(message);
  });

  it("rejects a name that collides with an existing topic ('.' vs '_')", () => {
    const f = setup();
    f.apply(f.controller.createTopics(createTopics([topic('my.topic')])));
    const res = f.controller.createTopics(createTopics([topic('my_topic'), topic('my-topic')])).response
      .topics;
    expect(res[0]).toMatchObject({
      errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION,
      errorMessage: "Topic 'my_topic' collides with existing topic: my.topic",
    });
    expect(res[1].errorCode).toBe(0);
  });

  it('answers TOPIC_ALREADY_EXISTS', () => {
    const f = setup();
    f.apply(f.controller.createTopics(createTopics([topic('t')])));
    const res = f.controller.createTopics(createTopics([topic('t')]));
    expect(res.records).toEqual([]);
    expect(res.response.topics[0]).toMatchObject({
      errorCode: ErrorCode.TOPIC_ALREADY_EXISTS,
      errorMessage: "Topic 't' already exists.",
    });
  });

  it('answers INVALID_REQUEST once for a name given twice, and creates the others', () => {
    const f = setup();
    const res = f.controller.createTopics(createTopics([topic('d'), topic('ok'), topic('d')]));
    expect(res.response.topics.map((t) => [t.name, t.errorCode, t.errorMessage])).toEqual([
      ['d', ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'],
      ['ok', 0, null],
    ]);
    expect(res.records.filter((r) => r.type === 2)).toHaveLength(1);
  });

  it('validates partitions and replication factor', () => {
    const f = setup({ brokers: [1, 2] });
    const res = f.controller.createTopics(
      createTopics([
        topic('p0', 0, 1),
        topic('pm2', -2, 1),
        topic('r0', 1, 0),
        topic('rm2', 1, -2),
        topic('r3', 1, 3),
      ]),
    ).response.topics;
    expect(res.map((t) => t.errorCode)).toEqual([
      ErrorCode.INVALID_PARTITIONS,
      ErrorCode.INVALID_PARTITIONS,
      ErrorCode.INVALID_REPLICATION_FACTOR,
      ErrorCode.INVALID_REPLICATION_FACTOR,
      ErrorCode.INVALID_REPLICATION_FACTOR,
    ]);
    expect(res[0].errorMessage).toBe('Number of partitions was set to an invalid non-positive value.');
    expect(res[2].errorMessage).toBe(
      'Replication factor must be larger than 0, or -1 to use the default value.',
    );
    expect(res[4].errorMessage).toBe(
      'Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 2 broker(s) are registered.',
    );
  });

  it('uses default.replication.factor and fails when it exceeds the live brokers', () => {
    const f = setup({ config: { 'default.replication.factor': '2' } });
    const res = f.controller.createTopics(createTopics([topic('t')])).response.topics[0];
    expect(res.errorCode).toBe(ErrorCode.INVALID_REPLICATION_FACTOR);
  });

  it('spreads replicas and leaders over the usable brokers', () => {
    const f = setup({ brokers: [1, 2, 3] });
    f.apply(f.controller.createTopics(createTopics([topic('s', 6, 2)])));
    const parts = [...(f.image.topic('s')?.partitions.values() ?? [])];
    expect(parts.map((p) => p.replicas)).toEqual([
      [1, 2],
      [2, 3],
      [3, 1],
      [1, 2],
      [2, 3],
      [3, 1],
    ]);
    expect(parts.map((p) => p.leader)).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('places on fenced brokers only when needed, and keeps them out of the ISR and leadership', () => {
    const f = setup({ brokers: [1, 2], fenced: [2] });
    f.apply(f.controller.createTopics(createTopics([topic('f', 2, 2)])));
    for (const p of f.image.topic('f')?.partitions.values() ?? []) {
      expect(p.replicas).toHaveLength(2);
      expect(p.isr).toEqual([1]);
      expect(p.leader).toBe(1);
    }
  });

  describe('manual replica assignments', () => {
    const assign = (...lists: number[][]) =>
      lists.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds }));

    it('creates partitions as assigned', () => {
      const f = setup({ brokers: [1, 2, 3] });
      const res = f.apply(
        f.controller.createTopics(
          createTopics([topic('m', -1, -1, { assignments: assign([3, 1], [2, 3]) })]),
        ),
      ).topics[0];
      expect(res).toMatchObject({ errorCode: 0, numPartitions: 2, replicationFactor: 2 });
      expect(f.image.partition('m', 0)).toMatchObject({ replicas: [3, 1], leader: 3 });
      expect(f.image.partition('m', 1)).toMatchObject({ replicas: [2, 3], leader: 2 });
    });

    it.each([
      [
        'numPartitions set',
        { numPartitions: 2, assignments: assign([1]) },
        ErrorCode.INVALID_REQUEST,
        /numPartitions was not set to -1/,
      ],
      [
        'replicationFactor set',
        { replicationFactor: 1, assignments: assign([1]) },
        ErrorCode.INVALID_REQUEST,
        /replication factor was not set to -1/,
      ],
      [
        'an unknown broker',
        { assignments: assign([1, 9]) },
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'The manual partition assignment includes broker 9, but no such broker is registered.',
      ],
      [
        'a broker twice',
        { assignments: assign([2, 2]) },
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'The manual partition assignment includes the broker 2 more than once.',
      ],
      [
        'an empty replica list',
        { assignments: assign([]) },
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'The manual partition assignment includes an empty replica list.',
      ],
      [
        'inconsistent replication factors',
        { assignments: assign([1, 2], [1]) },
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        /includes a partition with 1 replica\(s\), but this is not consistent with previous partitions, which have 2/,
      ],
      [
        'a gap in partition ids',
        {
          assignments: [
            { partitionIndex: 0, brokerIds: [1] },
            { partitionIndex: 2, brokerIds: [1] },
          ],
        },
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'partitions should be a consecutive 0-based integer sequence',
      ],
      [
        'not starting at 0',
        { assignments: [{ partitionIndex: 1, brokerIds: [1] }] },
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'partitions should be a consecutive 0-based integer sequence',
      ],
      [
        'a partition twice',
        {
          assignments: [
            { partitionIndex: 0, brokerIds: [1] },
            { partitionIndex: 0, brokerIds: [2] },
          ],
        },
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'Found multiple manual partition assignments for partition 0',
      ],
      [
        'only fenced brokers',
        { assignments: assign([3]) },
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        /are fenced or in controlled shutdown/,
      ],
    ])('rejects %s', (_what, extra, code, message) => {
      const f = setup({ brokers: [1, 2, 3], fenced: [3] });
      const res = f.controller.createTopics(createTopics([topic('m', -1, -1, extra)]));
      expect(res.records).toEqual([]);
      expect(res.response.topics[0].errorCode).toBe(code);
      expect(res.response.topics[0].errorMessage).toMatch(message);
    });
  });

  describe('configs', () => {
    it.each([
      [{ 'no.such.config': '1' }, 'Unknown topic config name: no.such.config'],
      [
        { 'retention.ms': 'abc' },
        'Invalid value abc for configuration retention.ms: Not a number of type LONG',
      ],
      [
        { 'retention.ms': '-2' },
        'Invalid value -2 for configuration retention.ms: Value must be at least -1',
      ],
      [{ 'segment.bytes': '1000' }, /Value must be at least 1048576/],
      [{ 'segment.bytes': '4294967296' }, /Not a number of type INT/],
      [{ 'cleanup.policy': 'compact,archive' }, /String must be one of: compact, delete/],
      [
        { 'compression.type': 'brotli' },
        /String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer/,
      ],
      [{ 'message.timestamp.type': 'createtime' }, /String must be one of: CreateTime, LogAppendTime/],
      [{ 'min.cleanable.dirty.ratio': '1.5' }, /Value must be no more than 1/],
      [{ preallocate: 'yes' }, /Expected value to be either true or false/],
      [{ 'compression.gzip.level': '0' }, /between 1 and 9, or -1/],
      [{ 'leader.replication.throttled.replicas': '0:1,x' }, /must be the literal '\*'/],
      [{ 'retention.ms': null }, 'Null value not supported for topic configs: retention.ms'],
      [
        { 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' },
        'conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)',
      ],
      [{ 'remote.storage.enable': 'true' }, /Tiered Storage functionality is disabled/],
      [{ 'message.format.version': '3.0' }, 'Unknown topic config name: message.format.version'],
    ])('rejects %j with INVALID_CONFIG', (cfg, message) => {
      const f = setup();
      const res = f.controller.createTopics(createTopics([topic('t', 1, 1, { configs: configs(cfg) })]));
      expect(res.records).toEqual([]);
      expect(res.response.topics[0].errorCode).toBe(ErrorCode.INVALID_CONFIG);
      expect(res.response.topics[0].errorMessage).toMatch(message);
    });

    it("accepts valid values in Kafka's lenient forms", () => {
      const f = setup();
      const res = f.controller.createTopics(
        createTopics([
          topic('t', 1, 1, {
            configs: configs({
              'cleanup.policy': ' compact , delete ',
              preallocate: 'TRUE',
              'retention.ms': '+100',
              'min.cleanable.dirty.ratio': '1',
              'leader.replication.throttled.replicas': '*',
              'follower.replication.throttled.replicas': '0:1,1:2',
              'compression.gzip.level': '-1',
              'message.downconversion.enable': 'false',
            }),
          }),
        ]),
      );
      expect(res.response.topics[0].errorMessage).toBeNull();
    });
  });

  it('rejects a request for more than 10,000 partitions in total with POLICY_VIOLATION', () => {
    const f = setup();
    const res = f.controller.createTopics(createTopics([topic('a', 6000, 1), topic('b', 5000, 1)]));
    expect(res.records).toEqual([]);
    expect(res.response.topics.map((t) => [t.name, t.errorCode, t.errorMessage])).toEqual([
      ['a', ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'],
      ['b', ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'],
    ]);
  });

  it('auto-creates topics with the defaults, and the internal topics with their own settings', () => {
    const f = setup({ config: { 'num.partitions': '2', 'offsets.topic.num.partitions': '5' } });
    const res = f.apply(
      f.controller.autoCreateTopics(['auto', '__consumer_offsets', '__transaction_state', 'bad!']),
    );
    expect(res.topics.map((t) => [t.name, t.errorCode, t.numPartitions, t.replicationFactor])).toEqual([
      ['auto', 0, 2, 1],
      ['__consumer_offsets', 0, 5, 1],
      ['__transaction_state', 0, 50, 1],
      ['bad!', ErrorCode.INVALID_TOPIC_EXCEPTION, -1, -1],
    ]);
    expect(f.image.topicConfigs('__consumer_offsets').get('cleanup.policy')).toBe('compact');
    expect(f.image.topicConfigs('__transaction_state').get('min.insync.replicas')).toBe('1');
    expect(f.controller.effectiveTopicConfig('__consumer_offsets')).toMatchObject({
      compact: true,
      delete: false,
      segmentBytes: 104857600,
    });
  });
});
