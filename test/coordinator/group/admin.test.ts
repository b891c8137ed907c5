// ListGroups, DescribeGroups, DeleteGroups.

import { describe, expect, it, vi } from 'vitest';
import { parseRecordKey } from '../../../src/coordinator/group/records.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { DeleteGroupsRequest } from '../../../src/protocol/generated/messages/DeleteGroupsRequest.js';
import { DescribeGroupsRequest } from '../../../src/protocol/generated/messages/DescribeGroupsRequest.js';
import { ListGroupsRequest } from '../../../src/protocol/generated/messages/ListGroupsRequest.js';
import { type Harness as H, Harness, subscription } from './helpers.js';

vi.setConfig({ testTimeout: 10000 });

function list(h: H, version: number, statesFilter: string[] = [], typesFilter: string[] = []) {
  return h.coordinator.listGroups({ ...ListGroupsRequest.default(), statesFilter, typesFilter }, version);
}

function deleteGroups(h: H, groupsNames: string[]) {
  return h.coordinator.deleteGroups({ ...DeleteGroupsRequest.default(), groupsNames }, 2);
}

describe('ListGroups', () => {
  it('lists groups with protocol type, state (v4+) and type (v5+); filters are case-insensitive', async () => {
    const h = Harness.started();
    await h.formGroup(1, { groupId: 'stable' });
    await h.commit([{ topic: 't', partition: 0, offset: 1n }], { groupId: 'simple' });
    const v5 = list(h, 5);
    expect(v5.errorCode).toBe(ErrorCode.NONE);
    expect(v5.groups).toEqual([
      { groupId: 'stable', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' },
      { groupId: 'simple', protocolType: '', groupState: 'Empty', groupType: 'classic' },
    ]);
    expect(list(h, 3).groups[0]).toEqual({
      groupId: 'stable',
      protocolType: 'consumer',
      groupState: '',
      groupType: '',
    });
    expect(list(h, 4, ['empty']).groups.map((g) => g.groupId)).toEqual(['simple']);
    expect(list(h, 4, ['STABLE', 'Empty']).groups).toHaveLength(2);
    expect(list(h, 5, [], ['Classic']).groups).toHaveLength(2);
    expect(list(h, 5, [], ['consumer']).groups).toEqual([]);
    // v3 has no filter: one sent anyway is ignored.
    expect(list(h, 3, ['Dead']).groups).toHaveLength(2);
  });

  it('answers COORDINATOR_LOAD_IN_PROGRESS while loading', () => {
    const h = new Harness();
    expect(list(h, 5).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  });
});

describe('DescribeGroups', () => {
  it('describes a Stable group with metadata and assignments; a rebalancing one without', async () => {
    const h = Harness.started();
    const meta = subscription(['t']);
    const { members, leaderId } = await h.formGroup(2, {
      protocols: [{ name: 'range', metadata: meta }],
      clientId: 'cli',
    });
    const d = h.describe();
    expect(d).toMatchObject({
      errorCode: 0,
      groupId: 'g',
      groupState: 'Stable',
      protocolType: 'consumer',
      protocolData: 'range',
    });
    expect(d.authorizedOperations).toBe(-2147483648);
    expect(d.members).toHaveLength(2);
    expect(d.members[0]).toMatchObject({
      memberId: members[0].memberId,
      clientId: 'cli',
      clientHost: '/127.0.0.1',
    });
    expect(d.members[0].memberMetadata).toEqual(meta);
    expect(d.members[1].memberAssignment.toString()).toBe('assignment-1');

    void h.join({ memberId: leaderId });
    await h.advance(0);
    const rebalancing = h.describe();
    expect(rebalancing.groupState).toBe('PreparingRebalance');
    expect(rebalancing.protocolData).toBe('');
    expect(rebalancing.members[0].memberMetadata.length).toBe(0);
    expect(rebalancing.members[0].memberAssignment.length).toBe(0);
  });

  it('describes an unknown group as Dead without an error (v0-v5); instance ids from v4', async () => {
    const h = Harness.started();
    await h.formGroup(1, { instanceId: 'inst' });
    const resp = h.coordinator.describeGroups(
      { ...DescribeGroupsRequest.default(), groups: ['nope', 'g'] },
      3,
    );
    expect(resp.groups[0]).toMatchObject({ groupId: 'nope', errorCode: 0, groupState: 'Dead', members: [] });
    expect(resp.groups[1].members[0].groupInstanceId).toBeNull();
    expect(h.describe('g', 4).members[0].groupInstanceId).toBe('inst-0');
  });
});

describe('DeleteGroups', () => {
  it('deletes Empty groups (tombstones for the group and each offset); refuses others', async () => {
    const h = Harness.started();
    await h.commit(
      [
        { topic: 't', partition: 0, offset: 1n },
        { topic: 't', partition: 1, offset: 2n },
      ],
      { groupId: 'empty' },
    );
    await h.formGroup(1, { groupId: 'busy' });
    const resp = await deleteGroups(h, ['empty', 'busy', 'nope']);
    expect(resp.results).toEqual([
      { groupId: 'empty', errorCode: ErrorCode.NONE },
      { groupId: 'busy', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'nope', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    expect(h.describe('empty').groupState).toBe('Dead');
    expect(await h.committed('t', 0, 'empty')).toBe(-1n);
    const tombstones = h.store.records.filter((r) => r.value === null).map((r) => parseRecordKey(r.key));
    expect(tombstones).toEqual([
      { type: 'offset', group: 'empty', topic: 't', partition: 0 },
      { type: 'offset', group: 'empty', topic: 't', partition: 1 },
      { type: 'group', group: 'empty' },
    ]);
    expect((await deleteGroups(h, ['empty'])).results[0].errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('a group that became Empty after its members left can be deleted', async () => {
    const h = Harness.started();
    const { members } = await h.formGroup(1);
    await h.leave([members[0]]);
    expect((await deleteGroups(h, ['g'])).results[0].errorCode).toBe(ErrorCode.NONE);
    expect(list(h, 5).groups).toEqual([]);
  });

  it('a failed tombstone write reports the translated error and keeps the group', async () => {
    const h = Harness.started();
    await h.commit([{ topic: 't', partition: 0, offset: 1n }]);
    h.store.failNext(ErrorCode.KAFKA_STORAGE_ERROR);
    expect((await deleteGroups(h, ['g'])).results[0].errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(h.state()).toBe('Empty');
    expect(await h.committed('t', 0)).toBe(1n);
  });

  it('while the tombstones are being written, the group refuses joins and commits as Dead', async () => {
    const h = Harness.started();
    await h.commit([{ topic: 't', partition: 0, offset: 1n }]);
    h.store.hold();
    const deleting = deleteGroups(h, ['g']);
    await h.advance(0);
    expect((await h.join()).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const commit = await h.commit([{ topic: 't', partition: 0, offset: 2n }]);
    expect(commit.topics[0].partitions[0].errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    h.store.release();
    expect((await deleting).results[0].errorCode).toBe(ErrorCode.NONE);
    // The group id is free again.
    expect(
      (await h.commit([{ topic: 't', partition: 0, offset: 3n }])).topics[0].partitions[0].errorCode,
    ).toBe(ErrorCode.NONE);
    expect(await h.committed('t', 0)).toBe(3n);
  });
});
