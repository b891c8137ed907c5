// Control records (isControl batches): the transaction markers written by the transaction
// coordinator, and the KRaft control records. Key => version int16, type int16. An end-transaction
// marker's value => version int16, coordinatorEpoch int32 (EndTransactionMarker.java).

import { DecodeError } from '../primitives/reader.js';
import { NO_SEQUENCE } from './constants.js';
import { type EncodeBatchOptions, encodeRecordBatch } from './encode.js';
import type { KafkaRecord } from './types.js';

export const ControlRecordType = {
  Abort: 0,
  Commit: 1,
  LeaderChange: 2,
  SnapshotHeader: 3,
  SnapshotFooter: 4,
  KRaftVersion: 5,
  KRaftVoters: 6,
} as const;
export type ControlRecordType = (typeof ControlRecordType)[keyof typeof ControlRecordType];

const CONTROL_KEY_VERSION = 0;
const END_TXN_MARKER_VERSION = 0;

export function encodeControlRecordKey(type: number, version = CONTROL_KEY_VERSION): Buffer {
  const key = Buffer.allocUnsafe(4);
  key.writeInt16BE(version, 0);
  key.writeInt16BE(type, 2);
  return key;
}

/** Reads a control record key. Newer key versions are accepted: they only append fields. */
export function decodeControlRecordKey(key: Buffer | null): { version: number; type: number } {
  if (key === null || key.length < 4)
    throw new DecodeError(`invalid control record key (${key?.length ?? 'null'} bytes)`);
  const version = key.readInt16BE(0);
  if (version < 0) throw new DecodeError(`invalid control record key version ${version}`);
  return { version, type: key.readInt16BE(2) };
}

export function encodeEndTxnMarkerValue(coordinatorEpoch: number, version = END_TXN_MARKER_VERSION): Buffer {
  const value = Buffer.allocUnsafe(6);
  value.writeInt16BE(version, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return value;
}

export function decodeEndTxnMarkerValue(value: Buffer | null): { version: number; coordinatorEpoch: number } {
  if (value === null || value.length < 6) {
    throw new DecodeError(`invalid end transaction marker value (${value?.length ?? 'null'} bytes)`);
  }
  const version = value.readInt16BE(0);
  if (version < 0) throw new DecodeError(`invalid end transaction marker version ${version}`);
  return { version, coordinatorEpoch: value.readInt32BE(2) };
}

export interface EndTxnMarker {
  commit: boolean;
  coordinatorEpoch: number;
}

/** Reads a COMMIT/ABORT marker record; other control types raise DecodeError. */
export function decodeEndTxnMarker(record: KafkaRecord): EndTxnMarker {
  const { type } = decodeControlRecordKey(record.key);
  if (type !== ControlRecordType.Abort && type !== ControlRecordType.Commit) {
    throw new DecodeError(`control record type ${type} is not a transaction marker`);
  }
  return {
    commit: type === ControlRecordType.Commit,
    coordinatorEpoch: decodeEndTxnMarkerValue(record.value).coordinatorEpoch,
  };
}

export interface EndTxnMarkerBatchOptions {
  commit: boolean;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  timestamp: number;
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
}

/**
 * The one-record control batch a transaction coordinator writes to each partition on commit or
 * abort (MemoryRecords.withEndTransactionMarker): transactional, control, no sequence, uncompressed.
 */
export function encodeEndTxnMarkerBatch(o: EndTxnMarkerBatchOptions): Buffer {
  const options: EncodeBatchOptions = {
    baseOffset: o.baseOffset ?? 0n,
    partitionLeaderEpoch: o.partitionLeaderEpoch,
    producerId: o.producerId,
    producerEpoch: o.producerEpoch,
    baseSequence: NO_SEQUENCE,
    isTransactional: true,
    isControl: true,
  };
  const key = encodeControlRecordKey(o.commit ? ControlRecordType.Commit : ControlRecordType.Abort);
  return encodeRecordBatch(
    [{ key, value: encodeEndTxnMarkerValue(o.coordinatorEpoch), timestamp: o.timestamp }],
    options,
  );
}
