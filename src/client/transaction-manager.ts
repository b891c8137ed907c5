// The transactional part of Kafka's TransactionManager: the transaction state machine and the
// requests to the transaction coordinator (InitProducerId with a transactional id,
// AddPartitionsToTxn, AddOffsetsToTxn, EndTxn) and to the group coordinator (TxnOffsetCommit).
// The producer id and epoch themselves stay in ProducerIdManager (idempotence.ts), which this
// writes; sequences stay per partition in the accumulator.
//
// States (Kafka's): UNINITIALIZED -> INITIALIZING -> READY -> IN_TRANSACTION -> COMMITTING_TRANSACTION
// or ABORTING_TRANSACTION -> READY. A failure that only spoils the current transaction (a failed
// batch, TRANSACTION_ABORTABLE, INVALID_TXN_STATE from a produce, a rebalanced group) moves to
// ABORTABLE_ERROR: the application must call abortTransaction(), after which it may go on. A fatal
// one (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH on a transactional request,
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED...) moves to FATAL_ERROR: every later call raises it again.
//
// The sender asks for each partition before its first batch of a transaction is sent
// (needsPartition); the partitions asked for in one sender pass go out in one AddPartitionsToTxn,
// one such request at a time, as Kafka's client batches them, and their batches wait until it is
// answered. Batches are then sent with the transactional flag and the transactional id. EndTxn is
// sent once every batch is settled; without any partition or offsets added, commit and abort are
// local. A batch that failed with a sequence in flight leaves the broker's sequences unknown, so
// the abort that follows bumps the epoch with InitProducerId carrying the current producer id and
// epoch (KIP-360), and the partitions start their sequences over.

import { ErrorCode } from '../protocol/errors.js';
import {
  AddOffsetsToTxnApi,
  AddPartitionsToTxnApi,
  type Api,
  EndTxnApi,
  InitProducerIdApi,
  TxnOffsetCommitApi,
} from './apis.js';
import { type Cluster, CoordinatorType, sleep } from './cluster.js';
import {
  KafkaConnectionError,
  KafkaError,
  KafkaTimeoutError,
  ProducerFencedError,
  TransactionAbortableError,
  TransactionAbortedError,
  TransactionFatalError,
  TransactionStateError,
} from './errors.js';
import type { ProducerIdManager } from './idempotence.js';

export type TransactionState =
  | 'UNINITIALIZED'
  | 'INITIALIZING'
  | 'READY'
  | 'IN_TRANSACTION'
  | 'COMMITTING_TRANSACTION'
  | 'ABORTING_TRANSACTION'
  | 'ABORTABLE_ERROR'
  | 'FATAL_ERROR';

/** An offset to commit with the transaction: `offset` is the next one to consume, as in commits. */
export interface TransactionOffset {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch?: number;
  metadata?: string | null;
}

/**
 * The consumer group the offsets belong to (Kafka's ConsumerGroupMetadata): with the generation
 * and member id the group coordinator fences a zombie member's commit (KIP-447).
 * Consumer.groupMetadata has this shape.
 */
export interface ConsumerGroupMetadata {
  groupId: string;
  generationId?: number;
  memberId?: string;
  groupInstanceId?: string | null;
}

export interface TransactionCallOptions {
  signal?: AbortSignal;
}

/** Errors that end the producer (Kafka's fatal errors on transactional requests). */
const FENCED = new Set<number>([ErrorCode.PRODUCER_FENCED, ErrorCode.INVALID_PRODUCER_EPOCH]);
const FATAL = new Set<number>([
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ErrorCode.INVALID_PRODUCER_ID_MAPPING,
  ErrorCode.INVALID_TRANSACTION_TIMEOUT,
  ErrorCode.UNSUPPORTED_VERSION,
  ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
]);
/** The coordinator moved: look it up again, then retry. */
const COORDINATOR_MOVED = new Set<number>([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE]);
/** Errors of a produce that end the producer rather than the transaction. */
export const PRODUCE_FATAL = new Set<number>([
  ErrorCode.PRODUCER_FENCED,
  ErrorCode.INVALID_PRODUCER_EPOCH,
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
]);

