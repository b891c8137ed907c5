// AddPartitionsToTxn, AddOffsetsToTxn, KIP-890 part 1 verification and EndTxn (transaction V1):
// full commit/abort flows, markers with retries, error codes.

import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { Harness, settle, track } from './helpers.js';

async function ongoing(
  h: Harness,
  partitions: Array<[string, number]> = [
    ['t', 0],
    ['t', 1],
    ['u', 0],
  ],
) {
  const p = await h.initOk();
  expect(await h.add(p, partitions)).toBe(ErrorCode.NONE);
  return p;
}

describe('AddPartitionsToTxn', () => {
  it('Empty -> Ongoing with the partitions and the start timestamp, written before the answer', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    h.store.hold();
    const r = track(h.add(p, [['t', 0]]));
    await settle();
    expect(r.done).toBe(false);
    expect(h.state()).toBe('Empty');
    const start = h.time.now();
    h.store.release();
    await settle();
    expect(r.value).toBe(ErrorCode.NONE);
    expect(h.describe()).toMatchObject({
      transactionState: 'Ongoing',
      transactionStartTimeMs: BigInt(start),
      topics: [{ topic: 't', partitions: [0] }],
    });
  });

  it('adding more keeps the start timestamp; partitions already in the txn write nothing', async () => {
    const h = Harness.started();
    const p = await ongoing(h, [['t', 0]]);
    const start = h.describe().transactionStartTimeMs;
    await h.advance(500);
    expect(await h.add(p, [['t', 1]])).toBe(ErrorCode.NONE);
    expect(h.describe().transactionStartTimeMs).toBe(start);
    const appends = h.store.appends;
    expect(
      await h.add(p, [
        ['t', 0],
        ['t', 1],
      ]),
    ).toBe(ErrorCode.NONE);
    expect(h.store.appends).toBe(appends);
    expect(h.describe().topics).toEqual([{ topic: 't', partitions: [0, 1] }]);
  });

  it('errors: unknown id / wrong producer id, stale epoch, empty id', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    expect(await h.add(p, [['t', 0]], 'other')).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(await h.add({ ...p, producerId: 7n })).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(await h.add({ ...p, producerEpoch: 5 })).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await h.add(p, [['t', 0]], '')).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('CONCURRENT_TRANSACTIONS while another write for the id is pending and while completing', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    h.store.hold();
    const first = track(h.add(p, [['t', 0]]));
    await settle();
    expect(await h.add(p, [['t', 1]])).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    h.store.release();
    await settle();
    expect(first.value).toBe(ErrorCode.NONE);
    h.markers.failPartition('t', 0, ErrorCode.NOT_ENOUGH_REPLICAS, 3);
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.NONE);
    expect(h.state()).toBe('PrepareCommit');
    expect(await h.add(p, [['t', 1]])).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    await h.advance(1000);
    expect(h.state()).toBe('CompleteCommit');
    // The next transaction starts from CompleteCommit.
    expect(await h.add(p, [['t', 1]])).toBe(ErrorCode.NONE);
    expect(h.describe()).toMatchObject({
      transactionState: 'Ongoing',
      topics: [{ topic: 't', partitions: [1] }],
    });
  });

  it('a failed append drops the change, with the error translated', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    h.store.failNext(ErrorCode.REQUEST_TIMED_OUT);
    expect(await h.add(p)).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(h.state()).toBe('Empty');
    h.store.failNext(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(await h.add(p)).toBe(ErrorCode.NOT_COORDINATOR);
    expect(await h.add(p)).toBe(ErrorCode.NONE);
  });
});

describe('AddOffsetsToTxn', () => {
  it('adds the group’s __consumer_offsets partition', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    // The harness's groupPartitionFor is the group id's length % 50.
    expect(await h.coordinator.addOffsetsToTxn('txn', p.producerId, p.producerEpoch, 'billing')).toBe(
      ErrorCode.NONE,
    );
    expect(h.describe()).toMatchObject({
      transactionState: 'Ongoing',
      topics: [{ topic: '__consumer_offsets', partitions: [7] }],
    });
    expect(await h.coordinator.addOffsetsToTxn('txn', p.producerId, p.producerEpoch + 1, 'billing')).toBe(
      ErrorCode.PRODUCER_FENCED,
    );
    expect(await h.coordinator.addOffsetsToTxn('nope', p.producerId, p.producerEpoch, 'billing')).toBe(
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
  });
});

