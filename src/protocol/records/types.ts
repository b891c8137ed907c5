// The shapes records and batches take in memory, shared by the v2 and legacy decoders.
//
// Numbers vs bigint: int64 header fields (offsets, timestamps, producer id) are bigint, as at
// every API edge of the project. Per-record values are numbers, because decoding allocates one
// record object per record on the hot path and BigInt arithmetic there would dominate: a record
// carries its offset as `offsetDelta` from its batch's baseOffset (exact: an int32 on the wire) and
// its timestamp in milliseconds (exact while |t| < 2^53 ms, i.e. for 285,000 years around 1970).

import type { CompressionType } from '../compression/types.js';
import type { TimestampType } from './constants.js';

export interface RecordHeader {
  key: string;
  /** A view into the decoded bytes, or null. */
  value: Buffer | null;
}

export interface KafkaRecord {
  /** Record-level attributes (unused by Kafka so far, always 0 in v2; the message attributes in v0/v1). */
  attributes: number;
  /** Offset relative to the batch: offset = baseOffset + BigInt(offsetDelta). */
  offsetDelta: number;
  /** Milliseconds; LogAppendTime batches give every record the batch's maxTimestamp; -1 if none. */
  timestamp: number;
  /** Views into the batch (or its decompressed records): valid as long as that buffer is. */
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface RecordInput {
  key?: Uint8Array | null;
  value?: Uint8Array | null;
  headers?: ReadonlyArray<{ key: string; value: Uint8Array | null }>;
  /** Milliseconds; defaults to the batch option `defaultTimestamp`, else -1 (no timestamp). */
  timestamp?: number;
  /** Defaults to the record's index; must increase strictly (gaps are allowed, as after compaction). */
  offsetDelta?: number;
}

export interface RecordBatchHeader {
  baseOffset: bigint;
  /** Bytes after the batchLength field (the whole batch is LOG_OVERHEAD + batchLength bytes). */
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  /** Stored CRC-32C (unsigned). */
  crc: number;
  attributes: number;
  compression: number;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizonMs: boolean;
  lastOffsetDelta: number;
  /** The delete horizon instead, when hasDeleteHorizonMs (record timestamps stay relative to it). */
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** A decoded v2 batch. */
export interface DecodedRecordBatch {
  magic: 2;
  baseOffset: bigint;
  /** baseOffset + lastOffsetDelta: the next fetch offset is lastOffset + 1, even for empty batches. */
  lastOffset: bigint;
  header: RecordBatchHeader;
  records: KafkaRecord[];
}

/**
 * A decoded magic 0/1 entry: one shallow message, or a compressed wrapper and its inner messages,
 * presented like a batch (as Kafka's AbstractLegacyRecordBatch does).
 */
export interface DecodedLegacyBatch {
  magic: 0 | 1;
  baseOffset: bigint;
  lastOffset: bigint;
  compression: CompressionType;
  timestampType: TimestampType;
  /** CRC-32 of the shallow (wrapper) message. */
  crc: number;
  records: KafkaRecord[];
}

export type DecodedBatch = DecodedRecordBatch | DecodedLegacyBatch;

export interface DecodeOptions {
  /**
   * Cap on the decompressed size of one batch's records. Enforced from the compressed stream's
   * headers before decompressing; a batch over it raises CompressionError('limit').
   */
  maxUncompressedBytes: number;
  /** Verify the CRC (default true; the broker and Java consumers with check.crcs=true do). */
  verifyCrc?: boolean;
}
