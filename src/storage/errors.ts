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
