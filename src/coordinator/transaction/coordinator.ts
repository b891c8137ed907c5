// TransactionCoordinator: Kafka's transaction coordinator (TransactionCoordinator,
// TransactionStateManager and the completion half of TransactionMarkerChannelManager) as a
// single-owner state machine.
//
// It owns every transactional id of every __transaction_state partition on this broker and serves
// InitProducerId, AddPartitionsToTxn (and KIP-890 part 1 verification), AddOffsetsToTxn, EndTxn
// (transaction V1 and V2, KIP-890 part 2), DescribeTransactions and ListTransactions. It does no I/O
// of its own: state changes go to a TransactionStore (the broker's acks=all append to
// __transaction_state) and come back through replay() at load; COMMIT/ABORT markers go through a
// TxnMarkerWriter; producer ids come from generateProducerId; every timer goes through
// NodeTime.
//
// Lifecycle: construct, replay() every record of every partition in log order, startup() (completes
// loaded PrepareCommit/PrepareAbort transactions, starts the timeout and expiration timers), serve,
// shutdown(). Before startup() requests get COORDINATOR_LOAD_IN_PROGRESS; after shutdown()
// NOT_COORDINATOR (Describe/ListTransactions: COORDINATOR_NOT_AVAILABLE, as Kafka when inactive).
//
// Invariants:
// - A state change is applied to memory only after its record is durable (see metadata.ts); while
//   it is being written (and while markers are written) the id has a pending state and every other
//   request for it gets CONCURRENT_TRANSACTIONS, which serialises them.
// - The coordinator answers PRODUCER_FENCED for a stale epoch; the handler maps it to
//   INVALID_PRODUCER_EPOCH for request versions that predate it (InitProducerId < 4, the others < 2).
// - Markers are written until every partition has one (a deleted partition is dropped), then the
//   CompleteCommit/CompleteAbort record is written (retried until durable or shutdown).

import { GROUP_METADATA_TOPIC_NAME } from '../../metadata/topic-name.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { DescribeTransactionsResponse } from '../../protocol/generated/messages/DescribeTransactionsResponse.js';
import type { ListTransactionsResponse } from '../../protocol/generated/messages/ListTransactionsResponse.js';
import type { NodeTime } from '../../util/clock.js';
import {
  isEpochExhausted,
  isExpirationAllowed,
  MAX_PRODUCER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  TopicPartitionSet,
  TRANSACTION_STATES,
  TransactionMetadata,
  type TransactionState,
  type TxnTransit,
} from './metadata.js';
import {
  parseTransactionLogKey,
  parseTransactionLogValue,
  transactionLogKey,
  transactionLogValue,
  transactionLogValueVersion,
} from './records.js';
import {
  storeErrorCode,
  type TransactionStore,
  type TxnMarkerWriter,
  txnAppendErrorToResponseError,
} from './store.js';

export {
  type TransactionStore,
  TransactionStoreError,
  type TxnMarkerWriter,
  type WriteMarkersRequest,
  type WriteMarkersResult,
} from './store.js';

export interface TransactionCoordinatorConfig {
  /** transaction.state.log.num.partitions (50). */
  numPartitions: number;
  /** transaction.max.timeout.ms (900000). */
  transactionMaxTimeoutMs: number;
  /** transactional.id.expiration.ms (604800000, 7 days). */
  transactionalIdExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms (10000). */
  abortTimedOutTransactionCleanupIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms (3600000). */
  removeExpiredTransactionalIdsIntervalMs: number;
  /**
   * The finalized transaction.version feature (2 on a Kafka 4.x cluster): value version 1 records
   * from 2, and the epoch bump the coordinator's own aborts (timeouts, fencing) use.
   */
  transactionVersionLevel: number;
  /** Backoff between attempts to write markers or the completion record (retry.backoff.ms, 100). */
  markerRetryBackoffMs: number;
  /** The coordinator (partition leader) epoch the markers carry; 0 on a single node. */
  coordinatorEpoch: number;
  /**
   * How long an AddPartitionsToTxn / AddOffsetsToTxn that finds its transactional id still
   * completing the previous transaction (markers being written) waits for that before answering
   * CONCURRENT_TRANSACTIONS. Kafka answers at once and the client retries after a backoff (20 ms in
   * the Java client), which caps a producer at a few dozen transactions per second; waiting here
   * answers as soon as the markers are durable. 0 answers at once, as Kafka.
   */
  completionWaitMs: number;
}

export const DEFAULT_TRANSACTION_COORDINATOR_CONFIG: TransactionCoordinatorConfig = {
  numPartitions: 50,
  transactionMaxTimeoutMs: 900000,
  transactionalIdExpirationMs: 604800000,
  abortTimedOutTransactionCleanupIntervalMs: 10000,
  removeExpiredTransactionalIdsIntervalMs: 3600000,
  transactionVersionLevel: 2,
  markerRetryBackoffMs: 100,
  coordinatorEpoch: 0,
  completionWaitMs: 0,
};

export interface TransactionCoordinatorLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
}

