// v2 record batches: layout, round trips of every batch shape through every codec, and a
// property test over random records.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompressionType } from '../../../src/protocol/compression/index.js';
import {
  computeRecordBatchCrc,
  decodeRecordBatch,
  type EncodeBatchOptions,
  encodeRecordBatch,
  isRecordBatchCrcValid,
  type KafkaRecord,
  RECORD_BATCH_OVERHEAD,
  type RecordInput,
  readRecordBatchHeader,
  recordOffset,
  TimestampType,
} from '../../../src/protocol/records/index.js';

const CODECS = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
] as const;

const OPTS = { maxUncompressedBytes: 64 * 1024 * 1024 };

/** Bytes as hex: vitest's deep equality walks Buffers byte by byte, strings compare at once. */
function hex(b: Uint8Array | null | undefined): string | null {
  return b == null ? null : Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

/** Decoded records in the input's terms, for comparison. */
function plain(records: KafkaRecord[]) {
  return records.map((r) => ({
    offsetDelta: r.offsetDelta,
    timestamp: r.timestamp,
    key: hex(r.key),
    value: hex(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: hex(h.value) })),
  }));
}

function expected(records: RecordInput[], fixedTimestamp?: number) {
  return records.map((r, i) => ({
    offsetDelta: r.offsetDelta ?? i,
    timestamp: fixedTimestamp ?? r.timestamp ?? -1,
    key: hex(r.key),
    value: hex(r.value),
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: hex(h.value) })),
  }));
}

const T0 = 1_700_000_000_000;

const SHAPES: Array<{ name: string; records: RecordInput[]; options?: EncodeBatchOptions }> = [
  { name: 'one record', records: [{ key: Buffer.from('k'), value: Buffer.from('v'), timestamp: T0 }] },
  {
    name: 'null key and value, empty buffers',
    records: [
      { key: null, value: null, timestamp: T0 },
      { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: T0 + 1 },
    ],
  },
  {
    name: 'headers, including null and duplicate keys and unicode',
    records: [
      {
        key: Buffer.from('k'),
        value: Buffer.from('v'),
        timestamp: T0,
        headers: [
          { key: 'trace', value: Buffer.from('abc') },
          { key: 'trace', value: null },
          { key: 'ключ-🔑', value: Buffer.alloc(0) },
          { key: '', value: Buffer.from([0, 1, 2]) },
        ],
      },
    ],
  },
  {
    name: 'timestamps out of order and before the base',
    records: [
      { value: Buffer.from('a'), timestamp: T0 },
      { value: Buffer.from('b'), timestamp: T0 - 5000 },
      { value: Buffer.from('c'), timestamp: T0 + 86_400_000 },
    ],
  },
  {
    name: 'offset gaps (a compacted batch)',
    records: [
      { value: Buffer.from('a'), timestamp: T0, offsetDelta: 0 },
      { value: Buffer.from('b'), timestamp: T0, offsetDelta: 7 },
      { value: Buffer.from('c'), timestamp: T0, offsetDelta: 1000 },
    ],
  },
  {
    name: 'large values (the writer references them instead of copying)',
    records: [
      { key: Buffer.alloc(5000, 1), value: Buffer.alloc(300_000, 'x'), timestamp: T0 },
      { key: null, value: Buffer.alloc(10_000, 'y'), timestamp: T0 },
    ],
  },
  {
    name: 'many small records',
    records: Array.from({ length: 5000 }, (_, i) => ({
      key: Buffer.from(`key-${i % 17}`),
      value: Buffer.from(`value ${i}`),
      timestamp: T0 + i,
    })),
  },
  {
    name: 'idempotent transactional producer',
    records: [{ value: Buffer.from('tx'), timestamp: T0 }],
    options: {
      producerId: 123_456_789_012n,
      producerEpoch: 7,
      baseSequence: 42,
      isTransactional: true,
      baseOffset: 9_007_199_254_740_993n,
      partitionLeaderEpoch: 5,
    },
  },
  {
    name: 'default timestamp',
    records: [{ value: Buffer.from('a') }, { value: Buffer.from('b') }],
    options: { defaultTimestamp: T0 },
  },
];

