// The consumer (Kafka's classic KafkaConsumer): subscribe to topics or a pattern with a group, or
// assign partitions by hand; poll() hands out records in offset order per partition, and is also
// where rebalances, position initialisation (committed offset, else auto.offset.reset) and
// auto-commits happen, as in Kafka. On top of poll: an async iterator over single records
// (`for await (const r of consumer)`) and run({ eachBatch }) with per-partition batches.
//
// Commit semantics: a partition's position is the offset after the last record handed to the
// application; commit() and auto-commit commit positions. The iterator hands out one record at a
// time, so a commit never covers a record the loop has not reached yet.

import { ErrorCode } from '../protocol/errors.js';
import type { RecordHeader } from '../protocol/records/types.js';
import { BUILTIN_ASSIGNORS, type PartitionAssignor } from './assignors.js';
import { Cluster, type ClusterOptions } from './cluster.js';
import {
  type CommittedOffset,
  ConsumerCoordinator,
  type CoordinatorHost,
  type OffsetToCommit,
} from './consumer-coordinator.js';
import { ConsumerMembershipManager } from './consumer-membership.js';
import { type TopicPartition, tpKey } from './consumer-protocol.js';
import { ClientClosedError, KafkaError } from './errors.js';
import { type FetchedRecord, Fetcher, type TimestampTypeName } from './fetcher.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, listOffsets } from './list-offsets.js';
import type { Deserializer } from './serde.js';
import { type OffsetResetStrategy, SubscriptionState } from './subscription-state.js';

export type { TopicPartition } from './consumer-protocol.js';
export type { OffsetResetStrategy } from './subscription-state.js';

export interface ConsumerOptions<K = Buffer | null, V = Buffer | null> extends ClusterOptions {
  /** group.id: needed for subscribe() and for commits. */
  groupId?: string;
  /**
   * group.protocol: 'classic' (JoinGroup/SyncGroup, client-side assignors; the default) or
   * 'consumer' (KIP-848: ConsumerGroupHeartbeat, the broker assigns; partitionAssignors,
   * sessionTimeoutMs and heartbeatIntervalMs are then the broker's business and ignored).
   */
  groupProtocol?: 'classic' | 'consumer';
  /** group.remote.assignor: the broker-side assignor a 'consumer' member asks for (uniform, range). */
  groupRemoteAssignor?: string;
  /** group.instance.id: static membership (KIP-345). */
  groupInstanceId?: string;
  /** session.timeout.ms (45000). */
  sessionTimeoutMs?: number;
  /** heartbeat.interval.ms (3000). */
  heartbeatIntervalMs?: number;
  /** max.poll.interval.ms (300000), also the rebalance timeout. */
  maxPollIntervalMs?: number;
  /** partition.assignment.strategy ([range, cooperative-sticky], Kafka's default). */
  partitionAssignors?: (keyof typeof BUILTIN_ASSIGNORS | PartitionAssignor)[];
  /** auto.offset.reset (latest). */
  autoOffsetReset?: OffsetResetStrategy;
  /** enable.auto.commit (true with a group id). */
  enableAutoCommit?: boolean;
  /** auto.commit.interval.ms (5000). */
  autoCommitIntervalMs?: number;
  /** fetch.min.bytes (1), fetch.max.bytes (52428800), fetch.max.wait.ms (500). */
  fetchMinBytes?: number;
  fetchMaxBytes?: number;
  fetchMaxWaitMs?: number;
  /** max.partition.fetch.bytes (1048576). */
  maxPartitionFetchBytes?: number;
  /** max.poll.records (500). */
  maxPollRecords?: number;
  /** isolation.level (read_uncommitted). */
  isolationLevel?: 'read_uncommitted' | 'read_committed';
  /** check.crcs (true). */
  checkCrcs?: boolean;
  /** client.rack, sent in the subscription (for rack-aware assignors). */
  rackId?: string;
  keyDeserializer?: Deserializer<K>;
  valueDeserializer?: Deserializer<V>;
}

