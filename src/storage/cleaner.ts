// Compaction of one log (Kafka's Cleaner: doClean, buildOffsetMap, groupSegmentsBySize,
// cleanSegments, cleanInto / MemoryRecords.filterTo). Choosing which log to clean, the
// cleaner-offset-checkpoint and the schedule are log-cleaner.ts's.
//
// One round over a log, given its first dirty offset D and first uncleanable offset U (a segment
// boundary: never beyond the active segment, the last stable offset, or a segment younger than
// min.compaction.lag.ms):
//  1. Offset map: every key of the dirty range [D, U) -> its latest offset, in offset order, until
//     the map's memory budget is reached; `latestOffset` (L) is how far it got. The round cleans
//     up to E = L + 1, which becomes the next first dirty offset.
//  2. The segments from the log start below E, grouped so that each group fits one segment
//     (segment.bytes, segment.index.bytes, offsets within 2^31 of the base), are each rewritten
//     into one `.cleaned` segment, fsynced, and swapped in (PartitionLog.replaceSegments).
//
// Retention rules for a record at offset o <= L of a batch (Kafka's shouldRetainRecord):
//  - kept if o >= map[key] (the latest value of its key, or a key absent from the dirty range);
//  - a record without a key is dropped (a compacted topic cannot hold one; Kafka counts it as
//    invalid and drops it);
//  - a tombstone (null value) is kept until its batch's delete horizon has passed. The horizon is
//    KIP-534's, the one Kafka uses for v2 batches (all Samsa writes): the first clean that keeps a
//    tombstone rewrites its batch with the hasDeleteHorizonMs flag and baseTimestamp = now +
//    delete.retention.ms; a later clean after that time drops the tombstone. So a tombstone is
//    readable for at least delete.retention.ms after the cleaner first saw it. With
//    delete.retention.ms "never" (Long.MAX_VALUE) tombstones stay.
// Records above L are kept untouched (except an aborted transaction's, see TRANSACTIONS).
//
// Batches (Kafka's BatchRetention):
//  - a batch whose records are all kept is copied byte for byte (unless it needs its delete
//    horizon stamped); otherwise it is rebuilt with its kept records, same base offset, same
//    lastOffsetDelta (so offsets and the producer's last sequence survive), codec, timestamp type,
//    producer id/epoch, base sequence and leader epoch;
//  - a batch left without records disappears, except (RETAIN_EMPTY, as a header-only batch):
//    the batch ending right before the first uncleanable offset (Kafka keeps the last batch of
//    the cleaning round so the offset information is not lost), and the last data batch of each
//    producer that is still active (its last batch's timestamp within producer.id.expiration.ms),
//    so that its sequence and epoch survive (Kafka's isBatchLastRecordOfProducer). The active
//    producers and their last data offsets come from the log's producer state (producer-state.ts),
//    looked at only when an emptied batch carries a producer id.
//  - TRANSACTIONS (Kafka's CleanedTransactionMetadata; everything cleaned is below the last
//    stable offset, so every transaction there is decided). The aborted transactions come from the
//    transaction indexes (PartitionLog.collectAbortedTxns, per segment read); walking the batches
//    in offset order, a transactional data batch of a producer inside one of its aborted
//    transactions (first offset reached, ABORT marker not yet) is ABORTED, any other transactional
//    batch is committed:
//      * aborted data never enters the offset map, and the whole batch is removed wherever it is
//        (also above L), except that an active producer's last batch stays as a header-only batch;
//      * committed transactional records are compacted like any others (their batch keeps its
//        transactional flag when rebuilt);
//      * a control batch (marker) is kept while its transaction still has data in the segments
//        cleaned together with it (an ABORT marker whose data this round met, a COMMIT marker
//        whose data it met); otherwise it may go: KIP-534's horizon applies as to tombstones, the
//        first clean that finds it removable stamps the delete horizon (now + delete.retention.ms)
//        and a clean after that time removes it. An empty control batch (already cleaned) goes.
//        An ABORT marker kept with its data keeps its entry in the cleaned segment's `.txnindex`;
//        the entries of markers removed or whose data is gone are dropped.
//
// Work happens in chunks of `ioBufferBytes` read through the libuv pool; each chunk's CPU work
// (decompress, filter, recompress) is followed by a turn of the event loop, and `checkDone` runs
// between chunks so that close() or a deleted log stops a clean quickly. The log's lock is taken
// only for the swap (a few renames).

