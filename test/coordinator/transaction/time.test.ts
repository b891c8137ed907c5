// Timers: aborting transactions older than their timeout (fencing the producer), and expiring idle
// transactional ids.

import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { Harness, settle } from './helpers.js';

describe('transaction timeout', () => {
  it('an Ongoing transaction older than its timeout is aborted with a bumped epoch at the next check', async () => {
    const h = Harness.started({
      abortTimedOutTransactionCleanupIntervalMs: 10000,
      transactionVersionLevel: 1,
    });
    const p = await h.initOk('txn', 15000);
    await h.add(p, [['t', 0]]);
    await h.advance(10000);
    expect(h.state()).toBe('Ongoing'); // 10 s < 15 s
    await h.advance(10000);
    expect(h.describe()).toMatchObject({ transactionState: 'CompleteAbort', producerEpoch: 1 });
    expect(h.store.states('txn')).toEqual(['Empty', 'Ongoing', 'PrepareAbort', 'CompleteAbort']);
    expect(h.markers.written).toMatchObject([{ topic: 't', partition: 0, commit: false, producerEpoch: 1 }]);
    // The producer is fenced: its next requests fail.
    expect(await h.add(p, [['t', 1]])).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await h.end(p, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    // A new InitProducerId recovers.
    expect(await h.initOk()).toEqual({ producerId: p.producerId, producerEpoch: 2 });
  });

  it('with transaction.version 2 the timeout abort bumps twice; a V2 client is fenced', async () => {
    const h = Harness.started();
    const p = await h.initOk('txn', 1000);
    await h.add(p, [['t', 0]], 'txn', true);
    await h.advance(10000);
    expect(h.describe()).toMatchObject({ transactionState: 'CompleteAbort', producerEpoch: 2 });
    // Not a retry (epoch + 1 is 1, stored is 2): fenced.
    expect((await h.end(p, false, 'txn', true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await h.add(p, [['t', 0]], 'txn', true)).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('Empty, Complete* and pending transactions are not timed out', async () => {
    const h = Harness.started();
    await h.initOk('idle', 1000);
    const p = await h.initOk('busy', 1000);
    await h.add(p, [['t', 0]], 'busy');
    h.store.hold();
    const end = h.end(p, true, 'busy');
    await h.advance(20000);
    expect(h.state('idle')).toBe('Empty');
    expect(h.state('busy')).toBe('Ongoing'); // its PrepareCommit is being written
    h.store.release();
    await settle();
    expect((await end).errorCode).toBe(ErrorCode.NONE);
    expect(h.state('busy')).toBe('CompleteCommit');
    expect(h.markers.written.every((m) => m.commit)).toBe(true);
  });

  it('a failed timeout abort leaves the transaction Ongoing and is retried at the next check', async () => {
    const h = Harness.started();
    const p = await h.initOk('txn', 1000);
    await h.add(p, [['t', 0]]);
    h.store.failNext(ErrorCode.NOT_ENOUGH_REPLICAS);
    await h.advance(10000);
    expect(h.describe()).toMatchObject({ transactionState: 'Ongoing', producerEpoch: 0 });
    expect(h.logs.some((l) => l.msg === 'rollback of timed-out transaction failed')).toBe(true);
    await h.advance(10000);
    expect(h.state()).toBe('CompleteAbort');
  });
});

describe('transactional id expiration', () => {
  it('ids idle longer than transactional.id.expiration.ms in Empty/Complete* get a tombstone and are removed', async () => {
    const h = Harness.started({
      transactionalIdExpirationMs: 60000,
      removeExpiredTransactionalIdsIntervalMs: 30000,
    });
    await h.initOk('empty');
    const p = await h.initOk('done');
    await h.add(p, [['t', 0]], 'done');
    await h.end(p, true, 'done');
    const q = await h.initOk('open', 600000);
    await h.add(q, [['t', 1]], 'open');
    await h.advance(30000);
    expect(h.describe('empty').errorCode).toBe(ErrorCode.NONE);
    await h.advance(30000);
    expect(h.describe('empty').errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    expect(h.describe('done').errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    expect(h.describe('open').transactionState).toBe('Ongoing');
    expect(h.store.states('empty')).toEqual(['Empty', 'tombstone']);
    expect(h.store.states('done').at(-1)).toBe('tombstone');
    // The id starts over with a new producer id.
    expect((await h.initOk('empty')).producerId).toBe(1003n);
  });

  it('activity resets the idle clock', async () => {
    const h = Harness.started({
      transactionalIdExpirationMs: 60000,
      removeExpiredTransactionalIdsIntervalMs: 30000,
    });
    await h.initOk();
    await h.advance(45000);
    await h.initOk();
    await h.advance(45000);
    expect(h.describe().errorCode).toBe(ErrorCode.NONE);
    await h.advance(30000);
    expect(h.describe().errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  });

  it('a failed tombstone keeps the id', async () => {
    const h = Harness.started({
      transactionalIdExpirationMs: 1000,
      removeExpiredTransactionalIdsIntervalMs: 5000,
    });
    const p = await h.initOk();
    h.store.failNext(ErrorCode.NOT_ENOUGH_REPLICAS);
    await h.advance(5000);
    expect(h.describe().errorCode).toBe(ErrorCode.NONE);
    expect(await h.add(p)).toBe(ErrorCode.NONE);
  });

  it('while the tombstone is being written the id is busy and described as not found', async () => {
    const h = Harness.started({
      transactionalIdExpirationMs: 1000,
      removeExpiredTransactionalIdsIntervalMs: 5000,
    });
    const p = await h.initOk();
    h.store.hold();
    await h.advance(5000);
    expect(h.describe().errorCode).toBe(ErrorCode.NONE); // Dead is only pending
    expect(await h.add(p)).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    expect((await h.init()).errorCode).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    h.store.release();
    await settle();
    expect(h.describe().errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    expect(await h.add(p)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  });

  it('shutdown cancels the timers', async () => {
    const h = Harness.started();
    expect(h.time.pendingTasks).toBe(2);
    h.coordinator.shutdown();
    expect(h.time.pendingTasks).toBe(0);
  });
});
