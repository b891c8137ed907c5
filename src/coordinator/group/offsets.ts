// OffsetMetadataManager: committed offsets of classic groups (Kafka's OffsetMetadataManager):
// OffsetCommit, TxnOffsetCommit, OffsetFetch, OffsetDelete, which offsets expire, and offset
// tombstones.
//
// The offsets live in each ClassicGroup (GroupOffsets). A commit is written to __consumer_offsets
// first and becomes visible to OffsetFetch only when the append is durable; a deletion removes
// offsets only once its tombstones are durable. A transactional commit (TxnOffsetCommit) is written
// as a transactional batch of its producer and, once durable, waits in PendingTxnOffsets for its
// transaction's marker (txn-offsets.ts); tombstones and expiry take those pending offsets into
// account as Kafka does. Group membership (and when a group may be deleted) belongs to the
// coordinator; it hands this class what it needs through OffsetContext.

import { ErrorCode } from '../../protocol/errors.js';
import type { OffsetCommitRequest } from '../../protocol/generated/messages/OffsetCommitRequest.js';
import { OffsetCommitResponse } from '../../protocol/generated/messages/OffsetCommitResponse.js';
import type { OffsetDeleteRequest } from '../../protocol/generated/messages/OffsetDeleteRequest.js';
import { OffsetDeleteResponse } from '../../protocol/generated/messages/OffsetDeleteResponse.js';
import type { OffsetFetchRequest } from '../../protocol/generated/messages/OffsetFetchRequest.js';
import { OffsetFetchResponse } from '../../protocol/generated/messages/OffsetFetchResponse.js';
import type { TxnOffsetCommitRequest } from '../../protocol/generated/messages/TxnOffsetCommitRequest.js';
import { TxnOffsetCommitResponse } from '../../protocol/generated/messages/TxnOffsetCommitResponse.js';
import type { NodeTime } from '../../util/clock.js';
import type { ClassicGroup, ClassicGroupMember } from './group.js';
import { groupMetadataKey, type OffsetAndMetadata, offsetCommitKey, offsetCommitValue } from './records.js';
import { appendErrorToResponseError, type OffsetsRecord, type TxnAppendOptions } from './store.js';
import type { PendingTxnOffsets } from './txn-offsets.js';

/** OffsetFetch's answer for a partition without a committed offset. */
const INVALID_OFFSET = -1n;
/** OffsetCommit v2-v4 retention_time_ms meaning "use the broker's offsets.retention.minutes". */
const DEFAULT_RETENTION_TIME = -1n;
/** OffsetCommit v1 commit_timestamp meaning "now". */
const DEFAULT_TIMESTAMP = -1n;

/** What the offset manager needs from the coordinator that owns it. */
export interface OffsetContext {
  readonly time: NodeTime;
  readonly offsetMetadataMaxBytes: number;
  readonly offsetsRetentionMs: number;
  partitionExists(topic: string, partition: number): boolean;
  /** The live group (possibly Dead while being deleted), or undefined. */
  group(groupId: string): ClassicGroup | undefined;
  /** Creates an Empty group without protocol type (a "simple" group: offsets without membership). */
  createGroup(groupId: string): ClassicGroup;
  rescheduleHeartbeat(group: ClassicGroup, member: ClassicGroupMember): void;
  /** Appends to the group's __consumer_offsets partition (a transactional batch with `txn`);
   *  resolves with NONE or the append's error code. */
  append(groupId: string, records: OffsetsRecord[], txn?: TxnAppendOptions): Promise<number>;
  /** The offsets of open transactions, every group of this coordinator. */
  readonly txnOffsets: PendingTxnOffsets;
  /** The next write sequence number (issue order = log order). */
  nextWriteSeq(): number;
}

/** One group's OffsetFetch answer, before it is shaped for the request's version. */
interface FetchedGroup {
  errorCode: number;
  topics: Array<{ name: string; partitions: FetchedPartition[] }>;
}

