import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokerConfig } from '../../src/broker/config.js';
import {
  ConfigSource,
  ConfigType,
  formatConfigValue,
  javaDoubleToString,
  parseConfigValue,
  TOPIC_CONFIGS,
} from '../../src/metadata/config-defs.js';
import { staticBrokerConfigsFrom } from '../../src/metadata/configs.js';
import { AlterConfigOp } from '../../src/metadata/controller.js';
import { ConfigResourceType } from '../../src/metadata/records.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import type {
  AlterConfigsRequest,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  IncrementalAlterConfigsRequest,
} from '../../src/protocol/generated/index.js';
import { configs, createTopics, type Fixture, setup, topic } from './helpers.js';

const TOPIC = ConfigResourceType.TOPIC;
const BROKER = ConfigResourceType.BROKER;

function incremental(
  resourceType: number,
  resourceName: string,
  ops: [string, number, string | null][],
  validateOnly = false,
): IncrementalAlterConfigsRequest {
  return {
    validateOnly,
    resources: [
      {
        resourceType,
        resourceName,
        configs: ops.map(([name, configOperation, value]) => ({ name, configOperation, value })),
      },
    ],
  };
}

function legacy(
  resourceType: number,
  resourceName: string,
  cfg: Record<string, string | null>,
): AlterConfigsRequest {
  return {
    validateOnly: false,
    resources: [
      { resourceType, resourceName, configs: Object.entries(cfg).map(([name, value]) => ({ name, value })) },
    ],
  };
}

function describeReq(
  resourceType: number,
  resourceName: string,
  keys: string[] | null = null,
  opts: { synonyms?: boolean; docs?: boolean } = {},
): DescribeConfigsRequest {
  return {
    resources: [{ resourceType, resourceName, configurationKeys: keys }],
    includeSynonyms: opts.synonyms ?? true,
    includeDocumentation: opts.docs ?? false,
  };
}

function describeOne(f: Fixture, resourceType: number, resourceName: string, key: string) {
  const result = f.controller.describeConfigs(describeReq(resourceType, resourceName, [key])).results[0];
  expect(result.errorCode).toBe(0);
  return result.configs[0] as DescribeConfigsResponse.DescribeConfigsResourceResult;
}

function withTopic(opts: Parameters<typeof setup>[0] = {}, cfg: Record<string, string> = {}) {
  const f = setup(opts);
  f.apply(f.controller.createTopics(createTopics([topic('t', 1, 1, { configs: configs(cfg) })])));
  return f;
}

describe('config value parsing and formatting (Kafka ConfigDef)', () => {
  it('renders doubles as Java does', () => {
    expect(javaDoubleToString(0.5)).toBe('0.5');
    expect(javaDoubleToString(1)).toBe('1.0');
    expect(javaDoubleToString(0)).toBe('0.0');
    expect(javaDoubleToString(0.001)).toBe('0.001');
    expect(javaDoubleToString(0.0001)).toBe('1.0E-4');
    expect(javaDoubleToString(1.5e-5)).toBe('1.5E-5');
    expect(javaDoubleToString(12345678.9)).toBe('1.23456789E7');
    expect(javaDoubleToString(1e7)).toBe('1.0E7');
  });

  it('parses and formats each type, and round-trips formatted values', () => {
    const def = (n: string) => TOPIC_CONFIGS.get(n)!;
    expect(parseConfigValue(def('retention.ms'), ' 9223372036854775807 ')).toEqual({
      ok: true,
      value: 9223372036854775807n,
    });
    expect(parseConfigValue(def('retention.ms'), '9223372036854775808').ok).toBe(false);
    expect(parseConfigValue(def('cleanup.policy'), '')).toEqual({ ok: true, value: [] });
    expect(parseConfigValue(def('cleanup.policy'), 'compact,,delete').ok).toBe(false);
    expect(parseConfigValue(def('min.cleanable.dirty.ratio'), '5e-1')).toEqual({ ok: true, value: 0.5 });
    expect(parseConfigValue(def('min.cleanable.dirty.ratio'), 'NaN').ok).toBe(false);
    expect(formatConfigValue('list', ['compact', 'delete'])).toBe('compact,delete');
    fc.assert(
      fc.property(fc.bigInt({ min: -1n, max: 9223372036854775807n }), (n) => {
        const p = parseConfigValue(def('retention.ms'), n.toString());
        expect(p.ok && formatConfigValue('long', p.value)).toBe(n.toString());
      }),
    );
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (x) => {
        const s = javaDoubleToString(x);
        const p = parseConfigValue(def('min.cleanable.dirty.ratio'), s);
        expect(p.ok && p.value).toBe(x);
      }),
    );
  });
});

