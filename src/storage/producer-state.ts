// The producer state of one partition (Kafka's ProducerStateManager, ProducerStateEntry and
// ProducerAppendInfo): for each producer id that wrote to the partition, its epoch, the metadata of
// its last NUM_BATCHES_TO_RETAIN batches (sequence range, offsets, timestamp), its last timestamp,
// and the transaction fields (coordinator epoch, first offset of the open transaction) that the
// transactions work builds on. PartitionLog owns one and calls it from its synchronous append.
//
// APPEND (Kafka's UnifiedLog.analyzeAndValidateProducerState, ProducerAppendInfo), per batch whose
// producer id is >= 0; batches without one skip all of this:
// - origin 'client' only: a batch whose epoch equals the producer's and whose first and last
//   sequence equal those of one of its retained batches is a DUPLICATE: nothing of the record set
//   is appended and the append answers with the original batch's offsets and timestamp.
// - an epoch older than the producer's: INVALID_PRODUCER_EPOCH (origins 'client', 'coordinator';
//   PRODUCER_FENCED is the transaction coordinator's answer, not the partition's).
// - origin 'client': a new epoch must start at sequence 0 unless the producer is unknown; within
//   an epoch the first sequence must follow the last one (+1, or 0 after Int32.MAX):
//   OUT_OF_ORDER_SEQUENCE_NUMBER. A producer the partition does not know is accepted at any
//   sequence (KIP-360, Kafka 2.5+): UNKNOWN_PRODUCER_ID is never returned any more.
// - a non-transactional batch while the producer has a transaction open: INVALID_TXN_STATE; a
//   transactional batch opens one (its first offset is kept). A control batch (transaction
//   marker) closes it and records the coordinator epoch (an older one: TRANSACTION_COORDINATOR_FENCED).
// - origin 'replication' (a follower, and rebuilding the state from the log) checks nothing.
// Validation works on copies of the entries; `commit` installs them once the log has taken the
// batches, so a refused or failed append leaves the state as it was.
//
// TRANSACTIONS (Kafka's ongoingTxns / unreplicatedTxns): the open transactions (producer id ->
// first offset, in offset order) and the completed ones whose marker is not yet below the high
// watermark give `firstUnstableOffset`, from which the log derives its last stable offset. A marker
// closing an open transaction yields a CompletedTxn (with the LSO at that point, for the aborted
// transaction index); a marker without an open transaction completes nothing. Both sets are
// rebuilt from the snapshot's currentTxnFirstOffset fields and the replay when the log opens.
//
// SNAPSHOTS: `<20-digit offset>.snapshot` in the partition directory, Kafka's format version 1:
//   int16 version (1), uint32 CRC-32C of everything after the CRC, int32 entry count, and per entry
//   int64 producer id, int16 epoch, int32 last sequence, int64 last offset, int32 offset delta,
//   int64 timestamp, int32 coordinator epoch, int64 current transaction first offset (-1: none).
// A snapshot at offset N holds the state of every batch below N. Only each producer's last batch
// is stored (as Kafka), so after a restart from a snapshot only that batch is recognised as a
// duplicate until more batches arrive. Written (tmp file, fsync, rename) at each segment roll for
// the new segment's base offset and at clean shutdown for the log end offset; deleted with their
// segment (retention, DeleteRecords), above the truncation point on truncation, all on a full
// truncation. Opening a log loads the latest readable snapshot at or below the log end offset
// (a corrupt one is deleted and the next older one tried) and replays the batch headers from
// there to the log end. As Kafka, a clean shutdown that left no snapshot at all (data written
// before producer state existed) is not rescanned.
//
// EXPIRATION: producer.id.expiration.ms after its last batch's timestamp, a producer without an
// open transaction is forgotten (`removeExpiredProducers`, on the LogManager's schedule, and when
// loading a snapshot). Segment deletion does not remove producers (KIP-360).
//
// Producer ids are numbers below 2^53 (every id Samsa allocates) and bigints above (ids a client
// made up); sequences and epochs are numbers.

import { readFileSync } from 'node:fs';
import { open, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logging/logger.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  CONTROL_FLAG_MASK,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  TRANSACTIONAL_FLAG_MASK,
} from '../protocol/records/constants.js';
import { decodeEndTxnMarker, type EndTxnMarker } from '../protocol/records/control.js';
import { crc32c } from '../protocol/records/crc.js';
import { decodeRecordBatch } from '../protocol/records/decode.js';
import { type BatchInfo, scanFileBatches } from './batch-scan.js';
import {
  InvalidProducerEpochError,
  InvalidTxnStateError,
  OutOfOrderSequenceError,
  TransactionCoordinatorFencedError,
} from './errors.js';
import { offsetFilePrefix, TMP_FILE_SUFFIX, unlinkIfExists } from './files.js';
import type { LogSegment } from './log-segment.js';

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: the retained batches per producer. */
export const NUM_BATCHES_TO_RETAIN = 5;
export const SNAPSHOT_FILE_SUFFIX = '.snapshot';
/** producer.id.expiration.ms, Kafka's default: one day. */
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;

