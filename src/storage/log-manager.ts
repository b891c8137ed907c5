// The log manager (Kafka's LogManager): owns the log dirs and every partition log in them.
//
// - Start: in each log dir, reads the clean-shutdown marker (and removes it, durably), the
//   recovery-point and log-start-offset checkpoints, then opens every `<topic>-<partition>/`
//   directory with bounded concurrency ("bounded" limits open files and memory, not threads).
//   After a clean shutdown the per-partition work is synchronous (log-loader.ts): a broker with
//   10,000 partitions otherwise pays a threadpool round trip, a promise and some garbage for each
//   of ~10 fs calls per partition, before it serves anything. Leftover `*-delete` directories are
//   removed in the background.
// - Creates logs (in the dir holding the fewest), deletes them as Kafka does: rename to
//   `<topic>-<partition>.<uuid>-delete`, then remove in the background.
// - Periodic work through a Scheduler: retention (log.retention.check.interval.ms), recovery-point
//   and log-start-offset checkpoints (log.flush.offset.checkpoint.interval.ms,
//   log.flush.start.offset.checkpoint.interval.ms), the flush.ms check of page-cache logs, the
//   expiration of idle producers (producer.id.expiration.check.interval.ms), and
//   the log cleaner (log.cleaner.backoff.ms, when log.cleaner.enable) compacting logs whose
//   cleanup.policy includes "compact" (log-cleaner.ts; `cleaner` is exposed for tests and tools).
// - close(): the cleaner stops (a clean in progress is aborted, old segments intact), every log
//   flushes and writes its indexes, the checkpoints are written with recovery point = log end
//   offset, then the clean-shutdown marker: the next start skips recovery.
//
// Invariant: a log dir carries the clean-shutdown marker only while no log in it is open.

import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logging/logger.js';
import { type Cancel, type NodeTime, SYSTEM_TIME, schedulePeriodicAsync } from '../util/clock.js';
import {
  CorruptCheckpointError,
  consumeCleanShutdownMarker,
  readOffsetCheckpoint,
  writeCleanShutdownMarker,
  writeOffsetCheckpoint,
} from './checkpoint.js';
import { type LogConfig, makeLogConfig } from './config.js';
import {
  deleteDirName,
  fsyncDir,
  isDeleteDirName,
  isLegalTopicName,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  parsePartitionDirName,
  partitionDirName,
  RECOVERY_POINT_CHECKPOINT_FILE,
  type StorageHooks,
  type TopicPartition,
} from './files.js';
import { LogCleaner } from './log-cleaner.js';
import { PartitionLog } from './partition-log.js';
import { readPartitionTopicId, writePartitionTopicId } from './partition-metadata.js';
import { TailCache } from './tail-cache.js';

export interface LogManagerOptions {
  logDirs: string[];
  /** Broker-level defaults (log.segment.bytes, log.retention.*, ...) over Kafka's. */
  defaultConfig?: Partial<LogConfig>;
  /** Topic-level overrides (from the metadata image), for logs found at start and created later. */
  topicConfig?: (topic: string) => Partial<LogConfig> | undefined;
  /** The node's clock and timers (the periodic tasks below run on it). Default: the real ones. */
  time?: NodeTime;
  hooks?: StorageHooks;
  logger?: Logger;
  /** Logs opened at once per log dir at start. Default 16. */
  recoveryConcurrency?: number;
  /** Memory for the hot tails of all logs together. Default 64 MiB. */
  tailCacheBytes?: number;
  /** log.retention.check.interval.ms, default 300000. */
  retentionCheckIntervalMs?: number;
  /** log.flush.offset.checkpoint.interval.ms, default 60000. */
  recoveryPointCheckpointIntervalMs?: number;
  /** log.flush.start.offset.checkpoint.interval.ms, default 60000. */
  logStartOffsetCheckpointIntervalMs?: number;
  /** How often page-cache logs check flush.ms (log.flush.scheduler.interval.ms), default 1000. */
  flushCheckIntervalMs?: number;
  /** Topics whose directories another component owns. Default: the KRaft metadata log. */
  isExternalTopic?: (topic: string) => boolean;
  /** log.cleaner.enable, default true: schedule the log cleaner (compaction). */
  cleanerEnable?: boolean;
  /** log.cleaner.backoff.ms, default 15000: pause between cleaning runs when nothing is dirty. */
  cleanerBackoffMs?: number;
  /** log.cleaner.dedupe.buffer.size, default 134217728: memory of the cleaner's offset map. */
  cleanerDedupeBufferBytes?: number;
  /** log.cleaner.io.buffer.size, default 524288: bytes the cleaner reads at a time. */
  cleanerIoBufferBytes?: number;
  /**
   * producer.id.expiration.ms, default 86400000: idle producers are forgotten (producer-state.ts);
   * the cleaner keeps active producers' last batch.
   */
  producerIdExpirationMs?: number;
  /** producer.id.expiration.check.interval.ms, default 600000. */
  producerIdExpirationCheckIntervalMs?: number;
}

