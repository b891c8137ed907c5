// ClassicGroup and ClassicGroupMember: the state of one classic-protocol group (Kafka's
// ClassicGroup / GroupMetadata and ClassicGroupMember / MemberMetadata), plus the group's committed
// offsets (GroupOffsets).
//
// This module owns the bookkeeping invariants (membership, static instance ids, pending members,
// votes per protocol, the count of members awaiting a join, the state machine's legal
// transitions); it has no timers and does no I/O. The coordinator decides when things happen.

import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../protocol/errors.js';
import { EMPTY_BYTES } from '../../protocol/message.js';
import type { ConsumerGroup } from './consumer-group.js';
import { type OffsetAndMetadata, parseSubscribedTopics } from './records.js';

export type ClassicGroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

/** The states a group may be in before entering each state (Kafka's ClassicGroupState.validPreviousStates). */
const VALID_PREVIOUS_STATES: Record<ClassicGroupState, readonly ClassicGroupState[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

/** The protocol type of groups formed by Kafka consumers (ConsumerProtocol.PROTOCOL_TYPE). */
export const CONSUMER_PROTOCOL_TYPE = 'consumer';

export interface Protocol {
  name: string;
  metadata: Buffer;
}

/** What a JoinGroup caller is told, before it is shaped for the request's version. */
export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: JoinResultMember[];
}

export interface JoinResultMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

/** What a SyncGroup caller is told, before it is shaped for the request's version. */
export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export type JoinWaiter = (result: JoinResult) => void;
export type SyncWaiter = (result: SyncResult) => void;

/** A JoinGroup answer that carries only an error (Kafka's JoinGroupResult(memberId, error)). */
export function joinError(memberId: string, errorCode: number): JoinResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

export function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}

export class ClassicGroupMember {
  /**
   * Responses waiting for the end of the join phase. Normally at most one; a client that sends a
   * second JoinGroup before the first is answered (over another connection) gets the same answer
   * on both rather than one left hanging.
   */
  joinWaiters: JoinWaiter[] = [];
  /** Responses waiting for the leader's assignment (same rule as joinWaiters). */
  syncWaiters: SyncWaiter[] = [];
  /** Set between a new member's first JoinGroup and the end of its first join phase. */
  isNew = false;
  assignment: Buffer = EMPTY_BYTES;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    public supportedProtocols: Protocol[],
  ) {}

  get isAwaitingJoin(): boolean {
    return this.joinWaiters.length > 0;
  }

  get isAwaitingSync(): boolean {
    return this.syncWaiters.length > 0;
  }

  get isStaticMember(): boolean {
    return this.groupInstanceId !== null;
  }

  /** The metadata this member sent for `protocolName`. */
  metadata(protocolName: string): Buffer {
    const p = this.supportedProtocols.find((x) => x.name === protocolName);
    if (!p) throw new Error(`member ${this.memberId} does not support protocol ${protocolName}`);
    return p.metadata;
  }

  /** True when `protocols` is exactly what this member joined with (names, order and bytes). */
  matches(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.supportedProtocols.length) return false;
    return protocols.every((p, i) => {
      const mine = this.supportedProtocols[i];
      return p.name === mine.name && p.metadata.equals(mine.metadata);
    });
  }

  /** The member's vote: the first protocol in its own preference order that every member supports. */
  vote(candidates: ReadonlySet<string>): string {
    const p = this.supportedProtocols.find((x) => candidates.has(x.name));
    if (!p) throw new Error(`member ${this.memberId} supports none of the candidate protocols`);
    return p.name;
  }

  /** Answers every waiting JoinGroup; returns whether any was waiting. */
  completeJoin(result: JoinResult): boolean {
    const waiters = this.joinWaiters;
    if (waiters.length === 0) return false;
    this.joinWaiters = [];
    for (const w of waiters) w(result);
    return true;
  }

  completeSync(result: SyncResult): boolean {
    const waiters = this.syncWaiters;
    if (waiters.length === 0) return false;
    this.syncWaiters = [];
    for (const w of waiters) w(result);
    return true;
  }
}

