// Seeded simulation: random requests from a current and a stale producer (V1 and V2), random store
// and marker failures, random time steps. After every step:
//   - memory is what replaying __transaction_state gives (state, producer id/epoch, timeout, start
//     time; partitions too, except while markers are being written);
//   - per producer id, the epochs in the log never go down;
//   - every CompleteCommit/CompleteAbort record follows the matching Prepare record;
//   - a partition gets a COMMIT marker only if it was added to the transaction being committed.
// A failure prints the seed.

import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { FakeMarkerWriter, Harness, MemoryTxnStore, settle } from './helpers.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IDS = ['a', 'b'];

/** A coordinator loaded from the store's records (its own store/markers: startup writes nothing to ours). */
function replayed(h: Harness): Harness {
  const r = new Harness(h.config, {
    time: h.time,
    store: new MemoryTxnStore(),
    markers: new HangingMarkers(),
    nextProducerId: { value: 1n << 40n },
  });
  for (const rec of h.store.records) r.coordinator.replay(rec.partition, rec.key, rec.value);
  r.coordinator.startup();
  return r;
}

class HangingMarkers extends FakeMarkerWriter {
  override writeMarkers(): Promise<never> {
    return new Promise(() => {});
  }
}

function checkInvariants(h: Harness, seed: number, step: number): void {
  const ctx = `seed ${seed} step ${step}`;
  const r = replayed(h);
  for (const id of IDS) {
    const live = h.describe(id);
    const loaded = r.describe(id);
    expect(loaded.errorCode, ctx).toBe(live.errorCode);
    if (live.errorCode !== ErrorCode.NONE) continue;
    expect(
      {
        state: loaded.transactionState,
        pid: loaded.producerId,
        epoch: loaded.producerEpoch,
        timeout: loaded.transactionTimeoutMs,
        start: loaded.transactionStartTimeMs,
      },
      ctx,
    ).toEqual({
      state: live.transactionState,
      pid: live.producerId,
      epoch: live.producerEpoch,
      timeout: live.transactionTimeoutMs,
      start: live.transactionStartTimeMs,
    });
    if (!live.transactionState.startsWith('Prepare')) expect(loaded.topics, ctx).toEqual(live.topics);
  }
  r.coordinator.shutdown();

  for (const id of IDS) {
    const history = h.store.history(id);
    const lastEpoch = new Map<bigint, number>();
    let prev: (typeof history)[number] | undefined;
    for (const t of history) {
      if (t === null) {
        lastEpoch.clear();
        prev = undefined;
        continue;
      }
      const before = lastEpoch.get(t.producerId);
      if (before !== undefined) expect(t.producerEpoch, ctx).toBeGreaterThanOrEqual(before);
      lastEpoch.set(t.producerId, t.producerEpoch);
      if (t.state === 'CompleteCommit') expect(prev?.state, ctx).toBe('PrepareCommit');
      if (t.state === 'CompleteAbort') expect(prev?.state, ctx).toBe('PrepareAbort');
      prev = t;
    }
  }
}

async function simulate(seed: number, steps: number): Promise<{ commits: number; aborts: number }> {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const h = Harness.started({ abortTimedOutTransactionCleanupIntervalMs: 1000, markerRetryBackoffMs: 50 });
  // What each simulated producer believes (current) and an older copy (stale).
  const producers = new Map<
    string,
    {
      current: { producerId: bigint; producerEpoch: number } | null;
      stale: { producerId: bigint; producerEpoch: number } | null;
      v2: boolean;
    }
  >();
  for (const id of IDS) producers.set(id, { current: null, stale: null, v2: rand() < 0.5 });
  // Partitions added (successfully) to each id's open transaction, to check COMMIT markers against.
  const added = new Map<string, Set<string>>(IDS.map((id) => [id, new Set<string>()]));
  const owner = new Map<bigint, string>();
  let commits = 0;
  let aborts = 0;
  const partitions: Array<[string, number]> = [
    ['t', 0],
    ['t', 1],
    ['u', 0],
  ];

  for (let step = 0; step < steps; step++) {
    const id = pick(IDS);
    const p = producers.get(id)!;
    const roll = rand();
    if (rand() < 0.05)
      h.store.failNext(pick([ErrorCode.NOT_ENOUGH_REPLICAS, ErrorCode.NOT_LEADER_OR_FOLLOWER]));
    if (rand() < 0.05) h.markers.failPartition(...pick(partitions), ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const who = rand() < 0.2 && p.stale ? p.stale : p.current;
    if (roll < 0.15 || !who) {
      const r = await h.init(id, 5000);
      if (r.errorCode === ErrorCode.NONE) {
        p.stale = p.current;
        p.current = { producerId: r.producerId, producerEpoch: r.producerEpoch };
        owner.set(r.producerId, id);
        p.v2 = rand() < 0.5;
        added.get(id)!.clear();
      }
    } else if (roll < 0.55) {
      const tp = pick(partitions);
      const code = await h.add(who, [tp], id, p.v2);
      if (code === ErrorCode.NONE) {
        expect(who, `seed ${seed} step ${step}: a stale producer added a partition`).toBe(p.current);
        added.get(id)!.add(`${tp[0]}-${tp[1]}`);
      }
    } else if (roll < 0.8) {
      const commit = rand() < 0.6;
      const before = h.markers.written.length;
      const wasCurrent = who === p.current;
      const r = await h.end(who, commit, id, p.v2);
      if (r.errorCode === ErrorCode.NONE && wasCurrent) {
        if (p.v2) {
          p.stale = p.current;
          p.current = { producerId: r.producerId, producerEpoch: r.producerEpoch };
        }
        if (commit) commits++;
        else aborts++;
      }
      if (r.errorCode === ErrorCode.NONE && !wasCurrent) {
        // A stale request may only succeed as a no-op retry.
        expect(h.markers.written.length, `seed ${seed} step ${step}`).toBe(before);
      }
      await settle();
    } else {
      await h.advance(Math.floor(rand() * 3000));
    }
    // COMMIT markers only for partitions added to the transaction of that producer.
    for (const m of h.markers.written.splice(0)) {
      const o = owner.get(m.producerId);
      expect(o, `seed ${seed} step ${step}: marker of an unknown producer`).toBeDefined();
      if (m.commit)
        expect(added.get(o!)!.has(`${m.topic}-${m.partition}`), `seed ${seed} step ${step}`).toBe(true);
    }
    for (const o of IDS) if (h.describe(o).transactionState.startsWith('Complete')) added.get(o)!.clear();
    checkInvariants(h, seed, step);
  }
  // Everything settles: no transaction stays in Prepare*.
  await h.advance(60000);
  for (const id of IDS) expect(h.state(id).startsWith('Prepare'), `seed ${seed}`).toBe(false);
  h.coordinator.shutdown();
  return { commits, aborts };
}

describe('simulation', () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    it(`seed ${seed}: memory equals replay, epochs monotonic, completions follow prepares`, async () => {
      const { commits, aborts } = await simulate(seed, 150);
      expect(commits + aborts).toBeGreaterThan(0);
    });
  }
});
