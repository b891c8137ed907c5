// Kafka's record formats: v2 record batches (encode, decode, patch in place, control batches),
// framing of `records` fields, and read-only magic 0/1 message sets. Sans-IO.

export { type BuildBatchOptions, RecordBatchBuilder } from './builder.js';
export {
  ATTRIBUTES_OFFSET,
  CRC_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V0,
  MAGIC_V1,
  MAGIC_V2,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  RECORD_BATCH_OVERHEAD,
  TimestampType,
} from './constants.js';
export {
  ControlRecordType,
  decodeControlRecordKey,
  decodeEndTxnMarker,
  decodeEndTxnMarkerValue,
  type EndTxnMarker,
  type EndTxnMarkerBatchOptions,
  encodeControlRecordKey,
  encodeEndTxnMarkerBatch,
  encodeEndTxnMarkerValue,
} from './control.js';
export {
  type DownConvertOptions,
  downConvertBatch,
  type UpConverted,
  upConvertMessageSet,
} from './convert.js';
export { checksumBackend, crc32, crc32c } from './crc.js';
export { decodeRecordBatch, decodeRecordBatchRecords, recordOffset } from './decode.js';
export { type EncodeBatchOptions, encodeRecordBatch } from './encode.js';
export { type RecordSetEntry, type SplitRecordSet, splitRecordSet } from './framing.js';
export {
  CrcMismatchError,
  computeRecordBatchCrc,
  ensureRecordBatchCrc,
  isRecordBatchCrcValid,
  readRecordBatchHeader,
  recordBatchSize,
} from './header.js';
export {
  decodeLegacyEntry,
  decodeLegacyMessageSet,
  type LegacyMessage,
  readLegacyMessage,
} from './legacy.js';
export { setBaseOffset, setLogAppendTime, setMaxTimestamp, setPartitionLeaderEpoch } from './patch.js';
export { scanRecords } from './record.js';
export { type DecodedRecordSet, decodeRecordSet } from './record-set.js';
export type {
  DecodedBatch,
  DecodedLegacyBatch,
  DecodedRecordBatch,
  DecodeOptions,
  KafkaRecord,
  RecordBatchHeader,
  RecordHeader,
  RecordInput,
} from './types.js';