export interface ConsumerRecord<K = Buffer | null, V = Buffer | null> {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: number;
  timestampType: TimestampTypeName;
  key: K;
  value: V;
  headers: RecordHeader[];
  leaderEpoch: number;
}

export interface RebalanceListener {
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  /** Membership was lost (fenced, expired); defaults to onPartitionsRevoked, as in Kafka. */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

export interface SubscribeOptions {
  topics?: string[];
  pattern?: RegExp;
  listener?: RebalanceListener;
}

export interface AssignOptions extends TopicPartition {
  /** Start here instead of at the committed offset or auto.offset.reset. */
  offset?: bigint | number;
}

export interface Batch<K, V> {
  topic: string;
  partition: number;
  records: ConsumerRecord<K, V>[];
  highWatermark: bigint;
}

export interface CommitOffset extends TopicPartition {
  offset: bigint | number;
  metadata?: string | null;
  leaderEpoch?: number;
}

export class Consumer<K = Buffer | null, V = Buffer | null> implements AsyncIterable<ConsumerRecord<K, V>> {
  readonly cluster: Cluster;
  private readonly subscriptions = new SubscriptionState();
  private readonly fetcher: Fetcher;
  private readonly coordinator: ConsumerCoordinator | ConsumerMembershipManager | null;
  private listener: RebalanceListener = {};
  private readonly autoOffsetReset: OffsetResetStrategy;
  private readonly autoCommit: boolean;
  private readonly autoCommitIntervalMs: number;
  private nextAutoCommitAt: number;
  private readonly maxPollRecords: number;
  private readonly isolationLevel: number;
  private readonly keyDeserializer: Deserializer<K>;
  private readonly valueDeserializer: Deserializer<V>;
  /** No deserializers: the fetched records are handed out as they are (one object less each). */
  private readonly rawRecords: boolean;
  private waiter: (() => void) | null = null;
  private woken = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly unsubscribeMetadata: () => void;

  constructor(options: ConsumerOptions<K, V>) {
    this.cluster = new Cluster({ ...options, clientId: options.clientId ?? 'samsa-consumer' });
    this.autoOffsetReset = options.autoOffsetReset ?? 'latest';
    this.autoCommit = (options.enableAutoCommit ?? true) && options.groupId !== undefined;
    this.autoCommitIntervalMs = options.autoCommitIntervalMs ?? 5000;
    this.nextAutoCommitAt = Date.now() + this.autoCommitIntervalMs;
    this.maxPollRecords = options.maxPollRecords ?? 500;
    this.isolationLevel = options.isolationLevel === 'read_committed' ? 1 : 0;
    this.keyDeserializer = options.keyDeserializer ?? ((b) => b as K);
    this.valueDeserializer = options.valueDeserializer ?? ((b) => b as V);
    this.rawRecords = options.keyDeserializer === undefined && options.valueDeserializer === undefined;
    this.fetcher = new Fetcher(
      this.cluster,
      this.subscriptions,
      {
        minBytes: options.fetchMinBytes ?? 1,
        maxBytes: options.fetchMaxBytes ?? 52_428_800,
        maxWaitMs: options.fetchMaxWaitMs ?? 500,
        maxPartitionFetchBytes: options.maxPartitionFetchBytes ?? 1_048_576,
        isolationLevel: this.isolationLevel,
        checkCrcs: options.checkCrcs ?? true,
      },
      () => this.wakeup(),
    );
    const assignors = (options.partitionAssignors ?? ['range', 'cooperative-sticky']).map((a) => {
      if (typeof a !== 'string') return a;
      const found = BUILTIN_ASSIGNORS[a];
      if (!found) throw new TypeError(`unknown partition assignor ${a}`);
      return found;
    });
    const host: CoordinatorHost = {
      subscribedTopics: () => [...this.subscriptions.topics],
      ownedPartitions: () => this.subscriptions.assigned(),
      partitionCounts: (topics) => this.partitionCounts(topics),
      commitBeforeRevoke: () => this.commitBeforeRevoke(),
      onRevoked: (tps) => this.revoke(tps, false),
      onAssigned: (all, added) => this.onAssigned(all, added),
      onLost: (tps) => this.revoke(tps, true),
      wakeup: () => this.wakeup(),
    };
    if (options.groupId === undefined) {
      this.coordinator = null;
    } else if (options.groupProtocol === 'consumer') {
      this.coordinator = new ConsumerMembershipManager(
        this.cluster,
        {
          groupId: options.groupId,
          groupInstanceId: options.groupInstanceId ?? null,
          rebalanceTimeoutMs: options.maxPollIntervalMs ?? 300_000,
          serverAssignor: options.groupRemoteAssignor ?? null,
          rackId: options.rackId ?? null,
        },
        host,
      );
    } else {
      this.coordinator = new ConsumerCoordinator(
        this.cluster,
        {
          groupId: options.groupId,
          groupInstanceId: options.groupInstanceId ?? null,
          sessionTimeoutMs: options.sessionTimeoutMs ?? 45_000,
          rebalanceTimeoutMs: options.maxPollIntervalMs ?? 300_000,
          heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3000,
          assignors,
          rackId: options.rackId ?? null,
        },
        host,
      );
    }
    this.unsubscribeMetadata = this.cluster.onMetadataUpdate(() => this.onMetadataUpdate());
    this.cluster.startPeriodicRefresh();
  }

