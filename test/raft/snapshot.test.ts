// KIP-630 snapshots in the Raft core: the log start moves to a snapshot of committed state, a
// follower below it is sent the snapshot id in its Fetch answer, fetches the snapshot in chunks
// (FetchSnapshot) and continues from its end; errors of FetchSnapshot; the in-memory log's
// snapshot bookkeeping.

import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/errors.js';
import { buildDataBatch, concatBatches } from '../../src/raft/batch.js';
import { METADATA_TOPIC } from '../../src/raft/config.js';
import { MemoryRaftLog } from '../../src/raft/log.js';
import type { RaftMessage } from '../../src/raft/messages.js';
import type { RaftNode } from '../../src/raft/raft-node.js';
import { frameSnapshot, readSnapshot } from '../../src/raft/snapshot.js';
import { fetchRequest, ManualCluster } from './harness.js';

/** The snapshot content the simulation uses: every batch below endOffset (the last snapshot's and the log's). */
function snapshotBytes(raft: RaftNode, endOffset: number): Buffer {
  const previous = raft.log.latestSnapshot();
  const prev = previous === undefined ? Buffer.alloc(0) : readSnapshot(previous.bytes).dataBytes;
  const batches = raft.log
    .read(raft.log.startOffset(), Number.MAX_SAFE_INTEGER)
    .filter((b) => b.lastOffset < endOffset);
  const epoch = batches.length > 0 ? batches[batches.length - 1].epoch : (previous?.epoch ?? 0);
  return frameSnapshot(
    { epoch, lastContainedLogTimestamp: 0, nowMs: 0 },
    Buffer.concat([prev, concatBatches(batches)]),
  );
}

function fetchSnapshotRequest(
  from: number,
  to: number,
  epoch: number,
  endOffset: number,
  snapEpoch: number,
  position: bigint,
): RaftMessage {
  return {
    kind: 'request',
    source: from,
    destination: to,
    correlationId: 5,
    request: {
      api: 'FetchSnapshot',
      body: {
        clusterId: 'test',
        replicaId: from,
        maxBytes: 1 << 20,
        topics: [
          {
            name: METADATA_TOPIC,
            partitions: [
              {
                partition: 0,
                currentLeaderEpoch: epoch,
                snapshotId: { endOffset: BigInt(endOffset), epoch: snapEpoch },
                position,
                replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
              },
            ],
          },
        ],
      },
    },
  };
}

