// Unit tests of RaftNode's transitions: elections with pre-vote, the vote granting rules, log
// reconciliation (truncation on a diverging epoch), the high-watermark rule, fencing, check-quorum,
// graceful resignation, restarts, and bad input.

import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { FetchResponse, QuorumStateData } from '../../src/protocol/generated/index.js';
import { buildDataBatch, buildLeaderChangeBatch, splitBatches } from '../../src/raft/batch.js';
import { METADATA_TOPIC, METADATA_TOPIC_ID, raftConfig } from '../../src/raft/config.js';
import { MemoryRaftLog, type RaftLog } from '../../src/raft/log.js';
import type { RaftMessage, RaftOutput, RaftResponseMessage } from '../../src/raft/messages.js';
import { RaftNode } from '../../src/raft/raft-node.js';
import { batchKey, InvariantViolation } from '../../src/raft/sim/invariants.js';
import { fetchRequest, ManualCluster, only } from './harness.js';

const VOTERS = [1, 2, 3];

function state(epoch: number, leaderId = -1, votedId = -1): QuorumStateData {
  return {
    clusterId: 'test',
    leaderId,
    leaderEpoch: epoch,
    votedId,
    votedDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
    appliedOffset: 0n,
    currentVoters: null,
  };
}

/** A log holding one single-record batch per listed epoch. */
function logOf(epochs: number[], tag = 'x'): MemoryRaftLog {
  const log = new MemoryRaftLog();
  epochs.forEach((epoch, i) => {
    log.append(buildDataBatch(i, epoch, [Buffer.from(`${tag}${i}`)], 0));
  });
  log.completeFlush(log.beginFlush(log.endOffset()));
  return log;
}

function standalone(
  id: number,
  log: RaftLog = new MemoryRaftLog(),
  stored: QuorumStateData | null = null,
  overrides = {},
) {
  const raft = new RaftNode({
    config: raftConfig({ nodeId: id, voters: VOTERS, clusterId: 'test', ...overrides }),
    log,
    random: () => 0,
    nowMs: 0,
    quorumState: stored,
  });
  return raft;
}

/** Completes every disk output at once; returns the messages sent. */
function ackAll(raft: RaftNode, now: number): RaftMessage[] {
  const sent: RaftMessage[] = [];
  for (let outs = raft.takeOutputs(); outs.length > 0; outs = raft.takeOutputs()) {
    for (const o of outs) {
      if (o.type === 'send') sent.push(o.message);
      else if (o.type === 'flush') raft.handleFlushed(o.flushId, now);
      else raft.handleQuorumStateWritten(o.seq, now);
    }
  }
  return sent;
}

function voteRequest(
  from: number,
  to: number,
  epoch: number,
  lastEpoch: number,
  lastOffset: number,
  preVote = false,
): RaftMessage {
  return {
    kind: 'request',
    source: from,
    destination: to,
    correlationId: 7,
    request: {
      api: 'Vote',
      preVote,
      body: {
        clusterId: 'test',
        voterId: to,
        topics: [
          {
            topicName: METADATA_TOPIC,
            partitions: [
              {
                partitionIndex: 0,
                candidateEpoch: epoch,
                candidateId: from,
                candidateDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
                voterDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
                lastOffsetEpoch: lastEpoch,
                lastOffset: BigInt(lastOffset),
              },
            ],
          },
        ],
      },
    },
  };
}

function voteAnswer(sent: RaftMessage[]) {
  expect(sent).toHaveLength(1);
  const m = sent[0] as RaftResponseMessage;
  expect(m.kind).toBe('response');
  if (m.response.api !== 'Vote') throw new Error('not a vote response');
  return m.response.body.topics[0].partitions[0];
}

function fetchPartition(m: RaftMessage): FetchResponse.PartitionData {
  if (m.kind !== 'response' || m.response.api !== 'Fetch') throw new Error('not a fetch response');
  return m.response.body.responses[0].partitions[0];
}

function electedCluster(): ManualCluster {
  const c = new ManualCluster(VOTERS);
  c.runUntil(() => c.leader() !== undefined && c.nodes.every((n) => n.raft?.highWatermark === 1));
  return c;
}

