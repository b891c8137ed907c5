// The assignors against Kafka's documented outcomes, and the cooperative protocol's rule that a
// partition changing owner is withheld for one rebalance.

import { describe, expect, it } from 'vitest';
import {
  CooperativeStickyAssignor,
  type MemberSubscription,
  RangeAssignor,
  RoundRobinAssignor,
  rebalanceProtocolOf,
  stickyAssign,
} from '../../src/client/assignors.js';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type TopicPartition,
} from '../../src/client/consumer-protocol.js';

function member(
  memberId: string,
  topics: string[],
  owned: TopicPartition[] = [],
  generationId = -1,
): MemberSubscription {
  return {
    memberId,
    groupInstanceId: null,
    topics,
    userData: null,
    ownedPartitions: owned,
    generationId,
    rackId: null,
  };
}

const tps = (topic: string, ...ps: number[]) => ps.map((partition) => ({ topic, partition }));
const counts = (list: Map<string, TopicPartition[]>) => [...list.values()].map((l) => l.length);

describe('range', () => {
  it('gives consecutive ranges per topic, the first members one more (Kafka javadoc example)', () => {
    // C0, C1; t0 and t1 with 3 partitions each: C0 [t0p0, t0p1, t1p0, t1p1], C1 [t0p2, t1p2].
    const a = RangeAssignor.assign(
      new Map([
        ['t0', 3],
        ['t1', 3],
      ]),
      [member('C1', ['t0', 't1']), member('C0', ['t0', 't1'])],
    );
    expect(a.get('C0')).toEqual([...tps('t0', 0, 1), ...tps('t1', 0, 1)]);
    expect(a.get('C1')).toEqual([...tps('t0', 2), ...tps('t1', 2)]);
  });
});

describe('roundrobin', () => {
  it('deals all partitions in turn (Kafka javadoc example)', () => {
    const a = RoundRobinAssignor.assign(
      new Map([
        ['t0', 3],
        ['t1', 3],
      ]),
      [member('C0', ['t0', 't1']), member('C1', ['t0', 't1'])],
    );
    expect(a.get('C0')).toEqual([...tps('t0', 0, 2), ...tps('t1', 1)]);
    expect(a.get('C1')).toEqual([...tps('t0', 1), ...tps('t1', 0, 2)]);
  });

  it('skips members not subscribed to a topic', () => {
    const a = RoundRobinAssignor.assign(
      new Map([
        ['t0', 1],
        ['t1', 2],
        ['t2', 3],
      ]),
      [member('C0', ['t0']), member('C1', ['t0', 't1']), member('C2', ['t0', 't1', 't2'])],
    );
    expect(a.get('C0')).toEqual(tps('t0', 0));
    expect(a.get('C1')).toEqual(tps('t1', 0));
    expect(a.get('C2')).toEqual([...tps('t1', 1), ...tps('t2', 0, 1, 2)]);
  });
});

describe('sticky', () => {
  it('balances a fresh group and keeps owners when a member joins', () => {
    const first = stickyAssign(new Map([['t', 6]]), [member('a', ['t']), member('b', ['t'])]);
    expect(counts(first)).toEqual([3, 3]);
    const second = stickyAssign(new Map([['t', 6]]), [
      member('a', ['t'], first.get('a'), 1),
      member('b', ['t'], first.get('b'), 1),
      member('c', ['t']),
    ]);
    expect(counts(second)).toEqual([2, 2, 2]);
    // a and b only gave partitions away.
    for (const m of ['a', 'b']) for (const tp of second.get(m) ?? []) expect(first.get(m)).toContainEqual(tp);
  });

  it('cooperative: a moving partition is withheld until its owner revokes it', () => {
    const owned = { a: tps('t', 0, 1, 2), b: tps('t', 3, 4, 5) };
    const round1 = CooperativeStickyAssignor.assign(new Map([['t', 6]]), [
      member('a', ['t'], owned.a, 1),
      member('b', ['t'], owned.b, 1),
      member('c', ['t'], [], -1),
    ]);
    // c gets nothing yet; a and b keep two each.
    expect(round1.get('c')).toEqual([]);
    expect(round1.get('a')).toHaveLength(2);
    expect(round1.get('b')).toHaveLength(2);
    // After a and b revoked the withheld ones and rejoined, c gets them.
    const round2 = CooperativeStickyAssignor.assign(new Map([['t', 6]]), [
      member('a', ['t'], round1.get('a'), 2),
      member('b', ['t'], round1.get('b'), 2),
      member('c', ['t'], [], 2),
    ]);
    expect(round2.get('a')).toEqual(round1.get('a'));
    expect(round2.get('b')).toEqual(round1.get('b'));
    expect(round2.get('c')).toHaveLength(2);
  });

  it('protocol is cooperative only if every assignor supports it', () => {
    expect(rebalanceProtocolOf([CooperativeStickyAssignor])).toBe('COOPERATIVE');
    expect(rebalanceProtocolOf([RangeAssignor, CooperativeStickyAssignor])).toBe('EAGER');
  });
});

describe('consumer protocol', () => {
  it('round-trips subscriptions and assignments, and reads an empty assignment', () => {
    const s = {
      topics: ['a', 'b'],
      userData: null,
      ownedPartitions: tps('a', 1, 0),
      generationId: 4,
      rackId: 'r1',
    };
    expect(decodeSubscription(encodeSubscription(s))).toEqual({ ...s, ownedPartitions: tps('a', 0, 1) });
    expect(encodeSubscription(s).readInt16BE(0)).toBe(3);
    const a = { partitions: [...tps('x', 2), ...tps('y', 0)], userData: Buffer.from('u') };
    expect(decodeAssignment(encodeAssignment(a))).toEqual(a);
    expect(decodeAssignment(Buffer.alloc(0))).toEqual({ partitions: [], userData: null });
  });
});
