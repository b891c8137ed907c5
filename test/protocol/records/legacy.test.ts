// Magic 0/1 message sets, written by kafkajs's legacy encoders (its Produce v0-v2 path), decoded
// into the same shape as v2 records; and records fields mixing formats.

import { beforeAll, describe, expect, it } from 'vitest';
import { CompressionType, compress } from '../../../src/protocol/compression/index.js';
import { xxhash32 } from '../../../src/protocol/compression/native.js';
import { DecodeError } from '../../../src/protocol/primitives/reader.js';
import {
  CrcMismatchError,
  crc32,
  decodeLegacyMessageSet,
  decodeRecordSet,
  encodeRecordBatch,
  readLegacyMessage,
  setBaseOffset,
  splitRecordSet,
  TimestampType,
} from '../../../src/protocol/records/index.js';
import {
  installKafkajsCodecs,
  KafkajsDecoder,
  kafkajsCompress,
  kafkajsDecodeMessageSet,
  kafkajsMessageSet,
} from './kafkajs.js';

const OPTS = { maxUncompressedBytes: 1 << 24 };
const T0 = 1_600_000_000_000;

beforeAll(() => installKafkajsCodecs());

const ENTRIES = [
  { key: Buffer.from('k0'), value: Buffer.from('v0'), timestamp: T0 },
  { key: null, value: Buffer.from('v1'), timestamp: T0 + 1 },
  { key: Buffer.from('k2'), value: null, timestamp: T0 + 2 },
];

/** An uncompressed legacy message set with offsets base, base+1, ... */
function plainSet(magic: 0 | 1, base: bigint): Buffer {
  const set = Buffer.from(
    kafkajsMessageSet({ messageVersion: magic, compression: 0, entries: ENTRIES }).buffer,
  );
  const { entries } = splitRecordSet(set);
  entries.forEach((e, i) => {
    setBaseOffset(e.bytes, base + BigInt(i));
  });
  return set;
}

/** A compressed wrapper as a broker stores it: inner offsets relative (v1), wrapper = last absolute. */
async function wrapperSet(magic: 0 | 1, compression: number, lastOffset: bigint): Promise<Buffer> {
  const inner = kafkajsMessageSet({ messageVersion: magic, compression, entries: ENTRIES });
  const value = await kafkajsCompress(compression, inner);
  const set = Buffer.from(
    kafkajsMessageSet({ messageVersion: magic, entries: [{ compression, timestamp: T0 + 100, value }] })
      .buffer,
  );
  setBaseOffset(set, lastOffset);
  return set;
}

describe.each([0, 1] as const)('magic %i', (magic) => {
  it('uncompressed messages decode, one batch each', () => {
    const { batches, partialBytes } = decodeLegacyMessageSet(plainSet(magic, 500n), OPTS);
    expect(partialBytes).toBe(0);
    expect(batches.map((b) => [b.magic, b.baseOffset, b.lastOffset])).toEqual([
      [magic, 500n, 500n],
      [magic, 501n, 501n],
      [magic, 502n, 502n],
    ]);
    const records = batches.flatMap((b) => b.records);
    expect(records.map((r) => [r.offsetDelta, r.key, r.value, r.headers])).toEqual(
      ENTRIES.map((e) => [0, e.key, e.value, []]),
    );
    expect(records.map((r) => r.timestamp)).toEqual(
      magic === 1 ? ENTRIES.map((e) => e.timestamp) : [-1, -1, -1],
    );
    expect(batches[0].timestampType).toBe(
      magic === 1 ? TimestampType.CreateTime : TimestampType.NoTimestampType,
    );
  });

  it.each([CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4])(
    'compressed wrapper (codec %i) decodes its inner messages',
    async (compression) => {
      let set = await wrapperSet(magic, compression, 1002n);
      if (magic === 0 && compression === CompressionType.Lz4) set = await breakLz4HeaderChecksum(set);
      const { batches } = decodeLegacyMessageSet(set, OPTS);
      expect(batches).toHaveLength(1);
      const [b] = batches;
      expect(b.compression).toBe(compression);
      // v1: inner offsets 0..2 are relative to the wrapper's (1002, the last); v0: absolute as written.
      const base = magic === 1 ? 1000n : 0n;
      expect([b.baseOffset, b.lastOffset]).toEqual([base, base + 2n]);
      expect(b.records.map((r) => [r.offsetDelta, r.key, r.value])).toEqual(
        ENTRIES.map((e, i) => [i, e.key, e.value]),
      );
      if (magic === 1 && compression !== CompressionType.Lz4) {
        // kafkajs's own reading agrees on offsets.
        const theirs = await kafkajsDecodeMessageSet(new KafkajsDecoder(set), set.length);
        expect(theirs.map((m: { offset: string }) => m.offset)).toEqual(['1000', '1001', '1002']);
      }
    },
  );

  it('detects a corrupted message by its CRC-32', () => {
    const set = plainSet(magic, 0n);
    const first = splitRecordSet(set).entries[0];
    set[first.position + first.bytes.length - 1] ^= 1; // the last byte of the first value
    expect(() => decodeLegacyMessageSet(set, OPTS)).toThrow(CrcMismatchError);
    expect(decodeLegacyMessageSet(set, { ...OPTS, verifyCrc: false }).batches).toHaveLength(3);
  });
});

