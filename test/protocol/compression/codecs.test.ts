// Round trips for every codec, and interop with independent pure-JS/wasm implementations
// (snappyjs, lz4js, zstd-codec) so that our framing is checked against someone else's reading.

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  CompressionError,
  CompressionType,
  compress,
  compressionName,
  compressionTypeFromName,
  decompress,
  isXerialFramed,
  repairLegacyLz4HeaderChecksum,
  snappyCompressRaw,
  zstdOutputBound,
} from '../../../src/protocol/compression/index.js';
import { xxhash32 } from '../../../src/protocol/compression/native.js';
import { DecodeError } from '../../../src/protocol/primitives/reader.js';
import { catchError } from './helpers.js';

const require = createRequire(import.meta.url);
const snappyjs = require('snappyjs');
const lz4js = require('lz4js');
const lz4jsXxh = require('lz4js/xxh32.js');

const ALL = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
] as const;

function sample(n: number): Buffer {
  // Half compressible text, half random, so that every codec emits both block kinds.
  const text = Buffer.alloc(Math.ceil(n / 2), 'kafka record batch ');
  return Buffer.concat([text, randomBytes(Math.floor(n / 2))]).subarray(0, n);
}

const SIZES = [0, 1, 100, 40_000, 300_000, 5_000_000];

describe('names', () => {
  it('maps ids and names as Kafka does', () => {
    expect(ALL.map((t) => compressionName(t))).toEqual(['none', 'gzip', 'snappy', 'lz4', 'zstd']);
    expect(compressionTypeFromName('ZSTD')).toBe(CompressionType.Zstd);
    expect(compressionTypeFromName('brotli')).toBeUndefined();
    expect(() => compressionName(5)).toThrow(DecodeError);
    expect(() => decompress(7, Buffer.alloc(1), 10)).toThrow(DecodeError);
  });
});

describe.each(ALL)('codec %i round trip', (type) => {
  it.each(SIZES)('%i bytes', (n) => {
    const data = sample(n);
    const packed = compress(type, data);
    expect(decompress(type, packed, n).equals(data)).toBe(true);
    if (n > 0 && type !== CompressionType.None) {
      // The cap is exact for formats that state sizes; lz4/zstd bounds may overestimate a little.
      const err = catchError(() => decompress(type, packed, 0));
      expect(err).toBeInstanceOf(CompressionError);
      expect((err as CompressionError).kind).toBe('limit');
    }
  });

  it('accepts any cap up to Number.MAX_SAFE_INTEGER', () => {
    const data = sample(1000);
    expect(decompress(type, compress(type, data), Number.MAX_SAFE_INTEGER).equals(data)).toBe(true);
  });

  it('accepts input that is a view into a larger buffer', () => {
    const data = sample(70_000);
    const packed = compress(type, data);
    const big = Buffer.concat([Buffer.from('junk'), packed, Buffer.from('junk')]);
    const view = big.subarray(4, 4 + packed.length);
    expect(decompress(type, view, data.length).equals(data)).toBe(true);
    expect(
      decompress(type, compress(type, Buffer.concat([randomBytes(9), data]).subarray(9)), data.length),
    ).toEqual(data);
  });
});

describe('gzip', () => {
  it('decodes concatenated members as one stream (as GZIPInputStream does)', () => {
    const a = Buffer.from('first member ');
    const b = Buffer.from('second member');
    const packed = Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)]);
    expect(decompress(CompressionType.Gzip, packed, 100).toString()).toBe('first member second member');
    expect(() => decompress(CompressionType.Gzip, packed, a.length)).toThrow(CompressionError);
  });
});

describe('snappy', () => {
  it('writes xerial framing with 32 KiB chunks, as the Java client does', () => {
    const data = sample(100_000);
    const packed = compress(CompressionType.Snappy, data);
    expect(isXerialFramed(packed)).toBe(true);
    expect(packed.subarray(0, 16).toString('hex')).toBe('82534e41505059000000000100000001');
    // Chunks decode independently with snappyjs (an independent raw snappy implementation).
    const parts: Buffer[] = [];
    let pos = 16;
    while (pos < packed.length) {
      const len = packed.readInt32BE(pos);
      parts.push(Buffer.from(snappyjs.uncompress(packed.subarray(pos + 4, pos + 4 + len))));
      pos += 4 + len;
    }
    expect(parts.map((p) => p.length)).toEqual([32768, 32768, 32768, 1696]);
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  });

  it('reads raw snappy (what librdkafka writes) from either implementation', () => {
    const data = sample(50_000);
    expect(decompress(CompressionType.Snappy, snappyCompressRaw(data), data.length).equals(data)).toBe(true);
    const fromJs = Buffer.from(snappyjs.compress(data));
    expect(decompress(CompressionType.Snappy, fromJs, data.length).equals(data)).toBe(true);
    expect(() => decompress(CompressionType.Snappy, fromJs, data.length - 1)).toThrow(/limit/);
  });

  it('reads xerial framing written around snappyjs blocks (as kafkajs-snappy does)', () => {
    const data = sample(70_000);
    const header = Buffer.from('82534e41505059000000000100000001', 'hex');
    const chunks = [data.subarray(0, 50_000), data.subarray(50_000)].map((c) => {
      const block = Buffer.from(snappyjs.compress(c));
      const len = Buffer.alloc(4);
      len.writeInt32BE(block.length);
      return Buffer.concat([len, block]);
    });
    const packed = Buffer.concat([header, ...chunks]);
    expect(decompress(CompressionType.Snappy, packed, data.length).equals(data)).toBe(true);
    expect(() => decompress(CompressionType.Snappy, packed, data.length - 1)).toThrow(CompressionError);
  });
});

