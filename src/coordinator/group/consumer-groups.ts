// ConsumerGroupManager: the KIP-848 consumer group protocol (Kafka's GroupMetadataManager for
// consumer groups): ConsumerGroupHeartbeat (join, heartbeat, leave, static members), the group
// epoch and the target assignment computed by a server-side assignor, each member's reconciliation
// (revocation before assignment), session and rebalance timeouts, and ConsumerGroupDescribe.
//
// Like the classic coordinator it does no I/O: every change is a list of Kafka's KIP-848 records
// (consumer-records.ts), appended through the coordinator's GroupStore and applied to memory only
// once durable (ConsumerGroup.apply, also used by the replay at load). Requests of one group run one
// at a time (a promise chain per group id), so each heartbeat computes from the state its
// predecessor left.
//
// A consumer group shares its group id namespace and its committed offsets with classic groups: it
// is attached to the coordinator's ClassicGroup entry for that id (`ClassicGroup.consumer`), which
// keeps the offsets, exactly as an offsets-only ("simple") group. A classic group that is Empty is
// converted on the first consumer-protocol join (its GroupMetadata gets a tombstone); an empty
// consumer group is converted back on a classic JoinGroup (coordinator.ts). A group with members of
// the other protocol answers GROUP_ID_NOT_FOUND here (and INCONSISTENT_GROUP_PROTOCOL to JoinGroup):
// Kafka 4.x's online migration of non-empty groups (classic members inside a consumer group) is not
// implemented.
//
// Regular expressions (subscribed_topic_regex): Kafka compiles them with RE2J. Samsa uses
// ECMAScript RegExp syntax matched against the whole topic name, run by V8's linear-time engine
// (RE2's approach and its subset): lookaround and backreferences, which RE2J rejects too, are
// answered INVALID_REGULAR_EXPRESSION, and no pattern can backtrack exponentially. Where that
// engine is unavailable the backtracking engine runs the same subset. Internal topics never match.

import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { ErrorCode } from '../../protocol/errors.js';
import type { ConsumerGroupDescribeRequest } from '../../protocol/generated/messages/ConsumerGroupDescribeRequest.js';
import { ConsumerGroupDescribeResponse } from '../../protocol/generated/messages/ConsumerGroupDescribeResponse.js';
import type { ConsumerGroupHeartbeatRequest } from '../../protocol/generated/messages/ConsumerGroupHeartbeatRequest.js';
import { ConsumerGroupHeartbeatResponse } from '../../protocol/generated/messages/ConsumerGroupHeartbeatResponse.js';
import type { NodeTime } from '../../util/clock.js';
import {
  type AssignmentMember,
  type AssignmentTopic,
  resolveAssignors,
  type ServerAssignor,
  type TopicAssignment,
} from './consumer-assignors.js';
import {
  assignmentsEqual,
  ConsumerGroup,
  ConsumerGroupMember,
  isSubset,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  MemberState,
  reconcile,
  type SubscribedTopicMetadata,
} from './consumer-group.js';
import {
  type ConsumerGroupRecord,
  decodeConsumerGroupRecord,
  encodeConsumerGroupRecord,
  toTopicPartitions,
} from './consumer-records.js';
import type { ClassicGroup } from './group.js';
import { groupMetadataKey } from './records.js';
import { appendErrorToResponseError, type OffsetsRecord } from './store.js';

export interface ConsumerGroupConfig {
  /** group.consumer.session.timeout.ms (45000), within its min (45000) and max (60000). */
  sessionTimeoutMs: number;
  /** group.consumer.heartbeat.interval.ms (5000), within its min (5000) and max (15000). */
  heartbeatIntervalMs: number;
  /** group.consumer.max.size (Integer.MAX_VALUE). */
  maxSize: number;
  /** group.consumer.assignors: the first is the default. */
  assignors: string[];
}

export const DEFAULT_CONSUMER_GROUP_CONFIG: ConsumerGroupConfig = {
  sessionTimeoutMs: 45000,
  heartbeatIntervalMs: 5000,
  maxSize: 2147483647,
  assignors: ['uniform', 'range'],
};

/** A topic as the consumer group protocol sees it (ids in assignments, names in subscriptions). */
export interface ConsumerTopicMetadata {
  id: string;
  name: string;
  numPartitions: number;
}

export interface ConsumerTopicLookup {
  topic(name: string): ConsumerTopicMetadata | undefined;
  topicById(id: string): ConsumerTopicMetadata | undefined;
  topicNames(): Iterable<string>;
}

