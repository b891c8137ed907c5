// The metadata log on disk (Kafka's KafkaMetadataLog): `__cluster_metadata-0` in Kafka's layout,
// an I/O adapter beside the sans-IO Raft core (raft-node.ts never imports this file).
//
//   <metadata.log.dir>/__cluster_metadata-0/
//     00000000000000000000.log (.index, .timeindex)   segments of the v2 batches RaftNode made,
//                                                      partitionLeaderEpoch and LeaderChange
//                                                      control records as they are
//     00000000000000000042-0000000003.checkpoint       KIP-630 snapshots (snapshot.ts's format)
//     quorum-state                                     quorum-state-file.ts
//
// Shape: RaftLog's reads, appends and truncations are synchronous (the page-cache view the state
// machine needs); disk I/O is asynchronous. So the log is two layers:
// - the in-memory view is a MemoryRaftLog (this class extends it): batches above the latest
//   snapshot, the leader epoch cache (rebuilt from the batches' epochs at open, as Kafka rebuilds
//   leader-epoch-checkpoint when it does not trust it), the three latest snapshots;
// - the files are a storage PartitionLog (segments, indexes, recovery that truncates at the first
//   bad batch), in page-cache mode: the Raft core decides when to fsync (its flush outputs), not
//   flush.messages. PartitionLog does not fit RaftLog directly: its truncation, reads and segment
//   deletion are asynchronous (a truncation refuses appends while it runs) and it keeps no epoch
//   cache; so every mutation is applied to the view at once and queued, in call order, for the
//   files. An append goes straight to PartitionLog's own write queue when nothing ordered is
//   queued before it.
//
// Durability as RaftNode expects it: `flush(offset)` resolves once an fdatasync covering every
// append made before the call completed; the driver then calls handleFlushed (see
// performDiskOutput). Snapshots are written as `.checkpoint.part`, fsynced, renamed to
// `.checkpoint`, and the directory fsynced (Kafka's FileRawSnapshotWriter); only then are the
// segments below the snapshot deleted (createSnapshot) or the whole log replaced (installSnapshot),
// so a crash at any point leaves a snapshot plus a log that covers everything after it. Snapshots
// beyond the three latest are renamed `.checkpoint.deleted` and removed, as Kafka does.
//
// At open: `.checkpoint.part` and `.checkpoint.deleted` leftovers go; the latest snapshot whose
// header, footer and CRCs are intact is loaded (broken ones are deleted); the segments are
// recovered by PartitionLog (CRC-checked rescan, torn tail truncated); batches below the snapshot
// are skipped, and a log that ends before the snapshot restarts empty at its end (Kafka's
// truncateFullyAndStartAt). A batch whose epoch goes backwards cannot be in a Raft log: the log is
// cut there. A failed disk operation puts the log offline: later flushes reject with it (Kafka
// exits the process on a metadata log I/O error; the driver decides).

import { mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logging/logger.js';
import { makeLogConfig } from '../storage/config.js';
import { fsyncDir, unlinkIfExists } from '../storage/files.js';
import { concatRecords, PartitionLog } from '../storage/partition-log.js';
import type { Clock } from '../util/clock.js';
import { splitBatches } from './batch.js';
import { METADATA_PARTITION, METADATA_TOPIC } from './config.js';
import { MemoryRaftLog, type RaftBatch, type RaftSnapshot } from './log.js';
import type { RaftOutput } from './messages.js';
import { type FileQuorumStateStore, METADATA_PARTITION_DIR } from './quorum-state-file.js';
import type { RaftNode } from './raft-node.js';
import {
  DELETED_SNAPSHOT_SUFFIX,
  PARTIAL_SNAPSHOT_SUFFIX,
  parseSnapshotFileName,
  readSnapshot,
  snapshotFileName,
} from './snapshot.js';

/** Kafka's metadata.log.segment.bytes and metadata.log.segment.ms defaults. */
export const METADATA_LOG_SEGMENT_BYTES = 1024 * 1024 * 1024;
export const METADATA_LOG_SEGMENT_MS = 7 * 24 * 60 * 60 * 1000;
/** Snapshots kept: followers part-way through fetching an older one can finish it. */
const KEPT_SNAPSHOTS = 3;
/** Bytes read per call when the log is loaded into memory at open. */
const LOAD_READ_BYTES = 1024 * 1024;

export interface FileRaftLogOptions {
  /** metadata.log.dir: the partition directory __cluster_metadata-0 is made inside it. */
  logDir: string;
  /** metadata.log.segment.bytes */
  segmentBytes?: number;
  /** metadata.log.segment.ms */
  segmentMs?: number;
  time?: Clock;
  logger?: Logger;
}

export class MetadataLogError extends Error {
  override name = 'MetadataLogError';
}

interface SnapshotId {
  endOffset: number;
  epoch: number;
}

export class FileRaftLog extends MemoryRaftLog {
  /** The partition directory, `<logDir>/__cluster_metadata-0`. */
  readonly dir: string;
  private readonly plog: PartitionLog;
  private readonly logger: Logger | undefined;
  /** Disk operations in call order; each starts when the previous one settled. */
  private chain: Promise<void> = Promise.resolve();
  /** Queued operations that later appends must not overtake (appends, truncations, snapshots). */
  private ordered = 0;
  private failure: Error | null = null;
  /** While loading at open: mutations of the view only, the files already hold them. */
  private loading = true;
  private closed = false;
  /** Snapshot files on disk, oldest first. */
  private snapshotFiles: SnapshotId[] = [];

  private constructor(dir: string, plog: PartitionLog, logger: Logger | undefined) {
    super();
    this.dir = dir;
    this.plog = plog;
    this.logger = logger;
  }

  static async open(options: FileRaftLogOptions): Promise<FileRaftLog> {
    const dir = join(options.logDir, METADATA_PARTITION_DIR);
    await mkdir(dir, { recursive: true });
    const snapshots = await loadSnapshots(dir, options.logger);
    const plog = await PartitionLog.open({
      dir,
      topicPartition: { topic: METADATA_TOPIC, partition: METADATA_PARTITION },
      config: makeLogConfig({
        segmentBytes: options.segmentBytes ?? METADATA_LOG_SEGMENT_BYTES,
        segmentMs: options.segmentMs ?? METADATA_LOG_SEGMENT_MS,
        retentionMs: -1,
        retentionBytes: -1,
        // Page-cache mode: appends are written, fsyncs happen when the Raft core asks.
        flushMessages: Number.MAX_SAFE_INTEGER,
        flushMs: null,
      }),
      time: options.time,
      logger: options.logger,
    });
    const log = new FileRaftLog(dir, plog, options.logger);
    try {
      await log.load(snapshots);
    } catch (e) {
      await plog.abort();
      throw e;
    }
    return log;
  }

  private async load(snapshots: RaftSnapshot[]): Promise<void> {
    for (const s of snapshots) super.installSnapshot(s);
    this.snapshotFiles = snapshots.map((s) => ({ endOffset: s.endOffset, epoch: s.epoch }));
    const latest = snapshots[snapshots.length - 1];
    const snapEnd = latest?.endOffset ?? 0;
    const plog = this.plog;
    const logStart = Number(plog.logStartOffset);
    let logEnd = Number(plog.logEndOffset);
    if (logStart > snapEnd) {
      // Entries between the snapshot and the log are gone: the committed state cannot be rebuilt.
      throw new MetadataLogError(
        `${this.dir}: the log starts at ${logStart}, after the latest snapshot's end ${snapEnd}`,
      );
    }
    if (logEnd <= snapEnd) {
      if (logEnd < snapEnd || logStart < snapEnd) await plog.truncateFullyAndStartAt(BigInt(snapEnd));
      logEnd = snapEnd;
    }
    // The batches after the snapshot, into the view; cut the log at the first one that cannot follow.
    let cutAt = -1;
    let offset = snapEnd;
    scan: while (offset < logEnd) {
      const r = await plog.read(BigInt(offset), LOAD_READ_BYTES, { maxOffset: BigInt(logEnd) });
      const batches = splitBatches(concatRecords(r));
      if (batches.length === 0) break;
      for (const b of batches) {
        if (b.lastOffset < snapEnd) continue;
        if (b.baseOffset !== this.endOffset() || b.epoch < this.lastFetchedEpoch()) {
          cutAt = Math.max(b.baseOffset, snapEnd);
          // A batch straddling the snapshot's end: the log cannot continue the snapshot.
          if (b.baseOffset < snapEnd) cutAt = snapEnd;
          break scan;
        }
        super.append(b);
        offset = b.lastOffset + 1;
      }
    }
    if (cutAt >= 0) {
      this.logger?.warn(
        { dir: this.dir, offset: cutAt },
        'metadata log cut where its batches stop following on',
      );
      if (cutAt === snapEnd && logStart < snapEnd) await plog.truncateFullyAndStartAt(BigInt(snapEnd));
      else await plog.truncateTo(BigInt(cutAt));
    } else if (Number(plog.logStartOffset) < snapEnd) {
      // Segments wholly below the snapshot are no longer needed (a crash came before their deletion).
      await plog.deleteRecordsBefore(BigInt(snapEnd));
    }
    // What the files hold at open is what the node has: durable, as RaftNode assumes.
    this.completeFlush(this.beginFlush(this.endOffset()));
    this.loading = false;
  }

  // ---------------------------------------------------------------- RaftLog mutations

  override append(batch: RaftBatch): void {
    super.append(batch);
    if (this.loading) return;
    if (this.ordered === 0 && this.failure === null && !this.closed) {
      try {
        this.plog.appendAsFollower(batch.bytes);
      } catch (e) {
        this.fail(e);
      }
      return;
    }
    this.enqueue(true, () => {
      this.plog.appendAsFollower(batch.bytes);
    });
  }

  override truncateTo(offset: number): void {
    const before = this.endOffset();
    super.truncateTo(offset);
    if (this.loading || this.endOffset() === before) return;
    const end = this.endOffset();
    this.enqueue(true, async () => {
      await this.plog.truncateTo(BigInt(end));
    });
  }

  override createSnapshot(snapshot: RaftSnapshot): void {
    const start = this.startOffset();
    super.createSnapshot(snapshot);
    if (this.loading || this.startOffset() === start) return;
    const end = snapshot.endOffset;
    this.enqueue(true, async () => {
      await this.writeSnapshotFile(snapshot);
      // The segments below go only once the snapshot is durable; deletion needs them written.
      await this.plog.flush();
      if (Number(this.plog.logStartOffset) < end) await this.plog.deleteRecordsBefore(BigInt(end));
      await this.deleteOldSnapshots();
    });
  }

  override installSnapshot(snapshot: RaftSnapshot): void {
    super.installSnapshot(snapshot);
    if (this.loading) return;
    this.enqueue(true, async () => {
      await this.writeSnapshotFile(snapshot);
      await this.plog.truncateFullyAndStartAt(BigInt(snapshot.endOffset));
      await this.deleteOldSnapshots();
    });
  }

  /** The in-memory crash of MemoryRaftLog has no meaning here: a crash is `abort()` and a reopen. */
  override crash(): void {
    throw new MetadataLogError('FileRaftLog cannot crash in memory: abort() it and open the directory again');
  }

  // ---------------------------------------------------------------- durability

  /**
   * fsyncs the log: resolves once everything appended before this call, up to `offset`, is
   * durable (a truncation meanwhile lowers what it covers). Rejects if the log went offline.
   */
  flush(offset: number): Promise<void> {
    const token = this.beginFlush(offset);
    return this.enqueue(false, async () => {
      await this.plog.flush();
      this.completeFlush(token);
    });
  }

  /** Resolves when every disk operation asked so far has run (rejects if the log is offline). */
  settled(): Promise<void> {
    return this.enqueue(false, async () => {});
  }

  get offlineReason(): Error | null {
    return this.failure;
  }

  /** Finishes the queued disk work, fsyncs and closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.chain;
    this.closed = true;
    if (this.failure !== null) await this.plog.abort();
    else await this.plog.close();
  }

  /** Closes the files at once, writing and syncing nothing more (what a crash leaves). */
  async abort(): Promise<void> {
    this.closed = true;
    this.failure ??= new MetadataLogError(`${this.dir}: aborted`);
    await this.plog.abort();
  }

  private fail(e: unknown): Error {
    if (this.failure === null) {
      this.failure = e instanceof Error ? e : new MetadataLogError(String(e));
      this.logger?.error({ dir: this.dir, err: this.failure }, 'metadata log offline');
    }
    return this.failure;
  }

  private enqueue(ordered: boolean, op: () => void | Promise<void>): Promise<void> {
    if (ordered) this.ordered++;
    const run = async (): Promise<void> => {
      try {
        if (this.failure !== null) throw this.failure;
        if (this.closed) throw new MetadataLogError(`${this.dir}: closed`);
        await op();
      } catch (e) {
        throw this.fail(e);
      } finally {
        if (ordered) this.ordered--;
      }
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => {});
    // Callers of appends, truncations and snapshots learn of a failure at their next flush.
    if (ordered) p.catch(() => {});
    return p;
  }

  // ---------------------------------------------------------------- snapshot files

  private async writeSnapshotFile(snapshot: RaftSnapshot): Promise<void> {
    const name = snapshotFileName(snapshot.endOffset, snapshot.epoch);
    const path = join(this.dir, name);
    const part = join(
      this.dir,
      snapshotFileName(snapshot.endOffset, snapshot.epoch, PARTIAL_SNAPSHOT_SUFFIX),
    );
    const fh = await open(part, 'w');
    try {
      let written = 0;
      while (written < snapshot.bytes.length) {
        const { bytesWritten } = await fh.write(snapshot.bytes, written, snapshot.bytes.length - written);
        written += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(part, path);
    await fsyncDir(this.dir);
    this.snapshotFiles = this.snapshotFiles.filter(
      (s) => !(s.endOffset === snapshot.endOffset && s.epoch === snapshot.epoch),
    );
    this.snapshotFiles.push({ endOffset: snapshot.endOffset, epoch: snapshot.epoch });
  }

  /** Snapshots beyond the latest three go: renamed `.checkpoint.deleted`, then removed. */
  private async deleteOldSnapshots(): Promise<void> {
    while (this.snapshotFiles.length > KEPT_SNAPSHOTS) {
      const s = this.snapshotFiles.shift() as SnapshotId;
      const from = join(this.dir, snapshotFileName(s.endOffset, s.epoch));
      const to = join(this.dir, snapshotFileName(s.endOffset, s.epoch, DELETED_SNAPSHOT_SUFFIX));
      await rename(from, to);
      await unlinkIfExists(to);
    }
    await fsyncDir(this.dir);
  }

  /** Snapshot ids on disk, oldest first (tests, tools). */
  snapshotIds(): SnapshotId[] {
    return this.snapshotFiles.map((s) => ({ ...s }));
  }
}

/**
 * The snapshots of `dir` to keep, oldest first: leftovers (`.part`, `.deleted`) and broken files
 * removed, the latest three intact ones read.
 */
async function loadSnapshots(dir: string, logger: Logger | undefined): Promise<RaftSnapshot[]> {
  const complete: SnapshotId[] = [];
  for (const name of await readdir(dir)) {
    const parsed = parseSnapshotFileName(name);
    if (parsed === null) continue;
    if (parsed.kind !== 'complete') await unlinkIfExists(join(dir, name));
    else complete.push({ endOffset: parsed.endOffset, epoch: parsed.epoch });
  }
  complete.sort((a, b) => a.endOffset - b.endOffset || a.epoch - b.epoch);
  const kept: RaftSnapshot[] = [];
  for (let i = complete.length - 1; i >= 0; i--) {
    const s = complete[i];
    const path = join(dir, snapshotFileName(s.endOffset, s.epoch));
    if (kept.length < KEPT_SNAPSHOTS) {
      const bytes = await readFile(path);
      try {
        readSnapshot(bytes, s.epoch);
        kept.unshift({ endOffset: s.endOffset, epoch: s.epoch, bytes });
        continue;
      } catch (e) {
        logger?.warn({ file: path, err: e }, 'deleting a broken metadata snapshot');
      }
    }
    await unlinkIfExists(path);
  }
  await fsyncDir(dir);
  return kept;
}

export interface DiskDriverContext {
  node: RaftNode;
  log: FileRaftLog;
  quorumState: FileQuorumStateStore;
  /** The current time, for the completion inputs. */
  now: () => number;
  /** After each completion was handed to the node: take and perform its new outputs. */
  afterInput: () => void;
  /** A failed fsync or quorum-state write: the node must stop (Kafka exits). */
  onError: (e: Error) => void;
}

/**
 * Performs a RaftNode disk output (flush, writeQuorumState) and maps its completion to the node's
 * input (handleFlushed, handleQuorumStateWritten). Returns false for outputs that are not disk
 * work (send), which the caller performs.
 */
export function performDiskOutput(output: RaftOutput, ctx: DiskDriverContext): boolean {
  if (output.type === 'flush') {
    ctx.log.flush(output.offset).then(
      () => {
        ctx.node.handleFlushed(output.flushId, ctx.now());
        ctx.afterInput();
      },
      (e: Error) => ctx.onError(e),
    );
    return true;
  }
  if (output.type === 'writeQuorumState') {
    ctx.quorumState.write(output.state).then(
      () => {
        ctx.node.handleQuorumStateWritten(output.seq, ctx.now());
        ctx.afterInput();
      },
      (e: Error) => ctx.onError(e),
    );
    return true;
  }
  return false;
}
