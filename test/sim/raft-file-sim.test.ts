// The simulation's invariants (src/raft/sim/invariants.ts) on real disks: a 3-voter quorum whose
// nodes keep their log, snapshots and quorum-state in temp directories through FileRaftLog and
// FileQuorumStateStore, for a few seeds. Time moves in 10 ms steps; messages are dropped and
// links cut at random; nodes crash (the files keep only what was fsynced: the log is cut to its
// durable end when the node reopens its directory) and restart from disk; snapshots are taken in
// Kafka's format. After every step the invariants are checked; after the chaos the network heals
// and an entry proposed then must commit on every node.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { raftConfig } from '../../src/raft/config.js';
import { FileRaftLog } from '../../src/raft/file-log.js';
import type { OffsetAndEpoch, RaftBatch, RaftSnapshot } from '../../src/raft/log.js';
import type { RaftMessage } from '../../src/raft/messages.js';
import { FileQuorumStateStore } from '../../src/raft/quorum-state-file.js';
import { RaftNode } from '../../src/raft/raft-node.js';
import { type ObservedLog, QuorumInvariants } from '../../src/raft/sim/invariants.js';
import { Prng } from '../../src/raft/sim/prng.js';
import { frameSnapshot, readSnapshot } from '../../src/raft/snapshot.js';

/** FileRaftLog as the invariants watch it: truncations below what they verified are caught. */
class WatchedFileLog implements ObservedLog {
  lowestTruncation = Number.POSITIVE_INFINITY;
  constructor(readonly inner: FileRaftLog) {}
  startOffset(): number {
    return this.inner.startOffset();
  }
  endOffset(): number {
    return this.inner.endOffset();
  }
  lastFetchedEpoch(): number {
    return this.inner.lastFetchedEpoch();
  }
  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    return this.inner.endOffsetForEpoch(epoch);
  }
  append(batch: RaftBatch): void {
    this.inner.append(batch);
  }
  truncateTo(offset: number): void {
    if (offset < this.inner.endOffset() && offset < this.lowestTruncation) this.lowestTruncation = offset;
    this.inner.truncateTo(offset);
  }
  read(fromOffset: number, maxBytes: number): RaftBatch[] {
    return this.inner.read(fromOffset, maxBytes);
  }
  batchAt(offset: number): RaftBatch | undefined {
    return this.inner.batchAt(offset);
  }
  latestSnapshot(): RaftSnapshot | undefined {
    return this.inner.latestSnapshot();
  }
  snapshotById(endOffset: number, epoch: number): RaftSnapshot | undefined {
    return this.inner.snapshotById(endOffset, epoch);
  }
  createSnapshot(snapshot: RaftSnapshot): void {
    this.inner.createSnapshot(snapshot);
  }
  installSnapshot(snapshot: RaftSnapshot): void {
    this.inner.installSnapshot(snapshot);
  }
  durableEndOffset(): number {
    return this.inner.durableEndOffset();
  }
}

interface DiskNode {
  id: number;
  dir: string;
  raft: RaftNode | null;
  log: WatchedFileLog;
  store: FileQuorumStateStore;
  incarnation: number;
  /** Where the files are cut at the next open (a crash lost what was not fsynced). */
  durableAtCrash: number | null;
}

type Completion = { node: number; incarnation: number } & (
  | { kind: 'flushed'; flushId: number }
  | { kind: 'stateWritten'; seq: number }
);

