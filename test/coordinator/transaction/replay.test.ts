// A coordinator rebuilt by replaying __transaction_state: last record wins, tombstones remove,
// Prepare* transactions are completed at startup, Ongoing ones are left to the timeout.

import { describe, expect, it } from 'vitest';
import { transactionLogKey } from '../../../src/coordinator/transaction/records.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { Harness, settle } from './helpers.js';

describe('replay', () => {
  it('restores every id with the last record winning', async () => {
    const h = Harness.started();
    const a = await h.initOk('a');
    await h.add(a, [['t', 0]], 'a');
    await h.end(a, true, 'a');
    await settle();
    const b = await h.initOk('b');
    await h.initOk('b');
    const h2 = h.reload();
    expect(h2.describe('a')).toMatchObject({
      transactionState: 'CompleteCommit',
      producerId: a.producerId,
      producerEpoch: 0,
      topics: [],
    });
    expect(h2.describe('b')).toMatchObject({
      transactionState: 'Empty',
      producerId: b.producerId,
      producerEpoch: 1,
    });
    // It serves on: the next bump continues from the loaded epoch.
    expect(await h2.initOk('b')).toEqual({ producerId: b.producerId, producerEpoch: 2 });
  });

  it('a tombstone removes the id', async () => {
    const h = Harness.started();
    await h.initOk('gone');
    h.store.records.push({
      partition: h.coordinator.partitionFor('gone'),
      key: transactionLogKey('gone'),
      value: null,
    });
    const h2 = h.reload();
    expect(h2.describe('gone').errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  });

  it('requests before startup get COORDINATOR_LOAD_IN_PROGRESS', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    h.coordinator.shutdown();
    const h2 = new Harness(
      {},
      { time: h.time, store: h.store, markers: h.markers, nextProducerId: h.nextProducerId },
    );
    for (const r of h.store.records) h2.coordinator.replay(r.partition, r.key, r.value);
    expect(await h2.add(p)).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(h2.describe().errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(h2.coordinator.listTransactions().errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    h2.coordinator.startup();
    expect(await h2.add(p)).toBe(ErrorCode.NONE);
  });

  it('a restart mid-commit (PrepareCommit written, markers not) completes the commit at startup', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    await h.add(p, [
      ['t', 0],
      ['t', 1],
    ]);
    // The markers never get through before the "crash".
    h.markers.failPartition('t', 0, ErrorCode.NOT_LEADER_OR_FOLLOWER, 1);
    h.markers.failPartition('t', 1, ErrorCode.NOT_LEADER_OR_FOLLOWER, 1);
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.NONE);
    expect(h.store.states('txn').at(-1)).toBe('PrepareCommit');
    const h2 = h.reload();
    await settle();
    expect(h2.state()).toBe('CompleteCommit');
    expect(h2.store.states('txn')).toEqual(['Empty', 'Ongoing', 'PrepareCommit', 'CompleteCommit']);
    expect(h2.markers.written.map((m) => [m.partition, m.commit, m.producerEpoch])).toEqual([
      [0, true, 0],
      [1, true, 0],
    ]);
    // Nothing was retried by the old coordinator after shutdown.
    await h2.advance(1000);
    expect(h2.markers.calls).toHaveLength(2);
    // The producer's retried EndTxn gets NONE.
    expect((await h2.end(p, true)).errorCode).toBe(ErrorCode.NONE);
  });

  it('a restart mid-abort (V2) completes the abort with the bumped epoch', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    await h.add(p, [['t', 0]], 'txn', true);
    h.markers.rejectNext = 1;
    const r = await h.end(p, false, 'txn', true);
    expect(r.producerEpoch).toBe(1);
    const h2 = h.reload();
    await settle();
    expect(h2.describe()).toMatchObject({ transactionState: 'CompleteAbort', producerEpoch: 1 });
    expect(h2.markers.written).toMatchObject([{ commit: false, producerEpoch: 1, transactionVersion: 2 }]);
    // The V2 retry of that EndTxn still works after the restart.
    expect(await h2.end(p, false, 'txn', true)).toEqual({
      errorCode: ErrorCode.NONE,
      producerId: p.producerId,
      producerEpoch: 1,
    });
  });

  it('a restart mid-transaction (Ongoing) leaves it to the timeout, which aborts it', async () => {
    const h = Harness.started();
    const p = await h.initOk('txn', 20000);
    await h.add(p, [['t', 0]]);
    const h2 = h.reload();
    await settle();
    expect(h2.state()).toBe('Ongoing');
    expect(h2.markers.calls).toHaveLength(0);
    // The producer (if alive) can still finish it before the timeout...
    // ...but here it does not: the timeout check aborts it.
    await h2.advance(30000);
    expect(h2.state()).toBe('CompleteAbort');
    expect(h2.markers.written).toMatchObject([{ topic: 't', partition: 0, commit: false }]);
    expect(await h2.add(p)).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('after a restart, the loaded last epoch is unknown: a KIP-360 retry of the last bump is fenced', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    await h.init('txn', 60000, p); // epoch 1, last epoch 0 in memory only
    const h2 = h.reload();
    expect((await h2.init('txn', 60000, p)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await h2.init('txn', 60000, { ...p, producerEpoch: 1 })).producerEpoch).toBe(2);
  });

  it('unreadable records and unknown versions are skipped with a warning', () => {
    const h = new Harness();
    h.coordinator.replay(0, Buffer.from([0, 9, 1, 2]), Buffer.from([0, 0]));
    h.coordinator.replay(0, transactionLogKey('x'), Buffer.from([0, 7, 1, 2, 3]));
    h.coordinator.replay(0, transactionLogKey('y'), Buffer.from([0, 1, 1]));
    h.coordinator.startup();
    expect(h.logs.filter((l) => l.level === 'warn')).toHaveLength(3);
    expect(h.coordinator.listTransactions().transactionStates).toEqual([]);
  });
});