  // ---- subscription ----

  /** Joins the group for these topics (or every topic matching the pattern). */
  subscribe(options: SubscribeOptions): void {
    this.ensureOpen();
    if (!this.coordinator) throw new TypeError('subscribe() needs a groupId');
    if (options.pattern) {
      this.subscriptions.subscribePattern(options.pattern);
      this.cluster.setWantAllTopics(true);
      this.subscriptions.matchPattern(this.cluster.knownTopics());
    } else if (options.topics && options.topics.length > 0) {
      this.subscriptions.subscribe(options.topics);
      this.cluster.addInterest(options.topics);
    } else {
      throw new TypeError('subscribe() needs topics or a pattern');
    }
    this.listener = options.listener ?? {};
    this.coordinator.requestRejoin('subscription changed');
  }

  /** Reads these partitions without a group rebalance (commits still go to groupId, if set). */
  assign(partitions: AssignOptions[]): void {
    this.ensureOpen();
    this.subscriptions.assignManually(partitions.map((p) => ({ topic: p.topic, partition: p.partition })));
    this.fetcher.clearBuffered();
    this.cluster.addInterest(partitions.map((p) => p.topic));
    for (const p of partitions) if (p.offset !== undefined) this.subscriptions.seek(p, BigInt(p.offset));
    this.wakeup();
  }

  async unsubscribe(): Promise<void> {
    if (this.coordinator && this.subscriptions.kind !== 'assigned') {
      await this.revoke(this.subscriptions.assigned(), false);
      await this.coordinator.leaveGroup('the consumer unsubscribed');
    }
    this.subscriptions.unsubscribe();
    this.fetcher.clearBuffered();
    this.cluster.setWantAllTopics(false);
  }

  assignment(): TopicPartition[] {
    return this.subscriptions.assigned();
  }

  /** Group membership, for diagnostics and tests. */
  get groupMetadata(): {
    groupId: string;
    memberId: string;
    generationId: number;
    protocol: string | null;
  } | null {
    const c = this.coordinator;
    return c
      ? { groupId: c.groupId, memberId: c.memberId, generationId: c.generationId, protocol: c.protocolName }
      : null;
  }

  // ---- polling ----

