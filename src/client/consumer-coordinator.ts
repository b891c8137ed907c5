// The consumer's side of the classic group protocol (Kafka's AbstractCoordinator +
// ConsumerCoordinator): find the coordinator, join (JoinGroup with the KIP-394 member id round
// trip), compute the assignment when elected leader, SyncGroup, heartbeat in the background, commit
// and fetch offsets, leave.
//
// Rebalances run inside the consumer's poll (never from the heartbeat timer), so the rebalance
// listener runs between two polls, when no record of a revoked partition is being processed.
// The heartbeat timer only notices (REBALANCE_IN_PROGRESS, a lost membership, an expired
// max.poll.interval.ms) and wakes the poll up.
//
// EAGER (range, roundrobin): before joining, commit (with auto-commit) and revoke everything.
// COOPERATIVE (cooperative-sticky, KIP-429): keep everything while joining; after the assignment,
// revoke only what was taken away, then rejoin at once so the next owner can get it.

import { ErrorCode } from '../protocol/errors.js';
import type { OffsetCommitRequest } from '../protocol/generated/messages/OffsetCommitRequest.js';
import type { OffsetFetchResponse } from '../protocol/generated/messages/OffsetFetchResponse.js';
import {
  HeartbeatApi,
  JoinGroupApi,
  LeaveGroupApi,
  OffsetCommitApi,
  OffsetFetchApi,
  SyncGroupApi,
} from './apis.js';
import {
  type MemberSubscription,
  type PartitionAssignor,
  type RebalanceProtocol,
  rebalanceProtocolOf,
} from './assignors.js';
import { type Cluster, CoordinatorType, sleep } from './cluster.js';
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  groupByTopic,
  type TopicPartition,
  tpKey,
} from './consumer-protocol.js';
import { CommitFailedError, KafkaConnectionError, KafkaError } from './errors.js';

export interface GroupConfig {
  groupId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  assignors: PartitionAssignor[];
  rackId: string | null;
}

/** What the coordinator needs from its consumer. */
export interface CoordinatorHost {
  subscribedTopics(): string[];
  ownedPartitions(): TopicPartition[];
  /** Partition count per topic, for the leader's assignment (fresh metadata). */
  partitionCounts(topics: string[]): Promise<Map<string, number>>;
  /** Commit consumed positions before a revocation (with auto-commit). */
  commitBeforeRevoke(): Promise<void>;
  onRevoked(tps: TopicPartition[]): Promise<void>;
  onAssigned(all: TopicPartition[], added: TopicPartition[]): Promise<void>;
  onLost(tps: TopicPartition[]): Promise<void>;
  /** Wakes a waiting poll (a rebalance is needed). */
  wakeup(): void;
}

export interface OffsetToCommit {
  tp: TopicPartition;
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
}

/**
 * The OffsetCommit request for `offsets` at version `v`, for a classic member (generation id) and
 * a KIP-848 member (member epoch) alike; outside the group: generation -1 and no member id.
 */
export function offsetCommitRequest(
  group: {
    groupId: string;
    generationIdOrMemberEpoch: number;
    memberId: string;
    groupInstanceId: string | null;
  },
  offsets: OffsetToCommit[],
  v: number,
): OffsetCommitRequest {
  const byTopic = new Map<string, OffsetCommitRequest.OffsetCommitRequestPartition[]>();
  for (const o of offsets) {
    let l = byTopic.get(o.tp.topic);
    if (!l) {
      l = [];
      byTopic.set(o.tp.topic, l);
    }
    l.push({
      partitionIndex: o.tp.partition,
      committedOffset: o.offset,
      committedLeaderEpoch: v >= 6 ? o.leaderEpoch : -1,
      commitTimestamp: -1n,
      committedMetadata: o.metadata ?? '',
    });
  }
  return {
    groupId: group.groupId,
    generationIdOrMemberEpoch: group.generationIdOrMemberEpoch,
    memberId: group.memberId,
    groupInstanceId: v >= 7 ? group.groupInstanceId : null,
    retentionTimeMs: -1n,
    topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
  };
}

