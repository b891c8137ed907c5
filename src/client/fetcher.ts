// Kafka's Fetcher for one consumer: sends Fetch requests to partition leaders (one in flight per
// broker), decodes the answers into records, and keeps them until the consumer hands them out.
//
// A partition is fetched only when it has a position, is not paused, and has no records waiting
// and no fetch in flight; so records come out in offset order and a seek (which bumps the
// partition's epoch) makes any older fetch result stale, to be dropped. Sessions (KIP-227) are not
// used: every Fetch is a full, sessionless request (session epoch -1), which every broker serves.
// With read_committed, records of aborted transactions are skipped using the response's aborted
// transaction list and the abort markers, as Kafka's CompletedFetch does; control batches are never
// handed out.

import { ErrorCode } from '../protocol/errors.js';
import type { FetchRequest } from '../protocol/generated/messages/FetchRequest.js';
import type { FetchResponse } from '../protocol/generated/messages/FetchResponse.js';
import { ZERO_UUID } from '../protocol/message.js';
import { TimestampType } from '../protocol/records/constants.js';
import { ControlRecordType, decodeControlRecordKey } from '../protocol/records/control.js';
import { decodeRecordSet } from '../protocol/records/record-set.js';
import type { DecodedBatch, RecordHeader } from '../protocol/records/types.js';
import { FetchApi } from './apis.js';
import type { Cluster } from './cluster.js';
import { type TopicPartition, tpKey } from './consumer-protocol.js';
import { KafkaError } from './errors.js';
import type { SubscriptionState, TopicPartitionState } from './subscription-state.js';

export type TimestampTypeName = 'CreateTime' | 'LogAppendTime' | 'NoTimestampType';

/** A record as fetched, before the consumer's deserializers run. */
export interface FetchedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: number;
  timestampType: TimestampTypeName;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  /** The partition leader epoch of the record's batch; -1 if unknown (old formats). */
  leaderEpoch: number;
}

export interface FetchConfig {
  minBytes: number;
  maxBytes: number;
  maxWaitMs: number;
  maxPartitionFetchBytes: number;
  /** 0 read_uncommitted, 1 read_committed. */
  isolationLevel: number;
  checkCrcs: boolean;
}

interface CompletedFetch {
  state: TopicPartitionState;
  /** The partition state's epoch when the fetch was sent: a different one now means stale. */
  epoch: number;
  fetchOffset: bigint;
  records: FetchedRecord[];
  next: number;
  /** The offset after the last batch seen (control and aborted batches included). */
  nextFetchOffset: bigint;
}

const LEADER_ERRORS = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.OFFSET_NOT_AVAILABLE,
]);

