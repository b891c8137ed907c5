// The producer (Kafka's KafkaProducer): send() serializes, partitions and appends records to the
// accumulator and resolves once the broker acknowledged them (or rejects with the reason they were
// not written); the sender (sender.ts) does the network side.
//
// Defaults are Kafka's: acks=all, linger.ms=5, batch.size=16384, retries=MAX_INT,
// delivery.timeout.ms=120000, max.in.flight.requests.per.connection=5, enable.idempotence=true
// (turned off, with a warning, when the broker lacks InitProducerId: see idempotence.ts).
// Like Kafka, idempotence left at its default is quietly disabled by acks other than all, and
// refused with an explicit enable.
//
// Order: records of one partition are appended in send() order and batches leave in that order,
// up to max.in.flight.requests.per.connection of them in flight per partition (sender.ts). With
// idempotence (the default) retries never reorder or duplicate them. Without it, a connection
// failure resends in order (a batch may be written twice), but a batch the broker refuses while
// the next one is appended can land after it, as in Kafka: set maxInFlightRequestsPerConnection to
// 1 to rule that out.

import { type CompressionName, compressionTypeFromName } from '../protocol/compression/types.js';
import { ErrorCode } from '../protocol/errors.js';
import { EncodeError } from '../protocol/primitives/writer.js';
import type { RecordInput } from '../protocol/records/types.js';
import { Cluster, type ClusterOptions, type TopicMetadata } from './cluster.js';
import { ClientClosedError, KafkaError, KafkaTimeoutError, TransactionAbortedError } from './errors.js';
import { ProducerIdManager } from './idempotence.js';
import { murmur2Partition, StickyPartitionCache } from './partitioner.js';
import {
  estimateRecordSize,
  type PartitionQueue,
  RecordAccumulator,
  type RecordMetadata,
  type RecordSink,
} from './record-accumulator.js';
import { Sender, type SenderStats } from './sender.js';
import { type Bytes, defaultSerializer, type HeadersInput, type Serializer, toHeaders } from './serde.js';
import {
  type ConsumerGroupMetadata,
  type TransactionCallOptions,
  TransactionManager,
  type TransactionOffset,
  type TransactionState,
} from './transaction-manager.js';

export type { RecordMetadata } from './record-accumulator.js';
export type {
  ConsumerGroupMetadata,
  TransactionCallOptions,
  TransactionOffset,
  TransactionState,
} from './transaction-manager.js';

export type Acks = 0 | 1 | -1 | 'all';

export interface ProducerOptions<K = Bytes, V = Bytes> extends ClusterOptions {
  /** acks: 0 (no answer), 1 (leader), -1 / 'all' (all in-sync replicas; Kafka's default). */
  acks?: Acks;
  /** linger.ms (Kafka 4's default 5). */
  lingerMs?: number;
  /** batch.size in bytes (16384). */
  batchSize?: number;
  /** compression.type (none). */
  compression?: CompressionName;
  compressionLevel?: number;
  /** retries (MAX_INT: delivery.timeout.ms bounds them). */
  retries?: number;
  /** retry.backoff.max.ms (1000). */
  retryBackoffMaxMs?: number;
  /** delivery.timeout.ms (120000). */
  deliveryTimeoutMs?: number;
  /**
   * max.in.flight.requests.per.connection (5): Produce requests in flight per broker, and so
   * batches in flight per partition. At most 5 with idempotence.
   */
  maxInFlightRequestsPerConnection?: number;
  /** enable.idempotence (true). Transactions require it. */
  idempotent?: boolean;
  /**
   * transactional.id: makes the producer transactional (initTransactions(), beginTransaction(),
   * commitTransaction()...). A newer producer with the same id fences this one.
   */
  transactionalId?: string;
  /** transaction.timeout.ms (60000): the coordinator aborts a transaction left open longer. */
  transactionTimeoutMs?: number;
  /** max.request.size (1048576): the largest Produce request, and so the largest record. */
  maxRequestSize?: number;
  /** buffer.memory (33554432): send() waits while this many bytes are unacknowledged. */
  bufferMemory?: number;
  /** max.block.ms (60000): the longest send() waits for metadata or buffer space. */
  maxBlockMs?: number;
  keySerializer?: Serializer<K>;
  valueSerializer?: Serializer<V>;
  /** A custom partitioner; return undefined to fall back to the default one. */
  partitioner?: (
    record: { topic: string; key: Buffer | null; value: Buffer | null },
    topic: TopicMetadata,
  ) => number | undefined;
}

