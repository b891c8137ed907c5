// Byte layout and flag bits of Kafka's record formats (DefaultRecordBatch.java, LegacyRecord.java).

export const MAGIC_V0 = 0;
export const MAGIC_V1 = 1;
export const MAGIC_V2 = 2;

/** offset int64 + size int32: the framing shared by v2 batches and legacy messages. */
export const LOG_OVERHEAD = 12;

// v2 batch header field positions, from the start of the batch.
export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
/** The magic byte sits here in every format, so a reader can peek it before choosing a decoder. */
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
/** CRC-32C covers the batch from the attributes to its end. */
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
/** Size of the v2 batch header; the records (or their compressed form) follow. */
export const RECORD_BATCH_OVERHEAD = 61;

// v2 attributes (int16).
export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

// Legacy messages: offset int64, size int32, crc uint32, magic int8, attributes int8,
// [timestamp int64 in v1], key bytes, value bytes.
export const LEGACY_CRC_OFFSET = 12;
export const LEGACY_ATTRIBUTES_OFFSET = 17;
/** Smallest legacy message body (after LOG_OVERHEAD): crc, magic, attributes, two null lengths. */
export const LEGACY_RECORD_OVERHEAD_V0 = 14;
export const LEGACY_RECORD_OVERHEAD_V1 = 22;

/** Smallest possible v2 record: length, attributes, deltas, null key/value, no headers. */
export const MIN_RECORD_BYTES = 7;

export const TimestampType = {
  /** Magic 0 messages carry no timestamp. */
  NoTimestampType: -1,
  CreateTime: 0,
  LogAppendTime: 1,
} as const;
export type TimestampType = (typeof TimestampType)[keyof typeof TimestampType];

export const NO_TIMESTAMP = -1;
export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