describe('effective topic config', () => {
  it('is the Kafka default when nothing is set (Samsa: flush.messages=1)', () => {
    const f = withTopic();
    expect(f.controller.effectiveTopicConfig('t')).toMatchObject({
      segmentBytes: 1073741824,
      segmentMs: 604800000,
      retentionMs: 604800000,
      retentionBytes: -1,
      maxMessageBytes: 1048588,
      cleanupPolicy: ['delete'],
      delete: true,
      compact: false,
      minInsyncReplicas: 1,
      compressionType: 'producer',
      messageTimestampType: 'CreateTime',
      messageTimestampAfterMaxMs: 3600000,
      flushMessages: 1,
      flushMs: Number(9223372036854775807n),
      indexIntervalBytes: 4096,
      minCleanableDirtyRatio: 0.5,
    });
  });

  it('takes the topic override, then the broker synonyms in priority order, then the default', () => {
    const f = withTopic(
      { staticConfigs: { 'log.retention.hours': '2', 'log.roll.ms': '5000', 'message.max.bytes': '2000' } },
      { 'max.message.bytes': '3000' },
    );
    let c = f.controller.effectiveTopicConfig('t');
    expect([c.retentionMs, c.segmentMs, c.maxMessageBytes]).toEqual([7_200_000, 5000, 3000]);
    // log.retention.minutes beats log.retention.hours; a cluster-wide dynamic value beats static.
    f.apply(
      f.controller.incrementalAlterConfigs(
        incremental(BROKER, '', [['log.retention.minutes', AlterConfigOp.SET, '3']]),
      ),
    );
    c = f.controller.effectiveTopicConfig('t');
    expect(c.retentionMs).toBe(180_000);
    // A per-broker dynamic value beats the cluster-wide one.
    f.apply(
      f.controller.incrementalAlterConfigs(
        incremental(BROKER, '1', [['log.retention.ms', AlterConfigOp.SET, '42']]),
      ),
    );
    expect(f.controller.effectiveTopicConfig('t').retentionMs).toBe(42);
    // A topic override beats everything.
    f.apply(
      f.controller.incrementalAlterConfigs(
        incremental(TOPIC, 't', [['retention.ms', AlterConfigOp.SET, '7']]),
      ),
    );
    expect(f.controller.effectiveTopicConfig('t').retentionMs).toBe(7);
  });

  it('reads the static configs a BrokerConfig says were set, and raw ones it does not know', () => {
    const config = new BrokerConfig({
      'log.segment.bytes': '2097152',
      'log.cleanup.policy': 'compact,delete',
    });
    const s = staticBrokerConfigsFrom(config, { 'log.cleaner.delete.retention.ms': '10' });
    expect(Object.fromEntries(s)).toEqual({
      'log.segment.bytes': '2097152',
      'log.cleanup.policy': 'compact,delete',
      'log.cleaner.delete.retention.ms': '10',
    });
    const f = withTopic({ staticConfigs: Object.fromEntries(s) });
    expect(f.controller.effectiveTopicConfig('t')).toMatchObject({
      segmentBytes: 2097152,
      compact: true,
      delete: true,
      deleteRetentionMs: 10,
    });
  });
});

