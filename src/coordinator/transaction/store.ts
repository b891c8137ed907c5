// What the transaction coordinator needs from the broker: the durable __transaction_state append
// (TransactionStore) and the writer of COMMIT/ABORT control batches (TxnMarkerWriter), plus how a
// failed append becomes the error a client sees.

import { ErrorCode } from '../../protocol/errors.js';
import { appendErrorToResponseError, GroupStoreError } from '../group/store.js';

export interface TransactionStore {
  /** Appends one record (key and value bytes from records.ts; value null is a tombstone) to
   *  __transaction_state partition `partition` with the durability of an acks=all produce,
   *  uncompressed; resolves when durable, or with `durable: false` as soon as it is in the log
   *  (later appends to the partition still come after it). Appends must reach the log in call
   *  order. Rejects with a TransactionStoreError (or any error with a numeric `errorCode`)
   *  carrying the append's Kafka error code. */
  append(partition: number, key: Buffer, value: Buffer | null, opts?: { durable?: boolean }): Promise<void>;
}

/** A failed __transaction_state append, with the Kafka error code the log gave. */
export class TransactionStoreError extends GroupStoreError {
  constructor(errorCode: number, message: string) {
    super(errorCode, message);
    this.name = 'TransactionStoreError';
  }
}

/** The markers to write for one transaction (Kafka's WriteTxnMarkers entry). */
export interface WriteMarkersRequest {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** true: COMMIT markers; false: ABORT. */
  commit: boolean;
  /** 2 when the transaction ran with transaction V2 (KIP-890: the marker carries the bumped epoch). */
  transactionVersion?: number;
  partitions: Array<{ topic: string; partition: number }>;
}

export interface WriteMarkersResult {
  topic: string;
  partition: number;
  errorCode: number;
}

export interface TxnMarkerWriter {
  /**
   * Writes a COMMIT/ABORT control batch for the producer to each partition, durably (acks=all), and
   * resolves with a Kafka error code per partition. Errors the coordinator understands:
   *   NONE                        written
   *   UNKNOWN_TOPIC_OR_PARTITION  the partition does not exist (its topic was deleted): dropped
   *   INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED
   *                               a newer producer epoch / coordinator owns it: sending stops
   *   anything else (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT, ...)
   *                               retried after a backoff
   * A rejected promise is retried like a retriable error on every partition.
   */
  writeMarkers(markers: WriteMarkersRequest): Promise<WriteMarkersResult[]>;
}

/** The error code of whatever an append rejected with (UNKNOWN_SERVER_ERROR for a non-Kafka error). */
export function storeErrorCode(e: unknown): number {
  if (e instanceof GroupStoreError) return e.errorCode;
  if (typeof e === 'object' && e !== null && typeof (e as { errorCode?: unknown }).errorCode === 'number') {
    return (e as { errorCode: number }).errorCode;
  }
  return ErrorCode.UNKNOWN_SERVER_ERROR;
}

/**
 * Kafka's TransactionStateManager.appendTransactionToLog translation of a log append error into the
 * coordinator error the client gets: UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS(_AFTER_APPEND)
 * and REQUEST_TIMED_OUT become COORDINATOR_NOT_AVAILABLE (retry), NOT_LEADER_OR_FOLLOWER and
 * KAFKA_STORAGE_ERROR become NOT_COORDINATOR (rediscover), MESSAGE_TOO_LARGE and
 * RECORD_LIST_TOO_LARGE UNKNOWN_SERVER_ERROR. The same table as the group coordinator's.
 */
export function txnAppendErrorToResponseError(appendError: number): number {
  return appendErrorToResponseError(appendError);
}
