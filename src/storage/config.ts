// Per-log configuration (Kafka's LogConfig): the topic configs the storage layer reads, in the
// units it uses. The names, types, defaults and validation of those configs are the registry's
// (src/config/registry.ts); LOG_CONFIG_FIELDS below says which topic config feeds which field and
// how its value converts (Kafka's Long.MAX_VALUE "never" sentinels become +Infinity, -1 or null).
//
// One deliberate difference from Kafka: flush.messages / flush.ms are unset by default, which in
// Samsa means "every acknowledgement waits for fdatasync" (see partition-log.ts, the durability
// contract); flush.messages = 1, the registry's default, means the same. A larger flush.messages
// or a flush.ms selects Kafka's page-cache behaviour.

import { TOPIC_CONFIG_DEFS, TOPIC_CONFIGS } from '../config/registry.js';
import { type ParsedValue, parseConfigValue } from '../config/values.js';

export type TimestampTypeName = 'CreateTime' | 'LogAppendTime';
export type CleanupPolicy = 'delete' | 'compact';

export interface LogConfig {
  /** segment.bytes: roll when the active segment would grow past this. */
  readonly segmentBytes: number;
  /** segment.ms: roll when this much time separates the segment's first batch from a new one. */
  readonly segmentMs: number;
  /** segment.index.bytes: roll when the offset or time index reaches this size. */
  readonly segmentIndexBytes: number;
  /** index.interval.bytes: bytes of log between two offset index entries. */
  readonly indexIntervalBytes: number;
  /** retention.ms: -1 keeps forever. */
  readonly retentionMs: number;
  /** retention.bytes: -1 means no size limit. */
  readonly retentionBytes: number;
  /** flush.messages: null = Samsa's fsync-before-ack; a number = page-cache mode, fsync every N. */
  readonly flushMessages: number | null;
  /** flush.ms: null = Samsa's fsync-before-ack; a number = page-cache mode, fsync every N ms. */
  readonly flushMs: number | null;
  /** message.timestamp.type */
  readonly messageTimestampType: TimestampTypeName;
  /** cleanup.policy: retention deletes segments only when it includes 'delete'; the cleaner
   *  compacts the log when it includes 'compact' (both apply with "compact,delete"). */
  readonly cleanupPolicy: readonly CleanupPolicy[];
  /** delete.retention.ms: how long the cleaner keeps a tombstone after it first saw it (KIP-534). */
  readonly deleteRetentionMs: number;
  /** min.compaction.lag.ms: segments holding records younger than this are not compacted yet. */
  readonly minCompactionLagMs: number;
  /** max.compaction.lag.ms: a dirty segment older than this forces a clean (KIP-354); Infinity = never. */
  readonly maxCompactionLagMs: number;
  /** min.cleanable.dirty.ratio: dirty / (clean + dirty) bytes needed before the log is cleaned. */
  readonly minCleanableDirtyRatio: number;
}

export class InvalidLogConfigError extends Error {
  override name = 'InvalidLogConfigError';
}

/** Smallest segment.bytes Kafka accepts (LegacyRecord.RECORD_OVERHEAD_V0 + 1, rounded up here). */
const MIN_SEGMENT_BYTES = 14;

/** Defaults overlaid with `overrides`, validated. */
export function makeLogConfig(...overrides: Array<Partial<LogConfig> | undefined>): LogConfig {
  const c: LogConfig = Object.assign({}, DEFAULT_LOG_CONFIG, ...overrides.filter((o) => o !== undefined));
  // Long-valued configs may be +Infinity (Kafka's Long.MAX_VALUE, "never").
  const isLong = (v: number) => Number.isInteger(v) || v === Number.POSITIVE_INFINITY;
  const positiveInt = (name: string, v: number, min: number) => {
    if (!isLong(v) || v < min) throw new InvalidLogConfigError(`${name} must be an integer >= ${min}`);
  };
  positiveInt('segment.bytes', c.segmentBytes, MIN_SEGMENT_BYTES);
  if (c.segmentBytes > 0x7fffffff) throw new InvalidLogConfigError('segment.bytes must fit an int32');
  positiveInt('segment.ms', c.segmentMs, 1);
  positiveInt('segment.index.bytes', c.segmentIndexBytes, 12);
  if (c.segmentIndexBytes > 0x7fffffff)
    throw new InvalidLogConfigError('segment.index.bytes must fit an int32');
  positiveInt('index.interval.bytes', c.indexIntervalBytes, 0);
  if (!isLong(c.retentionMs) || c.retentionMs < -1)
    throw new InvalidLogConfigError('retention.ms must be -1 or >= 0');
  if (!isLong(c.retentionBytes) || c.retentionBytes < -1)
    throw new InvalidLogConfigError('retention.bytes must be -1 or >= 0');
  if (c.flushMessages !== null && !(c.flushMessages >= 1))
    throw new InvalidLogConfigError('flush.messages must be >= 1');
  if (c.flushMs !== null && !(c.flushMs >= 0)) throw new InvalidLogConfigError('flush.ms must be >= 0');
  if (c.messageTimestampType !== 'CreateTime' && c.messageTimestampType !== 'LogAppendTime')
    throw new InvalidLogConfigError(`message.timestamp.type ${c.messageTimestampType}`);
  positiveInt('delete.retention.ms', c.deleteRetentionMs, 0);
  positiveInt('min.compaction.lag.ms', c.minCompactionLagMs, 0);
  positiveInt('max.compaction.lag.ms', c.maxCompactionLagMs, 1);
  if (!(c.minCleanableDirtyRatio >= 0 && c.minCleanableDirtyRatio <= 1))
    throw new InvalidLogConfigError('min.cleanable.dirty.ratio must be in [0, 1]');
  return Object.freeze(c);
}