describe('RaftNode elections', () => {
  it('asks for pre-votes first: no epoch bump and no quorum-state write until a majority would vote', () => {
    const a = standalone(1);
    expect(a.role).toBe('Unattached');
    a.poll(999);
    expect(a.takeOutputs()).toEqual([]);
    a.poll(1000); // election timeout (random() = 0: exactly 1000 ms)
    expect(a.role).toBe('Prospective');
    expect(a.epoch).toBe(0);
    const outs = a.takeOutputs();
    expect(outs.some((o) => o.type === 'writeQuorumState')).toBe(false);
    const votes = outs.filter((o): o is Extract<RaftOutput, { type: 'send' }> => o.type === 'send');
    expect(votes.map((o) => o.message.destination).sort()).toEqual([2, 3]);
    for (const v of votes) {
      const m = v.message;
      if (m.kind !== 'request' || m.request.api !== 'Vote') throw new Error('expected a vote request');
      expect(m.request.preVote).toBe(true);
      // The current epoch: a pre-vote bumps nothing.
      expect(m.request.body.topics[0].partitions[0].candidateEpoch).toBe(0);
    }

    // The voter grants the pre-vote without moving to the epoch or recording a vote.
    const b = standalone(2);
    b.receive(votes[0].message.destination === 2 ? votes[0].message : votes[1].message, 1005);
    const bouts = b.takeOutputs();
    expect(bouts.some((o) => o.type === 'writeQuorumState')).toBe(false);
    expect(b.epoch).toBe(0);
    expect(b.votedId).toBe(-1);
    const grant = bouts.find((o) => o.type === 'send');
    if (grant?.type !== 'send') throw new Error('no answer');
    expect(voteAnswer([grant.message]).voteGranted).toBe(true);

    // One grant is a majority of three: candidate in epoch 1, vote written before requests leave.
    a.receive(grant.message, 1010);
    expect(a.role).toBe('Candidate');
    expect(a.epoch).toBe(1);
    const cand = a.takeOutputs();
    expect(cand.map((o) => o.type)).toEqual(['writeQuorumState']);
    a.handleQuorumStateWritten((cand[0] as { seq: number }).seq, 1011);
    const requests = a.takeOutputs();
    expect(requests.filter((o) => o.type === 'send')).toHaveLength(2);
  });

  it('elects one leader that opens its epoch with a LeaderChange record, committed on all', () => {
    const c = electedCluster();
    const leader = c.leader() as RaftNode;
    expect(leader.epoch).toBe(1);
    for (const n of c.nodes) {
      const r = n.raft as RaftNode;
      if (r !== leader) {
        expect(r.role).toBe('Follower');
        expect(r.leaderId).toBe(leader.config.nodeId);
      }
      const first = n.log.batchAt(0);
      expect(first?.epoch).toBe(1);
      expect(splitBatches(first?.bytes ?? null)).toHaveLength(1);
      // The control bit of the batch attributes.
      expect(((first as { bytes: Buffer }).bytes.readInt16BE(21) & 0x20) !== 0).toBe(true);
      expect(n.stored?.leaderEpoch).toBe(1);
    }
  });

  it('replicates and commits proposals on every node', () => {
    const c = electedCluster();
    const leader = c.leader() as RaftNode;
    const res = leader.propose([Buffer.from('a'), Buffer.from('b')], c.now);
    expect(res).toMatchObject({ ok: true, baseOffset: 1, lastOffset: 2 });
    c.settle();
    c.runUntil(() => c.nodes.every((n) => n.raft?.highWatermark === 3));
    const keys = c.nodes.map((n) => n.log.read(0, 1 << 20).map((b) => batchKey(b.epoch, b.bytes)));
    expect(keys[1]).toEqual(keys[0]);
    expect(keys[2]).toEqual(keys[0]);
    const follower = c.nodes.find((n) => n.raft !== leader)?.raft as RaftNode;
    expect(follower.propose([Buffer.from('x')], c.now)).toEqual({ ok: false, error: 'NOT_LEADER' });
  });
});

