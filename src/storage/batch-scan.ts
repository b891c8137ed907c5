// Walking the v2 record batches of a segment without decoding records: the header fields the log
// needs (as numbers: offsets stay below 2^53 in Samsa), sanity checks, and a chunked asynchronous
// scan of a file region that checks each batch's CRC-32C (recovery, index rebuilds).
//
// The chunked scan reads `chunkBytes` at a time through the libuv pool and checks every batch in
// a chunk synchronously; each await between chunks gives the event loop its turn, so recovering a
// large segment never holds the loop for more than one chunk's CRC work.

import type { FileHandle } from 'node:fs/promises';
import {
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
} from '../protocol/records/constants.js';
import { computeRecordBatchCrc } from '../protocol/records/header.js';

/** What the log keeps of a batch header. */
export interface BatchInfo {
  /** Byte position of the batch (in the file, or in the buffer for walkBatches). */
  position: number;
  /** Whole batch bytes, LOG_OVERHEAD included. */
  size: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  partitionLeaderEpoch: number;
  recordCount: number;
}

/** int64 big-endian as a number; NaN when outside the safe integer range. */
export function readInt64(buf: Buffer, p: number): number {
  const hi = buf.readInt32BE(p);
  if (hi > 0x1fffff || hi < -0x200000) return Number.NaN;
  return hi * 0x1_0000_0000 + buf.readUInt32BE(p + 4);
}

/**
 * Reads and sanity-checks the header of the batch at `p` in `buf` (the whole header must be
 * there; the records need not be). Returns the info, or a string saying what is wrong.
 * `position` is reported as the batch's position; `checkBaseOffset` false ignores the baseOffset
 * (reported as 0), for batches whose offsets are about to be assigned.
 */
export function readBatchInfo(
  buf: Buffer,
  p: number,
  position = p,
  checkBaseOffset = true,
): BatchInfo | string {
  const magic = buf.readInt8(p + MAGIC_OFFSET);
  if (magic !== MAGIC_V2) return `magic ${magic}`;
  const batchLength = buf.readInt32BE(p + BATCH_LENGTH_OFFSET);
  if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) return `batch length ${batchLength}`;
  // A producer's batch gets its offsets from the leader: whatever it carries does not matter.
  const baseOffset = checkBaseOffset ? readInt64(buf, p) : 0;
  if (!(baseOffset >= 0)) return `base offset ${buf.readBigInt64BE(p)}`;
  const lastOffsetDelta = buf.readInt32BE(p + LAST_OFFSET_DELTA_OFFSET);
  if (lastOffsetDelta < 0) return `last offset delta ${lastOffsetDelta}`;
  const recordCount = buf.readInt32BE(p + RECORDS_COUNT_OFFSET);
  if (recordCount < 0) return `record count ${recordCount}`;
  const maxTimestamp = readInt64(buf, p + MAX_TIMESTAMP_OFFSET);
  return {
    position,
    size: LOG_OVERHEAD + batchLength,
    baseOffset,
    lastOffset: baseOffset + lastOffsetDelta,
    maxTimestamp: Number.isNaN(maxTimestamp) ? -1 : maxTimestamp,
    partitionLeaderEpoch: buf.readInt32BE(p + PARTITION_LEADER_EPOCH_OFFSET),
    recordCount,
  };
}

/** Whether the complete batch at `p` carries a correct CRC-32C. */
export function batchCrcValid(buf: Buffer, p: number, size: number): boolean {
  const batch = buf.subarray(p, p + size);
  return computeRecordBatchCrc(batch) === batch.readUInt32BE(CRC_OFFSET);
}

/**
 * Calls `visit` for each complete batch in buf[from, to) in order, stopping when it returns
 * false. Returns the position after the last batch visited (a torn tail is left out). Headers are
 * trusted here: use it on bytes the log wrote (memory tail, file reads).
 */
export function walkBatches(buf: Buffer, from: number, to: number, visit: (b: BatchInfo) => boolean): number {
  let p = from;
  while (to - p >= RECORD_BATCH_OVERHEAD) {
    const info = readBatchInfo(buf, p);
    if (typeof info === 'string' || p + info.size > to) break;
    if (!visit(info)) break;
    p += info.size;
  }
  return p;
}

export interface ScanResult {
  /** End of the last good batch: the byte count to keep. */
  validEnd: number;
  /** Why the scan stopped before `end`, or null if every byte was good batches. */
  problem: string | null;
}

export interface ScanOptions {
  /** Verify each batch's CRC-32C (recovery does; finding the next offset does not). */
  verifyCrc: boolean;
  /** Bytes read per chunk (a larger batch gets one read of its own size). */
  chunkBytes?: number;
  /** Largest batch accepted; bigger is corruption. Defaults to the bytes up to `end`. */
  maxBatchBytes?: number;
}

const DEFAULT_CHUNK = 1 << 20;

/**
 * Scans the batches of file region [start, end): header checks, optionally CRC, then `visit`,
 * which may reject the batch (offsets out of order) by returning a problem string. Stops at the
 * first torn, corrupt or rejected batch.
 */
export async function scanFileBatches(
  fh: FileHandle,
  start: number,
  end: number,
  options: ScanOptions,
  visit: (b: BatchInfo, buf: Buffer, p: number) => string | undefined,
): Promise<ScanResult> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK;
  let buf: Buffer = Buffer.alloc(0);
  let bufStart = start;
  let pos = start;
  // Reads [at, at + want) (bounded by end) into a fresh buffer.
  const fill = async (at: number, want: number) => {
    const n = Math.min(Math.max(want, chunkBytes), end - at);
    const next = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await fh.read(next, got, n - got, at + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    buf = next.subarray(0, got);
    bufStart = at;
  };
  while (pos < end) {
    if (end - pos < RECORD_BATCH_OVERHEAD) {
      return { validEnd: pos, problem: `torn batch header at ${pos}: ${end - pos} bytes left` };
    }
    if (bufStart + buf.length - pos < RECORD_BATCH_OVERHEAD) await fill(pos, RECORD_BATCH_OVERHEAD);
    if (bufStart + buf.length - pos < RECORD_BATCH_OVERHEAD) {
      return { validEnd: pos, problem: `file shorter than expected at ${pos}` };
    }
    const info = readBatchInfo(buf, pos - bufStart, pos);
    if (typeof info === 'string') return { validEnd: pos, problem: `corrupt batch at ${pos}: ${info}` };
    if (options.maxBatchBytes !== undefined && info.size > options.maxBatchBytes) {
      return { validEnd: pos, problem: `batch at ${pos} of ${info.size} bytes exceeds the maximum` };
    }
    if (pos + info.size > end) {
      return { validEnd: pos, problem: `torn batch at ${pos}: ${info.size} bytes, ${end - pos} left` };
    }
    if (bufStart + buf.length < pos + info.size) {
      await fill(pos, info.size);
      if (buf.length < info.size) return { validEnd: pos, problem: `file shorter than expected at ${pos}` };
    }
    const p = pos - bufStart;
    if (options.verifyCrc && !batchCrcValid(buf, p, info.size)) {
      return { validEnd: pos, problem: `CRC mismatch in batch at ${pos}` };
    }
    const rejected = visit(info, buf, p);
    if (rejected !== undefined) return { validEnd: pos, problem: `batch at ${pos}: ${rejected}` };
    pos += info.size;
  }
  return { validEnd: pos, problem: null };
}
