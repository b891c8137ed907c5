// One partition's log (Kafka's UnifiedLog + LocalLog): the ordered segments of directory
// `<topic>-<partition>/`, offset assignment, the write queue and its fsyncs, reads, offset lookups
// by timestamp, retention, DeleteRecords and truncation.
//
// DURABILITY CONTRACT
// - `append()` is synchronous and cheap: it frames the record set, assigns offsets by patching
//   each batch's baseOffset in place (and maxTimestamp + CRC for LogAppendTime), updates the
//   segment's in-memory indexes, and queues the buffer; nothing touches the disk on the caller's
//   stack. Appends apply, get offsets and reach the file in call order. The log takes ownership of
//   the buffer (it is written later and served to readers from memory): the caller must not reuse it.
// - A serial I/O queue per log writes queued buffers with one writev per run of appends, and
//   fdatasyncs beside the writes (one fsync at a time; what it covers is fixed when it starts).
//   `waitDurable(offset)` resolves once every batch up to `offset` is acknowledged-durable:
//     * default (flush.messages and flush.ms unset, or flush.messages=1): written AND fdatasynced.
//       Group commit: every append that queued while the previous fsync ran shares the next one.
//     * page-cache mode (flush.messages > 1 or flush.ms set, Kafka's behaviour): written to the
//       file, i.e. in the OS page cache: it survives a crash of the process, not of the machine.
//       The log fsyncs when flush.messages appends are unsynced, when flush.ms has passed
//       (`flushIfDue`, on the LogManager's schedule), at segment roll and at close.
// - The high watermark (single node) is the end of the acknowledged-durable prefix: consumers
//   never see a record that a crash could take back from an acknowledged producer.
// - A failed write or fsync puts the log offline: pending and later waitDurable calls reject with
//   KafkaStorageError, appends throw it. Nothing acknowledged is ever reported lost.
// - After kill -9 (or power loss in the default mode), reopening keeps every offset whose
//   waitDurable resolved, in order and without gaps (log-loader.ts recovers the tail).
//
// PRODUCER STATE (producer-state.ts): batches carrying a producer id are checked in `append()`,
// before anything is patched or queued; a refused batch throws its Kafka error (OutOfOrderSequence,
// InvalidProducerEpoch, ...) and a retry of a retained batch appends nothing and returns the
// original offsets (`duplicate`), which the caller still waits on with waitDurable. The new state
// is installed once the append is queued. Snapshots are written at roll and close, dropped with
// their segments and on truncation, and the state is rebuilt when the log opens.
//
// TRANSACTIONS (Kafka's UnifiedLog + ProducerStateManager + TransactionIndex):
// - `appendTxnMarker` writes the coordinator's COMMIT/ABORT control batch (origin 'coordinator':
//   epoch and coordinator-epoch fencing); a control batch in a client's `append` is refused with
//   InvalidRecordError (INVALID_RECORD), as Kafka's LogValidator does.
// - The producer state tracks the open transactions (first offset per producer) and the completed
//   ones whose marker is not yet below the high watermark. The LAST STABLE OFFSET is the smaller of
//   the high watermark and the first offset of the oldest of those (never below the log start). It
//   only moves when the high watermark does, so `onHighWatermark` listeners see it up to date.
// - An ABORT marker that closes an open transaction adds (producer id, first offset, marker offset,
//   LSO then) to the `.txnindex` of the marker's segment; `collectAbortedTransactions` reads them
//   back for read_committed fetches (`read(..., { isolation: 'read_committed' })` stops at the LSO
//   and answers them). The index goes with its segment (retention, DeleteRecords, truncation,
//   cleaner swap) and is rebuilt, with the open transactions, when segments are rescanned at open.
//
// Offsets are bigint at this API's edge (as in the protocol) and numbers inside (< 2^53).
//
// COMPACTION: the cleaner (log-cleaner.ts) reads inactive segments without any lock, writes a
// cleaned copy as `.cleaned` files, and swaps it in with `replaceSegments`, which runs under the
// segment-list lock and in the I/O queue for a few renames only. Reads racing a swap see either
// the old segments (an in-flight read finishes on the old file) or the new one (a read that finds
// an old segment retired retries on the new list), never a closed file.

import type { Logger } from '../logging/logger.js';
import {
  ATTRIBUTES_OFFSET,
  CONTROL_FLAG_MASK,
  RECORD_BATCH_OVERHEAD,
} from '../protocol/records/constants.js';
import { encodeEndTxnMarkerBatch } from '../protocol/records/control.js';
import { decodeRecordBatch } from '../protocol/records/decode.js';
import { setBaseOffset, setLogAppendTime, setPartitionLeaderEpoch } from '../protocol/records/patch.js';
import { type Clock, SYSTEM_TIME } from '../util/clock.js';
import { type BatchInfo, readBatchInfo, walkBatches } from './batch-scan.js';
import { isPageCacheMode, type LogConfig } from './config.js';
import {
  InvalidAppendError,
  InvalidRecordError,
  KafkaStorageError,
  LogUnavailableError,
  OffsetOutOfRangeError,
  StorageError,
} from './errors.js';
import {
  CLEANED_FILE_SUFFIX,
  fsyncDir,
  type StorageHooks,
  SWAP_FILE_SUFFIX,
  type TopicPartition,
} from './files.js';
import { LOG_FLUSH_STATS } from './log-flush-stats.js';
import { loadLog } from './log-loader.js';
import { LogSegment, type SegmentSettings } from './log-segment.js';
import {
  type AppendOrigin,
  type CompletedTxn,
  DEFAULT_PRODUCER_ID_EXPIRATION_MS,
  firstOffsetOf,
  hasProducerId,
  ProducerStateManager,
  ProducerUpdates,
} from './producer-state.js';
import { TailCache, type TailChunk, TailChunks } from './tail-cache.js';
import type { AbortedTransaction, AbortedTxn } from './transaction-index.js';

/** ListOffsets' special timestamps. */
export const ListOffsetsTimestamp = {
  LATEST: -1n,
  EARLIEST: -2n,
  MAX_TIMESTAMP: -3n,
  EARLIEST_LOCAL: -4n,
} as const;

export interface PartitionLogOptions {
  dir: string;
  topicPartition: TopicPartition;
  config: LogConfig;
  /** From recovery-point-offset-checkpoint; segments from the one holding it are rescanned. */
  recoveryPoint?: bigint;
  /** From log-start-offset-checkpoint. */
  logStartOffset?: bigint;
  /** The log dir had a clean-shutdown marker: no rescan. */
  hadCleanShutdown?: boolean;
  time?: Clock;
  hooks?: StorageHooks;
  /** Shared with the other logs of a LogManager; a standalone log gets its own 8 MiB one. */
  tailCache?: TailCache;
  logger?: Logger;
  /** producer.id.expiration.ms (default one day): see producer-state.ts. */
  producerIdExpirationMs?: number;
}

export interface AppendOptions {
  /** The broker's clock for LogAppendTime and segment.ms; defaults to the log's time source. */
  nowMs?: number;
  /** Overrides message.timestamp.type for this append. */
  timestampType?: 'CreateTime' | 'LogAppendTime';
  /** Stamped into every batch's partitionLeaderEpoch (the leader's epoch), if given. */
  leaderEpoch?: number;
  /**
   * Who appends, for the producer state checks (producer-state.ts): 'client' (a Produce, the
   * default: duplicates, epochs, sequences), 'coordinator' (epochs only).
   */
  origin?: Exclude<AppendOrigin, 'replication'>;
}

