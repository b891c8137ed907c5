// Config definitions: Kafka's topic-level configs (LogConfig, Kafka 4.1) with their types,
// defaults, validators and broker synonyms (ServerTopicConfigSynonyms), the broker-level log
// configs those synonyms name (with their own defaults and validators), and the parsing and
// formatting rules of Kafka's ConfigDef (so that values round-trip as a Java broker shows them).
//
// Values in parsed form: int/short/double as number, long as bigint (Long.MAX_VALUE is a common
// "never" sentinel and must survive exactly), boolean, string, list as string[], or null.

import { BROKER_CONFIGS } from '../broker/config.js';

export type ConfigKind =
  | 'boolean'
  | 'string'
  | 'int'
  | 'short'
  | 'long'
  | 'double'
  | 'list'
  | 'class'
  | 'password';
export type ParsedValue = number | bigint | boolean | string | readonly string[] | null;

/** DescribeConfigsResponse.ConfigType ids. */
export const ConfigType = {
  UNKNOWN: 0,
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9,
} as const;

export { ConfigSource } from '../protocol/config-source.js';

export function configTypeId(kind: ConfigKind | undefined): number {
  switch (kind) {
    case 'boolean':
      return ConfigType.BOOLEAN;
    case 'string':
      return ConfigType.STRING;
    case 'int':
      return ConfigType.INT;
    case 'short':
      return ConfigType.SHORT;
    case 'long':
      return ConfigType.LONG;
    case 'double':
      return ConfigType.DOUBLE;
    case 'list':
      return ConfigType.LIST;
    case 'class':
      return ConfigType.CLASS;
    case 'password':
      return ConfigType.PASSWORD;
    default:
      return ConfigType.UNKNOWN;
  }
}

/** A validator returns why a parsed value is invalid (Kafka's ConfigException reason), or null. */
export type Validator = (value: ParsedValue) => string | null;

export interface ConfigKeyDef {
  readonly name: string;
  readonly type: ConfigKind;
  /** Parsed default; null means "no default" (the config is unset unless someone sets it). */
  readonly default: ParsedValue;
  readonly validator?: Validator;
  readonly doc: string;
}

/** How a broker synonym's value converts to the topic config's unit. */
export type SynonymUnit = 'same' | 'minutes' | 'hours';

export interface BrokerSynonym {
  readonly name: string;
  readonly unit: SynonymUnit;
}

export interface TopicConfigDef extends ConfigKeyDef {
  /** Broker configs that supply the topic's default, highest priority first (may be empty). */
  readonly synonyms: readonly BrokerSynonym[];
}

export const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;
const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

// ---- validators (Kafka's ConfigDef.Range, ValidString, ValidList, ...) ----

function num(v: ParsedValue): number | bigint {
  return typeof v === 'bigint' ? v : (v as number);
}

export function atLeast(min: number | bigint): Validator {
  return (v) => (v !== null && num(v) < min ? `Value must be at least ${min}` : null);
}

export function between(min: number | bigint, max: number | bigint): Validator {
  return (v) => {
    if (v === null) return null;
    const n = num(v);
    if (typeof n === 'number' && Number.isNaN(n)) return `Value must be at least ${min}`;
    if (n < min) return `Value must be at least ${min}`;
    if (n > max) return `Value must be no more than ${max}`;
    return null;
  };
}

export function validString(...allowed: string[]): Validator {
  return (v) =>
    v !== null && !allowed.includes(v as string) ? `String must be one of: ${allowed.join(', ')}` : null;
}

export function validList(...allowed: string[]): Validator {
  return (v) => {
    if (v === null) return null;
    for (const s of v as readonly string[]) {
      if (!allowed.includes(s)) return `String must be one of: ${allowed.join(', ')}`;
    }
    return null;
  };
}

/** LogConfig's ThrottledReplicaListValidator: "*" or "partition:broker" pairs. */
const throttledReplicas: Validator = (v) => {
  if (v === null) return null;
  const items = (v as readonly string[]).map((s) => s.trim());
  if (items.every((s) => /^([0-9]+:[0-9]+)?$/.test(s)) || items.join('') === '*') return null;
  return "must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...";
};