export interface ProducerRecord<K = Bytes, V = Bytes> {
  key?: K;
  value: V;
  headers?: HeadersInput;
  partition?: number;
  /** CreateTime in ms (or a Date); now if absent. */
  timestamp?: number | Date;
}

export interface SendRequest<K = Bytes, V = Bytes> {
  topic: string;
  messages: ProducerRecord<K, V>[];
  signal?: AbortSignal;
  /**
   * Called once per record as soon as its batch is settled (Kafka's send callback), before send()
   * resolves: `index` is the record's position in `messages`; error is null on success.
   */
  onRecord?: (index: number, error: unknown, metadata: RecordMetadata | null) => void;
  /**
   * false: send() resolves with an empty array, and no RecordMetadata (object and bigint offset)
   * is built per record; for a stream of many records whose offsets nobody reads (`samsa
   * produce`). Ignored when onRecord is given. Failures are reported as always.
   */
  metadata?: boolean;
}

/** Collects the outcome of one send() call: one array and one promise for all its records. */
class SendResult implements RecordSink {
  readonly results: RecordMetadata[];
  private pending: number;
  private error: unknown = undefined;
  private errorIndex = Number.POSITIVE_INFINITY;
  private settle: (() => void) | null = null;
  private appending = true;

  /** Set (as RecordSink asks) when the caller wants no metadata. */
  readonly deliveredWithoutMetadata: ((count: number) => void) | undefined;

  constructor(
    n: number,
    private readonly onRecord: SendRequest['onRecord'],
    metadata = true,
  ) {
    this.results = new Array(metadata || onRecord !== undefined ? n : 0);
    this.pending = n;
    this.deliveredWithoutMetadata =
      metadata || onRecord !== undefined
        ? undefined
        : (count: number) => {
            this.pending -= count;
            if (this.pending === 0 && !this.appending) this.settle?.();
          };
  }

  delivered(index: number, metadata: RecordMetadata): void {
    this.results[index] = metadata;
    this.onRecord?.(index, null, metadata);
    if (--this.pending === 0 && !this.appending) this.settle?.();
  }

  failed(index: number, err: unknown): void {
    // The error of the first record in the call's order is the one send() rejects with.
    if (index < this.errorIndex) {
      this.errorIndex = index;
      this.error = err;
    }
    this.onRecord?.(index, err, null);
    if (--this.pending === 0 && !this.appending) this.settle?.();
  }

  /** Resolves with every record's metadata once all are settled; rejects with the first failure. */
  wait(): Promise<RecordMetadata[]> {
    this.appending = false;
    const finish = (): RecordMetadata[] => {
      if (this.errorIndex !== Number.POSITIVE_INFINITY) throw this.error;
      return this.results;
    };
    if (this.pending === 0) return Promise.resolve().then(finish);
    return new Promise<void>((resolve) => {
      this.settle = resolve;
    }).then(finish);
  }
}

