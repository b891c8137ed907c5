// The config registry: its invariants (every synonym defined once, defaults valid, Kafka's value
// given only where Samsa's differs), Kafka's synonym groups, BrokerConfig's parsing and
// validation against it, the start-up log helpers, and the listener protocol rules.

import { describe, expect, it } from 'vitest';
import {
  BROKER_CONFIGS,
  BrokerConfig,
  brokerConfigSynonyms,
  ConfigError,
  HIDDEN,
  LONG_MAX,
  loggableConfigs,
  parseConfigValue,
  parseSecurityProtocolMap,
  resolveListeners,
  TOPIC_CONFIG_DEFS,
  TOPIC_CONFIGS,
} from '../../src/config/index.js';
import { logConfigFromKafka, makeLogConfig } from '../../src/storage/config.js';
import { isPageCacheMode } from '../../src/storage/index.js';

describe('the registry', () => {
  it('defines every broker synonym of a topic config as a dynamic broker config, once', () => {
    const seen = new Set<string>();
    for (const t of TOPIC_CONFIG_DEFS) {
      for (const s of t.synonyms) {
        expect(seen.has(s.name), s.name).toBe(false);
        seen.add(s.name);
        const b = BROKER_CONFIGS.get(s.name);
        expect(b, s.name).toBeDefined();
        expect(b).toMatchObject({ topicConfig: t.name, dynamic: true, updateMode: 'cluster-wide' });
      }
    }
    for (const b of BROKER_CONFIGS.values()) {
      if (b.topicConfig) expect(seen.has(b.name), b.name).toBe(true);
      expect(b.dynamic).toBe(b.updateMode !== 'read-only');
    }
  });

  it('has defaults that pass their own validators, and names Kafka’s value only where it differs', () => {
    for (const d of [...TOPIC_CONFIG_DEFS, ...BROKER_CONFIGS.values()]) {
      if (d.default !== null && d.validator) expect(d.validator(d.default), d.name).toBeNull();
      if (d.kafkaDefault) {
        expect(d.kafkaDefault.value, d.name).not.toEqual(d.default);
        expect(d.kafkaDefault.reason.length, d.name).toBeGreaterThan(0);
      }
      expect(d.doc.length, d.name).toBeGreaterThan(0);
    }
    for (const b of BROKER_CONFIGS.values()) {
      if (b.kafkaUpdateMode) expect(b.kafkaUpdateMode.value, b.name).not.toBe(b.updateMode);
    }
  });

  it("keeps Samsa's fsync-before-ack default, with Kafka's Long.MAX_VALUE beside it", () => {
    expect(TOPIC_CONFIGS.get('flush.messages')).toMatchObject({
      default: 1n,
      kafkaDefault: { value: LONG_MAX },
    });
    expect(BROKER_CONFIGS.get('log.flush.interval.messages')).toMatchObject({
      default: null,
      kafkaDefault: { value: LONG_MAX },
      type: 'long',
    });
  });

  it("gives Kafka's synonym groups, highest priority first", () => {
    expect(TOPIC_CONFIGS.get('retention.ms')!.synonyms.map((s) => [s.name, s.unit])).toEqual([
      ['log.retention.ms', 'same'],
      ['log.retention.minutes', 'minutes'],
      ['log.retention.hours', 'hours'],
    ]);
    const retention = ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'];
    for (const n of retention) expect(brokerConfigSynonyms(n)).toEqual(retention);
    expect(brokerConfigSynonyms('log.roll.hours')).toEqual(['log.roll.ms', 'log.roll.hours']);
    // log.flush.scheduler.interval.ms supplies flush.ms's default but has no group of its own.
    expect(brokerConfigSynonyms('log.flush.interval.ms')).toEqual([
      'log.flush.interval.ms',
      'log.flush.scheduler.interval.ms',
    ]);
    expect(brokerConfigSynonyms('log.flush.scheduler.interval.ms')).toEqual([
      'log.flush.scheduler.interval.ms',
    ]);
    expect(brokerConfigSynonyms('num.partitions')).toEqual(['num.partitions']);
    expect(brokerConfigSynonyms('no.such.config')).toEqual(['no.such.config']);
  });

  it("describes validators as Kafka's Valid Values column", () => {
    expect(TOPIC_CONFIGS.get('segment.bytes')!.validator!.doc).toBe('[1048576,...]');
    expect(TOPIC_CONFIGS.get('cleanup.policy')!.validator!.doc).toBe('[compact, delete]');
    expect(TOPIC_CONFIGS.get('compression.lz4.level')!.validator!.doc).toBe('[1,...,17]');
    expect(parseConfigValue(TOPIC_CONFIGS.get('compression.gzip.level')!, '0')).toEqual({
      ok: false,
      error: 'Invalid value 0 for configuration compression.gzip.level: Value must be between 1 and 9, or -1',
    });
  });
});