import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from '../logging/logger.js';
import type { CompressionType } from '../protocol/compression/types.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  CRC_OFFSET,
  DELETE_HORIZON_FLAG_MASK,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  TimestampType,
} from '../protocol/records/constants.js';
import { ControlRecordType, decodeControlRecordKey } from '../protocol/records/control.js';
import { crc32c } from '../protocol/records/crc.js';
import { decodeRecordBatchRecords } from '../protocol/records/decode.js';
import { encodeRecordBatch } from '../protocol/records/encode.js';
import { isRecordBatchCrcValid, readRecordBatchHeader } from '../protocol/records/header.js';
import type { KafkaRecord, RecordBatchHeader, RecordInput } from '../protocol/records/types.js';
import { type Clock, SYSTEM_TIME } from '../util/clock.js';
import { type BatchInfo, readBatchInfo } from './batch-scan.js';
import { KafkaStorageError } from './errors.js';
import type { StorageHooks } from './files.js';
import type { LogSegment } from './log-segment.js';
import { OffsetMap } from './offset-map.js';
import type { PartitionLog } from './partition-log.js';
import { type ProducerId, producerIdKey } from './producer-state.js';
import type { AbortedTxn, TransactionIndex } from './transaction-index.js';

const MAX_DECOMPRESSED = 256 * 1024 * 1024;

/** The clean was stopped (close, log deleted or changed under it); the old segments are intact. */
export class CleaningAbortedError extends Error {
  override name = 'CleaningAbortedError';
}

/** The log holds something the cleaner cannot process (corrupt batch): Kafka marks it uncleanable. */
export class UncleanableLogError extends Error {
  override name = 'UncleanableLogError';
}

export interface CleanerSettings {
  /** log.cleaner.dedupe.buffer.size: the offset map's memory budget. */
  dedupeBufferBytes: number;
  /** Bytes read per chunk (log.cleaner.io.buffer.size); a larger batch gets a read of its own. */
  ioBufferBytes: number;
  /** producer.id.expiration.ms: producers idle longer than this need not keep their last batch. */
  producerIdExpirationMs: number;
}

/** What one round did (logged at info). */
export interface CleanerStats {
  topic: string;
  partition: number;
  firstDirtyOffset: number;
  /** The next first dirty offset: everything below was cleaned. */
  endOffset: number;
  firstUncleanableOffset: number;
  mapEntries: number;
  mapUtilization: number;
  /** Bytes read to build the map, and by the rewrite. */
  mapBytesRead: number;
  bytesRead: number;
  bytesWritten: number;
  batchesRead: number;
  batchesWritten: number;
  recordsRead: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  segmentsCleaned: number;
  segmentsWritten: number;
  durationMs: number;
}

/** The range one round cleans (from LogCleaner.cleanableOffsets). */
export interface CleanRange {
  firstDirtyOffset: number;
  firstUncleanableOffset: number;
}

interface Chunk {
  /** File position of buf[0]. */
  position: number;
  buf: Buffer;
  batches: BatchInfo[];
}

/** Whole batches of `seg` in [from, end), in chunks of about `chunkBytes`. */
async function* batchChunks(
  seg: LogSegment,
  from: number,
  end: number,
  chunkBytes: number,
): AsyncGenerator<Chunk> {
  let pos = from;
  while (pos < end) {
    let buf = await seg.readAt(pos, Math.min(chunkBytes, end - pos));
    if (buf.length < RECORD_BATCH_OVERHEAD) {
      throw new UncleanableLogError(`${seg.paths.log}: torn batch header at ${pos}`);
    }
    const first = readBatchInfo(buf, 0, pos);
    if (typeof first === 'string') throw new UncleanableLogError(`${seg.paths.log} at ${pos}: ${first}`);
    if (first.size > buf.length) {
      if (pos + first.size > end) throw new UncleanableLogError(`${seg.paths.log}: torn batch at ${pos}`);
      buf = await seg.readAt(pos, first.size);
      if (buf.length < first.size) throw new UncleanableLogError(`${seg.paths.log}: short read at ${pos}`);
    }
    const batches: BatchInfo[] = [];
    let p = 0;
    while (buf.length - p >= RECORD_BATCH_OVERHEAD) {
      const info = readBatchInfo(buf, p, pos + p);
      if (typeof info === 'string') throw new UncleanableLogError(`${seg.paths.log} at ${pos + p}: ${info}`);
      if (p + info.size > buf.length) break;
      batches.push(info);
      p += info.size;
    }
    yield { position: pos, buf: buf.subarray(0, p), batches };
    pos += p;
  }
}

