// Test fixtures for the group coordinator: the simulated clock (src/util/clock.ts), an in-memory __consumer_offsets store
// (that can fail, hold appends, and enforces a maximum record size like message.max.bytes), and a
// Harness that speaks the request/response objects the broker would.

import { createHash } from 'node:crypto';
import {
  GroupCoordinator,
  type GroupCoordinatorConfig,
  type GroupStore,
  GroupStoreError,
  type OffsetsRecord,
  type TxnAppendOptions,
} from '../../../src/coordinator/group/index.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ConsumerProtocolSubscription } from '../../../src/protocol/generated/messages/ConsumerProtocolSubscription.js';
import { DescribeGroupsRequest } from '../../../src/protocol/generated/messages/DescribeGroupsRequest.js';
import type { DescribeGroupsResponse } from '../../../src/protocol/generated/messages/DescribeGroupsResponse.js';
import { HeartbeatRequest } from '../../../src/protocol/generated/messages/HeartbeatRequest.js';
import { JoinGroupRequest } from '../../../src/protocol/generated/messages/JoinGroupRequest.js';
import type { JoinGroupResponse } from '../../../src/protocol/generated/messages/JoinGroupResponse.js';
import { LeaveGroupRequest } from '../../../src/protocol/generated/messages/LeaveGroupRequest.js';
import { OffsetCommitRequest } from '../../../src/protocol/generated/messages/OffsetCommitRequest.js';
import type { OffsetCommitResponse } from '../../../src/protocol/generated/messages/OffsetCommitResponse.js';
import { OffsetFetchRequest } from '../../../src/protocol/generated/messages/OffsetFetchRequest.js';
import type { OffsetFetchResponse } from '../../../src/protocol/generated/messages/OffsetFetchResponse.js';
import { SyncGroupRequest } from '../../../src/protocol/generated/messages/SyncGroupRequest.js';
import type { SyncGroupResponse } from '../../../src/protocol/generated/messages/SyncGroupResponse.js';
import { TxnOffsetCommitRequest } from '../../../src/protocol/generated/messages/TxnOffsetCommitRequest.js';
import type { TxnOffsetCommitResponse } from '../../../src/protocol/generated/messages/TxnOffsetCommitResponse.js';
import { SimulatedTime } from '../../../src/util/clock.js';

export const DEFAULT_CONFIG: GroupCoordinatorConfig = {
  numPartitions: 50,
  groupMinSessionTimeoutMs: 6000,
  groupMaxSessionTimeoutMs: 1800000,
  groupInitialRebalanceDelayMs: 3000,
  groupMaxSize: 2147483647,
  offsetMetadataMaxBytes: 4096,
  offsetsRetentionMs: 7 * 24 * 3600 * 1000,
  offsetsRetentionCheckIntervalMs: 600000,
};

/** A stable topic id per name (16 bytes from the name, base64url as Kafka's Uuid.toString()). */
export function topicId(name: string): string {
  return createHash('md5').update(name).digest().toString('base64url');
}

export interface StoredRecord extends OffsetsRecord {
  partition: number;
  /** The producer of a transactional batch (TxnOffsetCommit), or of a marker. */
  producerId?: bigint;
  producerEpoch?: number;
  /** A COMMIT/ABORT marker (key and value empty). */
  marker?: 'commit' | 'abort';
}

/**
 * __consumer_offsets in memory. Records are in the log in append order; an append resolves when
 * "durable", which `hold()` delays until `release()`. `failNext(code)` makes the next append fail
 * without writing. A record larger than `maxRecordBytes` fails with MESSAGE_TOO_LARGE, like a
 * record over message.max.bytes.
 */
export class MemoryStore implements GroupStore {
  readonly records: StoredRecord[] = [];
  maxRecordBytes = 1048588;
  appends = 0;
  private failures: number[] = [];
  private holding = false;
  private held: Array<() => void> = [];

  failNext(errorCode: number, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(errorCode);
  }

  hold(): void {
    this.holding = true;
  }

  /** Makes every held append durable, in order. */
  release(): void {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const done of held) done();
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Appends made with transactional options, in order. */
  readonly txnAppends: Array<{ partition: number; txn: TxnAppendOptions; records: number }> = [];

  /** Writes a COMMIT/ABORT marker of `producerId` to `partition` (the broker's marker writer). */
  marker(partition: number, producerId: bigint, commit: boolean): void {
    const empty = Buffer.alloc(0);
    this.records.push({
      partition,
      key: empty,
      value: empty,
      producerId,
      marker: commit ? 'commit' : 'abort',
    });
  }