export class Producer<K = Bytes, V = Bytes> {
  readonly cluster: Cluster;
  private readonly accumulator: RecordAccumulator;
  private readonly sender: Sender;
  private readonly idempotence: ProducerIdManager;
  private readonly txn: TransactionManager | null;
  private readonly sticky = new StickyPartitionCache();
  private readonly keySerializer: Serializer<K>;
  private readonly valueSerializer: Serializer<V>;
  private readonly maxRequestSize: number;
  private readonly bufferMemory: number;
  private readonly maxBlockMs: number;
  private readonly partitioner: ProducerOptions<K, V>['partitioner'];
  private readonly memoryWaiters: (() => void)[] = [];
  private readonly appendsInProgress = new Set<Promise<void>>();
  /**
   * Per topic, the last append still in progress (settled or not). A send() appends only after
   * the previous send() to its topic has, so records reach the accumulator in call order (Kafka's
   * send() blocks its caller in waitOnMetadata): a send waiting for its topic's first metadata
   * must not be overtaken by a later send that finds the metadata cached.
   */
  private readonly appendTails = new Map<string, Promise<unknown>>();
  private closed = false;
  /** close() gave up waiting (timeout): records still being appended fail. */
  private abandoned = false;
  private closing: Promise<void> | null = null;

  constructor(options: ProducerOptions<K, V>) {
    const acksOpt = options.acks ?? 'all';
    const acks = acksOpt === 'all' ? -1 : acksOpt;
    if (acks !== 0 && acks !== 1 && acks !== -1) throw new TypeError(`invalid acks ${String(acksOpt)}`);
    const compression = compressionTypeFromName(options.compression ?? 'none');
    if (compression === undefined) throw new TypeError(`unknown compression ${options.compression}`);
    const maxInFlight = options.maxInFlightRequestsPerConnection ?? 5;
    const retries = options.retries ?? 0x7fffffff;
    // Kafka: an explicit enable.idempotence conflicts with acks != all, retries=0 or > 5 in flight;
    // the default simply yields.
    let idempotent = options.idempotent ?? true;
    const transactionalId = options.transactionalId;
    if (transactionalId !== undefined) {
      // Kafka: a transactional.id needs idempotence, and so its settings.
      if (typeof transactionalId !== 'string' || transactionalId === '')
        throw new TypeError('transactionalId must be a non-empty string');
      if (options.idempotent === false)
        throw new TypeError('transactions need idempotence (idempotent: true)');
      if (acks !== -1 || retries === 0 || maxInFlight > 5)
        throw new TypeError(
          'transactions need acks=all, retries > 0 and max.in.flight.requests.per.connection <= 5',
        );
    }
    if (acks !== -1 || retries === 0 || maxInFlight > 5) {
      if (options.idempotent === true) {
        throw new TypeError(
          'idempotence needs acks=all, retries > 0 and max.in.flight.requests.per.connection <= 5',
        );
      }
      idempotent = false;
    }
    const retryBackoffMs = options.retryBackoffMs ?? 100;
    const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.cluster = new Cluster({ ...options, clientId: options.clientId ?? 'samsa-producer' });
    this.cluster.startPeriodicRefresh();
    const batchSize = options.batchSize ?? 16_384;
    this.accumulator = new RecordAccumulator(batchSize);
    this.idempotence = new ProducerIdManager(
      this.cluster,
      options.idempotent === true || transactionalId !== undefined,
      idempotent,
    );
    this.maxBlockMs = options.maxBlockMs ?? 60_000;
    this.txn =
      transactionalId === undefined
        ? null
        : new TransactionManager(
            this.cluster,
            this.idempotence,
            transactionalId,
            options.transactionTimeoutMs ?? 60_000,
            this.maxBlockMs,
            () => this.sender.wakeup(),
          );
    this.sender = new Sender(
      this.cluster,
      this.accumulator,
      this.idempotence,
      {
        acks,
        lingerMs: options.lingerMs ?? 5,
        maxRequestSize: options.maxRequestSize ?? 1_048_576,
        maxInFlightPerConnection: maxInFlight,
        retries,
        retryBackoffMs,
        retryBackoffMaxMs: options.retryBackoffMaxMs ?? 1000,
        deliveryTimeoutMs: options.deliveryTimeoutMs ?? 120_000,
        requestTimeoutMs,
        compression,
        compressionLevel: options.compressionLevel,
      },
      this.txn,
    );
    this.keySerializer = options.keySerializer ?? (defaultSerializer as Serializer<K>);
    this.valueSerializer = options.valueSerializer ?? (defaultSerializer as Serializer<V>);
    this.maxRequestSize = options.maxRequestSize ?? 1_048_576;
    this.bufferMemory = options.bufferMemory ?? 33_554_432;
    this.partitioner = options.partitioner;
  }

