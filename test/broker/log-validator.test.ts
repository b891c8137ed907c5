// Each bad record set and the error Kafka gives for it. Malformed records get INVALID_RECORD
// (Kafka's InvalidRecordException, not retried by clients); only a CRC mismatch, a size under 14
// bytes or an unknown magic gets CORRUPT_MESSAGE.

import { describe, expect, it } from 'vitest';
import { type ValidationOptions, validateRecords } from '../../src/broker/log-validator.js';
import { compress } from '../../src/protocol/compression/index.js';
import { CompressionType } from '../../src/protocol/compression/types.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { computeRecordBatchCrc } from '../../src/protocol/records/header.js';
import {
  CRC_OFFSET,
  downConvertBatch,
  encodeEndTxnMarkerBatch,
  encodeRecordBatch,
} from '../../src/protocol/records/index.js';

const NOW = 1_700_000_000_000;
const opts: ValidationOptions = {
  maxMessageBytes: 1048588,
  segmentBytes: 1 << 30,
  compacted: false,
  timestampType: 'CreateTime',
  timestampBeforeMaxMs: Number.MAX_SAFE_INTEGER,
  timestampAfterMaxMs: 3_600_000,
  nowMs: NOW,
  maxUncompressedBytes: 64 << 20,
};

const recs = (n: number, key: string | null = 'k') =>
  Array.from({ length: n }, (_, i) => ({
    key: key === null ? null : Buffer.from(`${key}${i}`),
    value: Buffer.from(`v${i}`),
    timestamp: NOW + i,
  }));

/** A batch with int32 fields overwritten at the given offsets and its CRC made valid again. */
function patched(b: Buffer, fields: [offset: number, value: number][]): Buffer {
  for (const [at, v] of fields) b.writeInt32BE(v, at);
  return refreshCrc(b);
}

function refreshCrc(b: Buffer): Buffer {
  b.writeUInt32BE(computeRecordBatchCrc(b), CRC_OFFSET);
  return b;
}

describe('validateRecords', () => {
  it.each([
    CompressionType.None,
    CompressionType.Gzip,
    CompressionType.Snappy,
    CompressionType.Lz4,
    CompressionType.Zstd,
  ])('accepts a well-formed batch (compression %i)', (compression) => {
    const r = validateRecords(encodeRecordBatch(recs(50), { compression }), opts);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.recordCount).toBe(50);
  });

  const bad: [string, () => Buffer | null, Partial<ValidationOptions>, number][] = [
    ['no records at all', () => null, {}, ErrorCode.INVALID_RECORD],
    [
      'two batches',
      () => Buffer.concat([encodeRecordBatch(recs(1)), encodeRecordBatch(recs(1))]),
      {},
      ErrorCode.INVALID_RECORD,
    ],
    ['a truncated batch', () => encodeRecordBatch(recs(5)).subarray(0, 70), {}, ErrorCode.INVALID_RECORD],
    ['a header cut short', () => encodeRecordBatch(recs(5)).subarray(0, 30), {}, ErrorCode.INVALID_RECORD],
    [
      'a wrong CRC',
      () => {
        const b = encodeRecordBatch(recs(5));
        b[b.length - 1] ^= 0xff;
        return b;
      },
      {},
      ErrorCode.CORRUPT_MESSAGE,
    ],
    [
      'magic 1',
      () => {
        const b = encodeRecordBatch(recs(1));
        b[16] = 1;
        return b;
      },
      {},
      ErrorCode.INVALID_RECORD,
    ],
    [
      'a control batch',
      () =>
        encodeEndTxnMarkerBatch({
          commit: true,
          producerId: 1n,
          producerEpoch: 0,
          coordinatorEpoch: 0,
          timestamp: NOW,
        }),
      {},
      ErrorCode.INVALID_RECORD,
    ],
    [
      'a batch over max.message.bytes',
      () => encodeRecordBatch(recs(100)),
      { maxMessageBytes: 500 },
      ErrorCode.MESSAGE_TOO_LARGE,
    ],
    [
      'a record set over segment.bytes',
      () => encodeRecordBatch(recs(100)),
      { segmentBytes: 500 },
      ErrorCode.RECORD_LIST_TOO_LARGE,
    ],
    [
      'keyless records on a compacted topic',
      () => encodeRecordBatch(recs(3, null)),
      { compacted: true },
      ErrorCode.INVALID_RECORD,
    ],
    [
      'a timestamp two hours ahead',
      () => encodeRecordBatch([{ key: null, value: Buffer.from('x'), timestamp: NOW + 7_200_000 }]),
      {},
      ErrorCode.INVALID_TIMESTAMP,
    ],
    [
      'a timestamp too old',
      () => encodeRecordBatch(recs(2)),
      { nowMs: NOW + 10_000, timestampBeforeMaxMs: 1000 },
      ErrorCode.INVALID_TIMESTAMP,
    ],
    [
      'a record count that disagrees with lastOffsetDelta',
      () => patched(encodeRecordBatch(recs(5)), [[23, 7]]),
      {},
      ErrorCode.INVALID_RECORD,
    ],
    [
      'a record count larger than the records',
      () =>
        patched(encodeRecordBatch(recs(5)), [
          [23, 6],
          [57, 7],
        ]),
      {},
      ErrorCode.INVALID_RECORD,
    ],
    [
      'a record whose length lies (valid CRC)',
      () => {
        const b = encodeRecordBatch(recs(2));
        b[61] = 0x7e; // zigzag 63: longer than the record
        return refreshCrc(b);
      },
      {},
      ErrorCode.INVALID_RECORD,
    ],
    [
      'compressed bytes that do not decompress (valid CRC)',
      () => {
        const b = encodeRecordBatch(recs(20), { compression: CompressionType.Lz4 });
        b.fill(0x41, 70, b.length);
        return refreshCrc(b);
      },
      {},
      ErrorCode.INVALID_RECORD,
    ],
    [
      'a decompression bomb (valid CRC)',
      () => {
        const plain = encodeRecordBatch(recs(1));
        const bomb = compress(CompressionType.Zstd, Buffer.alloc(100 << 20));
        const b = Buffer.concat([plain.subarray(0, 61), bomb]);
        b.writeInt32BE(b.length - 12, 8);
        b.writeInt16BE(CompressionType.Zstd, 21);
        return refreshCrc(b);
      },
      {},
      ErrorCode.INVALID_RECORD,
    ],
  ];

  it.each(bad)('refuses %s', (_what, make, extra, code) => {
    const r = validateRecords(make(), { ...opts, ...extra });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errorCode).toBe(code);
  });

  it('names the offending records in record errors', () => {
    const b = encodeRecordBatch([
      { key: Buffer.from('a'), value: null, timestamp: NOW },
      { key: null, value: null, timestamp: NOW },
    ]);
    const r = validateRecords(b, { ...opts, compacted: true });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.recordErrors).toEqual([{ batchIndex: 1, message: expect.stringContaining('without key') }]);
  });

  it('skips timestamp checks on LogAppendTime topics', () => {
    const b = encodeRecordBatch([{ key: null, value: null, timestamp: 0 }]);
    expect(validateRecords(b, { ...opts, timestampType: 'LogAppendTime', timestampBeforeMaxMs: 1 }).ok).toBe(
      true,
    );
  });
});