export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
}

const NO_GENERATION = -1;

type MemberState = 'UNJOINED' | 'REBALANCING' | 'STABLE';

/** Errors after which the coordinator must be looked up again. */
function isCoordinatorError(code: number): boolean {
  return code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE;
}

export class ConsumerCoordinator {
  generationId = NO_GENERATION;
  memberId = '';
  protocolName: string | null = null;
  leaderId: string | null = null;
  state: MemberState = 'UNJOINED';
  rejoinNeeded = true;
  readonly protocol: RebalanceProtocol;
  /** Set when the membership was lost (fenced, expired): owned partitions are "lost", not revoked. */
  private membershipLost = false;
  private coordinator: number | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatInFlight = false;
  lastPollAt = Date.now();
  private closed = false;
  /** Partition counts of the subscribed topics when the assignment was made (metadata watch). */
  assignedTopicPartitionCounts = new Map<string, number>();

  constructor(
    private readonly cluster: Cluster,
    readonly config: GroupConfig,
    private readonly host: CoordinatorHost,
  ) {
    if (config.assignors.length === 0) throw new TypeError('at least one partition assignor is needed');
    this.protocol = rebalanceProtocolOf(config.assignors);
  }

  get groupId(): string {
    return this.config.groupId;
  }

  // ---- coordinator lookup ----

  async ensureCoordinator(signal?: AbortSignal): Promise<number> {
    if (this.coordinator !== null) return this.coordinator;
    this.coordinator = await this.cluster.findCoordinator(this.groupId, CoordinatorType.Group, signal);
    return this.coordinator;
  }

  private markCoordinatorUnknown(): void {
    this.coordinator = null;
    this.cluster.invalidateCoordinator(this.groupId, CoordinatorType.Group);
  }

