// __transaction_state records: the bytes we write and reading them (and Kafka's v0) back.

import { describe, expect, it } from 'vitest';
import {
  stateId,
  TopicPartitionSet,
  TRANSACTION_STATES,
  type TxnTransit,
} from '../../../src/coordinator/transaction/metadata.js';
import {
  parseTransactionLogKey,
  parseTransactionLogValue,
  transactionLogKey,
  transactionLogValue,
  transactionLogValueVersion,
} from '../../../src/coordinator/transaction/records.js';
import { TransactionLogValue } from '../../../src/protocol/generated/transaction-coordinator/TransactionLogValue.js';

function transit(over: Partial<TxnTransit> = {}): TxnTransit {
  return {
    producerId: 42n,
    prevProducerId: 41n,
    nextProducerId: -1n,
    producerEpoch: 3,
    lastProducerEpoch: -1,
    txnTimeoutMs: 60000,
    state: 'Ongoing',
    partitions: new TopicPartitionSet([
      { topic: 'b', partition: 2 },
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 1 },
    ]),
    txnStartTimestamp: 1000,
    txnLastUpdateTimestamp: 2000,
    clientTransactionVersion: 2,
    ...over,
  };
}

describe('transaction log records', () => {
  it('state ids are Kafka’s', () => {
    expect(TRANSACTION_STATES.map((s) => [s, stateId(s)])).toEqual([
      ['Empty', 0],
      ['Ongoing', 1],
      ['PrepareCommit', 2],
      ['PrepareAbort', 3],
      ['CompleteCommit', 4],
      ['CompleteAbort', 5],
      ['Dead', 6],
      ['PrepareEpochFence', 7],
    ]);
  });

  it('writes key v0 and reads it back', () => {
    const key = transactionLogKey('my-txn');
    expect(key.readInt16BE(0)).toBe(0);
    // int16 version, int16 length, bytes
    expect(key.length).toBe(2 + 2 + 6);
    expect(parseTransactionLogKey(key)).toBe('my-txn');
    const unknown = Buffer.from(key);
    unknown.writeInt16BE(1, 0);
    expect(parseTransactionLogKey(unknown)).toBeNull();
  });

  it('value version follows transaction.version: 1 from TV2, else 0', () => {
    expect(transactionLogValueVersion(2)).toBe(1);
    expect(transactionLogValueVersion(1)).toBe(0);
    expect(transactionLogValueVersion(0)).toBe(0);
  });

  it('round-trips a v1 value with previous/next producer id and client transaction version', () => {
    const t = transit({ nextProducerId: 99n });
    const bytes = transactionLogValue(t, 1);
    expect(bytes.readInt16BE(0)).toBe(1);
    const back = parseTransactionLogValue(bytes);
    expect(back).toMatchObject({
      producerId: 42n,
      prevProducerId: 41n,
      nextProducerId: 99n,
      producerEpoch: 3,
      lastProducerEpoch: -1,
      txnTimeoutMs: 60000,
      state: 'Ongoing',
      txnStartTimestamp: 1000,
      txnLastUpdateTimestamp: 2000,
      clientTransactionVersion: 2,
    });
    expect(back.partitions.byTopic()).toEqual([
      { topic: 'b', partitions: [1, 2] },
      { topic: 'a', partitions: [0] },
    ]);
  });

  it('v0 has no tagged fields: previous/next id -1 and client version 0 on read', () => {
    const bytes = transactionLogValue(transit({ nextProducerId: 99n }), 0);
    expect(bytes.readInt16BE(0)).toBe(0);
    const back = parseTransactionLogValue(bytes);
    expect(back.prevProducerId).toBe(-1n);
    expect(back.nextProducerId).toBe(-1n);
    expect(back.clientTransactionVersion).toBe(0);
    expect(back.producerId).toBe(42n);
  });

  it('an Empty transaction is written with null partitions; a non-empty Empty is refused', () => {
    const empty = transit({ state: 'Empty', partitions: new TopicPartitionSet(), txnStartTimestamp: -1 });
    const bytes = transactionLogValue(empty, 1);
    const decoded = TransactionLogValue.decode(bytes.subarray(2), 1);
    expect(decoded.transactionPartitions).toBeNull();
    expect(parseTransactionLogValue(bytes).partitions.size).toBe(0);
    expect(() => transactionLogValue(transit({ state: 'Empty' }), 1)).toThrow();
  });

  it('reads a v0 value as Kafka 3.x wrote it', () => {
    const body = TransactionLogValue.encode(
      {
        ...TransactionLogValue.default(),
        producerId: 7n,
        producerEpoch: 1,
        transactionTimeoutMs: 30000,
        transactionStatus: 2,
        transactionPartitions: [{ topic: 'x', partitionIds: [0, 3] }],
        transactionLastUpdateTimestampMs: 5n,
        transactionStartTimestampMs: 4n,
      },
      0,
    );
    const v = Buffer.alloc(2);
    v.writeInt16BE(0, 0);
    const back = parseTransactionLogValue(Buffer.concat([v, body]));
    expect(back.state).toBe('PrepareCommit');
    expect(back.partitions.byTopic()).toEqual([{ topic: 'x', partitions: [0, 3] }]);
    expect(back.txnStartTimestamp).toBe(4);
  });
});