/** CompressionType.GZIP.levelValidator: [1..9] or -1 (Deflater.DEFAULT_COMPRESSION). */
const gzipLevel: Validator = (v) => {
  if (v === null) return null;
  const n = v as number;
  return n > 9 || (n < 1 && n !== -1) ? 'Value must be between 1 and 9, or -1' : null;
};

// ---- the topic configs ----

const MINUTE = 60_000n;
const HOUR = 3_600_000n;
const DAY = 24n * HOUR;

const COMPRESSION_TYPES = ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'];

function same(...names: string[]): BrokerSynonym[] {
  return names.map((name) => ({ name, unit: 'same' }));
}

/**
 * Kafka's topic-level configs (Kafka 4.1's LogConfig), in its definition order. Removed in 4.0 and
 * therefore unknown here: message.format.version, message.timestamp.difference.max.ms.
 *
 * Samsa deviation: flush.messages defaults to 1 rather than Long.MAX_VALUE, because Samsa's
 * contract is that an acknowledged write is fsynced (with group commit). A user who wants Kafka's
 * page-cache behaviour sets flush.messages (or log.flush.interval.messages) to a large value.
 */
export const TOPIC_CONFIG_DEFS: readonly TopicConfigDef[] = [
  {
    name: 'segment.bytes',
    type: 'int',
    default: 1073741824,
    validator: atLeast(1024 * 1024),
    synonyms: same('log.segment.bytes'),
    doc: 'The size of a log segment file: a segment is rolled when it would grow past this size.',
  },
  {
    name: 'segment.ms',
    type: 'long',
    default: 7n * DAY,
    validator: atLeast(1n),
    synonyms: [
      { name: 'log.roll.ms', unit: 'same' },
      { name: 'log.roll.hours', unit: 'hours' },
    ],
    doc: 'The time after which a segment is rolled even if it is not full, so that retention can delete or compact old data.',
  },
  {
    name: 'segment.jitter.ms',
    type: 'long',
    default: 0n,
    validator: atLeast(0n),
    synonyms: [
      { name: 'log.roll.jitter.ms', unit: 'same' },
      { name: 'log.roll.jitter.hours', unit: 'hours' },
    ],
    doc: 'The maximum random jitter subtracted from the scheduled segment roll time, to avoid rolling many segments at once.',
  },
  {
    name: 'segment.index.bytes',
    type: 'int',
    default: 10485760,
    validator: atLeast(4),
    synonyms: same('log.index.size.max.bytes'),
    doc: 'The size of the index that maps offsets to file positions; a segment rolls when its index is full.',
  },
  {
    name: 'flush.messages',
    type: 'long',
    default: 1n,
    validator: atLeast(1n),
    synonyms: same('log.flush.interval.messages'),
    doc: 'An interval, in messages, at which the log is fsynced. Samsa defaults to 1: a write is acknowledged only once it is fsynced (writes share fsyncs). Set it high to rely on the page cache, as Kafka does by default.',
  },
  {
    name: 'flush.ms',
    type: 'long',
    default: LONG_MAX,
    validator: atLeast(0n),
    synonyms: [
      { name: 'log.flush.interval.ms', unit: 'same' },
      { name: 'log.flush.scheduler.interval.ms', unit: 'same' },
    ],
    doc: 'A time interval at which the log is fsynced.',
  },
  {
    name: 'retention.bytes',
    type: 'long',
    default: -1n,
    synonyms: same('log.retention.bytes'),
    doc: 'The maximum size a partition can grow to before old segments are discarded (delete policy); -1 means no size limit.',
  },
  {
    name: 'retention.ms',
    type: 'long',
    default: 7n * DAY,
    validator: atLeast(-1n),
    synonyms: [
      { name: 'log.retention.ms', unit: 'same' },
      { name: 'log.retention.minutes', unit: 'minutes' },
      { name: 'log.retention.hours', unit: 'hours' },
    ],
    doc: 'The maximum time a segment is retained before it is discarded (delete policy); -1 means no time limit.',
  },
  {
    name: 'max.message.bytes',
    type: 'int',
    default: 1048588,
    validator: atLeast(0),
    synonyms: same('message.max.bytes'),
    doc: 'The largest record batch size allowed (after compression if compression is enabled).',
  },
  {
    name: 'index.interval.bytes',
    type: 'int',
    default: 4096,
    validator: atLeast(0),
    synonyms: same('log.index.interval.bytes'),
    doc: 'How often, in bytes of log, an entry is added to the offset index.',
  },
  {
    name: 'delete.retention.ms',
    type: 'long',
    default: DAY,
    validator: atLeast(0n),
    synonyms: same('log.cleaner.delete.retention.ms'),
    doc: 'How long delete tombstone markers are retained in compacted topics.',
  },
  {
    name: 'min.compaction.lag.ms',
    type: 'long',
    default: 0n,
    validator: atLeast(0n),
    synonyms: same('log.cleaner.min.compaction.lag.ms'),
    doc: 'The minimum time a message remains uncompacted in the log.',
  },
  {
    name: 'max.compaction.lag.ms',
    type: 'long',
    default: LONG_MAX,
    validator: atLeast(1n),
    synonyms: same('log.cleaner.max.compaction.lag.ms'),
    doc: 'The maximum time a message remains ineligible for compaction in the log.',
  },
  {
    name: 'file.delete.delay.ms',
    type: 'long',
    default: 60000n,
    validator: atLeast(0n),
    synonyms: same('log.segment.delete.delay.ms'),
    doc: 'The time to wait before deleting a file from the filesystem.',
  },
  {
    name: 'min.cleanable.dirty.ratio',
    type: 'double',
    default: 0.5,
    validator: between(0, 1),
    synonyms: same('log.cleaner.min.cleanable.ratio'),
    doc: 'The minimum ratio of dirty log to total log for a log to be eligible for cleaning.',
  },
  {
    name: 'cleanup.policy',
    type: 'list',
    default: ['delete'],
    validator: validList('compact', 'delete'),
    synonyms: same('log.cleanup.policy'),
    doc: 'The retention policy for old log segments: "delete", "compact", or both ("delete,compact").',
  },
  {
    name: 'unclean.leader.election.enable',
    type: 'boolean',
    default: false,
    synonyms: same('unclean.leader.election.enable'),
    doc: 'Whether replicas not in the ISR may be elected leader as a last resort, even though that may lose data.',
  },
  {
    name: 'min.insync.replicas',
    type: 'int',
    default: 1,
    validator: atLeast(1),
    synonyms: same('min.insync.replicas'),
    doc: 'With acks=all, the minimum number of replicas that must acknowledge a write for it to succeed.',
  },
  {
    name: 'compression.type',
    type: 'string',
    default: 'producer',
    validator: validString(...COMPRESSION_TYPES),
    synonyms: same('compression.type'),
    doc: "The final compression type for the topic: 'gzip', 'snappy', 'lz4', 'zstd', 'uncompressed', or 'producer' to keep the producer's codec.",
  },
  {
    name: 'compression.gzip.level',
    type: 'int',
    default: -1,
    validator: gzipLevel,
    synonyms: same('compression.gzip.level'),
    doc: 'The compression level to use if compression.type is set to gzip.',
  },
  {
    name: 'compression.lz4.level',
    type: 'int',
    default: 9,
    validator: between(1, 17),
    synonyms: same('compression.lz4.level'),
    doc: 'The compression level to use if compression.type is set to lz4.',
  },
  {
    name: 'compression.zstd.level',
    type: 'int',
    default: 3,
    validator: between(-131072, 22),
    synonyms: same('compression.zstd.level'),
    doc: 'The compression level to use if compression.type is set to zstd.',
  },
  {
    name: 'preallocate',
    type: 'boolean',
    default: false,
    synonyms: same('log.preallocate'),
    doc: 'Whether a new log segment file is preallocated on disk.',
  },
  {
    name: 'message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    validator: validString('CreateTime', 'LogAppendTime'),
    synonyms: same('log.message.timestamp.type'),
    doc: 'Whether record timestamps are the producer\'s create time or the broker\'s log append time: "CreateTime" or "LogAppendTime".',
  },
  {
    name: 'message.timestamp.before.max.ms',
    type: 'long',
    default: LONG_MAX,
    validator: atLeast(0n),
    synonyms: same('log.message.timestamp.before.max.ms'),
    doc: "The largest allowed difference by which a record's timestamp may be earlier than the broker's time (CreateTime).",
  },
  {
    name: 'message.timestamp.after.max.ms',
    type: 'long',
    default: 3600000n,
    validator: atLeast(0n),
    synonyms: same('log.message.timestamp.after.max.ms'),
    doc: "The largest allowed difference by which a record's timestamp may be later than the broker's time (CreateTime).",
  },
  {
    name: 'message.downconversion.enable',
    type: 'boolean',
    default: true,
    synonyms: same('log.message.downconversion.enable'),
    doc: 'Deprecated and without effect since Kafka 4.0 (no down-conversion); accepted for compatibility.',
  },
  {
    name: 'leader.replication.throttled.replicas',
    type: 'list',
    default: [],
    validator: throttledReplicas,
    synonyms: [],
    doc: "Replicas whose replication is throttled on the leader side, as [PartitionId]:[BrokerId] pairs or '*'.",
  },
  {
    name: 'follower.replication.throttled.replicas',
    type: 'list',
    default: [],
    validator: throttledReplicas,
    synonyms: [],
    doc: "Replicas whose replication is throttled on the follower side, as [PartitionId]:[BrokerId] pairs or '*'.",
  },
  {
    name: 'remote.storage.enable',
    type: 'boolean',
    default: false,
    synonyms: [],
    doc: 'Whether tiered storage is enabled for the topic (Samsa has no tiered storage: only false is accepted).',
  },
  {
    name: 'local.retention.ms',
    type: 'long',
    default: -2n,
    validator: atLeast(-2n),
    synonyms: same('log.local.retention.ms'),
    doc: 'With tiered storage, how long segments are kept locally; -2 means retention.ms.',
  },
  {
    name: 'local.retention.bytes',
    type: 'long',
    default: -2n,
    validator: atLeast(-2n),
    synonyms: same('log.local.retention.bytes'),
    doc: 'With tiered storage, how many bytes are kept locally per partition; -2 means retention.bytes.',
  },
  {
    name: 'remote.log.copy.disable',
    type: 'boolean',
    default: false,
    synonyms: [],
    doc: 'With tiered storage, stops copying segments to remote storage.',
  },
  {
    name: 'remote.log.delete.on.disable',
    type: 'boolean',
    default: false,
    synonyms: [],
    doc: 'With tiered storage, deletes remote data when tiered storage is disabled for the topic.',
  },
];