/**
 * Whether acknowledgements wait only for the page cache (Kafka's behaviour, chosen by setting
 * flush.messages or flush.ms). flush.messages=1 is Kafka's "fsync every message before
 * acknowledging it", which is exactly Samsa's default, so it stays in fsync mode.
 */
export function isPageCacheMode(c: LogConfig): boolean {
  return (c.flushMessages !== null && c.flushMessages > 1) || c.flushMs !== null;
}

/** Longs at or past 2^53 are Kafka's Long.MAX_VALUE, "never" (JS numbers cannot hold it exactly). */
const NEVER = 2 ** 53;

function long(v: ParsedValue): number {
  return Number(v as bigint | number);
}

/** A long whose "never" is +Infinity. */
function longOrInfinity(v: ParsedValue): number {
  const n = long(v);
  return n >= NEVER ? Number.POSITIVE_INFINITY : n;
}

/** A retention limit whose "never" is -1 (no limit). */
function limit(v: ParsedValue): number {
  const n = long(v);
  return n >= NEVER ? -1 : n;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Which topic config feeds each LogConfig field, and how its parsed value converts. flush.ms at
 * Long.MAX_VALUE (its default) is no timed flush: null, so that it does not select page-cache
 * mode; flush.messages at Long.MAX_VALUE is page-cache mode that never flushes by count.
 */
const LOG_CONFIG_FIELDS: {
  readonly [K in keyof LogConfig]-?: readonly [name: string, convert: (v: ParsedValue) => LogConfig[K]];
} = {
  segmentBytes: ['segment.bytes', long],
  segmentMs: ['segment.ms', longOrInfinity],
  segmentIndexBytes: ['segment.index.bytes', long],
  indexIntervalBytes: ['index.interval.bytes', long],
  retentionMs: ['retention.ms', limit],
  retentionBytes: ['retention.bytes', limit],
  flushMessages: ['flush.messages', longOrInfinity],
  flushMs: ['flush.ms', (v) => (long(v) >= NEVER ? null : long(v))],
  messageTimestampType: ['message.timestamp.type', (v) => v as TimestampTypeName],
  cleanupPolicy: [
    'cleanup.policy',
    (v) =>
      (v as readonly string[])
        .map((p) => p.toLowerCase())
        .filter((p): p is CleanupPolicy => p === 'delete' || p === 'compact'),
  ],
  deleteRetentionMs: ['delete.retention.ms', longOrInfinity],
  minCompactionLagMs: ['min.compaction.lag.ms', longOrInfinity],
  maxCompactionLagMs: ['max.compaction.lag.ms', longOrInfinity],
  minCleanableDirtyRatio: ['min.cleanable.dirty.ratio', (v) => v as number],
};

const FIELDS = Object.entries(LOG_CONFIG_FIELDS) as [
  keyof LogConfig,
  readonly [string, (v: ParsedValue) => unknown],
][];

/**
 * The LogConfig fields given by topic configs in parsed form (a topic's effective values, as
 * metadata's ConfigResolver resolves them). Names the storage layer does not use are ignored.
 */
export function logConfigFromTopicConfigs(values: ReadonlyMap<string, ParsedValue>): Partial<LogConfig> {
  const out: Partial<Mutable<LogConfig>> = {};
  for (const [field, [name, convert]] of FIELDS) {
    const v = values.get(name);
    if (v !== undefined && v !== null) (out as Record<string, unknown>)[field] = convert(v);
  }
  return out;
}

/**
 * Maps Kafka topic config strings to a partial LogConfig, parsed and validated as the registry
 * says (InvalidLogConfigError with Kafka's message otherwise). Names the storage layer does not
 * use are ignored (the broker keeps them for DescribeConfigs).
 */
export function logConfigFromKafka(props: Map<string, string> | Record<string, string>): Partial<LogConfig> {
  const entries = props instanceof Map ? [...props] : Object.entries(props);
  const used = new Set(FIELDS.map(([, [name]]) => name));
  const values = new Map<string, ParsedValue>();
  for (const [name, raw] of entries) {
    if (!used.has(name)) continue;
    const p = parseConfigValue(TOPIC_CONFIGS.get(name)!, raw);
    if (!p.ok) throw new InvalidLogConfigError(p.error);
    values.set(name, p.value);
  }
  return logConfigFromTopicConfigs(values);
}

/**
 * The registry's topic defaults in storage units, except flush.messages / flush.ms: null, the
 * fsync-before-ack mode (which flush.messages = 1 also selects), for a log opened without the
 * broker's config resolution.
 */
export const DEFAULT_LOG_CONFIG: LogConfig = (() => {
  const defaults = logConfigFromTopicConfigs(
    new Map(TOPIC_CONFIG_DEFS.map((d) => [d.name, d.default])),
  ) as LogConfig;
  return Object.freeze({
    ...defaults,
    flushMessages: null,
    flushMs: null,
    cleanupPolicy: Object.freeze([...defaults.cleanupPolicy]),
  });
})();
