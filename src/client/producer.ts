// The producer (Kafka's KafkaProducer): send() serializes, partitions and appends records to the
// accumulator and resolves once the broker acknowledged them (or rejects with the reason they were
// not written); the sender (sender.ts) does the network side.
//
// Defaults are Kafka's: acks=all, linger.ms=5, batch.size=16384, retries=MAX_INT,
// delivery.timeout.ms=120000, max.in.flight.requests.per.connection=5, enable.idempotence=true
// (turned off, with a warning, when the broker lacks InitProducerId: see idempotence.ts).
// Like Kafka, idempotence left at its default is quietly disabled by acks other than all, and
// refused with an explicit enable.

import { type CompressionName, compressionTypeFromName } from '../protocol/compression/types.js';
import { ErrorCode } from '../protocol/errors.js';
import type { RecordInput } from '../protocol/records/types.js';
import { Cluster, type ClusterOptions, type TopicMetadata } from './cluster.js';
import { ClientClosedError, KafkaError, KafkaTimeoutError } from './errors.js';
import { ProducerIdManager } from './idempotence.js';
import { murmur2Partition, StickyPartitionCache } from './partitioner.js';
import { estimateRecordSize, RecordAccumulator, type RecordMetadata } from './record-accumulator.js';
import { Sender } from './sender.js';
import { type Bytes, defaultSerializer, type HeadersInput, type Serializer, toHeaders } from './serde.js';

export type { RecordMetadata } from './record-accumulator.js';

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
  /** max.in.flight.requests.per.connection (5). */
  maxInFlightRequestsPerConnection?: number;
  /** enable.idempotence (true). */
  idempotent?: boolean;
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
}

export class Producer<K = Bytes, V = Bytes> {
  readonly cluster: Cluster;
  private readonly accumulator: RecordAccumulator;
  private readonly sender: Sender;
  private readonly idempotence: ProducerIdManager;
  private readonly sticky = new StickyPartitionCache();
  private readonly keySerializer: Serializer<K>;
  private readonly valueSerializer: Serializer<V>;
  private readonly maxRequestSize: number;
  private readonly bufferMemory: number;
  private readonly maxBlockMs: number;
  private readonly partitioner: ProducerOptions<K, V>['partitioner'];
  private readonly memoryWaiters: (() => void)[] = [];
  private closed = false;
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
    this.idempotence = new ProducerIdManager(this.cluster, options.idempotent === true, idempotent);
    this.sender = new Sender(this.cluster, this.accumulator, this.idempotence, {
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
    });
    this.keySerializer = options.keySerializer ?? (defaultSerializer as Serializer<K>);
    this.valueSerializer = options.valueSerializer ?? (defaultSerializer as Serializer<V>);
    this.maxRequestSize = options.maxRequestSize ?? 1_048_576;
    this.bufferMemory = options.bufferMemory ?? 33_554_432;
    this.maxBlockMs = options.maxBlockMs ?? 60_000;
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
   * the order given, once all are acknowledged; rejects with the first failure (the other records
   * may still have been written). Records of one send() to one partition stay in order.
   */
  async send(request: SendRequest<K, V>): Promise<RecordMetadata[]> {
    if (this.closed) throw new ClientClosedError('the producer is closed');
    const { topic, messages, signal } = request;
    const [meta] = await this.cluster.waitForTopics([topic], this.maxBlockMs, signal);
    const now = Date.now();
    const results: Promise<RecordMetadata>[] = [];
    for (const m of messages) {
      const key = this.keySerializer(m.key as K, topic);
      const value = this.valueSerializer(m.value, topic);
      const timestamp =
        m.timestamp === undefined
          ? now
          : typeof m.timestamp === 'number'
            ? m.timestamp
            : m.timestamp.getTime();
      const record: RecordInput = { key, value, headers: toHeaders(m.headers), timestamp };
      const size = estimateRecordSize(record);
      if (size + 61 > this.maxRequestSize) {
        results.push(
          Promise.reject(
            new KafkaError(
              ErrorCode.MESSAGE_TOO_LARGE,
              `the record is ${size} bytes, more than max.request.size (${this.maxRequestSize})`,
            ),
          ),
        );
        continue;
      }
      if (this.accumulator.bufferedBytes + size > this.bufferMemory) await this.waitForMemory(size, signal);
      if (this.closed) {
        results.push(Promise.reject(new ClientClosedError('the producer closed during send')));
        continue;
      }
      const partition = this.choosePartition(topic, meta, key, value, m.partition, size);
      results.push(
        new Promise<RecordMetadata>((resolve, reject) => {
          const full = this.accumulator.append(topic, partition, record, size, { resolve, reject }, now);
          if (full) this.sender.wakeup();
        }),
      );
    }
    this.sender.wakeup();
    // Avoid unhandled rejections for records after the first failure: all are awaited here.
    const settled = await Promise.allSettled(results);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return settled.map((s) => (s as PromiseFulfilledResult<RecordMetadata>).value);
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
    const available = meta.partitions.filter((p) => p && p.leader >= 0).map((p) => p.partition);
    const p = this.sticky.partition(topic, n, available);
    if (this.accumulator.fitsOpenBatch(topic, p, size)) return p;
    // The record would start a new batch: move on to another partition (KIP-480's onNewBatch).
    return this.sticky.next(topic, n, available, p);
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

  /** Sends everything buffered now and resolves when each of those records is settled. */
  async flush(): Promise<void> {
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
      await Promise.race([
        this.flush().catch(() => {}),
        new Promise<void>((r) => {
          timer = setTimeout(r, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      this.sender.stop();
      for (const b of this.accumulator.allBatches()) {
        b.fail(new ClientClosedError('the producer closed before this record was acknowledged'));
        this.accumulator.remove(b);
      }
      for (const w of this.memoryWaiters.splice(0)) w();
      await this.cluster.close();
    })();
    return this.closing;
  }
}
