// The idempotent producer's state (the non-transactional part of Kafka's TransactionManager): the
// producer id and epoch from InitProducerId, and the next sequence number per partition. A batch
// takes its sequence when first drained and keeps it on every retry, so a broker that already
// appended it recognises the resend as a duplicate instead of writing it twice.
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
  private readonly sequences = new Map<string, number>();
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
          this.sequences.clear();
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

  /** Takes `count` sequence numbers for a partition; returns the first. Sequences wrap at 2^31. */
  nextSequence(tp: string, count: number): number {
    const s = this.sequences.get(tp) ?? 0;
    this.sequences.set(tp, (s + count) % 0x80000000);
    return s;
  }

  /**
   * After a sequence error the broker and the client disagree; start over with a new producer id
   * (Kafka bumps the epoch; a new id gives the same clean slate).
   */
  reset(): void {
    this.producerId = -1n;
    this.producerEpoch = -1;
    this.sequences.clear();
  }
}
