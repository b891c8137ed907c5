// ConsumerGroup and ConsumerGroupMember: the state of one KIP-848 consumer group (Kafka's
// ConsumerGroup / ConsumerGroupMember), and the reconciliation of a member's current assignment
// towards its target (Kafka's CurrentAssignmentBuilder).
//
// The state is exactly what replaying the group's records gives: every change is made by apply()
// of a ConsumerGroupRecord, at load and after a write is durable, so memory and log never differ.
// The group epoch counts changes of membership or subscriptions; the target assignment is the
// assignor's answer for a group epoch; each member converges to its target one step at a time,
// and a partition is given to a member only once no other member owns it (revocation first).

import { ErrorCode } from '../../protocol/errors.js';
import type { TopicAssignment } from './consumer-assignors.js';
import { type ConsumerGroupRecord, fromTopicPartitions } from './consumer-records.js';

/** Kafka's MemberState, as stored in ConsumerGroupCurrentMemberAssignment.state. */
export const MemberState = {
  UNREVOKED_PARTITIONS: 0,
  UNRELEASED_PARTITIONS: 1,
  STABLE: 2,
} as const;
export type MemberStateValue = (typeof MemberState)[keyof typeof MemberState];

/** Member epoch of a heartbeat that leaves the group. */
export const LEAVE_GROUP_MEMBER_EPOCH = -1;
/** Member epoch of a static member that leaves and will come back (its assignment is kept). */
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

export type ConsumerGroupState = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable';

export class ConsumerGroupMember {
  instanceId: string | null = null;
  rackId: string | null = null;
  clientId = '';
  clientHost = '';
  subscribedTopicNames: string[] = [];
  subscribedTopicRegex: string | null = null;
  serverAssignor: string | null = null;
  rebalanceTimeoutMs = -1;
  memberEpoch = 0;
  previousMemberEpoch = 0;
  state: MemberStateValue = MemberState.STABLE;
  assignedPartitions: TopicAssignment = new Map();
  partitionsPendingRevocation: TopicAssignment = new Map();

  constructor(readonly memberId: string) {}

  clone(memberId = this.memberId): ConsumerGroupMember {
    const m = new ConsumerGroupMember(memberId);
    Object.assign(m, this, { memberId });
    m.subscribedTopicNames = [...this.subscribedTopicNames];
    m.assignedPartitions = cloneAssignment(this.assignedPartitions);
    m.partitionsPendingRevocation = cloneAssignment(this.partitionsPendingRevocation);
    return m;
  }
}

export function cloneAssignment(a: TopicAssignment): TopicAssignment {
  return new Map([...a].map(([t, ps]) => [t, new Set(ps)]));
}

export function assignmentsEqual(a: TopicAssignment, b: TopicAssignment): boolean {
  if (a.size !== b.size) return false;
  for (const [t, ps] of a) {
    const other = b.get(t);
    if (!other || other.size !== ps.size) return false;
    for (const p of ps) if (!other.has(p)) return false;
  }
  return true;
}

export interface SubscribedTopicMetadata {
  id: string;
  name: string;
  numPartitions: number;
}

export class ConsumerGroup {
  groupEpoch = 0;
  targetAssignmentEpoch = 0;
  /** ConsumerGroupPartitionMetadata: the subscribed topics as of the last group epoch bump, by name. */
  subscriptionMetadata = new Map<string, SubscribedTopicMetadata>();
  readonly members = new Map<string, ConsumerGroupMember>();
  readonly targetAssignment = new Map<string, TopicAssignment>();
  /** Static members: instance id -> member id. */
  readonly staticMembers = new Map<string, string>();
  /** Who owns each partition (assigned or pending revocation): topic id -> partition -> owner's epoch. */
  private readonly partitionEpochs = new Map<string, Map<number, number>>();
  /** Heartbeats and writes of this group run one at a time, in arrival order. */
  queue: Promise<void> = Promise.resolve();
  /** Session and rebalance timers by member id (not part of the replayed state). */
  readonly sessionTimers = new Map<string, () => void>();
  readonly rebalanceTimers = new Map<string, () => void>();

  constructor(readonly groupId: string) {}

  get isEmpty(): boolean {
    return this.members.size === 0;
  }

  /** Kafka's ConsumerGroup state: Assigning while the target lags the group epoch, Reconciling while
   *  a member has not reached it. */
  get state(): ConsumerGroupState {
    if (this.members.size === 0) return 'Empty';
    if (this.groupEpoch > this.targetAssignmentEpoch) return 'Assigning';
    for (const m of this.members.values()) {
      if (m.memberEpoch !== this.targetAssignmentEpoch || m.state !== MemberState.STABLE)
        return 'Reconciling';
    }
    return 'Stable';
  }

