// LogValidator: what a leader checks in a partition's records before appending them (Kafka's
// LogValidator and ProduceRequest.validateRecords). Produce v3+ sends one magic 2 batch; Produce
// v0-2 (clients before Kafka 0.11, served with samsa.legacy.protocol.enable) sends magic 0/1
// message sets, converted up here to one v2 batch (protocol/records/convert.ts, Kafka 3.x's
// LogValidator conversion), which is then checked as any v2 batch.
//
// Every record is walked (protocol/records scanRecords), without allocating: lengths, varints and
// bounds only, so that a malformed record inside a batch with a valid CRC is refused here rather
// than stored and served to consumers. Compressed batches are decompressed (under the caller's cap) for the same walk.
// Nothing is modified; offsets are assigned by the log on append.
//
// Errors, as Kafka returns them for the partition:
//   CORRUPT_MESSAGE        CRC mismatch; a batch size under 14 bytes or a magic outside 0..2
//                          (ByteBufferLogInputStream.nextBatchSize)
//   INVALID_RECORD         not exactly one complete batch, magic 0/1 in Produce v3+, a base offset other than 0,
//                          a control batch from a client, a producer id with a negative base
//                          sequence, inconsistent offsets or count, records
//                          that do not parse or decompress (InvalidRecordException, which clients
//                          do not retry), a keyless record on a compacted topic
//   MESSAGE_TOO_LARGE      a batch larger than max.message.bytes
//   RECORD_LIST_TOO_LARGE  the record set is larger than the segment size
//   INVALID_TIMESTAMP      a record timestamp outside message.timestamp.before/after.max.ms

import { decompress } from '../protocol/compression/index.js';
import { CompressionType } from '../protocol/compression/types.js';
import { ErrorCode } from '../protocol/errors.js';
import { DecodeError } from '../protocol/primitives/reader.js';

/** The smallest a batch (or legacy message) can be: Kafka's LegacyRecord.RECORD_OVERHEAD_V0. */
const LEGACY_MIN_BATCH_BYTES = 14;

import {
  CrcMismatchError,
  computeRecordBatchCrc,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  NO_TIMESTAMP,
  RECORD_BATCH_OVERHEAD,
  type RecordBatchHeader,
  readRecordBatchHeader,
  scanRecords,
  TimestampType,
  upConvertMessageSet,
} from '../protocol/records/index.js';

export interface ValidationOptions {
  /** max.message.bytes of the topic: the largest batch accepted. */
  maxMessageBytes: number;
  /** segment.bytes of the topic: the largest record set accepted. */
  segmentBytes: number;
  /** cleanup.policy includes compact: every record needs a key. */
  compacted: boolean;
  /** message.timestamp.type of the topic. */
  timestampType: 'CreateTime' | 'LogAppendTime';
  /** message.timestamp.before.max.ms / after.max.ms (CreateTime only). */
  timestampBeforeMaxMs: number;
  timestampAfterMaxMs: number;
  nowMs: number;
  /** Cap on the uncompressed size of one batch. */
  maxUncompressedBytes: number;
  /** Produce v0-2: magic 0/1 message sets are accepted and converted to one v2 batch. */
  legacyMagicAllowed?: boolean;
}

export interface RecordError {
  batchIndex: number;
  message: string | null;
}

export type ValidationResult =
  | {
      ok: true;
      batch: Buffer;
      header: RecordBatchHeader;
      recordCount: number;
      /** Set when the batch was converted up from a magic 0/1 message set. */
      convertedFromMagic?: 0 | 1;
    }
  | { ok: false; errorCode: number; errorMessage: string; recordErrors: RecordError[] };

function fail(errorCode: number, errorMessage: string, recordErrors: RecordError[] = []): ValidationResult {
  return { ok: false, errorCode, errorMessage, recordErrors };
}