export class Fetcher {
  private completed: CompletedFetch[] = [];
  private readonly inFlightNodes = new Set<number>();
  /** Partitions that got OFFSET_OUT_OF_RANGE: the consumer resets them (auto.offset.reset). */
  readonly outOfRange: TopicPartition[] = [];
  /** Non-retriable errors to surface from the next poll. */
  readonly errors: KafkaError[] = [];
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly subscriptions: SubscriptionState,
    private readonly config: FetchConfig,
    /** Called whenever fetched data or an error arrives. */
    private readonly notify: () => void,
  ) {}

  close(): void {
    this.closed = true;
    this.completed = [];
  }

  /**
   * Sends a Fetch to each leader that has fetchable partitions and none in flight. A partition
   * whose records are still being handed out is fetched ahead from where its buffered data ends
   * (as librdkafka prefetches), so the next response is on its way while the application works
   * through the current one; at most one such fetch is buffered ahead per partition.
   */
  sendFetches(): void {
    if (this.closed) return;
    const byNode = new Map<number, { state: TopicPartitionState; offset: bigint }[]>();
    let needMetadata = false;
    for (const s of this.subscriptions.states()) {
      if (s.position === null || s.paused) continue;
      const offset = this.nextFetchOffset(s);
      if (offset === null) continue;
      const leader = this.cluster.leaderFor(s.tp.topic, s.tp.partition);
      if (leader < 0 || !this.cluster.broker(leader)) {
        needMetadata = true;
        continue;
      }
      if (this.inFlightNodes.has(leader)) continue;
      let l = byNode.get(leader);
      if (!l) {
        l = [];
        byNode.set(leader, l);
      }
      l.push({ state: s, offset });
    }
    if (needMetadata) this.cluster.requestUpdate();
    for (const [node, states] of byNode) this.fetchFrom(node, states);
  }

  /**
   * Where the next fetch of a partition starts: its position when nothing is buffered, the end of
   * its buffered data when one current fetch is buffered, null (do not fetch) beyond that.
   */
  private nextFetchOffset(s: TopicPartitionState): bigint | null {
    let buffered: CompletedFetch | null = null;
    for (const c of this.completed) {
      if (c.state !== s || c.epoch !== s.epoch) continue;
      if (buffered) return null;
      buffered = c;
    }
    return buffered ? buffered.nextFetchOffset : (s.position as bigint);
  }

  private fetchFrom(node: number, states: { state: TopicPartitionState; offset: bigint }[]): void {
    this.inFlightNodes.add(node);
    const sent = states.map(({ state, offset }) => ({ state, epoch: state.epoch, offset }));
    const byTopic = new Map<string, typeof sent>();
    for (const x of sent) {
      let l = byTopic.get(x.state.tp.topic);
      if (!l) {
        l = [];
        byTopic.set(x.state.tp.topic, l);
      }
      l.push(x);
    }
    // Fetch v13+ names topics by id; without ids (an old broker's metadata) stay at v12.
    const ids = new Map<string, string>();
    let allIds = true;
    for (const topic of byTopic.keys()) {
      const id = this.cluster.topic(topic)?.topicId ?? ZERO_UUID;
      if (id === ZERO_UUID) allIds = false;
      ids.set(topic, id);
    }
    const build = (v: number): FetchRequest => ({
      clusterId: null,
      replicaId: -1,
      replicaState: { replicaId: -1, replicaEpoch: -1n },
      maxWaitMs: this.config.maxWaitMs,
      minBytes: this.config.minBytes,
      maxBytes: this.config.maxBytes,
      isolationLevel: this.config.isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...byTopic].map(([topic, xs]) => ({
        topic: v >= 13 ? '' : topic,
        topicId: v >= 13 ? (ids.get(topic) as string) : ZERO_UUID,
        partitions: xs.map((x) => ({
          partition: x.state.tp.partition,
          currentLeaderEpoch: -1,
          fetchOffset: x.offset,
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes: this.config.maxPartitionFetchBytes,
          replicaDirectoryId: ZERO_UUID,
        })),
      })),
      forgottenTopicsData: [],
      rackId: '',
    });
    this.cluster
      .send(node, FetchApi, build, {
        timeoutMs: this.cluster.requestTimeoutMs + this.config.maxWaitMs,
        maxVersion: allIds ? undefined : 12,
      })
      .then(
        (resp) => this.onResponse(resp, byTopic, ids),
        (err) => {
          if (!this.closed) {
            this.cluster.logger.debug({ node, err: String(err) }, 'fetch failed');
            this.cluster.requestUpdate();
          }
        },
      )
      .finally(() => {
        this.inFlightNodes.delete(node);
        this.notify();
      });
  }

  private onResponse(
    resp: FetchResponse,
    sent: Map<string, { state: TopicPartitionState; epoch: number; offset: bigint }[]>,
    ids: Map<string, string>,
  ): void {
    if (this.closed) return;
    if (resp.errorCode !== ErrorCode.NONE) {
      this.cluster.logger.debug({ error: resp.errorCode }, 'fetch error');
      return;
    }
    const nameById = new Map([...ids].map(([name, id]) => [id, name]));
    for (const t of resp.responses) {
      const topic = t.topic !== '' ? t.topic : nameById.get(t.topicId);
      if (!topic) continue;
      for (const p of t.partitions) {
        const x = sent.get(topic)?.find((s) => s.state.tp.partition === p.partitionIndex);
        if (!x) continue;
        const s = x.state;
        // Dropped if the partition was revoked or sought since, or if the data it continues was
        // dropped meanwhile: the data no longer applies.
        if (
          !this.subscriptions.isAssigned(s.tp) ||
          s.epoch !== x.epoch ||
          this.nextFetchOffset(s) !== x.offset
        )
          continue;
        if (p.errorCode !== ErrorCode.NONE) {
          this.onPartitionError(s, p.errorCode);
          continue;
        }
        s.highWatermark = p.highWatermark;
        s.lastStableOffset = p.lastStableOffset;
        s.logStartOffset = p.logStartOffset;
        if (!p.records || p.records.length === 0) continue;
        let decoded: { batches: DecodedBatch[] };
        try {
          decoded = decodeRecordSet(p.records, {
            maxUncompressedBytes: 0x7fffffff,
            verifyCrc: this.config.checkCrcs,
          });
        } catch (err) {
          this.errors.push(
            new KafkaError(
              ErrorCode.CORRUPT_MESSAGE,
              `${topic}-${p.partitionIndex} at offset ${x.offset}: ${(err as Error).message}`,
              {
                cause: err,
              },
            ),
          );
          continue;
        }
        const c = this.toCompletedFetch(s, x.epoch, x.offset, decoded.batches, p.abortedTransactions);
        if (c.records.length > 0 || c.nextFetchOffset > x.offset) this.completed.push(c);
      }
    }
  }

  private onPartitionError(s: TopicPartitionState, code: number): void {
    if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
      this.outOfRange.push(s.tp);
    } else if (LEADER_ERRORS.has(code)) {
      this.cluster.requestUpdate();
    } else if (
      code === ErrorCode.TOPIC_AUTHORIZATION_FAILED ||
      code === ErrorCode.CORRUPT_MESSAGE ||
      !new KafkaError(code).retriable
    ) {
      this.errors.push(new KafkaError(code, `fetching ${s.tp.topic}-${s.tp.partition}`));
    }
  }

  private toCompletedFetch(
    state: TopicPartitionState,
    epoch: number,
    fetchOffset: bigint,
    batches: DecodedBatch[],
    aborted: FetchResponse.AbortedTransaction[] | null,
  ): CompletedFetch {
    const { topic, partition } = state.tp;
    const records: FetchedRecord[] = [];
    let nextFetchOffset = fetchOffset;
    const readCommitted = this.config.isolationLevel === 1;
    const abortedQueue =
      readCommitted && aborted ? [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1)) : [];
    const abortedProducers = new Set<bigint>();
    for (const b of batches) {
      if (b.lastOffset < fetchOffset) continue;
      nextFetchOffset = b.lastOffset + 1n;
      let tsType: TimestampTypeName;
      let leaderEpoch = -1;
      if (b.magic === 2) {
        const h = b.header;
        if (readCommitted && h.isTransactional) {
          while (abortedQueue.length > 0 && abortedQueue[0].firstOffset <= b.lastOffset) {
            abortedProducers.add((abortedQueue.shift() as FetchResponse.AbortedTransaction).producerId);
          }
          if (h.isControl) {
            const r = b.records[0];
            if (r && decodeControlRecordKey(r.key).type === ControlRecordType.Abort)
              abortedProducers.delete(h.producerId);
            continue;
          }
          if (abortedProducers.has(h.producerId)) continue;
        }
        if (h.isControl) continue;
        tsType = h.timestampType === TimestampType.LogAppendTime ? 'LogAppendTime' : 'CreateTime';
        leaderEpoch = h.partitionLeaderEpoch;
      } else {
        tsType =
          b.magic === 0
            ? 'NoTimestampType'
            : b.timestampType === TimestampType.LogAppendTime
              ? 'LogAppendTime'
              : 'CreateTime';
      }
      for (const r of b.records) {
        const offset = b.baseOffset + BigInt(r.offsetDelta);
        if (offset < fetchOffset) continue;
        records.push({
          topic,
          partition,
          offset,
          timestamp: r.timestamp,
          timestampType: tsType,
          key: r.key,
          value: r.value,
          headers: r.headers,
          leaderEpoch,
        });
      }
    }
    return { state, epoch, fetchOffset, records, next: 0, nextFetchOffset };
  }

  /** Whether records (for an assigned, unpaused partition at the expected position) are waiting. */
  hasAvailable(): boolean {
    return this.completed.some((c) => this.isCurrent(c) && !c.state.paused);
  }

  private isCurrent(c: CompletedFetch): boolean {
    return this.subscriptions.isAssigned(c.state.tp) && c.state.epoch === c.epoch;
  }

  /**
   * Hands out up to `max` records, moving each partition's position past them. Paused
   * partitions' records stay buffered; stale ones (revoked or sought partitions) are dropped.
   */
  drain(max: number): FetchedRecord[] {
    const out: FetchedRecord[] = [];
    const keep: CompletedFetch[] = [];
    for (const c of this.completed) {
      if (!this.isCurrent(c)) continue;
      if (c.state.paused || out.length >= max) {
        keep.push(c);
        continue;
      }
      const take = Math.min(max - out.length, c.records.length - c.next);
      for (let i = 0; i < take; i++) out.push(c.records[c.next + i]);
      c.next += take;
      if (take > 0) {
        const last = c.records[c.next - 1];
        c.state.position = last.offset + 1n;
        c.state.leaderEpoch = last.leaderEpoch;
      }
      if (c.next < c.records.length) keep.push(c);
      else if (c.nextFetchOffset > (c.state.position as bigint)) {
        // Skip past control markers and aborted batches at the end of the fetched data.
        c.state.position = c.nextFetchOffset;
      }
    }
    this.completed = keep;
    return out;
  }

  /** Forgets buffered records (all, or of some partitions). */
  clearBuffered(tps?: readonly TopicPartition[]): void {
    if (!tps) {
      this.completed = [];
      return;
    }
    const drop = new Set(tps.map(tpKey));
    this.completed = this.completed.filter((c) => !drop.has(tpKey(c.state.tp)));
  }
}
