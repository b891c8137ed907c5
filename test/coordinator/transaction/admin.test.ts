// DescribeTransactions and ListTransactions.

import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { Harness, settle } from './helpers.js';

describe('DescribeTransactions', () => {
  it('describes each id in request order, unknown ones TRANSACTIONAL_ID_NOT_FOUND', async () => {
    const h = Harness.started();
    const p = await h.initOk('a', 30000);
    await h.add(
      p,
      [
        ['t', 1],
        ['t', 0],
        ['u', 3],
      ],
      'a',
    );
    const start = h.time.now();
    await h.initOk('b');
    const r = h.coordinator.describeTransactions(['b', 'nope', 'a', '']);
    expect(r[0]).toMatchObject({
      errorCode: ErrorCode.NONE,
      transactionalId: 'b',
      transactionState: 'Empty',
      transactionStartTimeMs: -1n,
    });
    expect(r[1]).toMatchObject({ errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, transactionalId: 'nope' });
    expect(r[2]).toEqual({
      errorCode: ErrorCode.NONE,
      transactionalId: 'a',
      transactionState: 'Ongoing',
      transactionTimeoutMs: 30000,
      transactionStartTimeMs: BigInt(start),
      producerId: p.producerId,
      producerEpoch: 0,
      topics: [
        { topic: 't', partitions: [0, 1] },
        { topic: 'u', partitions: [3] },
      ],
    });
    expect(r[3].errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('an id whose first InitProducerId is still being written is not found yet', async () => {
    const h = Harness.started();
    h.store.hold();
    const init = h.init('new');
    await settle();
    expect(h.describe('new').errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    expect(h.coordinator.listTransactions().transactionStates).toEqual([]);
    h.store.release();
    await init;
    expect(h.describe('new').transactionState).toBe('Empty');
  });

  it('COORDINATOR_NOT_AVAILABLE after shutdown', () => {
    const h = Harness.started();
    h.coordinator.shutdown();
    expect(h.describe('x').errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(h.coordinator.listTransactions().errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });
});

describe('ListTransactions', () => {
  async function setup() {
    const h = Harness.started();
    const a = await h.initOk('a');
    await h.add(a, [['t', 0]], 'a'); // Ongoing since t0
    await h.advance(5000);
    const b = await h.initOk('b');
    await h.add(b, [['t', 1]], 'b'); // Ongoing since t0 + 5 s
    await h.end(b, true, 'b');
    await settle(); // CompleteCommit
    const c = await h.initOk('c'); // Empty
    await h.advance(1000);
    return { h, a, b, c };
  }

  const ids = (r: { transactionStates: Array<{ transactionalId: string }> }) =>
    r.transactionStates.map((s) => s.transactionalId).sort();

  it('lists everything without filters', async () => {
    const { h, a } = await setup();
    const r = h.coordinator.listTransactions();
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(ids(r)).toEqual(['a', 'b', 'c']);
    expect(r.transactionStates.find((s) => s.transactionalId === 'a')).toEqual({
      transactionalId: 'a',
      producerId: a.producerId,
      transactionState: 'Ongoing',
    });
  });

  it('filters by state, reporting unknown state names', async () => {
    const { h } = await setup();
    const r = h.coordinator.listTransactions({ stateFilters: ['Ongoing', 'Bogus'] });
    expect(ids(r)).toEqual(['a']);
    expect(r.unknownStateFilters).toEqual(['Bogus']);
    expect(ids(h.coordinator.listTransactions({ stateFilters: ['CompleteCommit', 'Empty'] }))).toEqual([
      'b',
      'c',
    ]);
  });

  it('filters by producer id', async () => {
    const { h, b, c } = await setup();
    expect(
      ids(h.coordinator.listTransactions({ producerIdFilters: [b.producerId, c.producerId, 99n] })),
    ).toEqual(['b', 'c']);
  });

  it('filters by duration: only transactions started longer ago than the filter', async () => {
    const { h } = await setup();
    // a started 6 s ago, b 1 s ago (its start time stays after completion), c never (-1: always matches, as Kafka).
    expect(
      ids(
        h.coordinator.listTransactions({
          durationFilterMs: 3000,
          stateFilters: ['Ongoing', 'CompleteCommit'],
        }),
      ),
    ).toEqual(['a']);
    expect(ids(h.coordinator.listTransactions({ durationFilterMs: -1 }))).toEqual(['a', 'b', 'c']);
    expect(
      ids(
        h.coordinator.listTransactions({
          durationFilterMs: 500n,
          stateFilters: ['Ongoing', 'CompleteCommit'],
        }),
      ),
    ).toEqual(['a', 'b']);
  });

  it('combines filters', async () => {
    const { h, a } = await setup();
    expect(
      ids(
        h.coordinator.listTransactions({ stateFilters: ['Ongoing'], producerIdFilters: [a.producerId + 1n] }),
      ),
    ).toEqual([]);
  });
});