interface FetchedPartition {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

type TopicPartition = [topic: string, partition: number];

/** A requested partition and its slot in the response (errorCode NONE until set). */
interface AnswerEntry<P> {
  topic: string;
  partition: P;
  out: { partitionIndex: number; errorCode: number };
}

/**
 * Builds the response's topics in request order (OffsetCommit and TxnOffsetCommit answer the same
 * shape) and returns one entry per requested partition pointing at its answer.
 */
function answerEntries<P extends { partitionIndex: number }>(
  topics: readonly { name: string; partitions: readonly P[] }[],
  answer: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[],
): AnswerEntry<P>[] {
  const entries: AnswerEntry<P>[] = [];
  for (const t of topics) {
    const partitions: { partitionIndex: number; errorCode: number }[] = [];
    answer.push({ name: t.name, partitions });
    for (const p of t.partitions) {
      const out = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE };
      partitions.push(out);
      entries.push({ topic: t.name, partition: p, out });
    }
  }
  return entries;
}

export class OffsetMetadataManager {
  constructor(private readonly ctx: OffsetContext) {}

  /**
   * Kafka's request handler answers partitions of unknown topics (UNKNOWN_TOPIC_OR_PARTITION)
   * before asking the coordinator; the others are returned.
   */
  private knownPartitions<E extends AnswerEntry<{ partitionIndex: number }>>(entries: E[]): E[] {
    return entries.filter((e) => {
      if (this.ctx.partitionExists(e.topic, e.partition.partitionIndex)) return true;
      e.out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      return false;
    });
  }