  append(partition: number, records: OffsetsRecord[], txn?: TxnAppendOptions): Promise<void> {
    this.appends++;
    const failure = this.failures.shift();
    if (failure !== undefined) return Promise.reject(new GroupStoreError(failure, 'injected failure'));
    for (const r of records) {
      const size = r.key.length + (r.value?.length ?? 0);
      if (size > this.maxRecordBytes) {
        return Promise.reject(new GroupStoreError(ErrorCode.MESSAGE_TOO_LARGE, `record of ${size} bytes`));
      }
    }
    if (txn) {
      this.txnAppends.push({ partition, txn, records: records.length });
      for (const r of records) {
        this.records.push({
          partition,
          key: r.key,
          value: r.value,
          producerId: txn.producerId,
          producerEpoch: txn.producerEpoch,
        });
      }
    } else {
      for (const r of records) this.records.push({ partition, key: r.key, value: r.value });
    }
    if (!this.holding) return Promise.resolve();
    return new Promise((resolve) => this.held.push(resolve));
  }
}

/** Lets every pending promise continuation run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Observes a promise without awaiting it. */
export function track<T>(p: Promise<T>): { readonly done: boolean; readonly value: T } {
  const state: { done: boolean; value: T | undefined } = { done: false, value: undefined };
  p.then((v) => {
    state.done = true;
    state.value = v;
  });
  return {
    get done() {
      return state.done;
    },
    get value() {
      if (!state.done) throw new Error('promise not settled yet');
      return state.value as T;
    },
  };
}

/** ConsumerProtocolSubscription bytes (int16 version, then the struct) as a Java consumer sends them. */
export function subscription(topics: string[], version = 1): Buffer {
  const body = ConsumerProtocolSubscription.encode(
    { ...ConsumerProtocolSubscription.default(), topics, userData: null },
    version,
  );
  const out = Buffer.alloc(2 + body.length);
  out.writeInt16BE(version, 0);
  body.copy(out, 2);
  return out;
}

export interface JoinOpts {
  groupId?: string;
  memberId?: string;
  instanceId?: string | null;
  version?: number;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  protocolType?: string;
  protocols?: Array<{ name: string; metadata: Buffer }>;
  clientId?: string;
}

export interface Member {
  memberId: string;
  instanceId: string | null;
}

export class Harness {
  readonly time: SimulatedTime;
  readonly store: MemoryStore;
  readonly topics = new Map<string, number>([
    ['t', 3],
    ['u', 3],
  ]);
  readonly config: GroupCoordinatorConfig;
  readonly coordinator: GroupCoordinator;
  readonly logs: Array<{ level: string; msg?: string; o: object }> = [];

  constructor(
    config: Partial<GroupCoordinatorConfig> = {},
    shared?: { time: SimulatedTime; store: MemoryStore },
  ) {
    this.config = { ...DEFAULT_CONFIG, ...config };
    this.time = shared?.time ?? new SimulatedTime();
    this.store = shared?.store ?? new MemoryStore();
    this.coordinator = new GroupCoordinator({
      config: this.config,
      time: this.time,
      store: this.store,
      topics: {
        partitionExists: (topic, partition) => partition >= 0 && partition < (this.topics.get(topic) ?? 0),
        topic: (name) => this.topicMetadata(name),
        topicById: (id) => {
          for (const name of this.topics.keys()) if (topicId(name) === id) return this.topicMetadata(name);
          return undefined;
        },
        topicNames: () => this.topics.keys(),
      },
      logger: {
        info: (o, msg) => this.logs.push({ level: 'info', msg, o }),
        warn: (o, msg) => this.logs.push({ level: 'warn', msg, o }),
      },
    });
  }

  private topicMetadata(name: string): { id: string; name: string; numPartitions: number } | undefined {
    const n = this.topics.get(name);
    return n === undefined ? undefined : { id: topicId(name), name, numPartitions: n };
  }

  /** A started coordinator. */
  static started(config: Partial<GroupCoordinatorConfig> = {}): Harness {
    const h = new Harness(config);
    h.coordinator.startup();
    return h;
  }

  /** A new coordinator (same clock and store) loaded by replaying every stored record, started. */
  reload(): Harness {
    this.coordinator.shutdown();
    const h = new Harness(this.config, { time: this.time, store: this.store });
    for (const r of this.store.records) {
      if (r.marker) h.coordinator.replayMarker(r.partition, r.producerId!, r.marker === 'commit');
      else if (r.producerId !== undefined) h.coordinator.replayTxn(r.partition, r.producerId, r.key, r.value);
      else h.coordinator.replay(r.partition, r.key, r.value);
    }
    h.coordinator.startup();
    return h;
  }

  async advance(ms: number): Promise<void> {
    this.time.advance(ms);
    await settle();
  }