const SNAPSHOT_VERSION = 1;
const SNAPSHOT_CRC_OFFSET = 2;
const SNAPSHOT_ENTRIES_OFFSET = 6;
const SNAPSHOT_ENTRY_BYTES = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;
const INT32_MAX = 0x7fffffff;
const NO_EPOCH = -1;
const NO_SEQUENCE = -1;
const NO_COMPLETED_TXNS: readonly CompletedTxn[] = Object.freeze([]);

/** Where an append comes from: how much of the producer state it must satisfy. */
export type AppendOrigin = 'client' | 'coordinator' | 'replication';

/** A producer id: a number below 2^53, a bigint above. */
export type ProducerId = number | bigint;

/** A retained batch of a producer (Kafka's BatchMetadata). */
export interface BatchMetadata {
  readonly lastSeq: number;
  readonly lastOffset: number;
  /** lastOffset - firstOffset (also lastSeq - firstSeq). */
  readonly offsetDelta: number;
  /** The batch's max timestamp as appended (LogAppendTime: the broker's time). */
  readonly timestamp: number;
}

/** Kafka's DefaultRecordBatch.incrementSequence: sequences wrap from Int32.MAX to 0. */
export function incrementSequence(sequence: number, increment: number): number {
  if (sequence > INT32_MAX - increment) return increment - (INT32_MAX - sequence) - 1;
  return sequence + increment;
}

/** Kafka's DefaultRecordBatch.decrementSequence. */
export function decrementSequence(sequence: number, decrement: number): number {
  if (sequence < decrement) return INT32_MAX - (decrement - sequence) + 1;
  return sequence - decrement;
}

export function firstSeqOf(b: BatchMetadata): number {
  return decrementSequence(b.lastSeq, b.offsetDelta);
}

