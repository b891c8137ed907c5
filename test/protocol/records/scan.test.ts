// scanRecords (the allocation-free walk the broker validates produced records with) must agree
// with the full decoder: same records accepted, same fields seen, same inputs refused.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/protocol/primitives/reader.js';
import {
  encodeRecordBatch,
  RECORD_BATCH_OVERHEAD,
  readRecordBatchHeader,
  scanRecords,
} from '../../../src/protocol/records/index.js';
import { readRecords } from '../../../src/protocol/records/record.js';

const record = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
  headers: fc.array(
    fc.record({
      key: fc.string({ maxLength: 5 }),
      value: fc.option(fc.uint8Array({ maxLength: 5 }), { nil: null }),
    }),
    { maxLength: 3 },
  ),
  timestamp: fc.integer({ min: 0, max: 2 ** 40 }),
});

function both(batch: Buffer) {
  const h = readRecordBatchHeader(batch);
  const end = batch.length;
  let scanned: unknown[] | Error;
  let decoded: unknown[] | Error;
  try {
    const out: unknown[] = [];
    scanRecords(batch, RECORD_BATCH_OVERHEAD, end, h.recordCount, (i, td, od, kl) =>
      out.push([i, td, od, kl]),
    );
    scanned = out;
  } catch (e) {
    scanned = e as Error;
  }
  try {
    decoded = readRecords(
      batch,
      RECORD_BATCH_OVERHEAD,
      end,
      h.recordCount,
      Number(h.baseTimestamp),
      null,
    ).map((r, i) => [
      i,
      r.timestamp - Number(h.baseTimestamp),
      r.offsetDelta,
      r.key === null ? -1 : r.key.length,
    ]);
  } catch (e) {
    decoded = e as Error;
  }
  return { scanned, decoded };
}

describe('scanRecords', () => {
  it('sees what the decoder sees on well-formed batches', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 20 }), (recs) => {
        const { scanned, decoded } = both(encodeRecordBatch(recs));
        expect(scanned).toEqual(decoded);
      }),
    );
  });

  it('refuses exactly what the decoder refuses when record bytes are corrupted', () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (recs, at, byte) => {
          const batch = encodeRecordBatch(recs);
          batch[RECORD_BATCH_OVERHEAD + (at % (batch.length - RECORD_BATCH_OVERHEAD))] = byte;
          const { scanned, decoded } = both(batch);
          if (decoded instanceof Error) expect(scanned).toBeInstanceOf(DecodeError);
          else expect(scanned).toEqual(decoded);
        },
      ),
    );
  });
});