/** A committed offset and the write sequence number of the record that set it (its log order). */
export interface CommittedOffset extends OffsetAndMetadata {
  seq: number;
}

/**
 * The committed offsets of one group, and the commits still being written.
 *
 * Every write the coordinator issues gets a sequence number, increasing in issue order (the order
 * of the records in __consumer_offsets). A commit becomes visible when its append resolves, unless
 * a later-issued commit already set the partition or a deletion issued after it (a tombstone later
 * in the log) has since completed. That keeps memory equal to what replaying the log would give.
 */
export class GroupOffsets {
  private readonly committed = new Map<string, Map<number, CommittedOffset>>();
  private readonly pending = new Map<string, Map<number, Set<number>>>();

  get(topic: string, partition: number): CommittedOffset | undefined {
    return this.committed.get(topic)?.get(partition);
  }

  get isEmpty(): boolean {
    return this.committed.size === 0;
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  hasPendingFor(topic: string, partition: number): boolean {
    return this.pending.get(topic)?.has(partition) ?? false;
  }

  /** Every committed offset, by topic then partition. */
  *entries(): IterableIterator<[string, number, CommittedOffset]> {
    for (const [topic, partitions] of this.committed) {
      for (const [partition, o] of partitions) yield [topic, partition, o];
    }
  }

  /** Topic-partitions that have a committed offset or a commit in flight. */
  keys(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    const seen = new Set<string>();
    const add = (topic: string, partition: number) => {
      const k = `${partition}:${topic}`;
      if (seen.has(k)) return;
      seen.add(k);
      out.push([topic, partition]);
    };
    for (const [topic, partitions] of this.committed) for (const p of partitions.keys()) add(topic, p);
    for (const [topic, partitions] of this.pending) for (const p of partitions.keys()) add(topic, p);
    return out;
  }

  /** Sets an offset unless one written later (higher seq) is already there. Used by commits and replay. */
  put(topic: string, partition: number, o: OffsetAndMetadata, seq: number): void {
    let partitions = this.committed.get(topic);
    const current = partitions?.get(partition);
    if (current && current.seq > seq) return;
    if (!partitions) {
      partitions = new Map();
      this.committed.set(topic, partitions);
    }
    partitions.set(partition, { ...o, seq });
  }

  addPending(topic: string, partition: number, seq: number): void {
    let partitions = this.pending.get(topic);
    if (!partitions) {
      partitions = new Map();
      this.pending.set(topic, partitions);
    }
    let seqs = partitions.get(partition);
    if (!seqs) {
      seqs = new Set();
      partitions.set(partition, seqs);
    }
    seqs.add(seq);
  }

  /** Ends a commit in flight; false when a deletion written after it already removed it. */
  completePending(topic: string, partition: number, seq: number): boolean {
    const partitions = this.pending.get(topic);
    const seqs = partitions?.get(partition);
    if (!partitions || !seqs?.delete(seq)) return false;
    if (seqs.size === 0) partitions.delete(partition);
    if (partitions.size === 0) this.pending.delete(topic);
    return true;
  }

  /** Applies a tombstone written with sequence `seq`: everything written before it goes. */
  remove(topic: string, partition: number, seq: number): void {
    const partitions = this.committed.get(topic);
    const current = partitions?.get(partition);
    if (partitions && current && current.seq < seq) {
      partitions.delete(partition);
      if (partitions.size === 0) this.committed.delete(topic);
    }
    const pendingPartitions = this.pending.get(topic);
    const seqs = pendingPartitions?.get(partition);
    if (!pendingPartitions || !seqs) return;
    for (const s of seqs) if (s < seq) seqs.delete(s);
    if (seqs.size === 0) pendingPartitions.delete(partition);
    if (pendingPartitions.size === 0) this.pending.delete(topic);
  }
}

/** When an offset expires, given the group (Kafka's OffsetExpirationCondition): the timestamp its
 *  retention counts from. */
export type OffsetExpirationBase = (o: OffsetAndMetadata) => number;

/** Timers the coordinator has set for this group; cancel functions from the node Scheduler (src/util/clock.ts). */
export interface GroupTimers {
  /** The end of the join phase (rebalance timeout, or the initial rebalance delay). */
  join: (() => void) | null;
  /** The deadline for every member to SyncGroup after a join phase. */
  sync: (() => void) | null;
  /** Session timeouts, by member id (members and KIP-394 pending members). */
  heartbeats: Map<string, () => void>;
}

export class ClassicGroup {
  state: ClassicGroupState = 'Empty';
  previousState: ClassicGroupState = 'Empty';
  /** When the group entered its current state; null for a group loaded from a v0/v1 record. */
  currentStateTimestampMs: number | null;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** Members in join order (the leader falls back to the oldest). */
  readonly members = new Map<string, ClassicGroupMember>();
  /** group.instance.id -> member id (KIP-345). */
  private readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED whose owner has not joined yet (KIP-394). */
  readonly pendingMembers = new Set<string>();
  /** Members that have not sent SyncGroup since the join phase ended. */
  readonly pendingSyncMembers = new Set<string>();
  private numMembersAwaitingJoin = 0;
  /** Protocol name -> how many members support it. */
  private readonly supportedProtocols = new Map<string, number>();
  /** A member joined during the initial rebalance delay, which may then be extended. */
  newMemberAdded = false;
  /** Topics the members subscribe to ("consumer" groups with parseable metadata), else null. */
  subscribedTopics: ReadonlySet<string> | null = null;
  /**
   * Set when this group id is a KIP-848 consumer group: this entry then only keeps the group's
   * committed offsets (its classic state stays Empty), and offset validation and expiry follow the
   * consumer group (consumer-groups.ts).
   */
  consumer: ConsumerGroup | null = null;
  readonly offsets = new GroupOffsets();
  /** Commits being written, so that a require_stable OffsetFetch can wait for them. */
  readonly pendingCommitWrites = new Set<Promise<unknown>>();
  readonly timers: GroupTimers = { join: null, sync: null, heartbeats: new Map() };