export interface ConsumerGroupContext {
  readonly time: NodeTime;
  readonly topics: ConsumerTopicLookup;
  /** The coordinator's entry for the group id (classic state and offsets), if any. */
  group(groupId: string): ClassicGroup | undefined;
  createGroup(groupId: string): ClassicGroup;
  /** Appends to the group's __consumer_offsets partition; resolves with NONE or the append's error. */
  append(groupId: string, records: OffsetsRecord[]): Promise<number>;
  unavailableError(): number;
  warn(o: object, msg: string): void;
}

const INTERNAL_TOPICS = new Set(['__consumer_offsets', '__transaction_state']);

/** ConsumerGroupDescribe's authorized_operations when they were not asked for. */
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

class HeartbeatError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Whether V8's linear-time regexp engine (the `l` flag, RE2's guarantees and RE2's subset: no
 * lookaround, no backreferences) is on. It is behind a V8 flag, which can be set at run time; a
 * regex from a client must not be able to stall the broker with catastrophic backtracking.
 */
let linearEngine: boolean | null = null;
/** The linear engine's flag (a variable: TypeScript does not know the flag). */
const LINEAR: string = 'l';
function linearEngineAvailable(): boolean {
  if (linearEngine === null) {
    try {
      setFlagsFromString('--enable-experimental-regexp-engine');
      new RegExp('a', LINEAR);
      linearEngine = true;
    } catch {
      linearEngine = false;
    }
  }
  return linearEngine;
}