  /** Whether records carry a producer id and sequence numbers (false after the fallback). */
  get isIdempotent(): boolean {
    return this.idempotence.enabled;
  }

  /** The producer id and epoch from InitProducerId (-1 before, or without idempotence). */
  get producerIdAndEpoch(): { producerId: bigint; producerEpoch: number } {
    return { producerId: this.idempotence.producerId, producerEpoch: this.idempotence.producerEpoch };
  }

  /**
   * Sends records to one topic. Resolves with each record's partition, offset and timestamp, in
   * the order given, once all are acknowledged (an empty array with `metadata: false`); rejects
   * with the first failure (the other records may still have been written). Records of one send()
   * to one partition stay in order.
   */
  async send(request: SendRequest<K, V>): Promise<RecordMetadata[]> {
    if (this.closed) throw new ClientClosedError('the producer is closed');
    this.txn?.checkSend();
    // flush() waits for sends still looking up metadata or waiting for memory (Kafka's
    // appendsInProgress): their records were handed over before the flush, so it covers them.
    let appended!: () => void;
    const appending = new Promise<void>((r) => {
      appended = r;
    });
    this.appendsInProgress.add(appending);
    let result: SendResult;
    try {
      result = await this.append(request);
    } finally {
      this.appendsInProgress.delete(appending);
      appended();
    }
    this.sender.wakeup();
    return result.wait();
  }

  private append(request: SendRequest<K, V>): Promise<SendResult> {
    const topic = request.topic;
    const prev = this.appendTails.get(topic);
    // Without an append in progress for the topic, start at once (no extra tick on the hot path).
    const mine =
      prev === undefined ? this.appendInOrder(request) : prev.then(() => this.appendInOrder(request));
    const tail = mine.then(
      () => {},
      () => {},
    );
    this.appendTails.set(topic, tail);
    void tail.then(() => {
      if (this.appendTails.get(topic) === tail) this.appendTails.delete(topic);
    });
    return mine;
  }

  private async appendInOrder(request: SendRequest<K, V>): Promise<SendResult> {
    const { topic, messages, signal } = request;
    const [meta] = await this.cluster.waitForTopics([topic], this.maxBlockMs, signal);
    const now = Date.now();
    const n = messages.length;
    const result = new SendResult(n, request.onRecord, request.metadata !== false);
    const keySerializer = this.keySerializer;
    const valueSerializer = this.valueSerializer;
    let queue: PartitionQueue | undefined;
    for (let i = 0; i < n; i++) {
      const m = messages[i];
      const key = keySerializer(m.key as K, topic);
      const value = valueSerializer(m.value, topic);
      const ts = m.timestamp;
      const timestamp = ts === undefined ? now : typeof ts === 'number' ? ts : ts.getTime();
      const record: RecordInput = {
        key,
        value,
        headers: m.headers === undefined ? undefined : toHeaders(m.headers),
        timestamp,
      };
      const size = estimateRecordSize(record);
      if (size + 61 > this.maxRequestSize) {
        const err = new KafkaError(
          ErrorCode.MESSAGE_TOO_LARGE,
          `the record is ${size} bytes, more than max.request.size (${this.maxRequestSize})`,
        );
        // In a transaction a record that cannot be sent spoils it (Kafka: abortable).
        this.txn?.batchFailed(err, false);
        result.failed(i, err);
        continue;
      }
      if (this.accumulator.bufferedBytes + size > this.bufferMemory) await this.waitForMemory(size, signal);
      // A send() made before close() is delivered by it (close waits for it as flush does) unless
      // close() already gave up.
      if (this.abandoned) {
        result.failed(i, new ClientClosedError('the producer closed during send'));
        continue;
      }
      const partition = this.choosePartition(topic, meta, key, value, m.partition, size);
      if (queue === undefined || queue.partition !== partition)
        queue = this.accumulator.queue(topic, partition);
      let full: boolean;
      try {
        full = this.accumulator.append(queue, record, size, result, i, now);
      } catch (err) {
        // A timestamp the batch cannot express (not an integer, or 2^52 ms from the batch's first).
        if (!(err instanceof EncodeError)) throw err;
        const e = new KafkaError(ErrorCode.INVALID_TIMESTAMP, err.message);
        this.txn?.batchFailed(e, false);
        result.failed(i, e);
        continue;
      }
      if (full) this.sender.wakeup();
    }
    return result;
  }