export function firstOffsetOf(b: BatchMetadata): number {
  return b.lastOffset - b.offsetDelta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

/** The producer id of the batch at `p` (its header): a number when below 2^53, else a bigint. */
export function readProducerId(buf: Buffer, p: number): ProducerId {
  const at = p + PRODUCER_ID_OFFSET;
  const hi = buf.readInt32BE(at);
  if (hi <= 0x1fffff && hi >= -0x200000) return hi * 0x1_0000_0000 + buf.readUInt32BE(at + 4);
  return buf.readBigInt64BE(at);
}

/** Whether the batch at `p` carries a producer id (Kafka's hasProducerId: id >= 0). */
export function hasProducerId(buf: Buffer, p: number): boolean {
  return buf.readInt32BE(p + PRODUCER_ID_OFFSET) >= 0;
}

/** One producer's state (Kafka's ProducerStateEntry). */
export class ProducerStateEntry {
  constructor(
    readonly producerId: ProducerId,
    public producerEpoch: number,
    public coordinatorEpoch: number,
    public lastTimestamp: number,
    /** First offset of the producer's open transaction, -1 when none. */
    public currentTxnFirstOffset: number,
    /** The retained batches, oldest first, at most NUM_BATCHES_TO_RETAIN. */
    public batches: BatchMetadata[],
  ) {}

  static empty(producerId: ProducerId): ProducerStateEntry {
    return new ProducerStateEntry(producerId, NO_EPOCH, -1, -1, -1, []);
  }

  copy(): ProducerStateEntry {
    return new ProducerStateEntry(
      this.producerId,
      this.producerEpoch,
      this.coordinatorEpoch,
      this.lastTimestamp,
      this.currentTxnFirstOffset,
      this.batches.slice(),
    );
  }

  get isEmpty(): boolean {
    return this.batches.length === 0;
  }

  get firstSeq(): number {
    return this.batches.length === 0 ? NO_SEQUENCE : firstSeqOf(this.batches[0]);
  }

  get lastSeq(): number {
    return this.batches.length === 0 ? NO_SEQUENCE : this.batches[this.batches.length - 1].lastSeq;
  }

  get lastDataOffset(): number {
    return this.batches.length === 0 ? -1 : this.batches[this.batches.length - 1].lastOffset;
  }

  get lastOffsetDelta(): number {
    return this.batches.length === 0 ? 0 : this.batches[this.batches.length - 1].offsetDelta;
  }

  /** A new epoch forgets the batches of the old one. */
  maybeUpdateEpoch(epoch: number): void {
    if (this.producerEpoch !== epoch) {
      this.batches = [];
      this.producerEpoch = epoch;
    }
  }

  addBatch(epoch: number, batch: BatchMetadata): void {
    this.maybeUpdateEpoch(epoch);
    if (this.batches.length === NUM_BATCHES_TO_RETAIN) this.batches.shift();
    this.batches.push(batch);
    this.lastTimestamp = batch.timestamp;
  }

  /** The retained batch with exactly this sequence range in this epoch, if any. */
  findDuplicate(epoch: number, firstSeq: number, lastSeq: number): BatchMetadata | undefined {
    if (epoch !== this.producerEpoch) return undefined;
    for (const b of this.batches) if (b.lastSeq === lastSeq && firstSeqOf(b) === firstSeq) return b;
    return undefined;
  }
}

/**
 * A transaction closed by a marker (Kafka's CompletedTxn): from its first record to the marker.
 * Only transactions that had data on the partition complete (a marker without an open
 * transaction completes nothing, as Kafka's appendEndTxnMarker).
 */
export interface CompletedTxn {
  readonly producerId: ProducerId;
  readonly firstOffset: number;
  /** The marker's offset. */
  readonly lastOffset: number;
  readonly isAborted: boolean;
  /**
   * The partition's last stable offset once it completed (Kafka's lastStableOffset(completedTxn)):
   * the first offset of the oldest other open transaction, else lastOffset + 1. Set by `commit`
   * and during a replay; what the transaction index records.
   */
  lastStableOffset: number;
}

/**
 * The validated producer updates of one append, to install with `commit` once it is in the log:
 * usually one producer's (no map allocated), several for a record set mixing producers.
 */
export class ProducerUpdates {
  more: Map<ProducerId, ProducerStateEntry> | null = null;
  /** Transactions the append's markers complete. */
  completed: CompletedTxn[] | null = null;

  constructor(
    readonly firstId: ProducerId | null,
    readonly first: ProducerStateEntry | null,
  ) {}

  get(pid: ProducerId): ProducerStateEntry | undefined {
    if (pid === this.firstId) return this.first!;
    return this.more?.get(pid);
  }

  add(pid: ProducerId, e: ProducerStateEntry): void {
    if (this.more === null) this.more = new Map();
    this.more.set(pid, e);
  }
}

/** A snapshot file that cannot be read (Kafka's CorruptSnapshotException). */
export class CorruptSnapshotError extends Error {
  override name = 'CorruptSnapshotError';
}

export function snapshotFileName(offset: number): string {
  return offsetFilePrefix(offset) + SNAPSHOT_FILE_SUFFIX;
}

/** Kafka's producer snapshot (version 1) of these entries. */
export function encodeSnapshot(entries: Iterable<ProducerStateEntry>): Buffer {
  const list = [...entries];
  const buf = Buffer.allocUnsafe(SNAPSHOT_ENTRIES_OFFSET + 4 + list.length * SNAPSHOT_ENTRY_BYTES);
  buf.writeInt16BE(SNAPSHOT_VERSION, 0);
  let p = SNAPSHOT_ENTRIES_OFFSET;
  p = buf.writeInt32BE(list.length, p);
  for (const e of list) {
    p = buf.writeBigInt64BE(BigInt(e.producerId), p);
    p = buf.writeInt16BE(e.producerEpoch, p);
    p = buf.writeInt32BE(e.lastSeq, p);
    p = buf.writeBigInt64BE(BigInt(e.lastDataOffset), p);
    p = buf.writeInt32BE(e.lastOffsetDelta, p);
    p = buf.writeBigInt64BE(BigInt(e.lastTimestamp), p);
    p = buf.writeInt32BE(e.coordinatorEpoch, p);
    p = buf.writeBigInt64BE(BigInt(e.currentTxnFirstOffset), p);
  }
  buf.writeUInt32BE(crc32c(buf.subarray(SNAPSHOT_ENTRIES_OFFSET)), SNAPSHOT_CRC_OFFSET);
  return buf;
}

function toSafeNumber(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new CorruptSnapshotError(`${what} ${v} is beyond 2^53`);
  }
  return Number(v);
}

/** The entries of a snapshot file's bytes (Kafka's readSnapshot); CorruptSnapshotError if bad. */
export function decodeSnapshot(buf: Buffer): ProducerStateEntry[] {
  if (buf.length < SNAPSHOT_ENTRIES_OFFSET + 4) {
    throw new CorruptSnapshotError(`snapshot of ${buf.length} bytes is too short`);
  }
  const version = buf.readInt16BE(0);
  if (version !== SNAPSHOT_VERSION) throw new CorruptSnapshotError(`unknown snapshot version ${version}`);
  const stored = buf.readUInt32BE(SNAPSHOT_CRC_OFFSET);
  const computed = crc32c(buf.subarray(SNAPSHOT_ENTRIES_OFFSET));
  if (stored !== computed) {
    throw new CorruptSnapshotError(
      `snapshot CRC 0x${stored.toString(16)}, computed 0x${computed.toString(16)}`,
    );
  }
  const count = buf.readInt32BE(SNAPSHOT_ENTRIES_OFFSET);
  if (count < 0 || buf.length !== SNAPSHOT_ENTRIES_OFFSET + 4 + count * SNAPSHOT_ENTRY_BYTES) {
    throw new CorruptSnapshotError(`snapshot of ${buf.length} bytes cannot hold ${count} entries`);
  }
  const out: ProducerStateEntry[] = [];
  let p = SNAPSHOT_ENTRIES_OFFSET + 4;
  for (let i = 0; i < count; i++) {
    const pidBig = buf.readBigInt64BE(p);
    const pid: ProducerId =
      pidBig <= BigInt(Number.MAX_SAFE_INTEGER) && pidBig >= 0n ? Number(pidBig) : pidBig;
    const epoch = buf.readInt16BE(p + 8);
    const lastSeq = buf.readInt32BE(p + 10);
    const lastOffset = toSafeNumber(buf.readBigInt64BE(p + 14), 'last offset');
    const offsetDelta = buf.readInt32BE(p + 22);
    const timestamp = toSafeNumber(buf.readBigInt64BE(p + 26), 'timestamp');
    const coordinatorEpoch = buf.readInt32BE(p + 34);
    const txnFirst = toSafeNumber(buf.readBigInt64BE(p + 38), 'transaction first offset');
    p += SNAPSHOT_ENTRY_BYTES;
    const batches = lastOffset >= 0 ? [{ lastSeq, lastOffset, offsetDelta, timestamp }] : [];
    out.push(
      new ProducerStateEntry(pid, epoch, coordinatorEpoch, timestamp, txnFirst >= 0 ? txnFirst : -1, batches),
    );
  }
  return out;
}