interface LogEntry {
  readonly log: PartitionLog;
  readonly logDir: string;
  /** The topic id its partition.metadata records, once read or written. */
  topicId?: string;
}

function key(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
}

export class LogManager {
  readonly logDirs: readonly string[];
  private readonly opts: LogManagerOptions;
  private readonly time: NodeTime;
  private readonly hooks: StorageHooks;
  private readonly logger: Logger | undefined;
  private readonly cache: TailCache;
  private readonly logs = new Map<string, LogEntry>();
  /** The same entries by topic, for per-topic work (config changes) without a walk of every log. */
  private readonly topicLogs = new Map<string, Set<LogEntry>>();
  private readonly creating = new Map<string, Promise<PartitionLog>>();
  /** Log dir chosen for each log being created (counts toward placement before it exists). */
  private readonly creatingIn = new Map<string, string>();
  private readonly deletions = new Set<Promise<void>>();
  private cancels: Cancel[] = [];
  private checkpointLock: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Log dirs that carried a clean-shutdown marker at start (their logs were not rescanned). */
  readonly cleanShutdownDirs: ReadonlySet<string>;
  /** The log cleaner: scheduled by startup() when cleanerEnable; `cleanNow()`/`cleanLog()` run it now. */
  readonly cleaner: LogCleaner;

  private constructor(opts: LogManagerOptions, cleanDirs: Set<string>) {
    this.opts = opts;
    this.logDirs = opts.logDirs;
    this.time = opts.time ?? SYSTEM_TIME;
    this.hooks = opts.hooks ?? {};
    this.logger = opts.logger;
    this.cache = new TailCache(opts.tailCacheBytes ?? 64 * 1024 * 1024);
    this.cleanShutdownDirs = cleanDirs;
    this.cleaner = new LogCleaner(() => this.logs.values(), {
      time: this.time,
      logger: this.logger,
      hooks: this.hooks,
      dedupeBufferBytes: opts.cleanerDedupeBufferBytes,
      ioBufferBytes: opts.cleanerIoBufferBytes,
      producerIdExpirationMs: opts.producerIdExpirationMs,
    });
  }

  /** Opens every log in the log dirs (recovering them as needed). Call startup() to schedule. */
  static async open(opts: LogManagerOptions): Promise<LogManager> {
    if (opts.logDirs.length === 0) throw new Error('no log dirs');
    const clean = new Set<string>();
    const mgr = new LogManager(opts, clean);
    const isExternal = opts.isExternalTopic ?? ((t: string) => t === '__cluster_metadata');
    const concurrency = opts.recoveryConcurrency ?? 16;
    await Promise.all(
      opts.logDirs.map(async (logDir) => {
        await mkdir(logDir, { recursive: true });
        const hadClean = await consumeCleanShutdownMarker(logDir);
        if (hadClean) clean.add(logDir);
        const recoveryPoints = await mgr.readCheckpoint(logDir, RECOVERY_POINT_CHECKPOINT_FILE);
        const startOffsets = await mgr.readCheckpoint(logDir, LOG_START_OFFSET_CHECKPOINT_FILE);
        const dirtyOffsets = await LogCleaner.readCheckpoint(logDir, mgr.logger);
        const found: TopicPartition[] = [];
        // One config per topic: resolving it (the metadata image's topic configs) per partition
        // is a measurable share of opening thousands of partitions.
        const configs = new Map<string, LogConfig>();
        const topicConfig = (topic: string): LogConfig => {
          let c = configs.get(topic);
          if (!c) {
            c = mgr.configFor(topic);
            configs.set(topic, c);
          }
          return c;
        };
        for (const d of await readdir(logDir, { withFileTypes: true })) {
          if (!d.isDirectory()) continue;
          if (isDeleteDirName(d.name)) {
            mgr.removeInBackground(join(logDir, d.name));
            continue;
          }
          const tp = parsePartitionDirName(d.name);
          if (tp && !isExternal(tp.topic)) found.push(tp);
        }
        await mapLimit(found, concurrency, async (tp) => {
          const k = key(tp.topic, tp.partition);
          if (mgr.logs.has(k)) throw new Error(`partition ${k} is in two log dirs`);
          const log = await PartitionLog.open({
            dir: join(logDir, partitionDirName(tp)),
            topicPartition: tp,
            config: topicConfig(tp.topic),
            recoveryPoint: recoveryPoints?.get(k) ?? 0n,
            logStartOffset: startOffsets?.get(k) ?? 0n,
            hadCleanShutdown: hadClean,
            time: mgr.time,
            hooks: mgr.hooks,
            tailCache: mgr.cache,
            logger: mgr.logger,
            producerIdExpirationMs: opts.producerIdExpirationMs,
          });
          const firstDirty = dirtyOffsets?.get(k);
          if (firstDirty !== undefined) mgr.cleaner.setFirstDirtyOffset(log, firstDirty);
          mgr.track(k, { log, logDir });
        });
      }),
    );
    mgr.logger?.info(
      { logs: mgr.logs.size, logDirs: opts.logDirs, cleanShutdown: [...clean] },
      'loaded partition logs',
    );
    return mgr;
  }

