// Kafka's RecordAccumulator: records wait here, per partition, in batches until the sender takes
// them. A batch is closed to appends when it reaches batch.size, when the sender drains it, or
// when it is retried (its bytes and sequence numbers must not change between attempts).
//
// Invariant: batches of a partition leave in the order they were created, and at most one batch
// per partition is in flight (the partition is "muted" meanwhile, as Kafka's guaranteeMessageOrder
// does), so a retried batch is always resent before any later batch: per-partition order survives
// retries, with or without idempotence.

import type { RecordInput } from '../protocol/records/types.js';

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1n when acks=0 (the broker does not say). */
  offset: bigint;
  /** The record's CreateTime, or the broker's LogAppendTime when the topic uses it. */
  timestamp: number;
}

interface RecordCallback {
  resolve: (m: RecordMetadata) => void;
  reject: (e: unknown) => void;
}

/** Size of a record in a batch, estimated from above (varint lengths at their widest). */
export function estimateRecordSize(r: RecordInput): number {
  let n = 21 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers ?? []) n += 10 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return n;
}

export const BATCH_OVERHEAD = 61;

export class ProducerBatch {
  readonly records: RecordInput[] = [];
  readonly callbacks: RecordCallback[] = [];
  sizeInBytes = BATCH_OVERHEAD;
  /** No more appends: full, drained, or being retried. */
  closed = false;
  attempts = 0;
  /** Not resent before this time (retry.backoff.ms after a failure). */
  retryAt = 0;
  /** Set when first drained with idempotence; kept across retries. -1 otherwise. */
  baseSequence = -1;
  producerId = -1n;
  producerEpoch = -1;
  /** The encoded batch, built once and resent as is. */
  encoded: Buffer | null = null;
  private settled = false;
  readonly done: Promise<void>;
  private markDone!: () => void;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdAt: number,
  ) {
    this.done = new Promise((r) => {
      this.markDone = r;
    });
  }

  append(record: RecordInput, size: number, cb: RecordCallback): void {
    this.records.push(record);
    this.callbacks.push(cb);
    this.sizeInBytes += size;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  complete(baseOffset: bigint, logAppendTime: bigint): void {
    if (this.settled) return;
    this.settled = true;
    for (let i = 0; i < this.records.length; i++) {
      this.callbacks[i].resolve({
        topic: this.topic,
        partition: this.partition,
        offset: baseOffset < 0n ? -1n : baseOffset + BigInt(i),
        timestamp: logAppendTime >= 0n ? Number(logAppendTime) : (this.records[i].timestamp ?? -1),
      });
    }
    this.markDone();
  }

  fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    for (const cb of this.callbacks) cb.reject(err);
    this.markDone();
  }
}

export class PartitionQueue {
  readonly batches: ProducerBatch[] = [];
  /** A batch of this partition is in flight: the next one waits (ordering). */
  muted = false;
}

export class RecordAccumulator {
  private readonly queues = new Map<string, PartitionQueue>();
  /** Records appended but not yet settled, in estimated bytes (buffer.memory accounting). */
  bufferedBytes = 0;

  constructor(private readonly batchSize: number) {}

  static key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  queue(topic: string, partition: number): PartitionQueue {
    const k = RecordAccumulator.key(topic, partition);
    let q = this.queues.get(k);
    if (!q) {
      q = new PartitionQueue();
      this.queues.set(k, q);
    }
    return q;
  }

  entries(): IterableIterator<[string, PartitionQueue]> {
    return this.queues.entries();
  }

  /** Whether a record of `size` bytes would join an open batch (rather than start a new one). */
  fitsOpenBatch(topic: string, partition: number, size: number): boolean {
    const q = this.queues.get(RecordAccumulator.key(topic, partition));
    const last = q?.batches[q.batches.length - 1];
    return last !== undefined && !last.closed && last.sizeInBytes + size <= this.batchSize;
  }

  /** Appends a record; returns the batch if it is now full (ready to send). */
  append(
    topic: string,
    partition: number,
    record: RecordInput,
    size: number,
    cb: RecordCallback,
    now: number,
  ): ProducerBatch | null {
    const q = this.queue(topic, partition);
    let last = q.batches[q.batches.length - 1];
    if (!last || last.closed || (last.records.length > 0 && last.sizeInBytes + size > this.batchSize)) {
      if (last) last.closed = true;
      last = new ProducerBatch(topic, partition, now);
      q.batches.push(last);
    }
    last.append(record, size, cb);
    this.bufferedBytes += size;
    if (last.sizeInBytes >= this.batchSize) {
      last.closed = true;
      return last;
    }
    return null;
  }

  /** Removes a settled batch from the front of its queue and frees its bytes. */
  remove(batch: ProducerBatch): void {
    const q = this.queues.get(RecordAccumulator.key(batch.topic, batch.partition));
    if (!q) return;
    const i = q.batches.indexOf(batch);
    if (i >= 0) q.batches.splice(i, 1);
    this.bufferedBytes -= batch.sizeInBytes - BATCH_OVERHEAD;
    if (q.batches.length === 0 && !q.muted)
      this.queues.delete(RecordAccumulator.key(batch.topic, batch.partition));
  }

  /** Every batch not yet settled (for flush and close). */
  allBatches(): ProducerBatch[] {
    const out: ProducerBatch[] = [];
    for (const q of this.queues.values()) out.push(...q.batches);
    return out;
  }

  get isEmpty(): boolean {
    for (const q of this.queues.values()) if (q.batches.length > 0) return false;
    return true;
  }
}