/** Compiles a subscription regex, or throws INVALID_REGULAR_EXPRESSION (see the file header). */
function compileRegex(source: string): RegExp {
  const invalid = (why: string) =>
    new HeartbeatError(
      ErrorCode.INVALID_REGULAR_EXPRESSION,
      `SubscribedTopicRegex \`${source}\` is not a valid regular expression: ${why}.`,
    );
  if (/\(\?<?[=!]|\\[1-9]|\\k</.test(source)) {
    throw invalid('lookaround and backreferences are not supported');
  }
  try {
    // Topic names are ASCII: the `u` flag (which the linear engine does not take) is not needed.
    return linearEngineAvailable()
      ? new RegExp(`^(?:${source})$`, LINEAR)
      : new RegExp(`^(?:${source})$`, 'u');
  } catch (e) {
    throw invalid((e as Error).message);
  }
}

function newMemberId(): string {
  // Kafka's Uuid.randomUuid().toString(): 16 random bytes, base64url without padding.
  return randomBytes(16).toString('base64url');
}

export class ConsumerGroupManager {
  private readonly assignors: ServerAssignor[];
  private readonly queues = new Map<string, Promise<void>>();
  private readonly regexCache = new Map<string, RegExp>();
  private active = false;

  constructor(
    private readonly ctx: ConsumerGroupContext,
    readonly config: ConsumerGroupConfig,
  ) {
    this.assignors = resolveAssignors(config.assignors);
  }

  // ---------------------------------------------------------------------------------------------
  // Load, startup, shutdown
  // ---------------------------------------------------------------------------------------------

  /** Replays a record if it is a consumer group record; returns false for any other record. */
  replay(key: Buffer, value: Buffer | null): boolean {
    const r = decodeConsumerGroupRecord(key, value);
    if (r === null) return false;
    this.applyRecords(r.groupId, [r]);
    return true;
  }

  /** Session timers for every loaded member; rebalance timers for members still revoking. */
  startup(): void {
    this.active = true;
    for (const group of this.allGroups()) {
      for (const m of group.members.values()) {
        this.scheduleSessionTimeout(group, m.memberId);
        if (m.state === MemberState.UNREVOKED_PARTITIONS) this.scheduleRebalanceTimeout(group, m);
      }
    }
  }

  shutdown(): void {
    this.active = false;
    for (const group of this.allGroups()) this.cancelTimers(group);
  }

  private *allGroups(): IterableIterator<ConsumerGroup> {
    for (const id of this.groupIds()) {
      const g = this.ctx.group(id)?.consumer;
      if (g) yield g;
    }
  }

  /** Group ids with a consumer group, filled by applyRecords (the coordinator owns the map). */
  private readonly ids = new Set<string>();
  private groupIds(): string[] {
    return [...this.ids];
  }

  consumerGroup(groupId: string): ConsumerGroup | undefined {
    return this.ctx.group(groupId)?.consumer ?? undefined;
  }

  /** Applies durable records to memory (creating or dropping the group as they say). */
  private applyRecords(groupId: string, records: readonly ConsumerGroupRecord[]): void {
    for (const r of records) {
      const container = this.ctx.group(groupId);
      if (r.type === 'metadata' && r.value === null) {
        // The group's tombstone: the consumer group is gone; offsets (if any) stay with the entry.
        if (container?.consumer) {
          this.cancelTimers(container.consumer);
          container.consumer = null;
        }
        this.ids.delete(groupId);
        continue;
      }
      let group = container?.consumer;
      if (!group) {
        if (r.value === null) continue; // a tombstone for a group we do not have
        const entry = container ?? this.ctx.createGroup(groupId);
        group = new ConsumerGroup(groupId);
        entry.consumer = group;
        this.ids.add(groupId);
      }
      group.apply(r);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // ConsumerGroupHeartbeat
  // ---------------------------------------------------------------------------------------------

  async heartbeat(
    req: ConsumerGroupHeartbeatRequest,
    version: number,
    clientId: string,
    clientHost: string,
  ): Promise<ConsumerGroupHeartbeatResponse> {
    const unavailable = this.ctx.unavailableError();
    if (unavailable !== ErrorCode.NONE) return errorResponse(unavailable, null);
    try {
      this.validateRequest(req, version);
    } catch (e) {
      if (e instanceof HeartbeatError) return errorResponse(e.errorCode, e.message);
      throw e;
    }
    return this.exclusive(req.groupId, async () => {
      const again = this.ctx.unavailableError();
      if (again !== ErrorCode.NONE) return errorResponse(again, null);
      try {
        if (
          req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH ||
          req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH
        ) {
          return await this.leave(req);
        }
        return await this.joinOrHeartbeat(req, version, clientId, clientHost);
      } catch (e) {
        if (e instanceof HeartbeatError) return errorResponse(e.errorCode, e.message);
        throw e;
      }
    });
  }

  /** Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid. */
  private validateRequest(req: ConsumerGroupHeartbeatRequest, version: number): void {
    const invalid = (msg: string) => new HeartbeatError(ErrorCode.INVALID_REQUEST, msg);
    if (req.groupId === '') throw invalid("GroupId can't be empty.");
    if (req.instanceId !== null && req.instanceId === '') throw invalid("InstanceId can't be empty.");
    if (req.rackId !== null && req.rackId === '') throw invalid("RackId can't be empty.");
    // v1 (KIP-1082): the member generates its id; v0: the coordinator does at the first join.
    if (version >= 1 && req.memberId === '') throw invalid("MemberId can't be empty.");
    if (req.memberEpoch > 0 || req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) {
      if (req.memberId === '') throw invalid("MemberId can't be empty.");
    } else if (req.memberEpoch === 0) {
      if (req.rebalanceTimeoutMs === -1)
        throw invalid('RebalanceTimeoutMs must be provided in first request.');
      if (req.topicPartitions === null || req.topicPartitions.length > 0) {
        throw invalid('TopicPartitions must be empty when (re-)joining.');
      }
      if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null) {
        throw invalid('SubscribedTopicNames or SubscribedTopicRegex must be set in first request.');
      }
    } else if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (req.memberId === '') throw invalid("MemberId can't be empty.");
      if (req.instanceId === null) throw invalid("InstanceId can't be null.");
    } else {
      throw invalid(`MemberEpoch ${req.memberEpoch} is invalid.`);
    }
    if (req.serverAssignor !== null && !this.assignors.some((a) => a.name === req.serverAssignor)) {
      throw new HeartbeatError(
        ErrorCode.UNSUPPORTED_ASSIGNOR,
        `ServerAssignor ${req.serverAssignor} is not supported. Supported assignors: ${this.assignors.map((a) => a.name).join(', ')}.`,
      );
    }
    if (req.subscribedTopicRegex !== null && req.subscribedTopicRegex !== '')
      this.regex(req.subscribedTopicRegex);
  }

  private regex(source: string): RegExp {
    let re = this.regexCache.get(source);
    if (!re) {
      re = compileRegex(source);
      if (this.regexCache.size > 1000) this.regexCache.clear();
      this.regexCache.set(source, re);
    }
    return re;
  }

  private exclusive<T>(groupId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(groupId) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(groupId, tail);
    void tail.then(() => {
      if (this.queues.get(groupId) === tail) this.queues.delete(groupId);
    });
    return run;
  }

  private async joinOrHeartbeat(
    req: ConsumerGroupHeartbeatRequest,
    _version: number,
    clientId: string,
    clientHost: string,
  ): Promise<ConsumerGroupHeartbeatResponse> {
    const groupId = req.groupId;
    const container = this.ctx.group(groupId);
    const records: ConsumerGroupRecord[] = [];
    const extra: OffsetsRecord[] = [];
    let group = container?.consumer ?? null;
    if (!group) {
      if (container && !(container.is('Empty') && container.size === 0)) {
        throw new HeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a consumer group.`);
      }
      if (req.memberEpoch !== 0) {
        throw new HeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Group ${groupId} not found.`);
      }
      // An Empty classic group (offsets only, or no members left) becomes a consumer group: its
      // GroupMetadata record, if it ever had one, gets a tombstone (Kafka's conversion).
      if (container && (container.generationId > 0 || container.protocolType !== null)) {
        extra.push({ key: groupMetadataKey(groupId), value: null });
      }
      group = new ConsumerGroup(groupId);
    }

    // 1. Who is this member (Kafka's getOrMaybeSubscribe{Dynamic,Static}ConsumerGroupMember).
    let before: ConsumerGroupMember;
    let replaced: ConsumerGroupMember | null = null;
    let isNew = false;
    let memberId = req.memberId;
    if (req.memberEpoch === 0) {
      if (memberId === '') memberId = newMemberId();
      const existingStaticId = req.instanceId === null ? undefined : group.staticMembers.get(req.instanceId);
      if (existingStaticId !== undefined) {
        const old = group.members.get(existingStaticId)!;
        if (old.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
          throw new HeartbeatError(
            ErrorCode.UNRELEASED_INSTANCE_ID,
            `Static member ${old.memberId} with instance id ${req.instanceId} is not released yet.`,
          );
        }
        // The new member takes the old one's place: its assignment (target and current).
        replaced = old;
        before = old.clone(memberId);
      } else {
        const existing = group.members.get(memberId);
        if (existing) {
          // A known member rejoining at epoch 0 lost its partitions (it says it owns none).
          before = existing.clone();
          before.memberEpoch = 0;
          before.previousMemberEpoch = 0;
          before.state = MemberState.STABLE;
          before.assignedPartitions = new Map();
          before.partitionsPendingRevocation = new Map();
        } else {
          if (group.members.size >= this.config.maxSize) {
            throw new HeartbeatError(
              ErrorCode.GROUP_MAX_SIZE_REACHED,
              `The consumer group has reached its maximum capacity of ${this.config.maxSize} members.`,
            );
          }
          isNew = true;
          before = new ConsumerGroupMember(memberId);
        }
      }
    } else {
      const existing = group.members.get(memberId);
      if (!existing) {
        throw new HeartbeatError(
          ErrorCode.UNKNOWN_MEMBER_ID,
          `Member ${memberId} is not a member of group ${groupId}.`,
        );
      }
      if (req.instanceId !== null) {
        const staticId = group.staticMembers.get(req.instanceId);
        if (staticId === undefined) {
          throw new HeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${req.instanceId} is unknown.`);
        }
        if (staticId !== memberId) {
          throw new HeartbeatError(
            ErrorCode.FENCED_INSTANCE_ID,
            `Static member ${memberId} with instance id ${req.instanceId} was fenced by member ${staticId}.`,
          );
        }
      }
      // Kafka's throwIfMemberEpochIsInvalid: the previous epoch is accepted when the member owns
      // nothing outside its current assignment (the response with the new epoch was lost).
      if (
        req.memberEpoch > existing.memberEpoch ||
        (req.memberEpoch < existing.memberEpoch &&
          (req.memberEpoch !== existing.previousMemberEpoch ||
            !isSubset(req.topicPartitions, existing.assignedPartitions)))
      ) {
        throw new HeartbeatError(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `The consumer group member has a ${req.memberEpoch > existing.memberEpoch ? 'greater' : 'smaller'} member epoch (${req.memberEpoch}) than the one known by the group coordinator (${existing.memberEpoch}). The member must abandon all its partitions and rejoin.`,
        );
      }
      before = existing;
    }

    // 2. Its metadata as updated by this request (null fields: unchanged).
    const updated = before.clone();
    if (req.instanceId !== null) updated.instanceId = req.instanceId;
    if (req.rackId !== null) updated.rackId = req.rackId;
    if (req.rebalanceTimeoutMs !== -1) updated.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    if (req.subscribedTopicNames !== null) updated.subscribedTopicNames = [...req.subscribedTopicNames];
    if (req.subscribedTopicRegex !== null) {
      updated.subscribedTopicRegex = req.subscribedTopicRegex === '' ? null : req.subscribedTopicRegex;
    }
    if (req.serverAssignor !== null) updated.serverAssignor = req.serverAssignor;
    updated.clientId = clientId;
    updated.clientHost = clientHost;
    const subscriptionChanged =
      isNew ||
      !sameList(before.subscribedTopicNames, updated.subscribedTopicNames) ||
      before.subscribedTopicRegex !== updated.subscribedTopicRegex ||
      before.serverAssignor !== updated.serverAssignor;
    const metadataChanged =
      subscriptionChanged ||
      replaced !== null ||
      before.instanceId !== updated.instanceId ||
      before.rackId !== updated.rackId ||
      before.rebalanceTimeoutMs !== updated.rebalanceTimeoutMs ||
      before.clientId !== updated.clientId ||
      before.clientHost !== updated.clientHost;

    if (replaced) records.push(...memberRemovalRecords(groupId, replaced.memberId));
    if (metadataChanged) records.push(memberMetadataRecord(groupId, updated));

    // 3. The group epoch: bumped when a subscription changed or a subscribed topic did.
    const members = new Map(group.members);
    if (replaced) members.delete(replaced.memberId);
    members.set(memberId, updated);
    const subscribed = this.subscribedTopics(members.values());
    const metadataMoved = !sameSubscriptionMetadata(group.subscriptionMetadata, subscribed);
    if (metadataMoved) records.push(partitionMetadataRecord(groupId, subscribed));
    let groupEpoch = group.groupEpoch;
    if (subscriptionChanged || metadataMoved) {
      groupEpoch += 1;
      records.push({ type: 'metadata', groupId, value: { epoch: groupEpoch } });
    }

    // 4. The target assignment, recomputed whenever it lags the group epoch.
    let targetEpoch = group.targetAssignmentEpoch;
    let target: TopicAssignment;
    if (groupEpoch > group.targetAssignmentEpoch) {
      const previousTargets = new Map(group.targetAssignment);
      if (replaced) {
        previousTargets.set(memberId, group.targetAssignment.get(replaced.memberId) ?? new Map());
        previousTargets.delete(replaced.memberId);
      }
      const assignment = this.computeTargetAssignment(members, subscribed, previousTargets);
      for (const [id, a] of assignment) {
        const prev = previousTargets.get(id);
        if (!prev || !assignmentsEqual(prev, a) || (replaced && id === memberId)) {
          records.push(targetMemberRecord(groupId, id, a));
        }
      }
      records.push({ type: 'targetAssignmentMetadata', groupId, value: { assignmentEpoch: groupEpoch } });
      targetEpoch = groupEpoch;
      target = assignment.get(memberId) ?? new Map();
    } else {
      target =
        group.targetAssignment.get(replaced ? replaced.memberId : memberId) ??
        // A member that joined without changing the epoch (its subscription matched): nothing yet.
        new Map();
      if (replaced) records.push(targetMemberRecord(groupId, memberId, target));
    }

    // 5. Reconcile this member towards its target. Its own partitions (and those of the static
    //    member it replaces) are not "owned by another member".
    const ownedElsewhere = (topicId: string, p: number): number => {
      for (const m of [before, replaced]) {
        if (
          m &&
          (m.assignedPartitions.get(topicId)?.has(p) || m.partitionsPendingRevocation.get(topicId)?.has(p))
        ) {
          return -1;
        }
      }
      if (req.memberEpoch === 0 && !replaced && !isNew) {
        const self = group.members.get(memberId);
        if (
          self?.assignedPartitions.get(topicId)?.has(p) ||
          self?.partitionsPendingRevocation.get(topicId)?.has(p)
        ) {
          return -1;
        }
      }
      return group.partitionEpoch(topicId, p);
    };
    const next = reconcile(updated, targetEpoch, target, req.topicPartitions, ownedElsewhere);
    const assignmentChanged =
      isNew ||
      replaced !== null ||
      req.memberEpoch === 0 ||
      next.memberEpoch !== before.memberEpoch ||
      next.previousMemberEpoch !== before.previousMemberEpoch ||
      next.state !== before.state ||
      !assignmentsEqual(next.assignedPartitions, before.assignedPartitions) ||
      !assignmentsEqual(next.partitionsPendingRevocation, before.partitionsPendingRevocation);
    if (assignmentChanged) records.push(currentAssignmentRecord(groupId, next));
    // `before` may be the live member, which applying the records below updates: decide now.
    const wasRevoking = before.state === MemberState.UNREVOKED_PARTITIONS && !isNew && replaced === null;
    // The assignment is sent to a joining member, on a full request (the member resynchronises
    // after an error), and whenever it changed.
    const fullRequest =
      req.rebalanceTimeoutMs !== -1 &&
      (req.subscribedTopicNames !== null || req.subscribedTopicRegex !== null) &&
      req.topicPartitions !== null;
    const sendAssignment =
      req.memberEpoch === 0 ||
      fullRequest ||
      !assignmentsEqual(before.assignedPartitions, next.assignedPartitions);

    // 6. Durable first, then memory, timers and the answer.
    if (records.length > 0 || extra.length > 0) {
      const errorCode = await this.ctx.append(groupId, [...extra, ...records.map(encodeConsumerGroupRecord)]);
      if (errorCode !== ErrorCode.NONE) {
        return errorResponse(appendErrorToResponseError(errorCode), null);
      }
      this.applyRecords(groupId, records);
    }
    const live = this.consumerGroup(groupId);
    if (live) {
      if (replaced) this.cancelMemberTimers(live, replaced.memberId);
      this.scheduleSessionTimeout(live, memberId);
      const member = live.members.get(memberId);
      if (member?.state === MemberState.UNREVOKED_PARTITIONS) {
        if (!wasRevoking) {
          this.scheduleRebalanceTimeout(live, member);
        }
      } else {
        this.cancelRebalanceTimeout(live, memberId);
      }
    }

    const resp = ConsumerGroupHeartbeatResponse.default();
    resp.memberId = memberId;
    resp.memberEpoch = next.memberEpoch;
    resp.heartbeatIntervalMs = this.config.heartbeatIntervalMs;
    if (sendAssignment) resp.assignment = { topicPartitions: toTopicPartitions(next.assignedPartitions) };
    return resp;
  }

  /** ConsumerGroupHeartbeat with member epoch -1 (leave) or -2 (a static member leaving for now). */
  private async leave(req: ConsumerGroupHeartbeatRequest): Promise<ConsumerGroupHeartbeatResponse> {
    const groupId = req.groupId;
    const group = this.consumerGroup(groupId);
    let member: ConsumerGroupMember | undefined;
    if (req.instanceId !== null && group) {
      const staticId = group.staticMembers.get(req.instanceId);
      if (staticId === undefined) {
        throw new HeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${req.instanceId} is unknown.`);
      }
      if (staticId !== req.memberId) {
        throw new HeartbeatError(
          ErrorCode.FENCED_INSTANCE_ID,
          `Static member ${req.memberId} with instance id ${req.instanceId} was fenced by member ${staticId}.`,
        );
      }
    }
    member = group?.members.get(req.memberId);
    if (!group || !member) {
      throw new HeartbeatError(
        ErrorCode.UNKNOWN_MEMBER_ID,
        `Member ${req.memberId} is not a member of group ${groupId}.`,
      );
    }
    const resp = ConsumerGroupHeartbeatResponse.default();
    resp.memberId = req.memberId;
    resp.memberEpoch = req.memberEpoch;
    if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // Kept with its assignment until its session times out or its successor joins.
      const kept = member.clone();
      kept.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
      const records: ConsumerGroupRecord[] = [currentAssignmentRecord(groupId, kept)];
      const errorCode = await this.ctx.append(groupId, records.map(encodeConsumerGroupRecord));
      if (errorCode !== ErrorCode.NONE) return errorResponse(appendErrorToResponseError(errorCode), null);
      this.applyRecords(groupId, records);
      this.cancelRebalanceTimeout(group, member.memberId);
      return resp;
    }
    const errorCode = await this.removeMember(group, member.memberId);
    if (errorCode !== ErrorCode.NONE) return errorResponse(appendErrorToResponseError(errorCode), null);
    return resp;
  }

  /** Removes a member (leave or fence): its records get tombstones and the group epoch moves on,
   *  so the next heartbeat computes a target without it. */
  private async removeMember(group: ConsumerGroup, memberId: string): Promise<number> {
    const records: ConsumerGroupRecord[] = [
      ...memberRemovalRecords(group.groupId, memberId),
      { type: 'metadata', groupId: group.groupId, value: { epoch: group.groupEpoch + 1 } },
    ];
    const errorCode = await this.ctx.append(group.groupId, records.map(encodeConsumerGroupRecord));
    if (errorCode !== ErrorCode.NONE) return errorCode;
    this.cancelMemberTimers(group, memberId);
    this.applyRecords(group.groupId, records);
    return ErrorCode.NONE;
  }

  /** Fences a member whose session or rebalance timed out (Kafka's consumerGroupFenceMember). */
  private fence(
    groupId: string,
    memberId: string,
    reason: string,
    stillDue: (m: ConsumerGroupMember) => boolean,
  ): void {
    void this.exclusive(groupId, async () => {
      if (!this.active) return;
      const group = this.consumerGroup(groupId);
      const member = group?.members.get(memberId);
      if (!group || !member || !stillDue(member)) return;
      const errorCode = await this.removeMember(group, memberId);
      if (errorCode !== ErrorCode.NONE) {
        this.ctx.warn({ groupId, memberId, errorCode }, `could not fence consumer group member (${reason})`);
        // Try again a session later rather than keeping a dead member forever.
        this.scheduleSessionTimeout(group, memberId);
      }
    });
  }

  private scheduleSessionTimeout(group: ConsumerGroup, memberId: string): void {
    group.sessionTimers.get(memberId)?.();
    const cancel = this.ctx.time.schedule(this.config.sessionTimeoutMs, () => {
      group.sessionTimers.delete(memberId);
      this.fence(group.groupId, memberId, 'session timeout', () => true);
    });
    group.sessionTimers.set(memberId, cancel);
  }

  /** A member asked to revoke partitions must do so within its rebalance timeout, or be fenced. */
  private scheduleRebalanceTimeout(group: ConsumerGroup, member: ConsumerGroupMember): void {
    this.cancelRebalanceTimeout(group, member.memberId);
    const epoch = member.memberEpoch;
    const timeoutMs =
      member.rebalanceTimeoutMs > 0 ? member.rebalanceTimeoutMs : this.config.sessionTimeoutMs;
    const cancel = this.ctx.time.schedule(timeoutMs, () => {
      group.rebalanceTimers.delete(member.memberId);
      this.fence(
        group.groupId,
        member.memberId,
        'rebalance timeout',
        (m) => m.state === MemberState.UNREVOKED_PARTITIONS && m.memberEpoch === epoch,
      );
    });
    group.rebalanceTimers.set(member.memberId, cancel);
  }

  private cancelRebalanceTimeout(group: ConsumerGroup, memberId: string): void {
    group.rebalanceTimers.get(memberId)?.();
    group.rebalanceTimers.delete(memberId);
  }

  private cancelMemberTimers(group: ConsumerGroup, memberId: string): void {
    group.sessionTimers.get(memberId)?.();
    group.sessionTimers.delete(memberId);
    this.cancelRebalanceTimeout(group, memberId);
  }

  private cancelTimers(group: ConsumerGroup): void {
    for (const id of [...group.sessionTimers.keys(), ...group.rebalanceTimers.keys()]) {
      this.cancelMemberTimers(group, id);
    }
  }

  /** The topics a member subscribes to that exist: its names plus its regex's matches. */
  private memberTopics(m: ConsumerGroupMember): string[] {
    const out = new Set<string>();
    for (const name of m.subscribedTopicNames) if (this.ctx.topics.topic(name)) out.add(name);
    if (m.subscribedTopicRegex !== null) {
      let re: RegExp;
      try {
        re = this.regex(m.subscribedTopicRegex);
      } catch {
        return [...out];
      }
      for (const name of this.ctx.topics.topicNames()) {
        if (!INTERNAL_TOPICS.has(name) && re.test(name)) out.add(name);
      }
    }
    return [...out];
  }

  private subscribedTopics(members: Iterable<ConsumerGroupMember>): Map<string, SubscribedTopicMetadata> {
    const out = new Map<string, SubscribedTopicMetadata>();
    for (const m of members) {
      for (const name of this.memberTopics(m)) {
        if (out.has(name)) continue;
        const t = this.ctx.topics.topic(name);
        if (t) out.set(name, { id: t.id, name: t.name, numPartitions: t.numPartitions });
      }
    }
    return out;
  }

  /** The assignor the members prefer most (Kafka's computePreferredServerAssignor), else the default. */
  private preferredAssignor(members: Iterable<ConsumerGroupMember>): ServerAssignor {
    const votes = new Map<string, number>();
    for (const m of members) {
      if (m.serverAssignor !== null) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
    }
    let best: ServerAssignor = this.assignors[0];
    let bestVotes = 0;
    for (const a of this.assignors) {
      const v = votes.get(a.name) ?? 0;
      if (v > bestVotes) {
        best = a;
        bestVotes = v;
      }
    }
    return best;
  }

  private computeTargetAssignment(
    members: ReadonlyMap<string, ConsumerGroupMember>,
    subscribed: ReadonlyMap<string, SubscribedTopicMetadata>,
    previous: ReadonlyMap<string, TopicAssignment>,
  ): Map<string, TopicAssignment> {
    const topics = new Map<string, AssignmentTopic>();
    for (const t of subscribed.values()) topics.set(t.id, t);
    const specs: AssignmentMember[] = [...members.values()].map((m) => ({
      memberId: m.memberId,
      subscribedTopicIds: new Set(
        this.memberTopics(m)
          .map((name) => subscribed.get(name)?.id)
          .filter((id): id is string => id !== undefined),
      ),
      previous: previous.get(m.memberId) ?? new Map(),
    }));
    return this.preferredAssignor(members.values()).assign(specs, topics);
  }

  // ---------------------------------------------------------------------------------------------
  // ConsumerGroupDescribe, listing, deletion
  // ---------------------------------------------------------------------------------------------

  describe(req: ConsumerGroupDescribeRequest, _version: number): ConsumerGroupDescribeResponse {
    const resp = ConsumerGroupDescribeResponse.default();
    const unavailable = this.ctx.unavailableError();
    resp.groups = req.groupIds.map((groupId) => {
      const described: ConsumerGroupDescribeResponse.DescribedGroup = {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        groupId,
        groupState: '',
        groupEpoch: 0,
        assignmentEpoch: 0,
        assignorName: '',
        members: [],
        authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      };
      if (unavailable !== ErrorCode.NONE) return { ...described, errorCode: unavailable };
      const entry = this.ctx.group(groupId);
      const group = entry?.consumer;
      if (!group) {
        const exists = entry !== undefined && !entry.is('Dead');
        return {
          ...described,
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          errorMessage: exists ? `Group ${groupId} is not a consumer group.` : `Group ${groupId} not found.`,
        };
      }
      const withNames = (a: TopicAssignment): ConsumerGroupDescribeResponse.Assignment => ({
        topicPartitions: toTopicPartitions(a).map((tp) => ({
          topicId: tp.topicId,
          topicName: this.ctx.topics.topicById(tp.topicId)?.name ?? '',
          partitions: tp.partitions,
        })),
      });
      return {
        ...described,
        groupState: group.state,
        groupEpoch: group.groupEpoch,
        assignmentEpoch: group.targetAssignmentEpoch,
        assignorName: this.preferredAssignor(group.members.values()).name,
        members: [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          instanceId: m.instanceId,
          rackId: m.rackId,
          memberEpoch: m.memberEpoch,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopicNames: m.subscribedTopicNames,
          subscribedTopicRegex: m.subscribedTopicRegex,
          assignment: withNames(m.assignedPartitions),
          targetAssignment: withNames(group.targetAssignment.get(m.memberId) ?? new Map()),
        })),
      };
    });
    return resp;
  }

  /** The tombstones that delete a consumer group (members first, then the group's records). */
  deletionRecords(group: ConsumerGroup): OffsetsRecord[] {
    const records: ConsumerGroupRecord[] = [];
    for (const id of group.members.keys()) records.push(...memberRemovalRecords(group.groupId, id));
    records.push(
      { type: 'targetAssignmentMetadata', groupId: group.groupId, value: null },
      { type: 'partitionMetadata', groupId: group.groupId, value: null },
      { type: 'metadata', groupId: group.groupId, value: null },
    );
    return records.map(encodeConsumerGroupRecord);
  }

  /** Drops the consumer group from memory once its deletion records are durable. */
  forget(groupId: string): void {
    this.applyRecords(groupId, [{ type: 'metadata', groupId, value: null }]);
  }
}