  join(o: JoinOpts = {}): Promise<JoinGroupResponse> {
    const version = o.version ?? 5;
    const req: JoinGroupRequest = {
      ...JoinGroupRequest.default(),
      groupId: o.groupId ?? 'g',
      memberId: o.memberId ?? '',
      groupInstanceId: version >= 5 ? (o.instanceId ?? null) : null,
      sessionTimeoutMs: o.sessionTimeoutMs ?? 10000,
      rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? 60000,
      protocolType: o.protocolType ?? 'consumer',
      protocols: o.protocols ?? [{ name: 'range', metadata: subscription(['t']) }],
    };
    return this.coordinator.joinGroup(req, version, o.clientId ?? 'client', '/127.0.0.1');
  }

  /** JoinGroup through KIP-394: the first call returns MEMBER_ID_REQUIRED, the second joins. */
  async joinWithId(o: JoinOpts = {}): Promise<{ memberId: string; response: Promise<JoinGroupResponse> }> {
    const first = await this.join({ ...o, memberId: '' });
    if (first.errorCode !== ErrorCode.MEMBER_ID_REQUIRED)
      throw new Error(`expected MEMBER_ID_REQUIRED, got ${first.errorCode}`);
    return { memberId: first.memberId, response: this.join({ ...o, memberId: first.memberId }) };
  }

  sync(
    memberId: string,
    generationId: number,
    o: {
      groupId?: string;
      instanceId?: string | null;
      assignments?: Array<{ memberId: string; assignment: Buffer }>;
      version?: number;
      protocolType?: string | null;
      protocolName?: string | null;
    } = {},
  ): Promise<SyncGroupResponse> {
    const version = o.version ?? 5;
    return this.coordinator.syncGroup(
      {
        ...SyncGroupRequest.default(),
        groupId: o.groupId ?? 'g',
        generationId,
        memberId,
        groupInstanceId: o.instanceId ?? null,
        protocolType: version >= 5 ? (o.protocolType === undefined ? 'consumer' : o.protocolType) : null,
        protocolName: version >= 5 ? (o.protocolName === undefined ? 'range' : o.protocolName) : null,
        assignments: o.assignments ?? [],
      },
      version,
    );
  }

  async heartbeat(
    memberId: string,
    generationId: number,
    groupId = 'g',
    instanceId: string | null = null,
  ): Promise<number> {
    const resp = await this.coordinator.heartbeat(
      { ...HeartbeatRequest.default(), groupId, memberId, generationId, groupInstanceId: instanceId },
      4,
    );
    return resp.errorCode;
  }

  leave(members: Array<{ memberId: string; instanceId?: string | null }>, groupId = 'g', version = 5) {
    return this.coordinator.leaveGroup(
      {
        ...LeaveGroupRequest.default(),
        groupId,
        memberId: version <= 2 ? members[0].memberId : '',
        members:
          version >= 3
            ? members.map((m) => ({
                memberId: m.memberId,
                groupInstanceId: m.instanceId ?? null,
                reason: null,
              }))
            : [],
      },
      version,
    );
  }

  commit(
    offsets: Array<{
      topic: string;
      partition: number;
      offset: bigint;
      metadata?: string | null;
      leaderEpoch?: number;
    }>,
    o: {
      groupId?: string;
      memberId?: string;
      generationId?: number;
      instanceId?: string | null;
      version?: number;
      retentionTimeMs?: bigint;
    } = {},
  ): Promise<OffsetCommitResponse> {
    const version = o.version ?? 8;
    const byTopic = new Map<string, OffsetCommitRequest.OffsetCommitRequestPartition[]>();
    for (const x of offsets) {
      const list = byTopic.get(x.topic) ?? [];
      byTopic.set(x.topic, list);
      list.push({
        partitionIndex: x.partition,
        committedOffset: x.offset,
        committedLeaderEpoch: version >= 6 ? (x.leaderEpoch ?? -1) : -1,
        commitTimestamp: -1n,
        committedMetadata: x.metadata === undefined ? '' : x.metadata,
      });
    }
    return this.coordinator.commitOffsets(
      {
        ...OffsetCommitRequest.default(),
        groupId: o.groupId ?? 'g',
        generationIdOrMemberEpoch: o.generationId ?? -1,
        memberId: o.memberId ?? '',
        groupInstanceId: o.instanceId ?? null,
        retentionTimeMs: o.retentionTimeMs ?? -1n,
        topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
      },
      version,
    );
  }

