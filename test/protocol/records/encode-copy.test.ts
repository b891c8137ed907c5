// encodeRecordBatch writes an uncompressed batch into one buffer: finish() must not concatenate
// (copy the batch again) because the last varints reserved more than the exact size.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeRecordBatch, encodeRecordBatch } from '../../../src/protocol/records/index.js';

describe('encodeRecordBatch', () => {
  afterEach(() => vi.restoreAllMocks());

  it('builds an uncompressed batch of small records without Buffer.concat', () => {
    const concat = vi.spyOn(Buffer, 'concat');
    for (const n of [1, 2, 10, 100]) {
      const records = Array.from({ length: n }, (_, i) => ({
        key: Buffer.from(`k${i}`),
        value: Buffer.alloc(i * 7, 1),
        headers: i % 2 === 0 ? [{ key: 'h', value: Buffer.from('v') }] : undefined,
        timestamp: 1_700_000_000_000 + i,
      }));
      const batch = encodeRecordBatch(records, { producerId: 5n, producerEpoch: 1, baseSequence: 0 });
      expect(decodeRecordBatch(batch, { maxUncompressedBytes: 1 << 20 }).records).toHaveLength(n);
    }
    expect(concat).not.toHaveBeenCalled();
  });
});
