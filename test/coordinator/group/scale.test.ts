// Many members at once, and member metadata too large for the log.

import { describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { Harness, track } from './helpers.js';

vi.setConfig({ testTimeout: 20000 });

/** A deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Stats {
  unknownMemberId: number;
  otherErrors: number[];
}

/**
 * A consumer as the Java client behaves: join (with the member id it was given), sync (the leader
 * assigns every member), then heartbeat every 3 s; REBALANCE_IN_PROGRESS sends it back to join.
 */
class SimClient {
  memberId = '';
  stableGeneration = -1;
  stopped = false;

  constructor(
    private readonly h: Harness,
    readonly name: string,
    private readonly stats: Stats,
  ) {}

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.h.time.schedule(ms, resolve));
  }

  async run(startDelayMs: number): Promise<void> {
    await this.sleep(startDelayMs);
    while (!this.stopped) {
      const joined = await this.join();
      if (joined === null) continue;
      const sync = await this.h.sync(this.memberId, joined.generationId, { assignments: joined.assignments });
      if (sync.errorCode !== ErrorCode.NONE) {
        if (sync.errorCode !== ErrorCode.REBALANCE_IN_PROGRESS) this.stats.otherErrors.push(sync.errorCode);
        continue;
      }
      this.stableGeneration = joined.generationId;
      await this.heartbeatUntilRebalance(joined.generationId);
    }
  }

  private async join(): Promise<{
    generationId: number;
    assignments: Array<{ memberId: string; assignment: Buffer }>;
  } | null> {
    const r = await this.h.join({ memberId: this.memberId, clientId: this.name });
    if (r.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      this.memberId = r.memberId;
      return null;
    }
    if (r.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
      this.stats.unknownMemberId++;
      this.memberId = '';
      return null;
    }
    if (r.errorCode !== ErrorCode.NONE) {
      this.stats.otherErrors.push(r.errorCode);
      return null;
    }
    const assignments = r.members.map((m) => ({
      memberId: m.memberId,
      assignment: Buffer.from(`for-${m.memberId}`),
    }));
    return { generationId: r.generationId, assignments };
  }

  private async heartbeatUntilRebalance(generationId: number): Promise<void> {
    while (!this.stopped) {
      await this.sleep(3000);
      const err = await this.h.heartbeat(this.memberId, generationId);
      if (err === ErrorCode.NONE) continue;
      if (err !== ErrorCode.REBALANCE_IN_PROGRESS) this.stats.otherErrors.push(err);
      this.stableGeneration = -1;
      return;
    }
  }
}

/** Runs the clock until the group is Stable with every client synced, or `maxMs` passes. */
async function runUntilStable(h: Harness, clients: SimClient[], maxMs: number): Promise<void> {
  for (let t = 0; t < maxMs; t += 250) {
    await h.advance(250);
    const d = h.describe();
    const everyoneSynced = clients.every((c) => c.stableGeneration > 0);
    if (d.groupState === 'Stable' && d.members.length === clients.length && everyoneSynced) return;
  }
}

describe('many members joining at once', () => {
  it('100 members arriving together are all in the first generation, with no UNKNOWN_MEMBER_ID', async () => {
    const h = Harness.started();
    const stats: Stats = { unknownMemberId: 0, otherErrors: [] };
    const random = prng(42);
    const clients = Array.from({ length: 100 }, (_, i) => new SimClient(h, `c${i}`, stats));
    for (const c of clients) void c.run(Math.floor(random() * 2000));
    await runUntilStable(h, clients, 60000);
    for (const c of clients) c.stopped = true;

    expect(stats.unknownMemberId).toBe(0);
    expect(stats.otherErrors).toEqual([]);
    expect(h.describe().members).toHaveLength(100);
    expect(new Set(clients.map((c) => c.stableGeneration))).toEqual(new Set([1]));
    // Each member got the assignment the leader made for it.
    for (const m of h.describe().members) expect(m.memberAssignment.toString()).toBe(`for-${m.memberId}`);
  });

  it('late arrivals cost one more rebalance round, never an UNKNOWN_MEMBER_ID loop', async () => {
    const h = Harness.started();
    const stats: Stats = { unknownMemberId: 0, otherErrors: [] };
    const random = prng(7);
    const clients = Array.from({ length: 100 }, (_, i) => new SimClient(h, `c${i}`, stats));
    // 80 arrive in the first 2 s; 20 more together at about 15 s, after the first generation formed.
    // (Arrivals spread wider than the members' heartbeat interval would each start another round,
    // in Kafka too.)
    clients.forEach((c, i) => {
      void c.run(i < 80 ? Math.floor(random() * 2000) : 15000 + Math.floor(random() * 500));
    });
    await runUntilStable(h, clients, 120000);
    for (const c of clients) c.stopped = true;

    expect(stats.unknownMemberId).toBe(0);
    expect(stats.otherErrors).toEqual([]);
    expect(h.describe().groupState).toBe('Stable');
    expect(h.describe().members).toHaveLength(100);
    expect(new Set(clients.map((c) => c.stableGeneration))).toEqual(new Set([2]));
  });
});

describe('member metadata larger than the log accepts', () => {
  it('JoinGroup carries 10 MB of metadata; the SyncGroup write fails: UNKNOWN_SERVER_ERROR and a rebalance', async () => {
    // Kafka keeps JoinGroup metadata in memory, so the join succeeds; the GroupMetadata record
    // written at SyncGroup is over message.max.bytes, the append fails with MESSAGE_TOO_LARGE, which
    // the coordinator reports as UNKNOWN_SERVER_ERROR to every member waiting, and rebalances.
    const h = Harness.started();
    h.store.maxRecordBytes = 1048588;
    const huge = Buffer.alloc(10 * 1024 * 1024, 7);
    const a = await h.joinWithId({ protocols: [{ name: 'range', metadata: huge }] });
    const b = await h.joinWithId({ protocols: [{ name: 'range', metadata: Buffer.from('small') }] });
    const ra = track(a.response);
    await h.advance(6000);
    expect(ra.value.errorCode).toBe(ErrorCode.NONE);
    expect(ra.value.members[0].metadata.length).toBe(huge.length);
    const rb = await b.response;
    const syncB = track(h.sync(b.memberId, rb.generationId));
    const syncA = await h.sync(a.memberId, ra.value.generationId, {
      assignments: [
        { memberId: a.memberId, assignment: Buffer.from('x') },
        { memberId: b.memberId, assignment: Buffer.from('y') },
      ],
    });
    await h.advance(0);
    expect(syncA.errorCode).toBe(ErrorCode.UNKNOWN_SERVER_ERROR);
    expect(syncB.value.errorCode).toBe(ErrorCode.UNKNOWN_SERVER_ERROR);
    expect(h.store.records).toEqual([]);
    expect(h.state()).toBe('PreparingRebalance');
    expect(await h.heartbeat(b.memberId, rb.generationId)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });
});