  private track(k: string, entry: LogEntry): void {
    this.logs.set(k, entry);
    const t = entry.log.topicPartition.topic;
    let set = this.topicLogs.get(t);
    if (!set) {
      set = new Set();
      this.topicLogs.set(t, set);
    }
    set.add(entry);
  }

  private untrack(k: string, entry: LogEntry): void {
    this.logs.delete(k);
    const t = entry.log.topicPartition.topic;
    const set = this.topicLogs.get(t);
    set?.delete(entry);
    if (set?.size === 0) this.topicLogs.delete(t);
  }

  private async readCheckpoint(logDir: string, file: string): Promise<Map<string, bigint> | null> {
    try {
      return await readOffsetCheckpoint(join(logDir, file));
    } catch (e) {
      if (!(e instanceof CorruptCheckpointError)) throw e;
      // Safe fallback: no recovery point means every segment is rescanned; no start offset means
      // the start is the first segment's base.
      this.logger?.warn({ err: e }, 'ignoring a malformed checkpoint file');
      return null;
    }
  }

  private configFor(topic: string, overrides?: Partial<LogConfig>): LogConfig {
    return makeLogConfig(this.opts.defaultConfig, this.opts.topicConfig?.(topic), overrides);
  }

  /** Starts the periodic tasks. */
  startup(): void {
    const onError = (name: string, e: unknown) => this.logger?.error({ err: e, task: name }, 'task failed');
    const every = (name: string, periodMs: number, task: () => Promise<void>) =>
      schedulePeriodicAsync(this.time, name, periodMs, task, onError);
    this.cancels.push(
      every('kafka-log-retention', this.opts.retentionCheckIntervalMs ?? 300_000, async () => {
        await this.deleteRetainedSegments();
      }),
      every('kafka-recovery-point-checkpoint', this.opts.recoveryPointCheckpointIntervalMs ?? 60_000, () =>
        this.checkpointRecoveryPoints(),
      ),
      every('kafka-log-start-offset-checkpoint', this.opts.logStartOffsetCheckpointIntervalMs ?? 60_000, () =>
        this.checkpointLogStartOffsets(),
      ),
      every('kafka-log-flusher', this.opts.flushCheckIntervalMs ?? 1000, async () => {
        const now = this.time.now();
        for (const { log } of this.logs.values()) log.flushIfDue(now);
      }),
      every(
        'kafka-producer-expiration-check',
        this.opts.producerIdExpirationCheckIntervalMs ?? 600_000,
        async () => {
          this.removeExpiredProducers();
        },
      ),
    );
    if (this.opts.cleanerEnable ?? true) {
      this.cancels.push(this.cleaner.schedule(this.time, this.opts.cleanerBackoffMs ?? 15_000, onError));
    }
  }

  /** Forgets the producers idle longer than producer.id.expiration.ms, in every log. */
  removeExpiredProducers(nowMs = this.time.now()): number {
    let n = 0;
    for (const { log } of this.logs.values()) n += log.producerState.removeExpiredProducers(nowMs);
    return n;
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(key(topic, partition))?.log;
  }

  allLogs(): PartitionLog[] {
    return [...this.logs.values()].map((e) => e.log);
  }

