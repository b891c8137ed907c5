// Decoding a whole `records` field, whatever mix of magics it holds (a consumer's view of Fetch).

import { MAGIC_V2 } from './constants.js';
import { decodeRecordBatch } from './decode.js';
import { splitRecordSet } from './framing.js';
import { decodeLegacyEntry } from './legacy.js';
import type { DecodedBatch, DecodeOptions } from './types.js';

export interface DecodedRecordSet {
  batches: DecodedBatch[];
  partialBytes: number;
}

/**
 * Decodes every entry of a records field, whatever its magic (a consumer's view of a Fetch
 * response). v2 batches and legacy messages come out in the same shape; `partialBytes` reports
 * an incomplete trailing entry, which is skipped.
 */
export function decodeRecordSet(records: Buffer, options: DecodeOptions): DecodedRecordSet {
  const { entries, partialBytes } = splitRecordSet(records);
  const batches: DecodedBatch[] = [];
  for (const entry of entries) {
    batches.push(
      entry.magic === MAGIC_V2
        ? decodeRecordBatch(entry.bytes, options)
        : decodeLegacyEntry(entry.bytes, options),
    );
  }
  return { batches, partialBytes };
}
