// TransactionMetadata: Kafka's valid transitions and the two-step (prepare, complete) state change.

import { describe, expect, it } from 'vitest';
import {
  isValidTransition,
  TopicPartitionSet,
  TRANSACTION_STATES,
  TransactionMetadata,
  type TransactionState,
  type TxnTransit,
} from '../../../src/coordinator/transaction/metadata.js';

function txn(state: TransactionState, over: Partial<TxnTransit> = {}): TransactionMetadata {
  return new TransactionMetadata(
    'id',
    {
      producerId: 10n,
      prevProducerId: -1n,
      nextProducerId: -1n,
      producerEpoch: 4,
      lastProducerEpoch: -1,
      txnTimeoutMs: 1000,
      state,
      partitions: new TopicPartitionSet(state === 'Empty' ? [] : [{ topic: 't', partition: 0 }]),
      txnStartTimestamp: state === 'Empty' ? -1 : 50,
      txnLastUpdateTimestamp: 60,
      clientTransactionVersion: 0,
      ...over,
    },
    true,
  );
}

describe('TransactionMetadata', () => {
  it('has Kafka’s valid previous states', () => {
    const valid = TRANSACTION_STATES.flatMap((to) =>
      TRANSACTION_STATES.filter((from) => isValidTransition(from, to)).map((from) => `${from}->${to}`),
    );
    expect(valid.sort()).toEqual(
      [
        'Empty->Empty',
        'CompleteCommit->Empty',
        'CompleteAbort->Empty',
        'Ongoing->Ongoing',
        'Empty->Ongoing',
        'CompleteCommit->Ongoing',
        'CompleteAbort->Ongoing',
        'Ongoing->PrepareCommit',
        'Ongoing->PrepareAbort',
        'PrepareEpochFence->PrepareAbort',
        'Empty->PrepareAbort',
        'CompleteCommit->PrepareAbort',
        'CompleteAbort->PrepareAbort',
        'PrepareCommit->CompleteCommit',
        'PrepareAbort->CompleteAbort',
        'Empty->Dead',
        'CompleteAbort->Dead',
        'CompleteCommit->Dead',
        'Ongoing->PrepareEpochFence',
      ].sort(),
    );
  });

  it('prepare sets the pending state without changing anything; complete applies; abort drops', () => {
    const t = txn('Ongoing');
    const next = t.prepareAbortOrCommit('PrepareCommit', 0, -1n, 100, false);
    expect(t.pendingState).toBe('PrepareCommit');
    expect(t.state).toBe('Ongoing');
    expect(() => t.prepareAbortOrCommit('PrepareAbort', 0, -1n, 100, false)).toThrow(/pending/);
    t.abortTransition();
    expect(t.pendingState).toBeNull();
    const again = t.prepareAbortOrCommit('PrepareCommit', 0, -1n, 100, false);
    t.completeTransition(again);
    expect(t.state).toBe('PrepareCommit');
    expect(t.txnLastUpdateTimestamp).toBe(100);
    expect(next.producerEpoch).toBe(4);
  });

  it('refuses invalid transitions', () => {
    expect(() => txn('Empty').prepareAbortOrCommit('PrepareCommit', 0, -1n, 1, false)).toThrow(
      /invalid transition/,
    );
    expect(() => txn('PrepareCommit').prepareAddPartitions([], 1, 0)).toThrow(/invalid transition/);
    expect(() => txn('Ongoing').prepareDead()).toThrow(/invalid transition/);
  });

  it('V2 end bumps the epoch; the fence bumps once more; an abort at MAX does not overflow', () => {
    expect(txn('Ongoing').prepareAbortOrCommit('PrepareCommit', 2, -1n, 1, false)).toMatchObject({
      producerEpoch: 5,
      lastProducerEpoch: 4,
    });
    expect(txn('Ongoing').prepareAbortOrCommit('PrepareAbort', 2, -1n, 1, false, true)).toMatchObject({
      producerEpoch: 6,
      lastProducerEpoch: 5,
    });
    expect(txn('Ongoing').prepareAbortOrCommit('PrepareAbort', 0, -1n, 1, false, true)).toMatchObject({
      producerEpoch: 5,
      lastProducerEpoch: -1,
    });
    expect(
      txn('Ongoing', { producerEpoch: 32767 }).prepareAbortOrCommit('PrepareAbort', 2, -1n, 1, false, true),
    ).toMatchObject({ producerEpoch: 32767 });
  });

  it('prepareComplete rotates to the next producer id only for V2', () => {
    const v2 = txn('PrepareCommit', {
      clientTransactionVersion: 2,
      nextProducerId: 11n,
      producerEpoch: 32767,
    });
    expect(v2.prepareComplete(5)).toMatchObject({
      producerId: 11n,
      producerEpoch: 0,
      prevProducerId: 10n,
      nextProducerId: -1n,
    });
    const v1 = txn('PrepareAbort', { nextProducerId: 11n });
    expect(v1.prepareComplete(5)).toMatchObject({
      producerId: 10n,
      producerEpoch: 4,
      state: 'CompleteAbort',
    });
  });

  it('an exhausted epoch may still answer a KIP-360 retry without a bump, but never bumps', () => {
    const t = txn('CompleteCommit', { producerEpoch: 32766, lastProducerEpoch: 32765 });
    expect(t.prepareIncrementProducerEpoch(1000, 32765, 1)).toMatchObject({ producerEpoch: 32766 });
    t.abortTransition();
    expect(t.prepareIncrementProducerEpoch(1000, 3, 1)).toBe('fenced');
    expect(() => t.prepareIncrementProducerEpoch(1000, null, 1)).toThrow(/exhausted|more producer epochs/);
  });
});