  // ---- transactions (Kafka's KafkaProducer transactional API) ----

  private transactional(): TransactionManager {
    if (this.closed) throw new ClientClosedError('the producer is closed');
    if (!this.txn) throw new TypeError('not a transactional producer: set transactionalId');
    return this.txn;
  }

  /** The transaction state (Kafka's names); 'UNINITIALIZED' until initTransactions(). */
  get transactionState(): TransactionState | null {
    return this.txn?.state ?? null;
  }

  /**
   * Registers the transactional id with its coordinator (InitProducerId): fences older producers
   * with the same id and completes (or aborts) the transaction they left open. Once per producer,
   * before any transaction; after a timeout it may be called again.
   */
  initTransactions(options: TransactionCallOptions = {}): Promise<void> {
    return this.transactional().initTransactions(options);
  }

  /** Starts a transaction (locally; partitions are added as records are sent). */
  beginTransaction(): void {
    this.transactional().beginTransaction();
  }

  /**
   * Commits consumer offsets as part of the transaction (AddOffsetsToTxn, then TxnOffsetCommit to
   * the group coordinator): they become visible only if the transaction commits. Pass the
   * consumer's groupMetadata so a member fenced by a rebalance cannot commit.
   */
  sendOffsetsToTransaction(
    offsets: readonly TransactionOffset[],
    group: string | ConsumerGroupMetadata,
    options: TransactionCallOptions = {},
  ): Promise<void> {
    return this.transactional().sendOffsetsToTransaction(offsets, group, options);
  }

  /**
   * Sends every record of the transaction, then commits it (EndTxn). Rejects with
   * TransactionAbortableError if a record failed (abortTransaction() then), with a
   * TransactionFatalError (ProducerFencedError...) if the producer can no longer be used, or with
   * KafkaTimeoutError after max.block.ms (calling it again resumes the commit).
   */
  async commitTransaction(options: TransactionCallOptions = {}): Promise<void> {
    const txn = this.transactional();
    txn.beginCommit();
    await this.flush();
    await txn.completeCommit(options);
  }

  /**
   * Aborts the transaction: records not sent yet fail with TransactionAbortedError, the ones in
   * flight are awaited, then EndTxn(abort). The producer may begin another transaction after it.
   */
  async abortTransaction(options: TransactionCallOptions = {}): Promise<void> {
    const txn = this.transactional();
    txn.beginAbort();
    if (this.appendsInProgress.size > 0) await Promise.all(this.appendsInProgress);
    this.sender.failUnsent(
      new TransactionAbortedError('the transaction was aborted before this record was sent'),
    );
    await Promise.all(this.accumulator.allBatches().map((b) => b.done));
    for (const w of this.memoryWaiters.splice(0)) w();
    await txn.completeAbort(options);
  }