describe('verifyPartitionsInTxn (KIP-890 part 1)', () => {
  it('NONE for partitions in the ongoing transaction, TRANSACTION_ABORTABLE for the others', async () => {
    const h = Harness.started();
    const p = await ongoing(h, [['t', 0]]);
    const r = h.coordinator.verifyPartitionsInTxn('txn', p.producerId, p.producerEpoch, [
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1 },
    ]);
    expect(r).toEqual([
      { topic: 't', partition: 0, errorCode: ErrorCode.NONE },
      { topic: 't', partition: 1, errorCode: ErrorCode.TRANSACTION_ABORTABLE },
    ]);
  });

  it('wrong id / epoch / completing / not ongoing', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    const tp = [{ topic: 't', partition: 0 }];
    const code = (id: string, pid: bigint, epoch: number) =>
      h.coordinator.verifyPartitionsInTxn(id, pid, epoch, tp)[0].errorCode;
    expect(code('nope', p.producerId, 0)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(code('txn', 9n, 0)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect(code('txn', p.producerId, 3)).toBe(ErrorCode.PRODUCER_FENCED);
    expect(code('', p.producerId, 0)).toBe(ErrorCode.INVALID_REQUEST);
    // Empty: nothing is in a transaction.
    expect(code('txn', p.producerId, 0)).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    await h.add(p);
    expect(code('txn', p.producerId, 0)).toBe(ErrorCode.NONE);
    h.markers.failPartition('t', 0, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    await h.end(p, false);
    expect(code('txn', p.producerId, 0)).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    await h.advance(100);
    expect(code('txn', p.producerId, 0)).toBe(ErrorCode.TRANSACTION_ABORTABLE);
  });

  it('a partition whose add is still being written does not count yet', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    h.store.hold();
    const r = track(h.add(p));
    await settle();
    expect(
      h.coordinator.verifyPartitionsInTxn('txn', p.producerId, 0, [{ topic: 't', partition: 0 }])[0]
        .errorCode,
    ).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    h.store.release();
    await settle();
    expect(r.value).toBe(ErrorCode.NONE);
    expect(
      h.coordinator.verifyPartitionsInTxn('txn', p.producerId, 0, [{ topic: 't', partition: 0 }])[0]
        .errorCode,
    ).toBe(ErrorCode.NONE);
  });
});