/** Validates the `records` of one partition of a Produce request. */
export function validateRecords(records: Buffer | null, o: ValidationOptions): ValidationResult {
  if (records === null || records.length === 0) {
    return fail(ErrorCode.INVALID_RECORD, 'Produce requests must contain exactly one record batch');
  }
  if (records.length > o.segmentBytes) {
    return fail(
      ErrorCode.RECORD_LIST_TOO_LARGE,
      `record set of ${records.length} bytes exceeds segment.bytes ${o.segmentBytes}`,
    );
  }
  const ONE_BATCH = 'Produce requests must contain exactly one record batch';
  if (records.length < LOG_OVERHEAD) return fail(ErrorCode.INVALID_RECORD, ONE_BATCH);
  const size = LOG_OVERHEAD + records.readInt32BE(8);
  if (size < LEGACY_MIN_BATCH_BYTES)
    return fail(ErrorCode.CORRUPT_MESSAGE, `record batch size ${size} is too small`);
  if (records.length <= MAGIC_OFFSET) return fail(ErrorCode.INVALID_RECORD, ONE_BATCH);
  const magic = records.readInt8(MAGIC_OFFSET);
  if (magic < 0 || magic > 2) return fail(ErrorCode.CORRUPT_MESSAGE, `unknown record batch magic ${magic}`);
  // A message set of several shallow messages: converted into one batch, then checked as one.
  if (magic !== 2 && o.legacyMagicAllowed) return validateLegacyMessageSet(records, o);
  if (size > records.length) return fail(ErrorCode.INVALID_RECORD, ONE_BATCH);
  if (size < records.length) return fail(ErrorCode.INVALID_RECORD, ONE_BATCH);
  if (magic !== 2) {
    return fail(
      ErrorCode.INVALID_RECORD,
      `Produce requests v3 and above must use record batch magic 2, not ${magic}`,
    );
  }
  let header: RecordBatchHeader;
  try {
    header = readRecordBatchHeader(records);
  } catch (err) {
    return fail(ErrorCode.CORRUPT_MESSAGE, (err as Error).message);
  }
  if (size > o.maxMessageBytes) {
    return fail(
      ErrorCode.MESSAGE_TOO_LARGE,
      `batch of ${size} bytes exceeds max.message.bytes ${o.maxMessageBytes}`,
    );
  }
  if (computeRecordBatchCrc(records) !== header.crc) {
    return fail(ErrorCode.CORRUPT_MESSAGE, 'record batch CRC does not match its contents');
  }
  if (header.baseOffset !== 0n) {
    return fail(
      ErrorCode.INVALID_RECORD,
      `the base offset of a produced batch must be 0, not ${header.baseOffset}`,
    );
  }
  if (header.isControl) return fail(ErrorCode.INVALID_RECORD, 'clients may not write control batches');
  if (header.producerId >= 0n && header.baseSequence < 0) {
    return fail(
      ErrorCode.INVALID_RECORD,
      `Invalid sequence number ${header.baseSequence} in record batch with producerId ${header.producerId}`,
    );
  }
  if (header.recordCount <= 0)
    return fail(ErrorCode.INVALID_RECORD, `invalid record count ${header.recordCount}`);
  if (header.lastOffsetDelta + 1 !== header.recordCount) {
    return fail(
      ErrorCode.INVALID_RECORD,
      `inconsistent batch offset range: lastOffsetDelta ${header.lastOffsetDelta} with ${header.recordCount} records`,
    );
  }

  let body: Buffer;
  let start: number;
  if (header.compression === CompressionType.None) {
    body = records;
    start = RECORD_BATCH_OVERHEAD;
  } else {
    try {
      body = decompress(
        header.compression,
        records.subarray(RECORD_BATCH_OVERHEAD, size),
        o.maxUncompressedBytes,
      );
    } catch (err) {
      return fail(ErrorCode.INVALID_RECORD, `records do not decompress: ${(err as Error).message}`);
    }
    start = 0;
  }
  const end = header.compression === CompressionType.None ? size : body.length;
  const checkTimestamps =
    o.timestampType === 'CreateTime' && header.timestampType === TimestampType.CreateTime;
  const lowest = o.nowMs - o.timestampBeforeMaxMs;
  const highest = o.nowMs + o.timestampAfterMaxMs;
  const baseTimestamp = Number(header.baseTimestamp);
  const recordErrors: RecordError[] = [];
  let timestampError = false;
  let keyError = false;
  try {
    scanRecords(body, start, end, header.recordCount, (i, timestampDelta, offsetDelta, keyLength) => {
      if (offsetDelta !== i)
        throw new DecodeError(`record ${i} has offset delta ${offsetDelta} out of sequence`);
      if (o.compacted && keyLength < 0) {
        keyError = true;
        recordErrors.push({ batchIndex: i, message: 'Compacted topic cannot accept message without key' });
      }
      if (checkTimestamps) {
        const ts = baseTimestamp + timestampDelta;
        // A record without a timestamp (converted from magic 0) is not checked, as in Kafka.
        if (ts !== NO_TIMESTAMP && (ts < lowest || ts > highest)) {
          timestampError = true;
          recordErrors.push({
            batchIndex: i,
            message: `Timestamp ${ts} of message with offset ${i} is out of range`,
          });
        }
      }
    });
  } catch (err) {
    if (err instanceof DecodeError) return fail(ErrorCode.INVALID_RECORD, err.message);
    throw err;
  }
  if (keyError) {
    return fail(
      ErrorCode.INVALID_RECORD,
      'One or more records have been rejected due to missing keys',
      recordErrors,
    );
  }
  if (timestampError) {
    return fail(
      ErrorCode.INVALID_TIMESTAMP,
      'One or more records have been rejected due to invalid timestamp',
      recordErrors,
    );
  }
  return { ok: true, batch: records, header, recordCount: header.recordCount };
}

/**
 * Produce v0-2: a magic 0/1 message set (several shallow messages, plain or compressed wrappers)
 * becomes one v2 batch, then is validated as one. max.message.bytes applies to each shallow
 * message as the producer sent it (Kafka checks the shallow batches before converting).
 */
function validateLegacyMessageSet(records: Buffer, o: ValidationOptions): ValidationResult {
  let converted: ReturnType<typeof upConvertMessageSet>;
  try {
    converted = upConvertMessageSet(records, o.maxUncompressedBytes);
  } catch (err) {
    if (err instanceof CrcMismatchError) return fail(ErrorCode.CORRUPT_MESSAGE, err.message);
    return fail(ErrorCode.INVALID_RECORD, `invalid message set: ${(err as Error).message}`);
  }
  if (converted.largestEntryBytes > o.maxMessageBytes) {
    return fail(
      ErrorCode.MESSAGE_TOO_LARGE,
      `message of ${converted.largestEntryBytes} bytes exceeds max.message.bytes ${o.maxMessageBytes}`,
    );
  }
  const magic = records.readInt8(MAGIC_OFFSET) as 0 | 1;
  const v = validateRecords(converted.batch, {
    ...o,
    legacyMagicAllowed: false,
    maxMessageBytes: Number.MAX_SAFE_INTEGER,
    segmentBytes: Number.MAX_SAFE_INTEGER,
  });
  return v.ok ? { ...v, convertedFromMagic: magic } : v;
}