async function runFileSimulation(
  seed: number,
  root: string,
): Promise<{ committed: number; crashes: number; snapshots: number; lostOnCrash: number }> {
  const rng = new Prng(seed);
  const voters = [1, 2, 3];
  const invariants = new QuorumInvariants(voters.length);
  const nodes: DiskNode[] = [];
  let now = 0;
  let inflight: RaftMessage[] = [];
  let completions: Completion[] = [];
  let group = new Map<number, number>(voters.map((v) => [v, 0]));
  let crashes = 0;
  let snapshots = 0;
  let lostOnCrash = 0;
  const diskErrors: Error[] = [];
  const dropRate = rng.float() * 0.1;

  const start = async (n: DiskNode): Promise<void> => {
    const inner = await FileRaftLog.open({ logDir: n.dir, segmentBytes: 2048 });
    if (n.durableAtCrash !== null) {
      // Power loss: the page cache's unflushed tail is gone (an fsync covers a prefix of the log).
      const cut = Math.max(n.durableAtCrash, inner.startOffset());
      if (inner.endOffset() > cut) {
        lostOnCrash++;
        inner.truncateTo(cut);
      }
      await inner.settled();
      n.durableAtCrash = null;
    }
    n.log = new WatchedFileLog(inner);
    n.incarnation++;
    const random = rng.fork(n.id * 100 + n.incarnation);
    n.raft = new RaftNode({
      config: raftConfig({
        nodeId: n.id,
        voters,
        clusterId: 'file-sim',
        fetchMaxBytes: 400,
        fetchSnapshotMaxBytes: 4096,
      }),
      log: n.log,
      random: () => random.float(),
      nowMs: now,
      quorumState: await n.store.read(),
    });
    drain(n);
  };

  const drain = (n: DiskNode): void => {
    const raft = n.raft;
    if (raft === null) return;
    const incarnation = n.incarnation;
    for (const out of raft.takeOutputs()) {
      if (out.type === 'send') inflight.push(out.message);
      else if (out.type === 'flush') {
        n.log.inner.flush(out.offset).then(
          () => completions.push({ node: n.id, incarnation, kind: 'flushed', flushId: out.flushId }),
          () => {}, // aborted by a crash: never completes
        );
      } else {
        n.store.write(out.state).then(
          () => completions.push({ node: n.id, incarnation, kind: 'stateWritten', seq: out.seq }),
          (e: Error) => diskErrors.push(e),
        );
      }
    }
  };

  const crash = async (n: DiskNode): Promise<void> => {
    crashes++;
    n.raft = null;
    // What was fsynced at the moment of the crash; fsyncs still running are lost with the rest.
    n.durableAtCrash = n.log.durableEndOffset();
    await n.store.settled();
    await n.log.inner.abort();
    invariants.forgetTruncations(n);
    inflight = inflight.filter((m) => m.source !== n.id && m.destination !== n.id);
  };

  for (const id of voters) {
    const dir = join(root, `node-${id}`);
    nodes.push({
      id,
      dir,
      raft: null,
      log: null as unknown as WatchedFileLog,
      store: FileQuorumStateStore.forLogDir(dir, 0),
      incarnation: 0,
      durableAtCrash: null,
    });
  }
  for (const n of nodes) await start(n);

  const chaosMs = 6_000;
  const endMs = chaosMs + 20_000;
  let probe: { offset: number } | null = null;
  for (; now < endMs; ) {
    now += 10;
    const chaos = now < chaosMs;
    // Faults first: a crash comes while the last step's fsyncs may still be running, so the log
    // loses its unflushed tail.
    if (chaos && rng.chance(0.015)) {
      const live = nodes.filter((n) => n.raft !== null);
      const down = nodes.filter((n) => n.raft === null);
      const r = rng.float();
      if (r < 0.35 && live.length > 0) await crash(rng.pick(live));
      else if (r < 0.7 && down.length > 0) await start(rng.pick(down));
      else if (r < 0.85) group = new Map(voters.map((v) => [v, rng.int(0, 1)]));
      else group = new Map(voters.map((v) => [v, 0]));
    }
    // Disk work finished since the last step comes in, in a fixed order.
    // (Disk work takes at most a step: simulated time waits for the real disk.)
    for (const n of nodes) {
      if (n.raft === null) continue;
      await n.log.inner.settled().catch(() => {});
      await n.store.settled();
    }
    await new Promise((r) => setImmediate(r));
    const done = completions.sort((a, b) => a.node - b.node);
    completions = [];
    for (const c of done) {
      const n = nodes[c.node - 1];
      if (n.raft === null || n.incarnation !== c.incarnation) continue;
      if (c.kind === 'flushed') n.raft.handleFlushed(c.flushId, now);
      else n.raft.handleQuorumStateWritten(c.seq, now);
      drain(n);
    }
    if (!chaos) {
      // The heal: one network, every node up.
      group = new Map(voters.map((v) => [v, 0]));
      for (const n of nodes) if (n.raft === null) await start(n);
    }
    // The client proposes to whoever leads; a leader sometimes takes a snapshot at its high watermark.
    const leader = nodes.find((n) => n.raft?.role === 'Leader');
    if (leader?.raft && rng.chance(0.4)) {
      const res = leader.raft.propose([Buffer.from(`s${seed}-t${now}`)], now);
      if (res.ok && !chaos && probe === null) probe = { offset: res.lastOffset };
      drain(leader);
    }
    const snapper = rng.pick(nodes);
    if (snapper.raft !== null && rng.chance(0.02)) {
      const log = snapper.log;
      const hw = snapper.raft.highWatermark;
      const b = hw > log.startOffset() ? log.batchAt(hw - 1) : undefined;
      const end = b === undefined ? 0 : b.lastOffset === hw - 1 ? hw : b.baseOffset;
      if (end > log.startOffset()) {
        const previous = log.latestSnapshot();
        const parts = [previous === undefined ? Buffer.alloc(0) : readSnapshot(previous.bytes).dataBytes];
        let epoch = previous?.epoch ?? 0;
        for (const batch of log.read(log.startOffset(), Number.MAX_SAFE_INTEGER)) {
          if (batch.baseOffset >= end) break;
          parts.push(batch.bytes);
          epoch = batch.epoch;
        }
        const bytes = frameSnapshot(
          { epoch, lastContainedLogTimestamp: 0, nowMs: now },
          Buffer.concat(parts),
        );
        if (snapper.raft.createSnapshot(end, bytes)) snapshots++;
      }
    }
    for (const n of nodes) {
      n.raft?.poll(now);
      drain(n);
    }
    // Deliver what was sent (and what that sends) within this step.
    for (let round = 0; inflight.length > 0 && round < 50; round++) {
      const batch = inflight;
      inflight = [];
      for (const m of batch) {
        const dest = nodes[m.destination - 1];
        if (dest.raft === null || group.get(m.source) !== group.get(m.destination)) continue;
        if (chaos && rng.chance(dropRate)) continue;
        dest.raft.receive(m, now);
        drain(dest);
      }
    }
    invariants.check(nodes);
    if (
      probe !== null &&
      nodes.every((n) => n.raft !== null && n.raft.highWatermark > (probe as { offset: number }).offset)
    )
      break;
  }
  if (
    probe === null ||
    !nodes.every((n) => n.raft !== null && n.raft.highWatermark > (probe as { offset: number }).offset)
  ) {
    const states = nodes
      .map((n) =>
        n.raft === null
          ? `${n.id} down`
          : `${n.id} ${n.raft.role} e${n.raft.epoch} hw ${n.raft.highWatermark} end ${n.log.endOffset()} flushed ${n.raft.flushedEnd}`,
      )
      .join('; ');
    throw new Error(
      `seed ${seed}: no entry proposed after the heal committed on every node (${states}; crashes ${crashes}; probe ${probe?.offset})`,
    );
  }
  for (const n of nodes) {
    await n.store.settled();
    await n.log.inner.close().catch(() => n.log.inner.abort());
  }
  if (diskErrors.length > 0) throw diskErrors[0];
  return { committed: invariants.committedCount, crashes, snapshots, lostOnCrash };
}

describe('the Raft simulation on file-backed logs', () => {
  const totals = { crashes: 0, snapshots: 0, lostOnCrash: 0 };
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}: the invariants hold across crashes and restarts from disk`, {
      timeout: 120_000,
    }, async () => {
      const root = mkdtempSync(join(tmpdir(), 'samsa-raft-file-sim-'));
      try {
        const result = await runFileSimulation(seed, root);
        expect(result.committed).toBeGreaterThan(0);
        totals.crashes += result.crashes;
        totals.snapshots += result.snapshots;
        totals.lostOnCrash += result.lostOnCrash;
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }
  it('the seeds crashed nodes, lost unflushed entries and took snapshots (the faults happened)', () => {
    expect(totals.crashes).toBeGreaterThan(0);
    expect(totals.lostOnCrash).toBeGreaterThan(0);
    expect(totals.snapshots).toBeGreaterThan(0);
  });
});