describe('EndTxn (transaction V1)', () => {
  it('commit: PrepareCommit is durable before the answer, then markers, then CompleteCommit', async () => {
    const h = Harness.started({ coordinatorEpoch: 7 });
    const p = await ongoing(h);
    h.store.hold();
    const r = track(h.end(p, true));
    await settle();
    expect(r.done).toBe(false);
    expect(h.markers.calls).toHaveLength(0);
    h.store.release();
    await settle();
    expect(r.value).toEqual({ errorCode: ErrorCode.NONE, producerId: -1n, producerEpoch: -1 });
    expect(h.store.states('txn')).toEqual(['Empty', 'Ongoing', 'PrepareCommit', 'CompleteCommit']);
    expect(h.markers.written).toEqual([
      {
        topic: 't',
        partition: 0,
        producerId: p.producerId,
        producerEpoch: 0,
        coordinatorEpoch: 7,
        commit: true,
        transactionVersion: 0,
      },
      {
        topic: 't',
        partition: 1,
        producerId: p.producerId,
        producerEpoch: 0,
        coordinatorEpoch: 7,
        commit: true,
        transactionVersion: 0,
      },
      {
        topic: 'u',
        partition: 0,
        producerId: p.producerId,
        producerEpoch: 0,
        coordinatorEpoch: 7,
        commit: true,
        transactionVersion: 0,
      },
    ]);
    const done = h.store.history('txn').at(-1);
    expect(done).toMatchObject({ state: 'CompleteCommit', producerEpoch: 0 });
    expect(done?.partitions.size).toBe(0);
    expect(h.describe()).toMatchObject({ transactionState: 'CompleteCommit', topics: [] });
  });

  it('abort writes ABORT markers and CompleteAbort', async () => {
    const h = Harness.started();
    const p = await ongoing(h, [['t', 0]]);
    expect((await h.end(p, false)).errorCode).toBe(ErrorCode.NONE);
    await settle();
    expect(h.store.states('txn').slice(-2)).toEqual(['PrepareAbort', 'CompleteAbort']);
    expect(h.markers.written.map((m) => m.commit)).toEqual([false]);
  });

  it('a retried EndTxn: same result NONE, opposite INVALID_TXN_STATE; while completing CONCURRENT_TRANSACTIONS', async () => {
    const h = Harness.started();
    const p = await ongoing(h, [['t', 0]]);
    h.markers.failPartition('t', 0, ErrorCode.NOT_LEADER_OR_FOLLOWER, 1);
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.NONE);
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    await h.advance(100);
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.NONE);
    expect((await h.end(p, false)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(await h.add(p)).toBe(ErrorCode.NONE);
    expect((await h.end(p, false)).errorCode).toBe(ErrorCode.NONE);
    await settle();
    expect((await h.end(p, false)).errorCode).toBe(ErrorCode.NONE);
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('EndTxn on Empty is INVALID_TXN_STATE; stale epoch PRODUCER_FENCED; unknown id INVALID_PRODUCER_ID_MAPPING', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect((await h.end(p, false)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect((await h.end({ ...p, producerEpoch: 1 }, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await h.end({ ...p, producerId: 1n }, true)).errorCode).toBe(
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    expect((await h.end(p, true, 'nope')).errorCode).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    expect((await h.end(p, true, '')).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('a failed PrepareCommit append leaves the transaction Ongoing and sends no markers', async () => {
    const h = Harness.started();
    const p = await ongoing(h);
    h.store.failNext(ErrorCode.NOT_ENOUGH_REPLICAS);
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(h.state()).toBe('Ongoing');
    expect(h.markers.calls).toHaveLength(0);
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.NONE);
    await settle();
    expect(h.state()).toBe('CompleteCommit');
  });

  it('markers are retried with backoff until every partition succeeds; the txn lists only those left', async () => {
    const h = Harness.started({ markerRetryBackoffMs: 200 });
    const p = await ongoing(h);
    h.markers.failPartition('t', 1, ErrorCode.NOT_LEADER_OR_FOLLOWER, 2);
    h.markers.failPartition('u', 0, ErrorCode.REQUEST_TIMED_OUT, 1);
    await h.end(p, true);
    await settle();
    expect(h.describe()).toMatchObject({
      transactionState: 'PrepareCommit',
      topics: [
        { topic: 't', partitions: [1] },
        { topic: 'u', partitions: [0] },
      ],
    });
    await h.advance(199);
    expect(h.markers.calls).toHaveLength(1);
    await h.advance(1);
    expect(h.markers.calls).toHaveLength(2);
    expect(h.markers.calls[1].partitions).toEqual([
      { topic: 't', partition: 1 },
      { topic: 'u', partition: 0 },
    ]);
    expect(h.state()).toBe('PrepareCommit');
    await h.advance(200);
    expect(h.markers.calls[2].partitions).toEqual([{ topic: 't', partition: 1 }]);
    expect(h.state()).toBe('CompleteCommit');
    expect(h.markers.written.map((m) => `${m.topic}-${m.partition}`).sort()).toEqual(['t-0', 't-1', 'u-0']);
  });

  it('a marker writer that rejects is retried', async () => {
    const h = Harness.started();
    const p = await ongoing(h, [['t', 0]]);
    h.markers.rejectNext = 2;
    await h.end(p, true);
    await settle();
    expect(h.state()).toBe('PrepareCommit');
    await h.advance(100);
    await h.advance(100);
    expect(h.state()).toBe('CompleteCommit');
    expect(h.markers.calls).toHaveLength(3);
  });

  it('a deleted partition (UNKNOWN_TOPIC_OR_PARTITION) is dropped, the rest completes', async () => {
    const h = Harness.started();
    const p = await ongoing(h, [
      ['gone', 0],
      ['t', 0],
    ]);
    h.markers.deleted.add('gone-0');
    await h.end(p, true);
    await settle();
    expect(h.state()).toBe('CompleteCommit');
    expect(h.markers.written.map((m) => m.topic)).toEqual(['t']);
    expect(h.logs.some((l) => l.msg?.includes('no longer exists'))).toBe(true);
  });

  it('a fenced marker (INVALID_PRODUCER_EPOCH) stops the completion, as Kafka', async () => {
    const h = Harness.started();
    const p = await ongoing(h, [['t', 0]]);
    h.markers.failPartition('t', 0, ErrorCode.INVALID_PRODUCER_EPOCH);
    await h.end(p, true);
    await h.advance(1000);
    expect(h.state()).toBe('PrepareCommit');
    expect(h.markers.calls).toHaveLength(1);
  });

  it('a failed completion record is retried (the transaction stays busy meanwhile)', async () => {
    const h = Harness.started();
    const p = await ongoing(h, [['t', 0]]);
    // PrepareCommit is held; once it is released the CompleteCommit append fails twice.
    h.store.hold();
    const end = track(h.end(p, true));
    await settle();
    h.store.failNext(ErrorCode.NOT_ENOUGH_REPLICAS, 2);
    h.store.release();
    await settle();
    expect(end.value.errorCode).toBe(ErrorCode.NONE);
    expect(h.markers.written).toHaveLength(1);
    expect(h.state()).toBe('PrepareCommit');
    expect((await h.init()).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    await h.advance(100);
    expect(h.state()).toBe('PrepareCommit');
    await h.advance(100);
    expect(h.state()).toBe('CompleteCommit');
    expect(h.store.states('txn')).toEqual(['Empty', 'Ongoing', 'PrepareCommit', 'CompleteCommit']);
    // Markers were not written again.
    expect(h.markers.written).toHaveLength(1);
  });

  it('shutdown stops marker retries', async () => {
    const h = Harness.started();
    const p = await ongoing(h, [['t', 0]]);
    h.markers.failPartition('t', 0, ErrorCode.NOT_LEADER_OR_FOLLOWER, 100);
    await h.end(p, true);
    await settle();
    h.coordinator.shutdown();
    await h.coordinator.awaitCompletions();
    const calls = h.markers.calls.length;
    await h.advance(10000);
    expect(h.markers.calls).toHaveLength(calls);
    expect(h.time.pendingTasks).toBe(0);
  });

  it('a full transaction with offsets: markers go to the __consumer_offsets partition too', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    await h.add(p, [['t', 2]]);
    await h.coordinator.addOffsetsToTxn('txn', p.producerId, p.producerEpoch, 'g');
    await h.end(p, true);
    await settle();
    expect(h.markers.written.map((m) => `${m.topic}-${m.partition}`)).toEqual([
      't-2',
      '__consumer_offsets-1',
    ]);
  });
});

describe('completing a transaction', () => {
  it('the completion record is not awaited for durability; every other state is', async () => {
    const h = Harness.started();
    const p = await ongoing(h);
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.NONE);
    await settle();
    expect(h.state()).toBe('CompleteCommit');
    const written = h.store.records.map((r) => [
      h.store.states('txn')[h.store.records.indexOf(r)],
      r.durable,
    ]);
    expect(written).toEqual([
      ['Empty', true],
      ['Ongoing', true],
      ['PrepareCommit', true],
      ['CompleteCommit', false],
    ]);
  });

  it('with completionWaitMs, the next AddPartitions waits for the markers instead of CONCURRENT_TRANSACTIONS', async () => {
    const h = Harness.started({ completionWaitMs: 5000, markerRetryBackoffMs: 100 });
    const p = await ongoing(h, [['t', 0]]);
    h.markers.failPartition('t', 0, ErrorCode.NOT_LEADER_OR_FOLLOWER, 1);
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.NONE);
    const next = track(h.add(p, [['t', 1]]));
    await settle();
    expect(next.done).toBe(false); // the markers are retried after the backoff
    await h.advance(100);
    expect(next.value).toBe(ErrorCode.NONE);
    expect(h.state()).toBe('Ongoing');
  });

  it('answers CONCURRENT_TRANSACTIONS once completionWaitMs passes (and at once without it)', async () => {
    const waiting = Harness.started({ completionWaitMs: 300, markerRetryBackoffMs: 100 });
    const p = await ongoing(waiting, [['t', 0]]);
    waiting.markers.failPartition('t', 0, ErrorCode.NOT_LEADER_OR_FOLLOWER, 10);
    expect((await waiting.end(p, true)).errorCode).toBe(ErrorCode.NONE);
    const next = track(waiting.add(p, [['t', 1]]));
    await waiting.advance(299);
    expect(next.done).toBe(false);
    await waiting.advance(1);
    expect(next.value).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);

    const h = Harness.started({ markerRetryBackoffMs: 100 });
    const q = await ongoing(h, [['t', 0]]);
    h.markers.failPartition('t', 0, ErrorCode.NOT_LEADER_OR_FOLLOWER, 1);
    expect((await h.end(q, true)).errorCode).toBe(ErrorCode.NONE);
    expect(await h.add(q, [['t', 1]])).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
  });
});
