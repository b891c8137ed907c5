// Transactional offset commits (TxnOffsetCommit, exactly-once): pending until the transaction's
// marker, require_stable, Kafka's ordering rule against non-transactional commits, replay of
// transactional records and markers, validation, and deletion/expiry with pending offsets.

import { describe, expect, it, vi } from 'vitest';
import { parseRecordKey } from '../../../src/coordinator/group/records.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { DeleteGroupsRequest } from '../../../src/protocol/generated/messages/DeleteGroupsRequest.js';
import { ListGroupsRequest } from '../../../src/protocol/generated/messages/ListGroupsRequest.js';
import { OffsetDeleteRequest } from '../../../src/protocol/generated/messages/OffsetDeleteRequest.js';
import type { TxnOffsetCommitResponse } from '../../../src/protocol/generated/messages/TxnOffsetCommitResponse.js';
import { type Harness as H, Harness, track } from './helpers.js';

vi.setConfig({ testTimeout: 10000 });

const DAY = 24 * 3600 * 1000;
const P1 = 1000n;
const P2 = 2000n;

function errors(resp: TxnOffsetCommitResponse): Array<[string, number, number]> {
  return resp.topics.flatMap((t) =>
    t.partitions.map((p): [string, number, number] => [t.name, p.partitionIndex, p.errorCode]),
  );
}

function firstError(resp: TxnOffsetCommitResponse): number {
  return resp.topics[0].partitions[0].errorCode;
}

async function stableFetch(h: H, topic: string, partition: number, groupId = 'g') {
  const resp = await h.fetch([{ name: topic, partitionIndexes: [partition] }], {
    groupId,
    requireStable: true,
  });
  return resp.topics[0].partitions[0];
}

function listGroupIds(h: H): string[] {
  return h.coordinator.listGroups(ListGroupsRequest.default(), 5).groups.map((g) => g.groupId);
}