  constructor(
    readonly groupId: string,
    nowMs: number | null,
  ) {
    this.currentStateTimestampMs = nowMs;
  }

  is(state: ClassicGroupState): boolean {
    return this.state === state;
  }

  transitionTo(target: ClassicGroupState, nowMs: number): void {
    if (!VALID_PREVIOUS_STATES[target].includes(this.state)) {
      throw new Error(`group ${this.groupId} cannot go from ${this.state} to ${target}`);
    }
    this.previousState = this.state;
    this.state = target;
    this.currentStateTimestampMs = nowMs;
  }

  /** Back to Empty after a deletion (Dead) whose tombstones could not be written. */
  reviveAfterFailedDelete(nowMs: number): void {
    this.previousState = this.state;
    this.state = 'Empty';
    this.currentStateTimestampMs = nowMs;
  }

  canRebalance(): boolean {
    return VALID_PREVIOUS_STATES.PreparingRebalance.includes(this.state);
  }

  get size(): number {
    return this.members.size;
  }

  get numAwaitingJoin(): number {
    return this.numMembersAwaitingJoin;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): ClassicGroupMember {
    const m = this.members.get(memberId);
    if (!m) throw new Error(`member ${memberId} is not in group ${this.groupId}`);
    return m;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingMembers.has(memberId);
  }