  async commitOffsets(
    req: OffsetCommitRequest,
    version: number,
    unavailableError: number,
  ): Promise<OffsetCommitResponse> {
    const resp = OffsetCommitResponse.default();
    const entries = answerEntries(req.topics, resp.topics);
    // A group-level error is reported on every partition of the request (Kafka's getErrorResponse).
    const failAll = (errorCode: number): OffsetCommitResponse => {
      for (const e of entries) e.out.errorCode = errorCode;
      return resp;
    };
    if (unavailableError !== ErrorCode.NONE) return failAll(unavailableError);

    const known = this.knownPartitions(entries);
    if (known.length === 0) return resp;

    let group = this.ctx.group(req.groupId);
    if (!group) {
      // Generation -1: the admin client or a consumer without group management ("simple" group).
      if (req.generationIdOrMemberEpoch < 0) group = this.ctx.createGroup(req.groupId);
      // v9+ says so plainly; older versions keep ILLEGAL_GENERATION for compatibility.
      else return failAll(version >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
    }
    const validation = group.validateOffsetCommit(
      req.memberId,
      req.groupInstanceId,
      req.generationIdOrMemberEpoch,
      false,
      version,
    );
    if (validation !== ErrorCode.NONE) return failAll(validation);

    // A commit keeps a classic member's session alive in Stable and PreparingRebalance.
    const member = group.members.get(req.memberId);
    if (member && (group.is('Stable') || group.is('PreparingRebalance'))) {
      this.ctx.rescheduleHeartbeat(group, member);
    }

    const nowMs = this.ctx.time.now();
    const expireTimestampMs =
      req.retentionTimeMs === DEFAULT_RETENTION_TIME ? null : nowMs + Number(req.retentionTimeMs);
    const toWrite: Array<{ topic: string; partition: number; offset: OffsetAndMetadata }> = [];
    for (const e of known) {
      const metadata = e.partition.committedMetadata;
      // Kafka compares the Java string length (UTF-16 code units), as JS string length does.
      if (metadata !== null && metadata.length > this.ctx.offsetMetadataMaxBytes) {
        e.out.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        continue;
      }
      toWrite.push({
        topic: e.topic,
        partition: e.partition.partitionIndex,
        offset: {
          offset: e.partition.committedOffset,
          leaderEpoch: e.partition.committedLeaderEpoch,
          metadata: metadata ?? '',
          commitTimestampMs:
            e.partition.commitTimestamp === DEFAULT_TIMESTAMP ? nowMs : Number(e.partition.commitTimestamp),
          expireTimestampMs,
        },
      });
    }
    if (toWrite.length === 0) return resp;

    const errorCode = await this.writeCommits(group, toWrite);
    if (errorCode !== ErrorCode.NONE) return failAll(appendErrorToResponseError(errorCode));
    return resp;
  }

  /** Writes commit records; offsets become visible when durable. Resolves with the append's error code. */
  private async writeCommits(
    group: ClassicGroup,
    commits: Array<{ topic: string; partition: number; offset: OffsetAndMetadata }>,
  ): Promise<number> {
    const seq = this.ctx.nextWriteSeq();
    for (const c of commits) group.offsets.addPending(c.topic, c.partition, seq);
    const write = this.ctx.append(
      group.groupId,
      commits.map((c) => ({
        key: offsetCommitKey(group.groupId, c.topic, c.partition),
        value: offsetCommitValue(c.offset),
      })),
    );
    group.pendingCommitWrites.add(write);
    const errorCode = await write;
    group.pendingCommitWrites.delete(write);
    for (const c of commits) {
      const stillWanted = group.offsets.completePending(c.topic, c.partition, seq);
      if (stillWanted && errorCode === ErrorCode.NONE) group.offsets.put(c.topic, c.partition, c.offset, seq);
    }
    return errorCode;
  }

  /**
   * TxnOffsetCommit (Kafka's commitTransactionalOffset with the request handler's topic check).
   * Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION; a group-level error goes on every
   * other partition. A group that does not exist is created (a simple group) for generation -1,
   * else ILLEGAL_GENERATION. Member, instance and generation are checked when given (v3+); the
   * group's state is not (no REBALANCE_IN_PROGRESS). The offsets are written as one transactional
   * batch of the producer; once durable they are pending until the transaction ends.
   */
  async txnCommitOffsets(
    req: TxnOffsetCommitRequest,
    version: number,
    unavailableError: number,
  ): Promise<TxnOffsetCommitResponse> {
    const resp = TxnOffsetCommitResponse.default();
    const entries = answerEntries(req.topics, resp.topics);
    const known = this.knownPartitions(entries);
    if (known.length === 0) return resp;
    const failAll = (errorCode: number): TxnOffsetCommitResponse => {
      // v0-1 clients (0.11 to 2.0) may crash on COORDINATOR_LOAD_IN_PROGRESS (KAFKA-7296).
      const code =
        version < 2 && errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
          ? ErrorCode.COORDINATOR_NOT_AVAILABLE
          : errorCode;
      for (const e of known) e.out.errorCode = code;
      return resp;
    };
    if (unavailableError !== ErrorCode.NONE) return failAll(unavailableError);
    if (req.groupId === '') return failAll(ErrorCode.INVALID_GROUP_ID);

    let group = this.ctx.group(req.groupId);
    if (!group) {
      // Generation -1 (always so before v3): a producer committing for a "simple" group.
      if (req.generationId < 0) group = this.ctx.createGroup(req.groupId);
      else return failAll(ErrorCode.ILLEGAL_GENERATION);
    }
    const validation = group.validateOffsetCommit(req.memberId, req.groupInstanceId, req.generationId, true);
    if (validation !== ErrorCode.NONE) return failAll(validation);

    const nowMs = this.ctx.time.now();
    const toWrite: Array<{ topic: string; partition: number; offset: OffsetAndMetadata }> = [];
    for (const e of known) {
      const metadata = e.partition.committedMetadata;
      if (metadata !== null && metadata.length > this.ctx.offsetMetadataMaxBytes) {
        e.out.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        continue;
      }
      toWrite.push({
        topic: e.topic,
        partition: e.partition.partitionIndex,
        offset: {
          offset: e.partition.committedOffset,
          leaderEpoch: e.partition.committedLeaderEpoch,
          metadata: metadata ?? '',
          commitTimestampMs: nowMs,
          expireTimestampMs: null,
        },
      });
    }
    if (toWrite.length === 0) return resp;

    const errorCode = await this.writeTxnCommits(group, toWrite, {
      producerId: req.producerId,
      producerEpoch: req.producerEpoch,
    });
    if (errorCode !== ErrorCode.NONE) return failAll(appendErrorToResponseError(errorCode));
    return resp;
  }

  /**
   * Writes transactional commit records as one batch of the producer. Once durable (and unless a
   * tombstone written after them completed meanwhile) the offsets are pending under the producer
   * id until its transaction's marker. Resolves with the append's error code.
   */
  private async writeTxnCommits(
    group: ClassicGroup,
    commits: Array<{ topic: string; partition: number; offset: OffsetAndMetadata }>,
    txn: TxnAppendOptions,
  ): Promise<number> {
    const seq = this.ctx.nextWriteSeq();
    for (const c of commits) group.offsets.addPending(c.topic, c.partition, seq);
    const write = this.ctx.append(
      group.groupId,
      commits.map((c) => ({
        key: offsetCommitKey(group.groupId, c.topic, c.partition),
        value: offsetCommitValue(c.offset),
      })),
      txn,
    );
    group.pendingCommitWrites.add(write);
    const errorCode = await write;
    group.pendingCommitWrites.delete(write);
    for (const c of commits) {
      const stillWanted = group.offsets.completePending(c.topic, c.partition, seq);
      if (stillWanted && errorCode === ErrorCode.NONE) {
        this.ctx.txnOffsets.add(txn.producerId, group.groupId, c.topic, c.partition, { ...c.offset, seq });
      }
    }
    return errorCode;
  }

  async fetchOffsets(
    req: OffsetFetchRequest,
    version: number,
    unavailableError: number,
  ): Promise<OffsetFetchResponse> {
    const resp = OffsetFetchResponse.default();
    // require_stable exists from v7; false (its default) before.
    const requireStable = version >= 7 && req.requireStable;
    if (version >= 8) {
      resp.groups = await Promise.all(
        req.groups.map(async (g) => {
          const fetched = await this.fetchGroup(
            g.groupId,
            g.topics,
            requireStable,
            unavailableError,
            version >= 9 ? { memberId: g.memberId, memberEpoch: g.memberEpoch } : null,
          );
          return { groupId: g.groupId, errorCode: fetched.errorCode, topics: fetched.topics };
        }),
      );
      return resp;
    }
    const fetched = await this.fetchGroup(req.groupId, req.topics, requireStable, unavailableError);
    resp.topics = fetched.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        ...p,
        committedLeaderEpoch: version >= 5 ? p.committedLeaderEpoch : -1,
        // v0-1 have no top-level error: a group error goes on each partition.
        errorCode: version < 2 && fetched.errorCode !== ErrorCode.NONE ? fetched.errorCode : p.errorCode,
      })),
    }));
    if (version >= 2) resp.errorCode = fetched.errorCode;
    return resp;
  }

  /**
   * One group's offsets. A group that does not exist has no offsets: requested partitions get
   * offset -1 and metadata "", a request for all offsets gets none, and there is no error (Kafka
   * never answers GROUP_ID_NOT_FOUND here). With require_stable, the answer waits until the group's
   * commits in flight are durable (Kafka 4's coordinator runs such a fetch as a write operation),
   * and a partition with a pending transactional offset is answered UNSTABLE_OFFSET_COMMIT (the
   * consumer retries until the transaction ends). Without it, such a partition gets its last
   * committed offset.
   */
  private async fetchGroup(
    groupId: string,
    topics: Array<{ name: string; partitionIndexes: number[] }> | null,
    requireStable: boolean,
    unavailableError: number,
    member: { memberId: string | null; memberEpoch: number } | null = null,
  ): Promise<FetchedGroup> {
    // A KIP-848 member says who it is (v9+): a stale or unknown member gets no offsets.
    const consumer = this.ctx.group(groupId)?.consumer;
    if (unavailableError === ErrorCode.NONE && consumer && member) {
      const invalid = consumer.validateOffsetFetch(member.memberId, member.memberEpoch);
      if (invalid !== ErrorCode.NONE) unavailableError = invalid;
    }
    if (unavailableError !== ErrorCode.NONE) {
      return {
        errorCode: unavailableError,
        topics: (topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => noOffset(p, unavailableError)),
        })),
      };
    }
    if (requireStable) {
      const pending = this.ctx.group(groupId)?.pendingCommitWrites;
      if (pending && pending.size > 0) await Promise.all([...pending]);
    }
    const found = this.ctx.group(groupId);
    const group = found && !found.is('Dead') ? found : undefined;
    const unstable = (topic: string, partition: number) =>
      requireStable && this.ctx.txnOffsets.has(groupId, topic, partition);
    if (topics === null) {
      return { errorCode: ErrorCode.NONE, topics: group ? allOffsets(group, unstable) : [] };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => {
          if (unstable(t.name, p)) return noOffset(p, ErrorCode.UNSTABLE_OFFSET_COMMIT);
          const o = group?.offsets.get(t.name, p);
          return o ? fetchedOffset(p, o) : noOffset(p, ErrorCode.NONE);
        }),
      })),
    };
  }

  async deleteOffsets(req: OffsetDeleteRequest, unavailableError: number): Promise<OffsetDeleteResponse> {
    const resp = OffsetDeleteResponse.default();
    const groupError = this.validateOffsetDelete(req.groupId, unavailableError);
    if (groupError !== ErrorCode.NONE) {
      resp.errorCode = groupError;
      return resp;
    }
    const group = this.ctx.group(req.groupId)!;
    const toDelete: TopicPartition[] = [];
    for (const t of req.topics) {
      const partitions: OffsetDeleteResponse.OffsetDeleteResponsePartition[] = [];
      resp.topics.push({ name: t.name, partitions });
      for (const { partitionIndex } of t.partitions) {
        let errorCode: number = ErrorCode.NONE;
        if (!this.ctx.partitionExists(t.name, partitionIndex))
          errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (group.isSubscribedToTopic(t.name)) errorCode = ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
        else if (this.hasOffset(group, t.name, partitionIndex)) toDelete.push([t.name, partitionIndex]);
        partitions.push({ partitionIndex, errorCode });
      }
    }
    if (toDelete.length === 0) return resp;
    const errorCode = await this.writeTombstones(group, toDelete, false);
    if (errorCode === ErrorCode.NONE) return resp;
    const failed = OffsetDeleteResponse.default();
    failed.errorCode = appendErrorToResponseError(errorCode);
    return failed;
  }

  /** Kafka's ClassicGroup.validateOffsetDelete: a non-empty group may only lose offsets of topics
   *  it does not subscribe to, and only if it is a consumer group (whose subscriptions are known). */
  private validateOffsetDelete(groupId: string, unavailableError: number): number {
    if (unavailableError !== ErrorCode.NONE) return unavailableError;
    const group = this.ctx.group(groupId);
    if (!group || group.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is('Empty') && !group.usesConsumerGroupProtocol()) return ErrorCode.NON_EMPTY_GROUP;
    return ErrorCode.NONE;
  }

  /**
   * The offsets of `group` that have expired at `nowMs`, and whether every offset of the group has
   * (so an Empty group may then be deleted). Offsets of subscribed topics, offsets with a commit
   * in flight and offsets with a pending transactional commit are kept; a group with an open
   * transaction is never all expired (Kafka keeps it until the transaction ends).
   */
  expiredOffsets(group: ClassicGroup, nowMs: number): { expired: TopicPartition[]; allExpired: boolean } {
    const base = group.offsetExpirationCondition();
    if (base === null) return { expired: [], allExpired: false };
    const expired: TopicPartition[] = [];
    const txn = this.ctx.txnOffsets;
    let allExpired = !group.offsets.hasPending && !txn.hasOpenTransactions(group.groupId);
    for (const [topic, partition, o] of group.offsets.entries()) {
      const keep =
        group.isSubscribedToTopic(topic) ||
        group.offsets.hasPendingFor(topic, partition) ||
        txn.has(group.groupId, topic, partition) ||
        !isOffsetExpired(o, base(o), nowMs, this.ctx.offsetsRetentionMs);
      if (keep) allExpired = false;
      else expired.push([topic, partition]);
    }
    return { expired, allExpired };
  }

  /** Offsets (committed, in flight or pending in a transaction) of the group for any of `topics`. */
  offsetsOfTopics(group: ClassicGroup, topics: ReadonlySet<string>): TopicPartition[] {
    return this.allOffsetKeys(group).filter(([topic]) => topics.has(topic));
  }

  /** Every partition of the group with an offset: committed, in flight, or pending in a
   *  transaction (what DeleteGroups writes tombstones for, as Kafka's deleteAllOffsets). */
  allOffsetKeys(group: ClassicGroup): TopicPartition[] {
    const keys = group.offsets.keys();
    const pending = this.ctx.txnOffsets.partitionsOf(group.groupId);
    if (pending.length === 0) return keys;
    const seen = new Set(keys.map(([topic, partition]) => `${partition}:${topic}`));
    for (const [topic, partition] of pending) {
      if (!seen.has(`${partition}:${topic}`)) keys.push([topic, partition]);
    }
    return keys;
  }

  /** Kafka's OffsetDelete rule: a tombstone is written for a committed offset, a commit in flight,
   *  or a pending transactional offset. */
  private hasOffset(group: ClassicGroup, topic: string, partition: number): boolean {
    return (
      group.offsets.get(topic, partition) !== undefined ||
      group.offsets.hasPendingFor(topic, partition) ||
      this.ctx.txnOffsets.has(group.groupId, topic, partition)
    );
  }

  /**
   * Writes tombstones for `offsets` (and for the group itself when `groupTombstone`); once durable
   * the offsets go from memory, pending transactional ones included (commits issued after the
   * tombstones stay). Resolves with the append's error code.
   */
  async writeTombstones(
    group: ClassicGroup,
    offsets: TopicPartition[],
    groupTombstone: boolean,
  ): Promise<number> {
    const records: OffsetsRecord[] = offsets.map(([topic, partition]) => ({
      key: offsetCommitKey(group.groupId, topic, partition),
      value: null,
    }));
    if (groupTombstone) records.push({ key: groupMetadataKey(group.groupId), value: null });
    if (records.length === 0) return ErrorCode.NONE;
    const seq = this.ctx.nextWriteSeq();
    const errorCode = await this.ctx.append(group.groupId, records);
    if (errorCode === ErrorCode.NONE) {
      for (const [topic, partition] of offsets) {
        group.offsets.remove(topic, partition, seq);
        this.ctx.txnOffsets.remove(group.groupId, topic, partition, seq);
      }
    }
    return errorCode;
  }
}