  /**
   * Records ready for the application (at most max.poll.records), waiting up to timeoutMs for
   * some. Rebalances and auto-commits happen here.
   */
  async poll(
    options: { timeoutMs?: number; signal?: AbortSignal; maxRecords?: number } = {},
  ): Promise<ConsumerRecord<K, V>[]> {
    this.ensureOpen();
    const deadline = Date.now() + (options.timeoutMs ?? 1000);
    const max = options.maxRecords ?? this.maxPollRecords;
    for (;;) {
      if (this.coordinator) this.coordinator.lastPollAt = Date.now();
      await this.updateAssignment(options.signal);
      if (this.closed) return [];
      const err = this.fetcher.errors.shift();
      if (err) throw err;
      const fetched = this.fetcher.drain(max);
      // Fetch ahead while the application processes these.
      this.fetcher.sendFetches();
      if (fetched.length > 0) {
        return this.rawRecords
          ? (fetched as unknown as ConsumerRecord<K, V>[])
          : fetched.map((r) => this.deserialize(r));
      }
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await this.waitForWakeup(left, options.signal);
      if (this.closed) return [];
    }
  }

  private deserialize(r: FetchedRecord): ConsumerRecord<K, V> {
    return {
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      timestampType: r.timestampType,
      key: this.keyDeserializer(r.key, r.topic),
      value: this.valueDeserializer(r.value, r.topic),
      headers: r.headers,
      leaderEpoch: r.leaderEpoch,
    };
  }

  /**
   * One record at a time until close() or the signal fires. Records are polled a batch at a time;
   * if the loop stops in the middle of one (break, return, throw), each partition is sought back
   * to its first record not yet handed out, so the position (what commit() commits) is right
   * after the last record the caller saw.
   */
  async *records(options: { signal?: AbortSignal } = {}): AsyncGenerator<ConsumerRecord<K, V>> {
    while (!this.closed && !options.signal?.aborted) {
      const batch = await this.poll({ timeoutMs: 1000, signal: options.signal });
      let i = 0;
      try {
        for (; i < batch.length; i++) yield batch[i];
      } finally {
        // i is the record the caller stopped at (already handed out), or batch.length when done.
        if (i < batch.length - 1 && !this.closed) this.rewind(batch.slice(i + 1));
      }
    }
  }

