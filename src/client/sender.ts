// Kafka's Sender: takes ready batches from the accumulator, groups them by partition leader into
// Produce requests, and settles every record from the answer, retrying what may be retried.
//
// A batch is ready when it is full or closed, when linger.ms has passed since it was created, or
// while a flush or close is waiting. At most max.in.flight.requests.per.connection Produce requests
// are in flight per broker, and at most one batch per partition (see record-accumulator.ts), so
// retries never reorder a partition. A batch that cannot be delivered within delivery.timeout.ms
// of its creation fails with KafkaTimeoutError.
//
// Event-driven rather than a polling thread: appends, answers and timers call wakeup(), and one
// pass (runOnce) sends what is ready and arms a timer for the next deadline (linger, backoff).

import type { CompressionType } from '../protocol/compression/types.js';
import { ErrorCode } from '../protocol/errors.js';
import type { ProduceRequest } from '../protocol/generated/messages/ProduceRequest.js';
import type { ProduceResponse } from '../protocol/generated/messages/ProduceResponse.js';
import { encodeRecordBatch } from '../protocol/records/encode.js';
import { ProduceApi } from './apis.js';
import type { Cluster } from './cluster.js';
import { KafkaConnectionError, KafkaError, KafkaTimeoutError } from './errors.js';
import type { ProducerIdManager } from './idempotence.js';
import { type ProducerBatch, RecordAccumulator } from './record-accumulator.js';

export interface SenderConfig {
  acks: number;
  lingerMs: number;
  maxRequestSize: number;
  maxInFlightPerConnection: number;
  retries: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  deliveryTimeoutMs: number;
  requestTimeoutMs: number;
  compression: CompressionType;
  compressionLevel?: number;
}

/** Errors after which the partition's leader may have moved: refresh metadata before retrying. */
const METADATA_ERRORS = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.KAFKA_STORAGE_ERROR,
]);