describe('validateRecords: Produce v0-2 message sets (samsa.legacy.protocol.enable)', () => {
  const legacySet = (
    magic: 0 | 1,
    records: ReturnType<typeof recs>,
    codec: CompressionType = CompressionType.None,
  ) =>
    downConvertBatch(encodeRecordBatch(records, { compression: codec }), magic, {
      firstOffset: 0n,
      maxUncompressedBytes: 64 << 20,
    })!;
  const legacy = { ...opts, legacyMagicAllowed: true };

  it('converts a magic 0/1 set, plain or compressed, to one v2 batch of the same records', () => {
    for (const magic of [0, 1] as const) {
      for (const codec of [CompressionType.None, CompressionType.Gzip, CompressionType.Lz4]) {
        const r = validateRecords(legacySet(magic, recs(5), codec), legacy);
        expect(r.ok).toBe(true);
        if (!r.ok) continue;
        expect(r.convertedFromMagic).toBe(magic);
        expect(r.header).toMatchObject({ magic: 2, baseOffset: 0n, recordCount: 5, compression: codec });
      }
    }
  });

  it('does not check the timestamp of a magic 0 record (it has none), as Kafka', () => {
    // -1 is far outside message.timestamp.before.max.ms here.
    const r = validateRecords(legacySet(0, recs(2)), { ...legacy, timestampBeforeMaxMs: 1000 });
    expect(r.ok).toBe(true);
    // Magic 1 timestamps are checked like any.
    const old = recs(1).map((x) => ({ ...x, timestamp: NOW - 10_000 }));
    const r1 = validateRecords(legacySet(1, old), { ...legacy, timestampBeforeMaxMs: 1000 });
    expect(r1).toMatchObject({ ok: false, errorCode: ErrorCode.INVALID_TIMESTAMP });
  });

  it('applies max.message.bytes to each shallow message, and compaction to keys', () => {
    const set = legacySet(1, recs(3));
    expect(validateRecords(set, { ...legacy, maxMessageBytes: 20 })).toMatchObject({
      ok: false,
      errorCode: ErrorCode.MESSAGE_TOO_LARGE,
    });
    expect(validateRecords(legacySet(1, recs(2, null)), { ...legacy, compacted: true })).toMatchObject({
      ok: false,
      errorCode: ErrorCode.INVALID_RECORD,
    });
  });

  it('refuses magic 0/1 from Produce v3+ (legacyMagicAllowed unset)', () => {
    expect(validateRecords(legacySet(1, recs(1)), opts)).toMatchObject({
      ok: false,
      errorCode: ErrorCode.INVALID_RECORD,
    });
  });
});
