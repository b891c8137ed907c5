// OffsetCommit / OffsetFetch / OffsetDelete and offset expiry.

import { describe, expect, it, vi } from 'vitest';
import { parseOffsetCommitValue, parseRecordKey } from '../../../src/coordinator/group/records.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ListGroupsRequest } from '../../../src/protocol/generated/messages/ListGroupsRequest.js';
import { OffsetDeleteRequest } from '../../../src/protocol/generated/messages/OffsetDeleteRequest.js';
import { OffsetFetchRequest } from '../../../src/protocol/generated/messages/OffsetFetchRequest.js';
import { type Harness as H, Harness, subscription, track } from './helpers.js';

vi.setConfig({ testTimeout: 10000 });

function errors(resp: {
  topics: Array<{ name: string; partitions: Array<{ partitionIndex: number; errorCode: number }> }>;
}) {
  return resp.topics.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.errorCode]));
}

function deleteOffsets(h: H, topics: Array<{ name: string; partitions: number[] }>, groupId = 'g') {
  return h.coordinator.deleteOffsets(
    {
      ...OffsetDeleteRequest.default(),
      groupId,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((partitionIndex) => ({ partitionIndex })),
      })),
    },
    0,
  );
}

function listGroupIds(h: H): string[] {
  return h.coordinator.listGroups(ListGroupsRequest.default(), 5).groups.map((g) => g.groupId);
}