export interface ProducerStateOptions {
  /** producer.id.expiration.ms. */
  producerIdExpirationMs?: number;
  logger?: Logger;
}

/** What the replay needs of the log being opened or truncated. */
export interface ProducerStateLoadParams {
  segments: readonly LogSegment[];
  logStartOffset: number;
  logEndOffset: number;
  /** The log dir had a clean-shutdown marker. */
  hadCleanShutdown: boolean;
  nowMs: number;
  /** Snapshot offsets found in the directory (the loader lists it anyway); read from disk if absent. */
  snapshotOffsets?: readonly number[];
  /**
   * Segments from this offset on were rescanned and their transaction indexes reset: every
   * transaction completed from there to the log end is reported to `onReplayedTxn` (in no
   * particular order), replaying from an older snapshot if the latest one is above this offset.
   */
  rebuildFrom?: number | null;
  onReplayedTxn?: (t: CompletedTxn) => void;
}

export class ProducerStateManager {
  private readonly producers = new Map<ProducerId, ProducerStateEntry>();
  /** Open transactions: producer id -> first offset; insertion order is first-offset order. */
  private readonly ongoing = new Map<ProducerId, number>();
  /** Completed transactions whose marker is at or above the high watermark. */
  private unreplicated: CompletedTxn[] = [];
  /** Called for each transaction a replay completes (the log rebuilds its transaction indexes). */
  private replayListener: ((t: CompletedTxn) => void) | null = null;
  /** Offsets of the snapshot files on disk, ascending. */
  private snapshots: number[] = [];
  private readonly expirationMs: number;
  private readonly logger: Logger | undefined;

  constructor(
    readonly dir: string,
    opts: ProducerStateOptions = {},
  ) {
    this.expirationMs = opts.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS;
    this.logger = opts.logger;
  }

  // ---- reading ----

  get producerIdExpirationMs(): number {
    return this.expirationMs;
  }

  /** Number of producers known. */
  get size(): number {
    return this.producers.size;
  }

  entry(producerId: ProducerId): ProducerStateEntry | undefined {
    return this.producers.get(typeof producerId === 'bigint' ? producerIdKey(producerId) : producerId);
  }

  /** Every producer known, in insertion order (DescribeProducers; the cleaner's active producers). */
  activeProducers(): IterableIterator<ProducerStateEntry> {
    return this.producers.values();
  }

  /** Offsets of the snapshot files, ascending. */
  snapshotOffsets(): readonly number[] {
    return this.snapshots;
  }

  // ---- transactions (Kafka's ongoingTxns, unreplicatedTxns, firstUnstableOffset) ----

  /** The open transactions: producer id -> first offset, in first-offset order. */
  ongoingTransactions(): ReadonlyMap<ProducerId, number> {
    return this.ongoing;
  }

  /**
   * The first offset of the oldest transaction that is open, or completed but whose marker is not
   * yet below the high watermark (`onHighWatermarkUpdated`); -1 when none. The log's last stable
   * offset is the smaller of this and the high watermark.
   */
  firstUnstableOffset(): number {
    let min = -1;
    const first = this.ongoing.values().next();
    if (!first.done) min = first.value;
    for (const t of this.unreplicated) if (min < 0 || t.firstOffset < min) min = t.firstOffset;
    return min;
  }

  /** Completed transactions whose marker is now below the high watermark are stable. */
  onHighWatermarkUpdated(highWatermark: number): void {
    if (this.unreplicated.length > 0) {
      this.unreplicated = this.unreplicated.filter((t) => t.lastOffset >= highWatermark);
    }
  }

  /** Kafka's lastStableOffset(completedTxn), against the open transactions before it completes. */
  private lastStableOffsetFor(producerId: ProducerId, markerOffset: number): number {
    for (const [pid, first] of this.ongoing) if (pid !== producerId) return first;
    return markerOffset + 1;
  }