  hasStaticMember(groupInstanceId: string | null): boolean {
    return groupInstanceId !== null && this.staticMembers.has(groupInstanceId);
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  /** A static member whose instance id is now held by another member id (a zombie instance). */
  isStaticMemberFenced(groupInstanceId: string | null, memberId: string): boolean {
    if (groupInstanceId === null) return false;
    const current = this.staticMembers.get(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  /** Kafka's generateMemberId: the client id (or instance id) and a UUID. */
  static generateMemberId(clientId: string, groupInstanceId: string | null): string {
    return `${groupInstanceId ?? clientId}-${randomUUID()}`;
  }

  add(member: ClassicGroupMember, waiter: JoinWaiter | null): void {
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) {
        throw new Error(`static member ${member.groupInstanceId} is already in group ${this.groupId}`);
      }
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    this.incSupportedProtocols(member);
    if (waiter) {
      member.joinWaiters.push(waiter);
      this.numMembersAwaitingJoin++;
    }
    this.pendingMembers.delete(member.memberId);
  }

  /** Removes a member (or a pending member id); returns the member that was removed, if any. */
  remove(memberId: string): ClassicGroupMember | undefined {
    const member = this.members.get(memberId);
    if (member) {
      this.members.delete(memberId);
      this.decSupportedProtocols(member);
      if (member.isAwaitingJoin) this.numMembersAwaitingJoin--;
      if (member.groupInstanceId !== null) this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.isLeader(memberId)) {
      const next = this.members.keys().next();
      this.leaderId = next.done ? null : next.value;
    }
    this.pendingMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    return member;
  }

  /** Answers a member's waiting JoinGroup calls, keeping the awaiting-join count right. */
  completeJoin(member: ClassicGroupMember, result: JoinResult): boolean {
    if (!member.isAwaitingJoin) return false;
    this.numMembersAwaitingJoin--;
    return member.completeJoin(result);
  }

  /** Changes a member's protocols and timeouts; `waiter` non-null means it is now awaiting a join. */
  updateMember(
    member: ClassicGroupMember,
    protocols: Protocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    waiter: JoinWaiter | null,
  ): void {
    this.decSupportedProtocols(member);
    member.supportedProtocols = protocols;
    this.incSupportedProtocols(member);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (waiter) {
      if (!member.isAwaitingJoin) this.numMembersAwaitingJoin++;
      member.joinWaiters.push(waiter);
    }
  }

  /** Clears a member's join waiters without answering them (used when reverting a failed static rejoin). */
  dropJoinWaiters(member: ClassicGroupMember): void {
    if (member.isAwaitingJoin) this.numMembersAwaitingJoin--;
    member.joinWaiters = [];
  }

  /**
   * A static member restarted with a new member id: the member keeps its assignment and place
   * (and leadership) under the new id. Whoever still waits on the old id is fenced.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): ClassicGroupMember {
    const member = this.members.get(oldMemberId);
    if (!member) throw new Error(`cannot replace unknown member ${oldMemberId} in group ${this.groupId}`);
    this.completeJoin(member, joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    member.completeSync(syncError(ErrorCode.FENCED_INSTANCE_ID));
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    this.staticMembers.set(groupInstanceId, newMemberId);
    return member;
  }

  /**
   * Whether a member with this protocol type and these protocol names may join: anything
   * non-empty for an Empty group, otherwise the same type and one protocol every member supports.
   */
  supportsProtocols(protocolType: string, protocolNames: ReadonlySet<string>): boolean {
    if (this.is('Empty')) return protocolType !== '' && protocolNames.size > 0;
    if (this.protocolType !== protocolType) return false;
    for (const name of protocolNames) {
      if ((this.supportedProtocols.get(name) ?? 0) === this.members.size) return true;
    }
    return false;
  }

  /**
   * Kafka's selectProtocol: among the protocols every member supports, each member votes for its
   * most preferred one; the most votes wins. Ties go to the protocol voted for first in member
   * order (Kafka leaves ties to hash order).
   */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`cannot select a protocol for empty group ${this.groupId}`);
    const candidates = new Set<string>();
    for (const [name, count] of this.supportedProtocols)
      if (count === this.members.size) candidates.add(name);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.vote(candidates);
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best = '';
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  /** The largest rebalance timeout of the members: how long a join phase may take. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  hasAllMembersJoined(): boolean {
    return this.members.size === this.numMembersAwaitingJoin && this.pendingMembers.size === 0;
  }

  notYetRejoinedMembers(): ClassicGroupMember[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin);
  }

  /**
   * Ensures the leader is a member that rejoined. Returns false when no member rejoined (only
   * static members that did not rejoin are left), true otherwise.
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.isAwaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  /** Starts the next generation: CompletingRebalance with a chosen protocol, or Empty. */
  initNextGeneration(nowMs: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance', nowMs);
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('Empty', nowMs);
    }
    this.pendingSyncMembers.clear();
  }