/** Kafka's writeEmptyHeader: the batch's header with no records (uncompressed, no horizon). */
function emptyBatch(batch: Buffer): Buffer {
  const out = Buffer.from(batch.subarray(0, RECORD_BATCH_OVERHEAD));
  out.writeInt32BE(RECORD_BATCH_OVERHEAD - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  const attributes =
    out.readInt16BE(ATTRIBUTES_OFFSET) & ~(COMPRESSION_CODEC_MASK | DELETE_HORIZON_FLAG_MASK);
  out.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  out.copy(out, BASE_TIMESTAMP_OFFSET, MAX_TIMESTAMP_OFFSET, MAX_TIMESTAMP_OFFSET + 8);
  out.writeInt32BE(0, RECORDS_COUNT_OFFSET);
  out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return out;
}

function toRecordInput(r: KafkaRecord): RecordInput {
  return {
    key: r.key,
    value: r.value,
    headers: r.headers,
    timestamp: r.timestamp,
    offsetDelta: r.offsetDelta,
  };
}

/**
 * Kafka's CleanedTransactionMetadata: which transactional batches, read in offset order, belong to
 * aborted transactions, and whether a marker may be removed (see TRANSACTIONS in the header).
 */
class CleanedTransactions {
  /** Aborted transactions not yet reached, by first offset. */
  private pending: AbortedTxn[] = [];
  private readonly known = new Set<string>();
  private readonly ongoingCommitted = new Set<bigint>();
  private readonly ongoingAborted = new Map<bigint, { txn: AbortedTxn; lastObservedBatchOffset: number }>();

  /** The cleaned segment's index: an ABORT marker kept with its data keeps its entry there. */
  constructor(private readonly cleanedIndex: TransactionIndex | null) {}

  add(txns: readonly AbortedTxn[]): void {
    let added = false;
    for (const t of txns) {
      const k = `${t.producerId}:${t.lastOffset}`;
      if (this.known.has(k)) continue;
      this.known.add(k);
      this.pending.push(t);
      added = true;
    }
    if (added) this.pending.sort((a, b) => a.firstOffset - b.firstOffset);
  }

  private consumeUpTo(offset: number): void {
    let n = 0;
    while (n < this.pending.length && this.pending[n].firstOffset <= offset) {
      const t = this.pending[n++];
      if (!this.ongoingAborted.has(t.producerId))
        this.ongoingAborted.set(t.producerId, { txn: t, lastObservedBatchOffset: -1 });
    }
    if (n > 0) this.pending = this.pending.slice(n);
  }

  /** A data batch: whether it belongs to an aborted transaction. */
  onBatchRead(h: RecordBatchHeader, lastOffset: number): boolean {
    this.consumeUpTo(lastOffset);
    if (!h.isTransactional) return false;
    const aborted = this.ongoingAborted.get(h.producerId);
    if (aborted) {
      aborted.lastObservedBatchOffset = lastOffset;
      return true;
    }
    this.ongoingCommitted.add(h.producerId);
    return false;
  }

  /** A control batch: whether it may be removed (its transaction has no data left here). */
  onControlBatchRead(h: RecordBatchHeader, lastOffset: number, records: readonly KafkaRecord[]): boolean {
    this.consumeUpTo(lastOffset);
    if (records.length === 0) return true;
    let type: number;
    try {
      type = decodeControlRecordKey(records[0].key).type;
    } catch {
      return false;
    }
    if (type === ControlRecordType.Abort) {
      const aborted = this.ongoingAborted.get(h.producerId);
      this.ongoingAborted.delete(h.producerId);
      if (aborted && aborted.lastObservedBatchOffset >= 0) {
        this.cleanedIndex?.append(aborted.txn);
        return false;
      }
      return true;
    }
    if (type === ControlRecordType.Commit) return !this.ongoingCommitted.delete(h.producerId);
    return false;
  }
}

/** Per-round state shared by the groups. */
interface Round {
  log: PartitionLog;
  nowMs: number;
  map: OffsetMap;
  epoch: number;
  upperBoundOffset: number;
  deleteRetentionMs: number;
  /** Last data batch's last offset of each active producer; computed on first need. */
  activeProducers: Map<ProducerId, number> | null;
  stats: CleanerStats;
}

export class Cleaner {
  constructor(
    private readonly settings: CleanerSettings,
    private readonly checkDone: (log: PartitionLog) => void,
    private readonly hooks: StorageHooks = {},
    private readonly logger?: Logger,
    private readonly clock: Clock = SYSTEM_TIME,
  ) {}

  /**
   * Cleans `log` over `range` at time `nowMs` (one round, see the header). With an empty dirty
   * range, the clean part is still rewritten when `sweep` is set (drops tombstones whose horizon
   * passed); otherwise nothing happens. Returns the stats; `endOffset` is the new first dirty
   * offset. Throws CleaningAbortedError when stopped or when the log changed under it.
   */
  async clean(log: PartitionLog, range: CleanRange, nowMs: number, sweep = false): Promise<CleanerStats> {
    const started = this.clock.monotonicNs();
    const { firstDirtyOffset: start, firstUncleanableOffset: end } = range;
    const epoch = log.truncationEpoch;
    const segments = log.segmentsSnapshot();
    const stats: CleanerStats = {
      topic: log.topicPartition.topic,
      partition: log.topicPartition.partition,
      firstDirtyOffset: start,
      endOffset: start,
      firstUncleanableOffset: end,
      mapEntries: 0,
      mapUtilization: 0,
      mapBytesRead: 0,
      bytesRead: 0,
      bytesWritten: 0,
      batchesRead: 0,
      batchesWritten: 0,
      recordsRead: 0,
      recordsRemoved: 0,
      tombstonesRemoved: 0,
      segmentsCleaned: 0,
      segmentsWritten: 0,
      durationMs: 0,
    };
    const map = new OffsetMap(this.settings.dedupeBufferBytes);
    try {
      map.latestOffset = start - 1;
      await this.buildOffsetMap(log, segments, start, end, map, stats);
      const endOffset = Math.max(start, map.latestOffset + 1);
      stats.endOffset = endOffset;
      stats.mapEntries = map.size;
      stats.mapUtilization = map.utilization;
      if (endOffset > start || sweep) {
        const round: Round = {
          log,
          nowMs,
          map,
          epoch,
          upperBoundOffset: end,
          deleteRetentionMs: log.config.deleteRetentionMs,
          activeProducers: null,
          stats,
        };
        const active = segments[segments.length - 1];
        const candidates = segments.filter((s) => s !== active && s.baseOffset < endOffset);
        for (const s of candidates) await s.ensureLoaded();
        const groups = groupSegmentsBySize(
          candidates,
          log.config.segmentBytes,
          log.config.segmentIndexBytes,
          end,
        );
        for (const group of groups) await this.cleanSegments(group, round);
      }
    } catch (e) {
      if (e instanceof CleaningAbortedError || e instanceof UncleanableLogError) throw e;
      // The log closed under the clean, or a segment was retired under it (retention,
      // DeleteRecords, truncation): try again later.
      if (!log.isOpen) throw new CleaningAbortedError(`${log.dir} closed during the clean`);
      if (e instanceof KafkaStorageError && segments.some((s) => s.deleted)) {
        throw new CleaningAbortedError(`segments of ${log.dir} changed during the clean`);
      }
      throw e;
    }
    stats.durationMs = Math.round(Number(this.clock.monotonicNs() - started) / 1e6);
    return stats;
  }

  // ---- 1. the offset map ----

  private async buildOffsetMap(
    log: PartitionLog,
    segments: readonly LogSegment[],
    start: number,
    end: number,
    map: OffsetMap,
    stats: CleanerStats,
  ): Promise<void> {
    for (let i = 0; i + 1 < segments.length; i++) {
      const seg = segments[i];
      const nextBase = segments[i + 1].baseOffset;
      if (nextBase <= start) continue;
      if (seg.baseOffset >= end) break;
      await seg.ensureLoaded();
      const from = start > seg.baseOffset ? seg.offsetIndex.lookup(start).position : 0;
      // Aborted records must not shadow older committed values (Kafka's buildOffsetMapForSegment).
      const txns = new CleanedTransactions(null);
      txns.add(await log.collectAbortedTxns(Math.max(start, seg.baseOffset), nextBase));
      for await (const chunk of batchChunks(seg, from, seg.writtenSize, this.settings.ioBufferBytes)) {
        this.checkDone(log);
        for (const b of chunk.batches) {
          if (map.isFull) return;
          const at = b.position - chunk.position;
          const batch = chunk.buf.subarray(at, at + b.size);
          const h = readRecordBatchHeader(batch);
          let aborted = false;
          if (h.isControl) txns.onControlBatchRead(h, b.lastOffset, this.decode(batch, h, seg, b));
          else aborted = txns.onBatchRead(h, b.lastOffset);
          if (b.lastOffset >= start && !h.isControl && !aborted) {
            const records = this.decode(batch, h, seg, b);
            for (const r of records) {
              const offset = b.baseOffset + r.offsetDelta;
              if (r.key !== null && offset >= start) map.put(r.key, offset);
            }
          }
          if (b.lastOffset > map.latestOffset) map.latestOffset = b.lastOffset;
        }
        stats.mapBytesRead += chunk.buf.length;
        await nextTurn();
      }
      // Offsets up to the next segment are covered, even if its last batches left a gap.
      if (nextBase - 1 > map.latestOffset) map.latestOffset = Math.min(nextBase, end) - 1;
    }
  }

  private decode(batch: Buffer, h: RecordBatchHeader, seg: LogSegment, b: BatchInfo): KafkaRecord[] {
    if (!isRecordBatchCrcValid(batch)) {
      throw new UncleanableLogError(`${seg.paths.log}: CRC mismatch in the batch at ${b.position}`);
    }
    try {
      return decodeRecordBatchRecords(batch, h, MAX_DECOMPRESSED);
    } catch (e) {
      throw new UncleanableLogError(`${seg.paths.log}: batch at ${b.position}: ${(e as Error).message}`);
    }
  }

  // ---- 2. rewriting a group of segments ----

  private async cleanSegments(group: readonly LogSegment[], round: Round): Promise<void> {
    const { log, stats } = round;
    const cleaned = log.newCleanedSegment(group[0].baseOffset);
    const txns = new CleanedTransactions(cleaned.txnIndex);
    try {
      await cleaned.createFile();
      let position = 0;
      for (let g = 0; g < group.length; g++) {
        const seg = group[g];
        const segments = log.segmentsSnapshot();
        const k = segments.indexOf(seg);
        const upper =
          g + 1 < group.length
            ? group[g + 1].baseOffset
            : k >= 0 && k + 1 < segments.length
              ? segments[k + 1].baseOffset
              : seg.nextOffset;
        txns.add(await log.collectAbortedTxns(seg.baseOffset, upper));
        for await (const chunk of batchChunks(seg, 0, seg.writtenSize, this.settings.ioBufferBytes)) {
          this.checkDone(log);
          if (round.activeProducers === null && this.needsProducers(chunk)) {
            round.activeProducers = this.activeProducers(log, round.nowMs);
          }
          const out: Buffer[] = [];
          const at = position;
          for (const b of chunk.batches) {
            const p = b.position - chunk.position;
            const kept = this.filterBatch(chunk.buf.subarray(p, p + b.size), b, seg, round, txns);
            if (kept === null) continue;
            const info = readBatchInfo(kept, 0, position);
            if (typeof info === 'string') throw new Error(`cleaner built a bad batch: ${info}`);
            cleaned.onBatchAppended(info, position);
            out.push(kept);
            position += kept.length;
            stats.batchesWritten++;
          }
          if (out.length > 0) await cleaned.write(out, at);
          stats.bytesRead += chunk.buf.length;
          stats.bytesWritten += position - at;
          await nextTurn();
        }
      }
      this.checkDone(log);
      await cleaned.sync();
      await cleaned.persistIndexes();
      await cleaned.setLastModified(group[group.length - 1].lastModifiedMs);
      this.hooks.onCleanerSwap?.('cleaned', log.dir, cleaned.baseOffset);
    } catch (e) {
      await cleaned.delete().catch(() => {});
      throw e;
    }
    // An I/O error inside the swap puts the log offline (its loader finishes the swap on reopen):
    // the files are left to it.
    if (!(await log.replaceSegments(group, cleaned, round.epoch))) {
      await cleaned.delete().catch(() => {});
      throw new CleaningAbortedError(`${log.dir} changed during the clean`);
    }
    stats.segmentsCleaned += group.length;
    stats.segmentsWritten++;
    this.logger?.debug(
      { dir: log.dir, replaced: group.map((s) => s.name), size: cleaned.size },
      'swapped in a cleaned segment',
    );
  }

  /**
   * Whether the chunk may empty a batch of a producer (then the active producers are needed): one
   * the map covers, or any (an aborted transaction's batch goes wherever it is).
   */
  private needsProducers(chunk: Chunk): boolean {
    for (const b of chunk.batches) {
      const p = b.position - chunk.position;
      if (chunk.buf.readBigInt64BE(p + PRODUCER_ID_OFFSET) >= 0n) return true;
    }
    return false;
  }

  /**
   * The last data offset of every producer in the log's producer state whose last batch is recent
   * enough to be active (within producer.id.expiration.ms: one the expiration task has not
   * removed yet counts as expired here too).
   */
  private activeProducers(log: PartitionLog, nowMs: number): Map<ProducerId, number> {
    const horizon = nowMs - this.settings.producerIdExpirationMs;
    const active = new Map<ProducerId, number>();
    for (const e of log.producerState.activeProducers()) {
      if (e.lastDataOffset >= 0 && e.lastTimestamp > horizon) active.set(e.producerId, e.lastDataOffset);
    }
    return active;
  }

  /**
   * The batch as it goes into the cleaned segment: itself (byte for byte), rebuilt with the kept
   * records, header-only, or null (removed). See the header for the rules.
   */
  private filterBatch(
    batch: Buffer,
    b: BatchInfo,
    seg: LogSegment,
    round: Round,
    txns: CleanedTransactions,
  ): Buffer | null {
    const { map, stats, nowMs } = round;
    stats.batchesRead++;
    const h = readRecordBatchHeader(batch);
    const keepEmpty = (): boolean =>
      b.lastOffset + 1 === round.upperBoundOffset ||
      (h.producerId >= 0n && round.activeProducers?.get(producerIdKey(h.producerId)) === b.lastOffset);
    if (h.isControl) return this.filterControlBatch(batch, h, b, seg, round, txns);
    if (txns.onBatchRead(h, b.lastOffset)) {
      // An aborted transaction's batch (see TRANSACTIONS).
      stats.recordsRead += h.recordCount;
      stats.recordsRemoved += h.recordCount;
      return keepEmpty() ? emptyBatch(batch) : null;
    }
    // Past the range the map covers: untouched.
    if (b.baseOffset > map.latestOffset) {
      stats.recordsRead += h.recordCount;
      return batch;
    }
    const records = this.decode(batch, h, seg, b);
    stats.recordsRead += records.length;
    const horizon = h.hasDeleteHorizonMs ? Number(h.baseTimestamp) : null;
    const retainTombstones = horizon === null || nowMs < horizon;
    const kept: KafkaRecord[] = [];
    let keptTombstone = false;
    for (const r of records) {
      const offset = b.baseOffset + r.offsetDelta;
      let keep: boolean;
      if (offset > map.latestOffset) keep = true;
      else if (r.key === null) keep = false;
      else if (offset < map.get(r.key)) keep = false;
      else if (r.value === null && !retainTombstones) {
        keep = false;
        stats.tombstonesRemoved++;
      } else keep = true;
      if (keep) {
        kept.push(r);
        if (r.value === null) keptTombstone = true;
      }
    }
    stats.recordsRemoved += records.length - kept.length;
    const stampHorizon = keptTombstone && horizon === null && Number.isFinite(round.deleteRetentionMs);
    if (kept.length === records.length && !stampHorizon) return batch;
    if (kept.length === 0) return keepEmpty() ? emptyBatch(batch) : null;
    return rebuild(h, kept, stampHorizon ? nowMs + round.deleteRetentionMs : (horizon ?? undefined));
  }

  /** A marker: kept, stamped with its delete horizon, or removed (see TRANSACTIONS). */
  private filterControlBatch(
    batch: Buffer,
    h: RecordBatchHeader,
    b: BatchInfo,
    seg: LogSegment,
    round: Round,
    txns: CleanedTransactions,
  ): Buffer | null {
    const { stats, nowMs } = round;
    const records = this.decode(batch, h, seg, b);
    stats.recordsRead += records.length;
    const removable = txns.onControlBatchRead(h, b.lastOffset, records);
    if (!removable) return batch;
    const horizon = h.hasDeleteHorizonMs ? Number(h.baseTimestamp) : null;
    if (records.length === 0 || (horizon !== null && horizon <= nowMs)) {
      stats.recordsRemoved += records.length;
      return b.lastOffset + 1 === round.upperBoundOffset ? emptyBatch(batch) : null;
    }
    if (horizon !== null || !Number.isFinite(round.deleteRetentionMs)) return batch;
    return rebuild(h, records, nowMs + round.deleteRetentionMs);
  }
}

/** The batch `h` rebuilt with `records` (same offsets, flags, producer fields, codec, leader epoch). */
function rebuild(
  h: RecordBatchHeader,
  records: readonly KafkaRecord[],
  deleteHorizonMs: number | undefined,
): Buffer {
  const logAppendTime = h.timestampType === TimestampType.LogAppendTime;
  return encodeRecordBatch(records.map(toRecordInput), {
    baseOffset: h.baseOffset,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    compression: h.compression as CompressionType,
    timestampType: logAppendTime ? TimestampType.LogAppendTime : TimestampType.CreateTime,
    logAppendTime: logAppendTime ? Number(h.maxTimestamp) : undefined,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    isTransactional: h.isTransactional,
    isControl: h.isControl,
    deleteHorizonMs,
    lastOffsetDelta: h.lastOffsetDelta,
  });
}

/**
 * Kafka's groupSegmentsBySize: consecutive segments whose total log size fits `maxSize` and
 * whose index sizes fit `maxIndexSize`, and whose offsets stay within 2^31 of the group's base
 * offset (the last segment's upper bound taken from the next base offset, or
 * `firstUncleanableOffset`). Segments must be loaded.
 */
export function groupSegmentsBySize(
  segments: readonly LogSegment[],
  maxSize: number,
  maxIndexSize: number,
  firstUncleanableOffset: number,
): LogSegment[][] {
  const groups: LogSegment[][] = [];
  let i = 0;
  while (i < segments.length) {
    const group = [segments[i]];
    let logSize = segments[i].size;
    let indexSize = segments[i].offsetIndex.sizeInBytes;
    let timeIndexSize = segments[i].timeIndex.sizeInBytes;
    i++;
    while (i < segments.length) {
      const s = segments[i];
      const upper = i + 1 < segments.length ? segments[i + 1].baseOffset - 1 : firstUncleanableOffset - 1;
      if (
        logSize + s.size > maxSize ||
        indexSize + s.offsetIndex.sizeInBytes > maxIndexSize ||
        timeIndexSize + s.timeIndex.sizeInBytes > maxIndexSize ||
        (s.size > 0 && upper - group[0].baseOffset > 0x7fffffff)
      )
        break;
      group.push(s);
      logSize += s.size;
      indexSize += s.offsetIndex.sizeInBytes;
      timeIndexSize += s.timeIndex.sizeInBytes;
      i++;
    }
    groups.push(group);
  }
  return groups;
}
