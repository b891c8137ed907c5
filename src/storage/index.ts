// Samsa's storage layer: Kafka's on-disk log layout (segments, indexes, checkpoints), partition
// logs with a stated durability contract (partition-log.ts), and the log manager.

export {
  type CheckpointEntry,
  CorruptCheckpointError,
  formatOffsetCheckpoint,
  parseOffsetCheckpoint,
} from './checkpoint.js';
export {
  type CleanerSettings,
  type CleanerStats,
  CleaningAbortedError,
  type CleanRange,
  UncleanableLogError,
} from './cleaner.js';
export {
  type CleanupPolicy,
  DEFAULT_LOG_CONFIG,
  InvalidLogConfigError,
  isPageCacheMode,
  type LogConfig,
  logConfigFromKafka,
  makeLogConfig,
  type TimestampTypeName,
} from './config.js';
export {
  InvalidAppendError,
  InvalidProducerEpochError,
  InvalidRecordError,
  InvalidTxnStateError,
  KafkaStorageError,
  LogUnavailableError,
  OffsetOutOfRangeError,
  OutOfOrderSequenceError,
  StorageError,
  TransactionCoordinatorFencedError,
} from './errors.js';
export {
  CLEAN_SHUTDOWN_FILE,
  CLEANER_OFFSET_CHECKPOINT_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  offsetFilePrefix,
  parsePartitionDirName,
  partitionDirName,
  RECOVERY_POINT_CHECKPOINT_FILE,
  type StorageHooks,
  type TopicPartition,
} from './files.js';
export {
  type CleanableLog,
  DEFAULT_CLEANER_IO_BUFFER_BYTES,
  DEFAULT_DEDUPE_BUFFER_BYTES,
  DEFAULT_PRODUCER_ID_EXPIRATION_MS,
  LogCleaner,
  type LogCleanerOptions,
  type LogToClean,
} from './log-cleaner.js';
export { LogManager, type LogManagerOptions } from './log-manager.js';
export {
  type AppendOptions,
  concatRecords,
  ListOffsetsTimestamp,
  type LogAppendInfo,
  type LogReadResult,
  PartitionLog,
  type PartitionLogOptions,
  type ReadOptions,
  type TimestampAndOffset,
  type TxnMarker,
} from './partition-log.js';
export {
  type AppendOrigin,
  type BatchMetadata,
  type CompletedTxn,
  CorruptSnapshotError,
  decodeSnapshot,
  encodeSnapshot,
  NUM_BATCHES_TO_RETAIN,
  type ProducerId,
  ProducerStateEntry,
  ProducerStateManager,
} from './producer-state.js';
export { TailCache } from './tail-cache.js';
export {
  type AbortedTransaction,
  type AbortedTxn,
  TransactionIndex,
  TXN_INDEX_ENTRY_BYTES,
} from './transaction-index.js';