  /** Sends to the coordinator; connection errors mark it unknown (another lookup next time). */
  private async sendToCoordinator<T>(fn: (node: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const node = await this.ensureCoordinator(signal);
    try {
      return await fn(node);
    } catch (err) {
      if (err instanceof KafkaConnectionError) this.markCoordinatorUnknown();
      throw err;
    }
  }

  // ---- membership ----

  requestRejoin(reason: string): void {
    if (!this.rejoinNeeded) this.cluster.logger.debug({ group: this.groupId, reason }, 'rejoin requested');
    this.rejoinNeeded = true;
    this.host.wakeup();
  }

  private resetGeneration(resetMemberId: boolean): void {
    this.generationId = NO_GENERATION;
    this.protocolName = null;
    if (resetMemberId) this.memberId = '';
    this.state = 'UNJOINED';
    this.membershipLost = true;
    this.rejoinNeeded = true;
  }

  /** Joins (or rejoins) the group if needed; resolves once the member is stable with an assignment. */
  async ensureActiveGroup(signal?: AbortSignal): Promise<void> {
    this.startHeartbeats();
    let backoff = this.cluster.retryBackoffMs;
    while (this.rejoinNeeded || this.state !== 'STABLE') {
      if (this.closed) return;
      signal?.throwIfAborted();
      try {
        await this.ensureCoordinator(signal);
        await this.prepareJoin();
        await this.joinAndSync(signal);
        backoff = this.cluster.retryBackoffMs;
      } catch (err) {
        if (err instanceof KafkaError && err.retriable) {
          if (err instanceof KafkaConnectionError || isCoordinatorError(err.code))
            this.markCoordinatorUnknown();
          await sleep(backoff, signal);
          backoff = Math.min(backoff * 2, 1000);
          continue;
        }
        throw err;
      }
    }
  }

  /** onJoinPrepare: what to give up before joining. Runs once per rebalance. */
  private preparedForGeneration: number | null = null;
  private async prepareJoin(): Promise<void> {
    if (this.state === 'REBALANCING' && this.preparedForGeneration === this.generationId) return;
    const owned = this.host.ownedPartitions();
    if (this.membershipLost) {
      // Fenced or expired: another member may already own these; do not commit, just drop them.
      if (owned.length > 0) await this.host.onLost(owned);
      this.membershipLost = false;
    } else if (this.protocol === 'EAGER') {
      await this.host.commitBeforeRevoke();
      if (owned.length > 0) await this.host.onRevoked(owned);
    } else {
      const subscribed = new Set(this.host.subscribedTopics());
      const gone = owned.filter((tp) => !subscribed.has(tp.topic));
      if (gone.length > 0) {
        await this.host.commitBeforeRevoke();
        await this.host.onRevoked(gone);
      }
    }
    this.state = 'REBALANCING';
    this.preparedForGeneration = this.generationId;
  }

  private async joinAndSync(signal?: AbortSignal): Promise<void> {
    const topics = this.host.subscribedTopics().sort();
    const owned = this.host.ownedPartitions();
    const metadata = encodeSubscription({
      topics,
      userData: null,
      ownedPartitions: this.protocol === 'COOPERATIVE' ? owned : [],
      generationId: this.generationId,
      rackId: this.config.rackId,
    });
    const join = await this.sendToCoordinator(
      (node) =>
        this.cluster.send(
          node,
          JoinGroupApi,
          (v) => ({
            groupId: this.groupId,
            sessionTimeoutMs: this.config.sessionTimeoutMs,
            rebalanceTimeoutMs: this.config.rebalanceTimeoutMs,
            memberId: this.memberId,
            groupInstanceId: v >= 5 ? this.config.groupInstanceId : null,
            protocolType: CONSUMER_PROTOCOL_TYPE,
            protocols: this.config.assignors.map((a) => ({ name: a.name, metadata })),
            reason: v >= 8 ? (this.generationId === NO_GENERATION ? 'joining' : 'rebalance') : null,
          }),
          // The coordinator holds JoinGroup until every member joined: up to the rebalance timeout.
          {
            timeoutMs: Math.max(this.cluster.requestTimeoutMs, this.config.rebalanceTimeoutMs + 5000),
            signal,
          },
        ),
      signal,
    );
    switch (join.errorCode) {
      case ErrorCode.NONE:
        break;
      case ErrorCode.MEMBER_ID_REQUIRED:
        // KIP-394: the coordinator gave us an id; join again with it at once.
        this.memberId = join.memberId;
        return;
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.resetGeneration(true);
        return;
      case ErrorCode.ILLEGAL_GENERATION:
        this.resetGeneration(false);
        return;
      case ErrorCode.REBALANCE_IN_PROGRESS:
        return;
      default: {
        const err = new KafkaError(join.errorCode, null);
        if (isCoordinatorError(join.errorCode)) this.markCoordinatorUnknown();
        err.message = `JoinGroup ${this.groupId}: ${err.message}`;
        throw err;
      }
    }
    this.memberId = join.memberId;
    this.leaderId = join.leader;
    const generationId = join.generationId;
    const protocolName = join.protocolName;
    let assignments: { memberId: string; assignment: Buffer }[] = [];
    if (join.leader === join.memberId && !join.skipAssignment) {
      assignments = await this.computeAssignment(protocolName, join.members);
    }
    const sync = await this.sendToCoordinator(
      (node) =>
        this.cluster.send(
          node,
          SyncGroupApi,
          (v) => ({
            groupId: this.groupId,
            generationId,
            memberId: this.memberId,
            groupInstanceId: v >= 3 ? this.config.groupInstanceId : null,
            protocolType: v >= 5 ? CONSUMER_PROTOCOL_TYPE : null,
            protocolName: v >= 5 ? protocolName : null,
            assignments,
          }),
          {
            timeoutMs: Math.max(this.cluster.requestTimeoutMs, this.config.rebalanceTimeoutMs + 5000),
            signal,
          },
        ),
      signal,
    );
    switch (sync.errorCode) {
      case ErrorCode.NONE:
        break;
      case ErrorCode.REBALANCE_IN_PROGRESS:
        return;
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.resetGeneration(true);
        return;
      case ErrorCode.ILLEGAL_GENERATION:
        this.resetGeneration(false);
        return;
      default: {
        if (isCoordinatorError(sync.errorCode)) this.markCoordinatorUnknown();
        throw new KafkaError(sync.errorCode, `SyncGroup ${this.groupId}`);
      }
    }
    // Recorded before turning STABLE, so that the metadata watch compares against this assignment.
    this.assignedTopicPartitionCounts = await this.host
      .partitionCounts(this.host.subscribedTopics())
      .catch(() => new Map<string, number>());
    this.generationId = generationId;
    this.protocolName = protocolName;
    this.state = 'STABLE';
    this.rejoinNeeded = false;
    this.preparedForGeneration = null;
    await this.completeJoin(decodeAssignment(sync.assignment).partitions);
  }

  /** onJoinComplete: apply the new assignment. */
  private async completeJoin(assigned: TopicPartition[]): Promise<void> {
    const owned = this.host.ownedPartitions();
    const ownedKeys = new Set(owned.map(tpKey));
    const assignedKeys = new Set(assigned.map(tpKey));
    const added = assigned.filter((tp) => !ownedKeys.has(tpKey(tp)));
    const revoked = owned.filter((tp) => !assignedKeys.has(tpKey(tp)));
    if (revoked.length > 0) {
      // Cooperative: give up what moved, then rejoin so that its next owner gets it.
      await this.host.commitBeforeRevoke();
      await this.host.onRevoked(revoked);
      this.requestRejoin('partitions revoked in a cooperative rebalance');
    }
    await this.host.onAssigned(assigned, added);
  }

  private async computeAssignment(
    protocolName: string | null,
    members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[],
  ): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.config.assignors.find((a) => a.name === protocolName);
    if (!assignor)
      throw new KafkaError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, `unknown assignor ${protocolName}`);
    const subscriptions: MemberSubscription[] = members.map((m) => ({
      ...decodeSubscription(m.metadata),
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
    }));
    const allTopics = [...new Set(subscriptions.flatMap((s) => s.topics))];
    const counts = await this.host.partitionCounts(allTopics);
    const result = assignor.assign(counts, subscriptions);
    this.cluster.logger.debug(
      { group: this.groupId, assignor: assignor.name, members: members.length },
      'computed group assignment as leader',
    );
    return subscriptions.map((s) => ({
      memberId: s.memberId,
      assignment: encodeAssignment({ partitions: result.get(s.memberId) ?? [], userData: null }),
    }));
  }

  // ---- heartbeats ----

  private startHeartbeats(): void {
    if (this.heartbeatTimer || this.closed) return;
    this.heartbeatTimer = setInterval(() => this.heartbeatTick(), this.config.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  private heartbeatTick(): void {
    if (this.closed || this.state !== 'STABLE' || this.heartbeatInFlight) return;
    // max.poll.interval.ms: a member that stopped polling leaves, so that its partitions move on.
    if (Date.now() - this.lastPollAt > this.config.rebalanceTimeoutMs) {
      this.cluster.logger.warn(
        { group: this.groupId, memberId: this.memberId },
        'poll() was not called within max.poll.interval.ms: leaving the group',
      );
      this.leaveGroup('consumer poll timeout has expired').catch(() => {});
      return;
    }
    this.heartbeatInFlight = true;
    const generationId = this.generationId;
    this.sendToCoordinator((node) =>
      this.cluster.send(
        node,
        HeartbeatApi,
        (v) => ({
          groupId: this.groupId,
          generationId,
          memberId: this.memberId,
          groupInstanceId: v >= 3 ? this.config.groupInstanceId : null,
        }),
        {},
      ),
    )
      .then((resp) => {
        if (generationId !== this.generationId) return;
        switch (resp.errorCode) {
          case ErrorCode.NONE:
            return;
          case ErrorCode.REBALANCE_IN_PROGRESS:
            this.requestRejoin('the group is rebalancing');
            return;
          case ErrorCode.ILLEGAL_GENERATION:
          case ErrorCode.UNKNOWN_MEMBER_ID:
          case ErrorCode.FENCED_INSTANCE_ID:
            this.resetGeneration(resp.errorCode === ErrorCode.UNKNOWN_MEMBER_ID);
            this.host.wakeup();
            return;
          default:
            if (isCoordinatorError(resp.errorCode)) this.markCoordinatorUnknown();
        }
      })
      .catch((err) => this.cluster.logger.debug({ err: String(err) }, 'heartbeat failed'))
      .finally(() => {
        this.heartbeatInFlight = false;
      });
  }

  // ---- offsets ----

  /**
   * OffsetCommit, retried while the error is retriable. A commit from a member that is no longer
   * in the generation fails with CommitFailedError: its partitions may have moved.
   */
  async commitOffsets(
    offsets: OffsetToCommit[],
    options: { retry: boolean; signal?: AbortSignal },
  ): Promise<void> {
    if (offsets.length === 0) return;
    const deadline = Date.now() + this.cluster.requestTimeoutMs;
    for (;;) {
      try {
        await this.commitOnce(offsets, options.signal);
        return;
      } catch (err) {
        const retriable = err instanceof KafkaError && err.retriable;
        if (!options.retry || !retriable || Date.now() >= deadline || (this.closed && !options.retry))
          throw err;
        if (
          err instanceof KafkaConnectionError ||
          (err instanceof KafkaError && isCoordinatorError(err.code))
        ) {
          this.markCoordinatorUnknown();
        }
        await sleep(this.cluster.retryBackoffMs, options.signal);
      }
    }
  }

  private async commitOnce(offsets: OffsetToCommit[], signal?: AbortSignal): Promise<void> {
    const inGroup = this.state === 'STABLE' && this.generationId !== NO_GENERATION;
    const group = {
      groupId: this.groupId,
      generationIdOrMemberEpoch: inGroup ? this.generationId : -1,
      memberId: inGroup ? this.memberId : '',
      groupInstanceId: this.config.groupInstanceId,
    };
    const resp = await this.sendToCoordinator(
      (node) =>
        this.cluster.send(node, OffsetCommitApi, (v) => offsetCommitRequest(group, offsets, v), { signal }),
      signal,
    );
    let first: number | null = null;
    for (const t of resp.topics)
      for (const p of t.partitions) if (p.errorCode !== ErrorCode.NONE && first === null) first = p.errorCode;
    if (first === null) return;
    switch (first) {
      case ErrorCode.REBALANCE_IN_PROGRESS:
        this.requestRejoin('commit during a rebalance');
        throw new CommitFailedError(
          first,
          'the commit cannot complete: the group is rebalancing; poll again and retry',
        );
      case ErrorCode.UNKNOWN_MEMBER_ID:
      case ErrorCode.ILLEGAL_GENERATION:
      case ErrorCode.FENCED_INSTANCE_ID:
        this.resetGeneration(first === ErrorCode.UNKNOWN_MEMBER_ID);
        this.host.wakeup();
        throw new CommitFailedError(
          first,
          'the commit cannot complete: this member is no longer part of the group generation (its partitions may belong to another member now)',
        );
      default:
        if (isCoordinatorError(first)) this.markCoordinatorUnknown();
        throw new KafkaError(first, `OffsetCommit ${this.groupId}`);
    }
  }

  /** OffsetFetch for the given partitions; absent from the result when nothing is committed. */
  async fetchCommittedOffsets(
    tps: TopicPartition[],
    signal?: AbortSignal,
  ): Promise<Map<string, CommittedOffset>> {
    return fetchCommitted(this.cluster, this.groupId, tps, signal, () => this.markCoordinatorUnknown());
  }

  // ---- leaving ----

  async leaveGroup(reason: string): Promise<void> {
    const memberId = this.memberId;
    const wasMember = this.generationId !== NO_GENERATION || memberId !== '';
    this.resetGeneration(true);
    this.membershipLost = false;
    // Static members do not leave on close (Kafka): their instance id keeps the assignment.
    if (!wasMember || this.config.groupInstanceId !== null || this.coordinator === null) return;
    try {
      await this.cluster.send(
        this.coordinator,
        LeaveGroupApi,
        (v) =>
          v >= 3
            ? {
                groupId: this.groupId,
                memberId: '',
                members: [{ memberId, groupInstanceId: null, reason: v >= 5 ? reason : null }],
              }
            : { groupId: this.groupId, memberId, members: [] },
        { timeoutMs: Math.min(this.cluster.requestTimeoutMs, 5000) },
      );
    } catch (err) {
      this.cluster.logger.debug({ err: String(err) }, 'LeaveGroup failed');
    }
  }

  async close(): Promise<void> {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    await this.leaveGroup('the consumer is being closed');
    this.closed = true;
  }
}

/** OffsetFetch for one group (shared with the admin client). */
export async function fetchCommitted(
  cluster: Cluster,
  groupId: string,
  tps: TopicPartition[] | null,
  signal?: AbortSignal,
  onCoordinatorError?: () => void,
): Promise<Map<string, CommittedOffset & TopicPartition>> {
  const deadline = Date.now() + cluster.requestTimeoutMs;
  for (;;) {
    let code: number = ErrorCode.NONE;
    try {
      const node = await cluster.findCoordinator(groupId, CoordinatorType.Group, signal);
      const topics =
        tps === null
          ? null
          : groupByTopic(tps).map((t) => ({ name: t.topic, partitionIndexes: t.partitions }));
      const resp = await cluster.send(
        node,
        OffsetFetchApi,
        (v) =>
          v >= 8
            ? {
                groupId: '',
                topics: [],
                requireStable: true,
                groups: [{ groupId, memberId: null, memberEpoch: -1, topics }],
              }
            : { groupId, topics, requireStable: v >= 7, groups: [] },
        { signal },
      );
      let parts: { topic: string; p: OffsetFetchResponse.OffsetFetchResponsePartitions }[];
      if (resp.groups.length > 0) {
        const g = resp.groups[0];
        code = g.errorCode;
        parts = g.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, p })));
      } else {
        code = resp.errorCode;
        parts = resp.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, p })));
      }
      if (code === ErrorCode.NONE) {
        const out = new Map<string, CommittedOffset & TopicPartition>();
        for (const { topic, p } of parts) {
          if (p.errorCode !== ErrorCode.NONE) {
            const err = new KafkaError(p.errorCode, `OffsetFetch ${groupId} ${topic}-${p.partitionIndex}`);
            if (err.retriable) {
              code = p.errorCode;
              break;
            }
            throw err;
          }
          if (p.committedOffset < 0n) continue;
          out.set(tpKey({ topic, partition: p.partitionIndex }), {
            topic,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata: p.metadata,
          });
        }
        if (code === ErrorCode.NONE) return out;
      }
    } catch (err) {
      if (!(err instanceof KafkaError) || !err.retriable || Date.now() >= deadline) throw err;
      code = err instanceof KafkaConnectionError ? ErrorCode.COORDINATOR_NOT_AVAILABLE : err.code;
    }
    const err = new KafkaError(code, `OffsetFetch ${groupId}`);
    if (!err.retriable || Date.now() >= deadline) throw err;
    if (isCoordinatorError(code)) {
      cluster.invalidateCoordinator(groupId, CoordinatorType.Group);
      onCoordinatorError?.();
    }
    await sleep(cluster.retryBackoffMs, signal);
  }
}