describe('Raft snapshots (KIP-630)', () => {
  it('a follower below the log start fetches the snapshot in chunks, installs it and catches up', () => {
    const c = new ManualCluster([1, 2, 3], { fetchMaxBytes: 100, fetchSnapshotMaxBytes: 100 });
    c.runUntil(() => c.leader() !== undefined && c.nodes.every((n) => n.raft?.highWatermark === 1));
    const leader = c.leader() as RaftNode;
    const lagging = [1, 2, 3].find((id) => id !== leader.config.nodeId) as number;
    c.crash(lagging);
    for (let i = 0; i < 6; i++) {
      leader.propose([Buffer.from(`record-${i}`), Buffer.from(`second-${i}`)], c.now);
      c.settle();
      c.step();
    }
    c.runUntil(() => leader.highWatermark === leader.log.endOffset());
    const end = leader.highWatermark;
    expect(leader.createSnapshot(end, snapshotBytes(leader, end))).toBe(true);
    expect(leader.log.startOffset()).toBe(end);
    expect(leader.log.batchAt(0)).toBeUndefined();

    c.start(lagging);
    c.runUntil(() => c.raft(lagging).log.startOffset() === end);
    const requests = c.delivered.filter(
      (m) => m.kind === 'request' && m.request.api === 'FetchSnapshot' && m.source === lagging,
    );
    // 100-byte chunks of a snapshot of several hundred bytes: several requests, positions advancing.
    expect(requests.length).toBeGreaterThan(2);
    const positions = requests.map((m) =>
      m.kind === 'request' && m.request.api === 'FetchSnapshot'
        ? Number(m.request.body.topics[0].partitions[0].position)
        : -1,
    );
    expect(positions[0]).toBe(0);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    const installed = c.raft(lagging).log.latestSnapshot();
    expect(installed?.bytes.equals(leader.log.latestSnapshot()?.bytes as Buffer)).toBe(true);
    expect(installed?.epoch).toBe(leader.epoch);

    // Then it fetches on from the snapshot's end and commits new entries like the others.
    leader.propose([Buffer.from('after')], c.now);
    c.settle();
    const target = leader.log.endOffset();
    c.runUntil(() => c.nodes.every((n) => n.raft?.highWatermark === target));
    expect(
      c
        .raft(lagging)
        .log.batchAt(target - 1)
        ?.bytes.equals(leader.log.batchAt(target - 1)?.bytes as Buffer),
    ).toBe(true);
  });

  it('does not install a fetched snapshot that is not whole in Kafka’s format', () => {
    const c = new ManualCluster([1, 2, 3], { fetchSnapshotMaxBytes: 100 });
    c.runUntil(() => c.leader() !== undefined && c.nodes.every((n) => n.raft?.highWatermark === 1));
    const leader = c.leader() as RaftNode;
    const lagging = [1, 2, 3].find((id) => id !== leader.config.nodeId) as number;
    c.crash(lagging);
    leader.propose([Buffer.from('a'), Buffer.from('b')], c.now);
    c.settle();
    c.runUntil(() => leader.highWatermark === leader.log.endOffset());
    const end = leader.highWatermark;
    // The data batches without their SnapshotHeader and SnapshotFooter (the invariants would
    // refuse such a snapshot, so they are off for this forged one).
    c.checkInvariants = false;
    const raw = readSnapshot(snapshotBytes(leader, end)).dataBytes;
    expect(leader.createSnapshot(end, Buffer.from(raw))).toBe(true);
    c.start(lagging);
    c.run(3_000);
    const fetched = c.delivered.filter(
      (m) => m.kind === 'request' && m.request.api === 'FetchSnapshot' && m.source === lagging,
    );
    expect(fetched.length).toBeGreaterThan(1); // it fetched it, whole, more than once
    expect(c.raft(lagging).log.latestSnapshot()).toBeUndefined();
    expect(c.raft(lagging).log.endOffset()).toBe(1); // still only the LeaderChange it had
  });

  it('takes snapshots of committed state only, at batch boundaries', () => {
    const c = new ManualCluster([1, 2, 3]);
    c.runUntil(() => c.leader() !== undefined && c.nodes.every((n) => n.raft?.highWatermark === 1));
    const leader = c.leader() as RaftNode;
    leader.propose([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')], c.now); // offsets 1..3
    c.settle();
    expect(leader.createSnapshot(4, Buffer.alloc(1))).toBe(false); // not committed yet
    c.runUntil(() => leader.highWatermark === 4);
    expect(leader.createSnapshot(3, Buffer.alloc(1))).toBe(false); // inside the batch 1..3
    expect(leader.createSnapshot(5, Buffer.alloc(1))).toBe(false); // beyond the log
    expect(leader.createSnapshot(4, snapshotBytes(leader, 4))).toBe(true);
    expect(leader.createSnapshot(4, Buffer.alloc(1))).toBe(false); // not beyond the log start
  });

  it('answers a Fetch whose last epoch ended inside the snapshot with the snapshot id', () => {
    const c = new ManualCluster([1, 2, 3]);
    c.runUntil(() => c.leader() !== undefined && c.nodes.every((n) => n.raft?.highWatermark === 1));
    const leader = c.leader() as RaftNode;
    const id = leader.config.nodeId;
    const f = [1, 2, 3].find((x) => x !== id) as number;
    expect(leader.createSnapshot(1, snapshotBytes(leader, 1))).toBe(true);
    const answer = (fetchOffset: number, lastFetchedEpoch: number) => {
      leader.receive(fetchRequest(f, id, 1, fetchOffset, lastFetchedEpoch), c.now);
      const out = leader.takeOutputs().find((o) => o.type === 'send');
      if (out?.type !== 'send' || out.message.kind !== 'response' || out.message.response.api !== 'Fetch')
        throw new Error('no Fetch answer');
      return out.message.response.body.responses[0].partitions[0];
    };
    expect(answer(0, 0).snapshotId).toEqual({ endOffset: 1n, epoch: 1 }); // below the log start
    expect(answer(1, 0).snapshotId).toEqual({ endOffset: 1n, epoch: 1 }); // at it, another epoch
    expect(answer(3, 0).snapshotId).toEqual({ endOffset: 1n, epoch: 1 }); // its epoch is inside the snapshot
    const ok = answer(1, 1); // at it, the snapshot's epoch: fetches on
    expect(ok.snapshotId.endOffset).toBe(-1n);
    expect(ok.divergingEpoch.epoch).toBe(-1);
  });

  it('answers FetchSnapshot errors as Kafka: SNAPSHOT_NOT_FOUND, POSITION_OUT_OF_RANGE, fenced epochs', () => {
    const c = new ManualCluster([1, 2, 3]);
    c.runUntil(() => c.leader() !== undefined && c.nodes.every((n) => n.raft?.highWatermark === 1));
    const leader = c.leader() as RaftNode;
    const id = leader.config.nodeId;
    const f = [1, 2, 3].find((x) => x !== id) as number;
    expect(leader.createSnapshot(1, snapshotBytes(leader, 1))).toBe(true);
    const snap = leader.log.latestSnapshot();
    if (snap === undefined) throw new Error('no snapshot');
    const answer = (m: RaftMessage) => {
      leader.receive(m, c.now);
      const out = leader.takeOutputs().find((o) => o.type === 'send');
      if (
        out?.type !== 'send' ||
        out.message.kind !== 'response' ||
        out.message.response.api !== 'FetchSnapshot'
      )
        throw new Error('no FetchSnapshot answer');
      return out.message.response.body.topics[0].partitions[0];
    };
    expect(answer(fetchSnapshotRequest(f, id, 1, 1, 1, 0n))).toMatchObject({
      errorCode: ErrorCode.NONE,
      size: BigInt(snap.bytes.length),
      position: 0n,
    });
    expect(answer(fetchSnapshotRequest(f, id, 1, 7, 1, 0n)).errorCode).toBe(ErrorCode.SNAPSHOT_NOT_FOUND);
    expect(answer(fetchSnapshotRequest(f, id, 1, 1, 1, BigInt(snap.bytes.length + 1))).errorCode).toBe(
      ErrorCode.POSITION_OUT_OF_RANGE,
    );
    expect(answer(fetchSnapshotRequest(f, id, 0, 1, 1, 0n)).errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect(answer(fetchSnapshotRequest(f, id, 2, 1, 1, 0n)).errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
  });

  it('keeps serving an older snapshot a follower is part-way through while newer ones are taken', () => {
    // Regression (seeds 1896, 5707, 5717 of an earlier build): with only the latest snapshot kept, a
    // follower fetching in small chunks was answered SNAPSHOT_NOT_FOUND at every new snapshot and
    // never caught up.
    const c = new ManualCluster([1, 2, 3]);
    c.runUntil(() => c.leader() !== undefined && c.nodes.every((n) => n.raft?.highWatermark === 1));
    const leader = c.leader() as RaftNode;
    const id = leader.config.nodeId;
    const f = [1, 2, 3].find((x) => x !== id) as number;
    const snapshots: { end: number; epoch: number }[] = [];
    for (let i = 0; i < 4; i++) {
      leader.propose([Buffer.from(`v${i}`)], c.now);
      c.settle();
      c.runUntil(() => leader.highWatermark === leader.log.endOffset());
      const end = leader.highWatermark;
      expect(leader.createSnapshot(end, snapshotBytes(leader, end))).toBe(true);
      snapshots.push({ end, epoch: leader.epoch });
    }
    const code = (s: { end: number; epoch: number }) => {
      leader.receive(fetchSnapshotRequest(f, id, leader.epoch, s.end, s.epoch, 0n), c.now);
      const out = leader.takeOutputs().find((o) => o.type === 'send');
      if (
        out?.type !== 'send' ||
        out.message.kind !== 'response' ||
        out.message.response.api !== 'FetchSnapshot'
      )
        throw new Error('no FetchSnapshot answer');
      return out.message.response.body.topics[0].partitions[0].errorCode;
    };
    // The three latest are kept; the oldest is gone.
    expect(snapshots.map(code)).toEqual([
      ErrorCode.SNAPSHOT_NOT_FOUND,
      ErrorCode.NONE,
      ErrorCode.NONE,
      ErrorCode.NONE,
    ]);
  });

  it('MemoryRaftLog: the snapshot moves the log start, answers for its epoch, and survives a crash', () => {
    const log = new MemoryRaftLog();
    log.append(buildDataBatch(0, 1, [Buffer.from('a')], 0));
    log.append(buildDataBatch(1, 2, [Buffer.from('b'), Buffer.from('c')], 0));
    log.append(buildDataBatch(3, 3, [Buffer.from('d')], 0));
    expect(() => log.createSnapshot({ endOffset: 2, epoch: 2, bytes: Buffer.alloc(0) })).toThrow(
      /inside a batch/,
    );
    log.createSnapshot({ endOffset: 3, epoch: 2, bytes: Buffer.from('state') });
    expect(log.startOffset()).toBe(3);
    expect(log.endOffset()).toBe(4);
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 2, offset: 3 });
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 0, offset: 3 });
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, offset: 4 });
    expect(() => log.truncateTo(2)).toThrow(/below the log start/);
    log.crash(); // offset 3 was never flushed; the snapshot was written durably
    expect(log.startOffset()).toBe(3);
    expect(log.endOffset()).toBe(3);
    expect(log.lastFetchedEpoch()).toBe(2);
    log.installSnapshot({ endOffset: 10, epoch: 5, bytes: Buffer.from('newer') });
    expect([log.startOffset(), log.endOffset(), log.lastFetchedEpoch()]).toEqual([10, 10, 5]);
    log.append(buildDataBatch(10, 6, [Buffer.from('e')], 0));
    expect(log.endOffsetForEpoch(5)).toEqual({ epoch: 5, offset: 10 });
  });
});
