// Cross-check with an independent implementation: batches kafkajs writes (with every codec,
// through pure-JS/wasm codecs) decode in Samsa, and batches Samsa writes decode in kafkajs.

import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CompressionType } from '../../../src/protocol/compression/index.js';
import {
  decodeRecordBatch,
  encodeEndTxnMarkerBatch,
  encodeRecordBatch,
  type RecordInput,
  TimestampType,
} from '../../../src/protocol/records/index.js';
import {
  installKafkajsCodecs,
  type KafkajsRecordInput,
  kafkajsDecodeRecordBatch,
  kafkajsEncodeBatch,
} from './kafkajs.js';

const CODECS = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
] as const;
const OPTS = { maxUncompressedBytes: 64 * 1024 * 1024 };
const T0 = 1_700_000_000_000;

beforeAll(() => installKafkajsCodecs());

const arbBytes = fc.option(
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  { nil: null },
);
// kafkajs takes headers as an object (values grouped by key) and cannot write null header values.
const arbHeaders = fc.dictionary(
  fc.string({ maxLength: 10 }).map((s) => `h-${s}`),
  fc.array(
    fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a)),
    { minLength: 1, maxLength: 3 },
  ),
  { maxKeys: 3 },
);
const arbKafkajsRecords = fc.array(
  fc.record({
    key: arbBytes,
    value: arbBytes,
    headers: arbHeaders,
    timestamp: fc.integer({ min: T0 - 1_000_000, max: T0 + 1_000_000 }),
  }),
  { minLength: 1, maxLength: 30 },
);

function flattenHeaders(headers: Record<string, Buffer | Buffer[]>) {
  return Object.keys(headers).flatMap((key) => {
    const v = headers[key];
    return (Array.isArray(v) ? v : [v]).map((value) => ({ key, value }));
  });
}

describe.each(CODECS)('codec %i', (compression) => {
  it('kafkajs-written batches decode in Samsa', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbKafkajsRecords,
        fc.bigInt({ min: 0n, max: 2n ** 60n }),
        async (records, baseOffset) => {
          const batch = await kafkajsEncodeBatch(records as KafkajsRecordInput[], {
            compression,
            baseOffset,
          });
          const decoded = decodeRecordBatch(batch, OPTS);
          expect(decoded.header.compression).toBe(compression);
          expect(decoded.baseOffset).toBe(baseOffset);
          expect(decoded.lastOffset).toBe(baseOffset + BigInt(records.length - 1));
          expect(
            decoded.records.map((r) => ({
              offsetDelta: r.offsetDelta,
              timestamp: r.timestamp,
              key: r.key,
              value: r.value,
              headers: r.headers,
            })),
          ).toEqual(
            records.map((r, i) => ({
              offsetDelta: i,
              timestamp: r.timestamp,
              key: r.key,
              value: r.value,
              headers: flattenHeaders(r.headers),
            })),
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it('Samsa-written batches decode in kafkajs', async () => {
    const arbRecords = fc.array(
      fc.record({
        key: arbBytes,
        value: arbBytes,
        headers: fc.array(
          fc.record({ key: fc.string({ maxLength: 10 }).map((s) => `h-${s}`), value: arbBytes }),
          {
            maxLength: 3,
          },
        ),
        timestamp: fc.integer({ min: T0 - 1_000_000, max: T0 + 1_000_000 }),
      }),
      { minLength: 1, maxLength: 30 },
    );
    await fc.assert(
      fc.asyncProperty(arbRecords, async (records: RecordInput[]) => {
        const batch = encodeRecordBatch(records, {
          compression,
          baseOffset: 1000n,
          producerId: 77n,
          producerEpoch: 3,
          baseSequence: 10,
          isTransactional: true,
        });
        const theirs = await kafkajsDecodeRecordBatch(batch);
        expect(theirs.firstOffset).toBe('1000');
        expect(theirs.producerId).toBe('77');
        expect(theirs.producerEpoch).toBe(3);
        expect(theirs.firstSequence).toBe(10);
        expect(theirs.inTransaction).toBe(true);
        expect(theirs.isControlBatch).toBe(false);
        expect(theirs.lastOffsetDelta).toBe(records.length - 1);
        expect(theirs.maxTimestamp).toBe(String(Math.max(...records.map((r) => r.timestamp ?? -1))));
        expect(theirs.records.length).toBe(records.length);
        records.forEach((r, i) => {
          const t = theirs.records[i];
          expect(t.offset).toBe(String(1000 + i));
          expect(t.timestamp).toBe(String(r.timestamp));
          expect(t.key).toEqual(r.key ?? null);
          expect(t.value).toEqual(r.value ?? null);
          const grouped: Record<string, unknown> = {};
          for (const h of r.headers ?? []) {
            const prev = grouped[h.key];
            grouped[h.key] =
              prev === undefined ? h.value : Array.isArray(prev) ? [...prev, h.value] : [prev, h.value];
          }
          expect(t.headers).toEqual(grouped);
        });
      }),
      { numRuns: 40 },
    );
  });

  it('large batches cross both ways (multi-block frames)', async () => {
    const records: KafkajsRecordInput[] = Array.from({ length: 300 }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.alloc(3000, `value ${i} `),
      headers: {},
      timestamp: T0 + i,
    }));
    const theirs = await kafkajsEncodeBatch(records, { compression });
    const decoded = decodeRecordBatch(theirs, OPTS);
    const values = Buffer.concat(records.map((r) => r.value as Buffer));
    expect(Buffer.concat(decoded.records.map((r) => r.value as Buffer)).equals(values)).toBe(true);
    const ours = encodeRecordBatch(
      records.map(({ key, value, timestamp }) => ({ key, value, timestamp })),
      { compression },
    );
    const back = await kafkajsDecodeRecordBatch(ours);
    // biome-ignore lint/suspicious/noExplicitAny: kafkajs records are untyped.
    expect(Buffer.concat(back.records.map((r: any) => r.value)).equals(values)).toBe(true);
  });
});

describe('flags kafkajs reads', () => {
  it('LogAppendTime batches', async () => {
    const batch = encodeRecordBatch([{ value: Buffer.from('a'), timestamp: T0 }], {
      timestampType: TimestampType.LogAppendTime,
      logAppendTime: T0 + 5,
    });
    const theirs = await kafkajsDecodeRecordBatch(batch);
    expect(theirs.timestampType).toBe(1);
    expect(theirs.records[0].timestamp).toBe(String(T0 + 5));
  });

  it('control batches', async () => {
    const batch = encodeEndTxnMarkerBatch({
      commit: true,
      producerId: 5n,
      producerEpoch: 1,
      coordinatorEpoch: 9,
      timestamp: T0,
    });
    const theirs = await kafkajsDecodeRecordBatch(batch);
    expect(theirs.isControlBatch).toBe(true);
    expect(theirs.inTransaction).toBe(true);
    expect(theirs.records[0].key).toEqual(Buffer.from([0, 0, 0, 1]));
    expect(theirs.records[0].value).toEqual(Buffer.from([0, 0, 0, 0, 0, 9]));
  });
});