describe('lz4', () => {
  it('writes independent blocks without checksums (what KafkaLZ4BlockInputStream accepts)', () => {
    const packed = compress(CompressionType.Lz4, sample(1000));
    expect(packed.readUInt32LE(0)).toBe(0x184d2204);
    expect(packed[4]).toBe(0x60); // version 01, block independence, nothing else
    const bd = packed[5];
    expect((bd >> 4) & 7).toBeGreaterThanOrEqual(4);
    expect(packed[6]).toBe((xxhash32(packed.subarray(4, 6)) >>> 8) & 0xff);
  });

  it('interoperates with lz4js in both directions', () => {
    const data = sample(600_000);
    const ours = compress(CompressionType.Lz4, data);
    expect(Buffer.from(lz4js.decompress(ours)).equals(data)).toBe(true);
    const theirs = Buffer.from(lz4js.compress(data)); // 4 MiB blocks, dependent-block flag
    expect(decompress(CompressionType.Lz4, theirs, data.length).equals(data)).toBe(true);
  });

  it('decodes concatenated and skippable frames', () => {
    const a = sample(1000);
    const b = sample(2000);
    const skippable = Buffer.from('5a2a4d1803000000010203', 'hex');
    const packed = Buffer.concat([
      compress(CompressionType.Lz4, a),
      skippable,
      compress(CompressionType.Lz4, b),
    ]);
    expect(decompress(CompressionType.Lz4, packed, 3000).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('honours a declared content size', () => {
    const data = sample(5000);
    const framed = withLz4ContentSize(compress(CompressionType.Lz4, data), data.length);
    expect(decompress(CompressionType.Lz4, framed, data.length).equals(data)).toBe(true);
    expect(() => decompress(CompressionType.Lz4, framed, data.length - 1)).toThrow(/limit/);
  });

  it('repairs the broken header checksum of magic-0 messages (KAFKA-3160)', () => {
    const data = sample(3000);
    const good = compress(CompressionType.Lz4, data);
    const broken = Buffer.from(good);
    broken[6] = (xxhash32(broken.subarray(0, 6)) >>> 8) & 0xff; // hashed over magic + descriptor
    expect(broken[6]).not.toBe(good[6]);
    expect(() => decompress(CompressionType.Lz4, broken, 3000)).toThrow(CompressionError);
    const repaired = repairLegacyLz4HeaderChecksum(broken);
    expect(repaired.equals(good)).toBe(true);
    expect(broken[6]).not.toBe(good[6]); // the input is left untouched
  });
});

describe('zstd', () => {
  it('writes frames without a content size and bounds them by their blocks', () => {
    const data = sample(1_000_000);
    const packed = compress(CompressionType.Zstd, data);
    expect(packed.readUInt32LE(0)).toBe(0xfd2fb528);
    expect(packed[4] >> 6).toBe(0); // no frame content size field
    const bound = zstdOutputBound(packed, 10_000_000);
    expect(bound).toBeGreaterThanOrEqual(data.length);
    expect(bound).toBeLessThanOrEqual(data.length + 128 * 1024);
  });

  it('interoperates with zstd-codec (wasm) in both directions', async () => {
    const { ZstdCodec } = require('zstd-codec');
    const zstd: { Simple: new () => ZstdSimple; Streaming: new () => ZstdSimple } = await new Promise(
      (resolve) => ZstdCodec.run(resolve),
    );
    const data = sample(400_000);
    const theirs = Buffer.from(new zstd.Simple().compress(data, 3)); // has a content size
    expect(decompress(CompressionType.Zstd, theirs, data.length).equals(data)).toBe(true);
    expect(() => decompress(CompressionType.Zstd, theirs, data.length - 1)).toThrow(/limit/);
    const ours = compress(CompressionType.Zstd, data);
    expect(Buffer.from(new zstd.Streaming().decompress(ours)).equals(data)).toBe(true);
  });

  it('decodes concatenated and skippable frames', () => {
    const a = sample(1000);
    const b = sample(2000);
    const skippable = Buffer.from('502a4d1802000000aabb', 'hex');
    const packed = Buffer.concat([
      compress(CompressionType.Zstd, a),
      skippable,
      compress(CompressionType.Zstd, b),
    ]);
    expect(decompress(CompressionType.Zstd, packed, 1_000_000).equals(Buffer.concat([a, b]))).toBe(true);
  });
});

describe('xxhash32', () => {
  it('matches lz4js for every tail length', () => {
    for (let n = 0; n < 80; n++) {
      const b = randomBytes(n);
      expect(xxhash32(b)).toBe(lz4jsXxh.hash(0, b, 0, n) >>> 0);
    }
  });
});

interface ZstdSimple {
  compress(data: Uint8Array, level?: number): Uint8Array;
  decompress(data: Uint8Array): Uint8Array;
}

/** Rewrites an lz4 frame to carry a content size field (and a correct header checksum). */
function withLz4ContentSize(frame: Buffer, size: number): Buffer {
  const sizeField = Buffer.alloc(8);
  sizeField.writeBigUInt64LE(BigInt(size));
  const header = Buffer.concat([frame.subarray(0, 6), sizeField, Buffer.alloc(1)]);
  header[4] |= 0x08;
  header[14] = (xxhash32(header.subarray(4, 14)) >>> 8) & 0xff;
  return Buffer.concat([header, frame.subarray(7)]);
}
