// Encoding a v2 record batch (DefaultRecordBatch / MemoryRecordsBuilder semantics).

import { compress } from '../compression/index.js';
import { CompressionType, isCompressionType } from '../compression/types.js';
import { EncodeError, Writer } from '../primitives/writer.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  CRC_OFFSET,
  DELETE_HORIZON_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TimestampType,
  TRANSACTIONAL_FLAG_MASK,
} from './constants.js';
import { crc32c } from './crc.js';
import { prepareRecords, writeRecords } from './record.js';
import type { RecordInput } from './types.js';

const HEADER_PLACEHOLDER = Buffer.alloc(RECORD_BATCH_OVERHEAD);

export interface EncodeBatchOptions {
  baseOffset?: bigint;
  /** -1 (what producers send); the leader stamps its epoch on append. */
  partitionLeaderEpoch?: number;
  compression?: CompressionType;
  /** gzip/zstd level; see compress(). */
  compressionLevel?: number;
  timestampType?: typeof TimestampType.CreateTime | typeof TimestampType.LogAppendTime;
  /** Required with LogAppendTime: becomes maxTimestamp (and thus every record's timestamp). */
  logAppendTime?: number;
  /** Timestamp for records that have none; -1 (no timestamp) if unset. */
  defaultTimestamp?: number;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  /** Sets the hasDeleteHorizonMs flag and stores the horizon as baseTimestamp (KIP-534, the cleaner). */
  deleteHorizonMs?: number;
  /** Defaults to the last record's offsetDelta; needed for empty batches that keep an offset range. */
  lastOffsetDelta?: number;
}

/** Encodes records into one complete v2 batch (CRC included). */
export function encodeRecordBatch(records: readonly RecordInput[], options: EncodeBatchOptions = {}): Buffer {
  const compression = options.compression ?? CompressionType.None;
  if (!isCompressionType(compression)) throw new EncodeError(`unknown compression type ${compression}`);
  const timestampType = options.timestampType ?? TimestampType.CreateTime;
  const n = records.length;

  const timestamps = new Float64Array(n);
  let maxTimestamp = NO_TIMESTAMP;
  const defaultTimestamp = options.defaultTimestamp ?? NO_TIMESTAMP;
  for (let i = 0; i < n; i++) {
    const t = records[i].timestamp ?? defaultTimestamp;
    timestamps[i] = t;
    if (t > maxTimestamp) maxTimestamp = t;
  }
  // Java's MemoryRecordsBuilder takes the first record's timestamp as the base.
  const baseTimestamp = options.deleteHorizonMs ?? (n > 0 ? timestamps[0] : NO_TIMESTAMP);
  if (timestampType === TimestampType.LogAppendTime) {
    if (options.logAppendTime === undefined)
      throw new EncodeError('LogAppendTime batches need logAppendTime');
    maxTimestamp = options.logAppendTime;
  }

  const prepared = prepareRecords(records, timestamps, baseTimestamp);
  const lastOffsetDelta = options.lastOffsetDelta ?? (n > 0 ? prepared.offsetDeltas[n - 1] : 0);

  let attributes = compression & COMPRESSION_CODEC_MASK;
  if (timestampType === TimestampType.LogAppendTime) attributes |= TIMESTAMP_TYPE_MASK;
  if (options.isTransactional) attributes |= TRANSACTIONAL_FLAG_MASK;
  if (options.isControl) attributes |= CONTROL_FLAG_MASK;
  if (options.deleteHorizonMs !== undefined) attributes |= DELETE_HORIZON_FLAG_MASK;

  let batch: Buffer;
  if (compression === CompressionType.None || n === 0) {
    // (An empty batch is its header alone whatever its codec, as Java's writeEmptyHeader makes it.)
    // One writer sized exactly: header placeholder then records, patched below. Byte fields of
    // 4 KiB and more are referenced by the writer and joined by finish() (one copy).
    const w = new Writer(RECORD_BATCH_OVERHEAD + prepared.size);
    w.raw(HEADER_PLACEHOLDER);
    writeRecords(w, prepared);
    batch = w.finish();
  } else {
    const w = new Writer(prepared.size);
    writeRecords(w, prepared);
    const compressed = compress(compression, w.finish(), options.compressionLevel);
    batch = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + compressed.length);
    compressed.copy(batch, RECORD_BATCH_OVERHEAD);
  }
  if (batch.length - LOG_OVERHEAD > 0x7fffffff)
    throw new EncodeError(`record batch of ${batch.length} bytes`);

  batch.writeBigInt64BE(options.baseOffset ?? 0n, BASE_OFFSET_OFFSET);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  batch.writeInt32BE(
    options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH,
    PARTITION_LEADER_EPOCH_OFFSET,
  );
  batch.writeInt8(MAGIC_V2, MAGIC_OFFSET);
  batch.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  batch.writeInt32BE(lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  batch.writeBigInt64BE(BigInt(baseTimestamp), BASE_TIMESTAMP_OFFSET);
  batch.writeBigInt64BE(BigInt(maxTimestamp), MAX_TIMESTAMP_OFFSET);
  batch.writeBigInt64BE(options.producerId ?? NO_PRODUCER_ID, PRODUCER_ID_OFFSET);
  batch.writeInt16BE(options.producerEpoch ?? NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
  batch.writeInt32BE(options.baseSequence ?? NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
  batch.writeInt32BE(n, RECORDS_COUNT_OFFSET);
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return batch;
}