describe('RaftNode vote granting', () => {
  it('grants a vote to a candidate whose log is as up to date, and writes the vote before answering', () => {
    const v = standalone(2, logOf([1, 1]), state(1));
    v.receive(voteRequest(1, 2, 2, 1, 2), 10);
    const outs = v.takeOutputs();
    // The new epoch, then the vote in it: nothing is sent before both are written.
    expect(outs.map((o) => o.type)).toEqual(['writeQuorumState', 'writeQuorumState']);
    const write = outs[1] as Extract<RaftOutput, { type: 'writeQuorumState' }>;
    expect(write.state).toMatchObject({ leaderEpoch: 2, votedId: 1, leaderId: -1 });
    v.handleQuorumStateWritten(write.seq, 11);
    const sent = v.takeOutputs().map((o) => (o as Extract<RaftOutput, { type: 'send' }>).message);
    expect(voteAnswer(sent)).toMatchObject({ voteGranted: true, leaderEpoch: 2, errorCode: 0 });
  });

  it('rejects a candidate whose last epoch is older, however long its log', () => {
    const v = standalone(2, logOf([1, 2]), state(2));
    v.receive(voteRequest(1, 2, 3, 1, 50), 10);
    expect(voteAnswer(ackAll(v, 10)).voteGranted).toBe(false);
    expect(v.epoch).toBe(3); // a real vote of a newer epoch still moves the voter to it
    expect(v.votedId).toBe(-1);
  });

  it('rejects a candidate with the same last epoch and a shorter log', () => {
    const v = standalone(2, logOf([1, 1, 1]), state(1));
    v.receive(voteRequest(1, 2, 2, 1, 2), 10);
    expect(voteAnswer(ackAll(v, 10)).voteGranted).toBe(false);
  });

  it('grants one vote per epoch: another candidate is refused, the same one granted again', () => {
    const v = standalone(3, logOf([1]), state(1));
    v.receive(voteRequest(1, 3, 2, 1, 1), 10);
    expect(voteAnswer(ackAll(v, 10)).voteGranted).toBe(true);
    v.receive(voteRequest(2, 3, 2, 1, 1), 11);
    expect(voteAnswer(ackAll(v, 11)).voteGranted).toBe(false);
    v.receive(voteRequest(1, 3, 2, 1, 1), 12);
    expect(voteAnswer(ackAll(v, 12)).voteGranted).toBe(true);
  });

  it('fences a vote request of an older epoch', () => {
    const v = standalone(2, logOf([1]), state(5));
    v.receive(voteRequest(1, 2, 4, 1, 1), 10);
    expect(voteAnswer(ackAll(v, 10))).toMatchObject({
      errorCode: ErrorCode.FENCED_LEADER_EPOCH,
      voteGranted: false,
      leaderEpoch: 5,
    });
  });

  it('moves to the newer epoch of a pre-vote (not voting in it) and answers on the log check, as Kafka', () => {
    // A voter left behind in an older epoch must not refuse a replica of a newer one forever.
    const v = standalone(2, logOf([1]), state(1, 3));
    expect(v.role).toBe('Follower');
    v.receive(voteRequest(1, 2, 3, 1, 1, true), 10);
    expect(v.epoch).toBe(3);
    expect(v.votedId).toBe(-1);
    expect(v.role).toBe('Unattached');
    expect(voteAnswer(ackAll(v, 10))).toMatchObject({ voteGranted: true, leaderEpoch: 3 });
    v.receive(voteRequest(1, 2, 3, 0, 0, true), 11);
    expect(voteAnswer(ackAll(v, 11)).voteGranted).toBe(false);
  });

  it('refuses pre-votes while it hears from its leader', () => {
    const c = electedCluster();
    const leader = c.leader() as RaftNode;
    const follower = c.nodes.find((n) => n.raft !== leader)?.raft as RaftNode;
    const other = c.nodes.find((n) => n.raft !== leader && n.raft !== follower)?.raft as RaftNode;
    follower.receive(voteRequest(other.config.nodeId, follower.config.nodeId, 1, 1, 10, true), c.now);
    expect(voteAnswer(ackAll(follower, c.now)).voteGranted).toBe(false);
  });

  it('with the log check deliberately skipped, grants a stale candidate (the fault the simulation must catch)', () => {
    const v = standalone(2, logOf([1, 2]), state(2), { unsafeFaults: { skipVoteLogCheck: true } });
    v.receive(voteRequest(1, 2, 3, 1, 1), 10);
    expect(voteAnswer(ackAll(v, 10)).voteGranted).toBe(true);
  });
});