type Tp = { topic: string; partition: number };
const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class TransactionManager {
  private stateValue: TransactionState = 'UNINITIALIZED';
  private lastError: Error | null = null;
  /** Partitions added to the current transaction (AddPartitionsToTxn answered). */
  private readonly added = new Set<string>();
  /** Partitions the sender asked for, not yet in a request. */
  private readonly pending = new Map<string, Tp>();
  private addInFlight: Promise<void> | null = null;
  /** Something was added to the transaction on the coordinator: EndTxn is needed to finish it. */
  private transactionStarted = false;
  /** A sequenced batch failed for good: the abort bumps the epoch (KIP-360). */
  epochBumpRequired = false;
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly ids: ProducerIdManager,
    readonly transactionalId: string,
    private readonly transactionTimeoutMs: number,
    private readonly maxBlockMs: number,
    /** Wakes the sender (partitions added, or unsent batches to fail). */
    private readonly wakeup: () => void,
  ) {}

  get state(): TransactionState {
    return this.stateValue;
  }

  // ---- used by the producer and the sender ----

  /** Throws unless records may be sent now (inside a transaction). */
  checkSend(): void {
    const s = this.stateValue;
    if (s === 'IN_TRANSACTION') return;
    if ((s === 'ABORTABLE_ERROR' || s === 'FATAL_ERROR') && this.lastError) throw this.lastError;
    throw new TransactionStateError(`cannot send in state ${s}: call beginTransaction() first`);
  }

  /**
   * What unsent batches must fail with now: the transaction is aborting, in an abortable error or
   * the producer is fenced. Null while they may be sent.
   */
  unsentBatchError(): Error | null {
    switch (this.stateValue) {
      case 'ABORTING_TRANSACTION':
        return new TransactionAbortedError('the transaction was aborted before this record was sent');
      case 'ABORTABLE_ERROR':
      case 'FATAL_ERROR':
        return new TransactionAbortedError(
          `the transaction cannot complete: ${this.lastError?.message ?? 'aborted'}`,
          { cause: this.lastError },
        );
      default:
        return null;
    }
  }

  get isFatal(): boolean {
    return this.stateValue === 'FATAL_ERROR';
  }

  /** Whether the partition is in the transaction; if not, queues it for the next AddPartitionsToTxn. */
  needsPartition(topic: string, partition: number): boolean {
    const k = key(topic, partition);
    if (this.added.has(k)) return false;
    if (!this.pending.has(k)) this.pending.set(k, { topic, partition });
    return true;
  }

  /** Sends the queued partitions in one AddPartitionsToTxn, unless one is in flight. */
  maybeSendAddPartitions(): void {
    if (this.addInFlight || this.pending.size === 0 || this.closed) return;
    const s = this.stateValue;
    if (s !== 'IN_TRANSACTION' && s !== 'COMMITTING_TRANSACTION') return;
    const tps = [...this.pending.values()];
    this.pending.clear();
    this.addInFlight = this.addPartitions(tps)
      .catch((err) => this.fail(err, 'AddPartitionsToTxn'))
      .finally(() => {
        this.addInFlight = null;
        this.wakeup();
      });
  }

  /** Records a failed batch of the transaction (the sender's failBatch): abortable unless fatal. */
  batchFailed(err: unknown, sequenced: boolean): void {
    if (sequenced) this.epochBumpRequired = true;
    const code = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
    if (err instanceof TransactionFatalError) this.toFatal(err);
    else if (this.stateValue !== 'ABORTING_TRANSACTION' && !(err instanceof TransactionAbortedError)) {
      this.toAbortable(
        new TransactionAbortableError(code, `a record of the transaction failed: ${String(err)}`, {
          cause: err,
        }),
      );
    }
  }

  /** Fails the producer for good (fatal produce errors, e.g. PRODUCER_FENCED). */
  fatalFromProduce(code: number, message: string | null): TransactionFatalError {
    const err = this.fatalError(code, message, 'Produce');
    this.toFatal(err);
    return err;
  }

  close(): void {
    this.closed = true;
  }

  // ---- the application's calls ----

  async initTransactions(options: TransactionCallOptions = {}): Promise<void> {
    const s = this.stateValue;
    if (s === 'FATAL_ERROR') throw this.lastError;
    if (s !== 'UNINITIALIZED')
      throw new TransactionStateError(`initTransactions() was already called (state ${s})`);
    this.stateValue = 'INITIALIZING';
    try {
      await this.initProducerId(options.signal);
    } catch (err) {
      // A timeout or an abort leaves the call to be repeated, as Kafka allows; the rest is fatal.
      if (this.stateValue === 'INITIALIZING') this.stateValue = 'UNINITIALIZED';
      throw err;
    }
    this.stateValue = 'READY';
  }

  beginTransaction(): void {
    const s = this.stateValue;
    if (s === 'FATAL_ERROR' || s === 'ABORTABLE_ERROR') throw this.lastError;
    if (s === 'UNINITIALIZED' || s === 'INITIALIZING')
      throw new TransactionStateError('call initTransactions() before beginTransaction()');
    if (s !== 'READY') throw new TransactionStateError(`cannot begin a transaction in state ${s}`);
    this.added.clear();
    this.pending.clear();
    this.transactionStarted = false;
    this.stateValue = 'IN_TRANSACTION';
  }

  async sendOffsetsToTransaction(
    offsets: readonly TransactionOffset[],
    group: string | ConsumerGroupMetadata,
    options: TransactionCallOptions = {},
  ): Promise<void> {
    this.checkSend();
    const meta: ConsumerGroupMetadata = typeof group === 'string' ? { groupId: group } : group;
    const signal = options.signal;
    const deadline = Date.now() + this.maxBlockMs;
    // AddOffsetsToTxn: the coordinator adds the group's __consumer_offsets partition.
    await this.retrying('AddOffsetsToTxn', deadline, signal, async () => {
      const resp = await this.toCoordinator(
        AddOffsetsToTxnApi,
        CoordinatorType.Transaction,
        this.transactionalId,
        {
          transactionalId: this.transactionalId,
          producerId: this.ids.producerId,
          producerEpoch: this.ids.producerEpoch,
          groupId: meta.groupId,
        },
        signal,
      );
      const code = resp.errorCode;
      if (code === ErrorCode.NONE) {
        this.transactionStarted = true;
        return true;
      }
      if (code === ErrorCode.GROUP_AUTHORIZATION_FAILED || code === ErrorCode.TRANSACTION_ABORTABLE)
        throw this.abortableFor(code, null, 'AddOffsetsToTxn');
      return this.retryOrFatal(
        code,
        null,
        'AddOffsetsToTxn',
        CoordinatorType.Transaction,
        this.transactionalId,
      );
    });
    // TxnOffsetCommit to the group coordinator: pending there until the transaction's marker.
    let left = offsets.slice();
    await this.retrying('TxnOffsetCommit', deadline, signal, async () => {
      const byTopic = new Map<string, TransactionOffset[]>();
      for (const o of left) {
        let l = byTopic.get(o.topic);
        if (!l) {
          l = [];
          byTopic.set(o.topic, l);
        }
        l.push(o);
      }
      const resp = await this.toCoordinator(
        TxnOffsetCommitApi,
        CoordinatorType.Group,
        meta.groupId,
        {
          transactionalId: this.transactionalId,
          groupId: meta.groupId,
          producerId: this.ids.producerId,
          producerEpoch: this.ids.producerEpoch,
          generationId: meta.generationId ?? -1,
          memberId: meta.memberId ?? '',
          groupInstanceId: meta.groupInstanceId ?? null,
          topics: [...byTopic].map(([name, os]) => ({
            name,
            partitions: os.map((o) => ({
              partitionIndex: o.partition,
              committedOffset: o.offset,
              committedLeaderEpoch: o.leaderEpoch ?? -1,
              committedMetadata: o.metadata ?? '',
            })),
          })),
        },
        signal,
      );
      const retry: TransactionOffset[] = [];
      let retryCode = ErrorCode.NONE as number;
      for (const t of resp.topics) {
        for (const p of t.partitions) {
          const code = p.errorCode;
          if (code === ErrorCode.NONE) continue;
          if (FENCED.has(code) || FATAL.has(code)) throw this.fatalError(code, null, 'TxnOffsetCommit');
          if (COORDINATOR_MOVED.has(code) || new KafkaError(code).retriable) {
            if (COORDINATOR_MOVED.has(code))
              this.cluster.invalidateCoordinator(meta.groupId, CoordinatorType.Group);
            const o = left.find((x) => x.topic === t.name && x.partition === p.partitionIndex);
            if (o) retry.push(o);
            retryCode = code;
            continue;
          }
          // UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID (the group moved on),
          // GROUP_AUTHORIZATION_FAILED, INVALID_TXN_STATE, TRANSACTION_ABORTABLE...
          throw this.abortableFor(code, null, `TxnOffsetCommit ${t.name}-${p.partitionIndex}`);
        }
      }
      left = retry;
      if (retry.length === 0) return true;
      return new KafkaError(retryCode, 'TxnOffsetCommit');
    });
  }

  /** Moves to COMMITTING_TRANSACTION (or stays there to retry); the producer flushes next. */
  beginCommit(): void {
    const s = this.stateValue;
    if (s === 'COMMITTING_TRANSACTION') return;
    if (s === 'FATAL_ERROR' || s === 'ABORTABLE_ERROR') throw this.lastError;
    if (s !== 'IN_TRANSACTION')
      throw new TransactionStateError(`cannot commit in state ${s}: no transaction`);
    this.stateValue = 'COMMITTING_TRANSACTION';
  }

  /** After the flush: EndTxn(commit) once every batch is settled. */
  async completeCommit(options: TransactionCallOptions = {}): Promise<void> {
    if (this.addInFlight) await this.addInFlight;
    const s = this.stateValue as TransactionState;
    if (s === 'FATAL_ERROR' || s === 'ABORTABLE_ERROR') throw this.lastError;
    if (s !== 'COMMITTING_TRANSACTION') throw new TransactionStateError(`the commit ended in state ${s}`);
    await this.endTxn(true, options.signal);
    this.finishTransaction();
  }

  /** Moves to ABORTING_TRANSACTION (or stays there to retry); the producer fails unsent batches next. */
  beginAbort(): void {
    const s = this.stateValue;
    if (s === 'ABORTING_TRANSACTION') return;
    if (s === 'FATAL_ERROR') throw this.lastError;
    // As in Kafka, a commit that timed out is finished by calling commitTransaction() again.
    if (s !== 'IN_TRANSACTION' && s !== 'ABORTABLE_ERROR')
      throw new TransactionStateError(`cannot abort in state ${s}`);
    this.stateValue = 'ABORTING_TRANSACTION';
    this.pending.clear();
    this.wakeup();
  }

  /** After every batch settled: EndTxn(abort), and the epoch bump if sequences went wrong. */
  async completeAbort(options: TransactionCallOptions = {}): Promise<void> {
    if (this.addInFlight) await this.addInFlight;
    if ((this.stateValue as TransactionState) === 'FATAL_ERROR') throw this.lastError;
    await this.endTxn(false, options.signal);
    if (this.epochBumpRequired) {
      // KIP-360: InitProducerId with the current id and epoch bumps the epoch and keeps the id; the
      // sender renumbers every partition from 0 under it.
      await this.initProducerId(options.signal);
      this.epochBumpRequired = false;
    }
    this.finishTransaction();
  }

  private finishTransaction(): void {
    this.added.clear();
    this.pending.clear();
    this.transactionStarted = false;
    this.lastError = null;
    this.stateValue = 'READY';
  }

  // ---- requests ----

  private async initProducerId(signal?: AbortSignal): Promise<void> {
    if (!(await this.cluster.supports(InitProducerIdApi)))
      throw this.toFatal(
        new TransactionFatalError(ErrorCode.UNSUPPORTED_VERSION, 'the broker does not support transactions'),
      );
    const deadline = Date.now() + this.maxBlockMs;
    await this.retrying('InitProducerId', deadline, signal, async () => {
      const resp = await this.toCoordinator(
        InitProducerIdApi,
        CoordinatorType.Transaction,
        this.transactionalId,
        {
          transactionalId: this.transactionalId,
          transactionTimeoutMs: this.transactionTimeoutMs,
          producerId: this.ids.producerId,
          producerEpoch: this.ids.producerEpoch,
        },
        signal,
      );
      if (resp.errorCode === ErrorCode.NONE) {
        this.ids.producerId = resp.producerId;
        this.ids.producerEpoch = resp.producerEpoch;
        this.cluster.logger.info(
          {
            clientId: this.cluster.clientId,
            transactionalId: this.transactionalId,
            producerId: String(resp.producerId),
            epoch: resp.producerEpoch,
          },
          'transactional producer initialised',
        );
        return true;
      }
      return this.retryOrFatal(
        resp.errorCode,
        null,
        'InitProducerId',
        CoordinatorType.Transaction,
        this.transactionalId,
      );
    });
  }

  private async addPartitions(tps: Tp[]): Promise<void> {
    const signal = this.cluster.closeSignal;
    const byTopic = new Map<string, number[]>();
    for (const tp of tps) {
      let l = byTopic.get(tp.topic);
      if (!l) {
        l = [];
        byTopic.set(tp.topic, l);
      }
      l.push(tp.partition);
    }
    // Retried until the transaction ends; the batches waiting for it have delivery.timeout.ms.
    for (;;) {
      const s = this.stateValue;
      if (this.closed || (s !== 'IN_TRANSACTION' && s !== 'COMMITTING_TRANSACTION')) return;
      let retryCode: number = ErrorCode.NONE;
      try {
        const resp = await this.toCoordinator(
          AddPartitionsToTxnApi,
          CoordinatorType.Transaction,
          this.transactionalId,
          {
            transactions: [],
            v3AndBelowTransactionalId: this.transactionalId,
            v3AndBelowProducerId: this.ids.producerId,
            v3AndBelowProducerEpoch: this.ids.producerEpoch,
            v3AndBelowTopics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
          },
          signal,
          3, // v4+ is the brokers' batched form (KIP-890)
        );
        if (resp.errorCode !== ErrorCode.NONE) retryCode = resp.errorCode;
        let abortable: number = ErrorCode.NONE;
        for (const t of resp.resultsByTopicV3AndBelow) {
          for (const p of t.resultsByPartition) {
            const code = p.partitionErrorCode;
            if (code === ErrorCode.NONE) {
              this.added.add(key(t.name, p.partitionIndex));
              this.transactionStarted = true;
              continue;
            }
            if (code === ErrorCode.OPERATION_NOT_ATTEMPTED) continue;
            if (FENCED.has(code) || FATAL.has(code) || code === ErrorCode.INVALID_TXN_STATE)
              throw this.fatalError(code, null, 'AddPartitionsToTxn');
            if (COORDINATOR_MOVED.has(code)) {
              this.cluster.invalidateCoordinator(this.transactionalId, CoordinatorType.Transaction);
              retryCode = code;
            } else if (code === ErrorCode.CONCURRENT_TRANSACTIONS || new KafkaError(code).retriable)
              retryCode = code;
            else abortable = code;
          }
        }
        if (abortable !== ErrorCode.NONE)
          throw this.abortableFor(
            abortable,
            null,
            `AddPartitionsToTxn ${tps.map((t) => `${t.topic}-${t.partition}`).join(', ')}`,
          );
        if (retryCode === ErrorCode.NONE) {
          // Partitions the broker did not mention stay pending for the next request.
          for (const tp of tps) {
            const k = key(tp.topic, tp.partition);
            if (!this.added.has(k)) this.pending.set(k, tp);
          }
          return;
        }
      } catch (err) {
        if (!(err instanceof KafkaConnectionError) && !(err instanceof KafkaTimeoutError)) throw err;
        this.cluster.invalidateCoordinator(this.transactionalId, CoordinatorType.Transaction);
      }
      // CONCURRENT_TRANSACTIONS right after a commit: Kafka retries it sooner than the usual backoff.
      const backoff = retryCode === ErrorCode.CONCURRENT_TRANSACTIONS ? 20 : this.cluster.retryBackoffMs;
      try {
        await sleep(backoff, signal);
      } catch {
        return;
      }
      for (const [name, ps] of [...byTopic]) {
        const rest = ps.filter((p) => !this.added.has(key(name, p)));
        if (rest.length > 0) byTopic.set(name, rest);
        else byTopic.delete(name);
      }
      if (byTopic.size === 0) return;
    }
  }

  private async endTxn(committed: boolean, signal?: AbortSignal): Promise<void> {
    if (!this.transactionStarted) return; // nothing on the coordinator: a local commit or abort
    const what = committed ? 'EndTxn(commit)' : 'EndTxn(abort)';
    await this.retrying(what, Date.now() + this.maxBlockMs, signal, async () => {
      const resp = await this.toCoordinator(
        EndTxnApi,
        CoordinatorType.Transaction,
        this.transactionalId,
        {
          transactionalId: this.transactionalId,
          producerId: this.ids.producerId,
          producerEpoch: this.ids.producerEpoch,
          committed,
        },
        signal,
        4, // v5 (KIP-890 part 2) bumps the epoch on every EndTxn: not used
      );
      const code = resp.errorCode;
      if (code === ErrorCode.NONE) return true;
      if (code === ErrorCode.TRANSACTION_ABORTABLE && committed) throw this.abortableFor(code, null, what);
      if (code === ErrorCode.INVALID_TXN_STATE) throw this.fatalError(code, null, what);
      return this.retryOrFatal(code, null, what, CoordinatorType.Transaction, this.transactionalId);
    });
  }

  /** Sends to the coordinator of `coordinatorKey`; connection failures invalidate it. */
  private async toCoordinator<Req, Resp>(
    api: Api<Req, Resp>,
    keyType: number,
    coordinatorKey: string,
    body: Req,
    signal?: AbortSignal,
    maxVersion?: number,
  ): Promise<Resp> {
    let node: number;
    try {
      node = await this.cluster.findCoordinator(coordinatorKey, keyType, signal);
    } catch (err) {
      if (
        err instanceof KafkaError &&
        (FATAL.has(err.code) || err.code === ErrorCode.GROUP_AUTHORIZATION_FAILED)
      ) {
        throw keyType === CoordinatorType.Transaction
          ? this.fatalError(err.code, err.message, 'FindCoordinator')
          : this.abortableFor(err.code, err.message, 'FindCoordinator');
      }
      throw err;
    }
    try {
      return await this.cluster.send(node, api, body, { signal, maxVersion });
    } catch (err) {
      if (err instanceof KafkaConnectionError) this.cluster.invalidateCoordinator(coordinatorKey, keyType);
      throw err;
    }
  }

  /**
   * Runs `attempt` until it returns true, retrying a returned (retriable) error, connection
   * failures and timeouts with backoff until the deadline (max.block.ms): then KafkaTimeoutError.
   * Errors thrown by the attempt (fatal or abortable, already recorded) pass through.
   */
  private async retrying(
    what: string,
    deadline: number,
    signal: AbortSignal | undefined,
    attempt: () => Promise<true | KafkaError>,
  ): Promise<void> {
    for (;;) {
      if (this.closed) throw new TransactionStateError('the producer is closed');
      signal?.throwIfAborted();
      let last: unknown;
      try {
        const r = await attempt();
        if (r === true) return;
        last = r;
      } catch (err) {
        if (!(err instanceof KafkaError) || !err.retriable || err instanceof TransactionAbortableError)
          throw err;
        if (err instanceof TransactionFatalError) throw err;
        last = err;
      }
      const now = Date.now();
      if (now >= deadline)
        throw new KafkaTimeoutError(`${what} did not complete within max.block.ms (${this.maxBlockMs})`, {
          cause: last,
        });
      const code = last instanceof KafkaError ? last.code : -1;
      const backoff = code === ErrorCode.CONCURRENT_TRANSACTIONS ? 20 : this.cluster.retryBackoffMs;
      await sleep(Math.min(backoff, deadline - now), signal);
    }
  }

  /** For a coordinator error code: a retriable error to return, or a fatal one thrown. */
  private retryOrFatal(
    code: number,
    message: string | null,
    what: string,
    keyType: number,
    coordinatorKey: string,
  ): KafkaError {
    if (COORDINATOR_MOVED.has(code)) {
      this.cluster.invalidateCoordinator(coordinatorKey, keyType);
      return new KafkaError(code, message);
    }
    if (code === ErrorCode.CONCURRENT_TRANSACTIONS || code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
      return new KafkaError(code, message);
    const err = new KafkaError(code, message);
    if (err.retriable && !FENCED.has(code)) return err;
    throw this.fatalError(code, message, what);
  }

  private fatalError(code: number, message: string | null, what: string): TransactionFatalError {
    const text = `${what} for transactional.id ${this.transactionalId}: ${message ?? new KafkaError(code).message}`;
    const err = FENCED.has(code)
      ? new ProducerFencedError(
          code,
          `${text} (another producer with the same transactional.id has initialised since: this one is fenced)`,
        )
      : new TransactionFatalError(code, text);
    this.toFatal(err);
    return err;
  }

  private abortableFor(code: number, message: string | null, what: string): TransactionAbortableError {
    const err = new TransactionAbortableError(
      code,
      `${what} for transactional.id ${this.transactionalId}: ${message ?? new KafkaError(code).message}; abort the transaction`,
    );
    this.toAbortable(err);
    return err;
  }

  private fail(err: unknown, what: string): void {
    if (err instanceof TransactionFatalError || err instanceof TransactionAbortableError) return; // recorded
    const code = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
    this.toAbortable(new TransactionAbortableError(code, `${what} failed: ${String(err)}`, { cause: err }));
  }

  private toFatal<E extends Error>(err: E): E {
    if (this.stateValue !== 'FATAL_ERROR') {
      this.stateValue = 'FATAL_ERROR';
      this.lastError = err;
      this.cluster.logger.error(
        { clientId: this.cluster.clientId, transactionalId: this.transactionalId, err: err.message },
        'transactional producer failed for good',
      );
      this.wakeup();
    }
    return err;
  }

  private toAbortable(err: Error): void {
    const s = this.stateValue;
    if (s === 'FATAL_ERROR' || s === 'ABORTING_TRANSACTION' || s === 'ABORTABLE_ERROR') return;
    if (s === 'READY' || s === 'UNINITIALIZED' || s === 'INITIALIZING') return;
    this.stateValue = 'ABORTABLE_ERROR';
    this.lastError = err;
    this.wakeup();
  }
}