describe('BrokerConfig', () => {
  it('parses values by the registry, longs exact, and falls back to its defaults', () => {
    const c = new BrokerConfig({
      'num.partitions': ' 3 ',
      'log.flush.interval.messages': '9223372036854775807',
      'auto.create.topics.enable': 'FALSE',
      'log.cleanup.policy': 'compact, delete',
    });
    expect(c.int('num.partitions')).toBe(3);
    expect(c.parsed('log.flush.interval.messages')).toBe(LONG_MAX);
    expect(c.bool('auto.create.topics.enable')).toBe(false);
    expect(c.list('log.cleanup.policy')).toEqual(['compact', 'delete']);
    expect(c.int('offsets.topic.num.partitions')).toBe(50);
    expect(c.int('connections.max.idle.ms')).toBe(600000);
    expect(c.list('advertised.listeners')).toEqual([]);
    expect(c.isSet('num.partitions')).toBe(true);
    expect(c.isSet('delete.topic.enable')).toBe(false);
  });

  it("refuses a bad value with Kafka's ConfigException message, ranges and enums included", () => {
    expect(() => new BrokerConfig({ 'node.id': 'one' })).toThrow(
      new ConfigError('Invalid value one for configuration node.id: Not a number of type INT'),
    );
    expect(() => new BrokerConfig({ 'num.partitions': '0' })).toThrow(/Value must be at least 1/);
    expect(() => new BrokerConfig({ 'log.segment.bytes': '1000' })).toThrow(ConfigError);
    expect(() => new BrokerConfig({ 'compression.type': 'brotli' })).toThrow(/String must be one of/);
    expect(() => new BrokerConfig({ 'process.roles': 'broker,observer' })).toThrow(ConfigError);
  });

  it('keeps unknown names aside, each once; names the registry knows (log.cleaner.*) are not unknown', () => {
    const settings = new Map([
      ['zookeeper.connect', 'localhost:2181'],
      ['log.cleaner.delete.retention.ms', '10'],
      ['sasl.jaas.config', 'secret'],
    ]);
    const c = new BrokerConfig(settings);
    expect(c.unknown).toEqual(['zookeeper.connect', 'sasl.jaas.config']);
    expect(c.int('log.cleaner.delete.retention.ms')).toBe(10);
  });

  it('lists the set values that differ from the defaults, in Kafka’s string form', () => {
    const c = new BrokerConfig({
      'num.partitions': '1',
      'log.retention.hours': '2',
      'log.flush.interval.ms': '5',
    });
    expect(loggableConfigs(c.nonDefault())).toEqual({
      'log.retention.hours': '2',
      'log.flush.interval.ms': '5',
    });
  });

  it('redacts password configs in the start-up line', () => {
    const defs = new Map([
      ['a.password', { type: 'password' as const }],
      ['b.int', { type: 'int' as const }],
    ]);
    expect(
      loggableConfigs(
        [
          ['a.password', 'secret'],
          ['b.int', 7],
          ['unknown', 'x'],
        ],
        defs,
      ),
    ).toEqual({ 'a.password': HIDDEN, 'b.int': '7' });
  });
});

