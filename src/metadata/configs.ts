// Config resolution and DescribeConfigs: how a topic's effective config is found (topic override,
// then the broker synonyms in priority order: per-broker dynamic > cluster-default dynamic > static
// (server.properties) > the broker config's default, then the topic config's own default), how
// DescribeConfigs reports each value with its source and synonyms (Kafka's ConfigHelper, quirks
// included), and how new topic and broker configs are validated.

import type { BrokerConfig } from '../config/broker-config.js';
import {
  BROKER_CONFIGS,
  brokerConfigSynonyms,
  type ConfigKeyDef,
  TOPIC_CONFIG_DEFS,
  TOPIC_CONFIGS,
  type TopicConfigDef,
} from '../config/registry.js';
import {
  configTypeId,
  convertSynonymString,
  convertSynonymValue,
  formatConfigValue,
  type ParsedValue,
  parseConfigValue,
} from '../config/values.js';
import { ConfigSource } from '../protocol/config-source.js';
import { ErrorCode } from '../protocol/errors.js';
import type { CreateTopicsResponse, DescribeConfigsResponse } from '../protocol/generated/index.js';
import type { MetadataImage } from './image.js';
import { ConfigResourceType } from './records.js';

/** Broker configs the operator set (server.properties, --override), as strings by Kafka name. */
export type StaticBrokerConfigs = ReadonlyMap<string, string>;

/**
 * The static broker configs for DescribeConfigs and topic defaults: every config `config` says the
 * user set (in Kafka's string form), plus `raw` properties (the parsed server.properties and
 * overrides), which also carry the names the registry does not know: DescribeConfigs lists them
 * (as sensitive), as Kafka does. A raw value wins over the formatted one.
 */
export function staticBrokerConfigsFrom(
  config: BrokerConfig,
  raw?: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
): StaticBrokerConfigs {
  const out = new Map<string, string>();
  for (const [name, v] of config.setValues()) {
    const s = formatConfigValue(BROKER_CONFIGS.get(name)!.type, v);
    if (s !== null) out.set(name, s);
  }
  if (raw) {
    const entries = raw instanceof Map ? [...raw] : Object.entries(raw as Record<string, string>);
    for (const [k, v] of entries) out.set(k, v.trim());
  }
  return out;
}

/** An error to report for one resource or topic: Kafka error code and message. */
export interface ApiError {
  readonly code: number;
  readonly message: string | null;
}

/**
 * The effective log config of a topic, as the storage layer uses it. Longs are numbers; values of
 * 2^53 and more (Long.MAX_VALUE, Kafka's "never") are approximate and mean "never".
 */
export interface TopicLogConfig {
  readonly segmentBytes: number;
  readonly segmentMs: number;
  readonly segmentJitterMs: number;
  readonly segmentIndexBytes: number;
  readonly flushMessages: number;
  readonly flushMs: number;
  readonly retentionBytes: number;
  readonly retentionMs: number;
  readonly maxMessageBytes: number;
  readonly indexIntervalBytes: number;
  readonly deleteRetentionMs: number;
  readonly minCompactionLagMs: number;
  readonly maxCompactionLagMs: number;
  readonly fileDeleteDelayMs: number;
  readonly minCleanableDirtyRatio: number;
  readonly cleanupPolicy: readonly string[];
  /** cleanup.policy contains "compact". */
  readonly compact: boolean;
  /** cleanup.policy contains "delete". */
  readonly delete: boolean;
  readonly uncleanLeaderElectionEnable: boolean;
  readonly minInsyncReplicas: number;
  readonly compressionType: 'uncompressed' | 'zstd' | 'lz4' | 'snappy' | 'gzip' | 'producer';
  readonly compressionGzipLevel: number;
  readonly compressionLz4Level: number;
  readonly compressionZstdLevel: number;
  readonly preallocate: boolean;
  readonly messageTimestampType: 'CreateTime' | 'LogAppendTime';
  readonly messageTimestampBeforeMaxMs: number;
  readonly messageTimestampAfterMaxMs: number;
  readonly remoteStorageEnable: boolean;
  /** Every topic config by Kafka name, in parsed form (longs as bigint, exact). */
  readonly values: ReadonlyMap<string, ParsedValue>;
}

type DescribeEntry = DescribeConfigsResponse.DescribeConfigsResourceResult;
type DescribeSynonym = DescribeConfigsResponse.DescribeConfigsSynonym;

