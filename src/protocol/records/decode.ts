// Decoding one v2 record batch: validation (length, CRC), decompression under the caller's cap,
// then the record loop.

import { decompress } from '../compression/index.js';
import { CompressionType } from '../compression/types.js';
import { DecodeError } from '../primitives/reader.js';
import { LOG_OVERHEAD, MAGIC_V2, RECORD_BATCH_OVERHEAD, TimestampType } from './constants.js';
import { ensureRecordBatchCrc, readRecordBatchHeader } from './header.js';
import { readRecords } from './record.js';
import type { DecodedRecordBatch, DecodeOptions, KafkaRecord, RecordBatchHeader } from './types.js';

/**
 * Decodes the complete v2 batch at the start of `batch` (bytes past its length are ignored).
 * Keys, values and header values are views into `batch`, or into the decompressed records.
 */
export function decodeRecordBatch(batch: Buffer, options: DecodeOptions): DecodedRecordBatch {
  const header = readRecordBatchHeader(batch);
  const end = LOG_OVERHEAD + header.batchLength;
  if (end > batch.length) throw new DecodeError(`truncated record batch: ${batch.length} of ${end} bytes`);
  if (options.verifyCrc !== false) ensureRecordBatchCrc(batch);
  return {
    magic: MAGIC_V2,
    baseOffset: header.baseOffset,
    lastOffset: header.baseOffset + BigInt(header.lastOffsetDelta),
    header,
    records: decodeRecordBatchRecords(batch, header, options.maxUncompressedBytes),
  };
}

/** The records of a batch whose header was already read (and whose CRC the caller has handled). */
export function decodeRecordBatchRecords(
  batch: Buffer,
  header: RecordBatchHeader,
  maxUncompressedBytes: number,
): KafkaRecord[] {
  // Java skips decompression entirely for empty batches (the cleaner leaves such batches behind).
  if (header.recordCount === 0) return [];
  const end = LOG_OVERHEAD + header.batchLength;
  const baseTimestamp = Number(header.baseTimestamp);
  const fixedTimestamp =
    header.timestampType === TimestampType.LogAppendTime ? Number(header.maxTimestamp) : null;
  if (header.compression === CompressionType.None) {
    return readRecords(batch, RECORD_BATCH_OVERHEAD, end, header.recordCount, baseTimestamp, fixedTimestamp);
  }
  const records = decompress(
    header.compression,
    batch.subarray(RECORD_BATCH_OVERHEAD, end),
    maxUncompressedBytes,
  );
  return readRecords(records, 0, records.length, header.recordCount, baseTimestamp, fixedTimestamp);
}

/** Absolute offset of a record of a decoded batch. */
export function recordOffset(batch: { baseOffset: bigint }, record: KafkaRecord): bigint {
  return batch.baseOffset + BigInt(record.offsetDelta);
}
