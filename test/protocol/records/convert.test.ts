// Conversion between v2 batches and magic 0/1 message sets (Produce v0-2 up, Fetch v0-3 down).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompressionType } from '../../../src/protocol/compression/types.js';
import {
  decodeLegacyMessageSet,
  decodeRecordBatch,
  downConvertBatch,
  encodeEndTxnMarkerBatch,
  encodeRecordBatch,
  TimestampType,
  upConvertMessageSet,
} from '../../../src/protocol/records/index.js';

const MAX = 64 << 20;
const LEGACY_CODECS = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
];

const record = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 200 }), { nil: null }),
  timestamp: fc.integer({ min: 0, max: 2 ** 42 }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 5 }), value: fc.constant(Buffer.from('h')) }), {
    maxLength: 2,
  }),
});

const buf = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b));

describe('down-conversion and back', () => {
  it('a v2 batch converted to magic 1 and back keeps keys, values, timestamps and offsets', () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 30 }),
        fc.constantFrom(...LEGACY_CODECS),
        fc.bigInt({ min: 0n, max: 2n ** 40n }),
        (records, codec, baseOffset) => {
          const batch = encodeRecordBatch(records, { baseOffset, compression: codec });
          const legacy = downConvertBatch(batch, 1, { firstOffset: 0n, maxUncompressedBytes: MAX })!;
          // The message set read as a Fetch v2/v3 client reads it: the same offsets, keys, values, timestamps.
          const { batches, partialBytes } = decodeLegacyMessageSet(legacy, { maxUncompressedBytes: MAX });
          expect(partialBytes).toBe(0);
          const read = batches.flatMap((b) =>
            b.records.map((r) => ({ ...r, offset: b.baseOffset + BigInt(r.offsetDelta) })),
          );
          expect(batches.every((b) => b.magic === 1 && b.compression === codec)).toBe(true);
          expect(read.map((r) => r.offset)).toEqual(records.map((_, i) => baseOffset + BigInt(i)));
          // Up again, as a Produce v2 would send it: one v2 batch with the same records.
          const up = upConvertMessageSet(legacy, MAX);
          const back = decodeRecordBatch(up.batch, { maxUncompressedBytes: MAX });
          expect(up.sourceCompression).toBe(codec);
          expect(back.records.map((r) => [r.key, r.value, r.timestamp, r.offsetDelta])).toEqual(
            records.map((r, i) => [buf(r.key), buf(r.value), r.timestamp, i]),
          );
          // Headers are what the old format cannot carry.
          expect(back.records.every((r) => r.headers.length === 0)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('magic 0 keeps keys, values and offsets and drops the timestamps', () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 20 }),
        fc.constantFrom(...LEGACY_CODECS),
        (records, codec) => {
          const batch = encodeRecordBatch(records, { baseOffset: 100n, compression: codec });
          const legacy = downConvertBatch(batch, 0, { firstOffset: 0n, maxUncompressedBytes: MAX })!;
          const { batches } = decodeLegacyMessageSet(legacy, { maxUncompressedBytes: MAX });
          const read = batches.flatMap((b) =>
            b.records.map((r) => ({ ...r, offset: b.baseOffset + BigInt(r.offsetDelta) })),
          );
          expect(
            batches.every((b) => b.magic === 0 && b.timestampType === TimestampType.NoTimestampType),
          ).toBe(true);
          expect(read.map((r) => [r.offset, r.key, r.value, r.timestamp])).toEqual(
            records.map((r, i) => [100n + BigInt(i), buf(r.key), buf(r.value), -1]),
          );
          const back = decodeRecordBatch(upConvertMessageSet(legacy, MAX).batch, {
            maxUncompressedBytes: MAX,
          });
          expect(back.records.map((r) => [r.key, r.value, r.timestamp])).toEqual(
            records.map((r) => [buf(r.key), buf(r.value), -1]),
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('leaves out records below the fetch offset, skips control batches, refuses zstd', () => {
    const batch = encodeRecordBatch(
      [0, 1, 2, 3].map((i) => ({ value: Buffer.from(`v${i}`), timestamp: 1000 + i })),
      { baseOffset: 10n, compression: CompressionType.Gzip },
    );
    const legacy = downConvertBatch(batch, 1, { firstOffset: 12n, maxUncompressedBytes: MAX })!;
    const { batches } = decodeLegacyMessageSet(legacy, { maxUncompressedBytes: MAX });
    expect(batches).toHaveLength(1); // one wrapper
    expect(batches[0].baseOffset).toBe(12n);
    expect(batches[0].lastOffset).toBe(13n);
    expect(batches[0].records.map((r) => r.value?.toString())).toEqual(['v2', 'v3']);
    expect(downConvertBatch(batch, 1, { firstOffset: 14n, maxUncompressedBytes: MAX })).toBeNull();

    const marker = encodeEndTxnMarkerBatch({
      baseOffset: 20n,
      producerId: 1n,
      producerEpoch: 0,
      commit: true,
      coordinatorEpoch: 0,
      timestamp: 5,
    });
    expect(downConvertBatch(marker, 1, { firstOffset: 0n, maxUncompressedBytes: MAX })).toBeNull();

    const zstd = encodeRecordBatch([{ value: Buffer.from('z') }], { compression: CompressionType.Zstd });
    expect(() => downConvertBatch(zstd, 1, { firstOffset: 0n, maxUncompressedBytes: MAX })).toThrow(/zstd/);
  });

  it('LogAppendTime batches become magic 1 messages flagged LogAppendTime with the append time', () => {
    const batch = encodeRecordBatch([{ value: Buffer.from('a'), timestamp: 1 }], {
      timestampType: TimestampType.LogAppendTime,
      logAppendTime: 777,
    });
    const { batches } = decodeLegacyMessageSet(
      downConvertBatch(batch, 1, { firstOffset: 0n, maxUncompressedBytes: MAX })!,
      {
        maxUncompressedBytes: MAX,
      },
    );
    expect(batches[0].timestampType).toBe(TimestampType.LogAppendTime);
    expect(batches[0].records[0].timestamp).toBe(777);
  });
});

describe('up-conversion of Produce v0-2 message sets', () => {
  it('refuses a partial trailing message, an empty set and damage', () => {
    const legacy = downConvertBatch(encodeRecordBatch([{ value: Buffer.from('abc') }]), 1, {
      firstOffset: 0n,
      maxUncompressedBytes: MAX,
    })!;
    expect(() => upConvertMessageSet(legacy.subarray(0, legacy.length - 1), MAX)).toThrow(/partial/);
    expect(() => upConvertMessageSet(Buffer.alloc(0), MAX)).toThrow(/empty/);
    const damaged = Buffer.from(legacy);
    damaged[damaged.length - 1] ^= 0xff;
    expect(() => upConvertMessageSet(damaged, MAX)).toThrow(/CRC|crc/);
  });
});