describe('RaftNode replication', () => {
  it('a follower sends its next Fetch only once what it appended is flushed', () => {
    const f = standalone(2, new MemoryRaftLog(), state(1, 1));
    expect(f.role).toBe('Follower');
    f.poll(0);
    const first = f.takeOutputs();
    expect(first).toHaveLength(1);
    const req = (first[0] as Extract<RaftOutput, { type: 'send' }>).message;
    if (req.kind !== 'request' || req.request.api !== 'Fetch') throw new Error('expected a fetch');
    expect(req.request.body.topics[0].partitions[0]).toMatchObject({
      fetchOffset: 0n,
      lastFetchedEpoch: 0,
      currentLeaderEpoch: 1,
    });
    const lc = buildLeaderChangeBatch(0, 1, 1, VOTERS, [1, 2], 0);
    const response: RaftMessage = {
      kind: 'response',
      source: 1,
      destination: 2,
      correlationId: req.correlationId,
      response: {
        api: 'Fetch',
        body: {
          throttleTimeMs: 0,
          errorCode: 0,
          sessionId: 0,
          nodeEndpoints: [],
          responses: [
            {
              topic: METADATA_TOPIC,
              topicId: METADATA_TOPIC_ID,
              partitions: [
                {
                  partitionIndex: 0,
                  errorCode: 0,
                  highWatermark: 0n,
                  lastStableOffset: 0n,
                  logStartOffset: 0n,
                  divergingEpoch: { epoch: -1, endOffset: -1n },
                  currentLeader: { leaderId: 1, leaderEpoch: 1 },
                  snapshotId: { endOffset: -1n, epoch: -1 },
                  abortedTransactions: null,
                  preferredReadReplica: -1,
                  records: lc.bytes,
                },
              ],
            },
          ],
        },
      },
    };
    f.receive(response, 5);
    const outs = f.takeOutputs();
    expect(outs.map((o) => o.type)).toEqual(['flush']);
    expect(f.log.endOffset()).toBe(1);
    f.poll(100);
    expect(f.takeOutputs()).toEqual([]);
    f.handleFlushed((outs[0] as { flushId: number }).flushId, 101);
    const next = f.takeOutputs();
    expect(next).toHaveLength(1);
    const m = (next[0] as Extract<RaftOutput, { type: 'send' }>).message;
    if (m.kind !== 'request' || m.request.api !== 'Fetch') throw new Error('expected a fetch');
    expect(m.request.body.topics[0].partitions[0]).toMatchObject({ fetchOffset: 1n, lastFetchedEpoch: 1 });
  });

  it('truncates a follower at the diverging epoch and then matches the leader (KIP-595 reconciliation)', () => {
    // Node 1 and 3: epochs [1, 1, 3]; node 2 wrote [1, 1, 2, 2] as a leader of epoch 2 that lost.
    const c = new ManualCluster(VOTERS);
    for (const n of c.nodes) n.raft = null;
    const shared = (log: MemoryRaftLog, epochs: number[], tag: string) => {
      epochs.forEach((e, i) => {
        log.append(buildDataBatch(log.endOffset(), e, [Buffer.from(`${tag}${i}`)], 0));
      });
      log.completeFlush(log.beginFlush(log.endOffset()));
    };
    for (const id of [1, 2, 3]) shared(c.node(id).log, [1, 1], 'common');
    shared(c.node(1).log, [3], 'three');
    shared(c.node(3).log, [3], 'three');
    shared(c.node(2).log, [2, 2], 'two');
    for (const id of [1, 2, 3]) c.node(id).stored = state(3);
    for (const id of [1, 2, 3]) c.start(id);
    // Let node 1 time out first.
    c.link = only(1, 2, 3);
    c.runUntil(() => c.leader() !== undefined);
    const leader = c.leader() as RaftNode;
    expect(leader.config.nodeId).not.toBe(2); // node 2's last epoch is older: nobody votes for it
    c.runUntil(() =>
      c.nodes.every((n) => n.raft?.highWatermark === n.log.endOffset() && n.log.endOffset() === 4),
    );
    const diverging = c.delivered
      .filter((m) => m.kind === 'response' && m.response.api === 'Fetch' && m.destination === 2)
      .map(fetchPartition)
      .find((p) => p.divergingEpoch.epoch >= 0);
    expect(diverging?.divergingEpoch).toEqual({ epoch: 1, endOffset: 2n });
    const keys = (id: number) =>
      c
        .node(id)
        .log.read(0, 1 << 20)
        .map((b) => batchKey(b.epoch, b.bytes));
    expect(keys(2)).toEqual(keys(leader.config.nodeId));
    expect(c.node(2).log.batchAt(2)?.epoch).toBe(3);
  });

  it('does not commit entries of earlier epochs until one of its own epoch is on a majority', () => {
    // Node 1 holds offsets 1..2 of epoch 1 that nodes 2 and 3 lack; it wins epoch 2.
    const run = (skipRule: boolean) => {
      const c = new ManualCluster(VOTERS, {
        fetchMaxBytes: 1,
        unsafeFaults: { skipCurrentEpochCommitRule: skipRule },
      });
      for (const n of c.nodes) n.raft = null;
      for (const id of [1, 2, 3]) {
        const log = c.node(id).log;
        const count = id === 1 ? 3 : 1;
        for (let i = 0; i < count; i++) log.append(buildDataBatch(i, 1, [Buffer.from(`e1-${i}`)], 0));
        log.completeFlush(log.beginFlush(log.endOffset()));
        c.node(id).stored = state(1);
      }
      c.start(1);
      c.start(2);
      c.link = only(1, 2);
      // Node 2 never receives the LeaderChange record of epoch 2 (offset 3).
      c.drop = (m) =>
        m.kind === 'response' &&
        m.response.api === 'Fetch' &&
        splitBatches(fetchPartition(m).records).some((b) => b.baseOffset === 3);
      c.runUntil(() => c.node(1).raft?.role === 'Leader');
      c.runUntil(() => c.node(2).log.endOffset() === 3);
      c.run(500);
      return c;
    };
    const safe = run(false);
    expect(safe.raft(1).highWatermark).toBe(0);
    // Once the LeaderChange record of the new epoch reaches node 2, everything before commits.
    safe.drop = () => false;
    safe.runUntil(() => safe.raft(1).highWatermark >= 4);
    const broken = run(true);
    expect(broken.raft(1).highWatermark).toBe(3);
  });

  it('fences requests of older epochs and a stale leader', () => {
    const c = electedCluster();
    const leader = c.leader() as RaftNode;
    const id = leader.config.nodeId;
    const follower = c.nodes.find((n) => n.raft !== leader)?.raft as RaftNode;
    const fid = follower.config.nodeId;
    leader.receive(fetchRequest(fid, id, 0, 0, 0), c.now);
    expect(fetchPartition(ackAll(leader, c.now)[0]).errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    leader.receive(fetchRequest(fid, id, 2, 0, 0), c.now);
    expect(fetchPartition(ackAll(leader, c.now)[0]).errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    follower.receive(fetchRequest(id, fid, 1, 0, 0), c.now);
    const notLeader = fetchPartition(ackAll(follower, c.now)[0]);
    expect(notLeader.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(notLeader.currentLeader).toEqual({ leaderId: id, leaderEpoch: 1 });
    // A newer epoch's BeginQuorumEpoch turns the old leader into a follower.
    leader.receive(
      {
        kind: 'request',
        source: fid,
        destination: id,
        correlationId: 1,
        request: {
          api: 'BeginQuorumEpoch',
          body: {
            clusterId: 'test',
            voterId: id,
            leaderEndpoints: [],
            topics: [
              {
                topicName: METADATA_TOPIC,
                partitions: [{ partitionIndex: 0, voterDirectoryId: '', leaderId: fid, leaderEpoch: 2 }],
              },
            ],
          },
        },
      },
      c.now,
    );
    expect(leader.role).toBe('Follower');
    expect(leader.epoch).toBe(2);
    expect(leader.leaderId).toBe(fid);
  });

  it('a leader that no majority fetches from resigns after 1.5 × fetch timeout (check quorum)', () => {
    const c = electedCluster();
    const leader = c.leader() as RaftNode;
    const id = leader.config.nodeId;
    const cutAt = c.now;
    c.link = (a, b) => a !== id && b !== id;
    const lost: RaftMessage[] = [];
    c.drop = (m) => {
      if (m.source === id) lost.push(m);
      return false;
    };
    c.runUntil(() => leader.role !== 'Leader');
    expect(leader.role).toBe('Resigned');
    expect(c.now - cutAt).toBeGreaterThanOrEqual(2000);
    expect(c.now - cutAt).toBeLessThanOrEqual(3100);
    c.step();
    expect(lost.some((m) => m.kind === 'request' && m.request.api === 'EndQuorumEpoch')).toBe(true);
  });

  it('a graceful resignation hands over to a preferred successor without waiting for timeouts', () => {
    const c = electedCluster();
    const old = c.leader() as RaftNode;
    const at = c.now;
    old.resign(c.now);
    c.settle();
    c.runUntil(() => {
      const l = c.leader();
      return l !== undefined && l !== old;
    });
    // A successor at position 0 starts at once; without EndQuorumEpoch it would wait 2 s (fetch timeout).
    expect(c.now - at).toBeLessThan(500);
    expect((c.leader() as RaftNode).epoch).toBe(2);
  });

  it('a voter stranded in a newer epoch (its election lost, unseen by the others) rejoins the quorum', () => {
    // Regression (seed 103027): the others follow leader 3 in epoch 1 and refused its pre-votes
    // forever while their answers, of an older epoch, were ignored.
    const c = electedCluster();
    const leader = c.leader() as RaftNode;
    const id = [1, 2, 3].find((x) => x !== leader.config.nodeId) as number;
    c.crash(id);
    c.node(id).stored = state(2, -1, id); // it was a candidate of epoch 2, and nobody heard
    c.start(id);
    c.runUntil(
      () =>
        c.nodes.every((n) => n.raft?.role === 'Leader' || n.raft?.role === 'Follower') &&
        c.leader() !== undefined,
    );
    const now = c.leader() as RaftNode;
    expect(now.epoch).toBeGreaterThan(2);
    now.propose([Buffer.from('after')], c.now);
    c.settle();
    const end = now.log.endOffset();
    c.runUntil(() => c.nodes.every((n) => n.raft !== null && n.raft.highWatermark === end));
  });

  it('a restarted leader resigns, and the quorum moves on to a new epoch', () => {
    const c = electedCluster();
    const id = (c.leader() as RaftNode).config.nodeId;
    c.crash(id);
    c.start(id);
    expect(c.raft(id).role).toBe('Resigned');
    c.runUntil(() => c.leader() !== undefined && (c.leader() as RaftNode).epoch > 1);
  });
});

describe('RaftNode DescribeQuorum', () => {
  it('the leader describes voters and observers with log ends and fetch times; others answer NOT_LEADER_OR_FOLLOWER', () => {
    const c = electedCluster();
    const leader = c.leader() as RaftNode;
    const id = leader.config.nodeId;
    leader.propose([Buffer.from('x')], c.now);
    c.settle();
    c.runUntil(() => c.nodes.every((n) => n.raft?.highWatermark === 2));
    c.run(100);
    // An observer (node 9, not a voter) fetching from offset 0.
    leader.receive(fetchRequest(9, id, 1, 0, 0), c.now);
    leader.takeOutputs();
    const request = { topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }] };
    const res = leader.describeQuorum(request, c.now);
    const p = res.topics[0].partitions[0];
    expect(p).toMatchObject({ errorCode: 0, leaderId: id, leaderEpoch: 1, highWatermark: 2n });
    expect(p.currentVoters.map((v) => v.replicaId)).toEqual([1, 2, 3]);
    for (const v of p.currentVoters) {
      expect(v.logEndOffset).toBe(2n);
      expect(v.lastCaughtUpTimestamp).toBeGreaterThan(0n);
      expect(v.lastCaughtUpTimestamp).toBeLessThanOrEqual(BigInt(c.now));
    }
    expect(p.observers).toEqual([
      expect.objectContaining({ replicaId: 9, logEndOffset: 0n, lastFetchTimestamp: BigInt(c.now) }),
    ]);
    const follower = c.nodes.find((n) => n.raft !== leader)?.raft as RaftNode;
    expect(follower.describeQuorum(request, c.now).topics[0].partitions[0].errorCode).toBe(
      ErrorCode.NOT_LEADER_OR_FOLLOWER,
    );
    const other = { topics: [{ topicName: 'other', partitions: [{ partitionIndex: 0 }] }] };
    expect(leader.describeQuorum(other, c.now).topics[0].partitions[0].errorCode).toBe(
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
  });
});

describe('RaftNode bad input', () => {
  it('answers a fetch of another topic with INVALID_REQUEST and a foreign cluster with INCONSISTENT_CLUSTER_ID', () => {
    const c = electedCluster();
    const leader = c.leader() as RaftNode;
    const id = leader.config.nodeId;
    leader.receive(fetchRequest(2, id, 1, 0, 0, 'other'), c.now);
    const sent = ackAll(leader, c.now);
    expect(sent[0].kind === 'response' && sent[0].response.body.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const foreign = voteRequest(2, id, 9, 9, 9);
    if (foreign.kind === 'request') foreign.request.body.clusterId = 'elsewhere';
    leader.receive(foreign, c.now);
    const ans = ackAll(leader, c.now)[0];
    expect(ans.kind === 'response' && ans.response.body.errorCode).toBe(ErrorCode.INCONSISTENT_CLUSTER_ID);
    expect(leader.role).toBe('Leader');
    expect(leader.epoch).toBe(1);
  });

  it('ignores a corrupt records field, unknown correlation ids and messages for other nodes', () => {
    const f = standalone(2, new MemoryRaftLog(), state(1, 1));
    f.poll(0);
    const req = (f.takeOutputs()[0] as Extract<RaftOutput, { type: 'send' }>).message;
    const batch = Buffer.from(buildDataBatch(0, 1, [Buffer.from('v')], 0).bytes);
    batch[batch.length - 1] ^= 0xff; // breaks the CRC
    const response = (correlationId: number, destination = 2): RaftMessage => ({
      kind: 'response',
      source: 1,
      destination,
      correlationId,
      response: {
        api: 'Fetch',
        body: {
          throttleTimeMs: 0,
          errorCode: 0,
          sessionId: 0,
          nodeEndpoints: [],
          responses: [
            {
              topic: METADATA_TOPIC,
              topicId: METADATA_TOPIC_ID,
              partitions: [
                {
                  partitionIndex: 0,
                  errorCode: 0,
                  highWatermark: 1n,
                  lastStableOffset: 1n,
                  logStartOffset: 0n,
                  divergingEpoch: { epoch: -1, endOffset: -1n },
                  currentLeader: { leaderId: 1, leaderEpoch: 1 },
                  snapshotId: { endOffset: -1n, epoch: -1 },
                  abortedTransactions: null,
                  preferredReadReplica: -1,
                  records: batch,
                },
              ],
            },
          ],
        },
      },
    });
    f.receive(response(12345), 1);
    f.receive(response(req.correlationId, 3), 1);
    expect(() => f.receive(response(req.correlationId), 1)).not.toThrow();
    expect(f.log.endOffset()).toBe(0);
    expect(f.highWatermark).toBe(0);
  });
});

describe('QuorumInvariants', () => {
  it('reports a committed entry that changes', () => {
    const c = electedCluster();
    const leader = c.leader() as RaftNode;
    const follower = c.nodes.find((n) => n.raft !== leader) as (typeof c.nodes)[number];
    // Rewrite a committed entry behind the state machine's back.
    follower.log.truncateTo(0);
    follower.log.append(buildDataBatch(0, 1, [Buffer.from('forged')], 0));
    expect(() => c.invariants.check(c.nodes)).toThrow(InvariantViolation);
  });
});