describe('listeners and their security protocols', () => {
  const base = { listeners: [], advertisedListeners: [], controllerListenerNames: [] };
  const defaultMap = BROKER_CONFIGS.get('listener.security.protocol.map')!.default as string;
  const resolve = (listeners: string[], more: Partial<Parameters<typeof resolveListeners>[0]> = {}) =>
    resolveListeners({ ...base, securityProtocolMap: defaultMap, listeners, ...more });

  it('accepts PLAINTEXT, and a listener name mapped to PLAINTEXT', () => {
    expect(resolve(['PLAINTEXT://127.0.0.1:9092'])).toEqual([
      { name: 'PLAINTEXT', host: '127.0.0.1', port: 9092, securityProtocol: 'PLAINTEXT' },
    ]);
    expect(
      resolve(['CLIENT://:9092', 'internal://:9093'], {
        securityProtocolMap: 'CLIENT:PLAINTEXT,INTERNAL:plaintext',
      }).map((l) => [l.name, l.securityProtocol]),
    ).toEqual([
      ['CLIENT', 'PLAINTEXT'],
      ['internal', 'PLAINTEXT'],
    ]);
  });

  it('accepts SSL listeners; refuses SASL listeners, naming the listener, on one line', () => {
    expect(resolve(['PLAINTEXT://:9092', 'SSL://:9093']).map((l) => l.securityProtocol)).toEqual([
      'PLAINTEXT',
      'SSL',
    ]);
    for (const p of ['SASL_PLAINTEXT', 'SASL_SSL']) {
      expect(() => resolve([`${p}://127.0.0.1:9093`])).toThrow(
        new ConfigError(
          `listeners: listener ${p}://127.0.0.1:9093 uses security protocol ${p}, which Samsa does not support yet (only PLAINTEXT, SSL)`,
        ),
      );
    }
    expect(() => resolve(['CLIENT://:9092'], { securityProtocolMap: 'CLIENT:SASL_SSL' })).toThrow(
      /listener CLIENT:\/\/:9092 uses security protocol SASL_SSL/,
    );
    // Any listener, not only the first, and the advertised ones too.
    expect(() => resolve(['PLAINTEXT://:9092', 'SASL_SSL://:9093'])).toThrow(/SASL_SSL:\/\/:9093/);
    expect(() => resolve(['PLAINTEXT://:9092'], { advertisedListeners: ['SASL_SSL://h:9093'] })).toThrow(
      /^advertised\.listeners: listener SASL_SSL:\/\/h:9093 uses security protocol SASL_SSL/,
    );
  });

  it("follows Kafka's mapping rules: an unmapped name is an error, a set map replaces the default", () => {
    expect(() => resolve(['CLIENT://:9092'])).toThrow(
      new ConfigError(
        'listeners: no security protocol defined for listener CLIENT (map it in listener.security.protocol.map)',
      ),
    );
    expect(() => resolve(['PLAINTEXT://:9092'], { securityProtocolMap: 'CLIENT:PLAINTEXT' })).toThrow(
      /no security protocol defined for listener PLAINTEXT/,
    );
    // A controller listener absent from the map is PLAINTEXT.
    expect(
      resolve(['PLAINTEXT://:9092', 'CONTROLLER://:9093'], { controllerListenerNames: ['CONTROLLER'] }).map(
        (l) => l.securityProtocol,
      ),
    ).toEqual(['PLAINTEXT', 'PLAINTEXT']);
    expect(() => resolve(['PLAINTEXT://:9092', 'plaintext://:9093'])).toThrow(/different name/);
    // Advertised names must be listeners' names (matched as Kafka does, upper-cased).
    expect(
      resolve(['CLIENT://:9092'], {
        securityProtocolMap: 'CLIENT:PLAINTEXT,EXTERNAL:PLAINTEXT',
        advertisedListeners: ['client://h:9092'],
      }),
    ).toHaveLength(1);
    expect(() =>
      resolve(['CLIENT://:9092'], {
        securityProtocolMap: 'CLIENT:PLAINTEXT,EXTERNAL:PLAINTEXT',
        advertisedListeners: ['EXTERNAL://h:9092'],
      }),
    ).toThrow(
      new ConfigError(
        'advertised.listeners: listener name EXTERNAL is not one of the names in listeners (CLIENT)',
      ),
    );
    expect(() => parseSecurityProtocolMap('CLIENT:TLS')).toThrow(/unknown security protocol TLS/);
    expect(() => parseSecurityProtocolMap('CLIENT')).toThrow(/is not NAME:PROTOCOL/);
  });

  it('is what BrokerConfig.resolveListeners applies to the broker’s settings', () => {
    expect(new BrokerConfig({}).resolveListeners()[0]).toMatchObject({ port: 9092 });
    const c = new BrokerConfig({
      listeners: 'CLIENT://127.0.0.1:0',
      'listener.security.protocol.map': 'CLIENT:SASL_SSL',
    });
    expect(() => c.resolveListeners()).toThrow(/uses security protocol SASL_SSL/);
  });
});

describe("storage's view of topic configs", () => {
  it('validates as the registry says, and reads flush.ms = Long.MAX_VALUE as no timed flush', () => {
    // Regression of the seam between broker and storage: Kafka's "never" spelled out must not
    // select page-cache mode in one path and not the other.
    const c = logConfigFromKafka({ 'flush.ms': '9223372036854775807', 'segment.ms': '9223372036854775807' });
    expect(c).toEqual({ flushMs: null, segmentMs: Number.POSITIVE_INFINITY });
    expect(isPageCacheMode(makeLogConfig(c))).toBe(false);
    expect(() => logConfigFromKafka({ 'segment.bytes': '1000' })).toThrow(
      'Invalid value 1000 for configuration segment.bytes: Value must be at least 1048576',
    );
  });
});
