// Record batches of the metadata log: the data batches the leader appends for proposals, the
// LeaderChange control batch that opens every leader epoch (KIP-595), and the framing of the
// `records` field of a Fetch response. Batches are Kafka v2 batches, byte for byte what the
// real adapter will write to __cluster_metadata-0 and put on the wire.

import { LeaderChangeMessage } from '../protocol/generated/index.js';
import { RECORD_BATCH_OVERHEAD } from '../protocol/records/constants.js';
import { ControlRecordType, encodeControlRecordKey } from '../protocol/records/control.js';
import { decodeRecordBatch } from '../protocol/records/decode.js';
import { encodeRecordBatch } from '../protocol/records/encode.js';
import { ensureRecordBatchCrc, readRecordBatchHeader, recordBatchSize } from '../protocol/records/header.js';
import type { RaftBatch } from './log.js';

/** LeaderChangeMessage version written (the one without directory ids, static voters). */
const LEADER_CHANGE_VERSION = 0;

export function buildDataBatch(
  baseOffset: number,
  epoch: number,
  values: readonly Uint8Array[],
  timestampMs: number,
): RaftBatch {
  if (values.length === 0) throw new Error('a batch needs at least one record');
  const bytes = encodeRecordBatch(
    values.map((value) => ({ value })),
    { baseOffset: BigInt(baseOffset), partitionLeaderEpoch: epoch, defaultTimestamp: timestampMs },
  );
  return { baseOffset, lastOffset: baseOffset + values.length - 1, epoch, bytes };
}

export function buildLeaderChangeBatch(
  baseOffset: number,
  epoch: number,
  leaderId: number,
  voters: readonly number[],
  grantingVoters: readonly number[],
  timestampMs: number,
): RaftBatch {
  const value = LeaderChangeMessage.encode(
    {
      version: LEADER_CHANGE_VERSION,
      leaderId,
      voters: voters.map((voterId) => ({ voterId, voterDirectoryId: ZERO_UUID })),
      grantingVoters: grantingVoters.map((voterId) => ({ voterId, voterDirectoryId: ZERO_UUID })),
    },
    LEADER_CHANGE_VERSION,
  );
  const bytes = encodeRecordBatch([{ key: encodeControlRecordKey(ControlRecordType.LeaderChange), value }], {
    baseOffset: BigInt(baseOffset),
    partitionLeaderEpoch: epoch,
    defaultTimestamp: timestampMs,
    isControl: true,
  });
  return { baseOffset, lastOffset: baseOffset, epoch, bytes };
}

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** The `records` field of a Fetch response: the batches back to back. */
export function concatBatches(batches: readonly RaftBatch[]): Buffer {
  if (batches.length === 1) return batches[0].bytes;
  return Buffer.concat(batches.map((b) => b.bytes));
}

/**
 * Splits a `records` field into batches, checking each CRC. A trailing batch cut short (a fetch
 * that hit its byte limit) is left out, as Kafka's readers do; anything else malformed throws.
 */
export function splitBatches(records: Buffer | null): RaftBatch[] {
  const out: RaftBatch[] = [];
  if (records === null) return out;
  let pos = 0;
  while (records.length - pos >= RECORD_BATCH_OVERHEAD) {
    const size = recordBatchSize(records, pos);
    if (size < RECORD_BATCH_OVERHEAD) throw new Error(`record batch of ${size} bytes`);
    if (pos + size > records.length) break;
    const bytes = records.subarray(pos, pos + size);
    const header = readRecordBatchHeader(bytes);
    ensureRecordBatchCrc(bytes);
    const baseOffset = Number(header.baseOffset);
    out.push({
      baseOffset,
      lastOffset: baseOffset + header.lastOffsetDelta,
      epoch: header.partitionLeaderEpoch,
      bytes,
    });
    pos += size;
  }
  return out;
}

/** The values of a data batch's records (control batches: the raw control values). */
export function batchValues(batch: RaftBatch): Buffer[] {
  const decoded = decodeRecordBatch(batch.bytes, { maxUncompressedBytes: 64 * 1024 * 1024 });
  return decoded.records.map((r) => r.value ?? Buffer.alloc(0));
}

export function isControlBatch(batch: RaftBatch): boolean {
  return readRecordBatchHeader(batch.bytes).isControl;
}