export interface TransactionCoordinatorOptions extends Partial<TransactionCoordinatorConfig> {
  time: NodeTime;
  store: TransactionStore;
  markers: TxnMarkerWriter;
  /** A producer id nobody has had (ProducerIdManager.generate); rejects with an `errorCode` to refuse. */
  generateProducerId: () => Promise<bigint>;
  /** The __consumer_offsets partition of a group (the group coordinator's partitionFor). */
  groupPartitionFor: (groupId: string) => number;
  logger?: TransactionCoordinatorLogger;
}

/** InitProducerId / EndTxn result: -1/-1 with an error. */
export interface ProducerIdAndEpochResult {
  errorCode: number;
  producerId: bigint;
  producerEpoch: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A per-partition Kafka error code (verifyPartitionsInTxn). */
export interface PartitionError {
  topic: string;
  partition: number;
  errorCode: number;
}

export interface ListTransactionsResult {
  errorCode: number;
  unknownStateFilters: string[];
  transactionStates: ListTransactionsResponse.TransactionState[];
}

const NO_LOGGER: TransactionCoordinatorLogger = { info() {}, warn() {} };

function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

function errorResult(errorCode: number): ProducerIdAndEpochResult {
  return { errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH };
}

export class TransactionCoordinator {
  private readonly config: TransactionCoordinatorConfig;
  private readonly time: NodeTime;
  private readonly store: TransactionStore;
  private readonly markers: TxnMarkerWriter;
  private readonly generateProducerId: () => Promise<bigint>;
  private readonly groupPartitionFor: (groupId: string) => number;
  private readonly logger: TransactionCoordinatorLogger;
  private readonly txns = new Map<string, TransactionMetadata>();
  /** Transactional ids whose first InitProducerId is waiting for a producer id. */
  private readonly creating = new Set<string>();
  private lifecycle: 'loading' | 'active' | 'shutdown' = 'loading';
  private readonly timers = new Set<() => void>();
  /** Transactions whose markers / completion record are being written (for tests and shutdown). */
  private readonly completing = new Map<string, Promise<void>>();

  constructor(opts: TransactionCoordinatorOptions) {
    const { time, store, markers, generateProducerId, groupPartitionFor, logger, ...config } = opts;
    this.config = { ...DEFAULT_TRANSACTION_COORDINATOR_CONFIG };
    for (const [k, v] of Object.entries(config)) {
      if (v !== undefined) (this.config as unknown as Record<string, number>)[k] = v as number;
    }
    this.time = time;
    this.store = store;
    this.markers = markers;
    this.generateProducerId = generateProducerId;
    this.groupPartitionFor = groupPartitionFor;
    this.logger = logger ?? NO_LOGGER;
  }

  /** Kafka's partitionFor: Utils.abs(transactionalId.hashCode) % numPartitions. */
  partitionFor(transactionalId: string): number {
    const h = javaStringHashCode(transactionalId);
    const abs = h === -2147483648 ? 0 : Math.abs(h);
    return abs % this.config.numPartitions;
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle
  // ---------------------------------------------------------------------------------------------

  /** Replays one __transaction_state record at load, in log order: the last record of an id wins,
   *  a tombstone (value null) removes it. */
  replay(partition: number, key: Buffer, value: Buffer | null): void {
    try {
      const transactionalId = parseTransactionLogKey(key);
      if (transactionalId === null) {
        this.logger.warn({ partition }, 'skipping __transaction_state record with an unknown key version');
        return;
      }
      if (value === null) {
        this.txns.delete(transactionalId);
        return;
      }
      const version = value.length >= 2 ? value.readInt16BE(0) : -1;
      if (version < 0 || version > 1) {
        this.logger.warn(
          { partition, transactionalId, version },
          'skipping unknown TransactionLogValue version',
        );
        return;
      }
      this.txns.set(
        transactionalId,
        new TransactionMetadata(transactionalId, parseTransactionLogValue(value), true),
      );
    } catch (e) {
      this.logger.warn({ partition, err: String(e) }, 'skipping unreadable __transaction_state record');
    }
  }

  /**
   * After every replay: completes the loaded PrepareCommit/PrepareAbort transactions (markers, then
   * the completion record) and starts the timed-out-transaction abort and id expiration timers.
   * Loaded Ongoing transactions are left to the timeout logic.
   */
  startup(): void {
    if (this.lifecycle !== 'loading') return;
    this.lifecycle = 'active';
    for (const txn of this.txns.values()) {
      if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort') {
        this.completeTransaction(txn, txn.state === 'PrepareCommit');
      }
    }
    this.every(this.config.abortTimedOutTransactionCleanupIntervalMs, () => this.abortTimedOutTransactions());
    this.every(this.config.removeExpiredTransactionalIdsIntervalMs, () => this.expireTransactionalIds());
  }

  /** Stops every timer and marker retry (in-flight completions end); appends that resolve later are
   *  not applied. */
  shutdown(): void {
    if (this.lifecycle === 'shutdown') return;
    this.lifecycle = 'shutdown';
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }

  get isActive(): boolean {
    return this.lifecycle === 'active';
  }

  /** The transactional ids by the state of their transaction, for the broker's metrics. */
  transactionCountsByState(): Map<string, number> {
    const out = new Map<string, number>();
    for (const t of this.txns.values()) out.set(t.state, (out.get(t.state) ?? 0) + 1);
    return out;
  }

  /** Resolves when every transaction being completed (markers + completion record) is done. */
  async awaitCompletions(): Promise<void> {
    while (this.completing.size > 0) await Promise.all([...this.completing.values()]);
  }

