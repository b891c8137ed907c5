// In-place patches: the CRC stays valid and the records stay byte-for-byte the same.

import { describe, expect, it } from 'vitest';
import { CompressionType } from '../../../src/protocol/compression/index.js';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  isRecordBatchCrcValid,
  RECORD_BATCH_OVERHEAD,
  readRecordBatchHeader,
  setBaseOffset,
  setLogAppendTime,
  setMaxTimestamp,
  setPartitionLeaderEpoch,
  TimestampType,
} from '../../../src/protocol/records/index.js';
import { kafkajsDecodeRecordBatch } from './kafkajs.js';

const OPTS = { maxUncompressedBytes: 1 << 24 };
const T0 = 1_700_000_000_000;

function sampleBatch(compression: CompressionType): Buffer {
  return encodeRecordBatch(
    Array.from({ length: 50 }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`value ${i}`),
      headers: [{ key: 'h', value: Buffer.from([i]) }],
      timestamp: T0 + i,
    })),
    { compression, producerId: 3n, producerEpoch: 1, baseSequence: 0 },
  );
}

describe.each([CompressionType.None, CompressionType.Zstd])('codec %i', (compression) => {
  it('baseOffset and partitionLeaderEpoch are outside the CRC', () => {
    const batch = sampleBatch(compression);
    const crc = batch.readUInt32BE(17);
    const records = Buffer.from(batch.subarray(RECORD_BATCH_OVERHEAD));
    setBaseOffset(batch, 123_456_789_012_345n);
    setPartitionLeaderEpoch(batch, 17);
    expect(batch.readUInt32BE(17)).toBe(crc);
    expect(isRecordBatchCrcValid(batch)).toBe(true);
    expect(batch.subarray(RECORD_BATCH_OVERHEAD).equals(records)).toBe(true);
    const decoded = decodeRecordBatch(batch, OPTS);
    expect(decoded.baseOffset).toBe(123_456_789_012_345n);
    expect(decoded.lastOffset).toBe(123_456_789_012_394n);
    expect(decoded.header.partitionLeaderEpoch).toBe(17);
    expect(decoded.records.map((r) => r.value?.toString())).toEqual(
      Array.from({ length: 50 }, (_, i) => `value ${i}`),
    );
  });

  it('LogAppendTime rewrites the attribute, maxTimestamp and CRC only', async () => {
    const batch = sampleBatch(compression);
    const before = Buffer.from(batch);
    setLogAppendTime(batch, BigInt(T0 + 10_000));
    expect(isRecordBatchCrcValid(batch)).toBe(true);
    expect(batch.readUInt32BE(17)).not.toBe(before.readUInt32BE(17));
    // Only attributes (21-22), maxTimestamp (35-42) and the CRC (17-20) changed.
    const changed = [...batch.keys()].filter((i) => batch[i] !== before[i]);
    expect(changed.every((i) => (i >= 17 && i <= 22) || (i >= 35 && i <= 42))).toBe(true);
    const decoded = decodeRecordBatch(batch, OPTS);
    expect(decoded.header.timestampType).toBe(TimestampType.LogAppendTime);
    expect(decoded.header.compression).toBe(compression);
    expect(decoded.header.producerId).toBe(3n);
    expect(decoded.records.every((r) => r.timestamp === T0 + 10_000)).toBe(true);
    expect(decoded.records.map((r) => r.key?.toString())).toEqual(
      Array.from({ length: 50 }, (_, i) => `k${i}`),
    );
    // An independent reader agrees.
    const theirs = await kafkajsDecodeRecordBatch(batch);
    expect(theirs.timestampType).toBe(1);
    expect(theirs.records[3].timestamp).toBe(String(T0 + 10_000));
  });

  it('setMaxTimestamp back to CreateTime restores the original bytes', () => {
    const batch = sampleBatch(compression);
    const original = Buffer.from(batch);
    setLogAppendTime(batch, T0 + 1);
    setMaxTimestamp(batch, TimestampType.CreateTime, T0 + 49);
    expect(batch.equals(original)).toBe(true);
  });

  it('is a no-op when nothing changes', () => {
    const batch = sampleBatch(compression);
    const original = Buffer.from(batch);
    setMaxTimestamp(batch, TimestampType.CreateTime, readRecordBatchHeader(batch).maxTimestamp);
    expect(batch.equals(original)).toBe(true);
  });
});

it('patches a batch inside a larger buffer through a view', () => {
  const a = sampleBatch(CompressionType.None);
  const b = sampleBatch(CompressionType.Gzip);
  const segment = Buffer.concat([a, b]);
  const view = segment.subarray(a.length);
  setBaseOffset(view, 50n);
  setLogAppendTime(view, T0);
  expect(segment.subarray(0, a.length).equals(a)).toBe(true);
  expect(decodeRecordBatch(view, OPTS).baseOffset).toBe(50n);
  expect(isRecordBatchCrcValid(view)).toBe(true);
});

it('refuses to patch v2-only fields of other magics', () => {
  const notV2 = Buffer.alloc(70);
  notV2.writeInt8(1, 16);
  expect(() => setPartitionLeaderEpoch(notV2, 1)).toThrow();
  expect(() => setLogAppendTime(notV2, 1)).toThrow();
});
