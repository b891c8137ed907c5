// The controller's partition administration: leader elections (ElectLeaders) and replica
// reassignments (AlterPartitionReassignments, ListPartitionReassignments), as Kafka's
// ReplicationControlManager does them. Pure functions of the metadata image: each returns the
// records to append and the response, like the Controller's operations (run them through
// MetadataManager.submit / BrokerServices.runMetadataOp so that they see the current image and
// their records are durable before the answer).
//
// On one node every partition has the replicas [this node] and this node as leader, so an election
// is never needed and the only valid reassignment target is the current replica set: both answer
// at once, with no records. The general cases (electing the preferred or a live replica, starting a
// reassignment) are written for the cluster to come and tested on hand-made images.

import { ErrorCode } from '../protocol/errors.js';
import type { AlterPartitionReassignmentsRequest } from '../protocol/generated/messages/AlterPartitionReassignmentsRequest.js';
import type { AlterPartitionReassignmentsResponse } from '../protocol/generated/messages/AlterPartitionReassignmentsResponse.js';
import type { ElectLeadersRequest } from '../protocol/generated/messages/ElectLeadersRequest.js';
import type { ElectLeadersResponse } from '../protocol/generated/messages/ElectLeadersResponse.js';
import type { ListPartitionReassignmentsRequest } from '../protocol/generated/messages/ListPartitionReassignmentsRequest.js';
import type { ListPartitionReassignmentsResponse } from '../protocol/generated/messages/ListPartitionReassignmentsResponse.js';
import type { ControllerResult } from './controller.js';
import type { MetadataImage, PartitionRegistration } from './image.js';
import { type ApiMessageAndVersion, partitionChangeRecord } from './records.js';

/** ElectionType: 0 elects the preferred replica, 1 the first live replica when no ISR member is. */
export const ElectionType = { PREFERRED: 0, UNCLEAN: 1 } as const;

/** LeaderRecoveryState of a leader elected uncleanly (Kafka's LeaderRecoveryState.RECOVERING). */
const RECOVERING = 1;

const NO_LEADER = -1;

/** An error code and the message Kafka gives with it (ApiError). */
interface ApiError {
  readonly code: number;
  readonly message: string | null;
}

const NONE: ApiError = { code: ErrorCode.NONE, message: null };

function apiError(code: number, message: string): ApiError {
  return { code, message };
}

/** Kafka's Errors.<code>.message(), the message an ApiError built from the bare code carries. */
const DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  [ErrorCode.ELECTION_NOT_NEEDED]: 'Leader election not needed for topic partition.',
  [ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE]: 'The preferred leader was not available.',
  [ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE]: 'Eligible topic partition leaders are not available.',
  [ErrorCode.NO_REASSIGNMENT_IN_PROGRESS]: 'No partition reassignment is in progress.',
};

function bare(code: number): ApiError {
  return { code, message: DEFAULT_MESSAGES[code] ?? null };
}

/** A broker that may lead: registered, unfenced and not shutting down. */
function isUsable(image: MetadataImage, brokerId: number): boolean {
  const b = image.broker(brokerId);
  return b !== undefined && !b.fenced && !b.inControlledShutdown;
}

// ---- ElectLeaders ----

/**
 * ElectLeaders (ReplicationControlManager.electLeaders). Topic partitions null means every
 * partition; then, as Kafka, each topic is listed and the partitions that need no election are
 * left out. An unknown election type fails the whole request with INVALID_REQUEST, on every
 * partition named (ElectLeadersRequest.getErrorResponse).
 */
export function electLeaders(
  image: MetadataImage,
  req: ElectLeadersRequest,
  version: number,
): ControllerResult<ElectLeadersResponse> {
  // v0 has no election type: it always asks for the preferred replica.
  const electionType = version >= 1 ? req.electionType : ElectionType.PREFERRED;
  if (electionType !== ElectionType.PREFERRED && electionType !== ElectionType.UNCLEAN) {
    const e = apiError(ErrorCode.INVALID_REQUEST, `Unknown election type ${electionType}`);
    return {
      records: [],
      response: {
        throttleTimeMs: 0,
        errorCode: version >= 1 ? e.code : ErrorCode.NONE,
        replicaElectionResults: (req.topicPartitions ?? []).map((t) => ({
          topic: t.topic,
          partitionResult: t.partitions.map((p) => ({
            partitionId: p,
            errorCode: e.code,
            errorMessage: e.message,
          })),
        })),
      },
    };
  }
  const records: ApiMessageAndVersion[] = [];
  const replicaElectionResults: ElectLeadersResponse.ReplicaElectionResult[] = [];
  if (req.topicPartitions === null) {
    for (const topic of image.topics()) {
      const partitionResult: ElectLeadersResponse.PartitionResult[] = [];
      for (const partitionId of [...topic.partitions.keys()].sort((a, b) => a - b)) {
        const e = electLeader(image, topic.name, partitionId, electionType, records);
        if (e.code !== ErrorCode.ELECTION_NOT_NEEDED) {
          partitionResult.push({ partitionId, errorCode: e.code, errorMessage: e.message });
        }
      }
      replicaElectionResults.push({ topic: topic.name, partitionResult });
    }
  } else {
    for (const t of req.topicPartitions) {
      replicaElectionResults.push({
        topic: t.topic,
        partitionResult: t.partitions.map((partitionId) => {
          const e = electLeader(image, t.topic, partitionId, electionType, records);
          return { partitionId, errorCode: e.code, errorMessage: e.message };
        }),
      });
    }
  }
  return { records, response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults } };
}