  /** Seeks each partition of `unread` back to its first record in it (records in offset order). */
  private rewind(unread: ConsumerRecord<K, V>[]): void {
    const first = new Map<string, ConsumerRecord<K, V>>();
    for (const r of unread) if (!first.has(tpKey(r))) first.set(tpKey(r), r);
    for (const r of first.values()) {
      if (this.subscriptions.isAssigned(r)) this.seek(r, r.offset);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<ConsumerRecord<K, V>> {
    return this.records();
  }

  /**
   * Calls eachBatch with each partition's records, in order, until close() or the signal. If it
   * throws, the failed batch (and any not yet handled) is sought back, so that it is consumed
   * again, and run() rejects with the error.
   */
  async run(options: {
    eachBatch: (batch: Batch<K, V>) => void | Promise<void>;
    signal?: AbortSignal;
  }): Promise<void> {
    while (!this.closed && !options.signal?.aborted) {
      let records: ConsumerRecord<K, V>[];
      try {
        records = await this.poll({ timeoutMs: 1000, signal: options.signal });
      } catch (err) {
        if (options.signal?.aborted || this.closed) return;
        throw err;
      }
      const batches = new Map<string, Batch<K, V>>();
      for (const r of records) {
        const k = tpKey(r);
        let b = batches.get(k);
        if (!b) {
          const s = this.subscriptions.state(r);
          b = { topic: r.topic, partition: r.partition, records: [], highWatermark: s?.highWatermark ?? -1n };
          batches.set(k, b);
        }
        b.records.push(r);
      }
      const list = [...batches.values()];
      for (let i = 0; i < list.length; i++) {
        try {
          await options.eachBatch(list[i]);
        } catch (err) {
          for (const b of list.slice(i)) {
            if (this.subscriptions.isAssigned(b)) this.subscriptions.seek(b, b.records[0].offset);
          }
          throw err;
        }
      }
    }
  }

  private wakeup(): void {
    this.woken = true;
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private waitForWakeup(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        this.woken = false;
        if (this.waiter === done) this.waiter = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.waiter = done;
    });
  }

  /** The group, positions and auto-commit: everything poll() does before handing out records. */
  private async updateAssignment(signal?: AbortSignal): Promise<void> {
    const kind = this.subscriptions.kind;
    if (this.coordinator && (kind === 'topics' || kind === 'pattern')) {
      if (kind === 'pattern' && this.cluster.knownTopics().length === 0)
        await this.cluster.refreshMetadata(signal);
      await this.coordinator.ensureActiveGroup(signal);
    }
    for (const tp of this.fetcher.outOfRange.splice(0)) {
      if (!this.subscriptions.isAssigned(tp)) continue;
      if (this.autoOffsetReset === 'none') {
        throw new KafkaError(
          ErrorCode.OFFSET_OUT_OF_RANGE,
          `${tp.topic}-${tp.partition}: offset out of range and auto.offset.reset is none`,
        );
      }
      this.subscriptions.requestReset(tp, this.autoOffsetReset);
    }
    await this.initPositions(signal);
    if (this.autoCommit && Date.now() >= this.nextAutoCommitAt) {
      this.nextAutoCommitAt = Date.now() + this.autoCommitIntervalMs;
      this.commitAsync().catch((err) =>
        this.cluster.logger.debug({ err: String(err) }, 'auto-commit failed'),
      );
    }
  }

  /** Positions for partitions without one: the committed offset, else auto.offset.reset. */
  private async initPositions(signal?: AbortSignal): Promise<void> {
    const missing = [...this.subscriptions.states()].filter((s) => s.position === null);
    if (missing.length === 0) return;
    const reset = new Map<string, { tp: TopicPartition; strategy: OffsetResetStrategy }>();
    const needCommitted = missing.filter((s) => s.pendingReset === null);
    for (const s of missing)
      if (s.pendingReset !== null) reset.set(tpKey(s.tp), { tp: s.tp, strategy: s.pendingReset });
    if (needCommitted.length > 0) {
      const committed = this.coordinator
        ? await this.coordinator.fetchCommittedOffsets(
            needCommitted.map((s) => s.tp),
            signal,
          )
        : new Map<string, CommittedOffset>();
      for (const s of needCommitted) {
        const c = committed.get(tpKey(s.tp));
        if (c && s.position === null) this.subscriptions.seek(s.tp, c.offset, c.leaderEpoch);
        else if (!c) reset.set(tpKey(s.tp), { tp: s.tp, strategy: this.autoOffsetReset });
      }
    }
    if (reset.size === 0) return;
    const none = [...reset.values()].find((r) => r.strategy === 'none');
    if (none) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `no committed offset for ${none.tp.topic}-${none.tp.partition} and auto.offset.reset is none`,
      );
    }
    const offsets = await listOffsets(
      this.cluster,
      [...reset.values()].map((r) => ({
        ...r.tp,
        timestamp: r.strategy === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP,
      })),
      { isolationLevel: this.isolationLevel, signal },
    );
    for (const r of reset.values()) {
      const s = this.subscriptions.state(r.tp);
      const o = offsets.get(tpKey(r.tp));
      // Skip if a seek came in meanwhile.
      if (s && o && s.position === null) this.subscriptions.seek(r.tp, o.offset);
    }
  }

  // ---- rebalance callbacks ----

  private async partitionCounts(topics: string[]): Promise<Map<string, number>> {
    this.cluster.addInterest(topics);
    await this.cluster.refreshMetadata();
    const out = new Map<string, number>();
    for (const t of topics) {
      const n = this.cluster.topic(t)?.partitions.length ?? 0;
      if (n > 0) out.set(t, n);
    }
    return out;
  }

  private async revoke(tps: TopicPartition[], lost: boolean): Promise<void> {
    if (tps.length === 0) return;
    try {
      if (lost && this.listener.onPartitionsLost) await this.listener.onPartitionsLost(tps);
      else await this.listener.onPartitionsRevoked?.(tps);
    } catch (err) {
      this.cluster.logger.error({ err: String(err) }, 'rebalance listener failed');
    }
    this.subscriptions.removePartitions(tps);
    this.fetcher.clearBuffered(tps);
  }