function errorResponse(errorCode: number, message: string | null): ConsumerGroupHeartbeatResponse {
  const resp = ConsumerGroupHeartbeatResponse.default();
  resp.errorCode = errorCode;
  resp.errorMessage = message;
  return resp;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}

function sameSubscriptionMetadata(
  a: ReadonlyMap<string, SubscribedTopicMetadata>,
  b: ReadonlyMap<string, SubscribedTopicMetadata>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [name, t] of a) {
    const o = b.get(name);
    if (!o || o.id !== t.id || o.numPartitions !== t.numPartitions) return false;
  }
  return true;
}

function memberRemovalRecords(groupId: string, memberId: string): ConsumerGroupRecord[] {
  return [
    { type: 'currentMemberAssignment', groupId, memberId, value: null },
    { type: 'targetAssignmentMember', groupId, memberId, value: null },
    { type: 'memberMetadata', groupId, memberId, value: null },
  ];
}

function memberMetadataRecord(groupId: string, m: ConsumerGroupMember): ConsumerGroupRecord {
  return {
    type: 'memberMetadata',
    groupId,
    memberId: m.memberId,
    value: {
      instanceId: m.instanceId,
      rackId: m.rackId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscribedTopicNames: m.subscribedTopicNames,
      subscribedTopicRegex: m.subscribedTopicRegex,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      serverAssignor: m.serverAssignor,
      classicMemberMetadata: null,
    },
  };
}

function partitionMetadataRecord(
  groupId: string,
  topics: ReadonlyMap<string, SubscribedTopicMetadata>,
): ConsumerGroupRecord {
  return {
    type: 'partitionMetadata',
    groupId,
    value: {
      topics: [...topics.values()]
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((t) => ({
          topicId: t.id,
          topicName: t.name,
          numPartitions: t.numPartitions,
          partitionMetadata: [],
        })),
    },
  };
}

function targetMemberRecord(groupId: string, memberId: string, a: TopicAssignment): ConsumerGroupRecord {
  return {
    type: 'targetAssignmentMember',
    groupId,
    memberId,
    value: { topicPartitions: toTopicPartitions(a) },
  };
}

function currentAssignmentRecord(groupId: string, m: ConsumerGroupMember): ConsumerGroupRecord {
  return {
    type: 'currentMemberAssignment',
    groupId,
    memberId: m.memberId,
    value: {
      memberEpoch: m.memberEpoch,
      previousMemberEpoch: m.previousMemberEpoch,
      state: m.state,
      assignedPartitions: toTopicPartitions(m.assignedPartitions),
      partitionsPendingRevocation: toTopicPartitions(m.partitionsPendingRevocation),
    },
  };
}