describe('layout', () => {
  it('writes the header fields at the offsets of the protocol guide', () => {
    const batch = encodeRecordBatch(
      [
        { key: Buffer.from('k'), value: Buffer.from('v'), timestamp: T0 },
        { key: null, value: Buffer.from('w'), timestamp: T0 + 10 },
      ],
      { baseOffset: 100n, partitionLeaderEpoch: 3, producerId: 9n, producerEpoch: 2, baseSequence: 11 },
    );
    expect(batch.readBigInt64BE(0)).toBe(100n);
    expect(batch.readInt32BE(8)).toBe(batch.length - 12);
    expect(batch.readInt32BE(12)).toBe(3);
    expect(batch.readInt8(16)).toBe(2);
    expect(batch.readUInt32BE(17)).toBe(computeRecordBatchCrc(batch));
    expect(batch.readInt16BE(21)).toBe(0);
    expect(batch.readInt32BE(23)).toBe(1);
    expect(batch.readBigInt64BE(27)).toBe(BigInt(T0));
    expect(batch.readBigInt64BE(35)).toBe(BigInt(T0 + 10));
    expect(batch.readBigInt64BE(43)).toBe(9n);
    expect(batch.readInt16BE(51)).toBe(2);
    expect(batch.readInt32BE(53)).toBe(11);
    expect(batch.readInt32BE(57)).toBe(2);
    // First record, zigzag varints: length 8, attributes 0, timestampDelta 0, offsetDelta 0,
    // key length 1 "k", value length 1 "v", 0 headers.
    expect(batch.subarray(RECORD_BATCH_OVERHEAD, RECORD_BATCH_OVERHEAD + 9).toString('hex')).toBe(
      '10000000026b027600',
    );
  });

  it('sets each attribute bit', () => {
    const attrs = (o: EncodeBatchOptions) => readRecordBatchHeader(encodeRecordBatch([{ timestamp: 1 }], o));
    expect(attrs({ compression: CompressionType.Zstd }).attributes).toBe(4);
    expect(attrs({ timestampType: TimestampType.LogAppendTime, logAppendTime: 5 }).attributes).toBe(8);
    expect(attrs({ isTransactional: true }).attributes).toBe(16);
    expect(attrs({ isControl: true }).attributes).toBe(32);
    const h = attrs({ deleteHorizonMs: 777 });
    expect(h.attributes).toBe(64);
    expect(h.hasDeleteHorizonMs).toBe(true);
    expect(h.baseTimestamp).toBe(777n);
  });

  it('writes an empty batch as its header alone', () => {
    const batch = encodeRecordBatch([], {
      compression: CompressionType.Gzip,
      lastOffsetDelta: 4,
      baseOffset: 10n,
    });
    expect(batch.length).toBe(RECORD_BATCH_OVERHEAD);
    const decoded = decodeRecordBatch(batch, OPTS);
    expect(decoded.records).toEqual([]);
    expect(decoded.lastOffset).toBe(14n);
    expect(decoded.header.baseTimestamp).toBe(-1n);
  });
});

describe.each(CODECS)('codec %i', (compression) => {
  it.each(SHAPES)('round trips: $name', ({ records, options }) => {
    const batch = encodeRecordBatch(records, { ...options, compression });
    expect(isRecordBatchCrcValid(batch)).toBe(true);
    const decoded = decodeRecordBatch(batch, OPTS);
    const defaultTs = options?.defaultTimestamp;
    const withDefaults = records.map((r) => ({ ...r, timestamp: r.timestamp ?? defaultTs }));
    expect(plain(decoded.records)).toEqual(expected(withDefaults));
    const h = decoded.header;
    expect(h.compression).toBe(compression);
    expect(h.recordCount).toBe(records.length);
    expect(h.baseOffset).toBe(options?.baseOffset ?? 0n);
    expect(h.producerId).toBe(options?.producerId ?? -1n);
    expect(h.producerEpoch).toBe(options?.producerEpoch ?? -1);
    expect(h.baseSequence).toBe(options?.baseSequence ?? -1);
    expect(h.partitionLeaderEpoch).toBe(options?.partitionLeaderEpoch ?? -1);
    expect(h.isTransactional).toBe(options?.isTransactional ?? false);
    const timestamps = withDefaults.map((r) => r.timestamp ?? -1);
    expect(h.maxTimestamp).toBe(BigInt(Math.max(...timestamps)));
    expect(h.baseTimestamp).toBe(BigInt(timestamps[0]));
    const last = decoded.records[decoded.records.length - 1];
    expect(decoded.lastOffset).toBe(recordOffset(decoded, last));
  });

  it('gives LogAppendTime batches the append time on every record', () => {
    const records = [
      { value: Buffer.from('a'), timestamp: T0 },
      { value: Buffer.from('b'), timestamp: T0 + 9 },
    ];
    const batch = encodeRecordBatch(records, {
      compression,
      timestampType: TimestampType.LogAppendTime,
      logAppendTime: T0 + 1000,
    });
    const decoded = decodeRecordBatch(batch, OPTS);
    expect(decoded.header.timestampType).toBe(TimestampType.LogAppendTime);
    expect(decoded.header.maxTimestamp).toBe(BigInt(T0 + 1000));
    expect(decoded.records.map((r) => r.timestamp)).toEqual([T0 + 1000, T0 + 1000]);
  });
});

it('decodes without copying uncompressed keys and values', () => {
  const batch = encodeRecordBatch([{ key: Buffer.from('key'), value: Buffer.from('value'), timestamp: 1 }]);
  const [r] = decodeRecordBatch(batch, OPTS).records;
  expect(r.value?.buffer).toBe(batch.buffer);
  batch[batch.length - 2] = 'V'.charCodeAt(0);
  expect(r.value?.toString()).toBe('valuV');
});

it('ignores bytes after the batch it decodes', () => {
  const batch = encodeRecordBatch([{ value: Buffer.from('v'), timestamp: 1 }]);
  const decoded = decodeRecordBatch(Buffer.concat([batch, Buffer.from('next batch...')]), OPTS);
  expect(decoded.records.length).toBe(1);
});

const arbBytes = fc.option(
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  { nil: null },
);
const arbRecords = fc.array(
  fc.record({
    key: arbBytes,
    value: arbBytes,
    headers: fc.array(fc.record({ key: fc.string({ maxLength: 20 }), value: arbBytes }), { maxLength: 4 }),
    timestamp: fc.integer({ min: 0, max: 4_000_000_000_000 }),
  }),
  { maxLength: 40 },
);

describe('property: encode then decode is the identity', () => {
  it.each(CODECS)('codec %i', (compression) => {
    fc.assert(
      fc.property(arbRecords, fc.bigInt({ min: 0n, max: 2n ** 62n }), (records, baseOffset) => {
        const batch = encodeRecordBatch(records, { compression, baseOffset });
        const decoded = decodeRecordBatch(batch, OPTS);
        expect(plain(decoded.records)).toEqual(expected(records));
        expect(decoded.baseOffset).toBe(baseOffset);
      }),
      { numRuns: 150 },
    );
  });
});
