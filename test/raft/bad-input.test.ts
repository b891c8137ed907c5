// Bad input never throws out of RaftNode: fast-check generates well-shaped but hostile messages
// (any epochs, ids, offsets, positions, error codes, topic shapes, record bytes, correlation ids)
// for every API, requests and responses, delivered to a leader and to a follower of a live quorum.
// Afterwards the quorum still elects a leader and commits. (Invariants are not checked here: a
// forged response that matches a request in flight is a Byzantine leader, which Raft does not
// survive and does not claim to.)

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDataBatch } from '../../src/raft/batch.js';
import { METADATA_TOPIC, METADATA_TOPIC_ID } from '../../src/raft/config.js';
import type { RaftMessage, RaftRequestMessage } from '../../src/raft/messages.js';
import type { RaftNode } from '../../src/raft/raft-node.js';
import { ManualCluster } from './harness.js';

const int32 = fc.integer({ min: -2, max: 2 ** 31 - 1 });
const small = fc.integer({ min: -1, max: 12 });
const offset = fc.oneof(
  fc.bigInt({ min: -2n, max: 20n }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
);
const topicName = fc.constantFrom(METADATA_TOPIC, 'other', '');
const records = fc.oneof(
  fc.constant(null),
  fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b)),
  fc.tuple(fc.nat(20), small).map(([o, e]) => buildDataBatch(o, Math.max(e, 0), [Buffer.from('v')], 0).bytes),
);
function topics<P>(partition: fc.Arbitrary<P>) {
  return fc.array(fc.record({ name: topicName, partitions: fc.array(partition, { maxLength: 2 }) }), {
    maxLength: 2,
  });
}

const request: fc.Arbitrary<Pick<RaftRequestMessage, 'kind' | 'request'>> = fc.oneof(
  fc
    .record({
      preVote: fc.boolean(),
      ts: topics(
        fc.record({
          partitionIndex: small,
          candidateEpoch: small,
          candidateId: small,
          lastOffsetEpoch: small,
          lastOffset: offset,
        }),
      ),
    })
    .map(({ preVote, ts }) => ({
      kind: 'request' as const,
      request: {
        api: 'Vote' as const,
        preVote,
        body: {
          clusterId: 'test',
          voterId: 1,
          topics: ts.map((t) => ({
            topicName: t.name,
            partitions: t.partitions.map((p) => ({ ...p, candidateDirectoryId: '', voterDirectoryId: '' })),
          })),
        },
      },
    })),
  topics(fc.record({ partitionIndex: small, leaderId: small, leaderEpoch: small })).map((ts) => ({
    kind: 'request' as const,
    request: {
      api: 'BeginQuorumEpoch' as const,
      body: {
        clusterId: null,
        voterId: 1,
        leaderEndpoints: [],
        topics: ts.map((t) => ({
          topicName: t.name,
          partitions: t.partitions.map((p) => ({ ...p, voterDirectoryId: '' })),
        })),
      },
    },
  })),
  topics(
    fc.record({
      partitionIndex: small,
      leaderId: small,
      leaderEpoch: small,
      preferredSuccessors: fc.array(small, { maxLength: 3 }),
    }),
  ).map((ts) => ({
    kind: 'request' as const,
    request: {
      api: 'EndQuorumEpoch' as const,
      body: {
        clusterId: 'test',
        leaderEndpoints: [],
        topics: ts.map((t) => ({
          topicName: t.name,
          partitions: t.partitions.map((p) => ({ ...p, preferredCandidates: [] })),
        })),
      },
    },
  })),
  fc
    .record({
      maxWaitMs: fc.constantFrom(0, 500),
      maxBytes: int32,
      ts: topics(
        fc.record({
          partition: small,
          currentLeaderEpoch: small,
          fetchOffset: offset,
          lastFetchedEpoch: small,
          partitionMaxBytes: int32,
        }),
      ),
    })
    .map(({ maxWaitMs, maxBytes, ts }) => ({
      kind: 'request' as const,
      request: {
        api: 'Fetch' as const,
        body: {
          clusterId: null,
          replicaId: -1,
          replicaState: { replicaId: -1, replicaEpoch: -1n },
          maxWaitMs,
          minBytes: 0,
          maxBytes,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          forgottenTopicsData: [],
          rackId: '',
          topics: ts.map((t) => ({
            topic: t.name,
            topicId: t.name === METADATA_TOPIC ? METADATA_TOPIC_ID : '',
            partitions: t.partitions.map((p) => ({ ...p, logStartOffset: 0n, replicaDirectoryId: '' })),
          })),
        },
      },
    })),
  fc
    .record({
      maxBytes: int32,
      ts: topics(
        fc.record({
          partition: small,
          currentLeaderEpoch: small,
          end: offset,
          epoch: small,
          position: offset,
        }),
      ),
    })
    .map(({ maxBytes, ts }) => ({
      kind: 'request' as const,
      request: {
        api: 'FetchSnapshot' as const,
        body: {
          clusterId: null,
          replicaId: -1,
          maxBytes,
          topics: ts.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({
              partition: p.partition,
              currentLeaderEpoch: p.currentLeaderEpoch,
              snapshotId: { endOffset: p.end, epoch: p.epoch },
              position: p.position,
              replicaDirectoryId: '',
            })),
          })),
        },
      },
    })),
);