describe('transactional offset commit', () => {
  it('is written as a transactional batch of the producer and is invisible until the commit marker', async () => {
    const h = Harness.started();
    const resp = await h.txnCommit(
      [
        { topic: 't', partition: 0, offset: 10n, metadata: 'm', leaderEpoch: 4 },
        { topic: 't', partition: 1, offset: 11n },
      ],
      { producerId: P1, producerEpoch: 3 },
    );
    expect(errors(resp)).toEqual([
      ['t', 0, ErrorCode.NONE],
      ['t', 1, ErrorCode.NONE],
    ]);
    expect(h.store.txnAppends).toEqual([
      { partition: h.coordinator.partitionFor('g'), txn: { producerId: P1, producerEpoch: 3 }, records: 2 },
    ]);
    // Pending: the last committed offset (none) without require_stable, UNSTABLE_OFFSET_COMMIT with.
    expect(await h.committed('t', 0)).toBe(-1n);
    expect(await stableFetch(h, 't', 0)).toMatchObject({
      errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
      committedOffset: -1n,
    });
    expect(h.coordinator.hasPendingTxnOffsets('g', 't', 1)).toBe(true);
    // The group exists (a simple group), as Kafka creates it for the commit.
    expect(listGroupIds(h)).toEqual(['g']);

    h.endTxn(P1, true);
    expect(await stableFetch(h, 't', 0)).toMatchObject({
      errorCode: ErrorCode.NONE,
      committedOffset: 10n,
      committedLeaderEpoch: 4,
      metadata: 'm',
    });
    expect(await h.committed('t', 1)).toBe(11n);
    expect(h.coordinator.hasPendingTxnOffsets('g', 't', 1)).toBe(false);
  });

  it('an aborted transaction leaves the previously committed offset', async () => {
    const h = Harness.started();
    await h.commit([{ topic: 't', partition: 0, offset: 5n }]);
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]);
    expect(await h.committed('t', 0)).toBe(5n);
    h.endTxn(P1, false);
    expect(await stableFetch(h, 't', 0)).toMatchObject({ errorCode: ErrorCode.NONE, committedOffset: 5n });
    // A later commit marker of the same producer has nothing left to materialise.
    h.endTxn(P1, true);
    expect(await h.committed('t', 0)).toBe(5n);
  });

  it('a non-transactional commit written after the transactional one wins at the commit (log order)', async () => {
    const h = Harness.started();
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]);
    await h.commit([{ topic: 't', partition: 0, offset: 20n }]);
    expect(await h.committed('t', 0)).toBe(20n);
    h.endTxn(P1, true);
    expect(await h.committed('t', 0)).toBe(20n);
  });

  it('a transactional commit written after a non-transactional one replaces it at the commit', async () => {
    const h = Harness.started();
    await h.commit([{ topic: 't', partition: 0, offset: 20n }]);
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]);
    h.endTxn(P1, true);
    expect(await h.committed('t', 0)).toBe(10n);
  });

  it('a non-transactional commit still in flight when the marker lands does not lose to an older write', async () => {
    const h = Harness.started();
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]);
    h.store.hold();
    const later = track(h.commit([{ topic: 't', partition: 0, offset: 30n }]));
    await h.advance(0);
    h.endTxn(P1, true);
    expect(await h.committed('t', 0)).toBe(10n);
    h.store.release();
    await h.advance(0);
    expect(later.value.topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    expect(await h.committed('t', 0)).toBe(30n);
  });

  it('several commits in one transaction: the last one per partition counts', async () => {
    const h = Harness.started();
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]);
    await h.txnCommit([
      { topic: 't', partition: 0, offset: 12n },
      { topic: 'u', partition: 2, offset: 7n },
    ]);
    h.endTxn(P1, true);
    expect(await h.committed('t', 0)).toBe(12n);
    expect(await h.committed('u', 2)).toBe(7n);
  });

  it('transactions of different producers end independently', async () => {
    const h = Harness.started();
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }], { producerId: P1 });
    await h.txnCommit([{ topic: 't', partition: 1, offset: 20n }], { producerId: P2 });
    h.endTxn(P2, true);
    expect(await h.committed('t', 1)).toBe(20n);
    expect((await stableFetch(h, 't', 0)).errorCode).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT);
    h.endTxn(P1, false);
    expect(await stableFetch(h, 't', 0)).toMatchObject({ errorCode: ErrorCode.NONE, committedOffset: -1n });
  });

  it('a marker completes only the groups of its __consumer_offsets partition', async () => {
    const h = Harness.started();
    // 'a' and 'b' live in different partitions (Java hash 97 and 98, 50 partitions).
    expect(h.coordinator.partitionFor('a')).not.toBe(h.coordinator.partitionFor('b'));
    await h.txnCommit([{ topic: 't', partition: 0, offset: 1n }], { groupId: 'a' });
    await h.txnCommit([{ topic: 't', partition: 0, offset: 2n }], { groupId: 'b' });
    h.endTxn(P1, true, 'a');
    expect(await h.committed('t', 0, 'a')).toBe(1n);
    expect(await h.committed('t', 0, 'b')).toBe(-1n);
    h.endTxn(P1, true, 'b');
    expect(await h.committed('t', 0, 'b')).toBe(2n);
  });

  it('require_stable for all offsets marks partitions with a pending transactional offset', async () => {
    const h = Harness.started();
    await h.commit([
      { topic: 't', partition: 0, offset: 1n },
      { topic: 't', partition: 1, offset: 2n },
    ]);
    await h.txnCommit([{ topic: 't', partition: 1, offset: 3n }]);
    const unstable = await h.fetch(null, { requireStable: true });
    expect(
      unstable.topics[0].partitions.map((p) => [p.partitionIndex, p.errorCode, p.committedOffset]),
    ).toEqual([
      [0, ErrorCode.NONE, 1n],
      [1, ErrorCode.UNSTABLE_OFFSET_COMMIT, -1n],
    ]);
    const plain = await h.fetch(null);
    expect(plain.topics[0].partitions.map((p) => [p.partitionIndex, p.errorCode, p.committedOffset])).toEqual(
      [
        [0, ErrorCode.NONE, 1n],
        [1, ErrorCode.NONE, 2n],
      ],
    );
  });

  it('a require_stable fetch waits for a transactional write in flight, then reports it unstable', async () => {
    const h = Harness.started();
    h.store.hold();
    const commit = track(h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]));
    const stable = track(stableFetch(h, 't', 0));
    await h.advance(0);
    expect(commit.done).toBe(false);
    expect(stable.done).toBe(false);
    h.store.release();
    await h.advance(0);
    expect(firstError(commit.value)).toBe(ErrorCode.NONE);
    expect(stable.value.errorCode).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT);
  });

  it('a failed write leaves nothing pending and answers the translated error', async () => {
    const h = Harness.started();
    h.store.failNext(ErrorCode.NOT_ENOUGH_REPLICAS);
    const resp = await h.txnCommit([
      { topic: 't', partition: 0, offset: 10n },
      { topic: 'missing', partition: 0, offset: 1n },
    ]);
    expect(errors(resp)).toEqual([
      ['t', 0, ErrorCode.COORDINATOR_NOT_AVAILABLE],
      ['missing', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(h.coordinator.hasPendingTxnOffsets('g', 't', 0)).toBe(false);
    h.store.failNext(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(firstError(await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]))).toBe(
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    h.endTxn(P1, true);
    expect(await h.committed('t', 0)).toBe(-1n);
  });
});

describe('transactional offset commit validation', () => {
  it('unknown topics, metadata too large, empty group id', async () => {
    const h = Harness.started();
    const resp = await h.txnCommit([
      { topic: 't', partition: 0, offset: 1n, metadata: 'x'.repeat(4097) },
      { topic: 't', partition: 7, offset: 1n },
      { topic: 'missing', partition: 0, offset: 1n },
      { topic: 'u', partition: 0, offset: 1n },
    ]);
    expect(errors(resp)).toEqual([
      ['t', 0, ErrorCode.OFFSET_METADATA_TOO_LARGE],
      ['t', 7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['missing', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['u', 0, ErrorCode.NONE],
    ]);
    expect(h.store.txnAppends).toHaveLength(1);
    expect(h.store.txnAppends[0].records).toBe(1);
    const empty = await h.txnCommit([{ topic: 't', partition: 0, offset: 1n }], { groupId: '' });
    expect(firstError(empty)).toBe(ErrorCode.INVALID_GROUP_ID);
    // Only unknown partitions: nothing is written and no group created.
    await h.txnCommit([{ topic: 'missing', partition: 0, offset: 1n }], { groupId: 'other' });
    expect(listGroupIds(h)).toEqual(['g']);
  });

  it('a coordinator still loading: COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE for v0-1', async () => {
    const h = new Harness();
    expect(firstError(await h.txnCommit([{ topic: 't', partition: 0, offset: 1n }], { version: 2 }))).toBe(
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
    expect(firstError(await h.txnCommit([{ topic: 't', partition: 0, offset: 1n }], { version: 1 }))).toBe(
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
    );
    h.coordinator.shutdown();
    expect(firstError(await h.txnCommit([{ topic: 't', partition: 0, offset: 1n }]))).toBe(
      ErrorCode.NOT_COORDINATOR,
    );
  });

  it('an unknown group with a generation: ILLEGAL_GENERATION', async () => {
    const h = Harness.started();
    const resp = await h.txnCommit([{ topic: 't', partition: 0, offset: 1n }], {
      generationId: 2,
      memberId: 'm',
    });
    expect(firstError(resp)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(listGroupIds(h)).toEqual([]);
  });

  it('v3+ checks member, generation and static instance; v0-2 commits into a group with members', async () => {
    const h = Harness.started();
    const { members, generationId } = await h.formGroup(1, { instanceId: 'inst' });
    const { memberId, instanceId } = members[0];
    const commitAs = (o: {
      memberId?: string;
      generationId?: number;
      instanceId?: string | null;
      version?: number;
    }) => h.txnCommit([{ topic: 't', partition: 0, offset: 5n }], o).then(firstError);
    expect(await commitAs({ memberId, generationId, instanceId })).toBe(ErrorCode.NONE);
    expect(await commitAs({ memberId, generationId: generationId + 1, instanceId })).toBe(
      ErrorCode.ILLEGAL_GENERATION,
    );
    expect(await commitAs({ memberId: 'nobody', generationId })).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(await commitAs({ memberId: 'other', generationId, instanceId })).toBe(
      ErrorCode.FENCED_INSTANCE_ID,
    );
    expect(await commitAs({ memberId, generationId, instanceId: 'unknown-instance' })).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    // No member id and no generation (v0-2, or v3 from a producer without group metadata): accepted
    // even though the group has members (unlike OffsetCommit).
    expect(await commitAs({ version: 2 })).toBe(ErrorCode.NONE);
    expect(await commitAs({})).toBe(ErrorCode.NONE);
  });

  it('a member of a group completing a rebalance may commit transactionally (no REBALANCE_IN_PROGRESS)', async () => {
    const h = Harness.started();
    const { members } = await h.formGroup(1);
    const memberId = members[0].memberId;
    void h.join({ memberId });
    await h.advance(0);
    const r = await h.join({ memberId }); // completes the join: CompletingRebalance
    expect(h.state()).toBe('CompletingRebalance');
    const resp = await h.txnCommit([{ topic: 't', partition: 0, offset: 5n }], {
      memberId,
      generationId: r.generationId,
    });
    expect(firstError(resp)).toBe(ErrorCode.NONE);
    const plain = await h.commit([{ topic: 't', partition: 0, offset: 5n }], {
      memberId,
      generationId: r.generationId,
    });
    expect(plain.topics[0].partitions[0].errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });
});

describe('replay of transactional records and markers', () => {
  it('rebuilds committed, aborted and still-open transactions in log order', async () => {
    const h = Harness.started();
    await h.commit([{ topic: 't', partition: 0, offset: 1n }]);
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }], { producerId: P1 });
    await h.txnCommit([{ topic: 't', partition: 1, offset: 11n }], { producerId: P2 });
    h.endTxn(P1, true);
    h.endTxn(P2, false);
    // A later transaction of P1, committed, then a non-transactional commit after it.
    await h.txnCommit([{ topic: 't', partition: 2, offset: 12n }], { producerId: P1 });
    h.endTxn(P1, true);
    await h.commit([{ topic: 't', partition: 2, offset: 99n }]);
    // Still open at the "crash".
    await h.txnCommit([{ topic: 'u', partition: 0, offset: 13n }], { producerId: P2 });

    const r = h.reload();
    expect(await r.committed('t', 0)).toBe(10n);
    expect(await r.committed('t', 1)).toBe(-1n);
    expect(await r.committed('t', 2)).toBe(99n);
    expect(await r.committed('u', 0)).toBe(-1n);
    expect((await stableFetch(r, 'u', 0)).errorCode).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT);
    // The transaction coordinator completes the open transaction after the load.
    r.endTxn(P2, true);
    expect(await r.committed('u', 0)).toBe(13n);
    // And that survives another load.
    const r2 = r.reload();
    expect(await r2.committed('u', 0)).toBe(13n);
    expect(await r2.committed('t', 2)).toBe(99n);
  });

  it('a non-transactional commit after a transactional one keeps winning when the marker comes after both', async () => {
    const h = Harness.started();
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]);
    await h.commit([{ topic: 't', partition: 0, offset: 20n }]);
    h.endTxn(P1, true);
    const r = h.reload();
    expect(await r.committed('t', 0)).toBe(20n);
  });

  it('a transactional record replayed for an unknown group creates a simple group', async () => {
    const h = Harness.started();
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }], { groupId: 'simple' });
    const r = h.reload();
    expect(listGroupIds(r)).toEqual(['simple']);
    expect(r.state('simple')).toBe('Empty');
  });

  it('a marker reported while the coordinator is loading takes effect at startup, after the replay', async () => {
    const h = Harness.started();
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]);
    h.coordinator.shutdown();
    const loading = new Harness(h.config, { time: h.time, store: h.store });
    const partition = loading.coordinator.partitionFor('g');
    // The marker lands while the replay has not reached the transactional record yet.
    loading.coordinator.completeTransaction(partition, P1, true);
    for (const r of h.store.records) {
      if (r.producerId !== undefined)
        loading.coordinator.replayTxn(r.partition, r.producerId, r.key, r.value);
    }
    loading.coordinator.startup();
    expect(await loading.committed('t', 0)).toBe(10n);
  });

  it('an offset tombstone drops the pending offsets written before it', async () => {
    const h = Harness.started();
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]);
    await h.coordinator.onTopicsDeleted(['t']);
    const r = h.reload();
    r.endTxn(P1, true);
    expect(await r.committed('t', 0)).toBe(-1n);
  });
});

