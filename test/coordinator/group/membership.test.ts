// JoinGroup / SyncGroup / Heartbeat / LeaveGroup: the classic rebalance protocol.

import { describe, expect, it, vi } from 'vitest';
import { parseRecordKey } from '../../../src/coordinator/group/records.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { GroupMetadataValue } from '../../../src/protocol/generated/group-coordinator/GroupMetadataValue.js';
import { Harness, subscription, track } from './helpers.js';

vi.setConfig({ testTimeout: 10000 });

describe('join and sync', () => {
  it('forms a 3-member group: the leader gets every member, each member its own assignment', async () => {
    const h = Harness.started();
    const a = await h.joinWithId({
      clientId: 'a',
      protocols: [{ name: 'range', metadata: subscription(['t']) }],
    });
    const b = await h.joinWithId({
      clientId: 'b',
      protocols: [{ name: 'range', metadata: subscription(['u']) }],
    });
    const c = await h.joinWithId({ clientId: 'c' });
    expect(a.memberId).toMatch(/^a-[0-9a-f-]{36}$/);

    const responses = [track(a.response), track(b.response), track(c.response)];
    await h.advance(2999);
    expect(responses.some((r) => r.done)).toBe(false); // the initial rebalance delay is running
    expect(h.state()).toBe('PreparingRebalance');
    await h.advance(1);
    // b and c joined during the delay, which is therefore extended once more.
    expect(responses.some((r) => r.done)).toBe(false);
    await h.advance(3000);
    const [ra, rb, rc] = responses.map((r) => r.value);
    for (const r of [ra, rb, rc]) {
      expect(r.errorCode).toBe(ErrorCode.NONE);
      expect(r.generationId).toBe(1);
      expect(r.protocolName).toBe('range');
      expect(r.leader).toBe(a.memberId); // the first to join
    }
    expect(ra.members.map((m) => m.memberId)).toEqual([a.memberId, b.memberId, c.memberId]);
    expect(ra.members[1].metadata).toEqual(subscription(['u']));
    expect(rb.members).toEqual([]);
    expect(rc.members).toEqual([]);
    expect(h.state()).toBe('CompletingRebalance');

    // Followers sync first and wait for the leader's assignment.
    const syncB = track(h.sync(b.memberId, 1));
    const syncC = track(h.sync(c.memberId, 1));
    await h.advance(0);
    expect(syncB.done).toBe(false);
    const syncA = await h.sync(a.memberId, 1, {
      assignments: [
        { memberId: a.memberId, assignment: Buffer.from('for-a') },
        { memberId: b.memberId, assignment: Buffer.from('for-b') },
        { memberId: c.memberId, assignment: Buffer.from('for-c') },
      ],
    });
    await h.advance(0);
    expect(syncA.assignment.toString()).toBe('for-a');
    expect(syncB.value.assignment.toString()).toBe('for-b');
    expect(syncC.value.assignment.toString()).toBe('for-c');
    expect(syncC.value.protocolType).toBe('consumer');
    expect(syncC.value.protocolName).toBe('range');
    expect(h.state()).toBe('Stable');

    // The assignment was written as the group's GroupMetadata record before anyone was answered.
    const groupRecords = h.store.records.filter((r) => parseRecordKey(r.key).type === 'group');
    expect(groupRecords).toHaveLength(1);
    const value = GroupMetadataValue.decode(groupRecords[0].value!.subarray(2), 3);
    expect(groupRecords[0].value!.readInt16BE(0)).toBe(3);
    expect(value.generation).toBe(1);
    expect(value.leader).toBe(a.memberId);
    expect(value.members.map((m) => m.assignment.toString())).toEqual(['for-a', 'for-b', 'for-c']);
    expect(groupRecords[0].partition).toBe(h.coordinator.partitionFor('g'));

    // A follower that syncs again in Stable gets its assignment straight away.
    expect((await h.sync(c.memberId, 1)).assignment.toString()).toBe('for-c');
  });

  it('gives members left out of the assignment an empty one', async () => {
    const h = Harness.started();
    const a = await h.joinWithId();
    const b = await h.joinWithId();
    await h.advance(6000);
    const ra = await a.response;
    const syncB = h.sync(b.memberId, ra.generationId);
    await h.sync(a.memberId, ra.generationId, {
      assignments: [{ memberId: a.memberId, assignment: Buffer.from('x') }],
    });
    expect((await syncB).errorCode).toBe(ErrorCode.NONE);
    expect((await syncB).assignment.length).toBe(0);
  });

  it('selects the protocol every member supports, by the members’ preference votes', async () => {
    const h = Harness.started();
    const meta = Buffer.from('m');
    const a = await h.joinWithId({
      protocols: [
        { name: 'sticky', metadata: meta },
        { name: 'range', metadata: meta },
      ],
    });
    const b = await h.joinWithId({
      protocols: [
        { name: 'range', metadata: meta },
        { name: 'sticky', metadata: meta },
      ],
    });
    const c = await h.joinWithId({
      protocols: [
        { name: 'range', metadata: meta },
        { name: 'roundrobin', metadata: meta },
      ],
    });
    await h.advance(6000);
    // sticky is not supported by c, so the candidates are {range}: everyone votes range.
    expect((await a.response).protocolName).toBe('range');
    expect((await b.response).protocolName).toBe('range');
    expect((await c.response).protocolName).toBe('range');
  });

  it('rejects members whose protocols do not fit the group: INCONSISTENT_GROUP_PROTOCOL', async () => {
    const h = Harness.started();
    const empty = await h.join({ protocols: [] });
    expect(empty.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const emptyType = await h.join({ protocolType: '' });
    expect(emptyType.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    await h.formGroup(1);
    expect((await h.join({ protocolType: 'connect' })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const other = await h.join({ protocols: [{ name: 'roundrobin', metadata: Buffer.alloc(0) }] });
    expect(other.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('validates group id, session timeout and group size', async () => {
    const h = Harness.started({ groupMaxSize: 2 });
    expect((await h.join({ groupId: '' })).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await h.join({ sessionTimeoutMs: 5999 })).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await h.join({ sessionTimeoutMs: 1800001 })).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    await h.formGroup(2);
    const third = await h.join({ memberId: '' });
    expect(third.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
    expect(third.memberId).toBe('');
  });

  it('answers a known member id of a group that does not exist with UNKNOWN_MEMBER_ID', async () => {
    const h = Harness.started();
    const r = await h.join({ memberId: 'ghost-1' });
    expect(r.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(r.memberId).toBe('ghost-1');
    // JoinGroup v0-6 cannot carry a null protocol name: Kafka sends "".
    expect(r.protocolName).toBe('');
  });
});

describe('member id required (KIP-394)', () => {
  it('v4+: an unknown member gets MEMBER_ID_REQUIRED and a member id, then joins with it', async () => {
    const h = Harness.started();
    const first = await h.join({ version: 4, memberId: '', clientId: 'cli' });
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId.startsWith('cli-')).toBe(true);
    expect(first.generationId).toBe(-1);
    expect(h.describe().members).toEqual([]); // pending, not a member yet
    const second = track(h.join({ version: 4, memberId: first.memberId }));
    await h.advance(3000);
    expect(second.value.errorCode).toBe(ErrorCode.NONE);
    expect(second.value.memberId).toBe(first.memberId);
    expect(second.value.leader).toBe(first.memberId);
  });

  it('v0-3: an unknown member is added straight away', async () => {
    const h = Harness.started();
    const r = track(h.join({ version: 3, memberId: '' }));
    await h.advance(3000);
    expect(r.value.errorCode).toBe(ErrorCode.NONE);
    expect(r.value.memberId).not.toBe('');
    expect(r.value.generationId).toBe(1);
    expect(r.value.protocolType).toBeNull(); // not in v3
  });

  it('a pending member id expires after the session timeout', async () => {
    const h = Harness.started();
    const first = await h.join({ memberId: '', sessionTimeoutMs: 6000 });
    await h.advance(6000);
    const late = await h.join({ memberId: first.memberId, sessionTimeoutMs: 6000 });
    expect(late.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('a pending member holds back the end of the join phase until it joins', async () => {
    const h = Harness.started();
    const group = await h.formGroup(1);
    const [a] = group.members;
    const pending = await h.join({ memberId: '' }); // MEMBER_ID_REQUIRED while Stable: no rebalance yet
    expect(h.state()).toBe('Stable');
    const rejoinA = track(h.join({ memberId: a.memberId })); // the leader rejoins: rebalance
    await h.advance(0);
    expect(h.state()).toBe('PreparingRebalance');
    expect(rejoinA.done).toBe(false); // every member rejoined, but the pending one has not
    const b = track(h.join({ memberId: pending.memberId }));
    await h.advance(0);
    expect(rejoinA.value.generationId).toBe(2);
    expect(b.value.generationId).toBe(2);
    expect(rejoinA.value.members).toHaveLength(2);
  });
});

describe('initial rebalance delay', () => {
  it('waits group.initial.rebalance.delay.ms, extended while new members keep joining', async () => {
    const h = Harness.started({ groupInitialRebalanceDelayMs: 3000 });
    const a = await h.joinWithId({ rebalanceTimeoutMs: 10000 });
    const ra = track(a.response);
    await h.advance(2000);
    const b = await h.joinWithId({ rebalanceTimeoutMs: 10000 });
    await h.advance(1000); // first delay over; b joined during it: extended by another 3000
    expect(ra.done).toBe(false);
    await h.advance(2999);
    expect(ra.done).toBe(false);
    await h.advance(1);
    expect(ra.value.members).toHaveLength(2);
    expect((await b.response).generationId).toBe(1);
  });

  it('never extends past the rebalance timeout', async () => {
    const h = Harness.started({ groupInitialRebalanceDelayMs: 3000 });
    const a = await h.joinWithId({ rebalanceTimeoutMs: 5000 });
    const ra = track(a.response);
    // Keep adding members every second: the delay stops after rebalance timeout (3000 + 2000).
    for (let i = 0; i < 10 && !ra.done; i++) {
      await h.joinWithId({ rebalanceTimeoutMs: 5000 });
      await h.advance(1000);
    }
    expect(ra.done).toBe(true);
    expect(h.time.now() - 1_700_000_000_000).toBeLessThanOrEqual(6000);
  });

  it('a group that became Empty delays its next first rebalance too', async () => {
    const h = Harness.started();
    const { members, generationId } = await h.formGroup(1);
    await h.leave([members[0]]);
    expect(h.state()).toBe('Empty');
    const b = await h.joinWithId();
    const rb = track(b.response);
    await h.advance(2999);
    expect(rb.done).toBe(false);
    await h.advance(1);
    expect(rb.value.generationId).toBe(generationId + 2); // one generation for Empty, one for b
  });
});

describe('rebalances', () => {
  it('a new member triggers a rebalance; members learn it from heartbeats and rejoin', async () => {
    const h = Harness.started();
    const { members, generationId } = await h.formGroup(2);
    const [a, b] = members;
    const c = await h.joinWithId();
    const rc = track(c.response);
    expect(h.state()).toBe('PreparingRebalance');
    expect(await h.heartbeat(a.memberId, generationId)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const ra = track(h.join({ memberId: a.memberId }));
    await h.advance(0);
    expect(rc.done).toBe(false); // b has not rejoined
    const rb = track(h.join({ memberId: b.memberId }));
    await h.advance(0);
    for (const r of [ra, rb, rc]) expect(r.value.generationId).toBe(generationId + 1);
    expect(ra.value.members).toHaveLength(3);
  });

  it('LeaveGroup triggers a rebalance; the last member leaving empties the group', async () => {
    const h = Harness.started();
    const { members, generationId } = await h.formGroup(2);
    const [a, b] = members;
    const resp = await h.leave([b]);
    expect(resp.errorCode).toBe(ErrorCode.NONE);
    expect(resp.members).toEqual([
      { memberId: b.memberId, groupInstanceId: null, errorCode: ErrorCode.NONE },
    ]);
    expect(h.state()).toBe('PreparingRebalance');
    const ra = await h.join({ memberId: a.memberId });
    expect(ra.generationId).toBe(generationId + 1);
    expect(ra.members.map((m) => m.memberId)).toEqual([a.memberId]);
    await h.sync(a.memberId, ra.generationId, { assignments: [] });
    await h.leave([a], 'g', 1);
    expect(h.state()).toBe('Empty');
    expect(h.describe().members).toEqual([]);
  });

  it('LeaveGroup v0-2 reports a member error as the top-level error', async () => {
    const h = Harness.started();
    await h.formGroup(1);
    const resp = await h.leave([{ memberId: 'nobody' }], 'g', 2);
    expect(resp.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(resp.members).toEqual([]);
    expect((await h.leave([{ memberId: 'x' }], 'no-such-group', 0)).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  it('session expiry removes the member and rebalances the others', async () => {
    const h = Harness.started();
    const { members, generationId } = await h.formGroup(2, { sessionTimeoutMs: 10000 });
    const [a, b] = members;
    for (let t = 0; t < 2; t++) {
      await h.advance(4000);
      expect(await h.heartbeat(a.memberId, generationId)).toBe(ErrorCode.NONE); // only a heartbeats
    }
    expect(h.describe().members).toHaveLength(2);
    await h.advance(2000); // b's session (10 s) runs out
    expect(h.describe().members.map((m) => m.memberId)).toEqual([a.memberId]);
    expect(await h.heartbeat(a.memberId, generationId)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(await h.heartbeat(b.memberId, generationId)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const ra = await h.join({ memberId: a.memberId });
    expect(ra.generationId).toBe(generationId + 1);
  });

  it('the rebalance timeout removes members that did not rejoin', async () => {
    const h = Harness.started();
    const { members, generationId } = await h.formGroup(3, {
      rebalanceTimeoutMs: 20000,
      sessionTimeoutMs: 30000,
    });
    const [a, b, c] = members;
    const ra = track(h.join({ memberId: a.memberId, rebalanceTimeoutMs: 20000, sessionTimeoutMs: 30000 }));
    await h.advance(0);
    const rb = track(h.join({ memberId: b.memberId, rebalanceTimeoutMs: 20000, sessionTimeoutMs: 30000 }));
    await h.advance(19999);
    expect(ra.done).toBe(false);
    await h.advance(1);
    expect(ra.value.generationId).toBe(generationId + 1);
    expect(ra.value.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort());
    expect(rb.value.errorCode).toBe(ErrorCode.NONE);
    expect(await h.heartbeat(c.memberId, generationId)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('a new member whose JoinGroup is never completed is dropped after 5 minutes with UNKNOWN_MEMBER_ID', async () => {
    const h = Harness.started();
    const { members } = await h.formGroup(1, { rebalanceTimeoutMs: 600000 });
    const b = await h.joinWithId({ rebalanceTimeoutMs: 600000 });
    const rb = track(b.response);
    // a never rejoins; a keeps heartbeating (REBALANCE_IN_PROGRESS), so only the new member times out.
    for (let i = 0; i < 59; i++) {
      await h.advance(5000);
      expect(await h.heartbeat(members[0].memberId, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    expect(rb.done).toBe(false);
    await h.advance(5000);
    expect(rb.value.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('members that do not SyncGroup within the rebalance timeout are removed', async () => {
    const h = Harness.started();
    const opts = { rebalanceTimeoutMs: 20000, sessionTimeoutMs: 30000 };
    const a = await h.joinWithId(opts);
    const b = await h.joinWithId(opts);
    await h.advance(6000);
    const ra = await a.response;
    await b.response;
    await h.sync(a.memberId, ra.generationId, { assignments: [] });
    expect(h.state()).toBe('Stable');
    await h.advance(15000);
    expect(await h.heartbeat(a.memberId, ra.generationId)).toBe(ErrorCode.NONE);
    expect(await h.heartbeat(b.memberId, ra.generationId)).toBe(ErrorCode.NONE); // alive, but never syncs
    expect(h.describe().members).toHaveLength(2);
    await h.advance(5000); // the rebalance timeout after the join phase ended
    expect(h.describe().members.map((m) => m.memberId)).toEqual([a.memberId]);
    expect(h.state()).toBe('PreparingRebalance');
  });

  it('a leader re-joining a Stable group forces a rebalance; an unchanged follower gets the current generation', async () => {
    const h = Harness.started();
    const { members, generationId, leaderId } = await h.formGroup(2);
    const follower = members.find((m) => m.memberId !== leaderId)!;
    const same = await h.join({ memberId: follower.memberId });
    expect(same.generationId).toBe(generationId);
    expect(same.leader).toBe(leaderId);
    expect(h.state()).toBe('Stable');
    void h.join({ memberId: leaderId });
    await h.advance(0);
    expect(h.state()).toBe('PreparingRebalance');
  });

  it('repeats the JoinGroup answer to a member rejoining with the same metadata while CompletingRebalance', async () => {
    const h = Harness.started();
    const a = await h.joinWithId();
    const b = await h.joinWithId();
    await h.advance(6000);
    const first = await a.response;
    await b.response;
    const again = await h.join({ memberId: a.memberId });
    expect(again.generationId).toBe(first.generationId);
    expect(again.members).toHaveLength(2);
    expect(h.state()).toBe('CompletingRebalance');
  });
});

describe('sync group errors', () => {
  it('ILLEGAL_GENERATION for a stale generation; REBALANCE_IN_PROGRESS while preparing', async () => {
    const h = Harness.started();
    const { members, generationId } = await h.formGroup(2);
    const [a, b] = members;
    expect((await h.sync(a.memberId, generationId - 1)).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    void h.join({ memberId: a.memberId });
    await h.advance(0);
    expect((await h.sync(b.memberId, generationId)).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect((await h.sync('who', generationId)).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await h.sync('who', generationId, { groupId: 'nope' })).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    expect((await h.sync('who', generationId, { groupId: '' })).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
  });

  it('a rebalance during CompletingRebalance answers waiting syncs with REBALANCE_IN_PROGRESS', async () => {
    const h = Harness.started();
    const a = await h.joinWithId();
    const b = await h.joinWithId();
    await h.advance(6000);
    const ra = await a.response;
    const syncB = track(h.sync(b.memberId, ra.generationId));
    await h.advance(0);
    void h.join({ memberId: b.memberId, protocols: [{ name: 'range', metadata: subscription(['t', 'u']) }] });
    await h.advance(0);
    expect(syncB.value.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(h.state()).toBe('PreparingRebalance');
  });

  it('SyncGroup v5 checks the protocol type and name', async () => {
    const h = Harness.started();
    const { members, generationId } = await h.formGroup(1);
    const id = members[0].memberId;
    expect((await h.sync(id, generationId, { protocolType: 'connect' })).errorCode).toBe(
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    expect((await h.sync(id, generationId, { protocolName: 'roundrobin' })).errorCode).toBe(
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    const ok = await h.sync(id, generationId, { protocolType: null, protocolName: null });
    expect(ok.errorCode).toBe(ErrorCode.NONE);
    const v4 = await h.sync(id, generationId, { version: 4 });
    expect(v4.protocolType).toBeNull(); // not in v4
    expect(v4.assignment.toString()).toBe('assignment-0');
  });

  it('a failed assignment write answers every waiting member and rebalances', async () => {
    const h = Harness.started();
    const a = await h.joinWithId();
    const b = await h.joinWithId();
    await h.advance(6000);
    const ra = await a.response;
    const syncB = track(h.sync(b.memberId, ra.generationId));
    h.store.failNext(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const syncA = await h.sync(a.memberId, ra.generationId, { assignments: [] });
    await h.advance(0);
    expect(syncA.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(syncB.value.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(h.state()).toBe('PreparingRebalance');
  });
});

describe('heartbeat errors by state', () => {
  it('answers as Kafka does in each state', async () => {
    const h = new Harness();
    expect(await h.heartbeat('m', 1)).toBe(ErrorCode.NONE); // loading: answered blindly
    h.coordinator.startup();
    expect(await h.heartbeat('m', 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID); // no group
    expect(await h.heartbeat('m', 1, '')).toBe(ErrorCode.INVALID_GROUP_ID);

    const a = await h.joinWithId();
    const b = await h.joinWithId();
    await h.advance(6000);
    const ra = await a.response;
    await b.response;
    // CompletingRebalance: heartbeats between JoinGroup and SyncGroup are normal.
    expect(await h.heartbeat(a.memberId, ra.generationId)).toBe(ErrorCode.NONE);
    expect(await h.heartbeat(a.memberId, ra.generationId + 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(await h.heartbeat('stranger', ra.generationId)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    await h.sync(a.memberId, ra.generationId, { assignments: [] });
    expect(await h.heartbeat(b.memberId, ra.generationId)).toBe(ErrorCode.NONE); // Stable
    void h.join({ memberId: a.memberId });
    await h.advance(0);
    expect(await h.heartbeat(b.memberId, ra.generationId)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);

    h.coordinator.shutdown();
    expect(await h.heartbeat(b.memberId, ra.generationId)).toBe(ErrorCode.NOT_COORDINATOR);
  });
});

describe('shutdown', () => {
  it('answers pending JoinGroup and SyncGroup calls with NOT_COORDINATOR and cancels every timer', async () => {
    const h = Harness.started();
    const a = await h.joinWithId();
    const ra = track(a.response);
    await h.advance(0);
    h.coordinator.shutdown();
    await h.advance(0);
    expect(ra.value.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(h.time.pendingTasks).toBe(0);
    expect((await h.join()).errorCode).toBe(ErrorCode.NOT_COORDINATOR);

    const h2 = Harness.started();
    const x = await h2.joinWithId();
    const y = await h2.joinWithId();
    await h2.advance(6000);
    const rx = await x.response;
    await y.response;
    const syncY = track(h2.sync(y.memberId, rx.generationId));
    await h2.advance(0);
    h2.coordinator.shutdown();
    await h2.advance(0);
    expect(syncY.value.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
  });

  it('answers COORDINATOR_LOAD_IN_PROGRESS before startup', async () => {
    const h = new Harness();
    expect((await h.join()).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect((await h.sync('m', 1)).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });
});