describe('IncrementalAlterConfigs', () => {
  it('SET and DELETE topic configs; only changed keys produce records', () => {
    const f = withTopic({}, { 'retention.ms': '100' });
    const res = f.controller.incrementalAlterConfigs(
      incremental(TOPIC, 't', [
        ['retention.ms', AlterConfigOp.SET, '100'],
        ['segment.ms', AlterConfigOp.SET, '2000'],
        ['flush.ms', AlterConfigOp.DELETE, null],
      ]),
    );
    expect(res.records.map((r) => r.message)).toEqual([
      { resourceType: TOPIC, resourceName: 't', name: 'segment.ms', value: '2000' },
    ]);
    f.apply(res);
    f.apply(
      f.controller.incrementalAlterConfigs(
        incremental(TOPIC, 't', [['retention.ms', AlterConfigOp.DELETE, null]]),
      ),
    );
    expect(f.image.topicConfigs('t')).toEqual(new Map([['segment.ms', '2000']]));
  });

  it('APPEND and SUBTRACT on list configs start from the current value or the default', () => {
    const f = withTopic();
    f.apply(
      f.controller.incrementalAlterConfigs(
        incremental(TOPIC, 't', [['cleanup.policy', AlterConfigOp.APPEND, 'compact']]),
      ),
    );
    expect(f.image.topicConfigs('t').get('cleanup.policy')).toBe('delete,compact');
    f.apply(
      f.controller.incrementalAlterConfigs(
        incremental(TOPIC, 't', [['cleanup.policy', AlterConfigOp.APPEND, 'compact,delete']]),
      ),
    );
    expect(f.image.topicConfigs('t').get('cleanup.policy')).toBe('delete,compact');
    f.apply(
      f.controller.incrementalAlterConfigs(
        incremental(TOPIC, 't', [['cleanup.policy', AlterConfigOp.SUBTRACT, 'delete']]),
      ),
    );
    expect(f.image.topicConfigs('t').get('cleanup.policy')).toBe('compact');
    f.apply(
      f.controller.incrementalAlterConfigs(
        incremental(TOPIC, 't', [
          ['follower.replication.throttled.replicas', AlterConfigOp.APPEND, '0:1,1:1'],
        ]),
      ),
    );
    expect(f.image.topicConfigs('t').get('follower.replication.throttled.replicas')).toBe('0:1,1:1');
    expect(f.controller.effectiveTopicConfig('t').cleanupPolicy).toEqual(['compact']);
  });

  it('rejects APPEND/SUBTRACT on a non-list config, bad values and unknown names with INVALID_CONFIG', () => {
    const f = withTopic();
    const cases: [string, number, string, string | RegExp][] = [
      [
        'retention.ms',
        AlterConfigOp.APPEND,
        '1',
        "Can't APPEND to key retention.ms because its type is not LIST.",
      ],
      [
        'retention.ms',
        AlterConfigOp.SUBTRACT,
        '1',
        "Can't SUBTRACT to key retention.ms because its type is not LIST.",
      ],
      ['cleanup.policy', AlterConfigOp.APPEND, 'archive', /String must be one of: compact, delete/],
      ['retention.ms', AlterConfigOp.SET, 'soon', /Not a number of type LONG/],
      ['no.such', AlterConfigOp.SET, '1', 'Unknown topic config name: no.such'],
    ];
    for (const [name, op, value, message] of cases) {
      const res = f.controller.incrementalAlterConfigs(incremental(TOPIC, 't', [[name, op, value]]));
      expect(res.records).toEqual([]);
      expect(res.response.responses[0]).toMatchObject({
        errorCode: ErrorCode.INVALID_CONFIG,
        resourceType: TOPIC,
        resourceName: 't',
      });
      expect(res.response.responses[0].errorMessage).toMatch(message);
    }
  });

  it('checks the request shape: duplicates, null values, unknown operations, resources', () => {
    const f = withTopic();
    const req: IncrementalAlterConfigsRequest = {
      validateOnly: false,
      resources: [
        { resourceType: TOPIC, resourceName: 'dup', configs: [] },
        { resourceType: TOPIC, resourceName: 'dup', configs: [] },
        {
          resourceType: TOPIC,
          resourceName: 'missing',
          configs: [{ name: 'retention.ms', configOperation: 0, value: '1' }],
        },
        { resourceType: TOPIC, resourceName: 'bad name', configs: [] },
        { resourceType: 99, resourceName: 'x', configs: [] },
        { resourceType: ConfigResourceType.GROUP, resourceName: 'g', configs: [] },
        { resourceType: BROKER, resourceName: 'one', configs: [] },
        { resourceType: BROKER, resourceName: '7', configs: [] },
      ],
    };
    const res = f.controller.incrementalAlterConfigs(req).response.responses;
    expect(res.map((r) => [r.resourceName, r.errorCode, r.errorMessage])).toEqual([
      ['dup', ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'],
      ['dup', ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'],
      ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The topic 'missing' does not exist."],
      ['bad name', ErrorCode.INVALID_TOPIC_EXCEPTION, expect.stringMatching(/illegal/)],
      ['x', ErrorCode.UNSUPPORTED_VERSION, 'Unknown resource type 99.'],
      ['g', ErrorCode.INVALID_REQUEST, expect.stringMatching(/GROUP/)],
      ['one', ErrorCode.INVALID_REQUEST, 'Invalid broker name one'],
      ['7', ErrorCode.BROKER_ID_NOT_REGISTERED, 'No broker with id 7 found.'],
    ]);
    const one = (ops: [string, number, string | null][]) =>
      f.controller.incrementalAlterConfigs(incremental(TOPIC, 't', ops)).response.responses[0];
    expect(one([['retention.ms', 9, '1']]).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(
      one([
        ['retention.ms', AlterConfigOp.SET, '1'],
        ['retention.ms', AlterConfigOp.SET, '2'],
      ]),
    ).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Error due to duplicate config keys',
    });
    expect(one([['retention.ms', AlterConfigOp.SET, null]])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Null value not supported for : retention.ms',
    });
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION for a missing topic before looking at its configs', () => {
    const f = withTopic();
    const missing = (ops: [string, number, string | null][]) =>
      f.controller.incrementalAlterConfigs(incremental(TOPIC, 'missing', ops)).response.responses[0];
    const expected = {
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: "The topic 'missing' does not exist.",
    };
    expect(missing([['no.such.config', AlterConfigOp.SET, '1']])).toMatchObject(expected);
    expect(missing([['retention.ms', AlterConfigOp.SET, 'not a number']])).toMatchObject(expected);
    expect(missing([['retention.ms', AlterConfigOp.APPEND, '1']])).toMatchObject(expected);
    // On a topic that exists, the same configs are still refused as invalid.
    const existing = f.controller.incrementalAlterConfigs(
      incremental(TOPIC, 't', [['no.such.config', AlterConfigOp.SET, '1']]),
    ).response.responses[0];
    expect(existing.errorCode).toBe(ErrorCode.INVALID_CONFIG);
  });

  it('validate_only writes nothing', () => {
    const f = withTopic();
    const res = f.controller.incrementalAlterConfigs(
      incremental(TOPIC, 't', [['retention.ms', AlterConfigOp.SET, '5']], true),
    );
    expect(res.records).toEqual([]);
    expect(res.response.responses[0].errorCode).toBe(0);
  });

  it('changes dynamic broker configs (log.* defaults) but not static-only ones', () => {
    const f = withTopic();
    const ok = f.controller.incrementalAlterConfigs(
      incremental(BROKER, '1', [
        ['log.cleanup.policy', AlterConfigOp.APPEND, 'compact'],
        ['min.insync.replicas', AlterConfigOp.SET, '2'],
      ]),
    );
    expect(ok.response.responses[0].errorCode).toBe(0);
    f.apply(ok);
    expect(f.image.configs(BROKER, '1')).toEqual(
      new Map([
        ['log.cleanup.policy', 'delete,compact'],
        ['min.insync.replicas', '2'],
      ]),
    );
    expect(f.controller.effectiveTopicConfig('t')).toMatchObject({ compact: true, minInsyncReplicas: 2 });

    const readOnly = f.controller.incrementalAlterConfigs(
      incremental(BROKER, '', [['num.partitions', AlterConfigOp.SET, '3']]),
    );
    expect(readOnly.response.responses[0]).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Cannot update these configs dynamically: Set(num.partitions)',
    });
    const bad = f.controller.incrementalAlterConfigs(
      incremental(BROKER, '', [['log.retention.ms', AlterConfigOp.SET, 'x']]),
    );
    expect(bad.response.responses[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST });
    // Unknown names are kept, as Kafka keeps them.
    const custom = f.controller.incrementalAlterConfigs(
      incremental(BROKER, '', [['my.custom', AlterConfigOp.SET, 'v']]),
    );
    expect(custom.response.responses[0].errorCode).toBe(0);
  });
});

