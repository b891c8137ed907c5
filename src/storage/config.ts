// Per-log configuration (Kafka's LogConfig): the topic-level configs the storage layer reads, with
// Kafka's defaults, and the mapping from Kafka's config names so the broker can pass topic configs
// straight through.
//
// One deliberate difference from Kafka: flush.messages / flush.ms are unset by default, which in
// Samsa means "every acknowledgement waits for fdatasync" (see partition-log.ts, the durability
// contract). Setting either one selects Kafka's page-cache behaviour.

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

const DAY = 24 * 3_600_000;

export const DEFAULT_LOG_CONFIG: LogConfig = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * DAY,
  segmentIndexBytes: 10 * 1024 * 1024,
  indexIntervalBytes: 4096,
  retentionMs: 7 * DAY,
  retentionBytes: -1,
  flushMessages: null,
  flushMs: null,
  messageTimestampType: 'CreateTime',
  cleanupPolicy: Object.freeze(['delete'] as CleanupPolicy[]),
  deleteRetentionMs: DAY,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.POSITIVE_INFINITY,
  minCleanableDirtyRatio: 0.5,
});

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

/** Kafka's Long.MAX_VALUE defaults: "never" for flush.*, which JS numbers cannot hold exactly. */
function parseLong(name: string, raw: string): number {
  const s = raw.trim();
  if (!/^-?\d+$/.test(s)) throw new InvalidLogConfigError(`${name}: "${raw}" is not an integer`);
  const n = Number(s);
  return n >= Number.MAX_SAFE_INTEGER ? Number.POSITIVE_INFINITY : n;
}

/**
 * Maps Kafka topic config names to a partial LogConfig. Names the storage layer does not use are
 * ignored (the broker keeps them for DescribeConfigs).
 */
export function logConfigFromKafka(props: Map<string, string> | Record<string, string>): Partial<LogConfig> {
  const entries = props instanceof Map ? [...props] : Object.entries(props);
  const out: { -readonly [K in keyof LogConfig]?: LogConfig[K] } = {};
  for (const [name, raw] of entries) {
    switch (name) {
      case 'segment.bytes':
        out.segmentBytes = parseLong(name, raw);
        break;
      case 'segment.ms':
        out.segmentMs = parseLong(name, raw);
        break;
      case 'segment.index.bytes':
        out.segmentIndexBytes = parseLong(name, raw);
        break;
      case 'index.interval.bytes':
        out.indexIntervalBytes = parseLong(name, raw);
        break;
      case 'retention.ms':
        out.retentionMs = parseLong(name, raw);
        break;
      case 'retention.bytes':
        out.retentionBytes = parseLong(name, raw);
        break;
      case 'flush.messages':
        out.flushMessages = parseLong(name, raw);
        break;
      case 'flush.ms':
        out.flushMs = parseLong(name, raw);
        break;
      case 'message.timestamp.type':
        if (raw !== 'CreateTime' && raw !== 'LogAppendTime')
          throw new InvalidLogConfigError(`message.timestamp.type: "${raw}"`);
        out.messageTimestampType = raw;
        break;
      case 'delete.retention.ms':
        out.deleteRetentionMs = parseLong(name, raw);
        break;
      case 'min.compaction.lag.ms':
        out.minCompactionLagMs = parseLong(name, raw);
        break;
      case 'max.compaction.lag.ms':
        out.maxCompactionLagMs = parseLong(name, raw);
        break;
      case 'min.cleanable.dirty.ratio': {
        const v = Number(raw.trim());
        if (raw.trim() === '' || !Number.isFinite(v))
          throw new InvalidLogConfigError(`${name}: "${raw}" is not a number`);
        out.minCleanableDirtyRatio = v;
        break;
      }
      case 'cleanup.policy': {
        const policies = raw.split(',').map((p) => p.trim());
        for (const p of policies)
          if (p !== 'delete' && p !== 'compact') throw new InvalidLogConfigError(`cleanup.policy: "${p}"`);
        out.cleanupPolicy = policies as CleanupPolicy[];
        break;
      }
    }
  }
  return out;
}