export const TOPIC_CONFIGS: ReadonlyMap<string, TopicConfigDef> = new Map(
  TOPIC_CONFIG_DEFS.map((d) => [d.name, d]),
);

// ---- broker configs ----

/**
 * The broker configs that are synonyms of topic configs (Kafka's KafkaConfig/ServerLogConfigs
 * definitions). These are the broker configs Samsa changes dynamically (IncrementalAlterConfigs on
 * a BROKER resource), as Kafka's DynamicLogConfig does. Defaults are Kafka's, except where Samsa's
 * BrokerConfig defines the name: its default wins (e.g. log.flush.interval.messages is unset).
 */
const BROKER_LOG_CONFIG_DEFS: readonly ConfigKeyDef[] = [
  { name: 'log.segment.bytes', type: 'int', default: 1073741824, validator: atLeast(1024 * 1024), doc: '' },
  { name: 'log.roll.ms', type: 'long', default: null, doc: '' },
  { name: 'log.roll.hours', type: 'int', default: 168, validator: atLeast(1), doc: '' },
  { name: 'log.roll.jitter.ms', type: 'long', default: null, doc: '' },
  { name: 'log.roll.jitter.hours', type: 'int', default: 0, validator: atLeast(0), doc: '' },
  { name: 'log.index.size.max.bytes', type: 'int', default: 10485760, validator: atLeast(4), doc: '' },
  { name: 'log.flush.interval.messages', type: 'long', default: LONG_MAX, validator: atLeast(1n), doc: '' },
  { name: 'log.flush.interval.ms', type: 'long', default: null, doc: '' },
  { name: 'log.flush.scheduler.interval.ms', type: 'long', default: LONG_MAX, doc: '' },
  { name: 'log.retention.bytes', type: 'long', default: -1n, doc: '' },
  { name: 'log.retention.ms', type: 'long', default: null, doc: '' },
  { name: 'log.retention.minutes', type: 'int', default: null, doc: '' },
  { name: 'log.retention.hours', type: 'int', default: 168, doc: '' },
  { name: 'message.max.bytes', type: 'int', default: 1048588, validator: atLeast(0), doc: '' },
  { name: 'log.index.interval.bytes', type: 'int', default: 4096, validator: atLeast(0), doc: '' },
  { name: 'log.cleaner.delete.retention.ms', type: 'long', default: DAY, validator: atLeast(0n), doc: '' },
  { name: 'log.cleaner.min.compaction.lag.ms', type: 'long', default: 0n, validator: atLeast(0n), doc: '' },
  {
    name: 'log.cleaner.max.compaction.lag.ms',
    type: 'long',
    default: LONG_MAX,
    validator: atLeast(1n),
    doc: '',
  },
  { name: 'log.segment.delete.delay.ms', type: 'long', default: 60000n, validator: atLeast(0n), doc: '' },
  {
    name: 'log.cleaner.min.cleanable.ratio',
    type: 'double',
    default: 0.5,
    validator: between(0, 1),
    doc: '',
  },
  {
    name: 'log.cleanup.policy',
    type: 'list',
    default: ['delete'],
    validator: validList('compact', 'delete'),
    doc: '',
  },
  { name: 'unclean.leader.election.enable', type: 'boolean', default: false, doc: '' },
  { name: 'min.insync.replicas', type: 'int', default: 1, validator: atLeast(1), doc: '' },
  {
    name: 'compression.type',
    type: 'string',
    default: 'producer',
    validator: validString(...COMPRESSION_TYPES),
    doc: '',
  },
  { name: 'compression.gzip.level', type: 'int', default: -1, validator: gzipLevel, doc: '' },
  { name: 'compression.lz4.level', type: 'int', default: 9, validator: between(1, 17), doc: '' },
  { name: 'compression.zstd.level', type: 'int', default: 3, validator: between(-131072, 22), doc: '' },
  { name: 'log.preallocate', type: 'boolean', default: false, doc: '' },
  {
    name: 'log.message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    validator: validString('CreateTime', 'LogAppendTime'),
    doc: '',
  },
  {
    name: 'log.message.timestamp.before.max.ms',
    type: 'long',
    default: LONG_MAX,
    validator: atLeast(0n),
    doc: '',
  },
  {
    name: 'log.message.timestamp.after.max.ms',
    type: 'long',
    default: 3600000n,
    validator: atLeast(0n),
    doc: '',
  },
  { name: 'log.message.downconversion.enable', type: 'boolean', default: true, doc: '' },
  { name: 'log.local.retention.ms', type: 'long', default: -2n, validator: atLeast(-2n), doc: '' },
  { name: 'log.local.retention.bytes', type: 'long', default: -2n, validator: atLeast(-2n), doc: '' },
];

