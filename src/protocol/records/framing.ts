// Framing of a `records` field (Produce/Fetch, a log segment slice): a sequence of v2 batches and/or
// legacy messages, framed alike as [offset int64][size int32][size bytes] with the magic byte at 16.
// As Kafka's ByteBufferLogInputStream: a size below the smallest message or above the caller's
// maximum is corruption, while a trailing entry cut short (Fetch responses end mid-batch when
// they hit max bytes) is reported, not an error.

import { DecodeError } from '../primitives/reader.js';
import {
  LEGACY_RECORD_OVERHEAD_V0,
  LEGACY_RECORD_OVERHEAD_V1,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  RECORD_BATCH_OVERHEAD,
} from './constants.js';

export interface RecordSetEntry {
  /** Byte position of the entry in the records field. */
  position: number;
  magic: number;
  /** v2: the batch's baseOffset; legacy: the message's offset (a wrapper's is its last inner offset). */
  offset: bigint;
  /** The whole entry, offset and size fields included: a view, not a copy. */
  bytes: Buffer;
}

export interface SplitRecordSet {
  entries: RecordSetEntry[];
  /** Bytes of an incomplete trailing entry (0 if none), left out of `entries`. */
  partialBytes: number;
}

const MIN_SIZE_BY_MAGIC = [
  LEGACY_RECORD_OVERHEAD_V0,
  LEGACY_RECORD_OVERHEAD_V1,
  RECORD_BATCH_OVERHEAD - LOG_OVERHEAD,
];

/**
 * Frames the entries of a records field without decoding them. `maxEntryBytes` bounds one entry's
 * size field (e.g. the broker's message.max.bytes); larger is treated as corruption.
 */
export function splitRecordSet(records: Buffer, maxEntryBytes = 0x7fffffff): SplitRecordSet {
  const entries: RecordSetEntry[] = [];
  let pos = 0;
  while (pos < records.length) {
    const remaining = records.length - pos;
    if (remaining < LOG_OVERHEAD) return { entries, partialBytes: remaining };
    const size = records.readInt32BE(pos + 8);
    if (size < LEGACY_RECORD_OVERHEAD_V0) {
      throw new DecodeError(`entry at ${pos} has size ${size}, below the smallest message`);
    }
    if (size > maxEntryBytes)
      throw new DecodeError(`entry at ${pos} has size ${size}, above ${maxEntryBytes}`);
    if (remaining < LOG_OVERHEAD + size) return { entries, partialBytes: remaining };
    const magic = records.readInt8(pos + MAGIC_OFFSET);
    if (magic < 0 || magic > MAGIC_V2) throw new DecodeError(`entry at ${pos} has unknown magic ${magic}`);
    if (size < MIN_SIZE_BY_MAGIC[magic]) {
      throw new DecodeError(`magic ${magic} entry at ${pos} has size ${size}, below its header`);
    }
    entries.push({
      position: pos,
      magic,
      offset: records.readBigInt64BE(pos),
      bytes: records.subarray(pos, pos + LOG_OVERHEAD + size),
    });
    pos += LOG_OVERHEAD + size;
  }
  return { entries, partialBytes: 0 };
}
