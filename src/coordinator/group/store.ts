// The coordinator's view of the __consumer_offsets log (GroupStore) and how a failed append
// becomes the error code a client sees.
//
// The coordinator never touches the log itself: the broker implements GroupStore (an acks=all
// append to one __consumer_offsets partition). State changes that must survive a restart (offset
// commits, group assignments, tombstones) are applied to memory only after their append resolves.

import { ErrorCode } from '../../protocol/errors.js';

/** One __consumer_offsets record: key and value bytes as written by records.ts; value null is a tombstone. */
export interface OffsetsRecord {
  key: Buffer;
  value: Buffer | null;
}

/** The producer of a transactional offset commit (TxnOffsetCommit). */
export interface TxnAppendOptions {
  producerId: bigint;
  producerEpoch: number;
}

export interface GroupStore {
  /**
   * Appends records to __consumer_offsets partition `partition` with the durability of an acks=all
   * produce; resolves when durable. Rejects with a GroupStoreError carrying a Kafka error code.
   *
   * With `txn` the records are one TRANSACTIONAL batch of that producer (never merged with other
   * writes): in the partition's producer state it opens (or continues) the producer's transaction,
   * which the transaction coordinator's COMMIT/ABORT marker later ends. An epoch older than the
   * producer's last one on the partition fails with INVALID_PRODUCER_EPOCH.
   */
  append(partition: number, records: OffsetsRecord[], txn?: TxnAppendOptions): Promise<void>;
}

/** A failed append, with the Kafka error code the log gave (e.g. MESSAGE_TOO_LARGE). */
export class GroupStoreError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'GroupStoreError';
  }
}

/**
 * Kafka's translation of a log append error into the error a group client understands
 * (GroupMetadataManager.appendGroupMetadataErrorToResponseError and the coordinator service's
 * handleOperationException): the client retries or rediscovers the coordinator instead of seeing a
 * produce error it has no handler for. A record too large for the log becomes UNKNOWN_SERVER_ERROR.
 */
export function appendErrorToResponseError(appendError: number): number {
  switch (appendError) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return appendError;
  }
}

/** The error code of whatever an append rejected with (UNKNOWN_SERVER_ERROR for a non-Kafka error). */
export function appendErrorCode(e: unknown): number {
  return e instanceof GroupStoreError ? e.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR;
}