  /** TxnOffsetCommit (v3 by default) for producer `producerId` (epoch 0 unless given). */
  txnCommit(
    offsets: Array<{
      topic: string;
      partition: number;
      offset: bigint;
      metadata?: string | null;
      leaderEpoch?: number;
    }>,
    o: {
      producerId?: bigint;
      producerEpoch?: number;
      groupId?: string;
      memberId?: string;
      generationId?: number;
      instanceId?: string | null;
      version?: number;
    } = {},
  ): Promise<TxnOffsetCommitResponse> {
    const version = o.version ?? 3;
    const byTopic = new Map<string, TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition[]>();
    for (const x of offsets) {
      const list = byTopic.get(x.topic) ?? [];
      byTopic.set(x.topic, list);
      list.push({
        partitionIndex: x.partition,
        committedOffset: x.offset,
        committedLeaderEpoch: version >= 2 ? (x.leaderEpoch ?? -1) : -1,
        committedMetadata: x.metadata === undefined ? '' : x.metadata,
      });
    }
    return this.coordinator.txnCommitOffsets(
      {
        ...TxnOffsetCommitRequest.default(),
        transactionalId: 'txn',
        groupId: o.groupId ?? 'g',
        producerId: o.producerId ?? 1000n,
        producerEpoch: o.producerEpoch ?? 0,
        generationId: version >= 3 ? (o.generationId ?? -1) : -1,
        memberId: version >= 3 ? (o.memberId ?? '') : '',
        groupInstanceId: version >= 3 ? (o.instanceId ?? null) : null,
        topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
      },
      version,
    );
  }

  /**
   * Ends a transaction as the broker does: the marker goes to the group's __consumer_offsets
   * partition, then the coordinator is told.
   */
  endTxn(producerId: bigint, commit: boolean, groupId = 'g'): void {
    const partition = this.coordinator.partitionFor(groupId);
    this.store.marker(partition, producerId, commit);
    this.coordinator.completeTransaction(partition, producerId, commit);
  }

  /** OffsetFetch v7 (single group); topics null = all. */
  fetch(
    topics: Array<{ name: string; partitionIndexes: number[] }> | null,
    o: { groupId?: string; requireStable?: boolean; version?: number } = {},
  ): Promise<OffsetFetchResponse> {
    return this.coordinator.fetchOffsets(
      {
        ...OffsetFetchRequest.default(),
        groupId: o.groupId ?? 'g',
        topics,
        requireStable: o.requireStable ?? false,
      },
      o.version ?? 7,
    );
  }

  /** The committed offset of one partition as OffsetFetch v7 reports it. */
  async committed(topic: string, partition: number, groupId = 'g'): Promise<bigint> {
    const resp = await this.fetch([{ name: topic, partitionIndexes: [partition] }], { groupId });
    return resp.topics[0].partitions[0].committedOffset;
  }

  describe(groupId = 'g', version = 5): DescribeGroupsResponse.DescribedGroup {
    return this.coordinator.describeGroups({ ...DescribeGroupsRequest.default(), groups: [groupId] }, version)
      .groups[0];
  }

  state(groupId = 'g'): string {
    return this.describe(groupId).groupState;
  }

  /**
   * Forms a Stable group of `n` dynamic members (JoinGroup v5 with MEMBER_ID_REQUIRED, the initial
   * delay, the leader's SyncGroup with "assignment-<i>" for member i, then the followers').
   */
  async formGroup(
    n: number,
    o: JoinOpts = {},
  ): Promise<{
    members: Member[];
    generationId: number;
    leaderId: string;
    assignments: Map<string, Buffer>;
  }> {
    const joins: Array<{ memberId: string; response: Promise<JoinGroupResponse> }> = [];
    for (let i = 0; i < n; i++) {
      if (o.instanceId !== undefined && o.instanceId !== null) {
        const response = this.join({ ...o, instanceId: `${o.instanceId}-${i}` });
        joins.push({ memberId: '', response });
      } else {
        joins.push(await this.joinWithId(o));
      }
    }
    // The initial delay is extended while members keep joining: step until every join is answered.
    const tracked = joins.map((j) => track(j.response));
    for (let i = 0; i < 100 && !tracked.every((t) => t.done); i++) {
      await this.advance(this.config.groupInitialRebalanceDelayMs);
    }
    const responses = tracked.map((t) => t.value);
    for (const r of responses)
      if (r.errorCode !== ErrorCode.NONE) throw new Error(`join failed: ${r.errorCode}`);
    const generationId = responses[0].generationId;
    const leaderId = responses[0].leader;
    const members = responses.map((r, i) => ({
      memberId: r.memberId,
      instanceId: o.instanceId ? `${o.instanceId}-${i}` : null,
    }));
    const assignments = new Map(members.map((m, i) => [m.memberId, Buffer.from(`assignment-${i}`)]));
    const syncs = members.map((m) =>
      this.sync(m.memberId, generationId, {
        groupId: o.groupId,
        instanceId: m.instanceId,
        protocolType: o.protocolType ?? 'consumer',
        protocolName: responses[0].protocolName,
        assignments:
          m.memberId === leaderId
            ? [...assignments].map(([memberId, assignment]) => ({ memberId, assignment }))
            : [],
      }),
    );
    for (const s of await Promise.all(syncs))
      if (s.errorCode !== ErrorCode.NONE) throw new Error(`sync failed: ${s.errorCode}`);
    return { members, generationId, leaderId, assignments };
  }
}
