// The v2 record batch header: reading it without touching the records, and its CRC-32C.

import { DecodeError } from '../primitives/reader.js';
import {
  ATTRIBUTES_OFFSET,
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
import type { RecordBatchHeader } from './types.js';

/** A stored checksum that does not match the bytes (Kafka's CORRUPT_MESSAGE). */
export class CrcMismatchError extends DecodeError {
  override name = 'CrcMismatchError';
  readonly stored: number;
  readonly computed: number;

  constructor(what: string, stored: number, computed: number) {
    super(`${what}: stored CRC 0x${stored.toString(16)} but computed 0x${computed.toString(16)}`);
    this.stored = stored;
    this.computed = computed;
  }
}

/**
 * Reads the 61-byte header of the v2 batch starting at `pos` (fixed offsets, no record is read).
 * Only the header must be present, so this also works on a partial trailing batch.
 */
export function readRecordBatchHeader(buf: Buffer, pos = 0): RecordBatchHeader {
  if (buf.length - pos < RECORD_BATCH_OVERHEAD) {
    throw new DecodeError(
      `truncated record batch header: ${buf.length - pos} of ${RECORD_BATCH_OVERHEAD} bytes`,
    );
  }
  const magic = buf.readInt8(pos + MAGIC_OFFSET);
  if (magic !== MAGIC_V2) throw new DecodeError(`record batch magic ${magic}, expected 2`);
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) {
    throw new DecodeError(`record batch length ${batchLength} is below the header size`);
  }
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  const recordCount = buf.readInt32BE(pos + RECORDS_COUNT_OFFSET);
  if (recordCount < 0) throw new DecodeError(`negative record count ${recordCount}`);
  return {
    baseOffset: buf.readBigInt64BE(pos),
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic,
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes,
    compression: attributes & COMPRESSION_CODEC_MASK,
    timestampType:
      (attributes & TIMESTAMP_TYPE_MASK) !== 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime,
    isTransactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    isControl: (attributes & CONTROL_FLAG_MASK) !== 0,
    hasDeleteHorizonMs: (attributes & DELETE_HORIZON_FLAG_MASK) !== 0,
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: buf.readBigInt64BE(pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: buf.readBigInt64BE(pos + MAX_TIMESTAMP_OFFSET),
    producerId: buf.readBigInt64BE(pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordCount,
  };
}

/** Total bytes of the batch at `pos` according to its length field (LOG_OVERHEAD + batchLength). */
export function recordBatchSize(buf: Buffer, pos = 0): number {
  return LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
}

/** CRC-32C of a whole batch (`batch` starts at its baseOffset and holds the complete batch). */
export function computeRecordBatchCrc(batch: Buffer): number {
  const end = recordBatchSize(batch);
  if (end > batch.length || end < RECORD_BATCH_OVERHEAD) {
    throw new DecodeError(`record batch of ${end} bytes does not fit the ${batch.length} given`);
  }
  return crc32c(batch.subarray(ATTRIBUTES_OFFSET, end));
}

export function isRecordBatchCrcValid(batch: Buffer): boolean {
  return computeRecordBatchCrc(batch) === batch.readUInt32BE(CRC_OFFSET);
}

/** Raises CrcMismatchError unless the stored CRC matches (Java's DefaultRecordBatch.ensureValid). */
export function ensureRecordBatchCrc(batch: Buffer): void {
  const computed = computeRecordBatchCrc(batch);
  const stored = batch.readUInt32BE(CRC_OFFSET);
  if (computed !== stored) throw new CrcMismatchError('record batch', stored, computed);
}
