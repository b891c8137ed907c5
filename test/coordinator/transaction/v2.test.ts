// Transaction V2 (KIP-890 part 2, EndTxn v5+): the epoch is bumped at every end of transaction and
// returned to the client, so a delayed request of an older transaction can never act on a newer one.

import { describe, expect, it } from 'vitest';
import { TopicPartitionSet } from '../../../src/coordinator/transaction/metadata.js';
import { transactionLogValue } from '../../../src/coordinator/transaction/records.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { Harness, settle, TIMEOUT_MS, track } from './helpers.js';

const V2 = true;

describe('EndTxn with transaction V2', () => {
  it('commit bumps the epoch: PrepareCommit and markers carry it, the response returns it', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    await h.add(p, [['t', 0]], 'txn', V2);
    const r = await h.end(p, true, 'txn', V2);
    expect(r).toEqual({ errorCode: ErrorCode.NONE, producerId: p.producerId, producerEpoch: 1 });
    await settle();
    expect(
      h.store.history('txn').map((t) => [t?.state, t?.producerEpoch, t?.clientTransactionVersion]),
    ).toEqual([
      ['Empty', 0, 0],
      ['Ongoing', 0, 2],
      ['PrepareCommit', 1, 2],
      ['CompleteCommit', 1, 2],
    ]);
    expect(h.markers.written).toMatchObject([{ producerEpoch: 1, commit: true, transactionVersion: 2 }]);
    // The next transaction uses the new epoch; the old one is fenced.
    expect(await h.add(p, [['t', 0]], 'txn', V2)).toBe(ErrorCode.PRODUCER_FENCED);
    const next = { producerId: r.producerId, producerEpoch: r.producerEpoch };
    expect(await h.add(next, [['t', 0]], 'txn', V2)).toBe(ErrorCode.NONE);
    expect((await h.end(next, false, 'txn', V2)).producerEpoch).toBe(2);
  });

  it('a retried EndTxn (epoch one behind) of a completed transaction gets NONE and the current epoch', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    await h.add(p, [['t', 0]], 'txn', V2);
    await h.end(p, true, 'txn', V2);
    await settle();
    const retry = await h.end(p, true, 'txn', V2);
    expect(retry).toEqual({ errorCode: ErrorCode.NONE, producerId: p.producerId, producerEpoch: 1 });
    // The opposite result for the retried epoch is INVALID_TXN_STATE.
    expect((await h.end(p, false, 'txn', V2)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    // Nothing more was written.
    expect(h.store.states('txn')).toEqual(['Empty', 'Ongoing', 'PrepareCommit', 'CompleteCommit']);
  });

  it('a retry while the markers are still being written is CONCURRENT_TRANSACTIONS', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    await h.add(p, [['t', 0]], 'txn', V2);
    h.markers.failPartition('t', 0, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    await h.end(p, true, 'txn', V2);
    expect((await h.end(p, true, 'txn', V2)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    await h.advance(100);
    expect((await h.end(p, true, 'txn', V2)).errorCode).toBe(ErrorCode.NONE);
  });

  it('Empty / Complete* with the current epoch: abort bumps (no partitions, completes at once), commit is INVALID_TXN_STATE', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    expect((await h.end(p, true, 'txn', V2)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    const a = await h.end(p, false, 'txn', V2);
    expect(a).toEqual({ errorCode: ErrorCode.NONE, producerId: p.producerId, producerEpoch: 1 });
    await settle();
    expect(h.describe()).toMatchObject({ transactionState: 'CompleteAbort', producerEpoch: 1 });
    expect(h.markers.calls).toHaveLength(0);
    // CompleteAbort + current epoch: abort again bumps again; commit is invalid.
    const cur = { producerId: a.producerId, producerEpoch: a.producerEpoch };
    expect((await h.end(cur, true, 'txn', V2)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect((await h.end(cur, false, 'txn', V2)).producerEpoch).toBe(2);
  });

  it('Empty with the epoch one behind (a retry that cannot be) is PRODUCER_FENCED', async () => {
    const h = Harness.started();
    await h.initOk();
    const p1 = await h.initOk(); // epoch 1, Empty
    expect((await h.end({ ...p1, producerEpoch: 0 }, false, 'txn', V2)).errorCode).toBe(
      ErrorCode.PRODUCER_FENCED,
    );
  });

  it('the delayed old-epoch EndTxn can never commit the next transaction (the Jepsen anomaly)', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    // Transaction 1 on epoch 0: its EndTxn(commit) is sent twice (a client retry); the first answer wins.
    await h.add(p, [['t', 0]], 'txn', V2);
    const first = await h.end(p, true, 'txn', V2);
    await settle();
    const e1 = { producerId: first.producerId, producerEpoch: first.producerEpoch };
    // Transaction 2 starts on epoch 1 and writes to another partition.
    expect(await h.add(e1, [['t', 1]], 'txn', V2)).toBe(ErrorCode.NONE);
    expect(h.state()).toBe('Ongoing');
    // The delayed duplicate of transaction 1's EndTxn arrives now.
    const delayed = await h.end(p, true, 'txn', V2);
    expect(delayed.errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    // A delayed AddPartitions of transaction 1 cannot join transaction 2 either.
    expect(await h.add(p, [['t', 2]], 'txn', V2)).toBe(ErrorCode.PRODUCER_FENCED);
    expect(
      h.coordinator.verifyPartitionsInTxn('txn', p.producerId, p.producerEpoch, [
        { topic: 't', partition: 1 },
      ])[0].errorCode,
    ).toBe(ErrorCode.PRODUCER_FENCED);
    // Transaction 2 is still ongoing with only its own partition; nothing committed it.
    expect(h.describe()).toMatchObject({
      transactionState: 'Ongoing',
      topics: [{ topic: 't', partitions: [1] }],
    });
    expect(h.markers.written.filter((m) => m.partition === 1)).toHaveLength(0);
    // Its own EndTxn (abort) works and aborts it.
    expect((await h.end(e1, false, 'txn', V2)).errorCode).toBe(ErrorCode.NONE);
    await settle();
    expect(h.markers.written.at(-1)).toMatchObject({ partition: 1, commit: false, producerEpoch: 2 });
  });

  it('with transaction V1 the same delayed EndTxn would apply to the next transaction (why V2 exists)', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    await h.add(p, [['t', 0]]);
    await h.end(p, true);
    await settle();
    await h.add(p, [['t', 1]]);
    // Same epoch throughout: the delayed commit is accepted and commits transaction 2 early.
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.NONE);
  });

  it('a bump that exhausts the epoch hands out the next producer id at epoch 0', async () => {
    const h = new Harness();
    const pid = 500n;
    const key = (await import('../../../src/coordinator/transaction/records.js')).transactionLogKey('txn');
    h.store.records.push({
      partition: h.coordinator.partitionFor('txn'),
      key,
      value: transactionLogValue(
        {
          producerId: pid,
          prevProducerId: -1n,
          nextProducerId: -1n,
          producerEpoch: 32766,
          lastProducerEpoch: -1,
          txnTimeoutMs: TIMEOUT_MS,
          state: 'Ongoing',
          partitions: new TopicPartitionSet([{ topic: 't', partition: 0 }]),
          txnStartTimestamp: h.time.now(),
          txnLastUpdateTimestamp: h.time.now(),
          clientTransactionVersion: 2,
        },
        1,
      ),
    });
    const h2 = h.reload();
    const p = { producerId: pid, producerEpoch: 32766 };
    const r = await h2.end(p, true, 'txn', V2);
    expect(r).toEqual({ errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 0 });
    await settle();
    // Markers carry the old id at epoch MAX; the completion rotates to the next id.
    expect(h2.markers.written).toMatchObject([{ producerId: pid, producerEpoch: 32767 }]);
    expect(h2.store.history('txn').slice(-2)).toMatchObject([
      { state: 'PrepareCommit', producerId: pid, producerEpoch: 32767, nextProducerId: 1000n },
      {
        state: 'CompleteCommit',
        producerId: 1000n,
        producerEpoch: 0,
        prevProducerId: pid,
        nextProducerId: -1n,
      },
    ]);
    // A retry of the overflowing EndTxn (old id, MAX-1) is recognised: NONE with the new id.
    expect(await h2.end(p, true, 'txn', V2)).toEqual({
      errorCode: ErrorCode.NONE,
      producerId: 1000n,
      producerEpoch: 0,
    });
    // The new id works.
    expect(await h2.add({ producerId: 1000n, producerEpoch: 0 }, [['t', 0]], 'txn', V2)).toBe(ErrorCode.NONE);
  });

  it('the V2 EndTxn waits for a producer id while the epoch rotates, holding the transaction', async () => {
    const h = new Harness();
    h.store.records.push({
      partition: h.coordinator.partitionFor('txn'),
      key: (await import('../../../src/coordinator/transaction/records.js')).transactionLogKey('txn'),
      value: transactionLogValue(
        {
          producerId: 5n,
          prevProducerId: -1n,
          nextProducerId: -1n,
          producerEpoch: 32766,
          lastProducerEpoch: -1,
          txnTimeoutMs: TIMEOUT_MS,
          state: 'Ongoing',
          partitions: new TopicPartitionSet([{ topic: 't', partition: 0 }]),
          txnStartTimestamp: h.time.now(),
          txnLastUpdateTimestamp: h.time.now(),
          clientTransactionVersion: 2,
        },
        1,
      ),
    });
    const h2 = h.reload();
    h2.producerIdFailure = ErrorCode.NOT_ENOUGH_REPLICAS;
    const p = { producerId: 5n, producerEpoch: 32766 };
    expect((await h2.end(p, true, 'txn', V2)).errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    expect(h2.state()).toBe('Ongoing');
    h2.producerIdFailure = null;
    h2.store.hold();
    const r = track(h2.end(p, true, 'txn', V2));
    await settle();
    expect((await h2.end(p, true, 'txn', V2)).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    h2.store.release();
    await settle();
    expect(r.value.errorCode).toBe(ErrorCode.NONE);
  });
});