  /** The open transactions from the entries (after loading a snapshot), ordered by first offset. */
  private rebuildOngoing(): void {
    this.ongoing.clear();
    this.unreplicated = [];
    const open = [...this.producers.values()].filter((e) => e.currentTxnFirstOffset >= 0);
    open.sort((a, b) => a.currentTxnFirstOffset - b.currentTxnFirstOffset);
    for (const e of open) this.ongoing.set(e.producerId, e.currentTxnFirstOffset);
  }

  // ---- the append path ----

  /**
   * Validates the producer batches of a record set about to be appended (see the header) and
   * returns the updated entries, or the retained batch it duplicates. Throws the Kafka error of
   * the first batch refused. Changes nothing: `commit` installs the updates.
   *
   * `batches` are the framed batches of `records` (positions in it). With `assignOffsets` the
   * first gets offset `firstOffset` and the others follow; else each carries its own (a
   * follower's). `appendTimeMs` is the LogAppendTime stamped on them, or -1 (CreateTime: each
   * batch's own max timestamp).
   */
  prepare(
    records: Buffer,
    batches: readonly BatchInfo[],
    firstOffset: number,
    assignOffsets: boolean,
    appendTimeMs: number,
    origin: AppendOrigin,
  ): ProducerUpdates | BatchMetadata {
    let updates: ProducerUpdates | null = null;
    let offset = firstOffset;
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i];
      const p = b.position;
      const base = assignOffsets ? offset : b.baseOffset;
      const lastOffsetDelta = b.lastOffset - b.baseOffset;
      offset = base + lastOffsetDelta + 1;
      if (!hasProducerId(records, p)) continue;
      const pid = readProducerId(records, p);
      const epoch = records.readInt16BE(p + PRODUCER_EPOCH_OFFSET);
      const attributes = records.readInt16BE(p + ATTRIBUTES_OFFSET);
      const isControl = (attributes & CONTROL_FLAG_MASK) !== 0;
      const current = this.producers.get(pid);
      const baseSeq = records.readInt32BE(p + BASE_SEQUENCE_OFFSET);
      const lastSeq = baseSeq === NO_SEQUENCE ? NO_SEQUENCE : incrementSequence(baseSeq, lastOffsetDelta);
      if (origin === 'client' && !isControl && current !== undefined) {
        // Checked against the state before this append, as Kafka: a retry of a retained batch.
        const dup = current.findDuplicate(epoch, baseSeq, lastSeq);
        if (dup) return dup;
      }
      let next = updates?.get(pid);
      if (!next) {
        next = current ? current.copy() : ProducerStateEntry.empty(pid);
        if (updates) updates.add(pid, next);
        else updates = new ProducerUpdates(pid, next);
      }
      if (isControl) {
        const openFirst = next.currentTxnFirstOffset;
        const marker = this.applyMarker(next, records.subarray(p, p + b.size), epoch, base, origin);
        if (marker !== null && openFirst >= 0) {
          const done: CompletedTxn = {
            producerId: pid,
            firstOffset: openFirst,
            lastOffset: base,
            isAborted: !marker.commit,
            lastStableOffset: -1,
          };
          const u = updates as ProducerUpdates;
          if (u.completed === null) u.completed = [done];
          else u.completed.push(done);
        }
      } else {
        applyData(
          next,
          current ? current.producerEpoch : NO_EPOCH,
          epoch,
          baseSeq,
          {
            lastSeq,
            lastOffset: base + lastOffsetDelta,
            offsetDelta: lastOffsetDelta,
            timestamp: appendTimeMs >= 0 ? appendTimeMs : b.maxTimestamp,
          },
          (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
          base,
          origin,
        );
      }
    }
    return updates ?? new ProducerUpdates(null, null);
  }

  /**
   * Installs the updates `prepare` returned, once the log has taken the batches. Returns the
   * transactions the append completed, each with its last stable offset (for the transaction
   * index); they stay unstable until the high watermark passes their marker.
   */
  commit(updates: ProducerUpdates): readonly CompletedTxn[] {
    const done = updates.completed;
    if (done !== null) {
      for (const t of done) {
        t.lastStableOffset = this.lastStableOffsetFor(t.producerId, t.lastOffset);
        this.ongoing.delete(t.producerId);
        this.unreplicated.push(t);
      }
    }
    if (updates.firstId !== null) this.install(updates.firstId, updates.first!);
    if (updates.more) for (const [pid, e] of updates.more) this.install(pid, e);
    return done ?? NO_COMPLETED_TXNS;
  }

  private install(pid: ProducerId, e: ProducerStateEntry): void {
    this.producers.set(pid, e);
    // A transaction starts at a higher offset than every open one: the map stays ordered.
    if (e.currentTxnFirstOffset >= 0 && !this.ongoing.has(pid))
      this.ongoing.set(pid, e.currentTxnFirstOffset);
  }

  private applyMarker(
    next: ProducerStateEntry,
    batch: Buffer,
    epoch: number,
    offset: number,
    origin: AppendOrigin,
  ): EndTxnMarker | null {
    const decoded = decodeRecordBatch(batch, { maxUncompressedBytes: 1 << 20, verifyCrc: false });
    // An empty control batch: the cleaner removed the marker's transaction; nothing to apply.
    if (decoded.records.length === 0) return null;
    const record = decoded.records[0];
    const marker = decodeEndTxnMarker(record);
    if (origin !== 'replication') {
      if (epoch < next.producerEpoch) {
        throw new InvalidProducerEpochError(
          `marker epoch ${epoch} of producer ${next.producerId} at offset ${offset} is older than ${next.producerEpoch}`,
        );
      }
      if (next.coordinatorEpoch > marker.coordinatorEpoch) {
        throw new TransactionCoordinatorFencedError(
          `marker coordinator epoch ${marker.coordinatorEpoch} of producer ${next.producerId} at offset ${offset} is older than ${next.coordinatorEpoch}`,
        );
      }
    }
    next.maybeUpdateEpoch(epoch);
    next.currentTxnFirstOffset = -1;
    next.coordinatorEpoch = marker.coordinatorEpoch;
    next.lastTimestamp = record.timestamp;
    return marker;
  }

  // ---- expiration ----

  /** Forgets producers idle for producer.id.expiration.ms without an open transaction. */
  removeExpiredProducers(nowMs: number): number {
    let n = 0;
    for (const [pid, e] of this.producers) {
      if (this.isExpired(e, nowMs)) {
        this.producers.delete(pid);
        n++;
      }
    }
    return n;
  }

  private isExpired(e: ProducerStateEntry, nowMs: number): boolean {
    return e.currentTxnFirstOffset < 0 && nowMs - e.lastTimestamp >= this.expirationMs;
  }

  // ---- snapshots ----

  /** The current state as snapshot bytes (for a snapshot taken now and written later). */
  snapshotBytes(): Buffer {
    return encodeSnapshot(this.producers.values());
  }

  /**
   * Writes `bytes` as the snapshot at `offset`: a .tmp file, fsynced, renamed. The caller fsyncs
   * the directory (a roll does anyway); until then the snapshot may vanish in a power loss, which
   * only costs a longer replay.
   */
  async writeSnapshot(offset: number, bytes: Buffer): Promise<void> {
    const path = join(this.dir, snapshotFileName(offset));
    const tmp = path + TMP_FILE_SUFFIX;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    this.addSnapshotOffset(offset);
  }

  private addSnapshotOffset(offset: number): void {
    const s = this.snapshots;
    if (s.length === 0 || s[s.length - 1] < offset) {
      s.push(offset);
      return;
    }
    if (s.includes(offset)) return;
    s.push(offset);
    s.sort((a, b) => a - b);
  }

  /** Whether a snapshot file exists for `offset`. */
  hasSnapshot(offset: number): boolean {
    return this.snapshots.includes(offset);
  }

  /** Deletes the snapshot at `offset`, if any (its segment is being deleted). */
  async deleteSnapshot(offset: number): Promise<void> {
    const i = this.snapshots.indexOf(offset);
    if (i < 0) return;
    this.snapshots.splice(i, 1);
    await unlinkIfExists(join(this.dir, snapshotFileName(offset)));
  }

  private async deleteSnapshotsWhere(pred: (offset: number) => boolean): Promise<void> {
    for (const o of this.snapshots.filter(pred)) await this.deleteSnapshot(o);
  }

  // ---- loading, truncation ----

  /**
   * Builds the state of a log being opened (Kafka's rebuildProducerState): drops snapshots above
   * the log end and those of no segment (but the newest, if above every segment base: the
   * clean-shutdown one), loads the latest readable snapshot and replays the batch headers from its
   * offset to the log end. Writes a snapshot at the log end when it replayed anything, so a crash
   * right after does not replay it again.
   */
  async load(p: ProducerStateLoadParams): Promise<void> {
    this.snapshots = p.snapshotOffsets
      ? [...p.snapshotOffsets].sort((a, b) => a - b)
      : await listSnapshotOffsets(this.dir);
    const rebuildFrom = p.rebuildFrom ?? null;
    if (this.snapshots.length > 0) {
      await this.deleteSnapshotsWhere((o) => o > p.logEndOffset);
      await this.removeStraySnapshots(p.segments.map((s) => s.baseOffset));
    }
    this.producers.clear();
    this.ongoing.clear();
    this.unreplicated = [];
    if (this.snapshots.length === 0 && p.hadCleanShutdown) {
      // Kafka: no snapshot after a clean shutdown means data from before producer state was kept
      // (an upgrade); the log is not scanned.
      return;
    }
    const from = await this.loadLatestSnapshot(p.logStartOffset, p.nowMs, p.hadCleanShutdown);
    if (rebuildFrom !== null && rebuildFrom < from && p.onReplayedTxn) {
      // The transactions completed between the rescanned segments and the snapshot: replayed by a
      // second state from an older snapshot (Kafka's recoverSegment rebuilds one per segment).
      const earlier = new ProducerStateManager(this.dir, { producerIdExpirationMs: this.expirationMs });
      earlier.snapshots = this.snapshots.filter((o) => o <= rebuildFrom);
      const start = await earlier.loadLatestSnapshot(p.logStartOffset, p.nowMs);
      const gone = new Set(this.snapshots.filter((o) => o <= rebuildFrom && !earlier.snapshots.includes(o)));
      if (gone.size > 0) this.snapshots = this.snapshots.filter((o) => !gone.has(o));
      earlier.replayListener = p.onReplayedTxn;
      await earlier.replay(p.segments, start, from);
    }
    if (from < p.logEndOffset) {
      this.replayListener = p.onReplayedTxn ?? null;
      let replayed: number;
      try {
        replayed = await this.replay(p.segments, from, p.logEndOffset);
      } finally {
        this.replayListener = null;
      }
      if (replayed > 0 || this.snapshots.length === 0) {
        await this.writeSnapshot(p.logEndOffset, this.snapshotBytes());
      }
    }
  }

  /**
   * After a truncation to `logEndOffset` (Kafka's truncateAndReload): snapshots above it go, the
   * state is reloaded from the latest snapshot at or below it and the log replayed up to it.
   */
  async truncateAndReload(
    p: Omit<ProducerStateLoadParams, 'hadCleanShutdown' | 'snapshotOffsets'>,
  ): Promise<void> {
    await this.deleteSnapshotsWhere((o) => o > p.logEndOffset);
    this.producers.clear();
    this.ongoing.clear();
    this.unreplicated = [];
    const from = await this.loadLatestSnapshot(p.logStartOffset, p.nowMs);
    if (from < p.logEndOffset) await this.replay(p.segments, from, p.logEndOffset);
  }

  /** A log emptied and restarted at some offset: no producer, no snapshot. */
  async truncateFully(): Promise<void> {
    this.producers.clear();
    this.ongoing.clear();
    this.unreplicated = [];
    // From the directory: this may run before `load` (a log opened past its surviving tail).
    this.snapshots = await listSnapshotOffsets(this.dir);
    await this.deleteSnapshotsWhere(() => true);
  }

  /** Kafka's removeStraySnapshots: keeps segment-base snapshots and the newest stray one above them. */
  private async removeStraySnapshots(segmentBases: readonly number[]): Promise<void> {
    const bases = new Set(segmentBases);
    const maxBase = segmentBases.length > 0 ? Math.max(...segmentBases) : -1;
    const strays = this.snapshots.filter((o) => !bases.has(o));
    const keep = strays.length > 0 && strays[strays.length - 1] > maxBase ? strays[strays.length - 1] : -1;
    for (const o of strays) if (o !== keep) await this.deleteSnapshot(o);
  }

  /**
   * Loads the newest readable snapshot (deleting unreadable ones); returns the offset the state
   * now stands at (the snapshot's, or the log start offset when none is left).
   */
  private async loadLatestSnapshot(logStartOffset: number, nowMs: number, sync = false): Promise<number> {
    while (this.snapshots.length > 0) {
      const offset = this.snapshots[this.snapshots.length - 1];
      const path = join(this.dir, snapshotFileName(offset));
      try {
        // `sync`: the clean-shutdown open at start, before the broker serves (log-loader.ts).
        const entries = decodeSnapshot(sync ? readFileSync(path) : await readFile(path));
        for (const e of entries) if (!this.isExpired(e, nowMs)) this.producers.set(e.producerId, e);
        this.rebuildOngoing();
        this.logger?.debug(
          { dir: this.dir, offset, producers: this.producers.size },
          'loaded producer snapshot',
        );
        return offset;
      } catch (e) {
        if (!(e instanceof CorruptSnapshotError) && (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        this.logger?.warn({ dir: this.dir, file: path, err: e }, 'deleting an unreadable producer snapshot');
        await this.deleteSnapshot(offset);
      }
    }
    return logStartOffset;
  }

  /**
   * Applies the batch headers of [from, to) to the state without validation (origin replication).
   * Returns the number of producer batches applied.
   */
  private async replay(segments: readonly LogSegment[], from: number, to: number): Promise<number> {
    let applied = 0;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i];
      const segEnd = i + 1 < segments.length ? segments[i + 1].baseOffset : Number.POSITIVE_INFINITY;
      if (segEnd <= from || seg.baseOffset >= to) continue;
      await seg.ensureLoaded();
      const start = from > seg.baseOffset ? seg.offsetIndex.lookup(from).position : 0;
      const fh = await seg.acquire();
      try {
        await scanFileBatches(fh, start, seg.writtenSize, { verifyCrc: false }, (b, buf, at) => {
          if (b.baseOffset >= to) return 'past the end';
          if (b.lastOffset < from || !hasProducerId(buf, at)) return undefined;
          this.replayBatch(buf.subarray(at, at + b.size), b);
          applied++;
          return undefined;
        });
      } finally {
        seg.release();
      }
      if (i + 1 < segments.length) await seg.releaseHandle();
    }
    if (applied > 0) {
      this.logger?.info({ dir: this.dir, from, to, batches: applied }, 'rebuilt producer state from the log');
    }
    return applied;
  }

  private replayBatch(batch: Buffer, b: BatchInfo): void {
    const pid = readProducerId(batch, 0);
    let e = this.producers.get(pid);
    if (!e) {
      e = ProducerStateEntry.empty(pid);
      this.producers.set(pid, e);
    }
    const epoch = batch.readInt16BE(PRODUCER_EPOCH_OFFSET);
    const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET);
    if ((attributes & CONTROL_FLAG_MASK) !== 0) {
      const openFirst = e.currentTxnFirstOffset;
      let marker: EndTxnMarker | null = null;
      try {
        marker = this.applyMarker(e, batch, epoch, b.baseOffset, 'replication');
      } catch (err) {
        // A marker that does not decode: the epoch still moves on, as Kafka's replica would.
        this.logger?.warn({ dir: this.dir, offset: b.baseOffset, err }, 'unreadable transaction marker');
        e.maybeUpdateEpoch(epoch);
      }
      if (marker !== null && openFirst >= 0) {
        const done: CompletedTxn = {
          producerId: pid,
          firstOffset: openFirst,
          lastOffset: b.baseOffset,
          isAborted: !marker.commit,
          lastStableOffset: this.lastStableOffsetFor(pid, b.baseOffset),
        };
        this.ongoing.delete(pid);
        this.replayListener?.(done);
      }
      return;
    }
    const baseSeq = batch.readInt32BE(BASE_SEQUENCE_OFFSET);
    const delta = b.lastOffset - b.baseOffset;
    applyData(
      e,
      e.producerEpoch,
      epoch,
      baseSeq,
      {
        lastSeq: baseSeq === NO_SEQUENCE ? NO_SEQUENCE : incrementSequence(baseSeq, delta),
        lastOffset: b.lastOffset,
        offsetDelta: delta,
        timestamp: b.maxTimestamp,
      },
      (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
      b.baseOffset,
      'replication',
    );
    if (e.currentTxnFirstOffset >= 0 && !this.ongoing.has(pid))
      this.ongoing.set(pid, e.currentTxnFirstOffset);
  }
}