it('v1 LogAppendTime wrappers give every inner message the wrapper timestamp', async () => {
  const set = await wrapperSet(1, CompressionType.Gzip, 2n);
  set[17] |= 0x08; // timestamp type bit of the wrapper
  set.writeUInt32BE(crc32(set.subarray(16)), 12);
  const [b] = decodeLegacyMessageSet(set, OPTS).batches;
  expect(b.timestampType).toBe(TimestampType.LogAppendTime);
  expect(b.records.map((r) => r.timestamp)).toEqual([T0 + 100, T0 + 100, T0 + 100]);
});

describe('invalid legacy input', () => {
  function message(magic: number, attributes: number, value: Buffer | null, offset = 0n): Buffer {
    const parts = [Buffer.from([magic, attributes])];
    if (magic === 1) parts.push(Buffer.alloc(8));
    const len = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n);
      return b;
    };
    parts.push(len(-1), value === null ? len(-1) : Buffer.concat([len(value.length), value]));
    const content = Buffer.concat(parts);
    const head = Buffer.alloc(16);
    head.writeBigInt64BE(offset, 0);
    head.writeInt32BE(content.length + 4, 8);
    head.writeUInt32BE(crc32(content), 12);
    return Buffer.concat([head, content]);
  }

  it('nested compression, zstd, null wrapper values and magic mismatches raise DecodeError', () => {
    const innerCompressed = message(1, CompressionType.Gzip, Buffer.from('x'));
    const nested = message(1, CompressionType.Gzip, compress(CompressionType.Gzip, innerCompressed));
    expect(() => decodeLegacyMessageSet(nested, OPTS)).toThrow(/nested/);
    expect(() => decodeLegacyMessageSet(message(1, CompressionType.Zstd, Buffer.alloc(3)), OPTS)).toThrow(
      DecodeError,
    );
    expect(() => decodeLegacyMessageSet(message(1, CompressionType.Gzip, null), OPTS)).toThrow(DecodeError);
    const mismatched = message(
      1,
      CompressionType.Gzip,
      compress(CompressionType.Gzip, message(0, 0, Buffer.from('x'))),
    );
    expect(() => decodeLegacyMessageSet(mismatched, OPTS)).toThrow(/magic/);
    const empty = message(1, CompressionType.Gzip, compress(CompressionType.Gzip, Buffer.alloc(0)));
    expect(() => decodeLegacyMessageSet(empty, OPTS)).toThrow(DecodeError);
    const straggler = message(
      1,
      CompressionType.Gzip,
      compress(
        CompressionType.Gzip,
        Buffer.concat([message(1, 0, Buffer.from('x')), Buffer.from([1, 2, 3])]),
      ),
    );
    expect(() => decodeLegacyMessageSet(straggler, OPTS)).toThrow(/stray/);
  });

  it('a message whose fields overrun its size raises DecodeError', () => {
    const m = message(1, 0, Buffer.from('abc'));
    m.writeInt32BE(m.readInt32BE(8) - 1, 8);
    expect(() => readLegacyMessage(m.subarray(0, m.length - 1))).toThrow(DecodeError);
  });
});