describe('AlterConfigs (legacy)', () => {
  it('replaces the whole topic config set', () => {
    const f = withTopic({}, { 'retention.ms': '100', 'segment.ms': '5000' });
    const res = f.controller.alterConfigs(
      legacy(TOPIC, 't', { 'retention.ms': '200', 'cleanup.policy': 'compact' }),
    );
    expect(res.response.responses).toEqual([
      { errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 't' },
    ]);
    f.apply(res);
    expect(f.image.topicConfigs('t')).toEqual(
      new Map([
        ['retention.ms', '200'],
        ['cleanup.policy', 'compact'],
      ]),
    );
  });

  it('validates the new set as a whole and reports per resource', () => {
    const f = withTopic();
    const req: AlterConfigsRequest = {
      validateOnly: false,
      resources: [
        { resourceType: TOPIC, resourceName: 't', configs: [{ name: 'retention.ms', value: 'x' }] },
        { resourceType: TOPIC, resourceName: 'nope', configs: [{ name: 'retention.ms', value: '1' }] },
        { resourceType: TOPIC, resourceName: 'x', configs: [] },
        { resourceType: TOPIC, resourceName: 'x', configs: [] },
        { resourceType: BROKER, resourceName: '1', configs: [{ name: 'log.retention.ms', value: '5' }] },
      ],
    };
    const res = f.controller.alterConfigs(req);
    expect(res.response.responses.map((r) => [r.resourceName, r.errorCode])).toEqual([
      ['t', ErrorCode.INVALID_CONFIG],
      ['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['x', ErrorCode.INVALID_REQUEST],
      ['x', ErrorCode.INVALID_REQUEST],
      ['1', 0],
    ]);
    expect(res.records.map((r) => r.message)).toEqual([
      { resourceType: BROKER, resourceName: '1', name: 'log.retention.ms', value: '5' },
    ]);
  });
});

describe('AlterConfigs (legacy) on a missing topic', () => {
  it('answers UNKNOWN_TOPIC_OR_PARTITION before validating config names and values', () => {
    const f = withTopic();
    const sets: Record<string, string>[] = [
      { 'no.such.config': '1' },
      { 'retention.ms': 'x' },
      { 'retention.ms': '1' },
    ];
    for (const cfg of sets) {
      const res = f.controller.alterConfigs(legacy(TOPIC, 'missing', cfg));
      expect(res.response.responses[0]).toMatchObject({
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: "The topic 'missing' does not exist.",
      });
      expect(res.records).toEqual([]);
    }
    const existing = f.controller.alterConfigs(legacy(TOPIC, 't', { 'no.such.config': '1' }));
    expect(existing.response.responses[0].errorCode).toBe(ErrorCode.INVALID_CONFIG);
  });
});

describe('DescribeConfigs', () => {
  it('describes every topic config, sorted, with value, source, type and no documentation unless asked', () => {
    const f = withTopic();
    const res = f.controller.describeConfigs(describeReq(TOPIC, 't', null, { synonyms: false }));
    const cfgs = res.results[0].configs;
    expect(res.results[0]).toMatchObject({
      errorCode: 0,
      errorMessage: null,
      resourceType: TOPIC,
      resourceName: 't',
    });
    expect(cfgs.map((c) => c.name)).toEqual([...TOPIC_CONFIGS.keys()].sort());
    expect(cfgs.find((c) => c.name === 'cleanup.policy')).toEqual({
      name: 'cleanup.policy',
      value: 'delete',
      readOnly: false,
      isDefault: true,
      configSource: ConfigSource.DEFAULT_CONFIG,
      isSensitive: false,
      synonyms: [],
      configType: ConfigType.LIST,
      documentation: null,
    });
    expect(cfgs.find((c) => c.name === 'min.cleanable.dirty.ratio')).toMatchObject({
      value: '0.5',
      configType: ConfigType.DOUBLE,
    });
    expect(cfgs.find((c) => c.name === 'leader.replication.throttled.replicas')?.value).toBe('');
    const docs = f.controller.describeConfigs(describeReq(TOPIC, 't', ['retention.ms'], { docs: true }));
    expect(docs.results[0].configs[0].documentation).toMatch(/retain/);
  });

  it('reports a topic override as DYNAMIC_TOPIC_CONFIG with the broker synonyms after it', () => {
    const f = withTopic({}, { 'max.message.bytes': '3000' });
    expect(describeOne(f, TOPIC, 't', 'max.message.bytes')).toMatchObject({
      value: '3000',
      configSource: ConfigSource.DYNAMIC_TOPIC_CONFIG,
      isDefault: false,
      synonyms: [
        { name: 'max.message.bytes', value: '3000', source: ConfigSource.DYNAMIC_TOPIC_CONFIG },
        { name: 'message.max.bytes', value: '1048588', source: ConfigSource.DEFAULT_CONFIG },
      ],
    });
  });

  it('orders synonyms as Kafka: topic, per-broker dynamic, cluster dynamic, static, default', () => {
    const f = withTopic(
      { staticConfigs: { 'log.segment.bytes': '2097152' } },
      { 'segment.bytes': '1048576' },
    );
    f.apply(
      f.controller.incrementalAlterConfigs(
        incremental(BROKER, '', [['log.segment.bytes', AlterConfigOp.SET, '3145728']]),
      ),
    );
    f.apply(
      f.controller.incrementalAlterConfigs(
        incremental(BROKER, '1', [['log.segment.bytes', AlterConfigOp.SET, '4194304']]),
      ),
    );
    expect(describeOne(f, TOPIC, 't', 'segment.bytes').synonyms).toEqual([
      { name: 'segment.bytes', value: '1048576', source: ConfigSource.DYNAMIC_TOPIC_CONFIG },
      { name: 'log.segment.bytes', value: '4194304', source: ConfigSource.DYNAMIC_BROKER_CONFIG },
      { name: 'log.segment.bytes', value: '3145728', source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG },
      { name: 'log.segment.bytes', value: '2097152', source: ConfigSource.STATIC_BROKER_CONFIG },
      { name: 'log.segment.bytes', value: '1073741824', source: ConfigSource.DEFAULT_CONFIG },
    ]);
    // Without the topic override, the value and source come from the first synonym.
    f.apply(
      f.controller.incrementalAlterConfigs(
        incremental(TOPIC, 't', [['segment.bytes', AlterConfigOp.DELETE, null]]),
      ),
    );
    expect(describeOne(f, TOPIC, 't', 'segment.bytes')).toMatchObject({
      value: '4194304',
      configSource: ConfigSource.DYNAMIC_BROKER_CONFIG,
    });
  });

  it('reports STATIC_BROKER_CONFIG when server.properties sets the synonym', () => {
    const f = withTopic({ staticConfigs: { 'log.cleanup.policy': 'compact' } });
    expect(describeOne(f, TOPIC, 't', 'cleanup.policy')).toMatchObject({
      value: 'compact',
      configSource: ConfigSource.STATIC_BROKER_CONFIG,
      synonyms: [
        { name: 'log.cleanup.policy', value: 'compact', source: ConfigSource.STATIC_BROKER_CONFIG },
        { name: 'log.cleanup.policy', value: 'delete', source: ConfigSource.DEFAULT_CONFIG },
      ],
    });
  });

  it("keeps Kafka's quirk: synonyms before the first broker synonym is set are dropped", () => {
    const f = withTopic({ staticConfigs: { 'log.retention.hours': '1' } });
    // log.retention.ms is unset, so Kafka reports no synonyms and DEFAULT_CONFIG, with the right value.
    expect(describeOne(f, TOPIC, 't', 'retention.ms')).toMatchObject({
      value: '3600000',
      configSource: ConfigSource.DEFAULT_CONFIG,
      synonyms: [],
    });
    f.apply(
      f.controller.incrementalAlterConfigs(
        incremental(BROKER, '', [['log.retention.ms', AlterConfigOp.SET, '5']]),
      ),
    );
    expect(describeOne(f, TOPIC, 't', 'retention.ms')).toMatchObject({
      value: '5',
      configSource: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
      synonyms: [
        { name: 'log.retention.ms', value: '5', source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG },
        { name: 'log.retention.hours', value: '1', source: ConfigSource.STATIC_BROKER_CONFIG },
        { name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG },
      ],
    });
  });

  it('describes a broker: every config, read-only unless dynamic, with its source', () => {
    const f = withTopic({ staticConfigs: { 'num.partitions': '3', custom: 'x' } });
    f.apply(
      f.controller.incrementalAlterConfigs(
        incremental(BROKER, '', [['log.retention.ms', AlterConfigOp.SET, '5']]),
      ),
    );
    const all = f.controller.describeConfigs(describeReq(BROKER, '1')).results[0].configs;
    const get = (n: string) => all.find((c) => c.name === n);
    expect(get('num.partitions')).toMatchObject({
      value: '3',
      readOnly: true,
      configSource: ConfigSource.STATIC_BROKER_CONFIG,
      configType: ConfigType.INT,
    });
    expect(get('log.retention.ms')).toMatchObject({
      value: '5',
      readOnly: false,
      configSource: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
    });
    expect(get('log.retention.hours')).toMatchObject({
      value: '168',
      configSource: ConfigSource.DEFAULT_CONFIG,
      synonyms: [{ name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG }],
    });
    expect(get('custom')).toMatchObject({ value: null, isSensitive: true, configType: ConfigType.UNKNOWN });
    // The cluster default resource lists only the dynamic defaults.
    const defaults = f.controller.describeConfigs(describeReq(BROKER, '')).results[0].configs;
    expect(defaults.map((c) => [c.name, c.value, c.configSource])).toEqual([
      ['log.retention.ms', '5', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
    ]);
  });

  it('answers errors per resource', () => {
    const f = withTopic();
    const res = f.controller.describeConfigs({
      includeSynonyms: false,
      includeDocumentation: false,
      resources: [
        { resourceType: TOPIC, resourceName: 'missing', configurationKeys: null },
        { resourceType: TOPIC, resourceName: 'bad/name', configurationKeys: null },
        { resourceType: BROKER, resourceName: '2', configurationKeys: null },
        { resourceType: BROKER, resourceName: 'b', configurationKeys: null },
        { resourceType: ConfigResourceType.BROKER_LOGGER, resourceName: '1', configurationKeys: null },
        { resourceType: 77, resourceName: 'x', configurationKeys: null },
        { resourceType: TOPIC, resourceName: 't', configurationKeys: ['retention.ms', 'nope'] },
      ],
    });
    expect(res.results.map((r) => [r.resourceName, r.errorCode, r.configs.length])).toEqual([
      ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
      ['bad/name', ErrorCode.INVALID_TOPIC_EXCEPTION, 0],
      ['2', ErrorCode.INVALID_REQUEST, 0],
      ['b', ErrorCode.INVALID_REQUEST, 0],
      ['1', 0, 0],
      ['x', ErrorCode.INVALID_REQUEST, 0],
      ['t', 0, 1],
    ]);
  });
});