export interface LogAppendInfo {
  baseOffset: bigint;
  lastOffset: bigint;
  /** The broker time stamped into LogAppendTime batches, else -1 (ProduceResponse's log_append_time_ms). */
  logAppendTimeMs: bigint;
  logStartOffset: bigint;
  /** Largest batch maxTimestamp of the append (after LogAppendTime patching). */
  maxTimestamp: bigint;
  batches: number;
  /**
   * The record set repeated a batch an idempotent producer already wrote (a retry): nothing was
   * appended, and the offsets are the original batch's; logAppendTimeMs and maxTimestamp are its
   * timestamp (Kafka answers a duplicate so, whatever the timestamp type).
   */
  duplicate: boolean;
}

export interface ReadOptions {
  /** Return the first batch even when larger than maxBytes (KIP-74). Default true. */
  minOneBatch?: boolean;
  /** Exclusive upper bound on batch base offsets; default the high watermark (a consumer's view). */
  maxOffset?: bigint;
  /**
   * 'read_committed' (Fetch isolation_level 1): stop at the last stable offset (whole batches
   * below it; also bounded by maxOffset) and answer `abortedTransactions`. Default
   * 'read_uncommitted'.
   */
  isolation?: 'read_uncommitted' | 'read_committed';
}

/** An end-transaction marker as the transaction coordinator writes it (WriteTxnMarkers). */
export interface TxnMarker {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** COMMIT, else ABORT. */
  commit: boolean;
}

export interface LogReadResult {
  /** Whole batches in offset order: views of cached or freshly read buffers, never partial. */
  records: Buffer[];
  sizeInBytes: number;
  /** Base offset of the first batch returned (it may start before the offset asked for), or -1. */
  firstBatchBaseOffset: bigint;
  highWatermark: bigint;
  /** The last stable offset when the read was answered. */
  lastStableOffset: bigint;
  logStartOffset: bigint;
  logEndOffset: bigint;
  /**
   * read_committed only: the aborted transactions overlapping the records returned (from the
   * offset asked for to the end of the last batch), oldest marker first, as FetchResponse's
   * aborted_transactions.
   */
  abortedTransactions?: AbortedTransaction[];
}

export interface TimestampAndOffset {
  timestamp: bigint;
  offset: bigint;
  leaderEpoch: number;
}

/** One buffer for a read result (a copy only when it has several parts). */
export function concatRecords(result: LogReadResult): Buffer {
  return result.records.length === 1 ? result.records[0] : Buffer.concat(result.records, result.sizeInBytes);
}