describe('records fields', () => {
  it('mix legacy messages and v2 batches, with a partial trailing batch', () => {
    const legacy = plainSet(1, 0n);
    const v2a = encodeRecordBatch([{ value: Buffer.from('a'), timestamp: 1 }], { baseOffset: 3n });
    const v2b = encodeRecordBatch([{ value: Buffer.from('b'), timestamp: 2 }], {
      baseOffset: 4n,
      compression: CompressionType.Snappy,
    });
    const full = Buffer.concat([legacy, v2a, v2b]);
    const { batches, partialBytes } = decodeRecordSet(Buffer.concat([full, v2a.subarray(0, 30)]), OPTS);
    expect(partialBytes).toBe(30);
    expect(batches.map((b) => [b.magic, b.baseOffset])).toEqual([
      [1, 0n],
      [1, 1n],
      [1, 2n],
      [2, 3n],
      [2, 4n],
    ]);
    expect(batches.flatMap((b) => b.records.map((r) => r.value?.toString() ?? null))).toEqual([
      'v0',
      'v1',
      null,
      'a',
      'b',
    ]);
  });

  it('report every cut of the last entry as partial, never as an error', () => {
    const a = encodeRecordBatch([{ value: Buffer.from('a'), timestamp: 1 }]);
    const b = encodeRecordBatch([{ value: Buffer.alloc(100, 'b'), timestamp: 1 }], { baseOffset: 1n });
    const whole = Buffer.concat([a, b]);
    for (let cut = a.length; cut < whole.length; cut++) {
      const split = splitRecordSet(whole.subarray(0, cut));
      expect(split.entries.map((e) => e.offset)).toEqual([0n]);
      expect(split.partialBytes).toBe(cut - a.length);
    }
    expect(splitRecordSet(whole).partialBytes).toBe(0);
    expect(splitRecordSet(Buffer.alloc(0))).toEqual({ entries: [], partialBytes: 0 });
  });

  it('treat impossible sizes and unknown magics as corruption', () => {
    const batch = encodeRecordBatch([{ value: Buffer.from('a'), timestamp: 1 }]);
    const withSize = (n: number) => {
      const b = Buffer.from(batch);
      b.writeInt32BE(n, 8);
      return b;
    };
    expect(() => splitRecordSet(withSize(13))).toThrow(DecodeError);
    expect(() => splitRecordSet(withSize(-1))).toThrow(DecodeError);
    expect(() => splitRecordSet(withSize(30))).toThrow(/below its header/);
    expect(() => splitRecordSet(batch, 20)).toThrow(/above/);
    const magic3 = Buffer.from(batch);
    magic3.writeInt8(3, 16);
    expect(() => splitRecordSet(magic3)).toThrow(/magic/);
    // A huge size is only "partial" data, as in Kafka (the fetch was cut): not an error.
    expect(splitRecordSet(withSize(0x7fffffff)).partialBytes).toBe(batch.length);
  });
});

/** Rewrites a v0 lz4 wrapper so its frame carries the pre-0.10 broken header checksum. */
async function breakLz4HeaderChecksum(set: Buffer): Promise<Buffer> {
  const m = readLegacyMessage(set, false);
  const value = Buffer.from(m.value as Buffer);
  value[6] = (xxhash32(value.subarray(0, 6)) >>> 8) & 0xff;
  const out = Buffer.from(set);
  value.copy(out, out.length - value.length);
  out.writeUInt32BE(crc32(out.subarray(16)), 12);
  return out;
}
