// The errors the client raises. Every error that comes from a Kafka error code is a KafkaError
// (a KafkaProtocolError: `name` is Kafka's error name, `code` and `retriable` come from the one
// error table in protocol/errors.ts). Subclasses exist only where callers need to tell cases
// apart with instanceof: a dropped connection, a timed-out request, a failed commit.

import { ErrorCode, KafkaProtocolError } from '../protocol/errors.js';

export class KafkaError extends KafkaProtocolError {
  /** Error codes per partition or resource when one call failed for several reasons. */
  readonly details?: ReadonlyArray<{
    topic?: string;
    partition?: number;
    resource?: string;
    error: KafkaError;
  }>;

  constructor(
    code: number,
    message?: string | null,
    options?: ErrorOptions & { details?: KafkaError['details'] },
  ) {
    super(code, message, options);
    if (options?.details) this.details = options.details;
  }
}

/** The connection to a broker failed or closed before the answer came (Kafka's NETWORK_EXCEPTION). */
export class KafkaConnectionError extends KafkaError {
  readonly broker: string;
  constructor(broker: string, message: string, options?: ErrorOptions) {
    super(ErrorCode.NETWORK_EXCEPTION, `${broker}: ${message}`, options);
    this.broker = broker;
  }
}

/**
 * No bootstrap broker could be reached within the connect timeout (connection refused, unknown
 * host, no answer), and none ever was: the client gives up on the operation instead of retrying
 * until the request timeout, as kcat does. Not retriable: retrying callers stop at once. A later
 * operation tries again (for the same time).
 */
export class BrokersUnreachableError extends KafkaError {
  override readonly retriable: boolean = false;
  constructor(
    message: string,
    /** How long the client kept trying (its connectTimeoutMs). */
    readonly connectTimeoutMs: number,
    options?: ErrorOptions,
  ) {
    super(ErrorCode.NETWORK_EXCEPTION, message, options);
  }
}

/** No answer within request.timeout.ms (Kafka's REQUEST_TIMED_OUT; the client's TimeoutException). */
export class KafkaTimeoutError extends KafkaError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.REQUEST_TIMED_OUT, message, options);
  }
}

/**
 * A commit that cannot succeed because the group rebalanced (Kafka's CommitFailedException): the
 * partitions may already belong to another member, so the caller must not retry blindly.
 */
export class CommitFailedError extends KafkaError {}

/**
 * The transactional producer can no longer be used (Kafka's fatal errors: ProducerFencedException,
 * TransactionalIdAuthorizationException, ...): every later call raises it again; close the producer.
 */
export class TransactionFatalError extends KafkaError {}

/**
 * Another producer with the same transactional.id initialised since (PRODUCER_FENCED, or
 * INVALID_PRODUCER_EPOCH on a transactional request): this one is fenced for good.
 */
export class ProducerFencedError extends TransactionFatalError {}

/**
 * The current transaction cannot commit (a send failed, TRANSACTION_ABORTABLE, INVALID_TXN_STATE from
 * a produce, a rebalanced group in sendOffsetsToTransaction...): call abortTransaction(), after
 * which the producer may begin another transaction. `code` is the underlying error's.
 */
export class TransactionAbortableError extends KafkaError {}

/** A record failed because its transaction was aborted before it was sent (Kafka's TransactionAbortedException). */
export class TransactionAbortedError extends Error {
  override name = 'TransactionAbortedError';
}

/**
 * A transactional call made in the wrong state (Kafka's IllegalStateException): send() or
 * commitTransaction() without beginTransaction(), beginTransaction() twice, no initTransactions()...
 */
export class TransactionStateError extends Error {
  override name = 'TransactionStateError';
}

/** Raised by an operation on a producer, consumer or admin client after close(). */
export class ClientClosedError extends Error {
  override name = 'ClientClosedError';
}

/** A KafkaError for a response error code, with the response's error message when it has one. */
export function kafkaError(code: number, message?: string | null, context?: string): KafkaError {
  const err = new KafkaError(code, message ?? undefined);
  if (context) err.message = `${context}: ${err.message}`;
  return err;
}

/** Whether retrying may help: retriable Kafka errors and connection failures. */
export function isRetriable(err: unknown): boolean {
  return err instanceof KafkaProtocolError && err.retriable;
}

/** The error to raise when an AbortSignal fired: its reason, as fetch() and timers/promises do. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