interface Waiter {
  offset: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

type IoTask =
  | { kind: 'write'; chunk: TailChunk }
  | { kind: 'op'; run: () => Promise<void>; resolve: () => void; reject: (e: unknown) => void };

const MAX_IOV = 1024;
const MAX_DECOMPRESSED = 256 * 1024 * 1024;

function toNumber(offset: bigint, what: string): number {
  if (offset > BigInt(Number.MAX_SAFE_INTEGER) || offset < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${what} ${offset} is beyond 2^53`);
  }
  return Number(offset);
}

/** The last offset of the last batch in `records` (whole batches), or -1 when empty. */
function lastOffsetOf(records: readonly Buffer[]): number {
  let last = -1;
  for (const buf of records) {
    walkBatches(buf, 0, buf.length, (b) => {
      last = b.lastOffset;
      return true;
    });
  }
  return last;
}

/** Inserts keeping `list` sorted by offset (appends are ordered, so usually at the end). */
function insertWaiter(list: Waiter[], w: Waiter): void {
  let i = list.length;
  while (i > 0 && list[i - 1].offset > w.offset) i--;
  list.splice(i, 0, w);
}

export class PartitionLog {
  readonly dir: string;
  readonly topicPartition: TopicPartition;
  /** Shared with the segments' settings getters, so a config change reaches them. */
  private readonly cfgHolder: { config: LogConfig };
  private readonly time: Clock;
  private readonly hooks: StorageHooks;
  private readonly logger: Logger | undefined;
  private readonly settings: SegmentSettings;

  private segments: LogSegment[];
  private nextOffsetValue: number;
  private logStart: number;
  /** Offset after the last batch written to the file. */
  private writtenEnd: number;
  /** Offset after the last batch fdatasynced (the recovery point). */
  private flushedEnd: number;
  private hwm: number;
  private lastFlushMs: number;
  private readonly tail: TailChunks;
  private readonly cache: TailCache;

  private io: IoTask[] = [];
  private ioHead = 0;
  private pumping = false;
  private pendingBytes = 0;
  private dirty = new Set<LogSegment>();
  private syncRequested = false;
  /**
   * The fdatasync running beside the writes, or null. The writes queued behind it go on into the
   * page cache meanwhile and the next fdatasync covers them: in the default mode their
   * acknowledgements wait for that one (what one fsync covers is fixed when it starts), in
   * page-cache mode for nothing. (The default mode used to hold them back until the fsync ended;
   * one path for both modes now, with no throughput change measurable on this project's VMs.)
   */
  private backgroundSync: Promise<void> | null = null;
  private ackWaiters: Waiter[] = [];
  private flushWaiters: Waiter[] = [];
  private hwmListeners = new Set<(hwm: bigint) => void>();
  /** Bytes appended since the log opened (only grows), and how many of them are below the hwm. */
  private appendedBytes = 0;
  private readableBytes = 0;
  /** (offset after an append, appendedBytes after it) for appends still above the hwm. */
  private readableMarks: { end: number; total: number }[] = [];
  private failure: StorageError | null = null;
  private state: 'open' | 'exclusive' | 'closing' | 'closed' = 'open';
  /** Serializes segment deletions and truncations (each decides from the segment list it sees). */
  private lock: Promise<unknown> = Promise.resolve();
  /** Bumped by truncation: a file read that raced one starts over. */
  private truncations = 0;
  /** Segments rescanned when the log was opened. */
  readonly recoveredSegments: number;
  /** Epochs, sequences and retained batches of the producers writing here (producer-state.ts). */
  readonly producerState: ProducerStateManager;

  private constructor(
    opts: PartitionLogOptions,
    loaded: { segments: LogSegment[]; nextOffset: number; logStartOffset: number; recoveredSegments: number },
    holder: { config: LogConfig },
    settings: SegmentSettings,
  ) {
    this.dir = opts.dir;
    this.topicPartition = opts.topicPartition;
    this.cfgHolder = holder;
    this.time = opts.time ?? SYSTEM_TIME;
    this.hooks = opts.hooks ?? {};
    this.logger = opts.logger;
    this.settings = settings;
    this.segments = loaded.segments;
    this.nextOffsetValue = loaded.nextOffset;
    this.logStart = loaded.logStartOffset;
    this.writtenEnd = loaded.nextOffset;
    this.flushedEnd = loaded.nextOffset;
    this.hwm = loaded.nextOffset;
    this.lastFlushMs = this.time.now();
    this.cache = opts.tailCache ?? new TailCache(8 * 1024 * 1024);
    this.tail = new TailChunks(this.cache);
    this.recoveredSegments = loaded.recoveredSegments;
    this.producerState = new ProducerStateManager(opts.dir, {
      producerIdExpirationMs: opts.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS,
      logger: opts.logger,
    });
  }

  /** Opens (recovering if needed) or creates the log in `opts.dir`. */
  static async open(opts: PartitionLogOptions): Promise<PartitionLog> {
    const holder = { config: opts.config };
    // Index settings are read through the holder so a config change applies to new segments.
    const settings: SegmentSettings = {
      get indexIntervalBytes() {
        return holder.config.indexIntervalBytes;
      },
      get segmentIndexBytes() {
        return holder.config.segmentIndexBytes;
      },
    };
    const time = opts.time ?? SYSTEM_TIME;
    const loaded = await loadLog({
      dir: opts.dir,
      settings,
      recoveryPoint: opts.recoveryPoint === undefined ? 0 : toNumber(opts.recoveryPoint, 'recovery point'),
      logStartOffset:
        opts.logStartOffset === undefined ? 0 : toNumber(opts.logStartOffset, 'log start offset'),
      hadCleanShutdown: opts.hadCleanShutdown ?? false,
      hooks: opts.hooks ?? {},
      nowMs: time.now(),
      logger: opts.logger,
    });
    const log = new PartitionLog(opts, loaded, holder, settings);
    if (loaded.logStartOffset > loaded.nextOffset) {
      // The checkpointed start is past what survived (a lost tail): start empty there, as Kafka.
      await log.truncateFullyAndStartAt(BigInt(loaded.logStartOffset));
    } else {
      try {
        const rebuildFrom = loaded.recoveredFrom;
        const aborted: CompletedTxn[] = [];
        await log.producerState.load({
          segments: log.segments,
          logStartOffset: log.logStart,
          logEndOffset: log.nextOffsetValue,
          hadCleanShutdown: opts.hadCleanShutdown ?? false,
          nowMs: time.now(),
          snapshotOffsets: loaded.snapshotOffsets,
          // The rescanned segments' transaction indexes are rebuilt from the replay (Kafka's
          // LogSegment.recover with the producer state at the segment's base).
          rebuildFrom,
          onReplayedTxn:
            rebuildFrom === null
              ? undefined
              : (t) => {
                  if (t.isAborted && t.lastOffset >= rebuildFrom) aborted.push(t);
                },
        });
        aborted.sort((a, b) => a.lastOffset - b.lastOffset);
        for (const t of aborted) log.indexAbortedTxn(t);
        await log.activeSegment.loadTxnIndex();
        if (rebuildFrom !== null) {
          for (const s of log.segments.slice(0, -1))
            if (s.baseOffset >= rebuildFrom) await s.persistTxnIndex();
        }
      } catch (e) {
        await log.abort();
        throw e;
      }
    }
    return log;
  }

  // ---- state ----

  get config(): LogConfig {
    return this.cfgHolder.config;
  }

  private get cfg(): LogConfig {
    return this.cfgHolder.config;
  }

  /** Applies changed topic configs (new segments pick up the index settings). */
  updateConfig(config: LogConfig): void {
    const wasPageCache = isPageCacheMode(this.cfg);
    this.cfgHolder.config = config;
    if (wasPageCache && !isPageCacheMode(config)) this.requestSync();
  }

  get logStartOffset(): bigint {
    return BigInt(this.logStart);
  }

  get logEndOffset(): bigint {
    return BigInt(this.nextOffsetValue);
  }

  /** End of the acknowledged-durable prefix (see the contract); what consumers may read up to. */
  get highWatermark(): bigint {
    return BigInt(this.hwm);
  }

  /**
   * Bytes appended since the log opened that are now below the high watermark. Only grows, so
   * the difference between two readings is how many bytes became readable in between: a waiting
   * Fetch's measure against min_bytes (Kafka's DelayedFetch compares hwm positions the same way).
   * The log's size is no use there: it grows at append, before the bytes are readable.
   */
  get bytesBelowHighWatermark(): number {
    return this.readableBytes;
  }

  /** Offset up to which everything is fdatasynced: the recovery-point checkpoint. */
  get recoveryPoint(): bigint {
    return BigInt(this.flushedEnd);
  }

  /** Bytes of all segments (appended, including queued). */
  get size(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  get numberOfSegments(): number {
    return this.segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  segmentBaseOffsets(): bigint[] {
    return this.segments.map((s) => BigInt(s.baseOffset));
  }

  /**
   * Base offset, last modification time and size of each segment, oldest first: what ListOffsets
   * v0 answers from (Kafka's UnifiedLog.legacyFetchOffsetsBefore).
   */
  segmentSummaries(): { baseOffset: bigint; lastModifiedMs: number; size: number }[] {
    return this.segments.map((s) => ({
      baseOffset: BigInt(s.baseOffset),
      lastModifiedMs: s.lastModifiedMs,
      size: s.size,
    }));
  }

  /** Bytes appended but not yet written to the file (for the broker's back-pressure). */
  get queuedBytes(): number {
    return this.pendingBytes;
  }

  /** Why the log is offline, or null. */
  get offlineReason(): StorageError | null {
    return this.failure;
  }

  /**
   * Called with the new high watermark each time it moves (long-poll fetches wait on this). The
   * last stable offset only moves with the high watermark (a marker makes its transaction stable
   * once the high watermark passes it), so `lastStableOffset` is up to date when listeners run:
   * read_committed long polls wait on this too.
   */
  onHighWatermark(listener: (hwm: bigint) => void): () => void {
    this.hwmListeners.add(listener);
    return () => this.hwmListeners.delete(listener);
  }

  private get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1];
  }

  private get pageCacheMode(): boolean {
    return isPageCacheMode(this.cfg);
  }

  private checkWritable(): void {
    if (this.failure) throw this.failure;
    if (this.state !== 'open') throw new LogUnavailableError(`log ${this.dir} is ${this.state}`);
  }

  // ---- append ----

  /**
   * Appends a validated record set (one or more complete v2 batches) as the leader: assigns
   * offsets from the log end offset. Synchronous; see the durability contract for what follows.
   */
  append(records: Buffer, opts: AppendOptions = {}): LogAppendInfo {
    return this.appendBatches(records, true, opts);
  }

  /** Appends batches that already carry their offsets (a follower copying the leader's log). */
  appendAsFollower(records: Buffer, opts: { nowMs?: number } = {}): LogAppendInfo {
    return this.appendBatches(records, false, { nowMs: opts.nowMs, timestampType: 'CreateTime' });
  }

  private appendBatches(records: Buffer, assignOffsets: boolean, opts: AppendOptions): LogAppendInfo {
    this.checkWritable();
    const now = opts.nowMs ?? this.time.now();
    const logAppendTime =
      assignOffsets && (opts.timestampType ?? this.cfg.messageTimestampType) === 'LogAppendTime';
    // Frame the batches first, so nothing is patched or queued if the set is malformed.
    const batches: BatchInfo[] = [];
    let pos = 0;
    let expected = this.nextOffsetValue;
    let maxTimestamp = -1;
    let producerBatches = false;
    while (pos < records.length) {
      if (records.length - pos < RECORD_BATCH_OVERHEAD) {
        throw new InvalidAppendError(`truncated batch header at byte ${pos} of the record set`);
      }
      const info = readBatchInfo(records, pos, pos, !assignOffsets);
      if (typeof info === 'string') throw new InvalidAppendError(`batch at byte ${pos}: ${info}`);
      if (pos + info.size > records.length) throw new InvalidAppendError(`truncated batch at byte ${pos}`);
      if (!assignOffsets) {
        if (info.baseOffset < expected) {
          throw new InvalidAppendError(`follower batch offset ${info.baseOffset} is below ${expected}`);
        }
        expected = info.lastOffset + 1;
      } else {
        expected += info.lastOffset - info.baseOffset + 1;
      }
      if (info.maxTimestamp > maxTimestamp) maxTimestamp = info.maxTimestamp;
      if (
        assignOffsets &&
        (opts.origin ?? 'client') === 'client' &&
        (records.readInt16BE(pos + ATTRIBUTES_OFFSET) & CONTROL_FLAG_MASK) !== 0
      ) {
        // Kafka's LogValidator: only the coordinator (appendTxnMarker) writes control batches.
        throw new InvalidRecordError(`clients are not allowed to write control records (${this.dir})`);
      }
      if (!producerBatches && hasProducerId(records, pos)) producerBatches = true;
      batches.push(info);
      pos += info.size;
    }
    if (batches.length === 0) throw new InvalidAppendError('empty record set');
    if (logAppendTime) maxTimestamp = now;
    const firstOffset = assignOffsets ? this.nextOffsetValue : batches[0].baseOffset;
    const lastOffset = expected - 1;
    if (lastOffset > Number.MAX_SAFE_INTEGER) throw new InvalidAppendError('offsets beyond 2^53');

    // Idempotent and transactional batches: checked against the producer state now (throwing the
    // Kafka error of a refused batch), installed only once everything below succeeded.
    let producerUpdates: ProducerUpdates | undefined;
    if (producerBatches) {
      const r = this.producerState.prepare(
        records,
        batches,
        firstOffset,
        assignOffsets,
        logAppendTime ? now : -1,
        assignOffsets ? (opts.origin ?? 'client') : 'replication',
      );
      if (!(r instanceof ProducerUpdates)) {
        return {
          baseOffset: BigInt(firstOffsetOf(r)),
          lastOffset: BigInt(r.lastOffset),
          logAppendTimeMs: BigInt(r.timestamp),
          logStartOffset: BigInt(this.logStart),
          maxTimestamp: BigInt(r.timestamp),
          batches: 0,
          duplicate: true,
        };
      }
      producerUpdates = r;
    }

    let seg = this.activeSegment;
    if (
      seg.shouldRoll(records.length, maxTimestamp, lastOffset, now, this.cfg.segmentBytes, this.cfg.segmentMs)
    ) {
      seg = this.roll(now, firstOffset);
    }
    const position = seg.size;
    let offset = firstOffset;
    for (const b of batches) {
      const view = records.subarray(b.position, b.position + b.size);
      if (assignOffsets) {
        const delta = b.lastOffset - b.baseOffset;
        setBaseOffset(view, BigInt(offset));
        b.baseOffset = offset;
        b.lastOffset = offset + delta;
      }
      if (opts.leaderEpoch !== undefined) setPartitionLeaderEpoch(view, opts.leaderEpoch);
      if (logAppendTime) {
        setLogAppendTime(view, now);
        b.maxTimestamp = now;
      }
      seg.onBatchAppended(b, position + b.position);
      offset = b.lastOffset + 1;
    }
    seg.lastModifiedMs = now;
    this.nextOffsetValue = lastOffset + 1;
    const chunk = this.tail.push(seg, position, firstOffset, lastOffset, records);
    this.io.push({ kind: 'write', chunk });
    this.pendingBytes += records.length;
    this.appendedBytes += records.length;
    this.readableMarks.push({ end: lastOffset + 1, total: this.appendedBytes });
    this.schedulePump();
    if (producerUpdates) {
      const completed = this.producerState.commit(producerUpdates);
      // Kafka's updateTxnIndex: an ABORT marker indexes its transaction in the marker's segment.
      for (const t of completed) if (t.isAborted) this.indexAbortedTxn(t, seg);
    }
    return {
      baseOffset: BigInt(firstOffset),
      lastOffset: BigInt(lastOffset),
      logAppendTimeMs: logAppendTime ? BigInt(now) : -1n,
      logStartOffset: BigInt(this.logStart),
      maxTimestamp: BigInt(maxTimestamp),
      batches: batches.length,
      duplicate: false,
    };
  }

  /**
   * Appends an end-transaction marker as the transaction coordinator does (Kafka's appendAsLeader
   * with origin COORDINATOR of MemoryRecords.withEndTransactionMarker): a one-record control batch
   * stamped `nowMs`. Throws InvalidProducerEpochError (INVALID_PRODUCER_EPOCH) for an epoch older
   * than the producer's, TransactionCoordinatorFencedError (TRANSACTION_COORDINATOR_FENCED) for a
   * coordinator epoch older than the one the partition has seen. A marker for a producer with no
   * open transaction is written too (it completes nothing). An ABORT of an open transaction adds
   * an entry to the transaction index. The caller waits with `waitDurable(lastOffset)`.
   */
  appendTxnMarker(
    marker: TxnMarker,
    nowMs = this.time.now(),
    opts: { leaderEpoch?: number } = {},
  ): LogAppendInfo {
    const batch = encodeEndTxnMarkerBatch({
      commit: marker.commit,
      producerId: marker.producerId,
      producerEpoch: marker.producerEpoch,
      coordinatorEpoch: marker.coordinatorEpoch,
      timestamp: nowMs,
    });
    return this.appendBatches(batch, true, { nowMs, origin: 'coordinator', leaderEpoch: opts.leaderEpoch });
  }

  /** Adds an aborted transaction to the index of the segment holding its marker. */
  private indexAbortedTxn(t: CompletedTxn, seg = this.segments[this.segmentIndexFor(t.lastOffset)]): void {
    seg.txnIndex.append({
      producerId: BigInt(t.producerId),
      firstOffset: t.firstOffset,
      lastOffset: t.lastOffset,
      lastStableOffset: t.lastStableOffset,
    });
    seg.indexesDirty = true;
  }

  /** Starts a new active segment at `baseOffset` (the I/O queue finishes the old one first). */
  private roll(nowMs: number, baseOffset = this.nextOffsetValue): LogSegment {
    const old = this.activeSegment;
    const seg = LogSegment.createNew(this.dir, baseOffset, this.settings, this.hooks, nowMs);
    this.segments.push(seg);
    // Kafka's takeSnapshot at roll: the producer state of everything below the new segment, taken
    // now (later appends change it), written after the data it describes is flushed.
    const snapshot = this.producerState.snapshotBytes();
    this.enqueueOp(async () => {
      // Kafka's roll: the old segment is flushed and its indexes written, so that once the
      // recovery point passes it, it never needs a rescan. Its aborted transaction index is
      // written first: a trusted segment's missing .txnindex reads as "no aborted transaction"
      // (the offset indexes are checked and rebuilt, that one cannot be), so it must be on disk
      // before the flushed offset, hence a recovery-point checkpoint, can pass the segment.
      await old.persistTxnIndex();
      await this.syncDirty();
      await old.persistIndexes();
      await seg.createFile();
      await this.producerState.writeSnapshot(baseOffset, snapshot);
      await fsyncDir(this.dir);
    }).catch(() => {});
    this.logger?.debug({ dir: this.dir, segment: seg.name }, 'rolled a new segment');
    return seg;
  }

  // ---- the I/O queue ----

  private enqueueOp(run: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      this.io.push({ kind: 'op', run, resolve, reject });
      this.schedulePump();
    });
  }

  private schedulePump(): void {
    if (this.pumping) return;
    this.pumping = true;
    // A microtask: every append of the current synchronous run joins the first writev.
    queueMicrotask(() => void this.pump());
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        if (this.failure) break;
        if (this.ioHead > 4096 && this.ioHead * 2 > this.io.length) {
          // Under a steady stream the pump never returns: drop the consumed front now and then.
          this.io = this.io.slice(this.ioHead);
          this.ioHead = 0;
        }
        if (this.ioHead < this.io.length) {
          const task = this.io[this.ioHead];
          if (task.kind === 'write') {
            await this.writeRun();
            // An fsync starts after every run that needs one (unless one runs already), so a
            // steady stream of appends cannot starve it.
            if (this.needsSync()) await this.sync();
          } else {
            // An op (roll, truncation, close) runs with no fsync in flight: it may sync, delete or
            // close segments itself.
            if (this.backgroundSync) await this.backgroundSync;
            this.io[this.ioHead++] = undefined as unknown as IoTask;
            try {
              await task.run();
              task.resolve();
            } catch (e) {
              task.reject(e);
              throw e;
            }
          }
          continue;
        }
        if (this.needsSync() && !this.backgroundSync) {
          await this.sync();
          continue;
        }
        break;
      }
    } catch (e) {
      this.setFailure(e);
    } finally {
      this.io = this.io.slice(this.ioHead);
      this.ioHead = 0;
      this.pumping = false;
      if (this.failure) this.failQueued();
      else if (this.io.length > 0 || (this.needsSync() && !this.backgroundSync)) this.schedulePump();
    }
  }

  /** Starts an fdatasync beside the writes unless one runs already; when it ends the pump looks again. */
  private async sync(): Promise<void> {
    if (this.backgroundSync) return;
    this.backgroundSync = this.syncDirty()
      .catch((e) => {
        this.setFailure(e);
      })
      .finally(() => {
        this.backgroundSync = null;
        if (!this.failure && (this.needsSync() || this.ioHead < this.io.length)) this.schedulePump();
      });
  }

  /** Writes the run of queued chunks contiguous in one segment with one writev. */
  private async writeRun(): Promise<void> {
    const first = (this.io[this.ioHead] as { chunk: TailChunk }).chunk;
    const seg = first.segment;
    const chunks: TailChunk[] = [];
    let end = first.position;
    while (this.ioHead < this.io.length && chunks.length < MAX_IOV) {
      const t = this.io[this.ioHead];
      if (t.kind !== 'write' || t.chunk.segment !== seg || t.chunk.position !== end) break;
      chunks.push(t.chunk);
      end += t.chunk.buf.length;
      this.io[this.ioHead++] = undefined as unknown as IoTask;
    }
    await seg.write(
      chunks.map((c) => c.buf),
      first.position,
      this.pageCacheMode,
    );
    for (const c of chunks) {
      c.written = true;
      this.pendingBytes -= c.buf.length;
    }
    this.dirty.add(seg);
    this.writtenEnd = Math.max(this.writtenEnd, chunks[chunks.length - 1].lastOffset + 1);
    this.cache.evict();
    if (this.pageCacheMode) this.advanceAcked(this.writtenEnd);
  }

  private needsSync(): boolean {
    if (this.writtenEnd <= this.flushedEnd) return false;
    if (!this.pageCacheMode || this.syncRequested) return true;
    if (this.flushWaiters.length > 0 && this.flushWaiters[0].offset < this.writtenEnd) return true;
    const n = this.cfg.flushMessages;
    return n !== null && this.writtenEnd - this.flushedEnd >= n;
  }

  /** fdatasync of every segment written since the last one; then the flushed offset moves. */
  private async syncDirty(): Promise<void> {
    const target = this.writtenEnd;
    const segs = [...this.dirty];
    this.dirty.clear();
    this.syncRequested = false;
    const startedAt = this.time.monotonicNs();
    for (const s of segs) if (!s.deleted) await s.sync();
    LOG_FLUSH_STATS.observe(Number(this.time.monotonicNs() - startedAt) / 1e6);
    this.lastFlushMs = this.time.now();
    if (target > this.flushedEnd) this.flushedEnd = target;
    while (this.flushWaiters.length > 0 && this.flushWaiters[0].offset < this.flushedEnd) {
      this.flushWaiters.shift()!.resolve();
    }
    if (!this.pageCacheMode) this.advanceAcked(this.flushedEnd);
  }

  /** Everything below `end` is acknowledged-durable: release waiters, move the high watermark. */
  private advanceAcked(end: number): void {
    while (this.ackWaiters.length > 0 && this.ackWaiters[0].offset < end) this.ackWaiters.shift()!.resolve();
    const marks = this.readableMarks;
    while (marks.length > 0 && marks[0].end <= end) this.readableBytes = marks.shift()!.total;
    if (end > this.hwm) {
      this.hwm = end;
      // Transactions whose marker is now below the high watermark become stable (the LSO moves).
      this.producerState.onHighWatermarkUpdated(end);
      if (this.hwmListeners.size > 0) {
        const v = BigInt(end);
        for (const l of this.hwmListeners) {
          try {
            l(v);
          } catch (e) {
            // A listener's bug must not take the log's I/O queue down with it.
            this.logger?.error({ err: e, dir: this.dir }, 'high watermark listener threw');
          }
        }
      }
    }
  }

  private requestSync(): void {
    this.syncRequested = true;
    this.schedulePump();
  }

  private setFailure(e: unknown): void {
    if (this.failure) return;
    this.failure = e instanceof StorageError ? e : new KafkaStorageError(`I/O failure in log ${this.dir}`, e);
    this.logger?.error({ dir: this.dir, err: e }, 'log is offline after an I/O failure');
    this.failQueued();
  }

  private failQueued(): void {
    const err = this.failure!;
    for (const w of this.ackWaiters.splice(0)) w.reject(err);
    for (const w of this.flushWaiters.splice(0)) w.reject(err);
    for (let i = this.ioHead; i < this.io.length; i++) {
      const t = this.io[i];
      if (t.kind === 'op') t.reject(err);
    }
    this.io = [];
    this.ioHead = 0;
  }

  /**
   * Resolves once every batch up to and including `offset` is acknowledged-durable (see the
   * contract at the top of this file); rejects if the log goes offline first.
   */
  waitDurable(offset: bigint): Promise<void> {
    const o = toNumber(offset, 'offset');
    if (this.failure) return Promise.reject(this.failure);
    if (o < this.hwm) return Promise.resolve();
    if (o >= this.nextOffsetValue) {
      return Promise.reject(
        new RangeError(`offset ${offset} was not appended (log end ${this.nextOffsetValue})`),
      );
    }
    return new Promise((resolve, reject) => insertWaiter(this.ackWaiters, { offset: o, resolve, reject }));
  }

  /** Forces an fdatasync of everything appended so far, whatever the mode. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const o = this.nextOffsetValue - 1;
    if (o < this.flushedEnd) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) =>
      insertWaiter(this.flushWaiters, { offset: o, resolve, reject }),
    );
    this.requestSync();
    return p;
  }

  /** Page-cache mode: fsyncs if flush.ms has passed since the last fsync (the manager's schedule). */
  flushIfDue(nowMs = this.time.now()): void {
    const ms = this.cfg.flushMs;
    if (ms === null || this.failure || this.state === 'closed') return;
    if (nowMs - this.lastFlushMs >= ms && this.nextOffsetValue > this.flushedEnd) this.requestSync();
  }

  /** Resolves when everything queued so far went through the I/O queue. */
  private drain(): Promise<void> {
    return this.enqueueOp(async () => {});
  }

  // ---- reads ----

  /**
   * Reads whole batches starting with the one that contains `offset` (Kafka returns the whole
   * batch when the offset is inside it), up to `maxBytes`. Served from the in-memory tail when it
   * covers the offset, else with one (rarely two) reads of the segment file.
   * Throws OffsetOutOfRangeError when offset < logStartOffset or offset > logEndOffset.
   */
  async read(offset: bigint, maxBytes: number, opts: ReadOptions = {}): Promise<LogReadResult> {
    for (let attempt = 0; ; attempt++) {
      const epoch = this.truncations;
      try {
        const r = await this.readOnce(offset, maxBytes, opts);
        if (opts.isolation === 'read_committed') {
          const end = lastOffsetOf(r.records);
          r.abortedTransactions =
            end < 0 ? [] : await this.collectAbortedTransactions(offset, BigInt(end + 1));
        }
        if (epoch === this.truncations) return r;
      } catch (e) {
        // A segment deleted by retention under the read: the offset may now be out of range.
        if (!(e instanceof KafkaStorageError) || attempt > 2 || this.failure) throw e;
      }
      if (attempt > 2) throw new LogUnavailableError(`log ${this.dir} kept changing under a read`);
    }
  }

  private async readOnce(offset: bigint, maxBytes: number, opts: ReadOptions): Promise<LogReadResult> {
    if (this.state === 'closed') throw new LogUnavailableError(`log ${this.dir} is closed`);
    const o = toNumber(offset, 'offset');
    if (o < this.logStart || o > this.nextOffsetValue) {
      throw new OffsetOutOfRangeError(`${this.dir} read`, offset, this.logStartOffset, this.logEndOffset);
    }
    const minOne = opts.minOneBatch ?? true;
    let maxOffset = opts.maxOffset === undefined ? this.hwm : toNumber(opts.maxOffset, 'max offset');
    if (opts.isolation === 'read_committed') maxOffset = Math.min(maxOffset, this.lso());
    if (o >= maxOffset || o >= this.nextOffsetValue) return this.result([], 0, -1);

    // The memory tail covers `o` if some cached chunk reaches it and the one before (or the chunk
    // itself) starts at or before it.
    const i = this.tail.findFrom(o);
    if (i < this.tail.length && (i > 0 || this.tail.at(0).baseOffset <= o)) {
      return this.readFromTail(i, o, maxBytes, minOne, maxOffset);
    }
    // The list as it is now: retention and the cleaner replace the array (a roll only appends to
    // it), so a segment they retire under this read fails it (KafkaStorageError: read() retries)
    // rather than shifting the indexes under the loop.
    const segments = this.segments;
    let k = this.segmentIndexFor(o, segments);
    while (k < segments.length) {
      const seg = segments[k];
      // A segment wholly in memory from its start (its file may not even exist yet).
      if (this.tail.length > 0 && this.tail.at(0).segment === seg && this.tail.at(0).position === 0) {
        return this.readFromTail(0, o, maxBytes, minOne, maxOffset);
      }
      const r = await seg.read(o, maxBytes, minOne, seg.writtenSize, maxOffset);
      if (r !== null) {
        return this.result(
          r.data.length > 0 ? [r.data] : [],
          r.data.length,
          r.data.length > 0 && r.first ? r.first.baseOffset : -1,
        );
      }
      k++;
    }
    return this.result([], 0, -1);
  }

  private readFromTail(
    i: number,
    o: number,
    maxBytes: number,
    minOne: boolean,
    maxOffset: number,
  ): LogReadResult {
    const parts: Buffer[] = [];
    let total = 0;
    let firstBase = -1;
    let stop = false;
    for (let j = i; j < this.tail.length && !stop; j++) {
      const c = this.tail.at(j);
      let runStart = -1;
      let runEnd = -1;
      walkBatches(c.buf, 0, c.buf.length, (b) => {
        if (b.lastOffset < o) return true;
        if (b.baseOffset >= maxOffset || (total + b.size > maxBytes && !(minOne && firstBase < 0))) {
          stop = true;
          return false;
        }
        if (runStart < 0) runStart = b.position;
        runEnd = b.position + b.size;
        if (firstBase < 0) firstBase = b.baseOffset;
        total += b.size;
        return true;
      });
      if (runStart >= 0) parts.push(c.buf.subarray(runStart, runEnd));
    }
    return this.result(parts, total, firstBase);
  }

  private result(records: Buffer[], size: number, firstBase: number): LogReadResult {
    return {
      records,
      sizeInBytes: size,
      firstBatchBaseOffset: BigInt(firstBase),
      highWatermark: BigInt(this.hwm),
      lastStableOffset: BigInt(this.lso()),
      logStartOffset: BigInt(this.logStart),
      logEndOffset: BigInt(this.nextOffsetValue),
    };
  }

  /** Index of the segment whose range holds `offset` (the last with baseOffset <= offset). */
  private segmentIndexFor(offset: number, segments: readonly LogSegment[] = this.segments): number {
    let lo = 0;
    let hi = segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (segments[mid].baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  // ---- offsets by timestamp ----

  /**
   * ListOffsets: the first offset at or after the log start whose record timestamp is >= `ts`
   * (Kafka's fetchOffsetByTimestamp), among offsets below `maxOffset` (default the high watermark),
   * or null if none. Also takes ListOffsets' special values: -1 latest (the high watermark),
   * -2 earliest and -4 earliest local (the log start offset), -3 the record with the largest
   * timestamp (KIP-734).
   */
  async offsetForTimestamp(
    ts: bigint,
    opts: { maxOffset?: bigint } = {},
  ): Promise<TimestampAndOffset | null> {
    const maxOffset = opts.maxOffset === undefined ? this.hwm : toNumber(opts.maxOffset, 'max offset');
    if (ts === ListOffsetsTimestamp.LATEST)
      return { timestamp: -1n, offset: BigInt(this.hwm), leaderEpoch: -1 };
    if (ts === ListOffsetsTimestamp.EARLIEST || ts === ListOffsetsTimestamp.EARLIEST_LOCAL) {
      return { timestamp: -1n, offset: BigInt(this.logStart), leaderEpoch: -1 };
    }
    if (ts < 0n && ts !== ListOffsetsTimestamp.MAX_TIMESTAMP) throw new RangeError(`timestamp ${ts}`);
    for (let attempt = 0; ; attempt++) {
      try {
        if (ts === ListOffsetsTimestamp.MAX_TIMESTAMP) return await this.offsetOfMaxTimestamp(maxOffset);
        return await this.searchTimestamp(Number(ts), maxOffset, false);
      } catch (e) {
        // A segment deleted by retention or replaced by the cleaner under the search: start over.
        if (!(e instanceof KafkaStorageError) || attempt > 2 || this.failure) throw e;
      }
    }
  }

  private async offsetOfMaxTimestamp(maxOffset: number): Promise<TimestampAndOffset | null> {
    let best = -1;
    for (const s of [...this.segments]) {
      await s.ensureLoaded();
      if (s.maxTimestampSoFar > best) best = s.maxTimestampSoFar;
    }
    if (best < 0) return null;
    return this.searchTimestamp(best, maxOffset, true);
  }

  /** First record at or after the log start with timestamp >= ts (== ts when `exact`). */
  private async searchTimestamp(
    ts: number,
    maxOffset: number,
    exact: boolean,
  ): Promise<TimestampAndOffset | null> {
    const segments = [...this.segments];
    for (let k = this.segmentIndexFor(this.logStart, segments); k < segments.length; k++) {
      const seg = segments[k];
      await seg.ensureLoaded();
      if (seg.maxTimestampSoFar < ts) continue;
      const startOffset = Math.max(seg.timeIndex.lookupBelow(ts).offset, this.logStart);
      const out: { found: TimestampAndOffset | null; beyond: boolean } = { found: null, beyond: false };
      await seg.forEachBatchFrom(startOffset, seg.writtenSize, async (b, bytes) => {
        if (b.baseOffset >= maxOffset) {
          out.beyond = true;
          return false;
        }
        if (b.lastOffset < this.logStart || b.maxTimestamp < ts) return true;
        const batch = decodeRecordBatch(await bytes(), {
          maxUncompressedBytes: MAX_DECOMPRESSED,
          verifyCrc: false,
        });
        for (const r of batch.records) {
          const off = b.baseOffset + r.offsetDelta;
          if (off < this.logStart || off >= maxOffset) continue;
          if (exact ? r.timestamp === ts : r.timestamp >= ts) {
            out.found = {
              timestamp: BigInt(r.timestamp),
              offset: BigInt(off),
              leaderEpoch: b.partitionLeaderEpoch,
            };
            return false;
          }
        }
        return true;
      });
      if (out.found || out.beyond) return out.found;
    }
    return null;
  }

  // ---- deletion: DeleteRecords and retention ----

  /**
   * DeleteRecords: moves the log start offset up to `offset` (never beyond the high watermark:
   * OffsetOutOfRangeError) and deletes the segments wholly below it. Returns the new log start
   * offset (the partition's low watermark).
   */
  async deleteRecordsBefore(offset: bigint): Promise<bigint> {
    this.checkWritable();
    const o = toNumber(offset, 'offset');
    if (o < 0 || o > this.hwm) {
      throw new OffsetOutOfRangeError(
        `${this.dir} DeleteRecords`,
        offset,
        this.logStartOffset,
        this.highWatermark,
      );
    }
    if (o > this.logStart) this.logStart = o;
    await this.deleteSegmentsWhere(
      (_seg, next) => next !== null && next.baseOffset <= this.logStart,
      'log start offset',
    );
    return BigInt(this.logStart);
  }

  /**
   * Retention (Kafka's deleteOldSegments), called on the LogManager's schedule: deletes the oldest
   * segments whose largest timestamp is older than retention.ms, then those beyond
   * retention.bytes, then those wholly below the log start offset. Only segments entirely below
   * the high watermark go; when every segment qualifies, a new empty active segment is rolled
   * first, so only inactive segments are ever deleted. Returns the number of segments deleted.
   */
  async deleteRetainedSegments(nowMs = this.time.now()): Promise<number> {
    if (this.state !== 'open' || this.failure) return 0;
    let deleted = 0;
    if (this.cfg.cleanupPolicy.includes('delete')) {
      const retentionMs = this.cfg.retentionMs;
      if (retentionMs >= 0) {
        deleted += await this.deleteSegmentsWhere(
          (seg) => nowMs - seg.largestTimestamp > retentionMs,
          'retention.ms',
        );
      }
      const retentionBytes = this.cfg.retentionBytes;
      if (retentionBytes >= 0) {
        let diff = this.size - retentionBytes;
        deleted += await this.deleteSegmentsWhere((seg) => {
          if (diff - seg.size < 0) return false;
          diff -= seg.size;
          return true;
        }, 'retention.bytes');
      }
    }
    deleted += await this.deleteSegmentsWhere(
      (_seg, next) => next !== null && next.baseOffset <= this.logStart,
      'log start offset',
    );
    return deleted;
  }

  private withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => {});
    return run;
  }

  /** Kafka's deletableSegments + deleteSegments: the oldest run of segments matching `predicate`. */
  private deleteSegmentsWhere(
    predicate: (seg: LogSegment, next: LogSegment | null) => boolean,
    reason: string,
  ): Promise<number> {
    return this.withLock(() => this.deleteSegmentsLocked(predicate, reason));
  }

  private async deleteSegmentsLocked(
    predicate: (seg: LogSegment, next: LogSegment | null) => boolean,
    reason: string,
  ): Promise<number> {
    const doomed: LogSegment[] = [];
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i];
      const next = i + 1 < this.segments.length ? this.segments[i + 1] : null;
      if (next === null && seg.size === 0) break;
      const upper = next ? next.baseOffset : this.nextOffsetValue;
      if (this.hwm < upper) break;
      await seg.ensureLoaded();
      if (!predicate(seg, next)) break;
      doomed.push(seg);
    }
    if (doomed.length === 0 || this.state !== 'open') return 0;
    if (doomed.length === this.segments.length) this.roll(this.time.now());
    const n = doomed.length;
    this.segments = this.segments.slice(n);
    for (const s of doomed) this.tail.dropSegment(s);
    if (this.segments[0].baseOffset > this.logStart) this.logStart = this.segments[0].baseOffset;
    this.logger?.info(
      { dir: this.dir, segments: doomed.map((s) => s.name), reason, logStartOffset: this.logStart },
      'deleting segments',
    );
    await this.enqueueOp(async () => {
      for (const s of doomed) {
        await s.delete();
        // Its producer snapshot goes with it (the producers stay: KIP-360).
        await this.producerState.deleteSnapshot(s.baseOffset);
      }
    });
    return n;
  }

  // ---- compaction support (the cleaner, log-cleaner.ts) ----

  /** Changes with every truncation: a cleaner that started under another value must not swap. */
  get truncationEpoch(): number {
    return this.truncations;
  }

  /** Open for appends and reads (not truncating, closing, closed or offline). */
  get isOpen(): boolean {
    return this.state === 'open' && this.failure === null;
  }

  /**
   * The last stable offset (Kafka's UnifiedLog.lastStableOffset): the smaller of the high watermark
   * and the first offset of the oldest transaction still open, or completed with its marker not
   * yet below the high watermark (never below the log start offset). read_committed consumers read
   * up to it; the cleaner never cleans past it.
   */
  get lastStableOffset(): bigint {
    return BigInt(this.lso());
  }

  private lso(): number {
    const f = this.producerState.firstUnstableOffset();
    return f >= 0 && f < this.hwm ? Math.max(f, this.logStart) : this.hwm;
  }

  /**
   * Kafka's UnifiedLog.collectAbortedTransactions: the aborted transactions whose marker is at or
   * after `startOffset` and whose first offset is below `upperBoundOffset`, from the transaction
   * indexes of the segment holding `startOffset` and the following ones (stopping once an entry's
   * last stable offset reaches the bound), in marker order.
   */
  async collectAbortedTransactions(
    startOffset: bigint,
    upperBoundOffset: bigint,
  ): Promise<AbortedTransaction[]> {
    const entries = await this.collectAbortedTxns(
      toNumber(startOffset, 'offset'),
      toNumber(upperBoundOffset, 'offset'),
    );
    return entries.map((e) => ({ producerId: e.producerId, firstOffset: BigInt(e.firstOffset) }));
  }

  /** The index entries behind collectAbortedTransactions (the cleaner needs the marker offsets). */
  async collectAbortedTxns(start: number, upperBound: number): Promise<AbortedTxn[]> {
    for (let attempt = 0; ; attempt++) {
      const segments = this.segments;
      const out: AbortedTxn[] = [];
      for (let k = this.segmentIndexFor(start, segments); k < segments.length; k++) {
        const idx = await segments[k].loadTxnIndex();
        if (idx.collect(start, upperBound, out)) break;
      }
      // A segment retired under the search (retention, a cleaner swap) may have lost its file.
      if (attempt > 2 || !segments.some((s) => s.deleted)) return out;
    }
  }

  /** The segments, oldest first (the last one is the active segment), as they are now. */
  segmentsSnapshot(): readonly LogSegment[] {
    return [...this.segments];
  }

  /** An empty segment at `baseOffset` with `.cleaned` files in this log's dir, for the cleaner. */
  newCleanedSegment(baseOffset: number): LogSegment {
    return LogSegment.createNew(
      this.dir,
      baseOffset,
      this.settings,
      this.hooks,
      this.time.now(),
      CLEANED_FILE_SUFFIX,
    );
  }

  private canReplace(old: readonly LogSegment[], epoch: number): boolean {
    if (this.state !== 'open' || this.failure || this.truncations !== epoch || old.length === 0) return false;
    const i = this.segments.indexOf(old[0]);
    // Never the active segment.
    if (i < 0 || i + old.length >= this.segments.length) return false;
    return old.every((s, k) => this.segments[i + k] === s);
  }

  /**
   * Swaps `cleaned` (complete and fsynced `.cleaned` files) in for the contiguous inactive
   * segments `old` (Kafka's replaceSegments). Returns false, changing nothing, when the log changed
   * since the cleaner looked (segments deleted or truncated, log closing): the caller discards
   * `cleaned`. Crash safety: `.cleaned` -> `.swap` (+ dir fsync) is the commit point; then the old
   * segments' files become `.deleted`, the `.swap` files take the final names, and the `.deleted`
   * files go. log-loader.ts finishes or undoes each step after a crash.
   */
  async replaceSegments(old: readonly LogSegment[], cleaned: LogSegment, epoch: number): Promise<boolean> {
    return this.withLock(async () => {
      if (!this.canReplace(old, epoch)) return false;
      let swapped = false;
      await this.enqueueOp(async () => {
        // Queued behind writes and rolls (a roll persists its old segment's indexes): look again.
        if (!this.canReplace(old, epoch)) return;
        await cleaned.changeFileSuffixes(CLEANED_FILE_SUFFIX, SWAP_FILE_SUFFIX);
        await fsyncDir(this.dir);
        this.hooks.onCleanerSwap?.('swap', this.dir, cleaned.baseOffset);
        const i = this.segments.indexOf(old[0]);
        this.segments = [...this.segments.slice(0, i), cleaned, ...this.segments.slice(i + old.length)];
        this.tail.dropSegments(new Set(old));
        swapped = true;
        // Retired: a read that finds one of them from now on retries on the new list; reads
        // already holding their handles finish on the old files, renamed or not.
        for (const s of old) s.deleted = true;
        for (const s of old) await s.retire();
        for (const s of old) await s.renameToDeleted();
        // As Kafka's replaceSegments: the snapshots of segments no longer there go.
        for (const s of old) {
          if (s.baseOffset !== cleaned.baseOffset) await this.producerState.deleteSnapshot(s.baseOffset);
        }
        this.hooks.onCleanerSwap?.('old-deleted', this.dir, cleaned.baseOffset);
        await cleaned.changeFileSuffixes(SWAP_FILE_SUFFIX, '');
        await fsyncDir(this.dir);
      });
      if (swapped) {
        // Off the I/O queue: close once their last reads are done, then unlink the .deleted files.
        for (const s of old) await s.finishDelete();
        this.hooks.onCleanerSwap?.('done', this.dir, cleaned.baseOffset);
      }
      return swapped;
    });
  }

  // ---- truncation (replication) ----

  /**
   * Removes every batch with an offset >= `offset` (a follower diverging from its leader). A batch
   * holding `offset` goes entirely. Appends are refused (LogUnavailableError) while it runs.
   * Returns whether anything was removed.
   */
  async truncateTo(offset: bigint): Promise<boolean> {
    const o = toNumber(offset, 'offset');
    if (o < 0) throw new RangeError(`offset ${offset}`);
    if (o >= this.nextOffsetValue) return false;
    if (this.segments[0].baseOffset > o) {
      await this.truncateFullyAndStartAt(offset);
      return true;
    }
    await this.exclusively(async () => {
      const keep = this.segments.filter((s, i) => i === 0 || s.baseOffset <= o);
      const doomed = this.segments.slice(keep.length);
      this.segments = keep;
      this.tail.clear();
      for (const s of doomed) await s.delete();
      const last = this.activeSegment;
      const cutBase = await last.truncateTo(o);
      await last.sync();
      const end = cutBase === null ? o : Math.min(o, cutBase);
      this.nextOffsetValue = end;
      this.writtenEnd = Math.min(this.writtenEnd, end);
      this.flushedEnd = Math.min(this.flushedEnd, end);
      this.hwm = Math.min(this.hwm, end);
      this.logStart = Math.min(this.logStart, end);
      this.rejectWaitersFrom(end);
      if (doomed.length > 0) await fsyncDir(this.dir);
      // The producer state of the shorter log (Kafka's truncateAndReload).
      await this.producerState.truncateAndReload({
        segments: this.segments,
        logStartOffset: this.logStart,
        logEndOffset: end,
        nowMs: this.time.now(),
      });
    });
    return true;
  }

  /** Deletes every segment and restarts the log empty at `offset` (log start = log end = offset). */
  async truncateFullyAndStartAt(offset: bigint): Promise<void> {
    const o = toNumber(offset, 'offset');
    await this.exclusively(async () => {
      const doomed = this.segments;
      this.tail.clear();
      for (const s of doomed) await s.delete();
      const seg = LogSegment.createNew(this.dir, o, this.settings, this.hooks, this.time.now());
      await seg.createFile();
      await fsyncDir(this.dir);
      this.segments = [seg];
      this.nextOffsetValue = o;
      this.writtenEnd = o;
      this.flushedEnd = o;
      this.hwm = o;
      this.logStart = o;
      this.rejectWaitersFrom(0);
      await this.producerState.truncateFully();
    });
  }

  /** Waiters for offsets a truncation removed: those appends are gone, not durable. */
  private rejectWaitersFrom(end: number): void {
    const marks = this.readableMarks;
    while (marks.length > 0 && marks[marks.length - 1].end > end) marks.pop();
    const err = new LogUnavailableError(`log ${this.dir} was truncated to ${end}`);
    for (const list of [this.ackWaiters, this.flushWaiters]) {
      while (list.length > 0 && list[list.length - 1].offset >= end) list.pop()!.reject(err);
    }
  }

  private exclusively(fn: () => Promise<void>): Promise<void> {
    return this.withLock(() => this.exclusivelyLocked(fn));
  }

  private async exclusivelyLocked(fn: () => Promise<void>): Promise<void> {
    this.checkWritable();
    this.state = 'exclusive';
    try {
      await this.drain();
      this.truncations++;
      await this.enqueueOp(fn);
      this.truncations++;
    } catch (e) {
      this.setFailure(e);
      throw this.failure;
    } finally {
      if (this.state === 'exclusive') this.state = 'open';
    }
  }

  // ---- close ----

  /**
   * Writes what is queued, fdatasyncs, writes the active segment's indexes and closes the files.
   * Afterwards the recovery point equals the log end offset.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.failure) {
      await this.abort();
      return;
    }
    this.state = 'closing';
    // The producer state at the log end, so the next open needs no replay (Kafka's close). A log
    // that never had a producer state snapshot and has no producer needs none: after a clean
    // shutdown no snapshot means no state (and 10,000 idle partitions open without reading any).
    const end = this.nextOffsetValue;
    const ps = this.producerState;
    const snapshot =
      ps.hasSnapshot(end) || (ps.size === 0 && ps.snapshotOffsets().length === 0) ? null : ps.snapshotBytes();
    try {
      await this.enqueueOp(async () => {
        await this.syncDirty();
        for (const s of this.segments) {
          if (s.indexesDirty) await s.persistIndexes();
          else await s.persistTxnIndex();
        }
        if (snapshot) {
          await this.producerState.writeSnapshot(end, snapshot);
          await fsyncDir(this.dir);
        }
      });
    } finally {
      this.state = 'closed';
      this.tail.clear();
      for (const s of this.segments) await s.close();
    }
  }

  /**
   * Closes the files without writing, syncing or persisting anything (what a crash leaves behind;
   * also for a log dir that failed). Pending waitDurable calls reject.
   */
  async abort(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (!this.failure) this.failure = new LogUnavailableError(`log ${this.dir} was aborted`);
    this.failQueued();
    this.tail.clear();
    for (const s of this.segments) await s.close().catch(() => {});
  }
}
