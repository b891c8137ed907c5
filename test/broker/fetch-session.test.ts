import { describe, expect, it } from 'vitest';
import {
  FetchSessionCache,
  type PartitionOutcome,
  type SessionPartition,
} from '../../src/broker/fetch-session.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { clockOf } from '../../src/util/clock.js';

const part = (topic: string, partition: number, fetchOffset = 0n): SessionPartition => ({
  topic,
  partition,
  fetchOffset,
  partitionMaxBytes: 1 << 20,
  logStartOffset: -1n,
  currentLeaderEpoch: -1,
});
const outcome = (hw: bigint, hasRecords = false): PartitionOutcome => ({
  errorCode: 0,
  highWatermark: hw,
  lastStableOffset: hw,
  logStartOffset: 0n,
  hasRecords,
});

describe('FetchSessionCache', () => {
  it('creates a session on (0, 0) and serves incremental fetches that answer only what changed', () => {
    let now = 0;
    const cache = new FetchSessionCache(
      10,
      clockOf(() => now),
    );
    const full = cache.begin({
      sessionId: 0,
      sessionEpoch: 0,
      partitions: [part('a', 0), part('a', 1)],
      forgotten: [],
    });
    expect(full.sessionId).not.toBe(0);
    for (const p of full.partitions) expect(full.include(p, outcome(5n))).toBe(true);

    now += 10;
    const inc = cache.begin({ sessionId: full.sessionId, sessionEpoch: 1, partitions: [], forgotten: [] });
    expect(inc.errorCode).toBe(ErrorCode.NONE);
    expect(inc.partitions.map((p) => `${p.topic}-${p.partition}`)).toEqual(['a-0', 'a-1']);
    // a-0 unchanged: left out; a-1 got records: included.
    expect(inc.include(inc.partitions[0], outcome(5n))).toBe(false);
    expect(inc.include(inc.partitions[1], outcome(7n, true))).toBe(true);

    // The client moves a-1's position and forgets a-0.
    const inc2 = cache.begin({
      sessionId: full.sessionId,
      sessionEpoch: 2,
      partitions: [part('a', 1, 7n)],
      forgotten: [{ topic: 'a', partitions: [0] }],
    });
    expect(inc2.partitions).toEqual([expect.objectContaining({ topic: 'a', partition: 1, fetchOffset: 7n })]);
    expect(inc2.include(inc2.partitions[0], outcome(7n))).toBe(false);
    expect(
      inc2.include(inc2.partitions[0], { ...outcome(7n), errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }),
    ).toBe(true);
  });

  it('answers a wrong epoch with INVALID_FETCH_SESSION_EPOCH and an unknown id with FETCH_SESSION_ID_NOT_FOUND', () => {
    const cache = new FetchSessionCache(
      10,
      clockOf(() => 0),
    );
    const s = cache.begin({ sessionId: 0, sessionEpoch: 0, partitions: [part('a', 0)], forgotten: [] });
    expect(
      cache.begin({ sessionId: s.sessionId, sessionEpoch: 5, partitions: [], forgotten: [] }).errorCode,
    ).toBe(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    expect(
      cache.begin({ sessionId: s.sessionId + 1, sessionEpoch: 1, partitions: [], forgotten: [] }).errorCode,
    ).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });

  it('serves (0, -1) without a session and closes sessions on epoch -1', () => {
    const cache = new FetchSessionCache(
      10,
      clockOf(() => 0),
    );
    expect(
      cache.begin({ sessionId: 0, sessionEpoch: -1, partitions: [part('a', 0)], forgotten: [] }).sessionId,
    ).toBe(0);
    const s = cache.begin({ sessionId: 0, sessionEpoch: 0, partitions: [part('a', 0)], forgotten: [] });
    expect(cache.size).toBe(1);
    const closed = cache.begin({
      sessionId: s.sessionId,
      sessionEpoch: -1,
      partitions: [part('a', 0)],
      forgotten: [],
    });
    expect(closed.sessionId).toBe(0);
    expect(cache.size).toBe(0);
  });

  it('evicts only sessions idle past the eviction time when full', () => {
    let now = 0;
    const cache = new FetchSessionCache(
      1,
      clockOf(() => now),
      1000,
    );
    const first = cache.begin({ sessionId: 0, sessionEpoch: 0, partitions: [], forgotten: [] });
    expect(cache.begin({ sessionId: 0, sessionEpoch: 0, partitions: [], forgotten: [] }).sessionId).toBe(0);
    now = 2000;
    const second = cache.begin({ sessionId: 0, sessionEpoch: 0, partitions: [], forgotten: [] });
    expect(second.sessionId).not.toBe(0);
    expect(
      cache.begin({ sessionId: first.sessionId, sessionEpoch: 1, partitions: [], forgotten: [] }).errorCode,
    ).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });
});
