// __consumer_offsets records: the bytes we write, reading old versions, and a coordinator rebuilt by
// replaying the store.

import { describe, expect, it, vi } from 'vitest';
import {
  groupMetadataKey,
  offsetCommitKey,
  offsetCommitValue,
  parseGroupMetadataValue,
  parseOffsetCommitValue,
  parseRecordKey,
} from '../../../src/coordinator/group/records.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { GroupMetadataValue } from '../../../src/protocol/generated/group-coordinator/GroupMetadataValue.js';
import { OffsetCommitValue } from '../../../src/protocol/generated/group-coordinator/OffsetCommitValue.js';
import { ListGroupsRequest } from '../../../src/protocol/generated/messages/ListGroupsRequest.js';
import { Harness, subscription } from './helpers.js';

vi.setConfig({ testTimeout: 10000 });

function versioned(version: number, body: Buffer): Buffer {
  const v = Buffer.alloc(2);
  v.writeInt16BE(version, 0);
  return Buffer.concat([v, body]);
}

describe('record serde', () => {
  it('writes offset commit key v1 / value v3 and group metadata key v2 / value v3, and reads them back', () => {
    const key = offsetCommitKey('grp', 'topic', 7);
    expect(key.readInt16BE(0)).toBe(1);
    expect(parseRecordKey(key)).toEqual({ type: 'offset', group: 'grp', topic: 'topic', partition: 7 });
    const o = { offset: 5n, leaderEpoch: 3, metadata: 'm', commitTimestampMs: 1000, expireTimestampMs: null };
    const value = offsetCommitValue(o);
    expect(value.readInt16BE(0)).toBe(3);
    expect(parseOffsetCommitValue(value)).toEqual(o);
    // With an expire timestamp Kafka writes v1, which has no leader epoch.
    const v1 = offsetCommitValue({ ...o, expireTimestampMs: 2000 });
    expect(v1.readInt16BE(0)).toBe(1);
    expect(parseOffsetCommitValue(v1)).toEqual({ ...o, leaderEpoch: -1, expireTimestampMs: 2000 });

    const gkey = groupMetadataKey('grp');
    expect(gkey.readInt16BE(0)).toBe(2);
    expect(parseRecordKey(gkey)).toEqual({ type: 'group', group: 'grp' });
    expect(parseRecordKey(versioned(3, Buffer.from('whatever')))).toEqual({ type: 'other', version: 3 });
  });

  it('reads old value versions (offset v0, group metadata v0 without rebalance timeout)', () => {
    const v0 = versioned(
      0,
      OffsetCommitValue.encode(
        { ...OffsetCommitValue.default(), offset: 9n, metadata: 'x', commitTimestamp: 5n },
        0,
      ),
    );
    expect(parseOffsetCommitValue(v0)).toEqual({
      offset: 9n,
      leaderEpoch: -1,
      metadata: 'x',
      commitTimestampMs: 5,
      expireTimestampMs: null,
    });
    const g0 = versioned(
      0,
      GroupMetadataValue.encode(
        {
          protocolType: 'consumer',
          generation: 4,
          protocol: 'range',
          leader: 'm1',
          currentStateTimestamp: -1n,
          members: [
            {
              memberId: 'm1',
              groupInstanceId: null,
              clientId: 'c',
              clientHost: 'h',
              rebalanceTimeout: -1,
              sessionTimeout: 10000,
              subscription: subscription(['t']),
              assignment: Buffer.from('a'),
            },
          ],
        },
        0,
      ),
    );
    expect(parseGroupMetadataValue(g0).members[0].sessionTimeout).toBe(10000);

    const h = new Harness();
    h.coordinator.replay(0, groupMetadataKey('old'), g0);
    h.coordinator.startup();
    const d = h.describe('old');
    expect(d.groupState).toBe('Stable');
    expect(d.members[0].memberAssignment.toString()).toBe('a');
  });
});

describe('partitionFor', () => {
  /** Java's String.hashCode, computed independently with BigInt arithmetic mod 2^32. */
  function javaHash(s: string): number {
    let h = 0n;
    for (const unit of Array.from({ length: s.length }, (_, i) => s.charCodeAt(i))) {
      h = (h * 31n + BigInt(unit)) % 2n ** 32n;
    }
    return Number(BigInt.asIntN(32, h));
  }

  it('is abs(String.hashCode) % offsets.topic.num.partitions', () => {
    const h = new Harness();
    expect(h.coordinator.partitionFor('a')).toBe(97 % 50);
    expect(h.coordinator.partitionFor('hello')).toBe(99162322 % 50);
    // hashCode is Integer.MIN_VALUE: Kafka's Utils.abs gives 0.
    expect(javaHash('polygenelubricants')).toBe(-2147483648);
    expect(h.coordinator.partitionFor('polygenelubricants')).toBe(0);
    for (const id of ['console-consumer-12345', 'my-group', 'ünïcødé-groüp', '𝄞-group', '']) {
      const hash = javaHash(id);
      expect(h.coordinator.partitionFor(id)).toBe(Math.abs(hash) % 50);
    }
  });
});

