// Kafka's RecordAccumulator: records wait here, per partition, in batches until the sender takes
// them. A batch is closed to appends when it reaches batch.size, when the sender drains it, or
// when it is retried (its bytes and sequence numbers must not change between attempts).
//
// Each partition's queue holds every batch not yet settled, in creation order, which is also the
// order of their sequence numbers: the front ones may be in flight (up to
// max.in.flight.requests.per.connection of them, see sender.ts), the rest wait. A settled batch
// leaves the queue wherever it is. The queue also carries the partition's idempotence state (Kafka's
// TxnPartitionEntry): the producer id and epoch its sequences belong to, the next sequence, the
// last acknowledged one, and whether an epoch bump was asked for.
//
// Each record carries its own callback (a sink and an index): send() gathers a whole call's results
// in one array and one promise instead of a promise per record.

import type { CompressionType } from '../protocol/compression/types.js';
import { RecordBatchBuilder } from '../protocol/records/builder.js';
import { CRC_OFFSET, PRODUCER_ID_OFFSET } from '../protocol/records/constants.js';
import { computeRecordBatchCrc } from '../protocol/records/header.js';
import type { RecordInput } from '../protocol/records/types.js';

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1n when acks=0 (the broker does not say). */
  offset: bigint;
  /** The record's CreateTime, or the broker's LogAppendTime when the topic uses it. */
  timestamp: number;
}

/** Where a record's outcome goes: `index` is the record's position in its send() call. */
export interface RecordSink {
  delivered(index: number, metadata: RecordMetadata): void;
  failed(index: number, err: unknown): void;
  /**
   * Set for a sink that reads no RecordMetadata: deliveredWithoutMetadata(count) then replaces
   * `count` delivered() calls, and no metadata object or bigint offset is built per record.
   */
  deliveredWithoutMetadata?: (count: number) => void;
}

/** Size of a record in a batch, estimated from above (varint lengths at their widest). */
export function estimateRecordSize(r: RecordInput): number {
  let n = 21 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  const headers = r.headers;
  if (headers !== undefined)
    for (const h of headers) n += 10 + Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return n;
}

export const BATCH_OVERHEAD = 61;

