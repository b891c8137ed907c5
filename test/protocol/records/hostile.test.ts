// Hostile and damaged batches: every failure is a DecodeError (CrcMismatchError and
// CompressionError are DecodeErrors), never a crash, a hang or a large allocation.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompressionError, CompressionType, compress } from '../../../src/protocol/compression/index.js';
import { DecodeError } from '../../../src/protocol/primitives/reader.js';
import { Writer } from '../../../src/protocol/primitives/writer.js';
import {
  CrcMismatchError,
  computeRecordBatchCrc,
  decodeRecordBatch,
  encodeRecordBatch,
  isRecordBatchCrcValid,
} from '../../../src/protocol/records/index.js';
import { catchError } from '../compression/helpers.js';

const MB = 1024 * 1024;
const OPTS = { maxUncompressedBytes: MB };

/** A batch around arbitrary record bytes, with a correct length, count and CRC. */
function batchAround(body: Buffer, count: number, compression: number = CompressionType.None): Buffer {
  const header = Buffer.from(encodeRecordBatch([], { compression: compression as CompressionType }));
  const payload =
    compression === CompressionType.None ? body : compress(compression as CompressionType, body);
  const batch = Buffer.concat([header, payload]);
  batch.writeInt32BE(batch.length - 12, 8);
  batch.writeInt32BE(count, 57);
  batch.writeUInt32BE(computeRecordBatchCrc(batch), 17);
  return batch;
}

/** Record bytes written field by field, so any field can be made hostile. */
function recordBytes(f: {
  length?: number;
  keyLength?: number;
  valueLength?: number;
  headerCount?: number;
  headerKeyLength?: number;
}): Buffer {
  const body = new Writer();
  body.int8(0);
  body.varlongNumber(0);
  body.varint(0);
  body.varint(f.keyLength ?? 1);
  if ((f.keyLength ?? 1) > 0) body.raw(Buffer.from('k'.repeat(f.keyLength ?? 1)));
  body.varint(f.valueLength ?? -1);
  body.varint(f.headerCount ?? 0);
  if (f.headerKeyLength !== undefined) {
    body.varint(f.headerKeyLength);
    body.varint(-1);
  }
  const b = body.finish();
  const w = new Writer();
  w.varint(f.length ?? b.length);
  w.raw(b);
  return w.finish();
}

describe('damaged batches', () => {
  const batch = encodeRecordBatch(
    Array.from({ length: 20 }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`v${i}`),
      timestamp: i,
    })),
  );

  it('every truncation raises DecodeError', () => {
    for (let n = 0; n < batch.length; n++) {
      expect(catchError(() => decodeRecordBatch(batch.subarray(0, n), OPTS))).toBeInstanceOf(DecodeError);
    }
  });

  it('a flipped bit inside the CRC range is caught by the CRC', () => {
    for (let at = 21; at < batch.length; at += 7) {
      const bad = Buffer.from(batch);
      bad[at] ^= 0x10;
      expect(isRecordBatchCrcValid(bad)).toBe(false);
      const err = catchError(() => decodeRecordBatch(bad, OPTS));
      expect(err).toBeInstanceOf(CrcMismatchError);
      expect(err).toBeInstanceOf(DecodeError);
    }
  });

  it('a wrong stored CRC is caught', () => {
    const bad = Buffer.from(batch);
    bad.writeUInt32BE((bad.readUInt32BE(17) + 1) >>> 0, 17);
    expect(() => decodeRecordBatch(bad, OPTS)).toThrow(CrcMismatchError);
    expect(decodeRecordBatch(bad, { ...OPTS, verifyCrc: false }).records.length).toBe(20);
  });

  it('random corruption with CRC checks off never escapes as another error', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(batch.length - 1), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (flips) => {
          const bad = Buffer.from(batch);
          for (const [at, x] of flips) bad[at] ^= x;
          try {
            decodeRecordBatch(bad, { ...OPTS, verifyCrc: false });
          } catch (e) {
            expect(e).toBeInstanceOf(DecodeError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('header fields out of range raise DecodeError', () => {
    const mutate = (f: (b: Buffer) => void) => {
      const b = Buffer.from(batch);
      f(b);
      return catchError(() => decodeRecordBatch(b, { ...OPTS, verifyCrc: false }));
    };
    expect(mutate((b) => b.writeInt8(3, 16))).toBeInstanceOf(DecodeError); // magic
    expect(mutate((b) => b.writeInt32BE(10, 8))).toBeInstanceOf(DecodeError); // below the header
    expect(mutate((b) => b.writeInt32BE(-1, 8))).toBeInstanceOf(DecodeError);
    expect(mutate((b) => b.writeInt32BE(0x7fffffff, 8))).toBeInstanceOf(DecodeError); // beyond the input
    expect(mutate((b) => b.writeInt32BE(-5, 57))).toBeInstanceOf(DecodeError); // record count
    expect(mutate((b) => b.writeInt32BE(0x7fffffff, 57))).toBeInstanceOf(DecodeError);
    expect(mutate((b) => b.writeInt32BE(21, 57))).toBeInstanceOf(DecodeError); // one more than present
    expect(mutate((b) => b.writeInt32BE(19, 57))).toBeInstanceOf(DecodeError); // trailing record
    expect(mutate((b) => b.writeInt16BE(5, 21))).toBeInstanceOf(DecodeError); // compression id 5
  });
});

describe('hostile record fields', () => {
  const cases: Array<[string, Buffer]> = [
    ['negative record length', recordBytes({ length: -3 })],
    ['record length beyond the batch', recordBytes({ length: 1_000_000 })],
    ['record length shorter than its fields', recordBytes({ length: 5 })],
    ['negative key length', recordBytes({ keyLength: -2 })],
    ['huge key length', recordBytes({ keyLength: 0, valueLength: 2 ** 30 })],
    ['negative value length', recordBytes({ valueLength: -7 })],
    ['negative header count', recordBytes({ headerCount: -1 })],
    ['huge header count', recordBytes({ headerCount: 2 ** 30 })],
    ['negative header key length', recordBytes({ headerCount: 1, headerKeyLength: -1 })],
    ['huge header key length', recordBytes({ headerCount: 1, headerKeyLength: 2 ** 30 })],
    ['unterminated varint', Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80])],
  ];
  it.each(cases)('%s raises DecodeError (plain and compressed)', (_name, body) => {
    for (const compression of [CompressionType.None, CompressionType.Zstd]) {
      expect(catchError(() => decodeRecordBatch(batchAround(body, 1, compression), OPTS))).toBeInstanceOf(
        DecodeError,
      );
    }
  });

  it('well-formed hand-written records decode (the helper is sound)', () => {
    const decoded = decodeRecordBatch(batchAround(recordBytes({}), 1), OPTS);
    expect(decoded.records[0].key?.toString()).toBe('k');
    expect(decoded.records[0].value).toBeNull();
  });
});

