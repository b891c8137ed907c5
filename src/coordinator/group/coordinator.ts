// GroupCoordinator: the classic-protocol group coordinator (Kafka's GroupCoordinator /
// GroupMetadataManager for classic groups), as a single-owner state machine.
//
// It owns every group of every __consumer_offsets partition on this broker: membership and
// rebalances (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), static membership (KIP-345), member
// ids required before joining (KIP-394), group listing/description/deletion, and through
// OffsetMetadataManager the committed offsets. It does no I/O of its own: records go to a GroupStore
// (the broker's acks=all append to __consumer_offsets) and come back through replay() at load;
// every timer goes through the node's NodeTime (src/util/clock.ts). Requests are answered with the generated response
// objects of the request's version.
//
// Lifecycle: construct, replay() every record of every partition in log order (replayTxn() for the
// records of transactional batches, replayMarker() for COMMIT/ABORT markers), startup(), serve,
// shutdown(). Before startup() requests get COORDINATOR_LOAD_IN_PROGRESS (as Kafka while loading);
// after shutdown() NOT_COORDINATOR.
//
// Transactional offset commits (TxnOffsetCommit, exactly-once) are written as transactional batches
// of the producer and stay pending (txn-offsets.ts) until the broker has durably written the
// transaction's marker to the group's __consumer_offsets partition and calls completeTransaction().
//
// Where Kafka would apply a state change before its record is durable and undo it on failure, this
// coordinator applies it when the append resolves (offsets, assignments, deletions), so memory is
// always what replaying the log would give.

import { ErrorCode } from '../../protocol/errors.js';
import type { ConsumerGroupDescribeRequest } from '../../protocol/generated/messages/ConsumerGroupDescribeRequest.js';
import type { ConsumerGroupDescribeResponse } from '../../protocol/generated/messages/ConsumerGroupDescribeResponse.js';
import type { ConsumerGroupHeartbeatRequest } from '../../protocol/generated/messages/ConsumerGroupHeartbeatRequest.js';
import type { ConsumerGroupHeartbeatResponse } from '../../protocol/generated/messages/ConsumerGroupHeartbeatResponse.js';
import type { DeleteGroupsRequest } from '../../protocol/generated/messages/DeleteGroupsRequest.js';
import { DeleteGroupsResponse } from '../../protocol/generated/messages/DeleteGroupsResponse.js';
import type { DescribeGroupsRequest } from '../../protocol/generated/messages/DescribeGroupsRequest.js';
import { DescribeGroupsResponse } from '../../protocol/generated/messages/DescribeGroupsResponse.js';
import type { HeartbeatRequest } from '../../protocol/generated/messages/HeartbeatRequest.js';
import { HeartbeatResponse } from '../../protocol/generated/messages/HeartbeatResponse.js';
import type { JoinGroupRequest } from '../../protocol/generated/messages/JoinGroupRequest.js';
import type { JoinGroupResponse } from '../../protocol/generated/messages/JoinGroupResponse.js';
import type { LeaveGroupRequest } from '../../protocol/generated/messages/LeaveGroupRequest.js';
import { LeaveGroupResponse } from '../../protocol/generated/messages/LeaveGroupResponse.js';
import type { ListGroupsRequest } from '../../protocol/generated/messages/ListGroupsRequest.js';
import { ListGroupsResponse } from '../../protocol/generated/messages/ListGroupsResponse.js';
import type { OffsetCommitRequest } from '../../protocol/generated/messages/OffsetCommitRequest.js';
import type { OffsetCommitResponse } from '../../protocol/generated/messages/OffsetCommitResponse.js';
import type { OffsetDeleteRequest } from '../../protocol/generated/messages/OffsetDeleteRequest.js';
import type { OffsetDeleteResponse } from '../../protocol/generated/messages/OffsetDeleteResponse.js';
import type { OffsetFetchRequest } from '../../protocol/generated/messages/OffsetFetchRequest.js';
import type { OffsetFetchResponse } from '../../protocol/generated/messages/OffsetFetchResponse.js';
import type { SyncGroupRequest } from '../../protocol/generated/messages/SyncGroupRequest.js';
import type { SyncGroupResponse } from '../../protocol/generated/messages/SyncGroupResponse.js';
import type { TxnOffsetCommitRequest } from '../../protocol/generated/messages/TxnOffsetCommitRequest.js';
import type { TxnOffsetCommitResponse } from '../../protocol/generated/messages/TxnOffsetCommitResponse.js';
import { EMPTY_BYTES } from '../../protocol/message.js';
import type { NodeTime } from '../../util/clock.js';
import {
  type ConsumerGroupConfig,
  ConsumerGroupManager,
  type ConsumerTopicMetadata,
  DEFAULT_CONSUMER_GROUP_CONFIG,
} from './consumer-groups.js';
import {
  ClassicGroup,
  ClassicGroupMember,
  CONSUMER_PROTOCOL_TYPE,
  type JoinResult,
  type JoinWaiter,
  joinError,
  type Protocol,
  type SyncResult,
  syncError,
} from './group.js';
import { OffsetMetadataManager } from './offsets.js';
import {
  groupMetadataKey,
  groupMetadataValue,
  parseGroupMetadataValue,
  parseOffsetCommitValue,
  parseRecordKey,
} from './records.js';
import { toJoinGroupResponse, toSyncGroupResponse } from './responses.js';
import {
  appendErrorCode,
  appendErrorToResponseError,
  type GroupStore,
  type OffsetsRecord,
  type TxnAppendOptions,
} from './store.js';
import { PendingTxnOffsets } from './txn-offsets.js';

export { type GroupStore, GroupStoreError, type OffsetsRecord, type TxnAppendOptions } from './store.js';

export interface TopicLookup {
  partitionExists(topic: string, partition: number): boolean;
  /** For KIP-848 consumer groups (absent: consumer groups see no topics). */
  topic?(name: string): ConsumerTopicMetadata | undefined;
  topicById?(id: string): ConsumerTopicMetadata | undefined;
  topicNames?(): Iterable<string>;
}

export interface GroupCoordinatorConfig {
  numPartitions: number; // offsets.topic.num.partitions (50)
  groupMinSessionTimeoutMs: number; // 6000
  groupMaxSessionTimeoutMs: number; // 1800000
  groupInitialRebalanceDelayMs: number; // 3000
  groupMaxSize: number; // 2147483647
  offsetMetadataMaxBytes: number; // 4096
  offsetsRetentionMs: number; // offsets.retention.minutes * 60000 (7 days)
  offsetsRetentionCheckIntervalMs: number; // 600000
  /** The group.consumer.* settings of KIP-848 consumer groups (Kafka's defaults when absent). */
  consumerGroup?: ConsumerGroupConfig;
}

export interface CoordinatorLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
}

/**
 * How long a new member's first JoinGroup may wait for the join phase to end (Kafka's
 * group.coordinator.new.member.join.timeout, 5 minutes). Its session timeout does not apply yet:
 * it has no member id to heartbeat with.
 */
const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

/** The group type ListGroups v5 reports for these groups. */
const CLASSIC_GROUP_TYPE = 'classic';
/** ... and for KIP-848 consumer groups. */
const CONSUMER_GROUP_TYPE = 'consumer';

const NO_LOGGER: CoordinatorLogger = { info() {}, warn() {} };

/** A JoinGroup request, version differences resolved. */
interface JoinRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  /** v4+ (KIP-394): a dynamic member must first be given a member id. */
  requireKnownMemberId: boolean;
  /** v9+: a static leader rejoining a Stable group is told to skip the assignment. */
  supportSkippingAssignment: boolean;
  reason: string;
}

/** Java's String.hashCode over UTF-16 code units. */
function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** The protocols of a JoinGroup, copied out of the request buffer; a repeated name keeps its first entry. */
function joinProtocols(req: JoinGroupRequest): Protocol[] {
  const seen = new Set<string>();
  const out: Protocol[] = [];
  for (const p of req.protocols) {
    if (seen.has(p.name)) continue;
    seen.add(p.name);
    out.push({ name: p.name, metadata: Buffer.from(p.metadata) });
  }
  return out;
}

