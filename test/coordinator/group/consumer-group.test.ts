// KIP-848 consumer groups in the group coordinator, on a fake clock, after the scenarios of
// Kafka's GroupMetadataManagerTest: join, heartbeat, leave, fencing, revocation before assignment,
// rebalances with many members, static members, session and rebalance timeouts, regex
// subscriptions, limits and the restart replay of the KIP-848 records.

import { describe, expect, it, vi } from 'vitest';
import { RANGE_ASSIGNOR, UNIFORM_ASSIGNOR } from '../../../src/coordinator/group/consumer-assignors.js';
import { DEFAULT_CONSUMER_GROUP_CONFIG } from '../../../src/coordinator/group/consumer-groups.js';
import { decodeConsumerGroupRecord } from '../../../src/coordinator/group/consumer-records.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ConsumerGroupHeartbeatRequest } from '../../../src/protocol/generated/messages/ConsumerGroupHeartbeatRequest.js';
import type { ConsumerGroupHeartbeatResponse } from '../../../src/protocol/generated/messages/ConsumerGroupHeartbeatResponse.js';
import { ListGroupsRequest } from '../../../src/protocol/generated/messages/ListGroupsRequest.js';
import { OffsetCommitRequest } from '../../../src/protocol/generated/messages/OffsetCommitRequest.js';
import { OffsetFetchRequest } from '../../../src/protocol/generated/messages/OffsetFetchRequest.js';
import { Harness, topicId } from './helpers.js';

vi.setConfig({ testTimeout: 20000 });

const T = topicId('t');

type Owned = Array<{ topicId: string; partitions: number[] }>;

interface HbOpts {
  memberId?: string;
  memberEpoch?: number;
  instanceId?: string | null;
  topics?: string[] | null;
  regex?: string | null;
  owned?: Owned | null;
  assignor?: string | null;
  rebalanceTimeoutMs?: number;
  groupId?: string;
  version?: number;
}

function hb(h: Harness, o: HbOpts = {}): Promise<ConsumerGroupHeartbeatResponse> {
  const epoch = o.memberEpoch ?? 0;
  const req: ConsumerGroupHeartbeatRequest = {
    ...ConsumerGroupHeartbeatRequest.default(),
    groupId: o.groupId ?? 'g',
    memberId: o.memberId ?? '',
    memberEpoch: epoch,
    instanceId: o.instanceId ?? null,
    rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? (epoch === 0 ? 30000 : -1),
    subscribedTopicNames: o.topics === undefined ? (epoch === 0 && !o.regex ? ['t'] : null) : o.topics,
    subscribedTopicRegex: o.regex ?? null,
    serverAssignor: o.assignor ?? null,
    topicPartitions: o.owned === undefined ? (epoch === 0 ? [] : null) : o.owned,
  };
  return h.coordinator.consumerGroupHeartbeat(req, o.version ?? 1, 'client', '/127.0.0.1');
}

/** A client-side model of a member: what it owns, acknowledging exactly what it was told. */
class Member {
  epoch = 0;
  owned: Owned = [];
  constructor(
    readonly h: Harness,
    readonly memberId: string,
    readonly opts: HbOpts = {},
  ) {}

  async join(): Promise<ConsumerGroupHeartbeatResponse> {
    const r = await hb(this.h, { ...this.opts, memberId: this.memberId, memberEpoch: 0 });
    this.absorb(r);
    return r;
  }

  async beat(): Promise<ConsumerGroupHeartbeatResponse> {
    const r = await hb(this.h, {
      ...this.opts,
      memberId: this.memberId,
      memberEpoch: this.epoch,
      owned: this.owned,
    });
    this.absorb(r);
    return r;
  }

  private absorb(r: ConsumerGroupHeartbeatResponse): void {
    if (r.errorCode !== ErrorCode.NONE) return;
    this.epoch = r.memberEpoch;
    // The client revokes and assigns at once here, then reports the new set on the next beat.
    if (r.assignment)
      this.owned = r.assignment.topicPartitions.map((tp) => ({ ...tp, partitions: [...tp.partitions] }));
  }

