// InitProducerId with a transactional id: new ids, epoch bumps and fencing, KIP-360, exhaustion,
// validation, lifecycle and store failures.

import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { Harness, settle, TIMEOUT_MS, track } from './helpers.js';

describe('InitProducerId', () => {
  it('gives a new transactional id a fresh producer id at epoch 0, written as Empty', async () => {
    const h = Harness.started();
    const r = await h.init('txn');
    expect(r).toEqual({ errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 0 });
    expect(h.store.states('txn')).toEqual(['Empty']);
    const [rec] = h.store.history('txn');
    expect(rec).toMatchObject({
      producerId: 1000n,
      producerEpoch: 0,
      txnTimeoutMs: TIMEOUT_MS,
      txnStartTimestamp: -1,
    });
    expect(h.store.records[0].partition).toBe(h.coordinator.partitionFor('txn'));
    expect(h.state()).toBe('Empty');
  });

  it('a null transactional id (idempotent producer) gets a new id at epoch 0 and writes nothing', async () => {
    const h = Harness.started();
    expect(await h.coordinator.initProducerId(null, 0)).toEqual({
      errorCode: ErrorCode.NONE,
      producerId: 1000n,
      producerEpoch: 0,
    });
    expect((await h.coordinator.initProducerId(null, 0)).producerId).toBe(1001n);
    expect(h.store.records).toHaveLength(0);
  });

  it('re-init bumps the epoch of the same producer id (fencing the older producer)', async () => {
    const h = Harness.started();
    const first = await h.initOk();
    const second = await h.initOk();
    expect(second).toEqual({ producerId: first.producerId, producerEpoch: 1 });
    // The old producer is fenced.
    expect(await h.add(first)).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await h.end(first, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await h.add(second)).toBe(ErrorCode.NONE);
  });

  it('re-init during an ongoing transaction aborts it with a bumped epoch, answering CONCURRENT_TRANSACTIONS', async () => {
    const h = Harness.started({ transactionVersionLevel: 1 });
    const p = await h.initOk();
    expect(
      await h.add(p, [
        ['t', 0],
        ['t', 1],
      ]),
    ).toBe(ErrorCode.NONE);
    const r = await h.init();
    expect(r).toEqual({ errorCode: ErrorCode.CONCURRENT_TRANSACTIONS, producerId: -1n, producerEpoch: -1 });
    await settle();
    // The abort fenced the epoch (TV1: +1), wrote ABORT markers, then completed.
    expect(h.store.states('txn')).toEqual(['Empty', 'Ongoing', 'PrepareAbort', 'CompleteAbort']);
    expect(h.markers.written.map((m) => [m.partition, m.commit, m.producerEpoch])).toEqual([
      [0, false, 1],
      [1, false, 1],
    ]);
    // The old producer is fenced; the retry gets the next epoch.
    expect(await h.add(p)).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await h.initOk()).toEqual({ producerId: p.producerId, producerEpoch: 2 });
  });

  it('with transaction.version 2 the fencing abort bumps twice (fence + V2 end), markers carry it', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    await h.add(p);
    expect((await h.init()).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    await settle();
    expect(h.markers.written.map((m) => m.producerEpoch)).toEqual([2]);
    expect(h.describe()).toMatchObject({ transactionState: 'CompleteAbort', producerEpoch: 2 });
    expect(await h.initOk()).toEqual({ producerId: p.producerId, producerEpoch: 3 });
  });

  it('answers CONCURRENT_TRANSACTIONS while a commit completes, then bumps', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    await h.add(p);
    h.markers.failPartition('t', 0, ErrorCode.NOT_LEADER_OR_FOLLOWER, 1);
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.NONE);
    expect((await h.init()).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    await h.advance(100);
    expect(h.state()).toBe('CompleteCommit');
    expect((await h.init()).errorCode).toBe(ErrorCode.NONE);
  });

  it('a second InitProducerId while the first is being written gets CONCURRENT_TRANSACTIONS', async () => {
    const h = Harness.started();
    await h.initOk();
    h.store.hold();
    const first = track(h.init());
    await settle();
    expect((await h.init()).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    h.store.release();
    await settle();
    expect(first.value).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 1 });
  });

  it('concurrent first InitProducerIds for a new id: one wins, the other is told to retry', async () => {
    const h = Harness.started();
    const [a, b] = await Promise.all([h.init(), h.init()]);
    expect([a.errorCode, b.errorCode].sort()).toEqual(
      [ErrorCode.NONE, ErrorCode.CONCURRENT_TRANSACTIONS].sort(),
    );
    expect(h.store.states('txn')).toEqual(['Empty']);
  });

  it('rejects a timeout above transaction.max.timeout.ms or not positive', async () => {
    const h = Harness.started({ transactionMaxTimeoutMs: 900000 });
    expect((await h.init('txn', 900001)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await h.init('txn', 0)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await h.init('txn', -5)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await h.init('txn', 900000)).errorCode).toBe(ErrorCode.NONE);
  });

  it('an empty transactional id is INVALID_REQUEST', async () => {
    const h = Harness.started();
    expect((await h.init('')).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('re-init records the new transaction timeout', async () => {
    const h = Harness.started();
    await h.initOk('txn', 1000);
    await h.initOk('txn', 5000);
    expect(h.describe().transactionTimeoutMs).toBe(5000);
  });

  it('an exhausted epoch (Short.MAX - 1) rotates to a new producer id at epoch 0', async () => {
    const h = Harness.started();
    const p = await h.initOk();
    // Walk the epoch up through replayed history: write a record at MAX-1 and reload.
    const k = h.store.records[0].key;
    const { transactionLogValue } = await import('../../../src/coordinator/transaction/records.js');
    const { TopicPartitionSet } = await import('../../../src/coordinator/transaction/metadata.js');
    h.store.records.push({
      partition: h.store.records[0].partition,
      key: k,
      value: transactionLogValue(
        {
          producerId: p.producerId,
          prevProducerId: -1n,
          nextProducerId: -1n,
          producerEpoch: 32766,
          lastProducerEpoch: -1,
          txnTimeoutMs: TIMEOUT_MS,
          state: 'CompleteCommit',
          partitions: new TopicPartitionSet(),
          txnStartTimestamp: 1,
          txnLastUpdateTimestamp: h.time.now(),
          clientTransactionVersion: 0,
        },
        1,
      ),
    });
    const h2 = h.reload();
    const r = await h2.initOk();
    expect(r).toEqual({ producerId: 1001n, producerEpoch: 0 });
    expect(h2.store.history('txn').at(-1)).toMatchObject({ producerId: 1001n, prevProducerId: p.producerId });
  });

  it('a producer id allocation failure is returned', async () => {
    const h = Harness.started();
    h.producerIdFailure = ErrorCode.NOT_ENOUGH_REPLICAS;
    expect((await h.init()).errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    expect(h.describe().errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  });

  describe('KIP-360 expected producer id and epoch', () => {
    it('bumps when the expected id and epoch are current', async () => {
      const h = Harness.started();
      const p = await h.initOk();
      const r = await h.init('txn', TIMEOUT_MS, p);
      expect(r).toEqual({ errorCode: ErrorCode.NONE, producerId: p.producerId, producerEpoch: 1 });
    });

    it('a retry of a successful bump (expected = last epoch) gets the current epoch again', async () => {
      const h = Harness.started();
      const p = await h.initOk();
      await h.init('txn', TIMEOUT_MS, p); // -> epoch 1, last epoch 0
      const retry = await h.init('txn', TIMEOUT_MS, p);
      expect(retry).toEqual({ errorCode: ErrorCode.NONE, producerId: p.producerId, producerEpoch: 1 });
    });

    it('a stale epoch is PRODUCER_FENCED', async () => {
      const h = Harness.started();
      const p = await h.initOk();
      await h.initOk(); // another producer: epoch 1, last epoch -1
      await h.initOk(); // epoch 2
      expect((await h.init('txn', TIMEOUT_MS, p)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    });

    it('another producer id is PRODUCER_FENCED', async () => {
      const h = Harness.started();
      await h.initOk();
      const r = await h.init('txn', TIMEOUT_MS, { producerId: 555n, producerEpoch: 0 });
      expect(r.errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    });

    it('a brand-new transactional id accepts any expected id (recovery from UNKNOWN_PRODUCER_ID)', async () => {
      const h = Harness.started();
      const r = await h.init('fresh', TIMEOUT_MS, { producerId: 555n, producerEpoch: 3 });
      expect(r).toEqual({ errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 0 });
    });
  });

  describe('store failures', () => {
    it('a failed first write forgets the id; the error is translated as Kafka does', async () => {
      const h = Harness.started();
      h.store.failNext(ErrorCode.NOT_ENOUGH_REPLICAS);
      expect((await h.init()).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      expect(h.describe().errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
      expect(await h.initOk()).toEqual({ producerId: 1001n, producerEpoch: 0 });
    });

    it('a failed bump leaves the state as it was', async () => {
      const h = Harness.started();
      const p = await h.initOk();
      h.store.failNext(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      expect((await h.init()).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
      h.store.failNext(ErrorCode.MESSAGE_TOO_LARGE);
      expect((await h.init()).errorCode).toBe(ErrorCode.UNKNOWN_SERVER_ERROR);
      expect(h.describe().producerEpoch).toBe(0);
      expect(await h.add(p)).toBe(ErrorCode.NONE);
    });
  });

  describe('lifecycle', () => {
    it('COORDINATOR_LOAD_IN_PROGRESS before startup, NOT_COORDINATOR after shutdown', async () => {
      const h = new Harness();
      expect((await h.init()).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
      h.coordinator.startup();
      const p = await h.initOk();
      h.coordinator.shutdown();
      expect((await h.init()).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
      expect(await h.add(p)).toBe(ErrorCode.NOT_COORDINATOR);
      expect((await h.end(p, true)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    });

    it('an append that resolves after shutdown is not applied and answers NOT_COORDINATOR', async () => {
      const h = Harness.started();
      await h.initOk();
      h.store.hold();
      const r = track(h.init());
      await settle();
      h.coordinator.shutdown();
      h.store.release();
      await settle();
      expect(r.value.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    });
  });

  it('partitionFor is Kafka’s abs(String.hashCode) % partitions', () => {
    const h = new Harness();
    // "txn".hashCode() = 116 * 31^2 + 120 * 31 + 110 = 115306; 115306 % 50 = 6
    expect(h.coordinator.partitionFor('txn')).toBe(6);
    // "polygenelubricants".hashCode() = Integer.MIN_VALUE -> 0
    expect(h.coordinator.partitionFor('polygenelubricants')).toBe(0);
  });
});