export class GroupCoordinator {
  private readonly config: GroupCoordinatorConfig;
  private readonly time: NodeTime;
  private readonly store: GroupStore;
  private readonly topics: TopicLookup;
  private readonly logger: CoordinatorLogger;
  private readonly groups = new Map<string, ClassicGroup>();
  private readonly offsets: OffsetMetadataManager;
  /** Offsets of open transactions (TxnOffsetCommit), until their marker. */
  private readonly txnOffsets = new PendingTxnOffsets();
  /** completeTransaction() calls that came while loading: applied by startup(), after the replay. */
  private deferredTxnCompletions: Array<{ partition: number; producerId: bigint; commit: boolean }> = [];
  private lifecycle: 'loading' | 'active' | 'shutdown' = 'loading';
  /** Sequence number of the last write issued (or record replayed): the log order of writes. */
  private writeSeq = 0;
  private cancelExpiry: (() => void) | null = null;
  /** KIP-848 consumer groups (ConsumerGroupHeartbeat, ConsumerGroupDescribe). */
  private readonly consumerGroups: ConsumerGroupManager;
  /** Counters for the broker's metrics (Kafka's group-coordinator-metrics): plain increments. */
  readonly stats = { rebalances: 0, offsetCommits: 0 };

  constructor(opts: {
    config: GroupCoordinatorConfig;
    time: NodeTime;
    store: GroupStore;
    topics: TopicLookup;
    logger?: CoordinatorLogger;
  }) {
    this.config = opts.config;
    this.time = opts.time;
    this.store = opts.store;
    this.topics = opts.topics;
    this.logger = opts.logger ?? NO_LOGGER;
    this.offsets = new OffsetMetadataManager({
      time: this.time,
      offsetMetadataMaxBytes: this.config.offsetMetadataMaxBytes,
      offsetsRetentionMs: this.config.offsetsRetentionMs,
      partitionExists: (topic, partition) => this.topics.partitionExists(topic, partition),
      group: (groupId) => this.groups.get(groupId),
      createGroup: (groupId) => this.createGroup(groupId),
      rescheduleHeartbeat: (group, member) => this.rescheduleHeartbeat(group, member),
      append: (groupId, records, txn) => this.append(groupId, records, txn),
      txnOffsets: this.txnOffsets,
      nextWriteSeq: () => ++this.writeSeq,
    });
    const topics = this.topics;
    this.consumerGroups = new ConsumerGroupManager(
      {
        time: this.time,
        topics: {
          topic: (name) => topics.topic?.(name),
          topicById: (id) => topics.topicById?.(id),
          topicNames: () => topics.topicNames?.() ?? [],
        },
        group: (groupId) => this.groups.get(groupId),
        createGroup: (groupId) => this.createGroup(groupId),
        append: (groupId, records) => {
          ++this.writeSeq;
          return this.append(groupId, records);
        },
        unavailableError: () => this.unavailableError(),
        warn: (o, msg) => this.logger.warn(o, msg),
      },
      this.config.consumerGroup ?? DEFAULT_CONSUMER_GROUP_CONFIG,
    );
  }