  /** What the sender has done so far (requests, retries, the deepest per-partition pipeline). */
  get senderStats(): Readonly<SenderStats> {
    return this.sender.stats;
  }

  private choosePartition(
    topic: string,
    meta: TopicMetadata,
    key: Buffer | null,
    value: Buffer | null,
    explicit: number | undefined,
    size: number,
  ): number {
    const n = meta.partitions.length;
    if (explicit !== undefined) {
      if (!Number.isInteger(explicit) || explicit < 0 || explicit >= n) {
        throw new KafkaError(
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `${topic} has no partition ${explicit} (it has ${n})`,
        );
      }
      return explicit;
    }
    const custom = this.partitioner?.({ topic, key, value }, meta);
    if (custom !== undefined) return custom;
    if (key !== null) return murmur2Partition(key, n);
    const available = () => meta.partitions.filter((p) => p && p.leader >= 0).map((p) => p.partition);
    const p = this.sticky.current(topic, n) ?? this.sticky.partition(topic, n, available());
    if (n === 1 || this.accumulator.fitsOpenBatch(topic, p, size)) return p;
    // The record would start a new batch: move on to another partition (KIP-480's onNewBatch).
    return this.sticky.next(topic, n, available(), p);
  }

  private async waitForMemory(size: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.maxBlockMs;
    while (this.accumulator.bufferedBytes + size > this.bufferMemory && this.accumulator.bufferedBytes > 0) {
      if (this.closed) return;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new KafkaTimeoutError(
          `no room in buffer.memory (${this.bufferMemory} bytes) within max.block.ms`,
        );
      }
      signal?.throwIfAborted();
      this.sender.wakeup();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.memoryWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * Sends everything buffered now, and the records of send() calls made before it that are still
   * waiting for metadata or buffer space, and resolves when each of those records is settled.
   */
  async flush(): Promise<void> {
    if (this.appendsInProgress.size > 0) await Promise.all(this.appendsInProgress);
    const batches = this.accumulator.allBatches();
    if (batches.length === 0) return;
    this.sender.flushing++;
    this.sender.wakeup();
    try {
      await Promise.all(batches.map((b) => b.done));
    } finally {
      this.sender.flushing--;
    }
    for (const w of this.memoryWaiters.splice(0)) w();
  }

  /**
   * Stops accepting records, delivers what is buffered (waiting up to timeoutMs), rejects what is
   * left with ClientClosedError, and closes the connections.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = (async () => {
      const timeoutMs = options.timeoutMs ?? this.maxBlockMs;
      let timer: NodeJS.Timeout | undefined;
      // Like Kafka's sender on a graceful close, an open transaction is aborted rather than left to
      // transaction.timeout.ms.
      const s = this.txn?.state;
      const finish =
        s === 'IN_TRANSACTION' || s === 'ABORTABLE_ERROR' || s === 'ABORTING_TRANSACTION'
          ? this.abortTransactionOnClose()
          : this.flush();
      await Promise.race([
        finish.catch(() => {}),
        new Promise<void>((r) => {
          timer = setTimeout(r, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      this.abandoned = true;
      this.sender.stop();
      this.txn?.close();
      for (const b of this.accumulator.allBatches()) {
        b.fail(new ClientClosedError('the producer closed before this record was acknowledged'));
        this.accumulator.remove(b);
      }
      for (const w of this.memoryWaiters.splice(0)) w();
      await this.cluster.close();
    })();
    return this.closing;
  }

  private async abortTransactionOnClose(): Promise<void> {
    const txn = this.txn as TransactionManager;
    txn.beginAbort();
    if (this.appendsInProgress.size > 0) await Promise.all(this.appendsInProgress);
    this.sender.failUnsent(new TransactionAbortedError('the producer closed during the transaction'));
    await Promise.all(this.accumulator.allBatches().map((b) => b.done));
    await txn.completeAbort();
  }
}
