// Kafka's Sender: takes ready batches from the accumulator, groups them by partition leader into
// Produce requests, and settles every record from the answer, retrying what may be retried.
//
// A batch is ready when it is full or closed, when linger.ms has passed since it was created, or
// while a flush or close is waiting. At most max.in.flight.requests.per.connection Produce requests
// are in flight per broker, each with at most one batch per partition, and at most that many
// batches per partition are sent and unsettled, so a partition pipelines up to 5 batches (Kafka's
// default). Order within a partition:
// - Batches leave in creation order, and each takes its sequence numbers (with idempotence) when
//   first sent, so sequences follow the queue.
// - A failed batch is resent only once every batch before it is settled, and nothing after it is
//   sent meanwhile (Kafka's rule: a retried batch goes when its sequence is the first in flight).
//   A dropped connection fails all its requests in order, so they are resent one by one, in order.
// - With idempotence the broker refuses a batch whose sequence does not follow the last one it
//   appended (OUT_OF_ORDER_SEQUENCE_NUMBER), so a later batch that overtook a failed one is retried
//   behind it; a resend of an appended batch is answered as a duplicate, with its offsets.
// - Without idempotence and with more than one in flight, a batch refused by the broker while the
//   next one was appended can land after it, as in Kafka: max.in.flight.requests.per.connection=1
//   keeps order then.
//
// Epoch bumps (KIP-360, Kafka's idempotent producer): an OUT_OF_ORDER_SEQUENCE_NUMBER for the
// sequence right after the last acknowledged one, an UNKNOWN_PRODUCER_ID, or a sequenced batch that
// fails for good (its fate on the broker is unknown, so the next sequence may leave a gap) marks the
// partition. Once none of its batches is in flight, the producer epoch is bumped (once, locally)
// and the partition's unsettled batches are renumbered from 0 under the new epoch; other
// partitions move to the new epoch when their own sent batches have settled.
//
// A batch that cannot be delivered within delivery.timeout.ms of its creation fails with
// KafkaTimeoutError. Event-driven rather than a polling thread: appends, answers and timers call
// wakeup(), and one pass (runOnce) sends what is ready and arms a timer for the next deadline.

import type { CompressionType } from '../protocol/compression/types.js';
import { ErrorCode } from '../protocol/errors.js';
import type { ProduceRequest } from '../protocol/generated/messages/ProduceRequest.js';
import type { ProduceResponse } from '../protocol/generated/messages/ProduceResponse.js';
import { ProduceApi } from './apis.js';
import type { Cluster } from './cluster.js';
import { KafkaConnectionError, KafkaError, KafkaTimeoutError } from './errors.js';
import type { ProducerIdManager } from './idempotence.js';
import type { PartitionQueue, ProducerBatch, RecordAccumulator } from './record-accumulator.js';
import { PRODUCE_FATAL, type TransactionManager } from './transaction-manager.js';

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

/** What the sender has done, for tests and tools. */
export interface SenderStats {
  /** The most batches of one partition on the wire at once. */
  maxPartitionInFlight: number;
  /** Produce requests sent (retries included). */
  requests: number;
  /** Batches resent. */
  retries: number;
  /** Epoch bumps (KIP-360). */
  epochBumps: number;
}

type Ready = { q: PartitionQueue; batch: ProducerBatch };

export class Sender {
  private readonly inFlightByNode = new Map<number, number>();
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  /** While > 0 every batch is ready regardless of linger.ms (flush and close). */
  flushing = 0;
  private stopped = false;
  readonly stats: SenderStats = { maxPartitionInFlight: 0, requests: 0, retries: 0, epochBumps: 0 };

