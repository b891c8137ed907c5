// The idempotent producer's id and epoch (the non-transactional part of Kafka's TransactionManager),
// from InitProducerId. The sequence numbers live per partition in the accumulator's queues
// (record-accumulator.ts): a batch takes its sequence when first drained and keeps it on every
// retry, so a broker that already appended it recognises the resend as a duplicate instead of
// writing it twice. When the broker and the producer disagree on a partition's sequences, the
// sender bumps the epoch here, locally, as Kafka's idempotent producer does (KIP-360): a broker
// accepts a new epoch starting at sequence 0.
//
// Kafka's clients refuse to run idempotent against a broker without InitProducerId. Samsa's own
// broker does not serve it yet, so this client falls back to a non-idempotent producer and says so
// in a warning: `enabled` then turns false and batches carry no producer id or sequence.

import { ErrorCode } from '../protocol/errors.js';
import { InitProducerIdApi } from './apis.js';
import { type Cluster, sleep } from './cluster.js';
import { KafkaError } from './errors.js';

export class ProducerIdManager {
  producerId = -1n;
  producerEpoch = -1;
  private init: Promise<void> | null = null;

  constructor(
    private readonly cluster: Cluster,
    /** Whether the user asked for idempotence explicitly (then a missing API is an error). */
    private readonly explicit: boolean,
    public enabled: boolean,
  ) {}

  get hasProducerId(): boolean {
    return this.producerId >= 0n;
  }

  /** Gets a producer id once (or again after reset()); resolves with idempotence on or off. */
  ensureProducerId(signal?: AbortSignal): Promise<void> {
    if (!this.enabled || this.hasProducerId) return Promise.resolve();
    if (!this.init) {
      this.init = this.initProducerId(signal).finally(() => {
        this.init = null;
      });
    }
    return this.init;
  }

  private async initProducerId(signal?: AbortSignal): Promise<void> {
    if (!(await this.cluster.supports(InitProducerIdApi))) {
      const msg =
        'the broker does not support InitProducerId: idempotence is disabled, so a retried batch may be written twice';
      if (this.explicit) throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, msg);
      this.cluster.logger.warn({ clientId: this.cluster.clientId }, msg);
      this.enabled = false;
      return;
    }
    const deadline = Date.now() + this.cluster.requestTimeoutMs;
    for (;;) {
      let code: number;
      try {
        const resp = await this.cluster.sendAny(
          InitProducerIdApi,
          {
            ...InitProducerIdApi.request.default(),
            transactionalId: null,
            transactionTimeoutMs: 60_000,
          },
          { signal },
        );
        code = resp.errorCode;
        if (code === ErrorCode.NONE) {
          this.producerId = resp.producerId;
          this.producerEpoch = resp.producerEpoch;
          return;
        }
      } catch (err) {
        if (!(err instanceof KafkaError) || !err.retriable || Date.now() >= deadline) throw err;
        await sleep(this.cluster.retryBackoffMs, signal);
        continue;
      }
      const err = new KafkaError(code, 'InitProducerId failed');
      if (!err.retriable || Date.now() >= deadline) throw err;
      await sleep(this.cluster.retryBackoffMs, signal);
    }
  }

  /**
   * Bumps the epoch locally (Kafka's bumpIdempotentProducerEpoch); at the largest epoch, forgets the
   * producer id so that the next pass asks InitProducerId for a new one.
   */
  bumpEpoch(): void {
    if (this.producerEpoch >= 0x7fff) {
      this.producerId = -1n;
      this.producerEpoch = -1;
      return;
    }
    this.producerEpoch++;
    this.cluster.logger.info(
      { clientId: this.cluster.clientId, producerId: String(this.producerId), epoch: this.producerEpoch },
      'bumped the producer epoch',
    );
  }
}
