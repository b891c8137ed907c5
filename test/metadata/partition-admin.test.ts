// The controller's elections and reassignments (metadata/partition-admin.ts) on hand-made images:
// the one-node answers, and the cluster cases a single broker never reaches (a leader that is not
// the preferred replica, a partition without a leader, a reassignment that adds a replica).

import { describe, expect, it } from 'vitest';
import {
  alterPartitionReassignments,
  ElectionType,
  electLeaders,
  listPartitionReassignments,
} from '../../src/metadata/partition-admin.js';
import { partitionRecord, topicRecord } from '../../src/metadata/records.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import type {
  AlterPartitionReassignmentsRequest,
  ElectLeadersRequest,
} from '../../src/protocol/generated/index.js';
import { setup } from './helpers.js';

const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAABw';

/** Brokers 1-3 (3 fenced unless asked), topic "t" with the given partitions. */
function cluster(
  partitions: {
    replicas: number[];
    isr?: number[];
    leader?: number;
    adding?: number[];
    removing?: number[];
  }[],
  fenced: number[] = [],
) {
  const f = setup({ brokers: [1, 2, 3], fenced });
  f.image.replay(topicRecord('t', TOPIC_ID));
  partitions.forEach((p, i) => {
    f.image.replay(
      partitionRecord({
        partitionId: i,
        topicId: TOPIC_ID,
        replicas: p.replicas,
        isr: p.isr ?? p.replicas,
        removingReplicas: p.removing ?? [],
        addingReplicas: p.adding ?? [],
        leader: p.leader ?? p.replicas[0],
        leaderRecoveryState: 0,
        leaderEpoch: 0,
        partitionEpoch: 0,
        directories: [],
        eligibleLeaderReplicas: null,
        lastKnownElr: null,
      }),
    );
  });
  return f;
}

const elect = (
  electionType: number,
  topicPartitions: ElectLeadersRequest['topicPartitions'],
): ElectLeadersRequest => ({ electionType, topicPartitions, timeoutMs: 60_000 });

const reassign = (partitions: { partitionIndex: number; replicas: number[] | null }[], name = 't') =>
  ({ timeoutMs: 60_000, topics: [{ name, partitions }] }) satisfies AlterPartitionReassignmentsRequest;