describe('deletion and expiry with pending transactional offsets', () => {
  function deleteGroups(h: H, groupsNames: string[]) {
    return h.coordinator.deleteGroups({ ...DeleteGroupsRequest.default(), groupsNames }, 2);
  }

  it('DeleteGroups of an Empty group deletes its pending transactional offsets too (tombstones)', async () => {
    const h = Harness.started();
    await h.commit([{ topic: 't', partition: 0, offset: 1n }]);
    await h.txnCommit([
      { topic: 't', partition: 0, offset: 10n },
      { topic: 't', partition: 1, offset: 11n },
    ]);
    const resp = await deleteGroups(h, ['g']);
    expect(resp.results[0].errorCode).toBe(ErrorCode.NONE);
    const tombstones = h.store.records
      .filter((r) => r.value === null)
      .map((r) => {
        const k = parseRecordKey(r.key);
        return k.type === 'offset' ? `${k.topic}-${k.partition}` : k.type;
      });
    expect(tombstones).toEqual(['t-0', 't-1', 'group']);
    h.endTxn(P1, true);
    expect(await h.committed('t', 0)).toBe(-1n);
    expect(await h.committed('t', 1)).toBe(-1n);
    expect(h.coordinator.hasPendingTxnOffsets('g', 't', 1)).toBe(false);
    const r = h.reload();
    expect(await r.committed('t', 1)).toBe(-1n);
  });

  it('a group with members is not deleted (NON_EMPTY_GROUP), pending offsets or not', async () => {
    const h = Harness.started();
    await h.formGroup(1);
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]);
    expect((await deleteGroups(h, ['g'])).results[0].errorCode).toBe(ErrorCode.NON_EMPTY_GROUP);
  });

  it('OffsetDelete writes a tombstone for a partition with only a pending transactional offset', async () => {
    const h = Harness.started();
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]);
    const resp = await h.coordinator.deleteOffsets(
      {
        ...OffsetDeleteRequest.default(),
        groupId: 'g',
        topics: [{ name: 't', partitions: [{ partitionIndex: 0 }] }],
      },
      0,
    );
    expect(resp.errorCode).toBe(ErrorCode.NONE);
    expect(h.store.records.filter((r) => r.value === null)).toHaveLength(1);
    expect(h.coordinator.hasPendingTxnOffsets('g', 't', 0)).toBe(false);
    h.endTxn(P1, true);
    expect(await h.committed('t', 0)).toBe(-1n);
  });

  it('a transactional commit issued after a tombstone survives it', async () => {
    const h = Harness.started();
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]);
    h.store.hold();
    const deleting = h.coordinator.onTopicsDeleted(['t']);
    const commit = track(h.txnCommit([{ topic: 't', partition: 0, offset: 20n }]));
    await h.advance(0);
    h.store.release();
    await deleting;
    await h.advance(0);
    expect(firstError(commit.value)).toBe(ErrorCode.NONE);
    h.endTxn(P1, true);
    expect(await h.committed('t', 0)).toBe(20n);
    expect(await h.reload().committed('t', 0)).toBe(20n);
  });

  it('expiry keeps an offset with a pending transactional commit, and the group while a transaction is open', async () => {
    const h = Harness.started({ offsetsRetentionMs: 7 * DAY, offsetsRetentionCheckIntervalMs: 600000 });
    await h.commit([{ topic: 't', partition: 0, offset: 1n }]);
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]);
    await h.advance(8 * DAY);
    expect(await h.committed('t', 0)).toBe(1n);
    expect(listGroupIds(h)).toEqual(['g']);
    h.endTxn(P1, true);
    expect(await h.committed('t', 0)).toBe(10n);
    // The materialised offset keeps its commit timestamp: it expires at the next check.
    await h.advance(600000);
    expect(await h.committed('t', 0)).toBe(-1n);
    expect(listGroupIds(h)).toEqual([]);
  });

  it('a simple group with only a pending transactional offset is not expired away', async () => {
    const h = Harness.started({ offsetsRetentionMs: 7 * DAY, offsetsRetentionCheckIntervalMs: 600000 });
    await h.txnCommit([{ topic: 't', partition: 0, offset: 10n }]);
    await h.advance(8 * DAY);
    expect(listGroupIds(h)).toEqual(['g']);
    h.endTxn(P1, true);
    expect(await h.committed('t', 0)).toBe(10n);
  });

  it('deleted topics lose their pending transactional offsets', async () => {
    const h = Harness.started();
    await h.txnCommit([
      { topic: 't', partition: 0, offset: 10n },
      { topic: 'u', partition: 0, offset: 11n },
    ]);
    await h.coordinator.onTopicsDeleted(['t']);
    expect(h.coordinator.hasPendingTxnOffsets('g', 't', 0)).toBe(false);
    h.endTxn(P1, true);
    expect(await h.committed('t', 0)).toBe(-1n);
    expect(await h.committed('u', 0)).toBe(11n);
  });
});