describe('hostile compressed payloads', () => {
  it('garbage with a valid CRC raises CompressionError for every codec', () => {
    for (const type of [
      CompressionType.Gzip,
      CompressionType.Snappy,
      CompressionType.Lz4,
      CompressionType.Zstd,
    ]) {
      const batch = Buffer.concat([
        Buffer.from(encodeRecordBatch([], { compression: type })),
        Buffer.from('not compressed at all'),
      ]);
      batch.writeInt32BE(batch.length - 12, 8);
      batch.writeInt32BE(1, 57);
      batch.writeUInt32BE(computeRecordBatchCrc(batch), 17);
      expect(catchError(() => decodeRecordBatch(batch, OPTS))).toBeInstanceOf(CompressionError);
    }
  });

  it('a batch carrying a 100 MB zstd bomb is refused by the cap without allocating', () => {
    // RLE blocks: 800 x 128 KiB of zeros in 3.2 KB.
    const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58])];
    for (let i = 0; i < 800; i++) {
      const h = ((128 * 1024) << 3) | (1 << 1) | (i === 799 ? 1 : 0);
      parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff, 0]));
    }
    const bomb = Buffer.concat(parts);
    const batch = Buffer.concat([
      Buffer.from(encodeRecordBatch([], { compression: CompressionType.Zstd })),
      bomb,
    ]);
    batch.writeInt32BE(batch.length - 12, 8);
    batch.writeInt32BE(1, 57);
    batch.writeUInt32BE(computeRecordBatchCrc(batch), 17);
    const before = process.memoryUsage().rss;
    const err = catchError(() => decodeRecordBatch(batch, OPTS));
    expect(process.memoryUsage().rss - before).toBeLessThan(50 * MB);
    expect(err).toBeInstanceOf(CompressionError);
    expect((err as CompressionError).kind).toBe('limit');
  });

  it('the cap applies to the decompressed records of real batches', () => {
    const batch = encodeRecordBatch([{ value: Buffer.alloc(2 * MB), timestamp: 0 }], {
      compression: CompressionType.Lz4,
    });
    expect(() => decodeRecordBatch(batch, OPTS)).toThrow(CompressionError);
    expect(decodeRecordBatch(batch, { maxUncompressedBytes: 3 * MB }).records[0].value?.length).toBe(2 * MB);
  });
});
