// The log cleaner (Kafka's LogCleaner + LogCleanerManager): which compacted log to clean next,
// each log's first dirty offset (the `cleaner-offset-checkpoint` file of its log dir), the
// schedule, and stopping. The cleaning itself is cleaner.ts's.
//
// - A log takes part when its cleanup.policy includes "compact" (so "compact,delete" too;
//   retention still deletes old segments of such logs on its own schedule).
// - Its cleanable range (Kafka's cleanableOffsets) runs from the first dirty offset (the
//   checkpoint, reset to the log start when it lies outside the log or the log was truncated since)
//   up to the first uncleanable offset: the smallest of the active segment's base offset, the last
//   stable offset (the high watermark until transactions exist), and the base offset of the first
//   segment whose largest timestamp is within min.compaction.lag.ms of now; then rounded down to a
//   segment boundary.
// - Dirty ratio = cleanable bytes / (clean bytes + cleanable bytes). A round cleans the filthiest
//   log whose ratio exceeds min.cleanable.dirty.ratio, or that has cleanable bytes and a dirty
//   segment whose first batch is older than max.compaction.lag.ms (KIP-354: those go first).
// - One log at a time. The scheduled task (log.cleaner.backoff.ms) cleans until no log is
//   cleanable, then waits for its next run. After each round the log's first dirty offset
//   becomes the round's end offset and its log dir's checkpoint file is rewritten.
// - shutdown() (LogManager.close) and abortCleaning(log) (log deletion) stop a clean in progress
//   at its next chunk; the old segments stay intact and any `.cleaned` files are removed.
// - A log whose clean fails for any other reason (a corrupt batch) is marked uncleanable and
//   skipped until restart, as Kafka does.

import { join } from 'node:path';
import type { Logger } from '../logging/logger.js';
import {
  type Cancel,
  type Clock,
  type Scheduler,
  SYSTEM_TIME,
  schedulePeriodicAsync,
} from '../util/clock.js';
import { CorruptCheckpointError, readOffsetCheckpoint, writeOffsetCheckpoint } from './checkpoint.js';
import {
  Cleaner,
  type CleanerSettings,
  type CleanerStats,
  CleaningAbortedError,
  type CleanRange,
} from './cleaner.js';
import { KafkaStorageError } from './errors.js';
import { CLEANER_OFFSET_CHECKPOINT_FILE, type StorageHooks } from './files.js';
import type { LogSegment } from './log-segment.js';
import type { PartitionLog } from './partition-log.js';
import { DEFAULT_PRODUCER_ID_EXPIRATION_MS } from './producer-state.js';

export interface LogCleanerOptions {
  time?: Clock;
  logger?: Logger;
  hooks?: StorageHooks;
  /** log.cleaner.dedupe.buffer.size, default 134217728 (128 MiB). */
  dedupeBufferBytes?: number;
  /** log.cleaner.io.buffer.size, default 524288: bytes read per chunk. */
  ioBufferBytes?: number;
  /** producer.id.expiration.ms, default 86400000. */
  producerIdExpirationMs?: number;
}

/** A log the cleaner may clean, and the log dir holding it (for its checkpoint file). */
export interface CleanableLog {
  readonly log: PartitionLog;
  /** Absent for a standalone log: its first dirty offset then lives in memory only. */
  readonly logDir?: string;
}

/** Kafka's LogToClean: a log's cleanable range and dirtiness. */
export interface LogToClean extends CleanRange {
  readonly log: PartitionLog;
  /** Bytes of the segments wholly below the first dirty offset. */
  readonly cleanBytes: number;
  /** Bytes of the segments from the one holding the first dirty offset up to the uncleanable one. */
  readonly cleanableBytes: number;
  readonly cleanableRatio: number;
  /** A dirty segment is older than max.compaction.lag.ms (KIP-354). */
  readonly needCompactionNow: boolean;
}

export const DEFAULT_DEDUPE_BUFFER_BYTES = 128 * 1024 * 1024;
export const DEFAULT_CLEANER_IO_BUFFER_BYTES = 512 * 1024;
export { DEFAULT_PRODUCER_ID_EXPIRATION_MS };

interface DirtyOffset {
  offset: number;
  /** The log's truncation epoch when the offset was recorded. */
  epoch: number;
}

function key(log: PartitionLog): string {
  return `${log.topicPartition.topic}-${log.topicPartition.partition}`;
}