/** A bigint producer id as the state keys it (a number when it fits). */
export function producerIdKey(id: bigint): ProducerId {
  return id >= 0n && id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id;
}

/**
 * Kafka's ProducerAppendInfo.appendDataBatch for one data batch: the epoch and sequence checks
 * (origins other than replication), then the batch joins `next`. `currentEpoch` is the epoch the
 * producer had before this append (NO_EPOCH: unknown producer).
 */
function applyData(
  next: ProducerStateEntry,
  currentEpoch: number,
  epoch: number,
  firstSeq: number,
  batch: BatchMetadata,
  isTransactional: boolean,
  firstOffset: number,
  origin: AppendOrigin,
): void {
  if (origin !== 'replication') {
    if (epoch < next.producerEpoch) {
      throw new InvalidProducerEpochError(
        `epoch ${epoch} of producer ${next.producerId} at offset ${firstOffset} is older than the last seen epoch ${next.producerEpoch}`,
      );
    }
    if (origin === 'client') {
      if (epoch !== next.producerEpoch) {
        if (firstSeq !== 0 && next.producerEpoch !== NO_EPOCH) {
          throw new OutOfOrderSequenceError(
            `new epoch ${epoch} of producer ${next.producerId} starts at sequence ${firstSeq}, not 0 (current epoch ${next.producerEpoch})`,
          );
        }
      } else if (!(currentEpoch === NO_EPOCH || inSequence(next.lastSeq, firstSeq))) {
        throw new OutOfOrderSequenceError(
          `out of order sequence number for producer ${next.producerId} at offset ${firstOffset}: ${firstSeq} (incoming), ${next.lastSeq} (current end)`,
        );
      }
    }
  }
  next.addBatch(epoch, batch);
  if (next.currentTxnFirstOffset >= 0 && !isTransactional) {
    if (origin !== 'replication') {
      throw new InvalidTxnStateError(
        `non-transactional batch of producer ${next.producerId} at offset ${firstOffset} while its transaction from offset ${next.currentTxnFirstOffset} is open`,
      );
    }
  } else if (next.currentTxnFirstOffset < 0 && isTransactional) {
    next.currentTxnFirstOffset = firstOffset;
  }
}

/** The offsets of the `.snapshot` files in `dir`, ascending. */
export async function listSnapshotOffsets(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir(dir)) {
    const o = parseSnapshotFileName(name);
    if (o !== null) out.push(o);
  }
  return out.sort((a, b) => a - b);
}

/** The offset of "<20 digits>.snapshot", else null. */
export function parseSnapshotFileName(name: string): number | null {
  if (name.length !== 20 + SNAPSHOT_FILE_SUFFIX.length || !name.endsWith(SNAPSHOT_FILE_SUFFIX)) return null;
  const digits = name.slice(0, 20);
  if (!/^\d{20}$/.test(digits)) return null;
  const o = Number(digits);
  return Number.isSafeInteger(o) ? o : null;
}