  private async onAssigned(all: TopicPartition[], added: TopicPartition[]): Promise<void> {
    this.subscriptions.setAssignment(all);
    this.cluster.addInterest(all.map((tp) => tp.topic));
    try {
      await this.listener.onPartitionsAssigned?.(added);
    } catch (err) {
      this.cluster.logger.error({ err: String(err) }, 'rebalance listener failed');
    }
  }

  private async commitBeforeRevoke(): Promise<void> {
    if (!this.autoCommit) return;
    try {
      await this.commit();
    } catch (err) {
      this.cluster.logger.warn({ err: String(err) }, 'commit before revocation failed');
    }
  }

  private onMetadataUpdate(): void {
    if (!this.coordinator || this.closed) return;
    if (
      this.subscriptions.kind === 'pattern' &&
      this.subscriptions.matchPattern(this.cluster.knownTopics())
    ) {
      this.coordinator.requestRejoin('the pattern matches other topics');
      return;
    }
    if (this.subscriptions.kind !== 'topics' && this.subscriptions.kind !== 'pattern') return;
    if (this.coordinator.state !== 'STABLE') return;
    // A subscribed topic gained partitions (or appeared): the assignment must be recomputed.
    for (const t of this.subscriptions.topics) {
      const n = this.cluster.topic(t)?.partitions.length ?? 0;
      if (n > 0 && n !== (this.coordinator.assignedTopicPartitionCounts.get(t) ?? 0)) {
        this.coordinator.assignedTopicPartitionCounts.set(t, n);
        this.coordinator.requestRejoin(`topic ${t} has ${n} partitions now`);
        return;
      }
    }
  }

  // ---- offsets ----

  private toCommit(offsets?: CommitOffset[]): OffsetToCommit[] {
    if (offsets) {
      return offsets.map((o) => ({
        tp: { topic: o.topic, partition: o.partition },
        offset: BigInt(o.offset),
        leaderEpoch: o.leaderEpoch ?? -1,
        metadata: o.metadata ?? '',
      }));
    }
    const out: OffsetToCommit[] = [];
    for (const s of this.subscriptions.states()) {
      if (s.position !== null)
        out.push({ tp: s.tp, offset: s.position, leaderEpoch: s.leaderEpoch, metadata: '' });
    }
    return out;
  }