  partitions(): number[] {
    return this.owned.flatMap((tp) => tp.partitions.map((p) => p)).sort((a, b) => a - b);
  }
}

function describeGroup(h: Harness, groupId = 'g') {
  return h.coordinator.consumerGroupDescribe({ groupIds: [groupId], includeAuthorizedOperations: false }, 0)
    .groups[0];
}

/** Every partition of the group's current assignments, checking none is held twice. */
function assertNoDoubleOwnership(members: Member[]): void {
  const seen = new Map<string, string>();
  for (const m of members) {
    for (const tp of m.owned) {
      for (const p of tp.partitions) {
        const key = `${tp.topicId}:${p}`;
        expect(seen.get(key), `${key} owned by ${seen.get(key)} and ${m.memberId}`).toBeUndefined();
        seen.set(key, m.memberId);
      }
    }
  }
}

describe('ConsumerGroupHeartbeat: join, heartbeat, leave', () => {
  it('a first member gets every partition at epoch 1; the group is Stable; records are KIP-848 types 3-8', async () => {
    const h = Harness.started();
    h.topics.set('t', 4);
    const r = await hb(h, { memberId: 'm1' });
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.memberId).toBe('m1');
    expect(r.memberEpoch).toBe(1);
    expect(r.heartbeatIntervalMs).toBe(5000);
    expect(r.assignment?.topicPartitions).toEqual([{ topicId: T, partitions: [0, 1, 2, 3] }]);
    const d = describeGroup(h);
    expect(d).toMatchObject({
      errorCode: 0,
      groupState: 'Stable',
      groupEpoch: 1,
      assignmentEpoch: 1,
      assignorName: 'uniform',
    });
    expect(d.members[0]).toMatchObject({ memberId: 'm1', memberEpoch: 1, subscribedTopicNames: ['t'] });
    expect(d.members[0].assignment.topicPartitions[0]).toMatchObject({
      topicName: 't',
      partitions: [0, 1, 2, 3],
    });
    const types = h.store.records.map((rec) => rec.key.readInt16BE(0));
    expect(new Set(types)).toEqual(new Set([3, 4, 5, 6, 7, 8]));
    for (const rec of h.store.records) expect(decodeConsumerGroupRecord(rec.key, rec.value)).not.toBeNull();
    // A heartbeat with nothing new writes nothing and sends no assignment.
    const before = h.store.records.length;
    const again = await hb(h, { memberId: 'm1', memberEpoch: 1 });
    expect(again).toMatchObject({ errorCode: 0, memberEpoch: 1, assignment: null });
    expect(h.store.records.length).toBe(before);
  });

  it('v0 generates the member id; v1 requires one', async () => {
    const h = Harness.started();
    const r0 = await hb(h, { version: 0 });
    expect(r0.errorCode).toBe(ErrorCode.NONE);
    expect(r0.memberId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const r1 = await hb(h, { version: 1 });
    expect(r1.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('revocation before assignment: a joining member gets a partition only once its owner released it', async () => {
    const h = Harness.started();
    h.topics.set('t', 4);
    const a = new Member(h, 'a');
    await a.join();
    expect(a.partitions()).toEqual([0, 1, 2, 3]);
    const b = new Member(h, 'b');
    const jb = await b.join();
    // Epoch 2 target: a keeps 2, b gets 2, but a still owns them: b gets nothing yet.
    expect(jb.memberEpoch).toBe(2);
    expect(b.partitions()).toEqual([]);
    assertNoDoubleOwnership([a, b]);
    const d = describeGroup(h);
    expect(d.groupState).toBe('Reconciling');
    expect(
      d.members.find((m) => m.memberId === 'b')!.targetAssignment.topicPartitions[0].partitions.length,
    ).toBe(2);

    // a is told to revoke (its epoch stays 1 until it confirms).
    const ra = await a.beat();
    expect(ra.memberEpoch).toBe(1);
    expect(a.partitions().length).toBe(2);
    // b asks again before a confirmed: a heartbeat with a's old set is still pending, b waits.
    assertNoDoubleOwnership([a, b]);
    // a confirms (reports its smaller set): it moves to epoch 2.
    const ra2 = await a.beat();
    expect(ra2.memberEpoch).toBe(2);
    // Now b receives the released partitions.
    await b.beat();
    expect(b.partitions().length).toBe(2);
    assertNoDoubleOwnership([a, b]);
    expect([...a.partitions(), ...b.partitions()].sort()).toEqual([0, 1, 2, 3]);
    expect(describeGroup(h).groupState).toBe('Stable');
  });

  it('a member that has not confirmed its revocation keeps the others waiting (UNRELEASED_PARTITIONS)', async () => {
    const h = Harness.started();
    h.topics.set('t', 2);
    const a = new Member(h, 'a');
    await a.join();
    const b = new Member(h, 'b');
    await b.join();
    // a heartbeats without its owned partitions (null: unchanged): it is assumed to still own them.
    const r = await hb(h, { memberId: 'a', memberEpoch: 1, owned: null });
    expect(r.memberEpoch).toBe(1);
    await b.beat();
    expect(b.partitions()).toEqual([]);
    const described = describeGroup(h).members.find((m) => m.memberId === 'b')!;
    expect(described.memberEpoch).toBe(2);
    expect(described.assignment.topicPartitions).toEqual([]);
  });

  it('leave (epoch -1) removes the member and bumps the group epoch; the others take its partitions', async () => {
    const h = Harness.started();
    h.topics.set('t', 4);
    const a = new Member(h, 'a');
    const b = new Member(h, 'b');
    await a.join();
    await b.join();
    for (let i = 0; i < 3; i++) {
      await a.beat();
      await b.beat();
    }
    const left = await hb(h, { memberId: 'b', memberEpoch: -1 });
    expect(left).toMatchObject({ errorCode: 0, memberId: 'b', memberEpoch: -1 });
    expect(describeGroup(h).groupEpoch).toBe(3);
    await a.beat();
    expect(a.partitions()).toEqual([0, 1, 2, 3]);
    expect(a.epoch).toBe(3);
    // The last member leaving leaves an Empty group.
    await hb(h, { memberId: 'a', memberEpoch: -1 });
    expect(describeGroup(h).groupState).toBe('Empty');
    expect((await hb(h, { memberId: 'zz', memberEpoch: -1 })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('fencing: a greater epoch, an older epoch with foreign partitions, an unknown member', async () => {
    const h = Harness.started();
    h.topics.set('t', 4);
    const a = new Member(h, 'a');
    const b = new Member(h, 'b');
    await a.join();
    await b.join();
    await a.beat();
    await a.beat(); // a is at epoch 2 now, previous epoch 1
    expect(a.epoch).toBe(2);
    expect((await hb(h, { memberId: 'a', memberEpoch: 3 })).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    // The previous epoch is accepted when the member owns a subset of its assignment (lost response).
    expect((await hb(h, { memberId: 'a', memberEpoch: 1, owned: a.owned })).errorCode).toBe(ErrorCode.NONE);
    expect(
      (await hb(h, { memberId: 'a', memberEpoch: 1, owned: [{ topicId: T, partitions: [0, 1, 2, 3] }] }))
        .errorCode,
    ).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    expect((await hb(h, { memberId: 'nobody', memberEpoch: 1 })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await hb(h, { groupId: 'other', memberId: 'x', memberEpoch: 3 })).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    // A fenced member rejoins at epoch 0 with the same id and gets its share back.
    const re = await hb(h, { memberId: 'a', memberEpoch: 0 });
    expect(re.errorCode).toBe(ErrorCode.NONE);
    expect(re.assignment).not.toBeNull();
  });

  it('invalid requests: INVALID_REQUEST, UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION, GROUP_MAX_SIZE_REACHED', async () => {
    const h = Harness.started({ consumerGroup: { ...DEFAULT_CONSUMER_GROUP_CONFIG, maxSize: 1 } });
    expect((await hb(h, { groupId: '', memberId: 'a' })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await hb(h, { memberId: 'a', rebalanceTimeoutMs: -1 })).errorCode).toBe(
      ErrorCode.INVALID_REQUEST,
    );
    expect((await hb(h, { memberId: 'a', owned: null })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await hb(h, { memberId: 'a', topics: null })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await hb(h, { memberId: 'a', memberEpoch: -3 })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await hb(h, { memberId: 'a', memberEpoch: -2 })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await hb(h, { memberId: 'a', instanceId: '' })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const bad = await hb(h, { memberId: 'a', assignor: 'sticky' });
    expect(bad.errorCode).toBe(ErrorCode.UNSUPPORTED_ASSIGNOR);
    expect(bad.errorMessage).toContain('uniform, range');
    expect((await hb(h, { memberId: 'a', topics: null, regex: 't[' })).errorCode).toBe(
      ErrorCode.INVALID_REGULAR_EXPRESSION,
    );
    expect((await hb(h, { memberId: 'a', topics: null, regex: '(?=t).*' })).errorCode).toBe(
      ErrorCode.INVALID_REGULAR_EXPRESSION,
    );
    expect((await hb(h, { memberId: 'a' })).errorCode).toBe(ErrorCode.NONE);
    expect((await hb(h, { memberId: 'b' })).errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
  });
});

describe('timeouts', () => {
  it('a member that stops heartbeating is removed after group.consumer.session.timeout.ms', async () => {
    const h = Harness.started();
    h.topics.set('t', 2);
    const a = new Member(h, 'a');
    const b = new Member(h, 'b');
    await a.join();
    await b.join();
    await h.advance(40000);
    await a.beat();
    await h.advance(10000); // b: 50 s without a heartbeat; a: 10 s
    const d = describeGroup(h);
    expect(d.members.map((m) => m.memberId)).toEqual(['a']);
    await a.beat();
    expect(a.partitions()).toEqual([0, 1]);
  });

  it('a member that does not revoke within its rebalance timeout is fenced', async () => {
    const h = Harness.started();
    h.topics.set('t', 2);
    const a = new Member(h, 'a', { rebalanceTimeoutMs: 10000 });
    await a.join();
    const b = new Member(h, 'b');
    await b.join();
    await hb(h, { memberId: 'a', memberEpoch: 1, owned: null }); // told to revoke, never confirms
    await h.advance(5000);
    await hb(h, { memberId: 'a', memberEpoch: 1, owned: null });
    await b.beat();
    await h.advance(6000);
    expect(describeGroup(h).members.map((m) => m.memberId)).toEqual(['b']);
    await b.beat();
    await b.beat();
    expect(b.partitions()).toEqual([0, 1]);
  });
});

describe('static membership', () => {
  it('a static member leaving with -2 keeps its assignment; its successor takes it over without a rebalance', async () => {
    const h = Harness.started();
    h.topics.set('t', 4);
    const a = new Member(h, 'a1', { instanceId: 'ia' });
    const b = new Member(h, 'b', {});
    await a.join();
    await b.join();
    for (let i = 0; i < 3; i++) {
      await a.beat();
      await b.beat();
    }
    const epochBefore = describeGroup(h).groupEpoch;
    const aParts = a.partitions();
    // Another process with the same instance id cannot join while a1 holds it.
    expect((await hb(h, { memberId: 'a2', instanceId: 'ia' })).errorCode).toBe(
      ErrorCode.UNRELEASED_INSTANCE_ID,
    );
    const left = await hb(h, { memberId: 'a1', instanceId: 'ia', memberEpoch: -2 });
    expect(left).toMatchObject({ errorCode: 0, memberEpoch: -2 });
    expect(describeGroup(h).members.find((m) => m.memberId === 'a1')!.memberEpoch).toBe(-2);
    const a2 = new Member(h, 'a2', { instanceId: 'ia' });
    const r = await a2.join();
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(a2.partitions()).toEqual(aParts);
    const d = describeGroup(h);
    expect(d.groupEpoch).toBe(epochBefore);
    expect(d.members.map((m) => m.memberId).sort()).toEqual(['a2', 'b']);
    // The replaced member id is fenced.
    expect((await hb(h, { memberId: 'a1', instanceId: 'ia', memberEpoch: r.memberEpoch })).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    expect((await hb(h, { memberId: 'b', instanceId: 'ia', memberEpoch: b.epoch })).errorCode).toBe(
      ErrorCode.FENCED_INSTANCE_ID,
    );
  });

  it('a static member that never returns is removed at its session timeout', async () => {
    const h = Harness.started();
    const a = new Member(h, 'a', { instanceId: 'ia' });
    await a.join();
    await hb(h, { memberId: 'a', instanceId: 'ia', memberEpoch: -2 });
    await h.advance(45000);
    expect(describeGroup(h).groupState).toBe('Empty');
  });
});

describe('subscriptions and assignors', () => {
  it('a regex subscription follows topics as they are created', async () => {
    const h = Harness.started();
    h.topics.set('orders-1', 2);
    const a = new Member(h, 'a', { topics: null, regex: 'orders-.*' });
    await a.join();
    expect(a.partitions()).toEqual([0, 1]);
    expect(describeGroup(h).members[0].subscribedTopicRegex).toBe('orders-.*');
    h.topics.set('orders-2', 1);
    h.topics.set('xorders-3', 1);
    await a.beat();
    expect(a.owned.map((tp) => tp.topicId).sort()).toEqual([topicId('orders-1'), topicId('orders-2')].sort());
    expect(describeGroup(h).groupEpoch).toBe(2);
  });

  it('a pattern that would backtrack exponentially does not stall the coordinator (linear-time engine)', async () => {
    const h = Harness.started();
    h.topics.set(`${'a'.repeat(240)}!`, 1);
    h.topics.set('aab', 2);
    // With a backtracking engine the long name would take ~2^240 steps: the test would time out.
    const r = await hb(h, { memberId: 'm', topics: null, regex: '(a+)+b' });
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.assignment?.topicPartitions).toEqual([{ topicId: topicId('aab'), partitions: [0, 1] }]);
  });

  it('partitions added to a subscribed topic bump the group epoch and get assigned', async () => {
    const h = Harness.started();
    h.topics.set('t', 1);
    const a = new Member(h, 'a');
    await a.join();
    h.topics.set('t', 3);
    await a.beat();
    expect(a.partitions()).toEqual([0, 1, 2]);
  });

  it('range: consecutive ranges per topic; uniform: balanced and sticky', () => {
    const topics = new Map([
      ['T1', { id: 'T1', name: 'a', numPartitions: 5 }],
      ['T2', { id: 'T2', name: 'b', numPartitions: 2 }],
    ]);
    const members = ['m1', 'm2'].map((memberId) => ({
      memberId,
      subscribedTopicIds: new Set(['T1', 'T2']),
      previous: new Map(),
    }));
    const range = RANGE_ASSIGNOR.assign(members, topics);
    expect([...range.get('m1')!.get('T1')!]).toEqual([0, 1, 2]);
    expect([...range.get('m2')!.get('T1')!]).toEqual([3, 4]);
    expect([...range.get('m1')!.get('T2')!]).toEqual([0]);

    const first = UNIFORM_ASSIGNOR.assign(members, topics);
    const counts = [...first.values()].map((a) => [...a.values()].reduce((n, s) => n + s.size, 0));
    expect(counts.sort()).toEqual([3, 4]);
    // A third member takes only what balance requires; the rest stays where it was.
    const withThird = [
      ...members.map((m) => ({ ...m, previous: first.get(m.memberId)! })),
      { memberId: 'm3', subscribedTopicIds: new Set(['T1', 'T2']), previous: new Map() },
    ];
    const second = UNIFORM_ASSIGNOR.assign(withThird, topics);
    let moved = 0;
    for (const m of members) {
      for (const [t, ps] of first.get(m.memberId)!)
        for (const p of ps) if (!second.get(m.memberId)!.get(t)?.has(p)) moved++;
    }
    const third = [...second.get('m3')!.values()].reduce((n, s) => n + s.size, 0);
    expect(moved).toBe(third);
    expect(third).toBe(2);
  });

  it('the assignor most members ask for is used (serverAssignor)', async () => {
    const h = Harness.started();
    h.topics.set('t', 4);
    await hb(h, { memberId: 'a', assignor: 'range' });
    expect(describeGroup(h).assignorName).toBe('range');
  });
});

describe('rebalances with many members', () => {
  it('30 members join one by one on 90 partitions: never a partition owned twice, 3 each at the end', async () => {
    const h = Harness.started();
    h.topics.set('t', 90);
    const members: Member[] = [];
    for (let i = 0; i < 30; i++) {
      const m = new Member(h, `m${String(i).padStart(2, '0')}`);
      members.push(m);
      await m.join();
      for (const x of members) {
        await x.beat();
        assertNoDoubleOwnership(members);
      }
    }
    for (let round = 0; round < 5; round++) {
      for (const x of members) {
        await x.beat();
        assertNoDoubleOwnership(members);
      }
    }
    expect(describeGroup(h).groupState).toBe('Stable');
    for (const m of members) expect(m.partitions().length).toBe(3);
    // Ten leave; the rest converge to 4 or 5 each, still never sharing.
    for (const m of members.splice(0, 10)) await hb(h, { memberId: m.memberId, memberEpoch: -1 });
    for (let round = 0; round < 4; round++) {
      for (const x of members) {
        await x.beat();
        assertNoDoubleOwnership(members);
      }
    }
    expect(describeGroup(h).groupState).toBe('Stable');
    const total = members.reduce((n, m) => n + m.partitions().length, 0);
    expect(total).toBe(90);
    for (const m of members) expect([4, 5]).toContain(m.partitions().length);
  });
});

describe('restart, offsets and the other group APIs', () => {
  it('a reloaded coordinator has the same epochs and assignments, and members carry on', async () => {
    const h = Harness.started();
    h.topics.set('t', 4);
    const a = new Member(h, 'a', { instanceId: 'ia' });
    const b = new Member(h, 'b');
    await a.join();
    await b.join();
    await a.beat();
    const before = describeGroup(h);
    const h2 = h.reload();
    h2.topics.set('t', 4);
    expect(describeGroup(h2)).toEqual(before);
    // The members continue against the new coordinator with their epochs.
    const a2 = Object.assign(new Member(h2, 'a', { instanceId: 'ia' }), { epoch: a.epoch, owned: a.owned });
    const b2 = Object.assign(new Member(h2, 'b'), { epoch: b.epoch, owned: b.owned });
    for (let i = 0; i < 3; i++) {
      expect((await a2.beat()).errorCode).toBe(ErrorCode.NONE);
      expect((await b2.beat()).errorCode).toBe(ErrorCode.NONE);
    }
    assertNoDoubleOwnership([a2, b2]);
    expect(describeGroup(h2).groupState).toBe('Stable');
    // Session timers were rescheduled at load.
    await h2.advance(46000);
    expect(describeGroup(h2).groupState).toBe('Empty');
  });

  it('OffsetCommit takes the member epoch as generation id; ListGroups says consumer; classic APIs are refused', async () => {
    const h = Harness.started();
    h.topics.set('t', 2);
    const a = new Member(h, 'a');
    await a.join();
    const commit = (memberId: string, epoch: number, version = 9) =>
      h.coordinator.commitOffsets(
        {
          ...OffsetCommitRequest.default(),
          groupId: 'g',
          memberId,
          generationIdOrMemberEpoch: epoch,
          topics: [
            {
              name: 't',
              partitions: [
                {
                  ...OffsetCommitRequest.default().topics[0]?.partitions[0],
                  partitionIndex: 0,
                  committedOffset: 42n,
                  committedLeaderEpoch: -1,
                  commitTimestamp: -1n,
                  committedMetadata: null,
                },
              ],
            },
          ],
        },
        version,
      );
    expect((await commit('a', a.epoch)).topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    expect(await h.committed('t', 0)).toBe(42n);
    expect((await commit('a', a.epoch + 1)).topics[0].partitions[0].errorCode).toBe(
      ErrorCode.STALE_MEMBER_EPOCH,
    );
    expect((await commit('zz', a.epoch)).topics[0].partitions[0].errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    // Before v9 OffsetCommit cannot carry a member epoch (Kafka: UNSUPPORTED_VERSION).
    expect((await commit('a', a.epoch, 8)).topics[0].partitions[0].errorCode).toBe(
      ErrorCode.UNSUPPORTED_VERSION,
    );
    // OffsetFetch v9 with the member's id and epoch: checked as Kafka does.
    const fetch = (memberId: string | null, memberEpoch: number) =>
      h.coordinator.fetchOffsets(
        {
          ...OffsetFetchRequest.default(),
          groups: [{ groupId: 'g', memberId, memberEpoch, topics: [{ name: 't', partitionIndexes: [0] }] }],
        },
        9,
      );
    expect((await fetch('a', a.epoch)).groups[0]).toMatchObject({ errorCode: 0 });
    expect((await fetch('a', a.epoch)).groups[0].topics[0].partitions[0].committedOffset).toBe(42n);
    expect((await fetch(null, -1)).groups[0].errorCode).toBe(0);
    expect((await fetch('a', a.epoch - 1)).groups[0].errorCode).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect((await fetch('zz', 1)).groups[0].errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);

    const list = h.coordinator.listGroups({ ...ListGroupsRequest.default(), typesFilter: ['consumer'] }, 5);
    expect(list.groups).toEqual([
      { groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' },
    ]);
    expect(
      h.coordinator.listGroups({ ...ListGroupsRequest.default(), typesFilter: ['classic'] }, 5).groups,
    ).toEqual([]);
    expect(h.describe('g').groupState).toBe('Dead');
    expect((await h.join({ groupId: 'g' })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    // A classic group id is not a consumer group.
    expect(describeGroup(h, 'nope')).toMatchObject({
      errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
      errorMessage: 'Group nope not found.',
    });
    // Offsets survive the restart and the group stays a consumer group.
    const h2 = h.reload();
    expect(await h2.committed('t', 0)).toBe(42n);
    expect(describeGroup(h2).members.length).toBe(1);
  });

  it('an empty classic group with offsets becomes a consumer group and keeps them; an empty consumer group can go back', async () => {
    const h = Harness.started();
    h.topics.set('t', 2);
    await h.coordinator.commitOffsets(
      {
        ...OffsetCommitRequest.default(),
        groupId: 'g',
        generationIdOrMemberEpoch: -1,
        topics: [
          {
            name: 't',
            partitions: [
              {
                partitionIndex: 1,
                committedOffset: 7n,
                committedLeaderEpoch: -1,
                commitTimestamp: -1n,
                committedMetadata: null,
              },
            ],
          },
        ],
      },
      8,
    );
    const a = new Member(h, 'a');
    expect((await a.join()).errorCode).toBe(ErrorCode.NONE);
    expect(await h.committed('t', 1)).toBe(7n);
    await hb(h, { memberId: 'a', memberEpoch: -1 });
    // Empty again: a classic JoinGroup converts it back.
    const joined = await h.joinWithId({ groupId: 'g' });
    expect(joined.memberId).not.toBe('');
    expect(describeGroup(h)).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND });
    expect(await h.committed('t', 1)).toBe(7n);
  });
});
