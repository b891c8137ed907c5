// The seeded KRaft simulation (src/raft/sim): a few hundred seeds of 3- and 5-voter quorums under
// drops, delays, duplicates, reordering, partitions, crashes (losing unflushed writes) and
// resignations, with Kafka's invariants checked after every event and liveness after the heal;
// determinism of the replay; and proof that broken rules are caught.
//
// A failing seed prints how to replay it:
//   node -e "import('./dist/src/raft/sim/simulation.js').then(m => console.log(m.runSimulation({ seed: S, nodes: N, recordTrace: true })))"
// or `npm run bench:raft-sim -- --seed S --nodes N --trace`.

import { describe, expect, it } from 'vitest';
import type { QuorumStateData } from '../../src/protocol/generated/index.js';
import { buildDataBatch, buildLeaderChangeBatch, splitBatches } from '../../src/raft/batch.js';
import type { RaftMessage } from '../../src/raft/messages.js';
import { InvariantViolation } from '../../src/raft/sim/invariants.js';
import { runSimulation, type SimulationResult } from '../../src/raft/sim/simulation.js';
import { ManualCluster, only } from '../raft/harness.js';

function runSeeds(nodes: number, from: number, count: number): SimulationResult[] {
  const failures: SimulationResult[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const r = runSimulation({ seed, nodes });
    if (!r.ok) failures.push(r);
  }
  return failures;
}

function describeFailures(failures: SimulationResult[], nodes: number): string {
  return failures
    .slice(0, 5)
    .map(
      (f) =>
        `seed ${f.seed} (nodes ${nodes}): ${f.violation} -- replay: npm run bench:raft-sim -- --seed ${f.seed} --nodes ${nodes} --trace`,
    )
    .join('\n');
}

describe('KRaft simulation', () => {
  it('holds every invariant, and recovers liveness, over 200 seeds of 3 voters', () => {
    const failures = runSeeds(3, 1, 200);
    expect(failures, describeFailures(failures, 3)).toEqual([]);
  });

  it('holds every invariant, and recovers liveness, over 120 seeds of 5 voters', () => {
    const failures = runSeeds(5, 1, 120);
    expect(failures, describeFailures(failures, 5)).toEqual([]);
  });

  it('does real work: elections, crashes and commits happen in the runs', () => {
    let committed = 0;
    let crashes = 0;
    let epochs = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const r = runSimulation({ seed, nodes: 3 });
      committed += r.committed;
      crashes += r.crashes;
      epochs += r.maxEpoch;
    }
    expect(committed).toBeGreaterThan(20 * 10);
    expect(crashes).toBeGreaterThan(20);
    expect(epochs).toBeGreaterThan(20 * 2);
  });

  it('replays a seed exactly: same seed, same event trace; another seed, another trace', () => {
    const a = runSimulation({ seed: 4242, nodes: 5, recordTrace: true });
    const b = runSimulation({ seed: 4242, nodes: 5, recordTrace: true });
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.events).toBe(a.events);
    expect(b.trace).toEqual(a.trace);
    const c = runSimulation({ seed: 4243, nodes: 5 });
    expect(c.traceHash).not.toBe(a.traceHash);
    // The untraced run follows the same path as the traced one.
    expect(runSimulation({ seed: 4242, nodes: 5 }).traceHash).toBe(a.traceHash);
  });

  it('catches votes granted without the log check (a fault-injected variant)', () => {
    let caught: SimulationResult | undefined;
    for (let seed = 1; seed <= 300 && caught === undefined; seed++) {
      const r = runSimulation({ seed, nodes: 3, unsafeFaults: { skipVoteLogCheck: true } });
      if (!r.ok) caught = r;
    }
    expect(caught?.violation).toMatch(/committed|truncated|disks/);
    // And the same seed with the rule kept is fine.
    if (caught !== undefined) expect(runSimulation({ seed: caught.seed, nodes: 3 }).ok).toBe(true);
  });

  it('catches a high watermark that counts unflushed entries (a fault-injected variant)', () => {
    let caught: SimulationResult | undefined;
    for (let seed = 1; seed <= 100 && caught === undefined; seed++) {
      const r = runSimulation({ seed, nodes: 3, unsafeFaults: { countUnflushedEntries: true } });
      if (!r.ok) caught = r;
    }
    expect(caught?.violation).toMatch(/disks|committed|truncated/);
    if (caught !== undefined) expect(runSimulation({ seed: caught.seed, nodes: 3 }).ok).toBe(true);
  });

  it('catches a high watermark that ignores the current-epoch rule (Raft figure 8, scripted)', () => {
    expect(() => figure8(true)).toThrow(InvariantViolation);
    expect(() => figure8(false)).not.toThrow();
  });
});

function state(epoch: number, leaderId: number, votedId: number): QuorumStateData {
  return {
    clusterId: 'test',
    leaderId,
    leaderEpoch: epoch,
    votedId,
    votedDirectoryId: '',
    appliedOffset: 0n,
    currentVoters: null,
  };
}

/**
 * Raft's figure 8 in KRaft terms. Node 1 holds X (epoch 1, offset 1) that nobody else has; node 3
 * led epoch 2 and wrote Y (offset 1) alone; node 2 has only offset 0. Node 1 wins epoch 3 with
 * node 2, which fetches X but never the LeaderChange of epoch 3. A leader without the
 * current-epoch rule now counts X as committed (on 2 of 3 disks). Node 1 crashes; node 3 wins
 * epoch 4 with node 2 (its last epoch, 2, beats node 2's 1) and truncates X away on node 2.
 */
function figure8(skipRule: boolean): void {
  const c = new ManualCluster([1, 2, 3], {
    fetchMaxBytes: 1,
    unsafeFaults: { skipCurrentEpochCommitRule: skipRule },
  });
  for (const n of c.nodes) n.raft = null;
  const put = (id: number, batch: ReturnType<typeof buildDataBatch>) => {
    const log = c.node(id).log;
    log.append(batch);
    log.completeFlush(log.beginFlush(log.endOffset()));
  };
  for (const id of [1, 2, 3]) put(id, buildLeaderChangeBatch(0, 1, 1, [1, 2, 3], [1, 2], 0));
  put(1, buildDataBatch(1, 1, [Buffer.from('X')], 0));
  put(3, buildLeaderChangeBatch(1, 2, 3, [1, 2, 3], [2, 3], 0));
  c.node(1).stored = state(2, -1, -1);
  c.node(2).stored = state(2, -1, 3);
  c.node(3).stored = state(2, 3, 3);

  // Epoch 3: nodes 1 and 2 only; node 2 never receives offset 2 (the LeaderChange of epoch 3).
  c.start(1);
  c.start(2);
  c.link = only(1, 2);
  c.drop = (m: RaftMessage) =>
    m.kind === 'response' &&
    m.response.api === 'Fetch' &&
    splitBatches(m.response.body.responses[0]?.partitions[0]?.records ?? null).some(
      (b) => b.baseOffset === 2,
    );
  c.runUntil(() => c.node(1).raft?.role === 'Leader');
  c.runUntil(() => c.node(2).log.endOffset() === 2);
  c.run(300);

  // Node 1 crashes; node 3 comes back and leads with node 2.
  c.crash(1);
  c.drop = () => false;
  c.link = only(2, 3);
  c.start(3);
  c.runUntil(() => {
    const r3 = c.node(3).raft;
    const r2 = c.node(2).raft;
    return r3?.role === 'Leader' && r2 !== null && r2.highWatermark >= 3 && r3.highWatermark >= 3;
  }, 60_000);
}