function electLeader(
  image: MetadataImage,
  topicName: string,
  partitionId: number,
  electionType: number,
  records: ApiMessageAndVersion[],
): ApiError {
  const topic = image.topic(topicName);
  if (!topic) return apiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `No such topic as ${topicName}`);
  const partition = topic.partitions.get(partitionId);
  if (!partition) {
    return apiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `No such partition as ${topicName}-${partitionId}`);
  }
  const preferred = partition.replicas[0] ?? NO_LEADER;
  if (electionType === ElectionType.PREFERRED) {
    if (partition.leader === preferred) return bare(ErrorCode.ELECTION_NOT_NEEDED);
    // The preferred replica leads only if it is in sync and alive (PartitionChangeBuilder).
    if (preferred === NO_LEADER || !partition.isr.includes(preferred) || !isUsable(image, preferred)) {
      return bare(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE);
    }
    records.push(partitionChangeRecord(topic.id, partitionId, { leader: preferred }));
    return NONE;
  }
  // Unclean: only a partition without a leader needs one; an in-sync live replica first, else
  // any live replica, which then becomes the whole ISR and recovers (leader recovery state).
  if (partition.leader !== NO_LEADER) return bare(ErrorCode.ELECTION_NOT_NEEDED);
  const clean = partition.replicas.find((r) => partition.isr.includes(r) && isUsable(image, r));
  if (clean !== undefined) {
    records.push(partitionChangeRecord(topic.id, partitionId, { leader: clean }));
    return NONE;
  }
  const unclean = partition.replicas.find((r) => isUsable(image, r));
  if (unclean === undefined) return bare(ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE);
  records.push(
    partitionChangeRecord(topic.id, partitionId, {
      leader: unclean,
      isr: [unclean],
      leaderRecoveryState: RECOVERING,
    }),
  );
  return NONE;
}

// ---- AlterPartitionReassignments / ListPartitionReassignments ----

function isReassigning(p: PartitionRegistration): boolean {
  return p.addingReplicas.length > 0 || p.removingReplicas.length > 0;
}

/**
 * AlterPartitionReassignments (ReplicationControlManager.alterPartitionReassignments): per
 * partition, replicas null cancels the reassignment in progress (NO_REASSIGNMENT_IN_PROGRESS if
 * none), a replica list is validated as a manual assignment (not empty, no broker twice, every
 * broker registered: INVALID_REPLICA_ASSIGNMENT) and, when it differs from the current replicas,
 * starts the reassignment. Equal to the current replicas, it is complete at once.
 */
export function alterPartitionReassignments(
  image: MetadataImage,
  req: AlterPartitionReassignmentsRequest,
  uncleanLeaderElectionEnable: (topic: string) => boolean = () => false,
): ControllerResult<AlterPartitionReassignmentsResponse> {
  const records: ApiMessageAndVersion[] = [];
  const responses = req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => {
      const e = alterPartitionReassignment(
        image,
        t.name,
        p.partitionIndex,
        p.replicas,
        records,
        uncleanLeaderElectionEnable,
      );
      return { partitionIndex: p.partitionIndex, errorCode: e.code, errorMessage: e.message };
    }),
  }));
  return {
    records,
    response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, responses },
  };
}

