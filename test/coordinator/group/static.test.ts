// Static membership (KIP-345): group.instance.id, restarts without rebalance, fencing, LeaveGroup
// by instance id.

import { describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { Harness, subscription, track } from './helpers.js';

vi.setConfig({ testTimeout: 10000 });

describe('static members', () => {
  it('join without MEMBER_ID_REQUIRED and get a member id prefixed by their instance id', async () => {
    const h = Harness.started();
    const r = track(h.join({ instanceId: 'i-1' }));
    await h.advance(3000);
    expect(r.value.errorCode).toBe(ErrorCode.NONE);
    expect(r.value.memberId.startsWith('i-1-')).toBe(true);
    expect(h.describe().members[0].groupInstanceId).toBe('i-1');
  });

  it('a restart within the session timeout gets a new member id, the same generation and assignment, and no rebalance', async () => {
    const h = Harness.started();
    const { members, generationId, leaderId } = await h.formGroup(2, { instanceId: 'inst' });
    const follower = members.find((m) => m.memberId !== leaderId)!;
    const appendsBefore = h.store.appends;

    const rejoined = await h.join({ instanceId: follower.instanceId, memberId: '' });
    expect(rejoined.errorCode).toBe(ErrorCode.NONE);
    expect(rejoined.memberId).not.toBe(follower.memberId);
    expect(rejoined.generationId).toBe(generationId);
    expect(rejoined.leader).toBe(leaderId);
    expect(rejoined.members).toEqual([]);
    expect(h.state()).toBe('Stable');
    expect(h.store.appends).toBe(appendsBefore + 1); // the new member id was persisted first

    const sync = await h.sync(rejoined.memberId, generationId, { instanceId: follower.instanceId });
    expect(sync.errorCode).toBe(ErrorCode.NONE);
    const index = members.indexOf(follower);
    expect(sync.assignment.toString()).toBe(`assignment-${index}`);
    // The other member saw nothing.
    expect(await h.heartbeat(leaderId, generationId)).toBe(ErrorCode.NONE);
    // The old incarnation is fenced.
    expect(await h.heartbeat(follower.memberId, generationId, 'g', follower.instanceId)).toBe(
      ErrorCode.FENCED_INSTANCE_ID,
    );
  });

  it('a restarted leader before v9 is told the old leader id, so it does not run an assignment', async () => {
    const h = Harness.started();
    const { members, generationId, leaderId } = await h.formGroup(2, { instanceId: 'inst' });
    const leader = members.find((m) => m.memberId === leaderId)!;
    const r = await h.join({ instanceId: leader.instanceId, memberId: '', version: 8 });
    expect(r.leader).toBe(leaderId);
    expect(r.memberId).not.toBe(leaderId);
    expect(r.generationId).toBe(generationId);
    expect(h.describe().members.map((m) => m.memberId)).toContain(r.memberId);
    expect(h.state()).toBe('Stable');
  });

  it('v9: a restarted leader is the leader and is told to skip the assignment', async () => {
    const h = Harness.started();
    const { members, leaderId } = await h.formGroup(2, { instanceId: 'inst' });
    const leader = members.find((m) => m.memberId === leaderId)!;
    const r = await h.join({ instanceId: leader.instanceId, memberId: '', version: 9 });
    expect(r.leader).toBe(r.memberId);
    expect(r.skipAssignment).toBe(true);
    expect(r.members).toHaveLength(2);
    expect(h.state()).toBe('Stable');
  });

  it('a restart that would change the selected protocol rebalances', async () => {
    const h = Harness.started();
    const meta = subscription(['t']);
    const { members, generationId } = await h.formGroup(1, {
      instanceId: 'inst',
      protocols: [
        { name: 'range', metadata: meta },
        { name: 'roundrobin', metadata: meta },
      ],
    });
    // Same protocols, other preference: the vote now selects roundrobin.
    const r = track(
      h.join({
        instanceId: members[0].instanceId,
        memberId: '',
        protocols: [
          { name: 'roundrobin', metadata: meta },
          { name: 'range', metadata: meta },
        ],
      }),
    );
    await h.advance(0);
    expect(h.state()).toBe('CompletingRebalance'); // rebalanced at once: its only member rejoined
    expect(r.value.generationId).toBe(generationId + 1);
    expect(r.value.protocolName).toBe('roundrobin');
  });

  it('a failed write on restart keeps the old member id valid and answers the error', async () => {
    const h = Harness.started();
    const { members, generationId } = await h.formGroup(2, { instanceId: 'inst' });
    const m = members[1];
    h.store.failNext(ErrorCode.NOT_ENOUGH_REPLICAS);
    const r = await h.join({ instanceId: m.instanceId, memberId: '' });
    expect(r.errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(r.memberId).toBe('');
    expect(await h.heartbeat(m.memberId, generationId, 'g', m.instanceId)).toBe(ErrorCode.NONE);
  });

  it('FENCED_INSTANCE_ID for a known instance id with another member id', async () => {
    const h = Harness.started();
    const { members, generationId } = await h.formGroup(1, { instanceId: 'inst' });
    const m = members[0];
    expect((await h.join({ instanceId: m.instanceId, memberId: 'someone-else' })).errorCode).toBe(
      ErrorCode.FENCED_INSTANCE_ID,
    );
    expect((await h.sync('someone-else', generationId, { instanceId: m.instanceId })).errorCode).toBe(
      ErrorCode.FENCED_INSTANCE_ID,
    );
    expect(
      (
        await h.commit([{ topic: 't', partition: 0, offset: 1n }], {
          memberId: 'someone-else',
          instanceId: m.instanceId,
          generationId,
        })
      ).topics[0].partitions[0].errorCode,
    ).toBe(ErrorCode.FENCED_INSTANCE_ID);
    // An unknown instance id with a member id is UNKNOWN_MEMBER_ID.
    expect((await h.join({ instanceId: 'other', memberId: m.memberId })).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  it('a restarted instance fences the old incarnation’s pending JoinGroup', async () => {
    const h = Harness.started();
    const { members, leaderId } = await h.formGroup(3, { instanceId: 'inst' });
    const [follower, third] = members.filter((m) => m.memberId !== leaderId);
    void h.join({ memberId: leaderId, instanceId: members.find((m) => m.memberId === leaderId)!.instanceId });
    await h.advance(0);
    expect(h.state()).toBe('PreparingRebalance');
    const old = track(h.join({ memberId: follower.memberId, instanceId: follower.instanceId }));
    await h.advance(0);
    const fresh = track(h.join({ memberId: '', instanceId: follower.instanceId }));
    await h.advance(0);
    expect(old.value.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(fresh.done).toBe(false);
    // The new incarnation took the old one's place in the join phase, which completes with the third.
    void h.join({ memberId: third.memberId, instanceId: third.instanceId });
    await h.advance(0);
    expect(fresh.value.errorCode).toBe(ErrorCode.NONE);
    expect(fresh.value.memberId).not.toBe(follower.memberId);
  });

  it('static members that do not rejoin are kept through the rebalance timeout', async () => {
    const h = Harness.started();
    const { members, generationId, leaderId } = await h.formGroup(2, {
      instanceId: 'inst',
      rebalanceTimeoutMs: 10000,
      sessionTimeoutMs: 60000,
    });
    const other = members.find((m) => m.memberId !== leaderId)!;
    const r = track(
      h.join({
        memberId: leaderId,
        instanceId: members.find((m) => m.memberId === leaderId)!.instanceId,
        rebalanceTimeoutMs: 10000,
        sessionTimeoutMs: 60000,
      }),
    );
    await h.advance(10000);
    expect(r.value.generationId).toBe(generationId + 1);
    expect(r.value.members.map((m) => m.memberId)).toContain(other.memberId);
  });
});

describe('LeaveGroup by instance id (v3+)', () => {
  it('removes members by instance id and reports per-member errors', async () => {
    const h = Harness.started();
    const { members } = await h.formGroup(3, { instanceId: 'inst' });
    const [a, b] = members;
    const resp = await h.leave([
      { memberId: '', instanceId: a.instanceId }, // administrative removal
      { memberId: 'wrong', instanceId: b.instanceId },
      { memberId: '', instanceId: 'unknown-instance' },
    ]);
    expect(resp.errorCode).toBe(ErrorCode.NONE);
    expect(resp.members.map((m) => [m.groupInstanceId, m.errorCode])).toEqual([
      [a.instanceId, ErrorCode.NONE],
      [b.instanceId, ErrorCode.FENCED_INSTANCE_ID],
      ['unknown-instance', ErrorCode.UNKNOWN_MEMBER_ID],
    ]);
    expect(h.describe().members.map((m) => m.groupInstanceId)).toEqual([b.instanceId, members[2].instanceId]);
    expect(h.state()).toBe('PreparingRebalance');
  });
});
