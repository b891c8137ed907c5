// The consumer's side of the KIP-848 consumer group protocol (Kafka's ConsumerMembershipManager and
// its heartbeat request manager), used with groupProtocol: 'consumer' (Kafka's group.protocol).
//
// There is no JoinGroup/SyncGroup and no client-side assignor: the member heartbeats
// (ConsumerGroupHeartbeat) with its subscription and the partitions it owns, and the coordinator
// answers with its member epoch and, when it changed, the partitions it should own. Reconciling
// runs inside the consumer's poll, as with the classic protocol, so that the rebalance listener
// runs between two polls: partitions taken away are committed (with auto-commit) and revoked
// first, then the new ones are assigned, and the next heartbeat (sent at once) reports what the
// member owns now, which is what lets the coordinator give the revoked partitions to others.
//
// A fenced member (FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID) has lost its partitions: they are
// dropped without a commit and the member rejoins at epoch 0. Errors that no retry fixes
// (UNRELEASED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED, UNSUPPORTED_ASSIGNOR, INVALID_REQUEST ...) are
// raised from the next poll.

import { randomBytes } from 'node:crypto';
import { ErrorCode } from '../protocol/errors.js';
import type { ConsumerGroupHeartbeatRequest } from '../protocol/generated/messages/ConsumerGroupHeartbeatRequest.js';
import type { ConsumerGroupHeartbeatResponse } from '../protocol/generated/messages/ConsumerGroupHeartbeatResponse.js';
import { ConsumerGroupHeartbeatApi, OffsetCommitApi } from './apis.js';
import { type Cluster, CoordinatorType, sleep } from './cluster.js';
import {
  type CommittedOffset,
  type CoordinatorHost,
  fetchCommitted,
  type OffsetToCommit,
  offsetCommitRequest,
} from './consumer-coordinator.js';
import { type TopicPartition, tpKey } from './consumer-protocol.js';
import { CommitFailedError, KafkaConnectionError, KafkaError } from './errors.js';

export interface MembershipConfig {
  groupId: string;
  groupInstanceId: string | null;
  /** max.poll.interval.ms: the rebalance timeout, and how long poll() may not be called. */
  rebalanceTimeoutMs: number;
  /** group.remote.assignor: the server-side assignor to ask for (null: the group's default). */
  serverAssignor: string | null;
  rackId: string | null;
}

const LEAVE_GROUP_EPOCH = -1;
const LEAVE_GROUP_STATIC_EPOCH = -2;

function isCoordinatorError(code: number): boolean {
  return (
    code === ErrorCode.NOT_COORDINATOR ||
    code === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
    code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
  );
}

type Assignment = Map<string, number[]>;