describe('replay', () => {
  it('rebuilds groups, members, assignments and offsets from the stored records', async () => {
    const h = Harness.started();
    const { members, generationId, leaderId } = await h.formGroup(2, {
      instanceId: 'inst',
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: 45000,
      clientId: 'client-x',
    });
    await h.commit(
      [
        { topic: 't', partition: 0, offset: 100n, metadata: 'md', leaderEpoch: 4 },
        { topic: 't', partition: 1, offset: 101n },
      ],
      { memberId: members[0].memberId, generationId, instanceId: members[0].instanceId },
    );
    await h.commit([{ topic: 't', partition: 1, offset: 102n }], {
      memberId: members[0].memberId,
      generationId,
      instanceId: members[0].instanceId,
    });
    await h.commit([{ topic: 'u', partition: 2, offset: 7n }], { groupId: 'simple' });
    await h.commit([{ topic: 'u', partition: 0, offset: 1n }], { groupId: 'doomed' });
    await h.coordinator.deleteGroups({ groupsNames: ['doomed'] }, 2);

    const before = h.describe();
    const r = h.reload();
    expect(r.describe()).toEqual(before);
    expect(r.describe().members.map((m) => m.groupInstanceId)).toEqual(['inst-0', 'inst-1']);
    expect(r.coordinator.listGroups(ListGroupsRequest.default(), 5).groups.map((g) => g.groupId)).toEqual([
      'g',
      'simple',
    ]);
    const fetched = await r.fetch([{ name: 't', partitionIndexes: [0, 1] }]);
    expect(fetched.topics[0].partitions).toEqual([
      { partitionIndex: 0, committedOffset: 100n, committedLeaderEpoch: 4, metadata: 'md', errorCode: 0 },
      { partitionIndex: 1, committedOffset: 102n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
    ]);
    expect(await r.committed('u', 2, 'simple')).toBe(7n);
    expect(await r.committed('u', 0, 'doomed')).toBe(-1n);

    // Loaded members keep their generation and session; a static restart gets its old assignment.
    expect(await r.heartbeat(leaderId, generationId)).toBe(ErrorCode.NONE);
    const follower = members.find((m) => m.memberId !== leaderId)!;
    const rejoin = await r.join({ memberId: '', instanceId: follower.instanceId, sessionTimeoutMs: 30000 });
    expect(rejoin.generationId).toBe(generationId);
    const sync = await r.sync(rejoin.memberId, generationId, { instanceId: follower.instanceId });
    expect(sync.assignment.toString()).toBe(`assignment-${members.indexOf(follower)}`);
  });

  it('starts session timers of loaded members at startup', async () => {
    const h = Harness.started();
    const { members, generationId } = await h.formGroup(2, { sessionTimeoutMs: 10000 });
    const r = h.reload();
    await r.advance(8000);
    expect(await r.heartbeat(members[0].memberId, generationId)).toBe(ErrorCode.NONE);
    await r.advance(2000); // the other member never heartbeats to the new coordinator
    expect(r.describe().members.map((m) => m.memberId)).toEqual([members[0].memberId]);
    expect(await r.heartbeat(members[0].memberId, generationId)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('restores an Empty group with its generation; a later group tombstone keeps newer offsets', async () => {
    const h = Harness.started();
    const { members } = await h.formGroup(1);
    await h.leave([members[0]]);
    await h.commit([{ topic: 't', partition: 0, offset: 5n }]);
    const r = h.reload();
    expect(r.state()).toBe('Empty');
    const j = await r.joinWithId();
    await r.advance(3000);
    expect((await j.response).generationId).toBe(3);

    const r2 = new Harness();
    r2.coordinator.replay(
      0,
      groupMetadataKey('g'),
      h.store.records.find((x) => parseRecordKey(x.key).type === 'group')!.value,
    );
    r2.coordinator.replay(
      0,
      offsetCommitKey('g', 't', 0),
      offsetCommitValue({
        offset: 1n,
        leaderEpoch: -1,
        metadata: '',
        commitTimestampMs: 0,
        expireTimestampMs: null,
      }),
    );
    r2.coordinator.replay(0, groupMetadataKey('g'), null);
    r2.coordinator.startup();
    expect(r2.state()).toBe('Empty');
    expect(r2.describe().protocolType).toBe('');
    expect(await r2.committed('t', 0)).toBe(1n);
  });

  it('skips records of other group types and unreadable ones', async () => {
    const h = new Harness();
    // Key version 11: a share group record, not read by this coordinator.
    h.coordinator.replay(0, versioned(11, Buffer.from('share-group-record')), Buffer.from('v'));
    // Key version 3 is a KIP-848 consumer group record: these bytes do not parse.
    h.coordinator.replay(0, versioned(3, Buffer.from('consumer-group-record')), Buffer.from('v'));
    h.coordinator.replay(0, Buffer.from([0]), Buffer.from('v'));
    h.coordinator.replay(0, offsetCommitKey('g', 't', 0), Buffer.from([0, 3, 1]));
    h.coordinator.startup();
    expect(h.coordinator.listGroups(ListGroupsRequest.default(), 5).groups).toEqual([]);
    expect(h.logs.filter((l) => l.level === 'warn')).toHaveLength(3);
  });

  it('a loaded group over group.max.size rebalances at startup', async () => {
    const h = Harness.started();
    await h.formGroup(3, { rebalanceTimeoutMs: 10000, sessionTimeoutMs: 60000 });
    const r = new Harness({ groupMaxSize: 2 }, { time: h.time, store: h.store });
    for (const rec of h.store.records) r.coordinator.replay(rec.partition, rec.key, rec.value);
    r.coordinator.startup();
    expect(r.state()).toBe('PreparingRebalance');
  });
});