  private unavailableError(): number {
    if (this.lifecycle === 'loading') return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (this.lifecycle === 'shutdown') return ErrorCode.NOT_COORDINATOR;
    return ErrorCode.NONE;
  }

  private every(intervalMs: number, fn: () => void): void {
    const arm = (): void => {
      const cancel = this.time.schedule(intervalMs, () => {
        this.timers.delete(cancel);
        if (this.lifecycle !== 'active') return;
        fn();
        arm();
      });
      this.timers.add(cancel);
    };
    arm();
  }

  /** Waits `ms` on the coordinator's clock; shutdown() ends the wait early (the caller then stops). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancelTimer = this.time.schedule(ms, () => {
        this.timers.delete(wake);
        resolve();
      });
      const wake = (): void => {
        cancelTimer();
        resolve();
      };
      this.timers.add(wake);
    });
  }

  /** The live metadata of an id (one whose first record is durable). */
  private live(transactionalId: string): TransactionMetadata | undefined {
    const txn = this.txns.get(transactionalId);
    return txn?.persisted ? txn : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Writing state changes
  // ---------------------------------------------------------------------------------------------

  /**
   * Writes `t` (the prepared transition of `txn`) and applies it once durable. Resolves with NONE or
   * the client-facing error; never rejects. On failure the pending state is dropped unless
   * `keepPendingOnError` (the completion record, which is retried).
   */
  private async write(
    txn: TransactionMetadata,
    t: TxnTransit,
    keepPendingOnError = false,
    durable = true,
  ): Promise<number> {
    const key = transactionLogKey(txn.transactionalId);
    const value = transactionLogValue(t, transactionLogValueVersion(this.config.transactionVersionLevel));
    try {
      await this.store.append(this.partitionFor(txn.transactionalId), key, value, { durable });
    } catch (e) {
      const appendError = storeErrorCode(e);
      const errorCode = txnAppendErrorToResponseError(appendError);
      this.logger.warn(
        { transactionalId: txn.transactionalId, state: t.state, appendError, err: String(e) },
        'append to __transaction_state failed',
      );
      if (!keepPendingOnError) this.dropPending(txn);
      return errorCode;
    }
    if (this.lifecycle === 'shutdown' || this.txns.get(txn.transactionalId) !== txn) {
      // The coordinator was unloaded meanwhile: the record is in the log; whoever loads it next applies it.
      return ErrorCode.NOT_COORDINATOR;
    }
    txn.completeTransition(t);
    return ErrorCode.NONE;
  }

  /** Drops a failed transition; a brand-new id whose first record failed is forgotten. */
  private dropPending(txn: TransactionMetadata): void {
    txn.abortTransition();
    if (!txn.persisted && this.txns.get(txn.transactionalId) === txn) this.txns.delete(txn.transactionalId);
  }

  // ---------------------------------------------------------------------------------------------
  // InitProducerId
  // ---------------------------------------------------------------------------------------------

  /**
   * InitProducerId. A null transactional id (idempotent producer) gets a fresh producer id at epoch 0.
   * `expected` is KIP-360's producerId/epoch (v3+), null when the request has none (-1/-1).
   * An ongoing transaction is aborted first (its epoch bumped, fencing the old producer) and the
   * answer is CONCURRENT_TRANSACTIONS: the client retries and gets the next epoch.
   */
  async initProducerId(
    transactionalId: string | null,
    transactionTimeoutMs: number,
    expected: { producerId: bigint; producerEpoch: number } | null = null,
  ): Promise<ProducerIdAndEpochResult> {
    if (transactionalId === null) {
      const unavailable = this.unavailableError();
      if (unavailable !== ErrorCode.NONE) return errorResult(unavailable);
      try {
        return { errorCode: ErrorCode.NONE, producerId: await this.generateProducerId(), producerEpoch: 0 };
      } catch (e) {
        return errorResult(storeErrorCode(e));
      }
    }
    const unavailable = this.unavailableError();
    if (unavailable !== ErrorCode.NONE) return errorResult(unavailable);
    if (transactionalId === '') return errorResult(ErrorCode.INVALID_REQUEST);
    if (transactionTimeoutMs <= 0 || transactionTimeoutMs > this.config.transactionMaxTimeoutMs) {
      return errorResult(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    }

    let txn = this.txns.get(transactionalId);
    if (!txn) {
      if (this.creating.has(transactionalId)) return errorResult(ErrorCode.CONCURRENT_TRANSACTIONS);
      this.creating.add(transactionalId);
      let producerId: bigint;
      try {
        producerId = await this.generateProducerId();
      } catch (e) {
        return errorResult(storeErrorCode(e));
      } finally {
        this.creating.delete(transactionalId);
      }
      const unavailableNow = this.unavailableError();
      if (unavailableNow !== ErrorCode.NONE) return errorResult(unavailableNow);
      txn = new TransactionMetadata(
        transactionalId,
        {
          producerId,
          prevProducerId: NO_PRODUCER_ID,
          nextProducerId: NO_PRODUCER_ID,
          producerEpoch: NO_PRODUCER_EPOCH,
          lastProducerEpoch: NO_PRODUCER_EPOCH,
          txnTimeoutMs: transactionTimeoutMs,
          state: 'Empty',
          partitions: new TopicPartitionSet(),
          txnStartTimestamp: -1,
          txnLastUpdateTimestamp: this.time.now(),
          clientTransactionVersion: 0,
        },
        false,
      );
      this.txns.set(transactionalId, txn);
    }
    return this.initExisting(txn, transactionTimeoutMs, expected);
  }

  private async initExisting(
    txn: TransactionMetadata,
    transactionTimeoutMs: number,
    expected: { producerId: bigint; producerEpoch: number } | null,
  ): Promise<ProducerIdAndEpochResult> {
    if (txn.pendingTransitionInProgress) return errorResult(ErrorCode.CONCURRENT_TRANSACTIONS);
    // KIP-360: fence the caller unless the metadata was just created, the id matches (the epoch is
    // checked when bumping), or it is a retry of a bump that rotated the exhausted id.
    if (
      expected !== null &&
      !(
        txn.producerEpoch === NO_PRODUCER_EPOCH ||
        expected.producerId === txn.producerId ||
        (expected.producerId === txn.prevProducerId && isEpochExhausted(expected.producerEpoch))
      )
    ) {
      return errorResult(ErrorCode.PRODUCER_FENCED);
    }
    const now = this.time.now();
    switch (txn.state) {
      case 'PrepareAbort':
      case 'PrepareCommit':
        return errorResult(ErrorCode.CONCURRENT_TRANSACTIONS);
      case 'Empty':
      case 'CompleteAbort':
      case 'CompleteCommit': {
        let t: TxnTransit | 'fenced';
        if (
          txn.isProducerEpochExhausted &&
          (expected === null || expected.producerEpoch === txn.producerEpoch)
        ) {
          // A new producer id: hold the id (pending) while one is generated.
          txn.pendingState = 'Empty';
          let producerId: bigint;
          try {
            producerId = await this.generateProducerId();
          } catch (e) {
            txn.abortTransition();
            return errorResult(storeErrorCode(e));
          }
          txn.abortTransition();
          if (this.lifecycle !== 'active') return errorResult(this.unavailableError());
          t = txn.prepareProducerIdRotation(producerId, transactionTimeoutMs, now, expected !== null);
        } else {
          t = txn.prepareIncrementProducerEpoch(
            transactionTimeoutMs,
            expected === null ? null : expected.producerEpoch,
            now,
          );
        }
        if (t === 'fenced') return errorResult(ErrorCode.PRODUCER_FENCED);
        const errorCode = await this.write(txn, t);
        if (errorCode !== ErrorCode.NONE) return errorResult(errorCode);
        this.logger.info(
          {
            transactionalId: txn.transactionalId,
            producerId: t.producerId,
            producerEpoch: t.producerEpoch,
            partition: this.partitionFor(txn.transactionalId),
          },
          'initialized transactional id',
        );
        return { errorCode: ErrorCode.NONE, producerId: t.producerId, producerEpoch: t.producerEpoch };
      }
      case 'Ongoing': {
        // Abort the ongoing transaction with a bumped epoch; this epoch is never returned: the client
        // retries and bumps again (and gets a new producer id if that exhausts the epoch).
        const r = await this.fenceAndAbort(txn);
        return errorResult(r === ErrorCode.NONE ? ErrorCode.CONCURRENT_TRANSACTIONS : r);
      }
      default:
        throw new Error(`${txn.transactionalId} found in state ${txn.state}, which is never stored`);
    }
  }

  /**
   * Kafka's prepareFenceProducerEpoch + endTransaction(ABORT, isFromClient = false): the ongoing
   * transaction goes to PrepareAbort with the epoch bumped (PrepareEpochFence), using the server's
   * transaction version, then its markers are written. Resolves with the PrepareAbort append's error.
   */
  private async fenceAndAbort(txn: TransactionMetadata): Promise<number> {
    const t = txn.prepareAbortOrCommit(
      'PrepareAbort',
      this.config.transactionVersionLevel,
      NO_PRODUCER_ID,
      this.time.now(),
      false,
      true,
    );
    const errorCode = await this.write(txn, t);
    if (errorCode !== ErrorCode.NONE) return errorCode;
    this.completeTransaction(txn, false);
    return ErrorCode.NONE;
  }

  // ---------------------------------------------------------------------------------------------
  // AddPartitionsToTxn / AddOffsetsToTxn
  // ---------------------------------------------------------------------------------------------

  /**
   * AddPartitionsToTxn (one transaction, verifyOnly false): adds the partitions, answering one error
   * for all of them, as Kafka. Checking that the partitions exist and are authorized is the
   * handler's part (UNKNOWN_TOPIC_OR_PARTITION / OPERATION_NOT_ATTEMPTED before calling this).
   * `isTransactionV2` is recorded as the client's transaction version (the broker's own KIP-890
   * AddPartitionsToTxn v5 from the produce path).
   */
  addPartitionsToTxn(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    partitions: TopicPartition[],
    opts: { isTransactionV2?: boolean } = {},
  ): Promise<number> {
    return this.addPartitions(
      transactionalId,
      producerId,
      producerEpoch,
      partitions,
      opts.isTransactionV2 ? 2 : 0,
    );
  }

  /**
   * KIP-890 part 1 (AddPartitionsToTxn verifyOnly, and the produce path's check): is each partition
   * already in the producer's ongoing transaction? NONE if so, TRANSACTION_ABORTABLE if not (the
   * produce must fail); a wrong producer id, a stale epoch or a transaction being completed give
   * every partition INVALID_PRODUCER_ID_MAPPING / PRODUCER_FENCED / CONCURRENT_TRANSACTIONS. A
   * partition counts once its AddPartitions record is durable.
   */
  verifyPartitionsInTxn(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    partitions: TopicPartition[],
  ): PartitionError[] {
    const all = (errorCode: number) =>
      partitions.map(({ topic, partition }) => ({ topic, partition, errorCode }));
    const unavailable = this.unavailableError();
    if (unavailable !== ErrorCode.NONE) return all(unavailable);
    if (transactionalId === '') return all(ErrorCode.INVALID_REQUEST);
    const txn = this.live(transactionalId);
    if (!txn || txn.producerId !== producerId) return all(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (txn.producerEpoch !== producerEpoch) return all(ErrorCode.PRODUCER_FENCED);
    if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort')
      return all(ErrorCode.CONCURRENT_TRANSACTIONS);
    return partitions.map(({ topic, partition }) => ({
      topic,
      partition,
      errorCode:
        txn.state === 'Ongoing' && txn.partitions.has(topic, partition)
          ? ErrorCode.NONE
          : ErrorCode.TRANSACTION_ABORTABLE,
    }));
  }

  /** AddOffsetsToTxn: adds the group's __consumer_offsets partition to the transaction. */
  addOffsetsToTxn(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    groupId: string,
    opts: { isTransactionV2?: boolean } = {},
  ): Promise<number> {
    const partition = { topic: GROUP_METADATA_TOPIC_NAME, partition: this.groupPartitionFor(groupId) };
    return this.addPartitions(
      transactionalId,
      producerId,
      producerEpoch,
      [partition],
      opts.isTransactionV2 ? 2 : 0,
    );
  }

  /** Waits (up to completionWaitMs) for the id's previous transaction to finish completing. */
  private async awaitCompletion(transactionalId: string): Promise<void> {
    const completing = this.completing.get(transactionalId);
    if (!completing || this.config.completionWaitMs <= 0) return;
    let cancel = (): void => {};
    const timeout = new Promise<void>((resolve) => {
      cancel = this.time.schedule(this.config.completionWaitMs, resolve);
    });
    await Promise.race([completing, timeout]);
    cancel();
  }

  private async addPartitions(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    partitions: Array<{ topic: string; partition: number }>,
    clientTransactionVersion: number,
  ): Promise<number> {
    await this.awaitCompletion(transactionalId);
    const unavailable = this.unavailableError();
    if (unavailable !== ErrorCode.NONE) return unavailable;
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const txn = this.live(transactionalId);
    if (!txn || txn.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (txn.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (txn.pendingTransitionInProgress) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort')
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (txn.state === 'Ongoing' && partitions.every((p) => txn.partitions.has(p.topic, p.partition))) {
      // Already in the transaction: nothing to write.
      return ErrorCode.NONE;
    }
    const t = txn.prepareAddPartitions(partitions, this.time.now(), clientTransactionVersion);
    return this.write(txn, t);
  }

  // ---------------------------------------------------------------------------------------------
  // EndTxn
  // ---------------------------------------------------------------------------------------------

  /**
   * EndTxn. The answer comes once PrepareCommit/PrepareAbort is durable; markers and the completion
   * record follow in the background. With `isTransactionV2` (EndTxn v5+, KIP-890 part 2) the epoch is
   * bumped at every end of transaction and the response carries the producer id and epoch to use next
   * (a new producer id at epoch 0 when the bump exhausts the epoch); a retry of a completed EndTxn
   * (its epoch one behind) gets NONE and the current id/epoch. Without it the response's id/epoch are
   * -1 (EndTxn < v5 has no such fields).
   */
  async endTxn(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    commit: boolean,
    opts: { isTransactionV2?: boolean } = {},
  ): Promise<ProducerIdAndEpochResult> {
    const unavailable = this.unavailableError();
    if (unavailable !== ErrorCode.NONE) return errorResult(unavailable);
    if (transactionalId === '') return errorResult(ErrorCode.INVALID_REQUEST);
    const txn = this.live(transactionalId);
    if (!txn) return errorResult(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    return opts.isTransactionV2
      ? this.endTxnV2(txn, producerId, producerEpoch, commit)
      : this.endTxnV1(txn, producerId, producerEpoch, commit);
  }

  private invalidState(txn: TransactionMetadata, commit: boolean): ProducerIdAndEpochResult {
    this.logger.warn(
      { transactionalId: txn.transactionalId, state: txn.state, result: commit ? 'COMMIT' : 'ABORT' },
      'EndTxn in an invalid state',
    );
    return errorResult(ErrorCode.INVALID_TXN_STATE);
  }

  private async endTxnV1(
    txn: TransactionMetadata,
    producerId: bigint,
    producerEpoch: number,
    commit: boolean,
  ): Promise<ProducerIdAndEpochResult> {
    if (txn.producerId !== producerId) return errorResult(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (producerEpoch !== txn.producerEpoch) return errorResult(ErrorCode.PRODUCER_FENCED);
    if (txn.pendingTransitionInProgress) return errorResult(ErrorCode.CONCURRENT_TRANSACTIONS);
    switch (txn.state) {
      case 'Ongoing': {
        const t = txn.prepareAbortOrCommit(
          commit ? 'PrepareCommit' : 'PrepareAbort',
          0,
          NO_PRODUCER_ID,
          this.time.now(),
          false,
        );
        const errorCode = await this.prepareEnd(txn, t, commit);
        return errorResult(errorCode);
      }
      case 'CompleteCommit':
        return commit ? errorResult(ErrorCode.NONE) : this.invalidState(txn, commit);
      case 'CompleteAbort':
        return !commit ? errorResult(ErrorCode.NONE) : this.invalidState(txn, commit);
      case 'PrepareCommit':
        return commit ? errorResult(ErrorCode.CONCURRENT_TRANSACTIONS) : this.invalidState(txn, commit);
      case 'PrepareAbort':
        return !commit ? errorResult(ErrorCode.CONCURRENT_TRANSACTIONS) : this.invalidState(txn, commit);
      case 'Empty':
        return this.invalidState(txn, commit);
      default:
        throw new Error(`${txn.transactionalId} found in state ${txn.state}, which is never stored`);
    }
  }

  /*
   * Transaction V2 on Empty / CompleteAbort / CompleteCommit (Kafka's table; Retry = the epoch one
   * behind the stored one, Current = the stored epoch; PF PRODUCER_FENCED, ITS INVALID_TXN_STATE,
   * EB no error and an epoch bump):
   *                  Abort: Retry  Current   Commit: Retry  Current
   *   Empty                 PF     EB                PF     ITS
   *   CompleteAbort         NONE   EB                ITS    ITS
   *   CompleteCommit        ITS    EB                NONE   ITS
   */
  private async endTxnV2(
    txn: TransactionMetadata,
    producerId: bigint,
    producerEpoch: number,
    commit: boolean,
  ): Promise<ProducerIdAndEpochResult> {
    // A retry of an EndTxn whose bump overflowed: the stored id is the next one, at epoch 0.
    const retryOnOverflow =
      txn.prevProducerId === producerId &&
      producerEpoch === MAX_PRODUCER_EPOCH - 1 &&
      txn.producerEpoch === 0;
    // A retry of an EndTxn whose bumped epoch is stored.
    const retryOnEpochBump = txn.producerEpoch === producerEpoch + 1;
    let validEpoch: boolean;
    switch (txn.state) {
      case 'PrepareCommit':
      case 'PrepareAbort':
        validEpoch = retryOnEpochBump;
        break;
      case 'CompleteCommit':
      case 'CompleteAbort':
        validEpoch = retryOnEpochBump || retryOnOverflow || producerEpoch === txn.producerEpoch;
        break;
      default:
        validEpoch = producerEpoch === txn.producerEpoch;
    }
    const isRetry = retryOnEpochBump || retryOnOverflow;
    if (txn.producerId !== producerId && !retryOnOverflow)
      return errorResult(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (!validEpoch) return errorResult(ErrorCode.PRODUCER_FENCED);
    if (txn.pendingTransitionInProgress) return errorResult(ErrorCode.CONCURRENT_TRANSACTIONS);
    const current = (): ProducerIdAndEpochResult => ({
      errorCode: ErrorCode.NONE,
      producerId: txn.producerId,
      producerEpoch: txn.producerEpoch,
    });
    switch (txn.state) {
      case 'Ongoing':
        return this.endV2(txn, commit ? 'PrepareCommit' : 'PrepareAbort', false, commit);
      case 'CompleteCommit':
        if (commit) return isRetry ? current() : this.invalidState(txn, commit);
        return isRetry ? this.invalidState(txn, commit) : this.endV2(txn, 'PrepareAbort', true, commit);
      case 'CompleteAbort':
        if (!commit) return isRetry ? current() : this.endV2(txn, 'PrepareAbort', true, commit);
        return this.invalidState(txn, commit);
      case 'PrepareCommit':
        return commit ? errorResult(ErrorCode.CONCURRENT_TRANSACTIONS) : this.invalidState(txn, commit);
      case 'PrepareAbort':
        return !commit ? errorResult(ErrorCode.CONCURRENT_TRANSACTIONS) : this.invalidState(txn, commit);
      case 'Empty':
        return !commit ? this.endV2(txn, 'PrepareAbort', true, commit) : this.invalidState(txn, commit);
      default:
        throw new Error(`${txn.transactionalId} found in state ${txn.state}, which is never stored`);
    }
  }

  /** The V2 end of a transaction: bump the epoch (a new producer id when that exhausts it). */
  private async endV2(
    txn: TransactionMetadata,
    state: 'PrepareCommit' | 'PrepareAbort',
    noPartitionAdded: boolean,
    commit: boolean,
  ): Promise<ProducerIdAndEpochResult> {
    let nextProducerId = NO_PRODUCER_ID;
    if (txn.isProducerEpochExhausted) {
      txn.pendingState = state; // holds the id while the next producer id is generated
      try {
        nextProducerId = await this.generateProducerId();
      } catch (e) {
        txn.abortTransition();
        return errorResult(storeErrorCode(e));
      }
      txn.abortTransition();
      if (this.lifecycle !== 'active') return errorResult(this.unavailableError());
    }
    const t = txn.prepareAbortOrCommit(state, 2, nextProducerId, this.time.now(), noPartitionAdded);
    const errorCode = await this.prepareEnd(txn, t, commit);
    if (errorCode !== ErrorCode.NONE) return errorResult(errorCode);
    // What the client uses next: the completion's id and epoch (the next id at epoch 0 on overflow).
    const rotate = nextProducerId !== NO_PRODUCER_ID;
    return {
      errorCode: ErrorCode.NONE,
      producerId: rotate ? nextProducerId : t.producerId,
      producerEpoch: rotate ? 0 : t.producerEpoch,
    };
  }

  /** Writes PrepareCommit/PrepareAbort; once durable, starts the markers and the completion. */
  private async prepareEnd(txn: TransactionMetadata, t: TxnTransit, commit: boolean): Promise<number> {
    const errorCode = await this.write(txn, t);
    if (errorCode !== ErrorCode.NONE) return errorCode;
    this.completeTransaction(txn, commit);
    return ErrorCode.NONE;
  }

  // ---------------------------------------------------------------------------------------------
  // Markers and completion (TransactionMarkerChannelManager)
  // ---------------------------------------------------------------------------------------------

  /**
   * For a transaction in PrepareCommit/PrepareAbort: holds it (pending CompleteCommit/CompleteAbort),
   * writes the markers until every partition has one, then writes the completion record.
   */
  private completeTransaction(txn: TransactionMetadata, commit: boolean): void {
    const complete = txn.prepareComplete(this.time.now());
    const done = this.sendMarkersAndComplete(txn, complete, commit)
      .catch((e) =>
        this.logger.warn({ transactionalId: txn.transactionalId, err: String(e) }, 'completing failed'),
      )
      .finally(() => {
        if (this.completing.get(txn.transactionalId) === done) this.completing.delete(txn.transactionalId);
      });
    this.completing.set(txn.transactionalId, done);
  }

  private stillOwned(txn: TransactionMetadata): boolean {
    return this.lifecycle === 'active' && this.txns.get(txn.transactionalId) === txn;
  }

  private async sendMarkersAndComplete(
    txn: TransactionMetadata,
    complete: TxnTransit,
    commit: boolean,
  ): Promise<void> {
    const transactionalId = txn.transactionalId;
    let attempts = 0;
    while (txn.partitions.size > 0) {
      if (!this.stillOwned(txn)) return;
      const partitions = [...txn.partitions.values()];
      let results: Array<{ topic: string; partition: number; errorCode: number }>;
      try {
        results = await this.markers.writeMarkers({
          producerId: txn.producerId,
          producerEpoch: txn.producerEpoch,
          coordinatorEpoch: this.config.coordinatorEpoch,
          commit,
          transactionVersion: txn.clientTransactionVersion,
          partitions,
        });
      } catch (e) {
        this.logger.warn({ transactionalId, err: String(e) }, 'writing transaction markers failed; retrying');
        results = [];
      }
      if (!this.stillOwned(txn)) return;
      let retry = false;
      for (const r of results) {
        switch (r.errorCode) {
          case ErrorCode.NONE:
            txn.partitions.delete(r.topic, r.partition);
            break;
          case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
            // The partition is gone (its topic was deleted): the producer's data went with it.
            this.logger.info(
              { transactionalId, topic: r.topic, partition: r.partition },
              'partition no longer exists; skipping its transaction marker',
            );
            txn.partitions.delete(r.topic, r.partition);
            break;
          case ErrorCode.INVALID_PRODUCER_EPOCH:
          case ErrorCode.TRANSACTION_COORDINATOR_FENCED:
            // A newer producer epoch or coordinator owns the partition: this completion is moot (Kafka
            // stops sending; the transaction stays in its Prepare state until reloaded).
            this.logger.warn(
              { transactionalId, topic: r.topic, partition: r.partition, errorCode: r.errorCode },
              'transaction marker fenced; stopping completion',
            );
            return;
          default:
            retry = true;
        }
      }
      if (txn.partitions.size === 0) break;
      // Retriable errors, and partitions the writer did not answer for, are retried after a backoff.
      if (++attempts === 1 || attempts % 100 === 0) {
        this.logger.warn(
          { transactionalId, remaining: txn.partitions.size, retry, attempts },
          'markers not all written; retrying',
        );
      }
      await this.sleep(this.config.markerRetryBackoffMs);
    }
    for (;;) {
      if (!this.stillOwned(txn)) return;
      complete.txnLastUpdateTimestamp = this.time.now();
      // The completion record need not be durable before it is acted on: the markers it follows
      // are, and should a crash lose it, the reload finds the transaction in PrepareCommit /
      // PrepareAbort and writes the (idempotent) markers and the completion again. The next
      // durable write to this partition (the next transaction's) makes it durable too.
      const errorCode = await this.write(txn, complete, true, false);
      if (errorCode === ErrorCode.NONE) return;
      await this.sleep(this.config.markerRetryBackoffMs);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Timeouts and expiration
  // ---------------------------------------------------------------------------------------------

  /**
   * Aborts every Ongoing transaction older than its timeout, bumping the epoch so that the producer is
   * fenced (its next request gets PRODUCER_FENCED). Runs every abortTimedOutTransactionCleanupIntervalMs.
   */
  abortTimedOutTransactions(): void {
    const now = this.time.now();
    for (const txn of [...this.txns.values()]) {
      if (txn.pendingTransitionInProgress || txn.state !== 'Ongoing') continue;
      if (txn.txnStartTimestamp + txn.txnTimeoutMs >= now) continue;
      const { transactionalId, producerId, producerEpoch } = txn;
      this.logger.info({ transactionalId, producerId, producerEpoch }, 'aborting timed-out transaction');
      void this.fenceAndAbort(txn).then((errorCode) => {
        if (errorCode !== ErrorCode.NONE) {
          this.logger.warn({ transactionalId, errorCode }, 'rollback of timed-out transaction failed');
        }
      });
    }
  }

  /**
   * Removes transactional ids idle (Empty/Complete*) for longer than transactional.id.expiration.ms
   * by writing a tombstone for each (removed from memory once durable). Runs every
   * removeExpiredTransactionalIdsIntervalMs.
   */
  expireTransactionalIds(): void {
    const now = this.time.now();
    for (const txn of [...this.txns.values()]) {
      if (txn.pendingTransitionInProgress || !txn.persisted || !isExpirationAllowed(txn.state)) continue;
      if (txn.txnLastUpdateTimestamp > now - this.config.transactionalIdExpirationMs) continue;
      txn.prepareDead();
      const { transactionalId, producerEpoch } = txn;
      const partition = this.partitionFor(transactionalId);
      this.store.append(partition, transactionLogKey(transactionalId), null).then(
        () => {
          if (
            this.lifecycle !== 'shutdown' &&
            this.txns.get(transactionalId) === txn &&
            txn.pendingState === 'Dead' &&
            txn.producerEpoch === producerEpoch
          ) {
            this.txns.delete(transactionalId);
            this.logger.info({ transactionalId }, 'expired transactional id');
          } else {
            txn.abortTransition();
          }
        },
        (e) => {
          this.logger.warn({ transactionalId, partition, err: String(e) }, 'writing the tombstone failed');
          txn.abortTransition();
        },
      );
    }
  }

  // ---------------------------------------------------------------------------------------------
  // DescribeTransactions / ListTransactions
  // ---------------------------------------------------------------------------------------------

  /** DescribeTransactions: one TransactionState per id, in request order. */
  describeTransactions(transactionalIds: string[]): DescribeTransactionsResponse.TransactionState[] {
    return transactionalIds.map((transactionalId) => {
      const out: DescribeTransactionsResponse.TransactionState = {
        errorCode: ErrorCode.NONE,
        transactionalId,
        transactionState: '',
        transactionTimeoutMs: 0,
        transactionStartTimeMs: -1n,
        producerId: NO_PRODUCER_ID,
        producerEpoch: NO_PRODUCER_EPOCH,
        topics: [],
      };
      if (this.lifecycle === 'loading') return { ...out, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
      if (this.lifecycle === 'shutdown') return { ...out, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
      if (transactionalId === '') return { ...out, errorCode: ErrorCode.INVALID_REQUEST };
      const txn = this.live(transactionalId);
      // A Dead id is being expired: it is already gone.
      if (!txn || txn.state === 'Dead') return { ...out, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
      return {
        ...out,
        transactionState: txn.state,
        transactionTimeoutMs: txn.txnTimeoutMs,
        transactionStartTimeMs: BigInt(txn.txnStartTimestamp),
        producerId: txn.producerId,
        producerEpoch: txn.producerEpoch,
        topics: txn.partitions.byTopic(),
      };
    });
  }

  /**
   * ListTransactions: every transactional id matching all filters (empty = no filter; a duration
   * filter < 0 = none, else only transactions started more than durationFilterMs ago). State names
   * Kafka does not know are returned in unknownStateFilters.
   */
  listTransactions(
    filters: {
      stateFilters?: string[];
      producerIdFilters?: bigint[];
      durationFilterMs?: number | bigint;
    } = {},
  ): ListTransactionsResult {
    if (this.lifecycle === 'loading') {
      return {
        errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        unknownStateFilters: [],
        transactionStates: [],
      };
    }
    if (this.lifecycle === 'shutdown') {
      return {
        errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
        unknownStateFilters: [],
        transactionStates: [],
      };
    }
    const states = new Set<TransactionState>();
    const unknownStateFilters: string[] = [];
    for (const name of filters.stateFilters ?? []) {
      if ((TRANSACTION_STATES as readonly string[]).includes(name)) states.add(name as TransactionState);
      else unknownStateFilters.push(name);
    }
    const producerIds = new Set(filters.producerIdFilters ?? []);
    const duration = Number(filters.durationFilterMs ?? -1);
    const now = this.time.now();
    const transactionStates: ListTransactionsResponse.TransactionState[] = [];
    for (const txn of this.txns.values()) {
      if (!txn.persisted || txn.state === 'Dead') continue;
      if (producerIds.size > 0 && !producerIds.has(txn.producerId)) continue;
      if (states.size > 0 && !states.has(txn.state)) continue;
      if (duration >= 0 && now - txn.txnStartTimestamp <= duration) continue;
      transactionStates.push({
        transactionalId: txn.transactionalId,
        producerId: txn.producerId,
        transactionState: txn.state,
      });
    }
    return { errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates };
  }
}
