// Typed errors of the storage layer. Each maps to the Kafka error code a request handler returns
// (named in `kafkaError`), so handlers never parse messages.

export class StorageError extends Error {
  override name = 'StorageError';
  /** The Kafka error name a handler answers with. */
  readonly kafkaError: string = 'KAFKA_STORAGE_ERROR';
}

/** A fetch, ListOffsets or DeleteRecords offset outside [logStartOffset, logEndOffset]. */
export class OffsetOutOfRangeError extends StorageError {
  override name = 'OffsetOutOfRangeError';
  override readonly kafkaError = 'OFFSET_OUT_OF_RANGE';
  readonly offset: bigint;
  readonly logStartOffset: bigint;
  readonly logEndOffset: bigint;

  constructor(what: string, offset: bigint, logStartOffset: bigint, logEndOffset: bigint) {
    super(`${what}: offset ${offset} is out of range [${logStartOffset}, ${logEndOffset}]`);
    this.offset = offset;
    this.logStartOffset = logStartOffset;
    this.logEndOffset = logEndOffset;
  }
}

/**
 * A write, fsync or file operation failed (EIO, ENOSPC, ...). The log is then offline: every
 * pending waitDurable rejects with it and later appends throw it (Kafka marks the log dir offline).
 */
export class KafkaStorageError extends StorageError {
  override name = 'KafkaStorageError';
  override readonly cause: unknown;

  constructor(message: string, cause?: unknown) {
    super(cause instanceof Error ? `${message}: ${cause.message}` : message);
    this.cause = cause;
  }
}

/** The log was closed, deleted or is being truncated; the caller retries against the new state. */
export class LogUnavailableError extends StorageError {
  override name = 'LogUnavailableError';
  override readonly kafkaError: string = 'NOT_LEADER_OR_FOLLOWER';
}

/** The caller broke an append precondition (not a v2 batch set, follower offsets not increasing). */
export class InvalidAppendError extends StorageError {
  override name = 'InvalidAppendError';
  override readonly kafkaError: string = 'CORRUPT_MESSAGE';
}

/**
 * An idempotent batch whose sequence does not follow the producer's last one (a gap), or a new
 * producer epoch that does not start at sequence 0 (Kafka's OutOfOrderSequenceException).
 */
export class OutOfOrderSequenceError extends StorageError {
  override name = 'OutOfOrderSequenceError';
  override readonly kafkaError: string = 'OUT_OF_ORDER_SEQUENCE_NUMBER';
}

/** A batch from an older epoch of its producer (Kafka's InvalidProducerEpochException, since 2.7). */
export class InvalidProducerEpochError extends StorageError {
  override name = 'InvalidProducerEpochError';
  override readonly kafkaError: string = 'INVALID_PRODUCER_EPOCH';
}

/** A non-transactional batch from a producer with a transaction open on the partition. */
export class InvalidTxnStateError extends StorageError {
  override name = 'InvalidTxnStateError';
  override readonly kafkaError: string = 'INVALID_TXN_STATE';
}

/** A transaction marker from a coordinator epoch older than the one the partition has seen. */
export class TransactionCoordinatorFencedError extends StorageError {
  override name = 'TransactionCoordinatorFencedError';
  override readonly kafkaError: string = 'TRANSACTION_COORDINATOR_FENCED';
}

/**
 * A record set a client may not write (Kafka's InvalidRecordException from LogValidator), here a
 * control batch in a Produce: only the transaction coordinator writes markers (appendTxnMarker).
 */
export class InvalidRecordError extends StorageError {
  override name = 'InvalidRecordError';
  override readonly kafkaError: string = 'INVALID_RECORD';
}