function alterPartitionReassignment(
  image: MetadataImage,
  topicName: string,
  partitionId: number,
  target: readonly number[] | null,
  records: ApiMessageAndVersion[],
  uncleanLeaderElectionEnable: (topic: string) => boolean,
): ApiError {
  const topic = image.topic(topicName);
  if (!topic) {
    return apiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Unable to find a topic named ${topicName}.`);
  }
  const part = topic.partitions.get(partitionId);
  if (!part) {
    return apiError(
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      `Unable to find partition ${topicName}:${partitionId}.`,
    );
  }
  if (target === null) {
    if (!isReassigning(part)) return bare(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
    // Cancel (Kafka's PartitionReassignmentRevert): back to the replicas before the reassignment,
    // without those being added, in the ISR too. An ISR left empty needs an unclean election,
    // refused unless the topic allows one.
    const original = part.replicas.filter((r) => !part.addingReplicas.includes(r));
    const isr = part.isr.filter((r) => original.includes(r));
    const change: Parameters<typeof partitionChangeRecord>[2] = {
      replicas: original,
      isr,
      addingReplicas: [],
      removingReplicas: [],
    };
    if (isr.length === 0) {
      if (!uncleanLeaderElectionEnable(topicName)) {
        return apiError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `Unable to revert partition assignment for ${topicName}:${partitionId} because it would require an unclean leader election.`,
        );
      }
      const leader = original.find((r) => isUsable(image, r)) ?? NO_LEADER;
      change.leader = leader;
      change.isr = leader === NO_LEADER ? [] : [leader];
      change.leaderRecoveryState = RECOVERING;
    } else if (!isr.includes(part.leader)) {
      change.leader = isr.find((r) => isUsable(image, r)) ?? NO_LEADER;
    }
    records.push(partitionChangeRecord(topic.id, partitionId, change));
    return NONE;
  }
  const invalid = validateManualAssignment(image, target);
  if (invalid) return invalid;
  if (!isReassigning(part) && sameList(part.replicas, target)) return NONE;
  // A new target: the replicas become target + the current ones still to remove (Kafka's
  // PartitionReassignmentReplicas); the adding ones join the ISR as they catch up.
  const removing = part.replicas.filter((r) => !target.includes(r));
  const adding = target.filter((r) => !part.replicas.includes(r));
  if (adding.length === 0) {
    // Only removals (or a reorder): complete at once, as Kafka does when the target is in sync.
    const isr = part.isr.filter((r) => target.includes(r));
    const change: Parameters<typeof partitionChangeRecord>[2] = {
      replicas: [...target],
      isr: isr.length > 0 ? isr : [...part.isr],
      addingReplicas: [],
      removingReplicas: [],
    };
    if (!target.includes(part.leader)) {
      change.leader = target.find((r) => isr.includes(r) && isUsable(image, r)) ?? NO_LEADER;
    }
    records.push(partitionChangeRecord(topic.id, partitionId, change));
    return NONE;
  }
  records.push(
    partitionChangeRecord(topic.id, partitionId, {
      replicas: [...target, ...removing],
      addingReplicas: adding,
      removingReplicas: removing,
    }),
  );
  return NONE;
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** ReplicationControlManager.validateManualPartitionAssignment, with Kafka's messages. */
function validateManualAssignment(image: MetadataImage, replicas: readonly number[]): ApiError | null {
  if (replicas.length === 0) {
    return apiError(
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      'The manual partition assignment includes an empty replica list.',
    );
  }
  const sorted = [...replicas].sort((a, b) => a - b);
  let prev: number | null = null;
  for (const id of sorted) {
    if (image.broker(id) === undefined) {
      return apiError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `The manual partition assignment includes broker ${id}, but no such broker is registered.`,
      );
    }
    if (id === prev) {
      return apiError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `The manual partition assignment includes the broker ${prev} more than once.`,
      );
    }
    prev = id;
  }
  return null;
}

/**
 * ListPartitionReassignments (ReplicationControlManager.listPartitionReassignments): the
 * partitions with a reassignment in progress, of every topic (topics null) or of the partitions
 * named; unknown topics and partitions are silently left out, as in Kafka.
 */
export function listPartitionReassignments(
  image: MetadataImage,
  req: ListPartitionReassignmentsRequest,
): ListPartitionReassignmentsResponse {
  const wanted: { name: string; partitions: number[] }[] =
    req.topics?.map((t) => ({ name: t.name, partitions: t.partitionIndexes })) ??
    [...image.topics()].map((t) => ({
      name: t.name,
      partitions: [...t.partitions.keys()].sort((a, b) => a - b),
    }));
  const topics: ListPartitionReassignmentsResponse.OngoingTopicReassignment[] = [];
  for (const w of wanted) {
    const topic = image.topic(w.name);
    if (!topic) continue;
    const partitions: ListPartitionReassignmentsResponse.OngoingPartitionReassignment[] = [];
    for (const partitionIndex of w.partitions) {
      const p = topic.partitions.get(partitionIndex);
      if (!p || !isReassigning(p)) continue;
      partitions.push({
        partitionIndex,
        replicas: [...p.replicas],
        addingReplicas: [...p.addingReplicas],
        removingReplicas: [...p.removingReplicas],
      });
    }
    if (partitions.length > 0) topics.push({ name: topic.name, partitions });
  }
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics };
}