/** An offset with an explicit expire timestamp (OffsetCommit v2-v4) expires then; others after the
 *  retention period counted from `baseTimestampMs`. */
function isOffsetExpired(
  o: OffsetAndMetadata,
  baseTimestampMs: number,
  nowMs: number,
  retentionMs: number,
): boolean {
  if (o.expireTimestampMs !== null) return nowMs >= o.expireTimestampMs;
  return nowMs - baseTimestampMs >= retentionMs;
}

function noOffset(partitionIndex: number, errorCode: number): FetchedPartition {
  return {
    partitionIndex,
    committedOffset: INVALID_OFFSET,
    committedLeaderEpoch: -1,
    metadata: '',
    errorCode,
  };
}

function fetchedOffset(partitionIndex: number, o: OffsetAndMetadata): FetchedPartition {
  return {
    partitionIndex,
    committedOffset: o.offset,
    committedLeaderEpoch: o.leaderEpoch,
    metadata: o.metadata,
    errorCode: ErrorCode.NONE,
  };
}

/** Every committed offset of the group; `unstable` partitions (require_stable and a pending
 *  transactional offset) are answered UNSTABLE_OFFSET_COMMIT instead. */
function allOffsets(
  group: ClassicGroup,
  unstable: (topic: string, partition: number) => boolean,
): FetchedGroup['topics'] {
  const byTopic = new Map<string, FetchedPartition[]>();
  for (const [topic, partition, o] of group.offsets.entries()) {
    let partitions = byTopic.get(topic);
    if (!partitions) {
      partitions = [];
      byTopic.set(topic, partitions);
    }
    partitions.push(
      unstable(topic, partition)
        ? noOffset(partition, ErrorCode.UNSTABLE_OFFSET_COMMIT)
        : fetchedOffset(partition, o),
    );
  }
  return [...byTopic].map(([name, partitions]) => ({ name, partitions }));
}