export class ProducerBatch {
  /** The records, written as they are appended (no record objects are kept). */
  private readonly builder: RecordBatchBuilder;
  /**
   * Where each record's outcome goes, as runs: records runStart[r].. (up to the next run's start)
   * came from consecutive positions of one send() call, from runIndex[r] on, and go to runSink[r].
   */
  private readonly runSink: RecordSink[] = [];
  private readonly runIndex: number[] = [];
  private readonly runStart: number[] = [];
  /** Each record's timestamp, for its RecordMetadata. */
  private readonly timestamps: number[] = [];
  sizeInBytes = BATCH_OVERHEAD;
  /** No more appends: full, drained, or being retried. */
  closed = false;
  /** Times sent (an attempt counts when its request leaves). */
  attempts = 0;
  /** On the wire: sent, and neither answered nor failed yet. */
  inFlight = false;
  /** Not resent before this time (retry.backoff.ms after a failure). */
  retryAt = 0;
  /** Set when first drained with idempotence; kept across retries unless the epoch is bumped. -1 otherwise. */
  baseSequence = -1;
  producerId = -1n;
  producerEpoch = -1;
  /** The sequence was rewritten after an epoch bump (Kafka's sequenceHasBeenReset). */
  sequenceReset = false;
  /** The encoded batch, built once and resent as is. */
  encoded: Buffer | null = null;
  private settled = false;
  private doneWaiters: (() => void)[] | null = null;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdAt: number,
    /** Bytes the batch starts with (it grows as needed): batch.size, up to 64 KiB. */
    initialCapacity = 16_384,
  ) {
    this.builder = new RecordBatchBuilder(initialCapacity);
  }

  /**
   * Writes the record into the batch. `size` is its estimated size (estimateRecordSize), what
   * batch.size and buffer.memory count. Raises EncodeError (the batch unchanged) for a timestamp
   * that cannot be expressed against the batch's first one.
   */
  append(record: RecordInput, size: number, sink: RecordSink, index: number): void {
    const timestamp = record.timestamp ?? -1;
    const n = this.builder.recordCount;
    this.builder.append(timestamp, record.key, record.value, record.headers);
    const runs = this.runSink.length;
    if (
      runs === 0 ||
      this.runSink[runs - 1] !== sink ||
      this.runIndex[runs - 1] + (n - this.runStart[runs - 1]) !== index
    ) {
      this.runSink.push(sink);
      this.runIndex.push(index);
      this.runStart.push(n);
    }
    this.timestamps.push(timestamp);
    this.sizeInBytes += size;
  }

  /** The batch's bytes (v2, CRC included), with the producer state set by setProducerState. */
  build(
    compression: CompressionType,
    compressionLevel: number | undefined,
    isTransactional: boolean,
  ): Buffer {
    this.closed = true;
    return this.builder.build({
      compression,
      compressionLevel,
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      baseSequence: this.baseSequence,
      isTransactional,
    });
  }

  /** Bytes the batch's buffer holds. */
  get capacity(): number {
    return this.builder.capacity;
  }

  /** Bytes the batch's records and header take, uncompressed. */
  get bytesUsed(): number {
    return this.builder.sizeInBytes;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  get recordCount(): number {
    return this.builder.recordCount;
  }

  /** The last sequence of the batch (base + count - 1, wrapping at 2^31). */
  get lastSequence(): number {
    return (this.baseSequence + this.recordCount - 1) % 0x80000000;
  }

  /** Resolves once the batch is settled (flush and close wait on it). */
  get done(): Promise<void> {
    if (this.settled) return Promise.resolve();
    return new Promise((resolve) => {
      this.doneWaiters ??= [];
      this.doneWaiters.push(resolve);
    });
  }

  /**
   * Gives the batch a producer id, epoch and base sequence. An encoded batch is patched in place
   * (the three fields and the CRC that covers them): an epoch bump renumbers batches already sent.
   */
  setProducerState(producerId: bigint, producerEpoch: number, baseSequence: number): void {
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    this.baseSequence = baseSequence;
    const b = this.encoded;
    if (b !== null) {
      b.writeBigInt64BE(producerId, PRODUCER_ID_OFFSET);
      b.writeInt16BE(producerEpoch, PRODUCER_ID_OFFSET + 8);
      b.writeInt32BE(baseSequence, PRODUCER_ID_OFFSET + 10);
      b.writeUInt32BE(computeRecordBatchCrc(b), CRC_OFFSET);
    }
  }

  complete(baseOffset: bigint, logAppendTime: bigint): void {
    if (this.settled) return;
    this.settled = true;
    const { topic, partition, runSink, runIndex, runStart, timestamps } = this;
    const n = this.recordCount;
    const appendTime = logAppendTime >= 0n ? Number(logAppendTime) : -1;
    // Offsets as numbers while exact (every offset below 2^53), one bigint each at the end.
    const base = baseOffset < 0n ? -1 : baseOffset <= 9007199254740991n ? Number(baseOffset) : -2;
    for (let r = 0; r < runSink.length; r++) {
      const sink = runSink[r];
      const first = runStart[r];
      const end = r + 1 < runSink.length ? runStart[r + 1] : n;
      const index0 = runIndex[r] - first;
      if (sink.deliveredWithoutMetadata !== undefined) {
        sink.deliveredWithoutMetadata(end - first);
        continue;
      }
      for (let i = first; i < end; i++) {
        const offset = base === -1 ? -1n : base === -2 ? baseOffset + BigInt(i) : BigInt(base + i);
        sink.delivered(index0 + i, {
          topic,
          partition,
          offset,
          timestamp: appendTime >= 0 ? appendTime : timestamps[i],
        });
      }
    }
    this.markDone();
  }

  fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    const { runSink, runIndex, runStart } = this;
    const n = this.recordCount;
    for (let r = 0; r < runSink.length; r++) {
      const end = r + 1 < runSink.length ? runStart[r + 1] : n;
      for (let i = runStart[r]; i < end; i++) runSink[r].failed(runIndex[r] + i - runStart[r], err);
    }
    this.markDone();
  }

  private markDone(): void {
    const w = this.doneWaiters;
    this.doneWaiters = null;
    if (w !== null) for (const r of w) r();
  }
}

