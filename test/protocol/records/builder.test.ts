// RecordBatchBuilder (the producer's encode-on-append): the bytes it builds are encodeRecordBatch's
// for the same records, whatever the records, the codec and the producer state; the buffer grows
// past its initial size; a record it cannot write leaves it unchanged.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompressionType } from '../../../src/protocol/compression/index.js';
import { EncodeError } from '../../../src/protocol/primitives/writer.js';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  isRecordBatchCrcValid,
  RecordBatchBuilder,
  type RecordInput,
} from '../../../src/protocol/records/index.js';

const OPTS = { maxUncompressedBytes: 64 * 1024 * 1024 };

function build(records: RecordInput[], capacity: number, options = {}): Buffer {
  const b = new RecordBatchBuilder(capacity);
  for (const r of records) b.append(r.timestamp as number, r.key, r.value, r.headers);
  return b.build(options);
}

const bytes = fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null });
const record = fc.record({
  key: bytes,
  value: bytes,
  // Mostly near each other; sometimes far apart (varlong deltas past 2^28 and 2^35).
  timestamp: fc.oneof(
    {
      weight: 4,
      arbitrary: fc.integer({ min: 1_700_000_000_000 - 1_000_000, max: 1_700_000_000_000 + 1_000_000 }),
    },
    { weight: 1, arbitrary: fc.integer({ min: -1, max: 2 ** 45 }) },
  ),
  headers: fc.array(fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 8 }), value: bytes }), {
    maxLength: 3,
  }),
});

describe('RecordBatchBuilder', () => {
  it('builds the bytes encodeRecordBatch encodes (uncompressed, any records, small start)', () => {
    fc.assert(
      fc.property(
        fc.array(record, { maxLength: 60 }),
        fc.integer({ min: 0, max: 2000 }),
        fc.bigInt({ min: -1n, max: 2n ** 40n }),
        fc.integer({ min: -1, max: 0x7fff }),
        fc.integer({ min: -1, max: 0x7fffffff }),
        fc.boolean(),
        (records, capacity, producerId, producerEpoch, baseSequence, isTransactional) => {
          const options = { producerId, producerEpoch, baseSequence, isTransactional };
          const built = build(records, capacity, options);
          const expected = encodeRecordBatch(records, options);
          expect(built.toString('hex')).toBe(expected.toString('hex'));
        },
      ),
      { numRuns: 200 },
    );
  });

  for (const codec of [
    CompressionType.Gzip,
    CompressionType.Snappy,
    CompressionType.Lz4,
    CompressionType.Zstd,
  ]) {
    it(`compresses what it wrote (codec ${codec}) into a batch that decodes to the records`, () => {
      const records: RecordInput[] = Array.from({ length: 500 }, (_, i) => ({
        key: i % 7 === 0 ? null : Buffer.from(`key-${i}`),
        value: Buffer.from(`value ${i} `.repeat(i % 13)),
        timestamp: 1_700_000_000_000 + (i % 5) * 1000 - 2000,
        headers: i % 3 === 0 ? [{ key: 'h', value: Buffer.from([i & 0xff]) }] : [],
      }));
      const built = build(records, 100, {
        compression: codec,
        producerId: 7n,
        producerEpoch: 1,
        baseSequence: 9,
      });
      expect(isRecordBatchCrcValid(built)).toBe(true);
      const expected = encodeRecordBatch(records, {
        compression: codec,
        producerId: 7n,
        producerEpoch: 1,
        baseSequence: 9,
      });
      const a = decodeRecordBatch(built, OPTS);
      const b = decodeRecordBatch(expected, OPTS);
      expect(a.header).toEqual(b.header);
      expect(
        a.records.map((r) => [r.timestamp, r.key?.toString('hex') ?? null, r.value?.toString('hex')]),
      ).toEqual(
        b.records.map((r) => [r.timestamp, r.key?.toString('hex') ?? null, r.value?.toString('hex')]),
      );
    });
  }

  it('grows past its initial capacity without losing what it holds', () => {
    const b = new RecordBatchBuilder(0);
    const value = Buffer.alloc(5000, 7);
    for (let i = 0; i < 50; i++) b.append(1000 + i, null, value);
    const batch = b.build();
    expect(b.recordCount).toBe(50);
    expect(batch.length).toBe(b.sizeInBytes);
    const decoded = decodeRecordBatch(batch, OPTS);
    expect(decoded.records).toHaveLength(50);
    for (const [i, r] of decoded.records.entries()) {
      expect(r.timestamp).toBe(1000 + i);
      expect(r.value?.equals(value)).toBe(true);
    }
  });

  it('refuses a timestamp it cannot express and stays unchanged', () => {
    const b = new RecordBatchBuilder();
    b.append(1_700_000_000_000, null, Buffer.from('a'));
    const before = b.sizeInBytes;
    expect(() => b.append(1.5, null, Buffer.from('b'))).toThrow(EncodeError);
    expect(() => b.append(Number.NaN, null, Buffer.from('b'))).toThrow(EncodeError);
    expect(b.recordCount).toBe(1);
    expect(b.sizeInBytes).toBe(before);
    b.append(1_700_000_000_001, null, Buffer.from('c'));
    const values = decodeRecordBatch(b.build(), OPTS).records.map((r) => r.value?.toString());
    expect(values).toEqual(['a', 'c']);
  });

  it('an empty batch is its header alone, as encodeRecordBatch makes it', () => {
    expect(new RecordBatchBuilder().build({ compression: CompressionType.Gzip }).toString('hex')).toBe(
      encodeRecordBatch([], { compression: CompressionType.Gzip }).toString('hex'),
    );
  });
});