function fromBrokerConfigDefault(type: ConfigKind, v: unknown): ParsedValue {
  if (v === null || v === undefined) return null;
  if (type === 'long' && typeof v === 'number') return BigInt(Math.trunc(v));
  if (Array.isArray(v)) return [...(v as string[])];
  return v as ParsedValue;
}

function brokerDocFor(name: string): string {
  const topic = TOPIC_CONFIG_DEFS.find((t) => t.synonyms.some((s) => s.name === name));
  return topic ? `The broker default for the topic config ${topic.name}. ${topic.doc}` : '';
}

/**
 * Every broker config Samsa knows: BrokerConfig's own, and the log configs above. Each carries a
 * `dynamic` flag: whether IncrementalAlterConfigs/AlterConfigs may change it on a BROKER resource.
 */
export interface BrokerConfigKeyDef extends ConfigKeyDef {
  readonly dynamic: boolean;
}

export const BROKER_CONFIG_KEYS: ReadonlyMap<string, BrokerConfigKeyDef> = (() => {
  const out = new Map<string, BrokerConfigKeyDef>();
  for (const d of BROKER_CONFIGS) {
    out.set(d.name, {
      name: d.name,
      type: d.type,
      default: fromBrokerConfigDefault(d.type, d.default),
      doc: d.doc,
      dynamic: false,
    });
  }
  for (const d of BROKER_LOG_CONFIG_DEFS) {
    const samsa = out.get(d.name);
    out.set(d.name, {
      ...d,
      default: samsa ? samsa.default : d.default,
      doc: samsa?.doc || brokerDocFor(d.name),
      dynamic: true,
    });
  }
  return out;
})();