  /** Commits the given offsets, or every assigned partition's position; retries retriable errors. */
  async commit(offsets?: CommitOffset[], options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.coordinator) throw new TypeError('commit() needs a groupId');
    await this.coordinator.commitOffsets(this.toCommit(offsets), { retry: true, signal: options.signal });
  }

  /** Like commit() but one attempt, no retry; the promise may be ignored (failures are logged). */
  commitAsync(offsets?: CommitOffset[]): Promise<void> {
    if (!this.coordinator) return Promise.reject(new TypeError('commitAsync() needs a groupId'));
    const p = this.coordinator.commitOffsets(this.toCommit(offsets), { retry: false });
    p.catch((err) => this.cluster.logger.debug({ err: String(err) }, 'async commit failed'));
    return p;
  }

  /** The group's committed offsets for these partitions (absent: none committed). */
  async committed(
    tps: TopicPartition[],
    options: { signal?: AbortSignal } = {},
  ): Promise<Map<string, CommittedOffset & TopicPartition>> {
    if (!this.coordinator) throw new TypeError('committed() needs a groupId');
    const m = await this.coordinator.fetchCommittedOffsets(tps, options.signal);
    return new Map(
      [...m].map(([k, v]) => {
        const [topic, partition] = k.split('\u0000');
        return [k, { ...v, topic, partition: Number(partition) }];
      }),
    );
  }

  /** The offset of the next record poll() will hand out for the partition (null: not yet known). */
  position(tp: TopicPartition): bigint | null {
    return this.subscriptions.require(tp).position;
  }

  seek(tp: TopicPartition, offset: bigint | number): void {
    this.subscriptions.seek(tp, BigInt(offset));
    this.fetcher.clearBuffered([tp]);
    this.wakeup();
  }

  seekToBeginning(tps: TopicPartition[] = this.assignment()): void {
    for (const tp of tps) this.subscriptions.requestReset(tp, 'earliest');
    this.fetcher.clearBuffered(tps);
    this.wakeup();
  }

  seekToEnd(tps: TopicPartition[] = this.assignment()): void {
    for (const tp of tps) this.subscriptions.requestReset(tp, 'latest');
    this.fetcher.clearBuffered(tps);
    this.wakeup();
  }

  /** Moves to the first offset whose timestamp is at or after `timestamp` (the end if none). */
  async seekToTimestamp(timestamp: number | Date, tps: TopicPartition[] = this.assignment()): Promise<void> {
    const ts = BigInt(typeof timestamp === 'number' ? timestamp : timestamp.getTime());
    const found = await this.offsetsForTimes(tps.map((tp) => ({ ...tp, timestamp: ts })));
    const atEnd = tps.filter((tp) => (found.get(tpKey(tp))?.offset ?? -1n) < 0n);
    const ends = atEnd.length > 0 ? await this.endOffsets(atEnd) : new Map<string, bigint>();
    for (const tp of tps) {
      if (!this.subscriptions.isAssigned(tp)) continue;
      const o = found.get(tpKey(tp));
      this.seek(tp, o && o.offset >= 0n ? o.offset : (ends.get(tpKey(tp)) as bigint));
    }
  }

  /** ListOffsets by timestamp (Kafka's offsetsForTimes); offset -1n where no record is that late. */
  offsetsForTimes(query: (TopicPartition & { timestamp: bigint | number })[]) {
    return listOffsets(
      this.cluster,
      query.map((q) => ({ topic: q.topic, partition: q.partition, timestamp: BigInt(q.timestamp) })),
      { isolationLevel: this.isolationLevel },
    );
  }

  async beginningOffsets(tps: TopicPartition[]): Promise<Map<string, bigint>> {
    const m = await listOffsets(
      this.cluster,
      tps.map((tp) => ({ ...tp, timestamp: EARLIEST_TIMESTAMP })),
    );
    return new Map([...m].map(([k, v]) => [k, v.offset]));
  }

  /** Log end offsets (the last stable offset with read_committed). */
  async endOffsets(tps: TopicPartition[]): Promise<Map<string, bigint>> {
    const m = await listOffsets(
      this.cluster,
      tps.map((tp) => ({ ...tp, timestamp: LATEST_TIMESTAMP })),
      {
        isolationLevel: this.isolationLevel,
      },
    );
    return new Map([...m].map(([k, v]) => [k, v.offset]));
  }

  pause(tps: TopicPartition[]): void {
    for (const tp of tps) this.subscriptions.require(tp).paused = true;
  }

  resume(tps: TopicPartition[]): void {
    for (const tp of tps) this.subscriptions.require(tp).paused = false;
    this.wakeup();
  }

  paused(): TopicPartition[] {
    return [...this.subscriptions.states()].filter((s) => s.paused).map((s) => s.tp);
  }

  // ---- closing ----

  private ensureOpen(): void {
    if (this.closed) throw new ClientClosedError('the consumer is closed');
  }

  /** Commits (with auto-commit), revokes, leaves the group and closes the connections. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      if (this.coordinator && this.subscriptions.kind !== 'assigned' && this.subscriptions.kind !== 'none') {
        await this.commitBeforeRevoke();
        await this.revoke(this.subscriptions.assigned(), false);
      } else if (this.coordinator && this.autoCommit) {
        await this.commit().catch(() => {});
      }
      this.closed = true;
      this.wakeup();
      await this.coordinator?.close();
      this.fetcher.close();
      this.unsubscribeMetadata();
      await this.cluster.close();
    })();
    return this.closing;
  }
}