function n(v: ParsedValue): number {
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

/** Kafka's KafkaConfig.maybeSensitive: unknown configs and passwords are never shown. */
function isSensitive(def: ConfigKeyDef | undefined): boolean {
  return def === undefined || def.type === 'password';
}

/**
 * Resolves configs against one metadata image, the broker's static configs and its node id. Cheap
 * to create; holds no state of its own.
 */
export class ConfigResolver {
  constructor(
    private readonly image: MetadataImage,
    private readonly staticConfigs: StaticBrokerConfigs,
    private readonly nodeId: number,
  ) {}

  /** Per-broker dynamic configs of this node (ConfigRecords on BROKER "<nodeId>"). */
  private dynamicBroker(): ReadonlyMap<string, string> {
    return this.image.configs(ConfigResourceType.BROKER, String(this.nodeId));
  }

  /** Cluster-wide dynamic default configs (ConfigRecords on BROKER ""). */
  private dynamicDefault(): ReadonlyMap<string, string> {
    return this.image.configs(ConfigResourceType.BROKER, '');
  }

  /** A broker config's value, parsed: the first valid of dynamic, cluster default, static, default. */
  brokerValue(name: string): ParsedValue {
    const def = BROKER_CONFIGS.get(name);
    for (const source of [this.dynamicBroker(), this.dynamicDefault(), this.staticConfigs]) {
      const raw = source.get(name);
      if (raw === undefined) continue;
      if (!def) return raw;
      const p = parseConfigValue(def, raw);
      if (p.ok) return p.value;
    }
    return def ? def.default : null;
  }

  /** One topic config's effective value given the topic's overrides (KafkaConfig + LogConfig). */
  topicValue(def: TopicConfigDef, overrides: ReadonlyMap<string, string>): ParsedValue {
    const raw = overrides.get(def.name);
    if (raw !== undefined) {
      const p = parseConfigValue(def, raw);
      if (p.ok) return p.value;
    }
    for (const syn of def.synonyms) {
      const v = this.brokerValue(syn.name);
      if (v !== null) return convertSynonymValue(v, syn.unit);
    }
    return def.default;
  }

  /**
   * A topic's effective config (topic override → broker config → default). `topic` is a topic
   * name (its overrides come from the image) or the overrides themselves (a topic being created).
   */
  effectiveTopicConfig(topic: string | ReadonlyMap<string, string>): TopicLogConfig {
    const overrides = typeof topic === 'string' ? this.image.topicConfigs(topic) : topic;
    const values = new Map<string, ParsedValue>();
    for (const def of TOPIC_CONFIG_DEFS) values.set(def.name, this.topicValue(def, overrides));
    const v = (name: string) => values.get(name) as ParsedValue;
    const cleanupPolicy = (v('cleanup.policy') as readonly string[]).map((s) => s.toLowerCase());
    return {
      segmentBytes: n(v('segment.bytes')),
      segmentMs: n(v('segment.ms')),
      segmentJitterMs: n(v('segment.jitter.ms')),
      segmentIndexBytes: n(v('segment.index.bytes')),
      flushMessages: n(v('flush.messages')),
      flushMs: n(v('flush.ms')),
      retentionBytes: n(v('retention.bytes')),
      retentionMs: n(v('retention.ms')),
      maxMessageBytes: n(v('max.message.bytes')),
      indexIntervalBytes: n(v('index.interval.bytes')),
      deleteRetentionMs: n(v('delete.retention.ms')),
      minCompactionLagMs: n(v('min.compaction.lag.ms')),
      maxCompactionLagMs: n(v('max.compaction.lag.ms')),
      fileDeleteDelayMs: n(v('file.delete.delay.ms')),
      minCleanableDirtyRatio: n(v('min.cleanable.dirty.ratio')),
      cleanupPolicy,
      compact: cleanupPolicy.includes('compact'),
      delete: cleanupPolicy.includes('delete'),
      uncleanLeaderElectionEnable: v('unclean.leader.election.enable') as boolean,
      minInsyncReplicas: n(v('min.insync.replicas')),
      compressionType: v('compression.type') as TopicLogConfig['compressionType'],
      compressionGzipLevel: n(v('compression.gzip.level')),
      compressionLz4Level: n(v('compression.lz4.level')),
      compressionZstdLevel: n(v('compression.zstd.level')),
      preallocate: v('preallocate') as boolean,
      messageTimestampType: v('message.timestamp.type') as TopicLogConfig['messageTimestampType'],
      messageTimestampBeforeMaxMs: n(v('message.timestamp.before.max.ms')),
      messageTimestampAfterMaxMs: n(v('message.timestamp.after.max.ms')),
      remoteStorageEnable: v('remote.storage.enable') as boolean,
      values,
    };
  }

  // ---- validation ----

  /**
   * Validates a topic's full set of overrides after a change (Kafka's LogConfig.validate, as the
   * controller runs it): no nulls, known names, values of the right type and range, and the
   * constraints between configs. Returns null when valid.
   */
  validateTopicConfigs(configs: ReadonlyMap<string, string | null>): ApiError | null {
    const nulls = [...configs].filter(([, v]) => v === null).map(([k]) => k);
    if (nulls.length > 0) {
      return {
        code: ErrorCode.INVALID_CONFIG,
        message: `Null value not supported for topic configs: ${nulls.join(',')}`,
      };
    }
    for (const name of configs.keys()) {
      if (!TOPIC_CONFIGS.has(name))
        return { code: ErrorCode.INVALID_CONFIG, message: `Unknown topic config name: ${name}` };
    }
    for (const [name, raw] of configs) {
      const p = parseConfigValue(TOPIC_CONFIGS.get(name)!, raw as string);
      if (!p.ok) return { code: ErrorCode.INVALID_CONFIG, message: p.error };
    }
    const overrides = configs as ReadonlyMap<string, string>;
    const minLag = this.topicValue(TOPIC_CONFIGS.get('min.compaction.lag.ms')!, overrides) as bigint;
    const maxLag = this.topicValue(TOPIC_CONFIGS.get('max.compaction.lag.ms')!, overrides) as bigint;
    if (minLag > maxLag) {
      return {
        code: ErrorCode.INVALID_CONFIG,
        message: `conflict topic config setting min.compaction.lag.ms (${minLag}) > max.compaction.lag.ms (${maxLag})`,
      };
    }
    if (this.topicValue(TOPIC_CONFIGS.get('remote.storage.enable')!, overrides) === true) {
      return {
        code: ErrorCode.INVALID_CONFIG,
        message:
          'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.',
      };
    }
    return null;
  }

  /**
   * Validates a change to dynamic broker configs (Kafka's DynamicBrokerConfig.validate, reported as
   * INVALID_REQUEST as Kafka does, KAFKA-13609). Null values are deletions. Names Samsa does not
   * know are accepted and kept, as Kafka keeps them.
   */
  validateBrokerConfigChange(changes: ReadonlyMap<string, string | null>): ApiError | null {
    const nonDynamic = [...changes.keys()].filter((k) => BROKER_CONFIGS.get(k)?.dynamic === false);
    if (nonDynamic.length > 0) {
      return {
        code: ErrorCode.INVALID_REQUEST,
        message: `Cannot update these configs dynamically: Set(${nonDynamic.join(', ')})`,
      };
    }
    for (const [name, raw] of changes) {
      const def = BROKER_CONFIGS.get(name);
      if (!def || raw === null) continue;
      const p = parseConfigValue(def, raw);
      if (!p.ok) return { code: ErrorCode.INVALID_REQUEST, message: p.error };
    }
    return null;
  }

  // ---- DescribeConfigs ----

  /**
   * Kafka's ConfigHelper.configSynonyms: each source in priority order, each synonym in order, then
   * everything before the first entry named `name` dropped. (So retention.ms shows no synonyms
   * while log.retention.ms is unset, even though log.retention.hours supplies the value: Kafka does
   * the same.)
   */
  private configSynonyms(name: string, synonyms: readonly string[], sensitive: boolean): DescribeSynonym[] {
    const out: DescribeSynonym[] = [];
    const defaults = new Map<string, string>();
    for (const s of synonyms) {
      const def = BROKER_CONFIGS.get(s);
      const v = def ? formatConfigValue(def.type, def.default) : null;
      if (v !== null) defaults.set(s, v);
    }
    const sources: [ReadonlyMap<string, string>, number][] = [
      [this.dynamicBroker(), ConfigSource.DYNAMIC_BROKER_CONFIG],
      [this.dynamicDefault(), ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
      [this.staticConfigs, ConfigSource.STATIC_BROKER_CONFIG],
      [defaults, ConfigSource.DEFAULT_CONFIG],
    ];
    for (const [map, source] of sources) {
      for (const s of synonyms) {
        const v = map.get(s);
        if (v !== undefined) out.push({ name: s, value: sensitive ? null : v, source });
      }
    }
    const first = out.findIndex((s) => s.name === name);
    return first < 0 ? [] : out.slice(first);
  }

  /** Every config of a topic, as DescribeConfigs reports it (ConfigHelper.createTopicConfigEntry). */
  describeTopic(topic: string, includeSynonyms: boolean, includeDocumentation: boolean): DescribeEntry[] {
    const overrides = this.image.topicConfigs(topic);
    const out: DescribeEntry[] = [];
    for (const def of [...TOPIC_CONFIG_DEFS].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const sensitive = isSensitive(def);
      const value = sensitive ? null : formatConfigValue(def.type, this.topicValue(def, overrides));
      const all =
        def.synonyms.length > 0
          ? this.configSynonyms(
              def.synonyms[0].name,
              def.synonyms.map((s) => s.name),
              sensitive,
            )
          : [];
      if (overrides.has(def.name))
        all.unshift({ name: def.name, value, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
      const source = all.length > 0 ? all[0].source : ConfigSource.DEFAULT_CONFIG;
      out.push({
        name: def.name,
        value,
        readOnly: false,
        isDefault: source === ConfigSource.DEFAULT_CONFIG,
        configSource: source,
        isSensitive: sensitive,
        synonyms: includeSynonyms ? all : [],
        configType: configTypeId(def.type),
        documentation: includeDocumentation ? def.doc : null,
      });
    }
    return out;
  }

  /**
   * A broker's configs (resourceName "<nodeId>": every config with its effective value), or the
   * cluster-wide dynamic defaults (resourceName ""), as ConfigHelper.createBrokerConfigEntry.
   */
  describeBroker(
    perBroker: boolean,
    includeSynonyms: boolean,
    includeDocumentation: boolean,
  ): DescribeEntry[] {
    const names = new Set<string>(perBroker ? BROKER_CONFIGS.keys() : []);
    if (perBroker) {
      for (const k of this.dynamicBroker().keys()) names.add(k);
      for (const k of this.staticConfigs.keys()) names.add(k);
    }
    for (const k of this.dynamicDefault().keys()) names.add(k);
    const out: DescribeEntry[] = [];
    for (const name of [...names].sort()) {
      const def = BROKER_CONFIGS.get(name);
      const sensitive = isSensitive(def);
      const all = this.configSynonyms(name, brokerConfigSynonyms(name), sensitive).filter(
        (s) => perBroker || s.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
      );
      let value: string | null;
      if (sensitive) value = null;
      else if (perBroker)
        value = def ? formatConfigValue(def.type, this.brokerValue(name)) : (all[0]?.value ?? null);
      else value = this.dynamicDefault().get(name) ?? null;
      const source = all.length > 0 ? all[0].source : ConfigSource.DEFAULT_CONFIG;
      out.push({
        name,
        value,
        readOnly: !def?.dynamic,
        isDefault: source === ConfigSource.DEFAULT_CONFIG,
        configSource: source,
        isSensitive: sensitive,
        synonyms: includeSynonyms ? all : [],
        configType: configTypeId(def?.type),
        documentation: includeDocumentation ? (def?.doc ?? null) : null,
      });
    }
    return out;
  }

  /**
   * The configs a CreateTopics v5+ response carries for a new topic, sorted by name. This is the
   * controller's resolution (KafkaConfigSchema.resolveEffectiveTopicConfigs), which differs from
   * DescribeConfigs': source by source (topic, per-broker dynamic, cluster dynamic, static), each
   * across the synonyms, and the topic config's own default last.
   */
  createTopicConfigs(
    creationConfigs: ReadonlyMap<string, string>,
  ): CreateTopicsResponse.CreatableTopicConfigs[] {
    const out: CreateTopicsResponse.CreatableTopicConfigs[] = [];
    for (const def of [...TOPIC_CONFIG_DEFS].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      let value: string | null = null;
      let source: number = ConfigSource.DEFAULT_CONFIG;
      const raw = creationConfigs.get(def.name);
      if (raw !== undefined) {
        value = raw;
        source = ConfigSource.DYNAMIC_TOPIC_CONFIG;
      } else {
        found: for (const [map, src] of [
          [this.dynamicBroker(), ConfigSource.DYNAMIC_BROKER_CONFIG],
          [this.dynamicDefault(), ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
          [this.staticConfigs, ConfigSource.STATIC_BROKER_CONFIG],
        ] as const) {
          for (const syn of def.synonyms) {
            const v = map.get(syn.name);
            if (v === undefined) continue;
            value = convertSynonymString(v, syn.unit);
            source = src;
            break found;
          }
        }
        if (source === ConfigSource.DEFAULT_CONFIG) value = formatConfigValue(def.type, def.default);
      }
      const sensitive = isSensitive(def);
      out.push({
        name: def.name,
        value: sensitive ? null : value,
        readOnly: false,
        configSource: source,
        isSensitive: sensitive,
      });
    }
    return out;
  }
}