export class LogCleaner {
  private readonly time: Clock;
  private readonly logger: Logger | undefined;
  private readonly cleaner: Cleaner;
  private readonly dirty = new Map<PartitionLog, DirtyOffset>();
  private readonly uncleanable = new Set<PartitionLog>();
  /** The clean in progress; `aborted` makes it stop at its next chunk. */
  private current: { log: PartitionLog; aborted: boolean; done: Promise<unknown> } | null = null;
  /** Cleans run one at a time. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Checkpoint file writes, one at a time. */
  private checkpointWrites: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly source: () => Iterable<CleanableLog>,
    opts: LogCleanerOptions = {},
  ) {
    this.time = opts.time ?? SYSTEM_TIME;
    this.logger = opts.logger;
    const settings: CleanerSettings = {
      dedupeBufferBytes: opts.dedupeBufferBytes ?? DEFAULT_DEDUPE_BUFFER_BYTES,
      ioBufferBytes: opts.ioBufferBytes ?? DEFAULT_CLEANER_IO_BUFFER_BYTES,
      producerIdExpirationMs: opts.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS,
    };
    if (!(settings.dedupeBufferBytes > 0) || !(settings.ioBufferBytes > 0)) {
      throw new RangeError('the cleaner needs positive buffer sizes');
    }
    this.cleaner = new Cleaner(settings, (log) => this.checkDone(log), opts.hooks, opts.logger, this.time);
  }

  // ---- first dirty offsets and their checkpoint ----

  /** Reads a log dir's cleaner-offset-checkpoint ("<topic>-<partition>" -> offset); null if none. */
  static async readCheckpoint(logDir: string, logger?: Logger): Promise<Map<string, bigint> | null> {
    try {
      return await readOffsetCheckpoint(join(logDir, CLEANER_OFFSET_CHECKPOINT_FILE));
    } catch (e) {
      if (!(e instanceof CorruptCheckpointError)) throw e;
      // Safe fallback: every compacted log is dirty from its start (a full clean, nothing lost).
      logger?.warn({ err: e }, 'ignoring a malformed cleaner-offset-checkpoint');
      return null;
    }
  }

  /** Sets a log's first dirty offset (from the checkpoint when the log is opened). */
  setFirstDirtyOffset(log: PartitionLog, offset: bigint): void {
    this.dirty.set(log, { offset: Number(offset), epoch: log.truncationEpoch });
  }

  /** The checkpointed first dirty offset of `log` (its log start offset when none). */
  firstDirtyOffset(log: PartitionLog): bigint {
    const d = this.dirty.get(log);
    return d === undefined ? log.logStartOffset : BigInt(d.offset);
  }

  /** Whether a failed clean took `log` out of cleaning (until restart). */
  isUncleanable(log: PartitionLog): boolean {
    return this.uncleanable.has(log);
  }

  private writeCheckpoint(logDir: string): Promise<void> {
    const write = async () => {
      const entries = [];
      for (const { log, logDir: d } of this.source()) {
        const e = this.dirty.get(log);
        if (d === logDir && e !== undefined)
          entries.push({ ...log.topicPartition, offset: BigInt(e.offset) });
      }
      await writeOffsetCheckpoint(logDir, CLEANER_OFFSET_CHECKPOINT_FILE, entries);
    };
    const run = this.checkpointWrites.then(write, write);
    this.checkpointWrites = run.catch(() => {});
    return run;
  }

  private logDirOf(log: PartitionLog): string | undefined {
    for (const e of this.source()) if (e.log === log) return e.logDir;
    return undefined;
  }

  // ---- what to clean ----

  /** Kafka's cleanableOffsets (see the header); also whether the checkpoint had to be reset. */
  async cleanableOffsets(log: PartitionLog, nowMs: number): Promise<CleanRange & { reset: boolean }> {
    const logStart = Number(log.logStartOffset);
    const logEnd = Number(log.logEndOffset);
    const d = this.dirty.get(log);
    let firstDirty = d?.offset ?? logStart;
    let reset = false;
    if (
      firstDirty < logStart ||
      firstDirty > logEnd ||
      (d !== undefined && d.epoch !== log.truncationEpoch)
    ) {
      if (d !== undefined && !log.config.cleanupPolicy.includes('delete')) {
        this.logger?.warn(
          { dir: log.dir, checkpoint: d.offset, logStart, logEnd },
          'resetting the first dirty offset to the log start offset',
        );
      }
      firstDirty = logStart;
      reset = true;
    }
    const segments = log.segmentsSnapshot();
    const active = segments[segments.length - 1];
    let uncleanable = Math.min(active.baseOffset, Number(log.lastStableOffset));
    const minLag = log.config.minCompactionLagMs;
    if (minLag > 0) {
      for (const seg of dirtyNonActive(segments, firstDirty)) {
        await seg.ensureLoaded();
        if (seg.largestTimestamp > nowMs - minLag) {
          uncleanable = Math.min(uncleanable, seg.baseOffset);
          break;
        }
      }
    }
    // Down to a segment boundary: only whole segments below it are cleanable.
    let boundary = segments[0].baseOffset;
    for (const s of segments) if (s.baseOffset <= uncleanable) boundary = s.baseOffset;
    return { firstDirtyOffset: firstDirty, firstUncleanableOffset: Math.max(firstDirty, boundary), reset };
  }

  /** Kafka's LogToClean for `log` at `nowMs`. */
  async logToClean(log: PartitionLog, nowMs: number): Promise<LogToClean & { reset: boolean }> {
    const range = await this.cleanableOffsets(log, nowMs);
    const { firstDirtyOffset: dirty, firstUncleanableOffset: end } = range;
    const segments = log.segmentsSnapshot();
    let cleanBytes = 0;
    let cleanableBytes = 0;
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      const next = i + 1 < segments.length ? segments[i + 1].baseOffset : Number.POSITIVE_INFINITY;
      if (next <= dirty) cleanBytes += s.size;
      else if (s.baseOffset < end) cleanableBytes += s.size;
    }
    const total = cleanBytes + cleanableBytes;
    let needCompactionNow = false;
    const maxLag = log.config.maxCompactionLagMs;
    if (Number.isFinite(maxLag)) {
      // KIP-354: the earliest first-batch timestamp of the dirty inactive segments.
      const cleanUntil = nowMs - Math.max(maxLag, 0);
      for (const seg of dirtyNonActive(segments, dirty)) {
        await seg.ensureLoaded();
        const ts = seg.rollingBasedTimestamp;
        if (ts !== null && ts > 0 && ts < cleanUntil) {
          needCompactionNow = true;
          break;
        }
      }
    }
    return {
      log,
      ...range,
      cleanBytes,
      cleanableBytes,
      cleanableRatio: total > 0 ? cleanableBytes / total : 0,
      needCompactionNow,
    };
  }

  /** Kafka's grabFilthiestCompactedLog: the log to clean next, or null. */
  async grabFilthiestLog(nowMs = this.time.now()): Promise<LogToClean | null> {
    let best: LogToClean | null = null;
    for (const { log } of [...this.source()]) {
      if (!log.config.cleanupPolicy.includes('compact') || !log.isOpen || this.uncleanable.has(log)) continue;
      let ltc: LogToClean & { reset: boolean };
      try {
        ltc = await this.logToClean(log, nowMs);
      } catch (e) {
        // Closed, or a segment retired under the look (retention): look again next time.
        if (!log.isOpen || e instanceof KafkaStorageError) continue;
        this.markUncleanable(log, e);
        continue;
      }
      if (ltc.reset) await this.recordFirstDirty(log, ltc.firstDirtyOffset, log.truncationEpoch);
      if (ltc.cleanBytes + ltc.cleanableBytes === 0) continue;
      const eligible =
        (ltc.needCompactionNow && ltc.cleanableBytes > 0) ||
        ltc.cleanableRatio > log.config.minCleanableDirtyRatio;
      if (!eligible) continue;
      if (best === null || ltc.cleanableRatio > best.cleanableRatio) best = ltc;
    }
    return best;
  }

  // ---- cleaning ----

  /**
   * One round of the scheduled work (Kafka's tryCleanFilthiestLog): cleans the filthiest
   * eligible log. Returns its stats, or null when no log needs cleaning.
   */
  runOnce(nowMs?: number): Promise<CleanerStats | null> {
    return this.exclusive(async () => {
      if (this.stopped) return null;
      const now = nowMs ?? this.time.now();
      const ltc = await this.grabFilthiestLog(now);
      if (ltc === null) return null;
      return this.doClean(ltc.log, ltc, now, false, false);
    });
  }

  /** Runs rounds until no log needs cleaning (or the cleaner stops); returns their stats. */
  async cleanNow(nowMs?: number): Promise<CleanerStats[]> {
    const out: CleanerStats[] = [];
    for (;;) {
      const s = await this.runOnce(nowMs);
      if (s === null) return out;
      out.push(s);
    }
  }

  /**
   * Cleans `log` now, whatever its dirty ratio (tests, benchmarks, tools); min.compaction.lag.ms
   * and the active segment still hold. Without dirty records the clean part is still rewritten,
   * dropping tombstones whose delete horizon passed. Returns null when the log has no inactive
   * segment to clean. Errors (other than an abort) are thrown, and the log is marked uncleanable.
   */
  cleanLog(log: PartitionLog, opts: { nowMs?: number } = {}): Promise<CleanerStats | null> {
    return this.exclusive(async () => {
      if (this.stopped) throw new CleaningAbortedError('the log cleaner is stopped');
      const now = opts.nowMs ?? this.time.now();
      const range = await this.cleanableOffsets(log, now);
      if (range.firstUncleanableOffset <= log.segmentsSnapshot()[0].baseOffset) return null;
      return this.doClean(log, range, now, true, true);
    });
  }

  private async doClean(
    log: PartitionLog,
    range: CleanRange,
    nowMs: number,
    sweep: boolean,
    rethrow: boolean,
  ): Promise<CleanerStats | null> {
    const epoch = log.truncationEpoch;
    const current = { log, aborted: false, done: Promise.resolve() as Promise<unknown> };
    this.current = current;
    const clean = this.cleaner.clean(log, range, nowMs, sweep);
    current.done = clean.catch(() => {});
    try {
      const stats = await clean;
      await this.recordFirstDirty(log, stats.endOffset, epoch);
      this.logger?.info(
        { ...stats, bytesRead: stats.mapBytesRead + stats.bytesRead },
        `cleaned log ${key(log)}: ${stats.recordsRemoved} of ${stats.recordsRead} records removed`,
      );
      return stats;
    } catch (e) {
      if (e instanceof CleaningAbortedError) {
        this.logger?.info({ dir: log.dir, reason: e.message }, 'log cleaning aborted');
        if (rethrow) throw e;
        return null;
      }
      this.markUncleanable(log, e);
      if (rethrow) throw e;
      return null;
    } finally {
      this.current = null;
    }
  }

  private markUncleanable(log: PartitionLog, e: unknown): void {
    this.uncleanable.add(log);
    this.logger?.error({ err: e, dir: log.dir }, 'log cleaning failed; the log is marked uncleanable');
  }

  private async recordFirstDirty(log: PartitionLog, offset: number, epoch: number): Promise<void> {
    this.dirty.set(log, { offset, epoch });
    const logDir = this.logDirOf(log);
    if (logDir !== undefined) await this.writeCheckpoint(logDir);
  }

  /** Called by the cleaner between chunks: stops the clean when asked to. */
  private checkDone(log: PartitionLog): void {
    if (this.stopped || this.current?.aborted || !log.isOpen) {
      throw new CleaningAbortedError(`cleaning of ${log.dir} was aborted`);
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }

  // ---- schedule and stopping ----

  /** Schedules the cleaning rounds every `backoffMs` (log.cleaner.backoff.ms); returns a cancel. */
  schedule(scheduler: Scheduler, backoffMs: number, onError: (name: string, e: unknown) => void): Cancel {
    return schedulePeriodicAsync(
      scheduler,
      'kafka-log-cleaner',
      backoffMs,
      async () => {
        await this.cleanNow();
      },
      onError,
    );
  }

  /** Stops a clean of `log` in progress (its old segments stay) and waits for it to end. */
  async abortCleaning(log: PartitionLog): Promise<void> {
    const c = this.current;
    if (c?.log !== log) return;
    c.aborted = true;
    await c.done;
  }

  /**
   * A log being deleted (already gone from the source): stops its clean and rewrites the
   * checkpoint of `logDir` without it.
   */
  async forgetLog(log: PartitionLog, logDir?: string): Promise<void> {
    await this.abortCleaning(log);
    this.uncleanable.delete(log);
    if (this.dirty.delete(log) && logDir !== undefined) {
      await this.writeCheckpoint(logDir).catch((e) =>
        this.logger?.warn({ err: e, logDir }, 'could not rewrite the cleaner-offset-checkpoint'),
      );
    }
  }

  /** Stops cleaning for good: aborts the clean in progress and waits for it (LogManager.close). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.current) this.current.aborted = true;
    await this.chain;
  }
}

/** Inactive segments from the one holding `firstDirty` on. */
function dirtyNonActive(segments: readonly LogSegment[], firstDirty: number): LogSegment[] {
  const out: LogSegment[] = [];
  for (let i = 0; i + 1 < segments.length; i++) {
    if (segments[i + 1].baseOffset > firstDirty) out.push(segments[i]);
  }
  return out;
}