  /** The epoch of the member owning the partition, or -1 when it is free. */
  partitionEpoch(topicId: string, partition: number): number {
    return this.partitionEpochs.get(topicId)?.get(partition) ?? -1;
  }

  /** Every topic name some member subscribes to by name (regexes are resolved by the caller). */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscriptionMetadata.has(topic);
  }

  /**
   * Kafka's ConsumerGroup.validateOffsetCommit: a commit without member epoch (admin client,
   * manual assignment) only while the group is empty; otherwise the member must exist and send
   * exactly its current epoch (STALE_MEMBER_EPOCH otherwise: it must heartbeat first).
   */
  validateOffsetCommit(memberId: string, memberEpoch: number, apiVersion?: number): number {
    if (memberEpoch < 0 && this.members.size === 0) return ErrorCode.NONE;
    const member = this.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    // The member epoch travels in OffsetCommit from v9 on; an older version cannot carry it.
    if (apiVersion !== undefined && apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
    if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  /**
   * Kafka's ConsumerGroup.validateOffsetFetch (OffsetFetch v9+): a fetch without member id and
   * epoch (admin client, a consumer that does not say) is accepted; otherwise the member must exist
   * with that epoch.
   */
  validateOffsetFetch(memberId: string | null, memberEpoch: number): number {
    if (memberId === null && memberEpoch < 0) return ErrorCode.NONE;
    const member = memberId === null ? undefined : this.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  /** Applies one record (replay at load, or a write once durable). */
  apply(r: ConsumerGroupRecord): void {
    switch (r.type) {
      case 'metadata':
        if (r.value) this.groupEpoch = r.value.epoch;
        return; // the tombstone (group deletion) is handled by the owner, which drops the group
      case 'partitionMetadata':
        this.subscriptionMetadata.clear();
        for (const t of r.value?.topics ?? []) {
          this.subscriptionMetadata.set(t.topicName, {
            id: t.topicId,
            name: t.topicName,
            numPartitions: t.numPartitions,
          });
        }
        return;
      case 'memberMetadata': {
        if (r.value === null) {
          this.removeMember(r.memberId);
          return;
        }
        const m = this.members.get(r.memberId) ?? new ConsumerGroupMember(r.memberId);
        if (m.instanceId !== null && m.instanceId !== r.value.instanceId)
          this.staticMembers.delete(m.instanceId);
        m.instanceId = r.value.instanceId;
        m.rackId = r.value.rackId;
        m.clientId = r.value.clientId;
        m.clientHost = r.value.clientHost;
        m.subscribedTopicNames = [...r.value.subscribedTopicNames];
        m.subscribedTopicRegex = r.value.subscribedTopicRegex;
        m.serverAssignor = r.value.serverAssignor;
        m.rebalanceTimeoutMs = r.value.rebalanceTimeoutMs;
        this.members.set(m.memberId, m);
        if (m.instanceId !== null) this.staticMembers.set(m.instanceId, m.memberId);
        return;
      }
      case 'targetAssignmentMetadata':
        this.targetAssignmentEpoch = r.value?.assignmentEpoch ?? 0;
        return;
      case 'targetAssignmentMember':
        if (r.value === null) this.targetAssignment.delete(r.memberId);
        else this.targetAssignment.set(r.memberId, fromTopicPartitions(r.value.topicPartitions));
        return;
      case 'currentMemberAssignment': {
        const m = this.members.get(r.memberId);
        if (!m) {
          // Kafka writes the member's metadata before its assignment; an assignment without a
          // member (its tombstone, or a stray record) has nothing to update.
          return;
        }
        this.removePartitionEpochs(m);
        if (r.value === null) {
          m.memberEpoch = 0;
          m.previousMemberEpoch = 0;
          m.state = MemberState.STABLE;
          m.assignedPartitions = new Map();
          m.partitionsPendingRevocation = new Map();
          return;
        }
        m.memberEpoch = r.value.memberEpoch;
        m.previousMemberEpoch = r.value.previousMemberEpoch;
        m.state = r.value.state as MemberStateValue;
        m.assignedPartitions = fromTopicPartitions(r.value.assignedPartitions);
        m.partitionsPendingRevocation = fromTopicPartitions(r.value.partitionsPendingRevocation);
        this.addPartitionEpochs(m);
        return;
      }
    }
  }

  private removeMember(memberId: string): void {
    const m = this.members.get(memberId);
    if (!m) return;
    this.removePartitionEpochs(m);
    this.members.delete(memberId);
    if (m.instanceId !== null && this.staticMembers.get(m.instanceId) === memberId) {
      this.staticMembers.delete(m.instanceId);
    }
  }

  private addPartitionEpochs(m: ConsumerGroupMember): void {
    for (const a of [m.assignedPartitions, m.partitionsPendingRevocation]) {
      for (const [t, ps] of a) {
        let byPartition = this.partitionEpochs.get(t);
        if (!byPartition) {
          byPartition = new Map();
          this.partitionEpochs.set(t, byPartition);
        }
        for (const p of ps) byPartition.set(p, m.memberEpoch);
      }
    }
  }

  private removePartitionEpochs(m: ConsumerGroupMember): void {
    for (const a of [m.assignedPartitions, m.partitionsPendingRevocation]) {
      for (const [t, ps] of a) {
        const byPartition = this.partitionEpochs.get(t);
        if (!byPartition) continue;
        for (const p of ps) byPartition.delete(p);
        if (byPartition.size === 0) this.partitionEpochs.delete(t);
      }
    }
  }
}

/** What the member says it owns in a heartbeat (null: not sent, i.e. unchanged). */
export type OwnedPartitions = ReadonlyArray<{ topicId: string; partitions: readonly number[] }> | null;

/**
 * Kafka's CurrentAssignmentBuilder: the member's next current assignment, epoch and state given its
 * target. A member that must give partitions up stays at its epoch (UNREVOKED_PARTITIONS) until a
 * heartbeat shows it no longer owns them; only then does it move to the target epoch and receive
 * the partitions no other member owns (UNRELEASED_PARTITIONS while some are still owned elsewhere).
 * `partitionEpoch` tells who owns a partition (-1: free). Returns a new member; the input is unchanged.
 */
export function reconcile(
  member: ConsumerGroupMember,
  targetEpoch: number,
  target: TopicAssignment,
  owned: OwnedPartitions,
  partitionEpoch: (topicId: string, partition: number) => number,
): ConsumerGroupMember {
  const ownsAnyOf = (partitions: TopicAssignment): boolean => {
    // Without the owned list the coordinator must assume the member still owns them.
    if (owned === null) return true;
    for (const tp of owned) {
      const ps = partitions.get(tp.topicId);
      if (ps && tp.partitions.some((p) => ps.has(p))) return true;
    }
    return false;
  };
  switch (member.state) {
    case MemberState.STABLE:
      if (member.memberEpoch === targetEpoch) return member;
      break;
    case MemberState.UNREVOKED_PARTITIONS:
      if (ownsAnyOf(member.partitionsPendingRevocation)) return member;
      break;
    case MemberState.UNRELEASED_PARTITIONS:
      break;
  }
  const assigned: TopicAssignment = new Map();
  const pendingRevocation: TopicAssignment = new Map();
  const pendingAssignment: TopicAssignment = new Map();
  let hasUnreleased = false;
  const topics = new Set([...member.assignedPartitions.keys(), ...target.keys()]);
  for (const topicId of topics) {
    const current = member.assignedPartitions.get(topicId) ?? new Set<number>();
    const wanted = target.get(topicId) ?? new Set<number>();
    const stay = [...current].filter((p) => wanted.has(p));
    const revoke = [...current].filter((p) => !wanted.has(p));
    const toAssign = [...wanted].filter((p) => !current.has(p));
    const free = toAssign.filter((p) => partitionEpoch(topicId, p) === -1);
    if (free.length < toAssign.length) hasUnreleased = true;
    if (stay.length > 0) assigned.set(topicId, new Set(stay));
    if (revoke.length > 0) pendingRevocation.set(topicId, new Set(revoke));
    if (free.length > 0) pendingAssignment.set(topicId, new Set(free));
  }
  const next = member.clone();
  if (pendingRevocation.size > 0 && ownsAnyOf(pendingRevocation)) {
    // Revocation first: nothing new until the member confirms it gave these up.
    next.state = MemberState.UNREVOKED_PARTITIONS;
    next.assignedPartitions = assigned;
    next.partitionsPendingRevocation = pendingRevocation;
    return next;
  }
  for (const [t, ps] of pendingAssignment) {
    const set = assigned.get(t) ?? new Set<number>();
    for (const p of ps) set.add(p);
    assigned.set(t, set);
  }
  if (member.memberEpoch !== targetEpoch) {
    next.previousMemberEpoch = member.memberEpoch;
    next.memberEpoch = targetEpoch;
  }
  next.state = hasUnreleased ? MemberState.UNRELEASED_PARTITIONS : MemberState.STABLE;
  next.assignedPartitions = assigned;
  next.partitionsPendingRevocation = new Map();
  return next;
}

/** True when every owned partition is in the assignment (a heartbeat of the previous epoch may be
 *  accepted then: the response that bumped the epoch was lost). */
export function isSubset(owned: OwnedPartitions, assignment: TopicAssignment): boolean {
  if (owned === null) return true;
  for (const tp of owned) {
    const ps = assignment.get(tp.topicId);
    for (const p of tp.partitions) if (!ps?.has(p)) return false;
  }
  return true;
}
