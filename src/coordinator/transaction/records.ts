// Serde of the __transaction_state records (Kafka's TransactionLog).
//
// A key is an int16 version (0) followed by TransactionLogKey; a value an int16 version followed by
// TransactionLogValue, null for a tombstone (an expired transactional id). Kafka 4.x writes value
// version 1 (flexible: previous/next producer id and the client's transaction version as tagged
// fields) when the transaction.version feature is 2, version 0 below that; both are read. The
// partitions of an Empty transaction are written as null. lastProducerEpoch is not in the log: a
// loaded transaction has -1.

import { TransactionLogKey } from '../../protocol/generated/transaction-coordinator/TransactionLogKey.js';
import { TransactionLogValue } from '../../protocol/generated/transaction-coordinator/TransactionLogValue.js';
import type { MessageCodec } from '../../protocol/message.js';
import { DecodeError } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import {
  NO_PRODUCER_EPOCH,
  stateFromId,
  stateId,
  TopicPartitionSet,
  type TransactionState,
  type TxnTransit,
} from './metadata.js';

export const TRANSACTION_LOG_KEY_VERSION = 0;

/** Kafka's TransactionVersion.transactionLogValueVersion: 1 from transaction.version 2, else 0. */
export function transactionLogValueVersion(transactionVersionLevel: number): number {
  return transactionVersionLevel >= 2 ? 1 : 0;
}

function withVersion<T>(codec: MessageCodec<T>, version: number, body: T): Buffer {
  const w = new Writer(64);
  w.int16(version);
  codec.write(w, body, version);
  return w.finish();
}

function readVersion(buf: Buffer, what: string): number {
  if (buf.length < 2) throw new DecodeError(`${what}: ${buf.length} bytes, no version`);
  return buf.readInt16BE(0);
}

export function transactionLogKey(transactionalId: string): Buffer {
  return withVersion(TransactionLogKey, TRANSACTION_LOG_KEY_VERSION, { transactionalId });
}

export function transactionLogValue(t: TxnTransit, valueVersion: number): Buffer {
  if (t.state === 'Empty' && t.partitions.size > 0) {
    throw new Error(`an Empty transaction has no partitions (${t.partitions.size} given)`);
  }
  const value: TransactionLogValue = {
    producerId: t.producerId,
    previousProducerId: valueVersion >= 1 ? t.prevProducerId : -1n,
    nextProducerId: valueVersion >= 1 ? t.nextProducerId : -1n,
    producerEpoch: t.producerEpoch,
    transactionTimeoutMs: t.txnTimeoutMs,
    transactionStatus: stateId(t.state),
    transactionPartitions:
      t.state === 'Empty'
        ? null
        : t.partitions.byTopic().map(({ topic, partitions }) => ({ topic, partitionIds: partitions })),
    transactionLastUpdateTimestampMs: BigInt(t.txnLastUpdateTimestamp),
    transactionStartTimestampMs: BigInt(t.txnStartTimestamp),
    clientTransactionVersion: valueVersion >= 1 ? t.clientTransactionVersion : 0,
  };
  return withVersion(TransactionLogValue, valueVersion, value);
}

/** A key: the transactional id, or null for a key version this coordinator does not know. */
export function parseTransactionLogKey(buf: Buffer): string | null {
  const version = readVersion(buf, 'TransactionLogKey');
  if (version !== TRANSACTION_LOG_KEY_VERSION) return null;
  return TransactionLogKey.decode(buf.subarray(2), version).transactionalId;
}

/** A value as the state it restores (lastProducerEpoch -1: it is not logged). */
export function parseTransactionLogValue(buf: Buffer): TxnTransit {
  const version = readVersion(buf, 'TransactionLogValue');
  const v = TransactionLogValue.decode(buf.subarray(2), version);
  const state: TransactionState = stateFromId(v.transactionStatus);
  const partitions = new TopicPartitionSet();
  if (state !== 'Empty') {
    for (const p of v.transactionPartitions ?? []) {
      for (const id of p.partitionIds) partitions.add(p.topic, id);
    }
  }
  return {
    producerId: v.producerId,
    prevProducerId: v.previousProducerId,
    nextProducerId: v.nextProducerId,
    producerEpoch: v.producerEpoch,
    lastProducerEpoch: NO_PRODUCER_EPOCH,
    txnTimeoutMs: v.transactionTimeoutMs,
    state,
    partitions,
    txnStartTimestamp: Number(v.transactionStartTimestampMs),
    txnLastUpdateTimestamp: Number(v.transactionLastUpdateTimestampMs),
    clientTransactionVersion: v.clientTransactionVersion,
  };
}