const errorCode = fc.constantFrom(0, 0, 0, 6, 74, 75, 98, 99, -1, 32767);
const response = fc.oneof(
  fc
    .record({
      preVote: fc.boolean(),
      ts: topics(
        fc.record({
          partitionIndex: small,
          errorCode,
          leaderId: small,
          leaderEpoch: small,
          voteGranted: fc.boolean(),
        }),
      ),
    })
    .map(({ preVote, ts }) => ({
      kind: 'response' as const,
      response: {
        api: 'Vote' as const,
        preVote,
        body: {
          errorCode: 0,
          nodeEndpoints: [],
          topics: ts.map((t) => ({ topicName: t.name, partitions: t.partitions })),
        },
      },
    })),
  topics(fc.record({ partitionIndex: small, errorCode, leaderId: small, leaderEpoch: small })).map((ts) => ({
    kind: 'response' as const,
    response: {
      api: 'BeginQuorumEpoch' as const,
      body: {
        errorCode: 0,
        nodeEndpoints: [],
        topics: ts.map((t) => ({ topicName: t.name, partitions: t.partitions })),
      },
    },
  })),
  fc
    .record({
      ts: topics(
        fc.record({
          partitionIndex: small,
          errorCode,
          highWatermark: offset,
          leaderId: small,
          leaderEpoch: small,
          dEpoch: small,
          dEnd: offset,
          sEnd: offset,
          sEpoch: small,
          records,
        }),
      ),
    })
    .map(({ ts }) => ({
      kind: 'response' as const,
      response: {
        api: 'Fetch' as const,
        body: {
          throttleTimeMs: 0,
          errorCode: 0,
          sessionId: 0,
          nodeEndpoints: [],
          responses: ts.map((t) => ({
            topic: t.name,
            topicId: t.name === METADATA_TOPIC ? METADATA_TOPIC_ID : '',
            partitions: t.partitions.map((p) => ({
              partitionIndex: p.partitionIndex,
              errorCode: p.errorCode,
              highWatermark: p.highWatermark,
              lastStableOffset: -1n,
              logStartOffset: 0n,
              divergingEpoch: { epoch: p.dEpoch, endOffset: p.dEnd },
              currentLeader: { leaderId: p.leaderId, leaderEpoch: p.leaderEpoch },
              snapshotId: { endOffset: p.sEnd, epoch: p.sEpoch },
              abortedTransactions: null,
              preferredReadReplica: -1,
              records: p.records,
            })),
          })),
        },
      },
    })),
  fc
    .record({
      ts: topics(
        fc.record({
          index: small,
          errorCode,
          end: offset,
          epoch: small,
          leaderId: small,
          leaderEpoch: small,
          size: offset,
          position: offset,
          bytes: fc.uint8Array({ maxLength: 64 }),
        }),
      ),
    })
    .map(({ ts }) => ({
      kind: 'response' as const,
      response: {
        api: 'FetchSnapshot' as const,
        body: {
          throttleTimeMs: 0,
          errorCode: 0,
          nodeEndpoints: [],
          topics: ts.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({
              index: p.index,
              errorCode: p.errorCode,
              snapshotId: { endOffset: p.end, epoch: p.epoch },
              currentLeader: { leaderId: p.leaderId, leaderEpoch: p.leaderEpoch },
              size: p.size,
              position: p.position,
              unalignedRecords: Buffer.from(p.bytes),
            })),
          })),
        },
      },
    })),
);

describe('RaftNode bad input', () => {
  it('never throws on hostile requests and responses, and the quorum still commits afterwards', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.oneof(request, response),
            fc.integer({ min: 1, max: 3 }),
            fc.integer({ min: 1, max: 3 }),
            fc.nat(40),
          ),
          { minLength: 1, maxLength: 25 },
        ),
        (messages) => {
          const c = new ManualCluster([1, 2, 3]);
          c.runUntil(() => c.leader() !== undefined && c.nodes.every((n) => n.raft?.highWatermark === 1));
          c.checkInvariants = false;
          for (const [m, source, destination, correlationId] of messages) {
            const message = { ...m, source, destination, correlationId } as RaftMessage;
            const node = c.node(destination).raft as RaftNode;
            expect(() => node.receive(message, c.now)).not.toThrow();
            c.settle();
            c.step(); // delivers the answers
          }
          // Still a working quorum: a new entry commits everywhere.
          c.runUntil(() => c.leader() !== undefined, 30_000);
          const leader = c.leader() as RaftNode;
          leader.propose([Buffer.from('after')], c.now);
          c.settle();
          const end = leader.log.endOffset();
          c.runUntil(() => c.nodes.every((n) => (n.raft?.highWatermark ?? 0) >= end), 30_000);
        },
      ),
      { numRuns: 150 },
    );
  });
});