export class Sender {
  private readonly inFlightByNode = new Map<number, number>();
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  /** While > 0 every batch is ready regardless of linger.ms (flush and close). */
  flushing = 0;
  private stopped = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly accumulator: RecordAccumulator,
    private readonly idempotence: ProducerIdManager,
    private readonly config: SenderConfig,
  ) {}

  /** Runs a pass soon (coalesced: many wakeups in one tick make one pass). */
  wakeup(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.runOnce();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private armTimer(at: number): void {
    if (at === Number.POSITIVE_INFINITY || this.stopped) return;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.runOnce();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private runOnce(): void {
    if (this.stopped) return;
    if (this.idempotence.enabled && !this.idempotence.hasProducerId) {
      if (this.accumulator.isEmpty) return;
      this.idempotence.ensureProducerId().then(
        () => this.wakeup(),
        (err) => {
          // Without a producer id nothing can be sent idempotently: fail what is waiting.
          for (const b of this.accumulator.allBatches()) {
            if (!b.isSettled && b.attempts === 0) {
              b.fail(err);
              this.accumulator.remove(b);
            }
          }
        },
      );
      return;
    }
    const now = Date.now();
    let nextWake = Number.POSITIVE_INFINITY;
    let needMetadata = false;
    const byNode = new Map<number, ProducerBatch[]>();
    for (const [, q] of this.accumulator.entries()) {
      const batch = q.batches[0];
      if (!batch || q.muted) continue;
      // delivery.timeout.ms covers the time waiting here too.
      const expiresAt = batch.createdAt + this.config.deliveryTimeoutMs;
      if (now >= expiresAt) {
        this.expire(batch, now);
        nextWake = now;
        continue;
      }
      nextWake = Math.min(nextWake, expiresAt);
      if (batch.retryAt > now) {
        nextWake = Math.min(nextWake, batch.retryAt);
        continue;
      }
      const lingerDone = batch.createdAt + this.config.lingerMs;
      const ready = batch.closed || q.batches.length > 1 || now >= lingerDone || this.flushing > 0;
      if (!ready) {
        nextWake = Math.min(nextWake, lingerDone);
        continue;
      }
      const leader = this.cluster.leaderFor(batch.topic, batch.partition);
      if (leader < 0 || !this.cluster.broker(leader)) {
        needMetadata = true;
        nextWake = Math.min(nextWake, now + this.config.retryBackoffMs);
        continue;
      }
      let list = byNode.get(leader);
      if (!list) {
        list = [];
        byNode.set(leader, list);
      }
      list.push(batch);
    }
    if (needMetadata) this.cluster.requestUpdate();
    for (const [node, batches] of byNode) {
      if ((this.inFlightByNode.get(node) ?? 0) >= this.config.maxInFlightPerConnection) continue;
      // Fill one request up to max.request.size; the rest waits for the next pass.
      const chosen: ProducerBatch[] = [];
      let bytes = 0;
      for (const b of batches) {
        const size = this.encode(b).length;
        if (chosen.length > 0 && bytes + size > this.config.maxRequestSize) {
          nextWake = now;
          break;
        }
        chosen.push(b);
        bytes += size;
      }
      this.sendProduce(node, chosen);
    }
    this.armTimer(nextWake);
  }

  /** Encodes a batch once, at its first drain; retries resend the same bytes. */
  private encode(batch: ProducerBatch): Buffer {
    if (batch.encoded) return batch.encoded;
    batch.closed = true;
    if (this.idempotence.enabled && batch.baseSequence < 0) {
      batch.producerId = this.idempotence.producerId;
      batch.producerEpoch = this.idempotence.producerEpoch;
      batch.baseSequence = this.idempotence.nextSequence(
        RecordAccumulator.key(batch.topic, batch.partition),
        batch.records.length,
      );
    }
    batch.encoded = encodeRecordBatch(batch.records, {
      compression: this.config.compression,
      compressionLevel: this.config.compressionLevel,
      producerId: batch.producerId,
      producerEpoch: batch.producerEpoch,
      baseSequence: batch.baseSequence,
    });
    return batch.encoded;
  }

  private sendProduce(node: number, batches: ProducerBatch[]): void {
    for (const b of batches) {
      this.accumulator.queue(b.topic, b.partition).muted = true;
      b.attempts++;
    }
    const topics = new Map<string, ProduceRequest.PartitionProduceData[]>();
    for (const b of batches) {
      let parts = topics.get(b.topic);
      if (!parts) {
        parts = [];
        topics.set(b.topic, parts);
      }
      parts.push({ index: b.partition, records: b.encoded });
    }
    const request: ProduceRequest = {
      transactionalId: null,
      acks: this.config.acks,
      timeoutMs: this.config.requestTimeoutMs,
      topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
    };
    this.inFlightByNode.set(node, (this.inFlightByNode.get(node) ?? 0) + 1);
    const noResponse = this.config.acks === 0;
    this.cluster
      .send(node, ProduceApi, request, { noResponse })
      .then(
        (resp) => {
          if (noResponse) for (const b of batches) this.onBatchResult(b, ErrorCode.NONE, -1n, -1n, null);
          else this.onResponse(batches, resp as ProduceResponse);
        },
        (err) => {
          for (const b of batches) this.onBatchError(b, err);
        },
      )
      .finally(() => {
        this.inFlightByNode.set(node, (this.inFlightByNode.get(node) ?? 1) - 1);
        this.wakeup();
      });
  }

  private onResponse(batches: ProducerBatch[], resp: ProduceResponse): void {
    for (const b of batches) {
      const p = resp.responses
        .find((t) => t.name === b.topic)
        ?.partitionResponses.find((x) => x.index === b.partition);
      if (!p) {
        this.onBatchError(b, new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer for the partition'));
        continue;
      }
      this.onBatchResult(b, p.errorCode, p.baseOffset, p.logAppendTimeMs, p.errorMessage);
    }
  }

  private onBatchResult(
    b: ProducerBatch,
    code: number,
    baseOffset: bigint,
    logAppendTime: bigint,
    message: string | null,
  ): void {
    const q = this.accumulator.queue(b.topic, b.partition);
    if (code === ErrorCode.NONE || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
      // A duplicate was appended by an earlier attempt whose answer was lost: delivered.
      q.muted = false;
      b.complete(baseOffset, logAppendTime);
      this.accumulator.remove(b);
      return;
    }
    this.onBatchError(b, new KafkaError(code, message, undefined));
  }

  private onBatchError(b: ProducerBatch, err: unknown): void {
    const q = this.accumulator.queue(b.topic, b.partition);
    q.muted = false;
    const now = Date.now();
    const retriable = err instanceof KafkaError && err.retriable;
    const withinDeadline = now < b.createdAt + this.config.deliveryTimeoutMs;
    if (retriable && b.attempts <= this.config.retries && withinDeadline) {
      if (err instanceof KafkaConnectionError || METADATA_ERRORS.has(err.code)) this.cluster.requestUpdate();
      const backoff = Math.min(
        this.config.retryBackoffMs * 2 ** (b.attempts - 1),
        this.config.retryBackoffMaxMs,
      );
      b.retryAt = now + backoff * (0.8 + Math.random() * 0.4);
      this.cluster.logger.debug(
        { topic: b.topic, partition: b.partition, attempt: b.attempts, err: String(err) },
        'retrying produce',
      );
      return;
    }
    if (
      err instanceof KafkaError &&
      (err.code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER ||
        err.code === ErrorCode.UNKNOWN_PRODUCER_ID ||
        err.code === ErrorCode.INVALID_PRODUCER_EPOCH)
    ) {
      this.idempotence.reset();
    }
    b.fail(
      retriable && !withinDeadline
        ? new KafkaTimeoutError(
            `delivery.timeout.ms expired for ${b.records.length} record(s) of ${b.topic}-${b.partition}`,
            { cause: err },
          )
        : err,
    );
    this.accumulator.remove(b);
  }

  private expire(b: ProducerBatch, now: number): void {
    b.fail(
      new KafkaTimeoutError(
        `${b.records.length} record(s) for ${b.topic}-${b.partition} expired: ${now - b.createdAt} ms passed since batch creation (delivery.timeout.ms)`,
      ),
    );
    this.accumulator.remove(b);
  }
}