/**
 * Groups of broker configs that are synonyms of each other (Kafka's
 * DynamicBrokerConfig.brokerConfigSynonyms), highest priority first.
 */
export function brokerConfigSynonyms(name: string): string[] {
  switch (name) {
    case 'log.roll.ms':
    case 'log.roll.hours':
      return ['log.roll.ms', 'log.roll.hours'];
    case 'log.roll.jitter.ms':
    case 'log.roll.jitter.hours':
      return ['log.roll.jitter.ms', 'log.roll.jitter.hours'];
    case 'log.flush.interval.ms':
      return ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'];
    case 'log.retention.ms':
    case 'log.retention.minutes':
    case 'log.retention.hours':
      return ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'];
    default:
      return [name];
  }
}

// ---- parsing and formatting (Kafka's ConfigDef.parseType / convertToString) ----

export type ParseResult = { ok: true; value: ParsedValue } | { ok: false; error: string };

const INTEGER = /^[+-]?\d+$/;
const DOUBLE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/;

/** ConfigException's message. */
function invalid(name: string, raw: string, reason: string): ParseResult {
  return { ok: false, error: `Invalid value ${raw} for configuration ${name}: ${reason}` };
}

/** Parses a string value as Kafka does (trimmed; lists split on commas), then validates it. */
export function parseConfigValue(def: ConfigKeyDef, raw: string): ParseResult {
  const s = raw.trim();
  let value: ParsedValue;
  switch (def.type) {
    case 'boolean': {
      const l = s.toLowerCase();
      if (l !== 'true' && l !== 'false')
        return invalid(def.name, raw, 'Expected value to be either true or false');
      value = l === 'true';
      break;
    }
    case 'int':
    case 'short': {
      if (!INTEGER.test(s)) return invalid(def.name, raw, `Not a number of type ${def.type.toUpperCase()}`);
      const n = Number(s);
      const [lo, hi] = def.type === 'int' ? [INT_MIN, INT_MAX] : [-32768, 32767];
      if (n < lo || n > hi) return invalid(def.name, raw, `Not a number of type ${def.type.toUpperCase()}`);
      value = n;
      break;
    }
    case 'long': {
      if (!INTEGER.test(s)) return invalid(def.name, raw, 'Not a number of type LONG');
      const n = BigInt(s);
      if (n < LONG_MIN || n > LONG_MAX) return invalid(def.name, raw, 'Not a number of type LONG');
      value = n;
      break;
    }
    case 'double': {
      let n: number;
      if (DOUBLE.test(s)) n = Number.parseFloat(s);
      else if (/^[+-]?Infinity$/.test(s)) n = s.startsWith('-') ? -Infinity : Infinity;
      else return invalid(def.name, raw, 'Not a number of type DOUBLE');
      value = n;
      break;
    }
    case 'list':
      value = s === '' ? [] : s.split(/\s*,\s*/);
      break;
    default:
      value = s;
  }
  const reason = def.validator?.(value);
  if (reason) return invalid(def.name, raw, reason);
  return { ok: true, value };
}

/** Java's Double.toString, which is how a Kafka broker renders DOUBLE configs ("0.5", "1.0"). */
export function javaDoubleToString(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [m, e] = x.toExponential().split('e');
  return `${m.includes('.') ? m : `${m}.0`}E${Number(e)}`;
}

/** ConfigDef.convertToString: the form DescribeConfigs reports. */
export function formatConfigValue(type: ConfigKind, value: ParsedValue): string | null {
  if (value === null) return null;
  if (type === 'double') return javaDoubleToString(value as number);
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** A parsed value converted from a broker synonym's unit to the topic config's (hours → ms, ...). */
export function convertSynonymValue(value: ParsedValue, unit: SynonymUnit): ParsedValue {
  if (unit === 'same' || value === null) return value;
  const n = BigInt(value as number | bigint);
  return unit === 'hours' ? n * HOUR : n * MINUTE;
}