  /** What the leader gets in its JoinGroup response: every member's metadata for the chosen protocol. */
  currentMemberMetadata(): JoinResultMember[] {
    const protocol = this.protocolName;
    if (protocol === null) throw new Error(`group ${this.groupId} has no protocol`);
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata(protocol),
    }));
  }

  /** Kafka's computeSubscribedTopics: known only for "consumer" groups whose metadata parses. */
  computeSubscribedTopics(): ReadonlySet<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
    if (this.members.size === 0) return new Set();
    const protocol = this.protocolName;
    if (protocol === null) return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const subscribed = parseSubscribedTopics(m.metadata(protocol));
      if (subscribed === null) return null;
      for (const t of subscribed) topics.add(t);
    }
    return topics;
  }

  isSubscribedToTopic(topic: string): boolean {
    if (this.consumer) return this.consumer.isSubscribedToTopic(topic);
    return this.subscribedTopics?.has(topic) ?? false;
  }

  usesConsumerGroupProtocol(): boolean {
    return this.protocolType === CONSUMER_PROTOCOL_TYPE;
  }

  /**
   * Which offsets may expire and from when (KIP-211): for an Empty group, retention counts from
   * when the group became Empty (or, for a group loaded without that timestamp, from the commit);
   * for a Stable consumer group that knows its subscriptions, from the commit (topics it still
   * subscribes to are kept by the caller); for a simple group (no protocol type), from the commit.
   * Null: nothing expires (e.g. a rebalancing group).
   */
  offsetExpirationCondition(): OffsetExpirationBase | null {
    // Kafka's ConsumerGroup: always from the commit (offsets of subscribed topics are kept).
    if (this.consumer) return (o) => o.commitTimestampMs;
    if (this.protocolType === null || this.protocolType === '') {
      return (o) => o.commitTimestampMs;
    }
    if (this.is('Empty')) {
      const since = this.currentStateTimestampMs;
      return (o) => since ?? o.commitTimestampMs;
    }
    if (this.usesConsumerGroupProtocol() && this.subscribedTopics !== null && this.is('Stable')) {
      return (o) => o.commitTimestampMs;
    }
    return null;
  }

  /** Kafka's validateMember: the member id (or the static instance's current member id) must match. */
  validateMember(memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const existing = this.staticMembers.get(groupInstanceId);
      if (existing === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (existing !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
      return ErrorCode.NONE;
    }
    return this.members.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /**
   * Kafka's ClassicGroup.validateOffsetCommit. A transactional commit (TxnOffsetCommit) without
   * member id and generation (v0-2 have neither) is accepted whatever the group's state, and the
   * group state is not enforced for it (no REBALANCE_IN_PROGRESS).
   */
  validateOffsetCommit(
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    transactional = false,
    apiVersion?: number,
  ): number {
    if (this.consumer) {
      if (this.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
      // A transactional commit without member and generation (TxnOffsetCommit v0-2) is not checked.
      if (transactional && generationId < 0 && memberId === '' && groupInstanceId === null)
        return ErrorCode.NONE;
      // The generation id field carries the member epoch (KIP-848).
      return this.consumer.validateOffsetCommit(
        memberId,
        generationId,
        transactional ? undefined : apiVersion,
      );
    }
    if (this.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // generation -1: the admin client or a consumer without group management; allowed while Empty.
    if (generationId < 0 && this.is('Empty')) return ErrorCode.NONE;
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      const err = this.validateMember(memberId, groupInstanceId);
      if (err !== ErrorCode.NONE) return err;
      if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!transactional && !this.is('Empty')) {
      // No member id and no generation (OffsetCommit v0): only an Empty group accepts it.
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    // The member has its new generation from JoinGroup but no assignment yet.
    if (!transactional && this.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  private incSupportedProtocols(member: ClassicGroupMember): void {
    for (const p of member.supportedProtocols) {
      this.supportedProtocols.set(p.name, (this.supportedProtocols.get(p.name) ?? 0) + 1);
    }
  }

  private decSupportedProtocols(member: ClassicGroupMember): void {
    for (const p of member.supportedProtocols) {
      const n = (this.supportedProtocols.get(p.name) ?? 0) - 1;
      if (n > 0) this.supportedProtocols.set(p.name, n);
      else this.supportedProtocols.delete(p.name);
    }
  }
}