describe('offset commit', () => {
  it('a simple commit (generation -1, no member) creates an Empty group and is fetched back', async () => {
    const h = Harness.started();
    const resp = await h.commit([
      { topic: 't', partition: 0, offset: 42n, metadata: 'meta', leaderEpoch: 7 },
      { topic: 't', partition: 1, offset: 43n, metadata: null },
    ]);
    expect(errors(resp)).toEqual([
      ['t', 0, ErrorCode.NONE],
      ['t', 1, ErrorCode.NONE],
    ]);
    expect(h.state()).toBe('Empty');
    expect(h.describe().protocolType).toBe('');
    const fetched = await h.fetch([{ name: 't', partitionIndexes: [0, 1, 2] }]);
    expect(fetched.errorCode).toBe(ErrorCode.NONE);
    expect(fetched.topics[0].partitions).toEqual([
      { partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: 7, metadata: 'meta', errorCode: 0 },
      { partitionIndex: 1, committedOffset: 43n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
      { partitionIndex: 2, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
    ]);
    // The records: offset commit key v1, value v3.
    const [rec] = h.store.records;
    expect(rec.key.readInt16BE(0)).toBe(1);
    expect(rec.value!.readInt16BE(0)).toBe(3);
    expect(parseRecordKey(rec.key)).toEqual({ type: 'offset', group: 'g', topic: 't', partition: 0 });
    expect(parseOffsetCommitValue(rec.value!)).toMatchObject({
      offset: 42n,
      leaderEpoch: 7,
      metadata: 'meta',
    });
  });

  it('UNKNOWN_TOPIC_OR_PARTITION and OFFSET_METADATA_TOO_LARGE per partition', async () => {
    const h = Harness.started({ offsetMetadataMaxBytes: 10 });
    const resp = await h.commit([
      { topic: 't', partition: 0, offset: 1n, metadata: '0123456789' },
      { topic: 't', partition: 1, offset: 1n, metadata: '0123456789a' },
      { topic: 't', partition: 9, offset: 1n },
      { topic: 'missing', partition: 0, offset: 1n },
    ]);
    expect(errors(resp)).toEqual([
      ['t', 0, ErrorCode.NONE],
      ['t', 1, ErrorCode.OFFSET_METADATA_TOO_LARGE],
      ['t', 9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['missing', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(await h.committed('t', 0)).toBe(1n);
    expect(await h.committed('t', 1)).toBe(-1n);
    expect(h.store.records).toHaveLength(1);
  });

  it('a commit of only unknown partitions does not create a group', async () => {
    const h = Harness.started();
    await h.commit([{ topic: 'missing', partition: 0, offset: 1n }]);
    expect(listGroupIds(h)).toEqual([]);
  });

  it('checks generation and member of a group with members', async () => {
    const h = Harness.started();
    const { members, generationId } = await h.formGroup(1);
    const memberId = members[0].memberId;
    const commitAs = (o: { memberId?: string; generationId?: number }) =>
      h
        .commit([{ topic: 't', partition: 0, offset: 5n }], o)
        .then((r) => r.topics[0].partitions[0].errorCode);
    expect(await commitAs({ memberId, generationId })).toBe(ErrorCode.NONE);
    expect(await commitAs({ memberId, generationId: generationId + 1 })).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(await commitAs({ memberId: 'nobody', generationId })).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(await commitAs({})).toBe(ErrorCode.UNKNOWN_MEMBER_ID); // a simple commit into a group with members
    // PreparingRebalance still accepts commits of the current generation.
    void h.join({ memberId });
    await h.advance(0);
    const r = await h.join({ memberId }); // completes the join: CompletingRebalance
    expect(await commitAs({ memberId, generationId: r.generationId })).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('a commit with a generation for a group that does not exist: ILLEGAL_GENERATION, GROUP_ID_NOT_FOUND from v9', async () => {
    const h = Harness.started();
    const v8 = await h.commit([{ topic: 't', partition: 0, offset: 1n }], {
      generationId: 3,
      memberId: 'm',
      version: 8,
    });
    expect(v8.topics[0].partitions[0].errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    const v9 = await h.commit([{ topic: 't', partition: 0, offset: 1n }], {
      generationId: 3,
      memberId: 'm',
      version: 9,
    });
    expect(v9.topics[0].partitions[0].errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('is visible to OffsetFetch only once durable; require_stable waits for it', async () => {
    const h = Harness.started();
    await h.commit([{ topic: 't', partition: 0, offset: 1n }]);
    h.store.hold();
    const pending = track(h.commit([{ topic: 't', partition: 0, offset: 2n }]));
    await h.advance(0);
    expect(pending.done).toBe(false);
    expect(await h.committed('t', 0)).toBe(1n);
    const stable = track(h.fetch([{ name: 't', partitionIndexes: [0] }], { requireStable: true }));
    await h.advance(0);
    expect(stable.done).toBe(false);
    h.store.release();
    await h.advance(0);
    expect(pending.value.topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    expect(stable.value.topics[0].partitions[0].committedOffset).toBe(2n);
    expect(await h.committed('t', 0)).toBe(2n);
  });

  it('a failed write leaves the previous offset and answers the translated error on every partition', async () => {
    const h = Harness.started();
    await h.commit([{ topic: 't', partition: 0, offset: 1n }]);
    h.store.failNext(ErrorCode.NOT_ENOUGH_REPLICAS);
    const resp = await h.commit([
      { topic: 't', partition: 0, offset: 2n },
      { topic: 'missing', partition: 0, offset: 2n },
    ]);
    expect(errors(resp)).toEqual([
      ['t', 0, ErrorCode.COORDINATOR_NOT_AVAILABLE],
      ['missing', 0, ErrorCode.COORDINATOR_NOT_AVAILABLE],
    ]);
    expect(await h.committed('t', 0)).toBe(1n);
  });

  it('retention_time_ms (v2-4) is kept as an expire timestamp (value v1)', async () => {
    const h = Harness.started();
    await h.commit([{ topic: 't', partition: 0, offset: 9n }], { version: 2, retentionTimeMs: 60000n });
    const value = h.store.records[0].value!;
    expect(value.readInt16BE(0)).toBe(1);
    expect(parseOffsetCommitValue(value).expireTimestampMs).toBe(h.time.now() + 60000);
  });
});

describe('offset fetch', () => {
  it('null topics returns every committed offset; an unknown group has none, without an error', async () => {
    const h = Harness.started();
    await h.commit([
      { topic: 't', partition: 0, offset: 1n },
      { topic: 'u', partition: 2, offset: 3n },
    ]);
    const all = await h.fetch(null);
    expect(all.topics.map((t) => [t.name, t.partitions.map((p) => p.committedOffset)])).toEqual([
      ['t', [1n]],
      ['u', [3n]],
    ]);
    const none = await h.fetch(null, { groupId: 'other' });
    expect(none.errorCode).toBe(ErrorCode.NONE);
    expect(none.topics).toEqual([]);
    const unknown = await h.fetch([{ name: 't', partitionIndexes: [0] }], { groupId: 'other' });
    expect(unknown.topics[0].partitions[0]).toMatchObject({
      committedOffset: -1n,
      metadata: '',
      errorCode: 0,
    });
  });

  it('v8+ answers several groups in the groups array', async () => {
    const h = Harness.started();
    await h.commit([{ topic: 't', partition: 0, offset: 10n }], { groupId: 'g1' });
    await h.commit([{ topic: 't', partition: 0, offset: 20n }], { groupId: 'g2' });
    const resp = await h.coordinator.fetchOffsets(
      {
        ...OffsetFetchRequest.default(),
        groups: [
          { groupId: 'g1', memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [0] }] },
          { groupId: 'g2', memberId: null, memberEpoch: -1, topics: null },
        ],
      },
      8,
    );
    expect(resp.topics).toEqual([]);
    expect(
      resp.groups.map((g) => [g.groupId, g.errorCode, g.topics[0].partitions[0].committedOffset]),
    ).toEqual([
      ['g1', 0, 10n],
      ['g2', 0, 20n],
    ]);
  });

  it('v0-4 report no leader epoch; errors of an unloaded coordinator per group', async () => {
    const h = Harness.started();
    await h.commit([{ topic: 't', partition: 0, offset: 1n, leaderEpoch: 5 }]);
    const v4 = await h.fetch([{ name: 't', partitionIndexes: [0] }], { version: 4 });
    expect(v4.topics[0].partitions[0].committedLeaderEpoch).toBe(-1);
    const v5 = await h.fetch([{ name: 't', partitionIndexes: [0] }], { version: 5 });
    expect(v5.topics[0].partitions[0].committedLeaderEpoch).toBe(5);
    h.coordinator.shutdown();
    expect((await h.fetch(null)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    const v1 = await h.fetch([{ name: 't', partitionIndexes: [0] }], { version: 1 });
    expect(v1.topics[0].partitions[0].errorCode).toBe(ErrorCode.NOT_COORDINATOR);
  });
});

describe('offset delete', () => {
  it('refuses topics a Stable consumer group subscribes to; deletes others with tombstones', async () => {
    const h = Harness.started();
    const { members, generationId } = await h.formGroup(1, {
      protocols: [{ name: 'range', metadata: subscription(['t']) }],
    });
    await h.commit(
      [
        { topic: 't', partition: 0, offset: 1n },
        { topic: 'u', partition: 0, offset: 2n },
      ],
      { memberId: members[0].memberId, generationId },
    );
    const resp = await deleteOffsets(h, [
      { name: 't', partitions: [0] },
      { name: 'u', partitions: [0, 1] },
      { name: 'missing', partitions: [0] },
    ]);
    expect(resp.errorCode).toBe(ErrorCode.NONE);
    expect(errors(resp)).toEqual([
      ['t', 0, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC],
      ['u', 0, ErrorCode.NONE],
      ['u', 1, ErrorCode.NONE],
      ['missing', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(await h.committed('u', 0)).toBe(-1n);
    expect(await h.committed('t', 0)).toBe(1n);
    const tombstones = h.store.records.filter((r) => r.value === null);
    expect(tombstones.map((r) => parseRecordKey(r.key))).toEqual([
      { type: 'offset', group: 'g', topic: 'u', partition: 0 },
    ]);
  });

  it('group errors: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP for a non-consumer group with members', async () => {
    const h = Harness.started();
    expect((await deleteOffsets(h, [{ name: 't', partitions: [0] }], 'none')).errorCode).toBe(
      ErrorCode.GROUP_ID_NOT_FOUND,
    );
    await h.formGroup(1, { protocolType: 'connect', groupId: 'c' });
    const resp = await deleteOffsets(h, [{ name: 't', partitions: [0] }], 'c');
    expect(resp.errorCode).toBe(ErrorCode.NON_EMPTY_GROUP);
    expect(resp.topics).toEqual([]);
  });
});

describe('offset expiry', () => {
  const DAY = 24 * 3600 * 1000;

  it('expires a simple group’s offsets after the retention and then deletes the group', async () => {
    const h = Harness.started({ offsetsRetentionMs: 7 * DAY, offsetsRetentionCheckIntervalMs: 600000 });
    await h.commit([{ topic: 't', partition: 0, offset: 1n }]);
    await h.advance(7 * DAY - 600000);
    expect(await h.committed('t', 0)).toBe(1n);
    await h.advance(600000);
    expect(await h.committed('t', 0)).toBe(-1n);
    expect(listGroupIds(h)).toEqual([]);
    expect(h.state()).toBe('Dead');
    const tombstones = h.store.records.filter((r) => r.value === null).map((r) => parseRecordKey(r.key).type);
    expect(tombstones).toEqual(['offset', 'group']);
  });

  it('counts from when a consumer group became Empty, not from the commit', async () => {
    const h = Harness.started({ offsetsRetentionMs: 2 * DAY, offsetsRetentionCheckIntervalMs: 3600000 });
    const { members, generationId } = await h.formGroup(1, { sessionTimeoutMs: 1800000 });
    await h.commit([{ topic: 't', partition: 0, offset: 1n }], {
      memberId: members[0].memberId,
      generationId,
    });
    // Stable and subscribed to t: kept however old it gets.
    for (let i = 0; i < 3 * 24 * 3; i++) {
      await h.advance(1200000);
      expect(await h.heartbeat(members[0].memberId, generationId)).toBe(ErrorCode.NONE);
    }
    expect(await h.committed('t', 0)).toBe(1n);
    await h.leave([members[0]]);
    expect(h.state()).toBe('Empty');
    // The commit is 3 days old, older than the 2-day retention, but the group has only just emptied.
    await h.advance(2 * DAY - 3600000);
    expect(await h.committed('t', 0)).toBe(1n);
    await h.advance(2 * 3600000); // the first check (hourly) at least 2 days after it emptied
    expect(await h.committed('t', 0)).toBe(-1n);
  });

  it('a Stable consumer group loses offsets of topics it no longer subscribes to', async () => {
    const h = Harness.started({ offsetsRetentionMs: DAY, offsetsRetentionCheckIntervalMs: 3600000 });
    const { members, generationId } = await h.formGroup(1, {
      sessionTimeoutMs: 1800000,
      protocols: [{ name: 'range', metadata: subscription(['t']) }],
    });
    const memberId = members[0].memberId;
    await h.commit(
      [
        { topic: 't', partition: 0, offset: 1n },
        { topic: 'u', partition: 0, offset: 2n },
      ],
      { memberId, generationId },
    );
    for (let i = 0; i < 25 * 3; i++) {
      await h.advance(1200000);
      expect(await h.heartbeat(memberId, generationId)).toBe(ErrorCode.NONE);
    }
    expect(await h.committed('u', 0)).toBe(-1n);
    expect(await h.committed('t', 0)).toBe(1n);
    expect(h.state()).toBe('Stable');
  });

  it('honours an explicit expire timestamp from OffsetCommit v2-v4', async () => {
    const h = Harness.started({ offsetsRetentionCheckIntervalMs: 60000 });
    await h.commit([{ topic: 't', partition: 0, offset: 1n }], { version: 3, retentionTimeMs: 120000n });
    await h.advance(60000);
    expect(await h.committed('t', 0)).toBe(1n);
    await h.advance(60000);
    expect(await h.committed('t', 0)).toBe(-1n);
  });
});

describe('deleted topics', () => {
  it('removes their offsets from every group, with tombstones', async () => {
    const h = Harness.started();
    await h.commit([{ topic: 't', partition: 0, offset: 1n }], { groupId: 'a' });
    await h.commit(
      [
        { topic: 't', partition: 1, offset: 1n },
        { topic: 'u', partition: 0, offset: 1n },
      ],
      { groupId: 'b' },
    );
    await h.coordinator.onTopicsDeleted(['t']);
    expect(await h.committed('t', 0, 'a')).toBe(-1n);
    expect(await h.committed('t', 1, 'b')).toBe(-1n);
    expect(await h.committed('u', 0, 'b')).toBe(1n);
    expect(h.store.records.filter((r) => r.value === null)).toHaveLength(2);
  });
});