  constructor(
    private readonly cluster: Cluster,
    private readonly accumulator: RecordAccumulator,
    private readonly idempotence: ProducerIdManager,
    private readonly config: SenderConfig,
    /** The transaction manager of a transactional producer; null otherwise. */
    private readonly txn: TransactionManager | null = null,
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
    if (this.txn) {
      // Aborting, or the transaction (or the producer) failed: what was not sent never will be.
      const err = this.txn.unsentBatchError();
      if (err) this.failUnsent(err, this.txn.isFatal);
      // The producer id comes from initTransactions(), never from the sender.
      if (!this.idempotence.hasProducerId) return;
    } else if (this.idempotence.enabled && !this.idempotence.hasProducerId) {
      if (this.accumulator.isEmpty) return;
      this.idempotence.ensureProducerId().then(
        () => this.wakeup(),
        (err) => {
          // Without a producer id nothing can be sent idempotently: fail what was never sent.
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
    let nextWake = Number.POSITIVE_INFINITY;
    // Several requests per pass while batches are ready and the broker has room: that is what fills
    // a partition's pipeline.
    for (let round = 0; round <= this.config.maxInFlightPerConnection; round++) {
      const r = this.drainOnce();
      nextWake = Math.min(nextWake, r.nextWake);
      if (!r.sent) break;
    }
    this.armTimer(nextWake);
  }

  /** One pass over the partitions: at most one request per broker. */
  private drainOnce(): { sent: boolean; nextWake: number } {
    const now = Date.now();
    const idempotent = this.idempotence.enabled;
    const maxInFlight = this.config.maxInFlightPerConnection;
    let nextWake = Number.POSITIVE_INFINITY;
    let needMetadata = false;
    const byNode = new Map<number, Ready[]>();
    for (const q of this.accumulator.partitions()) {
      const batches = q.batches;
      if (batches.length === 0) continue;
      if (idempotent && q.epochBumpRequired) {
        if (q.inFlight > 0) continue;
        this.bumpEpoch(q);
        if (!this.idempotence.hasProducerId) {
          // The epoch ran out: a new producer id first.
          this.wakeup();
          return { sent: false, nextWake };
        }
      }
      // In a transaction, a partition's batches wait until AddPartitionsToTxn added it.
      if (this.txn?.needsPartition(q.topic, q.partition)) {
        // delivery.timeout.ms covers this wait too.
        const first = batches[0];
        const expiresAt = first.createdAt + this.config.deliveryTimeoutMs;
        if (now >= expiresAt) {
          this.expire(q, first, now);
          nextWake = now;
        } else nextWake = Math.min(nextWake, expiresAt);
        continue;
      }
      // The first batch not on the wire is the candidate; the ones before it are in flight.
      let k = 0;
      while (k < batches.length && batches[k].inFlight) k++;
      if (k === batches.length) continue;
      const batch = batches[k];
      if (batch.attempts > 0) {
        // A retry waits until every batch before it is settled.
        if (k !== 0) continue;
      } else {
        if (k >= maxInFlight) continue;
        if (
          idempotent &&
          (q.producerId !== this.idempotence.producerId || q.producerEpoch !== this.idempotence.producerEpoch)
        ) {
          // Sequences of an older epoch still in flight: the new epoch starts at 0 after them.
          if (k > 0) continue;
          q.startSequencesAtBeginning(this.idempotence.producerId, this.idempotence.producerEpoch);
        }
      }
      // delivery.timeout.ms covers the time waiting here too.
      const expiresAt = batch.createdAt + this.config.deliveryTimeoutMs;
      if (now >= expiresAt) {
        this.expire(q, batch, now);
        nextWake = now;
        continue;
      }
      nextWake = Math.min(nextWake, expiresAt);
      if (batch.retryAt > now) {
        nextWake = Math.min(nextWake, batch.retryAt);
        continue;
      }
      const lingerDone = batch.createdAt + this.config.lingerMs;
      const ready = batch.closed || k < batches.length - 1 || now >= lingerDone || this.flushing > 0;
      if (!ready) {
        nextWake = Math.min(nextWake, lingerDone);
        continue;
      }
      const leader = this.cluster.leaderFor(q.topic, q.partition);
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
      list.push({ q, batch });
    }
    if (needMetadata) this.cluster.requestUpdate();
    // The partitions met for the first time in this transaction go out in one AddPartitionsToTxn.
    this.txn?.maybeSendAddPartitions();
    let sent = false;
    for (const [node, ready] of byNode) {
      if ((this.inFlightByNode.get(node) ?? 0) >= maxInFlight) continue;
      // Fill one request up to max.request.size; the rest waits for the next round.
      const chosen: Ready[] = [];
      let bytes = 0;
      for (const r of ready) {
        const size = this.encode(r.q, r.batch).length;
        if (chosen.length > 0 && bytes + size > this.config.maxRequestSize) {
          nextWake = now;
          break;
        }
        chosen.push(r);
        bytes += size;
      }
      this.sendProduce(node, chosen);
      sent = true;
    }
    return { sent, nextWake };
  }

  /** Bumps the epoch for a partition whose sequences went wrong (once per epoch) and renumbers it. */
  private bumpEpoch(q: PartitionQueue): void {
    const idem = this.idempotence;
    if (q.producerId === idem.producerId && q.producerEpoch === idem.producerEpoch) {
      idem.bumpEpoch();
      this.stats.epochBumps++;
    }
    if (!idem.hasProducerId) return;
    q.startSequencesAtBeginning(idem.producerId, idem.producerEpoch);
  }

  /** Encodes a batch once, at its first drain; retries resend the same bytes. */
  private encode(q: PartitionQueue, batch: ProducerBatch): Buffer {
    if (batch.encoded) return batch.encoded;
    batch.closed = true;
    if (this.idempotence.enabled && batch.baseSequence < 0) {
      batch.setProducerState(q.producerId, q.producerEpoch, q.takeSequence(batch.recordCount));
    }
    batch.encoded = batch.build(this.config.compression, this.config.compressionLevel, this.txn !== null);
    return batch.encoded;
  }

  private sendProduce(node: number, ready: Ready[]): void {
    const topics = new Map<string, ProduceRequest.PartitionProduceData[]>();
    for (const { q, batch: b } of ready) {
      if (b.attempts > 0) this.stats.retries++;
      b.attempts++;
      b.inFlight = true;
      q.inFlight++;
      if (q.inFlight > this.stats.maxPartitionInFlight) this.stats.maxPartitionInFlight = q.inFlight;
      let parts = topics.get(b.topic);
      if (!parts) {
        parts = [];
        topics.set(b.topic, parts);
      }
      parts.push({ index: b.partition, records: b.encoded });
    }
    const request: ProduceRequest = {
      transactionalId: this.txn?.transactionalId ?? null,
      acks: this.config.acks,
      timeoutMs: this.config.requestTimeoutMs,
      topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
    };
    this.stats.requests++;
    this.inFlightByNode.set(node, (this.inFlightByNode.get(node) ?? 0) + 1);
    const noResponse = this.config.acks === 0;
    this.cluster
      .send(node, ProduceApi, request, { noResponse })
      .then(
        (resp) => {
          for (const r of ready) this.landed(r);
          if (noResponse) for (const r of ready) this.onBatchResult(r, ErrorCode.NONE, -1n, -1n, null);
          else this.onResponse(ready, resp as ProduceResponse);
        },
        (err) => {
          for (const r of ready) this.landed(r);
          for (const r of ready) this.onBatchError(r, err);
        },
      )
      .finally(() => {
        this.inFlightByNode.set(node, (this.inFlightByNode.get(node) ?? 1) - 1);
        this.wakeup();
      });
  }

  private landed({ q, batch }: Ready): void {
    batch.inFlight = false;
    q.inFlight--;
  }

  private onResponse(ready: Ready[], resp: ProduceResponse): void {
    for (const r of ready) {
      const b = r.batch;
      let p: ProduceResponse.PartitionProduceResponse | undefined;
      for (const t of resp.responses) {
        if (t.name !== b.topic) continue;
        for (const x of t.partitionResponses) if (x.index === b.partition) p = x;
      }
      if (!p) {
        this.onBatchError(r, new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer for the partition'));
        continue;
      }
      this.onBatchResult(r, p.errorCode, p.baseOffset, p.logAppendTimeMs, p.errorMessage);
    }
  }

  private onBatchResult(
    r: Ready,
    code: number,
    baseOffset: bigint,
    logAppendTime: bigint,
    message: string | null,
  ): void {
    const { q, batch: b } = r;
    if (code === ErrorCode.NONE || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
      // A duplicate was appended by an earlier attempt whose answer was lost: delivered.
      if (b.baseSequence >= 0 && b.producerId === q.producerId && b.producerEpoch === q.producerEpoch)
        q.lastAckedSequence = b.lastSequence;
      b.complete(baseOffset, logAppendTime);
      this.accumulator.remove(b);
      return;
    }
    this.onBatchError(r, new KafkaError(code, message, undefined));
  }

  /**
   * Whether a sequenced batch's error may be retried (Kafka's TransactionManager.canRetry for an
   * idempotent producer); marks the partition for an epoch bump where the sequences went wrong.
   */
  private canRetrySequenced(q: PartitionQueue, b: ProducerBatch, code: number): boolean {
    const current = b.producerId === q.producerId && b.producerEpoch === q.producerEpoch;
    if (this.txn) {
      // Transactional (Kafka's canRetry): only a batch that overtook a failed one is resent; a gap
      // or a lost producer fails the batch, so the transaction, and the abort bumps the epoch.
      return (
        code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER &&
        !b.sequenceReset &&
        b.baseSequence !== (q.lastAckedSequence + 1) % 0x80000000
      );
    }
    if (code === ErrorCode.UNKNOWN_PRODUCER_ID) {
      // The broker lost this producer's state: start the partition over under a new epoch.
      if (!b.sequenceReset && current) q.epochBumpRequired = true;
      return true;
    }
    if (code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER) {
      // A batch that is not the next one overtook an earlier batch that failed: resend it in turn.
      // The next one refused means a gap on the broker: bump the epoch.
      if (b.sequenceReset || b.baseSequence !== (q.lastAckedSequence + 1) % 0x80000000) return true;
      if (current) q.epochBumpRequired = true;
      return true;
    }
    return false;
  }

  private onBatchError(r: Ready, err: unknown): void {
    const { q, batch: b } = r;
    const now = Date.now();
    const code = err instanceof KafkaError ? err.code : -1;
    const sequenced = this.idempotence.enabled && b.baseSequence >= 0;
    if (this.txn && PRODUCE_FATAL.has(code)) {
      // Fenced by a newer producer with the same transactional.id (or not authorised): fatal.
      this.failBatch(q, b, this.txn.fatalFromProduce(code, err instanceof KafkaError ? err.message : null));
      return;
    }
    const withinDeadline = now < b.createdAt + this.config.deliveryTimeoutMs;
    const mayRetry = b.attempts <= this.config.retries && withinDeadline;
    const retriable =
      (err instanceof KafkaError && err.retriable) || (sequenced && this.canRetrySequenced(q, b, code));
    if (retriable && mayRetry) {
      if (err instanceof KafkaConnectionError || METADATA_ERRORS.has(code)) this.cluster.requestUpdate();
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
    this.failBatch(
      q,
      b,
      retriable && !withinDeadline
        ? new KafkaTimeoutError(
            `delivery.timeout.ms expired for ${b.recordCount} record(s) of ${b.topic}-${b.partition}`,
            { cause: err },
          )
        : err,
    );
  }

  private failBatch(q: PartitionQueue, b: ProducerBatch, err: unknown): void {
    if (this.txn) {
      // The transaction cannot commit now (or the producer is done, for a fatal error); the
      // broker's sequences are unknown after a sequenced batch failed: the abort bumps the epoch.
      this.txn.batchFailed(err, b.baseSequence >= 0);
      b.fail(err);
      this.accumulator.remove(b);
      return;
    }
    // A sequenced batch that fails for good leaves the broker's next sequence unknown: the later
    // batches of the partition start over under a new epoch (Kafka's idempotent producer).
    if (this.idempotence.enabled && b.baseSequence >= 0 && b.producerEpoch === q.producerEpoch)
      q.epochBumpRequired = true;
    b.fail(err);
    this.accumulator.remove(b);
  }

  /**
   * Fails the batches not on the wire: never sent ones (a transaction being aborted or in error),
   * and with `all` the ones waiting for a retry too (a fatal error: nothing more will be sent).
   */
  failUnsent(err: Error, all = false): void {
    const fail: ProducerBatch[] = [];
    for (const q of this.accumulator.partitions()) {
      for (const b of q.batches) if (!b.inFlight && (all || b.attempts === 0)) fail.push(b);
    }
    for (const b of fail) {
      // A batch given a sequence but never sent leaves a gap: the abort bumps the epoch.
      if (b.baseSequence >= 0 && this.txn) this.txn.epochBumpRequired = true;
      b.fail(err);
      this.accumulator.remove(b);
    }
  }

  private expire(q: PartitionQueue, b: ProducerBatch, now: number): void {
    this.failBatch(
      q,
      b,
      new KafkaTimeoutError(
        `${b.recordCount} record(s) for ${b.topic}-${b.partition} expired: ${now - b.createdAt} ms passed since batch creation (delivery.timeout.ms)`,
      ),
    );
  }
}