describe('ElectLeaders', () => {
  it('answers ELECTION_NOT_NEEDED when the preferred replica leads, with no records', () => {
    const f = cluster([{ replicas: [1, 2] }]);
    for (const type of [ElectionType.PREFERRED, ElectionType.UNCLEAN]) {
      const r = electLeaders(f.image, elect(type, [{ topic: 't', partitions: [0] }]), 2);
      expect(r.records).toEqual([]);
      expect(r.response.replicaElectionResults).toEqual([
        {
          topic: 't',
          partitionResult: [
            {
              partitionId: 0,
              errorCode: ErrorCode.ELECTION_NOT_NEEDED,
              errorMessage: 'Leader election not needed for topic partition.',
            },
          ],
        },
      ]);
    }
  });

  it('elects the preferred replica when it is in sync and alive, else PREFERRED_LEADER_NOT_AVAILABLE', () => {
    const f = cluster(
      [
        { replicas: [2, 1], leader: 1 },
        { replicas: [3, 1], leader: 1 }, // 3 is fenced
        { replicas: [2, 1], isr: [1], leader: 1 }, // 2 is not in sync
      ],
      [3],
    );
    const r = electLeaders(
      f.image,
      elect(ElectionType.PREFERRED, [{ topic: 't', partitions: [0, 1, 2] }]),
      1,
    );
    expect(r.response.errorCode).toBe(ErrorCode.NONE);
    expect(
      r.response.replicaElectionResults[0].partitionResult.map((p) => [p.errorCode, p.errorMessage]),
    ).toEqual([
      [ErrorCode.NONE, null],
      [ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, 'The preferred leader was not available.'],
      [ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, 'The preferred leader was not available.'],
    ]);
    const before = f.image.partition('t', 0)!;
    f.apply(r);
    const after = f.image.partition('t', 0)!;
    expect(after.leader).toBe(2);
    expect(after.leaderEpoch).toBe(before.leaderEpoch + 1);
    expect(f.image.partition('t', 1)!.leader).toBe(1);
  });

  it('elects uncleanly only a partition without a leader: in-sync first, else any live replica', () => {
    const f = cluster(
      [
        { replicas: [2, 3], isr: [3], leader: -1 }, // 3 is in sync but fenced: 2 uncleanly
        { replicas: [3, 2], isr: [2], leader: -1 }, // 2 is in sync and alive: clean
        { replicas: [3], isr: [3], leader: -1 }, // nobody alive
      ],
      [3],
    );
    const r = electLeaders(f.image, elect(ElectionType.UNCLEAN, [{ topic: 't', partitions: [0, 1, 2] }]), 2);
    expect(r.response.replicaElectionResults[0].partitionResult.map((p) => p.errorCode)).toEqual([
      ErrorCode.NONE,
      ErrorCode.NONE,
      ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
    ]);
    f.apply(r);
    expect(f.image.partition('t', 0)).toMatchObject({ leader: 2, isr: [2], leaderRecoveryState: 1 });
    expect(f.image.partition('t', 1)).toMatchObject({ leader: 2, isr: [2], leaderRecoveryState: 0 });
    expect(f.image.partition('t', 2)!.leader).toBe(-1);
  });

  it('names unknown topics and partitions as Kafka does', () => {
    const f = cluster([{ replicas: [1] }]);
    const r = electLeaders(
      f.image,
      elect(ElectionType.PREFERRED, [
        { topic: 't', partitions: [7] },
        { topic: 'nope', partitions: [0] },
      ]),
      2,
    );
    expect(r.response.replicaElectionResults).toEqual([
      {
        topic: 't',
        partitionResult: [
          {
            partitionId: 7,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: 'No such partition as t-7',
          },
        ],
      },
      {
        topic: 'nope',
        partitionResult: [
          {
            partitionId: 0,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: 'No such topic as nope',
          },
        ],
      },
    ]);
  });

  it('for all partitions (null) lists every topic, leaving out the partitions that need no election', () => {
    const f = cluster([{ replicas: [1, 2] }, { replicas: [2, 1], leader: 1 }]);
    const r = electLeaders(f.image, elect(ElectionType.PREFERRED, null), 2);
    expect(r.response.replicaElectionResults).toEqual([
      { topic: 't', partitionResult: [{ partitionId: 1, errorCode: ErrorCode.NONE, errorMessage: null }] },
    ]);
    expect(r.records).toHaveLength(1);
  });

  it('fails the whole request on an unknown election type; v0 always elects the preferred replica', () => {
    const f = cluster([{ replicas: [1] }]);
    const bad = electLeaders(f.image, elect(2, [{ topic: 't', partitions: [0, 1] }]), 1);
    expect(bad.records).toEqual([]);
    expect(bad.response.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(bad.response.replicaElectionResults[0].partitionResult).toEqual([
      { partitionId: 0, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unknown election type 2' },
      { partitionId: 1, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unknown election type 2' },
    ]);
    const v0 = electLeaders(f.image, elect(2, [{ topic: 't', partitions: [0] }]), 0);
    expect(v0.response.errorCode).toBe(ErrorCode.NONE);
    expect(v0.response.replicaElectionResults[0].partitionResult[0].errorCode).toBe(
      ErrorCode.ELECTION_NOT_NEEDED,
    );
  });
});

describe('AlterPartitionReassignments / ListPartitionReassignments', () => {
  it('completes a reassignment to the current replicas at once, with no records', () => {
    const f = cluster([{ replicas: [1] }]);
    const r = alterPartitionReassignments(f.image, reassign([{ partitionIndex: 0, replicas: [1] }]));
    expect(r.records).toEqual([]);
    expect(r.response).toEqual({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      responses: [
        { name: 't', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.NONE, errorMessage: null }] },
      ],
    });
  });

  it('refuses invalid targets and unknown partitions with Kafka messages', () => {
    const f = cluster([{ replicas: [1] }]);
    const r = alterPartitionReassignments(
      f.image,
      reassign([
        { partitionIndex: 0, replicas: [] },
        { partitionIndex: 0, replicas: [1, 9] },
        { partitionIndex: 0, replicas: [2, 1, 2] },
        { partitionIndex: 0, replicas: null },
        { partitionIndex: 5, replicas: [1] },
      ]),
    );
    expect(r.records).toEqual([]);
    expect(r.response.responses[0].partitions.map((p) => [p.errorCode, p.errorMessage])).toEqual([
      [
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'The manual partition assignment includes an empty replica list.',
      ],
      [
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'The manual partition assignment includes broker 9, but no such broker is registered.',
      ],
      [
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'The manual partition assignment includes the broker 2 more than once.',
      ],
      [ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, 'No partition reassignment is in progress.'],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'Unable to find partition t:5.'],
    ]);
    const unknown = alterPartitionReassignments(
      f.image,
      reassign([{ partitionIndex: 0, replicas: [1] }], 'nope'),
    );
    expect(unknown.response.responses[0].partitions[0]).toEqual({
      partitionIndex: 0,
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: 'Unable to find a topic named nope.',
    });
  });

  it('starts a reassignment that adds a replica, lists it, and cancels it', () => {
    const f = cluster([{ replicas: [1, 2] }, { replicas: [1] }]);
    f.apply(alterPartitionReassignments(f.image, reassign([{ partitionIndex: 0, replicas: [3, 1] }])));
    expect(f.image.partition('t', 0)).toMatchObject({
      replicas: [3, 1, 2],
      addingReplicas: [3],
      removingReplicas: [2],
      leader: 1,
    });
    const listed = listPartitionReassignments(f.image, { timeoutMs: 60_000, topics: null });
    expect(listed.topics).toEqual([
      {
        name: 't',
        partitions: [{ partitionIndex: 0, replicas: [3, 1, 2], addingReplicas: [3], removingReplicas: [2] }],
      },
    ]);
    // Filtered: only the partitions named, unknown ones left out silently.
    expect(
      listPartitionReassignments(f.image, {
        timeoutMs: 60_000,
        topics: [
          { name: 't', partitionIndexes: [1, 9] },
          { name: 'nope', partitionIndexes: [0] },
        ],
      }).topics,
    ).toEqual([]);
    f.apply(alterPartitionReassignments(f.image, reassign([{ partitionIndex: 0, replicas: null }])));
    expect(f.image.partition('t', 0)).toMatchObject({
      replicas: [1, 2],
      addingReplicas: [],
      removingReplicas: [],
    });
    expect(listPartitionReassignments(f.image, { timeoutMs: 60_000, topics: null }).topics).toEqual([]);
  });

  it('completes a removal at once, moving the leadership off a removed replica', () => {
    const f = cluster([{ replicas: [2, 1] }]);
    f.apply(alterPartitionReassignments(f.image, reassign([{ partitionIndex: 0, replicas: [1] }])));
    expect(f.image.partition('t', 0)).toMatchObject({
      replicas: [1],
      isr: [1],
      leader: 1,
      addingReplicas: [],
    });
  });
});

describe('cancelling a reassignment', () => {
  it('refuses a revert that needs an unclean election unless the topic allows one', () => {
    // Replica 3 is being added and is the only one in sync; reverting drops it from the ISR.
    const partitions = [{ replicas: [3, 1], isr: [3], leader: 3, adding: [3] }];
    const f = cluster(partitions);
    const refused = alterPartitionReassignments(f.image, reassign([{ partitionIndex: 0, replicas: null }]));
    expect(refused.records).toEqual([]);
    expect(refused.response.responses[0].partitions[0]).toEqual({
      partitionIndex: 0,
      errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      errorMessage:
        'Unable to revert partition assignment for t:0 because it would require an unclean leader election.',
    });
    const allowed = alterPartitionReassignments(
      f.image,
      reassign([{ partitionIndex: 0, replicas: null }]),
      (topic) => topic === 't',
    );
    f.apply(allowed);
    expect(f.image.partition('t', 0)).toMatchObject({
      replicas: [1],
      isr: [1],
      leader: 1,
      leaderRecoveryState: 1,
      addingReplicas: [],
    });
  });
});
