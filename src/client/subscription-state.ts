// What a consumer reads (Kafka's SubscriptionState): the subscription (topics, a pattern, or a
// manual assignment) and, per assigned partition, its position (the offset of the next record to
// hand to the application, which is also the next offset to fetch), whether it is paused, and what
// the last fetch said about the log (high watermark, last stable offset, log start offset).
//
// The position only moves when records are handed out (or on seek/reset), never when they are
// merely fetched; so committing positions commits exactly what the application has received.

import { type TopicPartition, tpKey } from './consumer-protocol.js';

export type OffsetResetStrategy = 'earliest' | 'latest' | 'none';

export class TopicPartitionState {
  /** null until initialised from the committed offset or auto.offset.reset. */
  position: bigint | null = null;
  /** Leader epoch of the last record handed out (committed with the offset, KIP-320); -1 if none. */
  leaderEpoch = -1;
  paused = false;
  highWatermark = -1n;
  lastStableOffset = -1n;
  logStartOffset = -1n;
  /** Set by seekToBeginning/End: reset to this instead of the committed offset. */
  pendingReset: OffsetResetStrategy | null = null;
  /** Bumped on every seek: fetches started before it are discarded. */
  epoch = 0;

  constructor(readonly tp: TopicPartition) {}
}

export type SubscriptionKind = 'none' | 'topics' | 'pattern' | 'assigned';

export class SubscriptionState {
  kind: SubscriptionKind = 'none';
  /** Subscribed topics (for a pattern: the topics it currently matches). */
  topics = new Set<string>();
  pattern: RegExp | null = null;
  private readonly partitions = new Map<string, TopicPartitionState>();

  subscribe(topics: Iterable<string>): void {
    this.checkKind('topics');
    this.kind = 'topics';
    this.topics = new Set(topics);
    this.pattern = null;
  }

  subscribePattern(pattern: RegExp): void {
    this.checkKind('pattern');
    this.kind = 'pattern';
    this.pattern = pattern;
    this.topics = new Set();
  }

  /** Updates the topics a pattern matches; returns true if they changed. */
  matchPattern(allTopics: Iterable<string>): boolean {
    if (!this.pattern) return false;
    const matched = new Set<string>();
    for (const t of allTopics) {
      this.pattern.lastIndex = 0;
      if (this.pattern.test(t)) matched.add(t);
    }
    const changed = matched.size !== this.topics.size || [...matched].some((t) => !this.topics.has(t));
    this.topics = matched;
    return changed;
  }

  assignManually(tps: readonly TopicPartition[]): void {
    this.checkKind('assigned');
    this.kind = 'assigned';
    this.setAssignment(tps);
  }

  unsubscribe(): void {
    this.kind = 'none';
    this.topics.clear();
    this.pattern = null;
    this.partitions.clear();
  }

  private checkKind(kind: SubscriptionKind): void {
    if (this.kind !== 'none' && this.kind !== kind) {
      throw new Error(
        `the consumer is already using ${this.kind}: subscribe, subscribe to a pattern and assign are exclusive`,
      );
    }
  }

  /** Replaces the assignment; partitions kept keep their state (position, pause). */
  setAssignment(tps: readonly TopicPartition[]): void {
    const next = new Map<string, TopicPartitionState>();
    for (const tp of tps) {
      const k = tpKey(tp);
      next.set(
        k,
        this.partitions.get(k) ?? new TopicPartitionState({ topic: tp.topic, partition: tp.partition }),
      );
    }
    this.partitions.clear();
    for (const [k, s] of next) this.partitions.set(k, s);
  }

  addPartitions(tps: readonly TopicPartition[]): void {
    for (const tp of tps) {
      const k = tpKey(tp);
      if (!this.partitions.has(k))
        this.partitions.set(k, new TopicPartitionState({ topic: tp.topic, partition: tp.partition }));
    }
  }

  removePartitions(tps: readonly TopicPartition[]): void {
    for (const tp of tps) this.partitions.delete(tpKey(tp));
  }

  assigned(): TopicPartition[] {
    return [...this.partitions.values()].map((s) => s.tp);
  }

  states(): IterableIterator<TopicPartitionState> {
    return this.partitions.values();
  }

  state(tp: TopicPartition): TopicPartitionState | undefined {
    return this.partitions.get(tpKey(tp));
  }

  isAssigned(tp: TopicPartition): boolean {
    return this.partitions.has(tpKey(tp));
  }

  /** Requires the partition to be assigned (Kafka's IllegalStateException otherwise). */
  require(tp: TopicPartition): TopicPartitionState {
    const s = this.partitions.get(tpKey(tp));
    if (!s) throw new Error(`${tp.topic}-${tp.partition} is not assigned to this consumer`);
    return s;
  }

  seek(tp: TopicPartition, offset: bigint, leaderEpoch = -1): void {
    const s = this.require(tp);
    s.position = offset;
    s.leaderEpoch = leaderEpoch;
    s.pendingReset = null;
    s.epoch++;
  }

  requestReset(tp: TopicPartition, strategy: OffsetResetStrategy): void {
    const s = this.require(tp);
    s.position = null;
    s.pendingReset = strategy;
    s.epoch++;
  }
}