  /** The log dir holding a partition's log. */
  logDirOf(topic: string, partition: number): string | undefined {
    return this.logs.get(key(topic, partition))?.logDir;
  }

  /**
   * The partition's log, created (empty, in the emptiest log dir) if it does not exist. Given the
   * topic's id, the log is checked against its partition.metadata (partition-metadata.ts): one
   * that belongs to an earlier topic of the same name is deleted and replaced by an empty log; one
   * that records no id (made before the file existed) is given this one.
   */
  getOrCreateLog(
    topic: string,
    partition: number,
    config?: Partial<LogConfig>,
    topicId?: string,
  ): Promise<PartitionLog> {
    if (this.closed) return Promise.reject(new Error('log manager is closed'));
    const k = key(topic, partition);
    const existing = this.logs.get(k);
    if (existing && (topicId === undefined || existing.topicId === topicId))
      return Promise.resolve(existing.log);
    const pending = this.creating.get(k);
    if (pending) return pending;
    const p = this.resolve(topic, partition, config, topicId).finally(() => this.creating.delete(k));
    this.creating.set(k, p);
    return p;
  }

  private async resolve(
    topic: string,
    partition: number,
    config: Partial<LogConfig> | undefined,
    topicId: string | undefined,
  ): Promise<PartitionLog> {
    const k = key(topic, partition);
    const existing = this.logs.get(k);
    if (existing && topicId !== undefined) {
      const recorded = existing.topicId ?? readPartitionTopicId(existing.log.dir);
      if (recorded === null) await writePartitionTopicId(existing.log.dir, topicId);
      if (recorded === null || recorded === topicId) {
        existing.topicId = topicId;
        return existing.log;
      }
      this.logger?.warn(
        { topic, partition, topicId, recorded },
        'partition log belongs to an earlier topic of this name: deleting it',
      );
      await this.remove(k, existing);
    } else if (existing) {
      return existing.log;
    }
    const log = await this.create(topic, partition, config);
    if (topicId !== undefined) {
      await writePartitionTopicId(log.dir, topicId);
      this.logs.get(k)!.topicId = topicId;
    }
    return log;
  }

  private async create(topic: string, partition: number, config?: Partial<LogConfig>): Promise<PartitionLog> {
    if (!isLegalTopicName(topic)) throw new Error(`illegal topic name ${JSON.stringify(topic)}`);
    if (!Number.isInteger(partition) || partition < 0) throw new Error(`illegal partition ${partition}`);
    const config_ = this.configFor(topic, config);
    const counts = new Map<string, number>(this.logDirs.map((d) => [d, 0]));
    for (const e of this.logs.values()) counts.set(e.logDir, (counts.get(e.logDir) ?? 0) + 1);
    for (const d of this.creatingIn.values()) counts.set(d, (counts.get(d) ?? 0) + 1);
    const logDir = [...counts].sort((a, b) => a[1] - b[1])[0][0];
    const k = key(topic, partition);
    this.creatingIn.set(k, logDir);
    const tp = { topic, partition };
    let log: PartitionLog;
    try {
      log = await PartitionLog.open({
        dir: join(logDir, partitionDirName(tp)),
        topicPartition: tp,
        config: config_,
        time: this.time,
        hooks: this.hooks,
        tailCache: this.cache,
        logger: this.logger,
        producerIdExpirationMs: this.opts.producerIdExpirationMs,
      });
      await fsyncDir(logDir);
    } finally {
      this.creatingIn.delete(k);
    }
    this.track(k, { log, logDir });
    this.logger?.info({ topic, partition, logDir }, 'created partition log');
    return log;
  }

  /** Applies changed topic configs to every open log of the topic. */
  updateTopicConfig(topic: string, overrides?: Partial<LogConfig>): void {
    const entries = this.topicLogs.get(topic);
    if (!entries) return;
    // One LogConfig for the topic's logs: configs are replaced, never changed in place.
    const config = this.configFor(topic, overrides);
    for (const { log } of entries) log.updateConfig(config);
  }

  /**
   * Deletes a partition's log: closed without flushing, its directory renamed to
   * `<topic>-<partition>.<uuid>-delete`, then removed in the background. False if absent.
   */
  async deleteLog(topic: string, partition: number): Promise<boolean> {
    const k = key(topic, partition);
    await this.creating.get(k)?.catch(() => {});
    const entry = this.logs.get(k);
    if (!entry) return false;
    await this.remove(k, entry);
    return true;
  }