  /** Kafka's partitionFor: Utils.abs(groupId.hashCode()) % numPartitions (Java String.hashCode). */
  partitionFor(groupId: string): number {
    const h = javaStringHashCode(groupId);
    // Kafka's Utils.abs maps Integer.MIN_VALUE to 0.
    const abs = h === -2147483648 ? 0 : Math.abs(h);
    return abs % this.config.numPartitions;
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle: replay, startup, shutdown
  // ---------------------------------------------------------------------------------------------

  /** Replays one __consumer_offsets record at load, in log order (value null = tombstone). */
  replay(partition: number, key: Buffer, value: Buffer | null): void {
    try {
      if (this.consumerGroups.replay(key, value)) return;
      const parsed = parseRecordKey(key);
      if (parsed.type === 'offset') {
        this.replayOffset(parsed.group, parsed.topic, parsed.partition, value);
      } else if (parsed.type === 'group') {
        if (value === null) this.replayGroupTombstone(parsed.group);
        else this.loadGroup(parsed.group, value);
      }
      // Other key versions (share groups ...) are not ours.
    } catch (e) {
      // Kafka fails the partition load; a single unreadable record should not take the broker down.
      this.logger.warn({ partition, err: String(e) }, 'skipping unreadable __consumer_offsets record');
    }
  }

  /**
   * Replays one record of a TRANSACTIONAL batch of producer `producerId` at load, in log order: an
   * offset commit becomes pending until the producer's marker (replayMarker) is replayed; if none
   * follows, the transaction is still open and completeTransaction() ends it later. A tombstone (or
   * any other record) is replayed as in a non-transactional batch, as Kafka does.
   */
  replayTxn(partition: number, producerId: bigint, key: Buffer, value: Buffer | null): void {
    try {
      const parsed = parseRecordKey(key);
      if (parsed.type !== 'offset' || value === null) {
        this.replay(partition, key, value);
        return;
      }
      const offset = parseOffsetCommitValue(value);
      const seq = ++this.writeSeq;
      // As Kafka, the group exists once an offset is committed for it (a simple group if need be).
      if (!this.groups.has(parsed.group)) this.createGroup(parsed.group);
      this.txnOffsets.add(producerId, parsed.group, parsed.topic, parsed.partition, { ...offset, seq });
    } catch (e) {
      this.logger.warn({ partition, err: String(e) }, 'skipping unreadable __consumer_offsets record');
    }
  }

  /** Replays a COMMIT/ABORT marker of producer `producerId` found in __consumer_offsets `partition`. */
  replayMarker(partition: number, producerId: bigint, commit: boolean): void {
    this.endTransaction(partition, producerId, commit);
  }

  private replayOffset(groupId: string, topic: string, partition: number, value: Buffer | null): void {
    const seq = ++this.writeSeq;
    if (value === null) {
      // The tombstone also drops pending transactional offsets written before it (Kafka's replay).
      this.txnOffsets.remove(groupId, topic, partition, seq);
      const group = this.groups.get(groupId);
      if (!group) return;
      group.offsets.remove(topic, partition, seq);
      // A group that only existed through its offsets (a simple group) is gone with them.
      if (
        group.is('Empty') &&
        group.generationId === 0 &&
        group.protocolType === null &&
        group.offsets.isEmpty &&
        !this.txnOffsets.hasOpenTransactions(groupId)
      ) {
        this.groups.delete(groupId);
      }
      return;
    }
    const offset = parseOffsetCommitValue(value);
    const group = this.groups.get(groupId) ?? this.createGroup(groupId);
    group.offsets.put(topic, partition, offset, seq);
  }

  /** A group tombstone ends the group's membership; offsets written since (if any) keep a simple group. */
  private replayGroupTombstone(groupId: string): void {
    const old = this.groups.get(groupId);
    if (!old) return;
    this.groups.delete(groupId);
    if (old.offsets.isEmpty && !old.consumer) return;
    const fresh = this.createGroup(groupId);
    fresh.consumer = old.consumer;
    for (const [topic, partition, o] of old.offsets.entries()) fresh.offsets.put(topic, partition, o, o.seq);
  }

  /** Restores a group from its GroupMetadata record: Stable with its members, or Empty without. */
  private loadGroup(groupId: string, valueBytes: Buffer): void {
    const value = parseGroupMetadataValue(valueBytes);
    const old = this.groups.get(groupId);
    const stateTimestamp = value.currentStateTimestamp >= 0n ? Number(value.currentStateTimestamp) : null;
    const group = new ClassicGroup(groupId, stateTimestamp);
    if (old) {
      for (const [topic, partition, o] of old.offsets.entries())
        group.offsets.put(topic, partition, o, o.seq);
      group.consumer = old.consumer;
    }
    group.generationId = value.generation;
    group.protocolType = value.protocolType === '' ? null : value.protocolType;
    group.protocolName = value.protocol;
    const protocolName = value.protocol;
    if (protocolName !== null) {
      for (const m of value.members) {
        const member = new ClassicGroupMember(
          m.memberId,
          m.groupInstanceId,
          m.clientId,
          m.clientHost,
          // v0 records have no rebalance timeout: Kafka used the session timeout.
          m.rebalanceTimeout >= 0 ? m.rebalanceTimeout : m.sessionTimeout,
          m.sessionTimeout,
          value.protocolType,
          [{ name: protocolName, metadata: Buffer.from(m.subscription) }],
        );
        member.assignment = Buffer.from(m.assignment);
        group.add(member, null);
      }
    } else if (value.members.length > 0) {
      this.logger.warn({ groupId }, 'group metadata record with members but no protocol; loading it empty');
    }
    if (value.leader !== null && group.has(value.leader)) group.leaderId = value.leader;
    group.state = group.size > 0 ? 'Stable' : 'Empty';
    group.subscribedTopics = group.computeSubscribedTopics();
    this.groups.set(groupId, group);
  }

  /** After every replay: schedules session timers of loaded members, the offset-expiry task. */
  startup(): void {
    if (this.lifecycle !== 'loading') return;
    this.lifecycle = 'active';
    // Markers written while the log was being replayed come after everything replayed.
    for (const d of this.deferredTxnCompletions) this.endTransaction(d.partition, d.producerId, d.commit);
    this.deferredTxnCompletions = [];
    for (const group of this.groups.values()) {
      if (group.size > this.config.groupMaxSize) {
        // Rebalancing lets the consumers commit offsets; the ones that do not fit are removed.
        this.prepareRebalance(group, `freshly-loaded group is over capacity (${this.config.groupMaxSize})`);
      }
      for (const member of group.members.values()) this.rescheduleHeartbeat(group, member);
    }
    this.consumerGroups.startup();
    this.scheduleOffsetExpiry();
  }

  /** Cancels every timer; pending JoinGroup/SyncGroup calls are answered NOT_COORDINATOR (Kafka's
   *  onUnloaded). */
  shutdown(): void {
    if (this.lifecycle === 'shutdown') return;
    this.lifecycle = 'shutdown';
    this.cancelExpiry?.();
    this.cancelExpiry = null;
    this.consumerGroups.shutdown();
    for (const group of this.groups.values()) {
      this.cancelGroupTimers(group);
      if (!group.is('Dead')) group.transitionTo('Dead', this.time.now());
      for (const member of group.members.values()) {
        group.completeJoin(member, joinError(member.memberId, ErrorCode.NOT_COORDINATOR));
        member.completeSync(syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }

  /** The error every request gets while this coordinator is not serving, or NONE. */
  private unavailableError(): number {
    if (this.lifecycle === 'loading') return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (this.lifecycle === 'shutdown') return ErrorCode.NOT_COORDINATOR;
    return ErrorCode.NONE;
  }

  // ---------------------------------------------------------------------------------------------
  // JoinGroup
  // ---------------------------------------------------------------------------------------------

  joinGroup(
    req: JoinGroupRequest,
    version: number,
    clientId: string,
    clientHost: string,
  ): Promise<JoinGroupResponse> {
    const respond = (r: JoinResult) => toJoinGroupResponse(r, version);
    const unavailable = this.unavailableError();
    if (unavailable !== ErrorCode.NONE) return Promise.resolve(respond(joinError(req.memberId, unavailable)));
    if (req.groupId === '')
      return Promise.resolve(respond(joinError(req.memberId, ErrorCode.INVALID_GROUP_ID)));
    if (
      req.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs ||
      req.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs
    ) {
      return Promise.resolve(respond(joinError(req.memberId, ErrorCode.INVALID_SESSION_TIMEOUT)));
    }
    const join: JoinRequest = {
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      clientId,
      clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      // v0 has no rebalance timeout: the session timeout bounds the join phase.
      rebalanceTimeoutMs: version === 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols: joinProtocols(req),
      requireKnownMemberId: version >= 4,
      supportSkippingAssignment: version >= 9,
      reason: req.reason ?? 'not provided',
    };
    return new Promise((resolve) => this.handleJoin(join, (r) => resolve(respond(r))));
  }

  private handleJoin(req: JoinRequest, waiter: JoinWaiter): void {
    const isUnknownMember = req.memberId === '';
    let group = this.groups.get(req.groupId);
    if (!group) {
      // A member id for a group that does not exist is stale: the client resets it and rejoins.
      if (!isUnknownMember) {
        waiter(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
        return;
      }
      group = this.createGroup(req.groupId);
    }
    if (group.consumer) {
      if (!group.consumer.isEmpty) {
        // Kafka 4.x would take a classic member into a consumer group (online migration): not
        // implemented here, so the member is told its protocol does not fit the group's.
        waiter(joinError(req.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
        return;
      }
      // An empty consumer group becomes a classic group (Kafka's downgrade): its records get
      // tombstones, written before anything the classic group writes.
      const consumer = group.consumer;
      void this.append(req.groupId, this.consumerGroups.deletionRecords(consumer));
      this.consumerGroups.forget(req.groupId);
    }
    if (!this.acceptJoiningMember(group, req.memberId)) {
      this.removeMember(group, req.memberId);
      waiter(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
      this.maybeCompleteJoinPhase(group);
    } else if (isUnknownMember) {
      this.joinNewMember(group, req, waiter);
    } else {
      this.joinExistingMember(group, req, waiter);
    }
  }

  /**
   * Kafka's acceptJoiningMember (group.max.size). While preparing a rebalance the members awaiting
   * the join are counted (the group may be over a lowered limit; the last to rejoin are refused);
   * otherwise the group size. A member already counted is always accepted.
   */
  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const max = this.config.groupMaxSize;
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        return (group.members.get(memberId)?.isAwaitingJoin ?? false) || group.numAwaitingJoin < max;
      default:
        return group.has(memberId) || group.size < max;
    }
  }

  private joinNewMember(group: ClassicGroup, req: JoinRequest, waiter: JoinWaiter): void {
    if (group.is('Dead')) {
      // Being deleted: let the client retry (and find the recreated group).
      waiter(joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
      return;
    }
    if (!group.supportsProtocols(req.protocolType, protocolNames(req.protocols))) {
      waiter(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
      return;
    }
    const newMemberId = ClassicGroup.generateMemberId(req.clientId, req.groupInstanceId);
    if (req.groupInstanceId !== null) {
      const existingMemberId = group.staticMemberId(req.groupInstanceId);
      if (existingMemberId === undefined)
        this.addMemberThenRebalanceOrCompleteJoin(group, req, newMemberId, waiter);
      else
        this.updateStaticMemberThenRebalanceOrCompleteJoin(group, req, existingMemberId, newMemberId, waiter);
      return;
    }
    if (req.requireKnownMemberId) {
      // KIP-394: hand out a member id and wait for the client to join with it. The pending id counts
      // against completing the join phase until it joins or its session timeout passes.
      group.pendingMembers.add(newMemberId);
      this.scheduleHeartbeatExpiration(group, newMemberId, req.sessionTimeoutMs);
      waiter(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
      return;
    }
    this.addMemberThenRebalanceOrCompleteJoin(group, req, newMemberId, waiter);
  }

  private joinExistingMember(group: ClassicGroup, req: JoinRequest, waiter: JoinWaiter): void {
    const memberId = req.memberId;
    if (group.is('Dead')) {
      waiter(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
      return;
    }
    if (!group.supportsProtocols(req.protocolType, protocolNames(req.protocols))) {
      waiter(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
      return;
    }
    if (group.isPendingMember(memberId)) {
      // A pending member id is only ever given to dynamic members (Kafka throws IllegalStateException).
      if (req.groupInstanceId !== null) {
        waiter(joinError(memberId, ErrorCode.UNKNOWN_SERVER_ERROR));
        return;
      }
      this.addMemberThenRebalanceOrCompleteJoin(group, req, memberId, waiter);
      return;
    }
    if (group.isStaticMemberFenced(req.groupInstanceId, memberId)) {
      waiter(joinError(memberId, ErrorCode.FENCED_INSTANCE_ID));
      return;
    }
    const instanceIdUnknown = req.groupInstanceId !== null && !group.hasStaticMember(req.groupInstanceId);
    if (!group.has(memberId) || instanceIdUnknown) {
      waiter(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      return;
    }

    const member = group.get(memberId);
    switch (group.state) {
      case 'PreparingRebalance':
        this.updateMemberThenRebalanceOrCompleteJoin(group, req, member, waiter);
        return;
      case 'CompletingRebalance':
        // Same metadata: the member probably missed its JoinGroup response; repeat it.
        if (member.matches(req.protocols)) {
          waiter(this.currentGenerationJoinResult(group, memberId, group.isLeader(memberId)));
          return;
        }
        this.updateMemberThenRebalanceOrCompleteJoin(group, req, member, waiter);
        return;
      case 'Stable':
        // The leader rejoining forces a rebalance (e.g. topic metadata changed); so does new metadata.
        if (group.isLeader(memberId) || !member.matches(req.protocols)) {
          this.updateMemberThenRebalanceOrCompleteJoin(group, req, member, waiter);
          return;
        }
        waiter(this.currentGenerationJoinResult(group, memberId, false));
        return;
      default:
        // Members cannot be in an Empty group: let the member reset its id and rejoin.
        waiter(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
        return;
    }
  }

  private currentGenerationJoinResult(
    group: ClassicGroup,
    memberId: string,
    withMembers: boolean,
  ): JoinResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
    };
  }

  private addMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    req: JoinRequest,
    memberId: string,
    waiter: JoinWaiter,
  ): void {
    const member = new ClassicGroupMember(
      memberId,
      req.groupInstanceId,
      req.clientId,
      req.clientHost,
      req.rebalanceTimeoutMs,
      req.sessionTimeoutMs,
      req.protocolType,
      req.protocols,
    );
    member.isNew = true;
    // During the first rebalance of a new group, each new member may extend the initial delay.
    if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
    group.add(member, waiter);
    // Replaces a pending member's session timer: a new member cannot heartbeat until it has joined.
    this.scheduleHeartbeatExpiration(group, memberId, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.maybePrepareRebalanceOrCompleteJoin(
      group,
      `adding new member ${memberId} with group instance id ${req.groupInstanceId}; client reason: ${req.reason}`,
    );
  }

  private updateMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    req: JoinRequest,
    member: ClassicGroupMember,
    waiter: JoinWaiter,
  ): void {
    group.updateMember(member, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, waiter);
    this.maybePrepareRebalanceOrCompleteJoin(
      group,
      `member ${member.memberId} rejoining group in ${group.state}; client reason: ${req.reason}`,
    );
  }

  /**
   * KIP-345: a known static instance joins with an unknown member id (it restarted). It takes over
   * the old member (new id, same assignment). In a Stable group whose selected protocol would not
   * change there is no rebalance: the new member id is persisted and the member is answered with
   * the current generation (and, before v9, the old leader id, so that a restarted leader does not
   * run an assignment the Stable group would ignore).
   */
  private updateStaticMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    req: JoinRequest,
    oldMemberId: string,
    newMemberId: string,
    waiter: JoinWaiter,
  ): void {
    const instanceId = req.groupInstanceId!;
    const currentLeader = group.leaderId ?? '';
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    this.cancelHeartbeat(group, oldMemberId);
    this.rescheduleHeartbeat(group, member);
    const old = {
      protocols: member.supportedProtocols,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      sessionTimeoutMs: member.sessionTimeoutMs,
    };
    group.updateMember(member, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, waiter);
    const reason = `static member ${newMemberId} with instance id ${instanceId} rejoined; client reason: ${req.reason}`;

    switch (group.state) {
      case 'Stable': {
        if (group.protocolName !== group.selectProtocol()) {
          this.maybePrepareRebalanceOrCompleteJoin(group, `${reason}; the selected protocol changes`);
          return;
        }
        this.persistStaticMemberRejoin(group, member, req, { oldMemberId, currentLeader, ...old }, waiter);
        return;
      }
      case 'CompletingRebalance':
        // The leader may already be assigning to the old member id: start over.
        this.prepareRebalance(group, reason);
        return;
      case 'PreparingRebalance':
        this.maybeCompleteJoinPhase(group);
        return;
      default:
        throw new Error(
          `group ${group.groupId} in state ${group.state} cannot have static member ${instanceId}`,
        );
    }
  }

  /**
   * Writes the group with the static member's new id, then answers it (no rebalance). If the write
   * fails, the old member id is restored (it is the one the log knows) and the error is returned.
   */
  private persistStaticMemberRejoin(
    group: ClassicGroup,
    member: ClassicGroupMember,
    req: JoinRequest,
    previous: {
      oldMemberId: string;
      currentLeader: string;
      protocols: Protocol[];
      rebalanceTimeoutMs: number;
      sessionTimeoutMs: number;
    },
    waiter: JoinWaiter,
  ): void {
    const instanceId = req.groupInstanceId!;
    const newMemberId = member.memberId;
    const record = this.groupMetadataRecord(group, currentAssignments(group));
    void this.append(group.groupId, [record]).then((appendError) => {
      // Already answered (fenced again, a rebalance completed meanwhile, shutdown): nothing to do.
      if (!member.joinWaiters.includes(waiter)) return;
      if (appendError !== ErrorCode.NONE) {
        group.dropJoinWaiters(member);
        group.updateMember(
          member,
          previous.protocols,
          previous.rebalanceTimeoutMs,
          previous.sessionTimeoutMs,
          null,
        );
        group.replaceStaticMember(instanceId, newMemberId, previous.oldMemberId);
        this.cancelHeartbeat(group, newMemberId);
        this.rescheduleHeartbeat(group, member);
        waiter({
          ...this.currentGenerationJoinResult(group, '', false),
          errorCode: appendErrorToResponseError(appendError),
          leader: previous.currentLeader,
        });
        return;
      }
      // v9+ (KIP-814): a restarted leader learns it leads, but must not compute a new assignment.
      const isLeader = group.isLeader(newMemberId);
      const result = req.supportSkippingAssignment
        ? { ...this.currentGenerationJoinResult(group, newMemberId, isLeader), skipAssignment: isLeader }
        : { ...this.currentGenerationJoinResult(group, newMemberId, false), leader: previous.currentLeader };
      group.completeJoin(member, result);
      this.rescheduleHeartbeat(group, member);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Rebalance: the join phase
  // ---------------------------------------------------------------------------------------------

  private maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(group, reason);
    else this.maybeCompleteJoinPhase(group);
  }

  /**
   * Ends the join phase early once every member has rejoined and no pending member is outstanding,
   * except during the initial rebalance delay of a group that was Empty (which always runs its
   * course, so that more members can join the first generation).
   */
  private maybeCompleteJoinPhase(group: ClassicGroup): void {
    if (group.is('PreparingRebalance') && group.hasAllMembersJoined() && group.previousState !== 'Empty') {
      this.completeJoin(group);
    }
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    // Members waiting for an assignment of the generation being abandoned must rejoin.
    if (group.is('CompletingRebalance'))
      this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.cancelSyncTimer(group);
    const isInitialRebalance = group.is('Empty');
    group.transitionTo('PreparingRebalance', this.time.now());
    this.stats.rebalances++;
    this.logger.info(
      { groupId: group.groupId, generationId: group.generationId, reason },
      'preparing to rebalance group',
    );
    if (isInitialRebalance) {
      // group.initial.rebalance.delay.ms: wait for more members before the first generation,
      // extended while members keep joining, up to the rebalance timeout.
      const delayMs = this.config.groupInitialRebalanceDelayMs;
      const remainingMs = Math.max(group.rebalanceTimeoutMs() - delayMs, 0);
      this.scheduleJoinTimer(group, delayMs, () =>
        this.tryCompleteInitialRebalanceElseSchedule(group, delayMs, remainingMs),
      );
    } else {
      this.maybeCompleteJoinElseSchedule(group);
    }
  }

  /** Kafka's InitialDelayedJoin: extend the delay when a member joined during it and time remains. */
  private tryCompleteInitialRebalanceElseSchedule(
    group: ClassicGroup,
    delayMs: number,
    remainingMs: number,
  ): void {
    if (!this.isCurrent(group) || !group.is('PreparingRebalance')) return;
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const newDelayMs = Math.min(this.config.groupInitialRebalanceDelayMs, remainingMs);
      const newRemainingMs = Math.max(remainingMs - delayMs, 0);
      this.scheduleJoinTimer(group, newDelayMs, () =>
        this.tryCompleteInitialRebalanceElseSchedule(group, newDelayMs, newRemainingMs),
      );
    } else {
      this.completeJoin(group);
    }
  }

  private maybeCompleteJoinElseSchedule(group: ClassicGroup): void {
    if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) {
      this.completeJoin(group);
    } else {
      this.scheduleJoinTimer(group, group.rebalanceTimeoutMs(), () => this.completeJoin(group));
    }
  }

  /**
   * The end of the join phase (all rejoined, or the rebalance timeout): dynamic members that did not
   * rejoin are removed, the next generation starts, every waiting member gets its JoinGroup answer
   * (the leader with every member's metadata) and the group waits for SyncGroup.
   */
  private completeJoin(group: ClassicGroup): void {
    this.cancelJoinTimer(group);
    if (!this.isCurrent(group) || !group.is('PreparingRebalance')) return;
    const laggards = group.notYetRejoinedMembers().filter((m) => !m.isStaticMember);
    for (const m of laggards) this.removeMember(group, m.memberId);
    if (laggards.length > 0) {
      this.logger.info(
        { groupId: group.groupId, members: laggards.map((m) => m.memberId) },
        "removed dynamic members who haven't rejoined",
      );
    }
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined are left: wait for them (or their session timeout).
      this.logger.warn({ groupId: group.groupId }, 'could not complete rebalance: no member rejoined');
      this.scheduleJoinTimer(group, group.rebalanceTimeoutMs(), () => this.completeJoin(group));
      return;
    }
    group.initNextGeneration(this.time.now());
    if (group.is('Empty')) {
      // Persist the empty generation. If it is lost, the previous generation comes back at load
      // and its members time out: harmless, so failures are only logged.
      const generationId = group.generationId;
      void this.append(group.groupId, [this.groupMetadataRecord(group, new Map())]).then((err) => {
        if (err !== ErrorCode.NONE) {
          this.logger.warn(
            { groupId: group.groupId, generationId, errorCode: err },
            'failed to write empty group',
          );
        }
      });
      return;
    }
    this.logger.info(
      {
        groupId: group.groupId,
        generationId: group.generationId,
        protocol: group.protocolName,
        size: group.size,
      },
      'stabilized group',
    );
    for (const member of group.members.values()) {
      const isLeader = group.isLeader(member.memberId);
      group.completeJoin(member, this.currentGenerationJoinResult(group, member.memberId, isLeader));
      this.rescheduleHeartbeat(group, member);
      member.isNew = false;
      group.pendingSyncMembers.add(member.memberId);
    }
    this.schedulePendingSync(group);
  }

  // ---------------------------------------------------------------------------------------------
  // SyncGroup
  // ---------------------------------------------------------------------------------------------

  syncGroup(req: SyncGroupRequest, version: number): Promise<SyncGroupResponse> {
    const respond = (r: SyncResult) => toSyncGroupResponse(r, version);
    const now = (errorCode: number) => Promise.resolve(respond(syncError(errorCode)));
    if (this.lifecycle === 'loading') {
      // The state of the rebalance was lost with the load: REBALANCE_IN_PROGRESS makes the consumer
      // rejoin without rediscovering the coordinator (older clients do not expect LOAD_IN_PROGRESS).
      return now(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    if (this.lifecycle === 'shutdown') return now(ErrorCode.NOT_COORDINATOR);
    if (req.groupId === '') return now(ErrorCode.INVALID_GROUP_ID);
    const group = this.groups.get(req.groupId);
    if (!group) return now(ErrorCode.UNKNOWN_MEMBER_ID);
    const invalid = validateSyncGroup(group, req);
    if (invalid !== ErrorCode.NONE) return now(invalid);

    switch (group.state) {
      case 'Empty':
        return now(ErrorCode.UNKNOWN_MEMBER_ID);
      case 'PreparingRebalance':
        return now(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'CompletingRebalance':
        return new Promise((resolve) => {
          group.get(req.memberId).syncWaiters.push((r) => resolve(respond(r)));
          this.removePendingSyncMember(group, req.memberId);
          if (group.isLeader(req.memberId)) this.storeLeaderAssignment(group, req);
        });
      case 'Stable': {
        // Already stable (e.g. a follower syncing after the leader): the member's current assignment.
        this.removePendingSyncMember(group, req.memberId);
        const member = group.get(req.memberId);
        this.rescheduleHeartbeat(group, member);
        return Promise.resolve(
          respond({
            errorCode: ErrorCode.NONE,
            protocolType: group.protocolType,
            protocolName: group.protocolName,
            assignment: member.assignment,
          }),
        );
      }
      default:
        return now(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  }

  /**
   * The leader's assignments: written as the group's GroupMetadata record, then handed to every
   * member and the group is Stable. If the write fails (for instance the record is larger than the
   * log accepts), everyone waiting gets the translated error and the group rebalances.
   */
  private storeLeaderAssignment(group: ClassicGroup, req: SyncGroupRequest): void {
    const generationId = group.generationId;
    const assignment = new Map<string, Buffer>();
    for (const a of req.assignments) assignment.set(a.memberId, Buffer.from(a.assignment));
    // Members the leader left out get an empty assignment.
    for (const memberId of group.members.keys())
      if (!assignment.has(memberId)) assignment.set(memberId, EMPTY_BYTES);
    void this.append(group.groupId, [this.groupMetadataRecord(group, assignment)]).then((appendError) => {
      // Another member may have joined meanwhile: only act on the same, still completing generation.
      if (!this.isCurrent(group) || !group.is('CompletingRebalance') || group.generationId !== generationId)
        return;
      if (appendError !== ErrorCode.NONE) {
        const error = appendErrorToResponseError(appendError);
        this.resetAndPropagateAssignmentError(group, error);
        this.maybePrepareRebalanceOrCompleteJoin(
          group,
          `error ${error} when storing group assignment during SyncGroup (member: ${req.memberId})`,
        );
        return;
      }
      this.setAndPropagateAssignment(group, assignment);
      group.transitionTo('Stable', this.time.now());
    });
  }

  private setAndPropagateAssignment(group: ClassicGroup, assignment: Map<string, Buffer>): void {
    for (const member of group.members.values())
      member.assignment = assignment.get(member.memberId) ?? EMPTY_BYTES;
    this.propagateAssignment(group, ErrorCode.NONE);
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, errorCode: number): void {
    for (const member of group.members.values()) member.assignment = EMPTY_BYTES;
    this.propagateAssignment(group, errorCode);
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    const ok = errorCode === ErrorCode.NONE;
    for (const member of group.members.values()) {
      const answered = member.completeSync({
        errorCode,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: member.assignment,
      });
      // A session that expired while the member waited was ignored: start a fresh one now.
      if (answered) this.rescheduleHeartbeat(group, member);
    }
  }

  private removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    const syncing = group.is('CompletingRebalance') || group.is('Stable');
    if (!syncing || group.pendingSyncMembers.size === 0) this.cancelSyncTimer(group);
  }

  private schedulePendingSync(group: ClassicGroup): void {
    const generationId = group.generationId;
    this.cancelSyncTimer(group);
    group.timers.sync = this.time.schedule(group.rebalanceTimeoutMs(), () =>
      this.guarded(() => {
        group.timers.sync = null;
        this.onPendingSyncExpired(group, generationId);
      }),
    );
  }

  /** Members that did not SyncGroup within the rebalance timeout are removed and the group rebalances. */
  private onPendingSyncExpired(group: ClassicGroup, generationId: number): void {
    if (!this.isCurrent(group) || group.generationId !== generationId) return;
    if (!(group.is('CompletingRebalance') || group.is('Stable')) || group.pendingSyncMembers.size === 0)
      return;
    const laggards = [...group.pendingSyncMembers];
    for (const memberId of laggards) this.removeMember(group, memberId);
    this.prepareRebalance(group, `removing ${laggards.join(', ')} on pending sync request expiration`);
  }

  // ---------------------------------------------------------------------------------------------
  // Heartbeat and session expiry
  // ---------------------------------------------------------------------------------------------

  heartbeat(req: HeartbeatRequest, _version: number): Promise<HeartbeatResponse> {
    const resp = HeartbeatResponse.default();
    resp.errorCode = this.heartbeatError(req);
    return Promise.resolve(resp);
  }

  private heartbeatError(req: HeartbeatRequest): number {
    // While loading, Kafka answers heartbeats blindly.
    if (this.lifecycle === 'loading') return ErrorCode.NONE;
    if (this.lifecycle === 'shutdown') return ErrorCode.NOT_COORDINATOR;
    if (req.groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.groups.get(req.groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const invalid = group.validateMember(req.memberId, req.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return invalid;
    if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case 'PreparingRebalance':
        this.rescheduleHeartbeat(group, group.get(req.memberId));
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'CompletingRebalance':
      case 'Stable':
        // Consumers heartbeat between their JoinGroup and SyncGroup too: a normal heartbeat.
        this.rescheduleHeartbeat(group, group.get(req.memberId));
        return ErrorCode.NONE;
      default:
        return ErrorCode.UNKNOWN_MEMBER_ID;
    }
  }

  private rescheduleHeartbeat(group: ClassicGroup, member: ClassicGroupMember): void {
    this.scheduleHeartbeatExpiration(group, member.memberId, member.sessionTimeoutMs);
  }

  /** (Re)starts the session timer of a member or pending member id. */
  private scheduleHeartbeatExpiration(group: ClassicGroup, memberId: string, timeoutMs: number): void {
    group.timers.heartbeats.get(memberId)?.();
    const cancel = this.time.schedule(timeoutMs, () =>
      this.guarded(() => {
        if (group.timers.heartbeats.get(memberId) === cancel) group.timers.heartbeats.delete(memberId);
        this.onHeartbeatExpired(group, memberId);
      }),
    );
    group.timers.heartbeats.set(memberId, cancel);
  }

  private cancelHeartbeat(group: ClassicGroup, memberId: string): void {
    group.timers.heartbeats.get(memberId)?.();
    group.timers.heartbeats.delete(memberId);
  }

  private onHeartbeatExpired(group: ClassicGroup, memberId: string): void {
    if (!this.isCurrent(group) || group.is('Dead')) return;
    if (group.isPendingMember(memberId)) {
      // A member id handed out with MEMBER_ID_REQUIRED that never came back.
      group.remove(memberId);
      this.maybeCompleteJoinPhase(group);
      return;
    }
    const member = group.members.get(memberId);
    if (!member) return;
    // Members waiting in a rebalance (other than new ones) are covered until it ends.
    const satisfied = !member.isNew && (member.isAwaitingJoin || member.isAwaitingSync);
    if (satisfied) return;
    this.logger.info(
      { groupId: group.groupId, memberId },
      'member session expired; removing it from the group',
    );
    this.removeMemberAndUpdateGroup(group, member, `removing member ${memberId} on heartbeat expiration`);
  }

  /** Removes a member (its waiting JoinGroup gets UNKNOWN_MEMBER_ID) and rebalances or finishes the join. */
  private removeMemberAndUpdateGroup(group: ClassicGroup, member: ClassicGroupMember, reason: string): void {
    this.removeMember(group, member.memberId);
    this.rebalanceAfterRemoval(group, reason);
  }

  private rebalanceAfterRemoval(group: ClassicGroup, reason: string): void {
    if (group.is('Stable') || group.is('CompletingRebalance'))
      this.maybePrepareRebalanceOrCompleteJoin(group, reason);
    else if (group.is('PreparingRebalance')) this.maybeCompleteJoinPhase(group);
  }

  /** Takes a member (or pending member id) out of the group, cancelling its timer and answering
   *  whatever it still waits on with UNKNOWN_MEMBER_ID. */
  private removeMember(group: ClassicGroup, memberId: string): void {
    this.cancelHeartbeat(group, memberId);
    const member = group.remove(memberId);
    member?.completeJoin(joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
    member?.completeSync(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  }

  // ---------------------------------------------------------------------------------------------
  // LeaveGroup
  // ---------------------------------------------------------------------------------------------

  leaveGroup(req: LeaveGroupRequest, version: number): Promise<LeaveGroupResponse> {
    // v0-2 name one member; v3+ a batch (KIP-345), possibly by instance id only.
    const leaving: LeaveGroupRequest.MemberIdentity[] =
      version <= 2 ? [{ memberId: req.memberId, groupInstanceId: null, reason: null }] : req.members;
    const { errorCode, members } = this.handleLeave(req.groupId, leaving);
    const resp = LeaveGroupResponse.default();
    if (version >= 3) {
      resp.errorCode = errorCode;
      resp.members = members;
    } else {
      // Before v3 the only error is the top-level one: the group's, else the member's.
      resp.errorCode = errorCode !== ErrorCode.NONE ? errorCode : (members[0]?.errorCode ?? ErrorCode.NONE);
    }
    return Promise.resolve(resp);
  }

  private handleLeave(
    groupId: string,
    leaving: LeaveGroupRequest.MemberIdentity[],
  ): { errorCode: number; members: LeaveGroupResponse.MemberResponse[] } {
    const groupError = (errorCode: number) => ({ errorCode, members: [] });
    const unavailable = this.unavailableError();
    if (unavailable !== ErrorCode.NONE) return groupError(unavailable);
    if (groupId === '') return groupError(ErrorCode.INVALID_GROUP_ID);
    const group = this.groups.get(groupId);
    if (!group) return groupError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.is('Dead')) return groupError(ErrorCode.COORDINATOR_NOT_AVAILABLE);

    const members = leaving.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode: this.leaveOne(group, m),
    }));
    if (members.some((m) => m.errorCode === ErrorCode.NONE)) {
      this.rebalanceAfterRemoval(
        group,
        `explicit LeaveGroup of ${members.map((m) => m.memberId).join(', ')}`,
      );
    }
    return { errorCode: ErrorCode.NONE, members };
  }

  private leaveOne(group: ClassicGroup, m: LeaveGroupRequest.MemberIdentity): number {
    if (m.memberId === '') {
      // Administrative removal of a static member by its instance id alone.
      const current = m.groupInstanceId === null ? undefined : group.staticMemberId(m.groupInstanceId);
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      this.removeMember(group, current);
      return ErrorCode.NONE;
    }
    if (group.isPendingMember(m.memberId)) {
      this.removeMember(group, m.memberId);
      return ErrorCode.NONE;
    }
    const invalid = group.validateMember(m.memberId, m.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return invalid;
    this.removeMember(group, m.memberId);
    this.logger.info(
      { groupId: group.groupId, memberId: m.memberId, reason: m.reason ?? 'not provided' },
      'member left the group',
    );
    return ErrorCode.NONE;
  }

  // ---------------------------------------------------------------------------------------------
  // Offsets
  // ---------------------------------------------------------------------------------------------

  commitOffsets(req: OffsetCommitRequest, version: number): Promise<OffsetCommitResponse> {
    return this.offsets.commitOffsets(req, version, this.unavailableError()).then((res) => {
      for (const t of res.topics)
        for (const p of t.partitions) if (p.errorCode === 0) this.stats.offsetCommits++;
      return res;
    });
  }

  /** The groups by state (Kafka's classic-group-count by state), for the broker's metrics. */
  groupCountsByState(): Map<string, number> {
    const out = new Map<string, number>();
    for (const g of this.groups.values()) out.set(g.state, (out.get(g.state) ?? 0) + 1);
    return out;
  }

  /** v0-7 single group fields, v8+ `groups` array; answered in the matching shape. */
  fetchOffsets(req: OffsetFetchRequest, version: number): Promise<OffsetFetchResponse> {
    return this.offsets.fetchOffsets(req, version, this.unavailableError());
  }

  /**
   * TxnOffsetCommit v0-4 (the handler has checked nothing but the request's shape). The offsets are
   * written as one transactional batch of (producerId, producerEpoch) to the group's
   * __consumer_offsets partition and answered once durable; they become visible to OffsetFetch only
   * when completeTransaction() commits them.
   */
  txnCommitOffsets(req: TxnOffsetCommitRequest, version: number): Promise<TxnOffsetCommitResponse> {
    return this.offsets.txnCommitOffsets(req, version, this.unavailableError());
  }

  /**
   * The transaction of `producerId` ended: its COMMIT (or ABORT) marker is durable in
   * __consumer_offsets partition `offsetsPartition` (Kafka's onTransactionCompleted). A commit
   * moves the producer's pending offsets of that partition's groups to their committed offsets,
   * except where an offset written later in the log (a non-transactional commit after the
   * transactional one) is already there; an abort drops them. Call it in marker (log) order.
   * While the coordinator is loading, it takes effect at startup() (after the replay, which stops
   * before the marker).
   */
  completeTransaction(offsetsPartition: number, producerId: bigint, commit: boolean): void {
    if (this.lifecycle === 'shutdown') return;
    if (this.lifecycle === 'loading') {
      this.deferredTxnCompletions.push({ partition: offsetsPartition, producerId, commit });
      return;
    }
    this.endTransaction(offsetsPartition, producerId, commit);
  }

  /** Pending transactional offsets of the group for this partition exist (tests, admin). */
  hasPendingTxnOffsets(groupId: string, topic: string, partition: number): boolean {
    return this.txnOffsets.has(groupId, topic, partition);
  }

  private endTransaction(offsetsPartition: number, producerId: bigint, commit: boolean): void {
    const ended = this.txnOffsets.complete(
      producerId,
      (groupId) => this.partitionFor(groupId) === offsetsPartition,
    );
    if (!commit) return;
    for (const e of ended) {
      // The group may have been deleted meanwhile (its tombstones would have dropped these
      // offsets): as Kafka's replay, offsets imply a (simple) group.
      const group = this.groups.get(e.groupId) ?? this.createGroup(e.groupId);
      // put() keeps an offset with a later sequence number: Kafka's "most recent record offset wins".
      group.offsets.put(e.topic, e.partition, e.offset, e.offset.seq);
    }
  }

  deleteOffsets(req: OffsetDeleteRequest, _version: number): Promise<OffsetDeleteResponse> {
    return this.offsets.deleteOffsets(req, this.unavailableError());
  }

  /** Topics deleted: their committed offsets go (tombstones written), as Kafka's onPartitionsDeleted. */
  async onTopicsDeleted(topics: readonly string[]): Promise<void> {
    if (this.lifecycle === 'shutdown') return;
    const deleted = new Set(topics);
    const writes: Promise<void>[] = [];
    for (const group of this.groups.values()) {
      const offsets = this.offsets.offsetsOfTopics(group, deleted);
      if (offsets.length === 0) continue;
      writes.push(
        this.offsets.writeTombstones(group, offsets, false).then((err) => {
          if (err !== ErrorCode.NONE) {
            this.logger.warn(
              { groupId: group.groupId, errorCode: err },
              'failed to delete offsets of deleted topics',
            );
          }
        }),
      );
    }
    await Promise.all(writes);
  }

  // ---------------------------------------------------------------------------------------------
  // KIP-848 consumer groups
  // ---------------------------------------------------------------------------------------------

  consumerGroupHeartbeat(
    req: ConsumerGroupHeartbeatRequest,
    version: number,
    clientId: string,
    clientHost: string,
  ): Promise<ConsumerGroupHeartbeatResponse> {
    return this.consumerGroups.heartbeat(req, version, clientId, clientHost);
  }

  consumerGroupDescribe(req: ConsumerGroupDescribeRequest, version: number): ConsumerGroupDescribeResponse {
    return this.consumerGroups.describe(req, version);
  }

  // ---------------------------------------------------------------------------------------------
  // ListGroups, DescribeGroups, DeleteGroups
  // ---------------------------------------------------------------------------------------------

  listGroups(req: ListGroupsRequest, version: number): ListGroupsResponse {
    const resp = ListGroupsResponse.default();
    const unavailable = this.unavailableError();
    if (unavailable !== ErrorCode.NONE) {
      resp.errorCode = unavailable;
      return resp;
    }
    // Filters are case-insensitive (Kafka lower-cases both sides).
    const states = new Set((version >= 4 ? req.statesFilter : []).map((s) => s.trim().toLowerCase()));
    const types = new Set((version >= 5 ? req.typesFilter : []).map((t) => t.trim().toLowerCase()));
    for (const group of this.groups.values()) {
      if (group.is('Dead')) continue;
      const type = group.consumer ? CONSUMER_GROUP_TYPE : CLASSIC_GROUP_TYPE;
      const state = group.consumer ? group.consumer.state : group.state;
      if (types.size > 0 && !types.has(type)) continue;
      if (states.size > 0 && !states.has(state.toLowerCase())) continue;
      resp.groups.push({
        groupId: group.groupId,
        // Kafka's ConsumerGroup reports the consumer protocol type.
        protocolType: group.consumer ? CONSUMER_PROTOCOL_TYPE : (group.protocolType ?? ''),
        groupState: version >= 4 ? state : '',
        groupType: version >= 5 ? type : '',
      });
    }
    return resp;
  }

  describeGroups(req: DescribeGroupsRequest, version: number): DescribeGroupsResponse {
    const resp = DescribeGroupsResponse.default();
    const unavailable = this.unavailableError();
    resp.groups = req.groups.map((groupId) => this.describeGroup(groupId, version, unavailable));
    return resp;
  }

  private describeGroup(
    groupId: string,
    version: number,
    unavailable: number,
  ): DescribeGroupsResponse.DescribedGroup {
    const described: DescribeGroupsResponse.DescribedGroup = {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: '',
      protocolType: '',
      protocolData: '',
      members: [],
      // include_authorized_operations is not supported: Kafka's "not requested" value.
      authorizedOperations: -2147483648,
    };
    if (unavailable !== ErrorCode.NONE) return { ...described, errorCode: unavailable };
    const group = this.groups.get(groupId);
    // Up to v5 an unknown group is described as Dead without an error (v6 adds GROUP_ID_NOT_FOUND).
    if (!group || group.is('Dead')) return { ...described, groupState: 'Dead' };
    // Kafka's classicGroup lookup fails for a consumer group: described as Dead without an error
    // (DescribeGroups v6, which would add GROUP_ID_NOT_FOUND, is not in this protocol's schemas).
    if (group.consumer) return { ...described, groupState: 'Dead' };
    const stable = group.is('Stable') && group.protocolName !== null;
    const protocol = group.protocolName ?? '';
    return {
      ...described,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      // Metadata and assignments are only meaningful for a Stable group's current generation.
      protocolData: stable ? protocol : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: version >= 4 ? m.groupInstanceId : null,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadata(protocol) : EMPTY_BYTES,
        memberAssignment: stable ? m.assignment : EMPTY_BYTES,
      })),
    };
  }

  /** Deletes Empty groups: tombstones for every offset and for the group, answered once durable. */
  async deleteGroups(req: DeleteGroupsRequest, _version: number): Promise<DeleteGroupsResponse> {
    const resp = DeleteGroupsResponse.default();
    resp.results = await Promise.all(
      req.groupsNames.map(async (groupId) => ({ groupId, errorCode: await this.deleteGroup(groupId) })),
    );
    return resp;
  }

  private async deleteGroup(groupId: string): Promise<number> {
    const unavailable = this.unavailableError();
    if (unavailable !== ErrorCode.NONE) return unavailable;
    const group = this.groups.get(groupId);
    if (!group || group.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is('Empty') || (group.consumer && !group.consumer.isEmpty)) return ErrorCode.NON_EMPTY_GROUP;
    // Pending transactional offsets do not prevent the deletion (Kafka): they get tombstones too.
    const errorCode = await this.removeGroup(group, this.offsets.allOffsetKeys(group));
    return errorCode === ErrorCode.NONE ? ErrorCode.NONE : appendErrorToResponseError(errorCode);
  }

  /**
   * Marks an Empty group Dead (requests for it now fail as for a group being unloaded), writes the
   * tombstones, and drops the group once they are durable. If they are not, it is Empty again.
   */
  private async removeGroup(group: ClassicGroup, offsets: Array<[string, number]>): Promise<number> {
    group.transitionTo('Dead', this.time.now());
    this.cancelGroupTimers(group);
    group.pendingMembers.clear();
    const consumer = group.consumer;
    if (consumer) {
      // The consumer group's own records first (Kafka writes them with the offsets' tombstones).
      const err = await this.append(group.groupId, this.consumerGroups.deletionRecords(consumer));
      if (err !== ErrorCode.NONE) {
        if (this.lifecycle !== 'shutdown' && this.isCurrent(group))
          group.reviveAfterFailedDelete(this.time.now());
        return err;
      }
      this.consumerGroups.forget(group.groupId);
    }
    const errorCode = await this.offsets.writeTombstones(group, offsets, true);
    if (errorCode === ErrorCode.NONE) {
      if (this.isCurrent(group)) this.groups.delete(group.groupId);
    } else if (this.lifecycle !== 'shutdown' && this.isCurrent(group)) {
      group.reviveAfterFailedDelete(this.time.now());
    }
    return errorCode;
  }

  // ---------------------------------------------------------------------------------------------
  // Offset expiry
  // ---------------------------------------------------------------------------------------------

  private scheduleOffsetExpiry(): void {
    this.cancelExpiry = this.time.schedule(this.config.offsetsRetentionCheckIntervalMs, () =>
      this.guarded(() => {
        this.cancelExpiry = null;
        if (this.lifecycle !== 'active') return;
        this.cleanupGroupMetadata();
        this.scheduleOffsetExpiry();
      }),
    );
  }

  /**
   * Kafka's cleanupGroupMetadata: expired offsets are deleted; an Empty group left without offsets
   * (and without commits in flight) is deleted too. The writes complete in the background.
   */
  private cleanupGroupMetadata(): void {
    const nowMs = this.time.now();
    for (const group of [...this.groups.values()]) {
      if (group.is('Dead')) continue;
      const { expired, allExpired } = this.offsets.expiredOffsets(group, nowMs);
      const deleteGroup =
        allExpired &&
        group.is('Empty') &&
        (group.consumer === null || group.consumer.isEmpty) &&
        group.pendingCommitWrites.size === 0;
      if (deleteGroup) {
        void this.removeGroup(group, expired).then((err) => this.logExpiry(group, expired.length, true, err));
      } else if (expired.length > 0) {
        void this.offsets
          .writeTombstones(group, expired, false)
          .then((err) => this.logExpiry(group, expired.length, false, err));
      }
    }
  }

  private logExpiry(group: ClassicGroup, offsets: number, groupDeleted: boolean, errorCode: number): void {
    if (errorCode === ErrorCode.NONE) {
      this.logger.info({ groupId: group.groupId, offsets, groupDeleted }, 'expired group metadata');
    } else {
      this.logger.warn({ groupId: group.groupId, errorCode }, 'failed to write expired offsets');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------------

  private createGroup(groupId: string): ClassicGroup {
    const group = new ClassicGroup(groupId, this.time.now());
    this.groups.set(groupId, group);
    return group;
  }

  /** Whether `group` is still the group of its id (not deleted and replaced meanwhile). */
  private isCurrent(group: ClassicGroup): boolean {
    return this.groups.get(group.groupId) === group;
  }

  /** Appends to the group's __consumer_offsets partition. Resolves with NONE or the append's error
   *  code; never rejects. The store is called synchronously, so appends reach it in issue order. */
  private async append(groupId: string, records: OffsetsRecord[], txn?: TxnAppendOptions): Promise<number> {
    try {
      await this.store.append(this.partitionFor(groupId), records, txn);
      return ErrorCode.NONE;
    } catch (e) {
      const errorCode = appendErrorCode(e);
      this.logger.warn({ groupId, errorCode, err: String(e) }, 'append to __consumer_offsets failed');
      return errorCode;
    }
  }

  /** The GroupMetadata record of the group's current generation, with these assignments. */
  private groupMetadataRecord(group: ClassicGroup, assignment: Map<string, Buffer>): OffsetsRecord {
    const protocol = group.protocolName;
    const members = [...group.members.values()].map((m) => {
      if (protocol === null) throw new Error(`group ${group.groupId} has members but no protocol`);
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadata(protocol),
        assignment: assignment.get(m.memberId) ?? EMPTY_BYTES,
      };
    });
    return {
      key: groupMetadataKey(group.groupId),
      value: groupMetadataValue({
        protocolType: group.protocolType ?? '',
        generation: group.generationId,
        protocol,
        leader: group.leaderId,
        currentStateTimestamp: BigInt(group.currentStateTimestampMs ?? -1),
        members,
      }),
    };
  }

  private scheduleJoinTimer(group: ClassicGroup, delayMs: number, fn: () => void): void {
    this.cancelJoinTimer(group);
    const cancel = this.time.schedule(delayMs, () =>
      this.guarded(() => {
        if (group.timers.join === cancel) group.timers.join = null;
        fn();
      }),
    );
    group.timers.join = cancel;
  }

  private cancelJoinTimer(group: ClassicGroup): void {
    group.timers.join?.();
    group.timers.join = null;
  }

  private cancelSyncTimer(group: ClassicGroup): void {
    group.timers.sync?.();
    group.timers.sync = null;
  }

  private cancelGroupTimers(group: ClassicGroup): void {
    this.cancelJoinTimer(group);
    this.cancelSyncTimer(group);
    for (const cancel of group.timers.heartbeats.values()) cancel();
    group.timers.heartbeats.clear();
  }

  /** Runs a timer callback; a bug in it is logged rather than thrown out of the timer. */
  private guarded(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.logger.warn({ err: e instanceof Error ? e.stack : String(e) }, 'group coordinator timer failed');
    }
  }
}

function protocolNames(protocols: readonly Protocol[]): Set<string> {
  return new Set(protocols.map((p) => p.name));
}

function currentAssignments(group: ClassicGroup): Map<string, Buffer> {
  return new Map([...group.members.values()].map((m) => [m.memberId, m.assignment]));
}

/** Kafka's validateSyncGroup: the member, its generation, and (v5) the protocol type and name. */
function validateSyncGroup(group: ClassicGroup, req: SyncGroupRequest): number {
  if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  const invalid = group.validateMember(req.memberId, req.groupInstanceId);
  if (invalid !== ErrorCode.NONE) return invalid;
  if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
  if (isProtocolInconsistent(req.protocolType, group.protocolType))
    return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
  if (isProtocolInconsistent(req.protocolName, group.protocolName))
    return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
  return ErrorCode.NONE;
}

function isProtocolInconsistent(requested: string | null, current: string | null): boolean {
  return requested !== null && current !== null && requested !== current;
}