export class PartitionQueue {
  /** Unsettled batches in creation (and sequence) order; the front ones may be in flight. */
  readonly batches: ProducerBatch[] = [];
  /** Batches of this partition on the wire. */
  inFlight = 0;
  /** Bytes the partition's next batch starts with (see RecordAccumulator.sizeNextBatch). */
  nextBatchCapacity = 16_384;
  // Idempotence (Kafka's TxnPartitionEntry): the producer id and epoch of this partition's
  // sequences, the next sequence to hand out, and the last one the broker acknowledged.
  producerId = -1n;
  producerEpoch = -1;
  nextSequence = 0;
  lastAckedSequence = -1;
  /** The broker and this producer disagree on the sequences: bump the epoch and renumber. */
  epochBumpRequired = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Takes `count` sequence numbers; returns the first. Sequences wrap at 2^31. */
  takeSequence(count: number): number {
    const s = this.nextSequence;
    this.nextSequence = (s + count) % 0x80000000;
    return s;
  }

  /**
   * Starts this partition's sequences over at 0 under a new producer id and epoch (Kafka's
   * startSequencesAtBeginning): every batch that already has a sequence gets a new one, in order.
   */
  startSequencesAtBeginning(producerId: bigint, producerEpoch: number): void {
    let seq = 0;
    for (const b of this.batches) {
      if (b.baseSequence < 0) break;
      b.setProducerState(producerId, producerEpoch, seq);
      b.sequenceReset = true;
      seq += b.recordCount;
    }
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    this.nextSequence = seq;
    this.lastAckedSequence = -1;
    this.epochBumpRequired = false;
  }
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
      q = new PartitionQueue(topic, partition);
      q.nextBatchCapacity = Math.min(this.batchSize + BATCH_OVERHEAD, 65_536);
      this.queues.set(k, q);
    }
    return q;
  }

  partitions(): IterableIterator<PartitionQueue> {
    return this.queues.values();
  }

  /** Whether a record of `size` bytes would join an open batch (rather than start a new one). */
  fitsOpenBatch(topic: string, partition: number, size: number): boolean {
    const q = this.queues.get(RecordAccumulator.key(topic, partition));
    const last = q?.batches[q.batches.length - 1];
    return last !== undefined && !last.closed && last.sizeInBytes + size <= this.batchSize;
  }

  /** Appends a record to a partition's queue; returns true when that filled a batch (send it). */
  append(
    q: PartitionQueue,
    record: RecordInput,
    size: number,
    sink: RecordSink,
    index: number,
    now: number,
  ): boolean {
    let last = q.batches[q.batches.length - 1];
    if (!last || last.closed || (last.recordCount > 0 && last.sizeInBytes + size > this.batchSize)) {
      if (last) {
        last.closed = true;
        this.sizeNextBatch(q, last);
      }
      last = new ProducerBatch(q.topic, q.partition, now, q.nextBatchCapacity);
      q.batches.push(last);
    }
    try {
      last.append(record, size, sink, index);
    } catch (err) {
      // A record that cannot be written (its timestamp) must not leave an empty batch behind.
      if (last.recordCount === 0) q.batches.pop();
      throw err;
    }
    this.bufferedBytes += size;
    if (last.sizeInBytes >= this.batchSize) {
      last.closed = true;
      this.sizeNextBatch(q, last);
      return true;
    }
    return false;
  }

  /**
   * The buffer a partition's next batch starts with: what its last batch grew to while that one
   * used more than half of it, else half as much (down to min(batch.size, 64 KiB)). A busy
   * partition's batches then start at their full size instead of being regrown (and copied) from
   * a small start every time, and a partition that quietens down stops holding large buffers.
   */
  private sizeNextBatch(q: PartitionQueue, batch: ProducerBatch): void {
    const smallest = Math.min(this.batchSize + BATCH_OVERHEAD, 65_536);
    const capacity = batch.capacity;
    q.nextBatchCapacity = batch.bytesUsed * 2 > capacity ? capacity : Math.max(smallest, capacity >>> 1);
  }

  /** Removes a settled batch from its queue and frees its bytes. */
  remove(batch: ProducerBatch): void {
    const q = this.queues.get(RecordAccumulator.key(batch.topic, batch.partition));
    if (!q) return;
    const i = q.batches[0] === batch ? 0 : q.batches.indexOf(batch);
    if (i < 0) return;
    if (i === 0) q.batches.shift();
    else q.batches.splice(i, 1);
    this.bufferedBytes -= batch.sizeInBytes - BATCH_OVERHEAD;
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