export class ConsumerMembershipManager {
  memberId = '';
  memberEpoch = 0;
  /** UNJOINED until the first heartbeat answered; STABLE while a member (whatever it reconciles). */
  state: 'UNJOINED' | 'REBALANCING' | 'STABLE' = 'UNJOINED';
  readonly protocolName: string | null = null;
  lastPollAt = Date.now();
  /** Unused with this protocol (the coordinator watches the topics); kept for the consumer's watch. */
  readonly assignedTopicPartitionCounts = new Map<string, number>();
  private heartbeatIntervalMs = 5000;
  private coordinator: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  /** The last assignment the coordinator sent and the consumer has not reconciled yet. */
  private pendingTarget: Assignment | null = null;
  /** What the member owns, by topic id, as reported in heartbeats. */
  private owned: Assignment = new Map();
  private subscriptionSent: string | null = null;
  private fatal: KafkaError | null = null;
  private lost = false;
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    readonly config: MembershipConfig,
    private readonly host: CoordinatorHost,
  ) {}

  get groupId(): string {
    return this.config.groupId;
  }

  /** The member epoch, which OffsetCommit carries as its generation id (-1 while not a member). */
  get generationId(): number {
    return this.memberEpoch > 0 ? this.memberEpoch : -1;
  }

  requestRejoin(reason: string): void {
    // The subscription is compared at each heartbeat; send one now so the coordinator learns it.
    this.cluster.logger.debug({ group: this.groupId, reason }, 'heartbeat requested');
    this.heartbeatSoon();
  }

  /** Joins if needed and reconciles the latest assignment; raises a fatal group error. */
  async ensureActiveGroup(signal?: AbortSignal): Promise<void> {
    if (this.closed) return;
    this.startTimer();
    if (this.fatal) {
      const err = this.fatal;
      this.fatal = null;
      throw err;
    }
    if (this.lost) {
      this.lost = false;
      const owned = this.host.ownedPartitions();
      this.owned = new Map();
      if (owned.length > 0) await this.host.onLost(owned);
    }
    let backoff = this.cluster.retryBackoffMs;
    while (this.state === 'UNJOINED' && !this.closed) {
      signal?.throwIfAborted();
      await this.heartbeat(signal);
      if (this.fatal) {
        const err = this.fatal;
        this.fatal = null;
        throw err;
      }
      if (this.state !== 'UNJOINED') break;
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, 1000);
    }
    while (this.pendingTarget && !this.closed) await this.reconcile(signal);
  }

  /** Revoke what is no longer assigned (after a commit), then assign what is new. */
  private async reconcile(signal?: AbortSignal): Promise<void> {
    const target = this.pendingTarget;
    if (!target) return;
    if ([...target.keys()].some((id) => this.cluster.topicNameById(id) === undefined)) {
      await this.cluster.refreshMetadata(signal);
    }
    const tps: TopicPartition[] = [];
    const resolved: Assignment = new Map();
    for (const [id, partitions] of target) {
      const topic = this.cluster.topicNameById(id);
      // A topic this client cannot name yet stays unassigned until a later heartbeat resends it.
      if (topic === undefined) continue;
      resolved.set(id, partitions);
      for (const partition of partitions) tps.push({ topic, partition });
    }
    if (this.pendingTarget === target) this.pendingTarget = null;
    const owned = this.host.ownedPartitions();
    const targetKeys = new Set(tps.map(tpKey));
    const ownedKeys = new Set(owned.map(tpKey));
    const revoked = owned.filter((tp) => !targetKeys.has(tpKey(tp)));
    const added = tps.filter((tp) => !ownedKeys.has(tpKey(tp)));
    if (revoked.length > 0) {
      await this.host.commitBeforeRevoke();
      await this.host.onRevoked(revoked);
    }
    await this.host.onAssigned(tps, added);
    this.owned = resolved;
    // Tell the coordinator at once: the partitions revoked can go to their next owner.
    if (revoked.length > 0 || added.length > 0) this.heartbeatSoon();
  }

  // ---- heartbeats ----

  private startTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick();
    }, this.heartbeatIntervalMs);
    this.timer.unref();
  }

  private heartbeatSoon(): void {
    if (this.closed || this.state === 'UNJOINED') return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.tick();
  }

  private tick(): void {
    if (this.closed) return;
    if (this.state !== 'UNJOINED' && Date.now() - this.lastPollAt > this.config.rebalanceTimeoutMs) {
      this.cluster.logger.warn(
        { group: this.groupId, memberId: this.memberId },
        'poll() was not called within max.poll.interval.ms: leaving the group',
      );
      this.leaveGroup('consumer poll timeout has expired').catch(() => {});
      return;
    }
    if (this.state !== 'UNJOINED') {
      this.heartbeat().catch((err) => this.cluster.logger.debug({ err: String(err) }, 'heartbeat failed'));
    }
    this.startTimer();
  }

  /** One heartbeat at a time: a caller arriving during one waits for it and sends its own. */
  private async heartbeat(signal?: AbortSignal): Promise<void> {
    while (this.inFlight) await this.inFlight;
    const run = this.sendHeartbeat(signal);
    this.inFlight = run.finally(() => {
      this.inFlight = null;
    });
    await this.inFlight;
  }

  private async sendHeartbeat(signal?: AbortSignal): Promise<void> {
    const joining = this.memberEpoch === 0;
    const topics = this.host.subscribedTopics().sort();
    const subscription = topics.join(',');
    const sendSubscription = joining || subscription !== this.subscriptionSent;
    const epoch = this.memberEpoch;
    let resp: ConsumerGroupHeartbeatResponse;
    try {
      const node = await this.ensureCoordinator(signal);
      resp = await this.cluster.send(
        node,
        ConsumerGroupHeartbeatApi,
        (v): ConsumerGroupHeartbeatRequest => {
          // v1 (KIP-1082): the member chooses its id; v0: the coordinator does at the first join.
          if (v >= 1 && this.memberId === '') this.memberId = randomBytes(16).toString('base64url');
          return {
            groupId: this.groupId,
            memberId: this.memberId,
            memberEpoch: epoch,
            instanceId: this.config.groupInstanceId,
            rackId: joining ? this.config.rackId : null,
            rebalanceTimeoutMs: joining ? this.config.rebalanceTimeoutMs : -1,
            subscribedTopicNames: sendSubscription ? topics : null,
            subscribedTopicRegex: null,
            serverAssignor: joining ? this.config.serverAssignor : null,
            topicPartitions: joining
              ? []
              : [...this.owned].map(([topicId, partitions]) => ({ topicId, partitions: [...partitions] })),
          };
        },
        { signal },
      );
    } catch (err) {
      if (err instanceof KafkaConnectionError) this.markCoordinatorUnknown();
      if (err instanceof KafkaError && !err.retriable) this.fatal = err;
      return;
    }
    if (this.closed || epoch !== this.memberEpoch) return; // answered after a leave or a fence
    switch (resp.errorCode) {
      case ErrorCode.NONE:
        if (resp.memberId) this.memberId = resp.memberId;
        this.memberEpoch = resp.memberEpoch;
        if (resp.heartbeatIntervalMs > 0) this.heartbeatIntervalMs = resp.heartbeatIntervalMs;
        if (sendSubscription) this.subscriptionSent = subscription;
        if (this.memberEpoch > 0) this.state = 'STABLE';
        if (resp.assignment) {
          this.pendingTarget = new Map(
            resp.assignment.topicPartitions.map((tp) => [tp.topicId, tp.partitions]),
          );
          this.host.wakeup();
        }
        return;
      case ErrorCode.FENCED_MEMBER_EPOCH:
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.cluster.logger.info(
          { group: this.groupId, memberId: this.memberId, error: resp.errorMessage },
          'member fenced: its partitions are lost; rejoining',
        );
        this.fenced();
        return;
      default: {
        if (isCoordinatorError(resp.errorCode)) {
          this.markCoordinatorUnknown();
          return;
        }
        const err = new KafkaError(
          resp.errorCode,
          resp.errorMessage ?? `ConsumerGroupHeartbeat ${this.groupId}`,
        );
        if (!err.retriable) {
          this.fatal = err;
          this.host.wakeup();
        }
      }
    }
  }

  private fenced(): void {
    this.memberEpoch = 0;
    this.state = 'UNJOINED';
    this.pendingTarget = null;
    this.subscriptionSent = null;
    this.lost = true;
    this.host.wakeup();
  }

  private async ensureCoordinator(signal?: AbortSignal): Promise<number> {
    if (this.coordinator !== null) return this.coordinator;
    this.coordinator = await this.cluster.findCoordinator(this.groupId, CoordinatorType.Group, signal);
    return this.coordinator;
  }

  private markCoordinatorUnknown(): void {
    this.coordinator = null;
    this.cluster.invalidateCoordinator(this.groupId, CoordinatorType.Group);
  }

  // ---- offsets ----

  /**
   * OffsetCommit with the member epoch as generation id. STALE_MEMBER_EPOCH (the epoch moved on
   * since the last heartbeat) is retried after a heartbeat; a fenced member's commit fails with
   * CommitFailedError.
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
        const retriable =
          err instanceof KafkaError && (err.retriable || err.code === ErrorCode.STALE_MEMBER_EPOCH);
        if (!options.retry || !retriable || Date.now() >= deadline) throw err;
        if (err instanceof KafkaError && err.code === ErrorCode.STALE_MEMBER_EPOCH) {
          await this.heartbeat(options.signal);
        } else {
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
  }

  private async commitOnce(offsets: OffsetToCommit[], signal?: AbortSignal): Promise<void> {
    const inGroup = this.memberEpoch > 0;
    const group = {
      groupId: this.groupId,
      generationIdOrMemberEpoch: inGroup ? this.memberEpoch : -1,
      memberId: inGroup ? this.memberId : '',
      groupInstanceId: this.config.groupInstanceId,
    };
    const node = await this.ensureCoordinator(signal);
    const resp = await this.cluster.send(
      node,
      OffsetCommitApi,
      (v) => offsetCommitRequest(group, offsets, v),
      { signal },
    );
    let first: number | null = null;
    for (const t of resp.topics)
      for (const p of t.partitions) if (p.errorCode !== ErrorCode.NONE && first === null) first = p.errorCode;
    if (first === null) return;
    switch (first) {
      case ErrorCode.UNKNOWN_MEMBER_ID:
      case ErrorCode.FENCED_MEMBER_EPOCH:
      case ErrorCode.FENCED_INSTANCE_ID:
        this.fenced();
        throw new CommitFailedError(
          first,
          'the commit cannot complete: this member is no longer in the group (its partitions may belong to another member now)',
        );
      default:
        if (isCoordinatorError(first)) this.markCoordinatorUnknown();
        throw new KafkaError(first, `OffsetCommit ${this.groupId}`);
    }
  }

  fetchCommittedOffsets(tps: TopicPartition[], signal?: AbortSignal): Promise<Map<string, CommittedOffset>> {
    return fetchCommitted(this.cluster, this.groupId, tps, signal, () => this.markCoordinatorUnknown());
  }

  // ---- leaving ----

  /** A heartbeat with epoch -1 (-2 for a static member, which keeps its assignment for a while). */
  async leaveGroup(reason: string): Promise<void> {
    while (this.inFlight) await this.inFlight.catch(() => {});
    const wasMember = this.memberEpoch > 0;
    const memberId = this.memberId;
    this.memberEpoch = 0;
    this.state = 'UNJOINED';
    this.pendingTarget = null;
    this.owned = new Map();
    this.subscriptionSent = null;
    if (!wasMember || this.coordinator === null) return;
    const epoch = this.config.groupInstanceId !== null ? LEAVE_GROUP_STATIC_EPOCH : LEAVE_GROUP_EPOCH;
    this.cluster.logger.debug({ group: this.groupId, memberId, reason }, 'leaving the consumer group');
    try {
      await this.cluster.send(
        this.coordinator,
        ConsumerGroupHeartbeatApi,
        {
          groupId: this.groupId,
          memberId,
          memberEpoch: epoch,
          instanceId: this.config.groupInstanceId,
          rackId: null,
          rebalanceTimeoutMs: -1,
          subscribedTopicNames: null,
          subscribedTopicRegex: null,
          serverAssignor: null,
          topicPartitions: null,
        },
        { timeoutMs: Math.min(this.cluster.requestTimeoutMs, 5000) },
      );
    } catch (err) {
      this.cluster.logger.debug({ err: String(err) }, 'leave heartbeat failed');
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.leaveGroup('the consumer is being closed');
    this.closed = true;
  }
}
