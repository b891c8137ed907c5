// In-place patches the broker applies to a v2 batch as received, without re-encoding records
// (DefaultRecordBatch.setLastOffset / setPartitionLeaderEpoch / setMaxTimestamp).
//
// baseOffset and partitionLeaderEpoch lie before the attributes, outside the CRC, so patching them
// keeps the CRC valid for free. The timestamp type (an attribute bit) and maxTimestamp lie inside
// it, so changing them recomputes the CRC over the batch (one pass of CRC-32C, no record decoding).

import { DecodeError } from '../primitives/reader.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  CRC_OFFSET,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  RECORD_BATCH_OVERHEAD,
  TIMESTAMP_TYPE_MASK,
  TimestampType,
} from './constants.js';
import { computeRecordBatchCrc } from './header.js';

function ensureV2(batch: Buffer): void {
  if (batch.length < RECORD_BATCH_OVERHEAD) throw new DecodeError('not a complete record batch header');
  const magic = batch.readInt8(MAGIC_OFFSET);
  if (magic !== MAGIC_V2) throw new DecodeError(`cannot patch a magic ${magic} entry as a v2 batch`);
}

/**
 * Sets the first offset of the batch (or of a legacy message: its offset sits at byte 0 too).
 * Outside the CRC: nothing else changes.
 */
export function setBaseOffset(batch: Buffer, baseOffset: bigint): void {
  batch.writeBigInt64BE(baseOffset, BASE_OFFSET_OFFSET);
}

/** Stamps the leader's epoch. Outside the CRC. */
export function setPartitionLeaderEpoch(batch: Buffer, epoch: number): void {
  ensureV2(batch);
  batch.writeInt32BE(epoch, PARTITION_LEADER_EPOCH_OFFSET);
}

/**
 * Sets the timestamp type bit and maxTimestamp, then rewrites the CRC. A no-op when both already
 * hold the values, as in Java (saves the CRC pass for CreateTime batches on the append path).
 */
export function setMaxTimestamp(
  batch: Buffer,
  timestampType: typeof TimestampType.CreateTime | typeof TimestampType.LogAppendTime,
  maxTimestamp: bigint | number,
): void {
  ensureV2(batch);
  const ts = BigInt(maxTimestamp);
  const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET);
  const newAttributes =
    timestampType === TimestampType.LogAppendTime
      ? attributes | TIMESTAMP_TYPE_MASK
      : attributes & ~TIMESTAMP_TYPE_MASK;
  if (newAttributes === attributes && batch.readBigInt64BE(MAX_TIMESTAMP_OFFSET) === ts) return;
  batch.writeInt16BE(newAttributes, ATTRIBUTES_OFFSET);
  batch.writeBigInt64BE(ts, MAX_TIMESTAMP_OFFSET);
  batch.writeUInt32BE(computeRecordBatchCrc(batch), CRC_OFFSET);
}

/** What a broker does for topics with message.timestamp.type=LogAppendTime. */
export function setLogAppendTime(batch: Buffer, timestamp: bigint | number): void {
  setMaxTimestamp(batch, TimestampType.LogAppendTime, timestamp);
}