  /** deleteLog's work, for a caller that is itself the pending creation of `k`. */
  private async remove(k: string, entry: LogEntry): Promise<void> {
    const { topic, partition } = entry.log.topicPartition;
    this.untrack(k, entry);
    await this.cleaner.forgetLog(entry.log, entry.logDir);
    await entry.log.abort();
    const target = join(entry.logDir, deleteDirName({ topic, partition }, randomUUID().replaceAll('-', '')));
    await rename(entry.log.dir, target);
    await fsyncDir(entry.logDir);
    this.removeInBackground(target);
    this.logger?.info({ topic, partition, dir: target }, 'deleted partition log');
  }

  private removeInBackground(path: string): void {
    const p = rm(path, { recursive: true, force: true })
      .catch((e) => this.logger?.warn({ err: e, path }, 'could not remove a deleted log directory'))
      .finally(() => this.deletions.delete(p));
    this.deletions.add(p);
  }

  /** Resolves once the background removals of deleted logs have finished. */
  async awaitDeletions(): Promise<void> {
    while (this.deletions.size > 0) await Promise.all([...this.deletions]);
  }

  /** Retention for every log (the scheduled task). Returns the segments deleted. */
  async deleteRetainedSegments(nowMs = this.time.now()): Promise<number> {
    let n = 0;
    for (const { log } of [...this.logs.values()]) {
      try {
        n += await log.deleteRetainedSegments(nowMs);
      } catch (e) {
        this.logger?.error({ err: e, dir: log.dir }, 'retention failed');
      }
    }
    return n;
  }

  private serialCheckpoint(fn: () => Promise<void>): Promise<void> {
    const run = this.checkpointLock.then(fn, fn);
    this.checkpointLock = run.catch(() => {});
    return run;
  }

  /** Writes recovery-point-offset-checkpoint in every log dir. */
  checkpointRecoveryPoints(): Promise<void> {
    return this.serialCheckpoint(() =>
      this.writeCheckpoints(RECOVERY_POINT_CHECKPOINT_FILE, (log) => log.recoveryPoint),
    );
  }

  /** Writes log-start-offset-checkpoint in every log dir. */
  checkpointLogStartOffsets(): Promise<void> {
    return this.serialCheckpoint(() =>
      this.writeCheckpoints(LOG_START_OFFSET_CHECKPOINT_FILE, (log) => log.logStartOffset),
    );
  }

  /** Both checkpoints. */
  async checkpoint(): Promise<void> {
    await this.checkpointRecoveryPoints();
    await this.checkpointLogStartOffsets();
  }

  private async writeCheckpoints(file: string, value: (log: PartitionLog) => bigint): Promise<void> {
    await Promise.all(
      this.logDirs.map((logDir) => {
        const entries = [...this.logs.values()]
          .filter((e) => e.logDir === logDir)
          .map((e) => ({ ...e.log.topicPartition, offset: value(e.log) }));
        return writeOffsetCheckpoint(logDir, file, entries);
      }),
    );
  }

  /**
   * Clean shutdown: stops the schedule, closes every log (flush, fsync, indexes), writes the
   * checkpoints, then the clean-shutdown marker in each log dir whose logs all closed cleanly.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.cancels.splice(0)) c();
    await this.cleaner.shutdown();
    await Promise.allSettled([...this.creating.values()]);
    const failedDirs = new Set<string>();
    await mapLimit([...this.logs.values()], 64, async (e) => {
      if (e.log.offlineReason !== null) failedDirs.add(e.logDir);
      try {
        await e.log.close();
      } catch (err) {
        failedDirs.add(e.logDir);
        this.logger?.error({ err, dir: e.log.dir }, 'log did not close cleanly');
      }
    });
    await this.awaitDeletions();
    await this.checkpoint();
    for (const logDir of this.logDirs) {
      if (!failedDirs.has(logDir)) await writeCleanShutdownMarker(logDir);
    }
    this.logger?.info({ logs: this.logs.size }, 'log manager closed cleanly');
  }

  /**
   * Closes every file without flushing, checkpointing or writing the clean-shutdown marker: the
   * state a crash leaves (tests), or the last resort after a failure.
   */
  async abort(): Promise<void> {
    this.closed = true;
    for (const c of this.cancels.splice(0)) c();
    await this.cleaner.shutdown();
    await Promise.allSettled([...this.creating.values()]);
    await Promise.all([...this.logs.values()].map((e) => e.log.abort()));
  }
}
