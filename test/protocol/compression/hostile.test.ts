// Hostile input: decompression bombs are refused from their headers without allocating their
// output, malformed streams raise CompressionError (a DecodeError) and never anything else.

import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CompressionError,
  CompressionType,
  compress,
  decompress,
  snappyCompressRaw,
} from '../../../src/protocol/compression/index.js';
import { xxhash32 } from '../../../src/protocol/compression/native.js';
import { DecodeError } from '../../../src/protocol/primitives/reader.js';
import { catchError } from './helpers.js';

const MB = 1024 * 1024;

function xerial(blocks: Buffer[]): Buffer {
  const header = Buffer.from('82534e41505059000000000100000001', 'hex');
  const parts: Buffer[] = [header];
  for (const b of blocks) {
    const len = Buffer.alloc(4);
    len.writeInt32BE(b.length);
    parts.push(len, b);
  }
  return Buffer.concat(parts);
}

/** Raw snappy for `n` zero bytes, built from copy elements without materialising the zeros. */
function rawSnappyZeros(n: number): Buffer {
  const preamble: number[] = [];
  let v = n;
  while (v >= 0x80) {
    preamble.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  preamble.push(v);
  const copies = Math.floor((n - 1) / 64);
  const rest = n - 1 - copies * 64;
  const out = Buffer.alloc(preamble.length + 2 + copies * 3 + (rest > 0 ? 3 : 0));
  out.set(preamble, 0);
  let p = preamble.length;
  out[p++] = 0x00; // literal of length 1
  out[p++] = 0x00; // ...the zero byte
  for (let i = 0; i < copies; i++) {
    out[p++] = (63 << 2) | 2; // copy, 2-byte offset, length 64
    out[p++] = 1;
    out[p++] = 0;
  }
  if (rest > 0) {
    out[p++] = ((rest - 1) << 2) | 2;
    out[p++] = 1;
    out[p++] = 0;
  }
  return out;
}

/** An lz4 frame of `blocks` copies of one compressed 4 MiB block of zeros (blocks are independent). */
function lz4Zeros(blocks: number): Buffer {
  const frame = compress(CompressionType.Lz4, Buffer.alloc(4 * MB));
  const headerEnd = 7;
  const size = frame.readUInt32LE(headerEnd) & 0x7fffffff;
  const block = frame.subarray(headerEnd, headerEnd + 4 + size);
  const header = Buffer.from(frame.subarray(0, headerEnd));
  header[5] = 0x70; // 4 MiB block maximum
  header[6] = (xxhash32(header.subarray(4, 6)) >>> 8) & 0xff;
  return Buffer.concat([header, ...Array<Buffer>(blocks).fill(block), Buffer.alloc(4)]);
}

/** A zstd frame of RLE blocks: `blocks` x 128 KiB of zeros in 4 bytes per block. */
function zstdRleZeros(blocks: number): Buffer {
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]); // no content size, 2 MiB window
  const parts: Buffer[] = [header];
  for (let i = 0; i < blocks; i++) {
    const last = i === blocks - 1 ? 1 : 0;
    const h = ((128 * 1024) << 3) | (1 << 1) | last;
    parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff, 0x00]));
  }
  return Buffer.concat(parts);
}

interface Bomb {
  name: string;
  type: CompressionType;
  build: () => Buffer;
}

const BOMBS: Bomb[] = [
  {
    name: 'gzip: 100 MB of zeros (100 members)',
    type: CompressionType.Gzip,
    build: () => Buffer.concat(Array<Buffer>(100).fill(zlib.gzipSync(Buffer.alloc(MB)))),
  },
  {
    name: 'gzip: 4 GB of zeros (4096 members)',
    type: CompressionType.Gzip,
    build: () => Buffer.concat(Array<Buffer>(4096).fill(zlib.gzipSync(Buffer.alloc(MB)))),
  },
  {
    name: 'snappy raw: 100 MB of zeros',
    type: CompressionType.Snappy,
    build: () => rawSnappyZeros(100 * MB),
  },
  {
    name: 'snappy xerial: 100 MB of zeros',
    type: CompressionType.Snappy,
    build: () => xerial(Array<Buffer>(3200).fill(snappyCompressRaw(Buffer.alloc(32 * 1024)))),
  },
  { name: 'lz4: 100 MB of zeros', type: CompressionType.Lz4, build: () => lz4Zeros(25) },
  { name: 'lz4: 1 GB of zeros', type: CompressionType.Lz4, build: () => lz4Zeros(256) },
  {
    name: 'zstd: 100 MB of zeros (25 frames)',
    type: CompressionType.Zstd,
    build: () => Buffer.concat(Array<Buffer>(25).fill(compress(CompressionType.Zstd, Buffer.alloc(4 * MB)))),
  },
  {
    name: 'zstd: 4 GB of zeros (1024 frames)',
    type: CompressionType.Zstd,
    build: () =>
      Buffer.concat(Array<Buffer>(1024).fill(compress(CompressionType.Zstd, Buffer.alloc(4 * MB)))),
  },
  { name: 'zstd: 100 MB of zeros in RLE blocks', type: CompressionType.Zstd, build: () => zstdRleZeros(800) },
  {
    name: 'zstd: 100 MB of RLE blocks in a frame declaring 10 bytes',
    type: CompressionType.Zstd,
    build: () => {
      const frame = zstdRleZeros(800);
      // Descriptor 0x80: a 4-byte content size follows the window descriptor.
      return Buffer.concat([
        Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x80, 0x58, 10, 0, 0, 0]),
        frame.subarray(6),
      ]);
    },
  },
  {
    name: 'lz4: 100 MB of blocks in a frame declaring 10 bytes',
    type: CompressionType.Lz4,
    build: () => {
      const frame = lz4Zeros(25);
      const size = Buffer.alloc(8);
      size.writeBigUInt64LE(10n);
      const header = Buffer.concat([frame.subarray(0, 6), size, Buffer.alloc(1)]);
      header[4] |= 0x08;
      header[14] = (xxhash32(header.subarray(4, 14)) >>> 8) & 0xff;
      return Buffer.concat([header, frame.subarray(7)]);
    },
  },
];

describe('decompression bombs', () => {
  it.each(BOMBS)('$name is refused by the cap without allocating it', ({ type, build }) => {
    const bomb = build();
    const before = process.memoryUsage().rss;
    const err = catchError(() => decompress(type, bomb, MB));
    const grown = process.memoryUsage().rss - before;
    expect(err).toBeInstanceOf(CompressionError);
    expect((err as CompressionError).kind).toBe('limit');
    expect(grown).toBeLessThan(50 * MB);
  });

  it('the bombs are real: each decodes under a large enough cap (checked for the 100 MB ones)', () => {
    // Not every bomb is expanded here (that is the point); one suffices to show the construction.
    const out = decompress(CompressionType.Snappy, rawSnappyZeros(3 * MB), 3 * MB);
    expect(out.length).toBe(3 * MB);
    expect(out.every((b) => b === 0)).toBe(true);
    expect(decompress(CompressionType.Lz4, lz4Zeros(2), 8 * MB).length).toBe(8 * MB);
    expect(decompress(CompressionType.Zstd, zstdRleZeros(16), 2 * MB).length).toBe(2 * MB);
  });
});

describe('forged headers', () => {
  const cases: Array<[string, CompressionType, Buffer, string]> = [
    [
      'snappy length beyond any expansion',
      CompressionType.Snappy,
      Buffer.from('ffffffff0f00', 'hex'),
      'corrupt',
    ],
    ['snappy unterminated varint', CompressionType.Snappy, Buffer.from('ffffffffff', 'hex'), 'corrupt'],
    [
      'xerial negative chunk length',
      CompressionType.Snappy,
      Buffer.concat([xerial([]), Buffer.from('ffffff00', 'hex')]),
      'corrupt',
    ],
    [
      'xerial chunk longer than the input',
      CompressionType.Snappy,
      Buffer.concat([xerial([]), Buffer.from('0000100000', 'hex')]),
      'corrupt',
    ],
    ['xerial truncated header', CompressionType.Snappy, xerial([]).subarray(0, 12), 'corrupt'],
    ['lz4 content size 2^63', CompressionType.Lz4, lz4WithHeader(0x68, 0x40, 2n ** 63n), 'limit'],
    ['lz4 dictionary id', CompressionType.Lz4, lz4WithHeader(0x61, 0x40), 'unsupported'],
    ['lz4 block size id 3', CompressionType.Lz4, lz4WithHeader(0x60, 0x30), 'corrupt'],
    ['lz4 block over the block maximum', CompressionType.Lz4, lz4WithBlock(0x00010001), 'corrupt'],
    [
      'lz4 missing end mark',
      CompressionType.Lz4,
      compress(CompressionType.Lz4, Buffer.from('abc')).subarray(0, -4),
      'corrupt',
    ],
    ['zstd content size 2^63', CompressionType.Zstd, zstdHeader([0xe0], 8, 2n ** 63n), 'limit'],
    ['zstd window 2^31', CompressionType.Zstd, zstdHeader([0x00, 21 << 3]), 'unsupported'],
    ['zstd dictionary', CompressionType.Zstd, zstdHeader([0x01, 0x58, 0x07]), 'unsupported'],
    ['zstd reserved bit', CompressionType.Zstd, zstdHeader([0x08, 0x58]), 'corrupt'],
    [
      'zstd reserved block type',
      CompressionType.Zstd,
      Buffer.concat([zstdHeader([0x00, 0x58]), Buffer.from('070000', 'hex')]),
      'corrupt',
    ],
    [
      'zstd block over the maximum',
      CompressionType.Zstd,
      Buffer.concat([zstdHeader([0x00, 0x58]), Buffer.from('08ffff', 'hex')]),
      'corrupt',
    ],
    ['empty lz4', CompressionType.Lz4, Buffer.alloc(0), 'corrupt'],
    ['empty zstd', CompressionType.Zstd, Buffer.alloc(0), 'corrupt'],
    ['empty gzip', CompressionType.Gzip, Buffer.alloc(0), 'corrupt'],
    ['empty snappy', CompressionType.Snappy, Buffer.alloc(0), 'corrupt'],
  ];
  it.each(cases)('%s', (_name, type, data, kind) => {
    const err = catchError(() => decompress(type, data, 64 * MB));
    expect(err).toBeInstanceOf(CompressionError);
    expect((err as CompressionError).kind).toBe(kind);
  });
});

describe('garbage', () => {
  const TYPES = [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];

  it.each(TYPES)('codec %i: random bytes raise CompressionError', (type) => {
    for (let i = 0; i < 200; i++) {
      const err = catchError(() => decompress(type, randomBytes(1 + (i % 64) * 13), MB));
      expect(err).toBeInstanceOf(CompressionError);
    }
  });

  it.each(TYPES)('codec %i: valid streams with a corrupted byte raise CompressionError', (type) => {
    // Either a CompressionError, or (when the flipped byte sits in a literal) some output that
    // still respects the cap; never a crash or another error type.
    const packed = compress(type, Buffer.alloc(20_000, 'corruption test '));
    fc.assert(
      fc.property(fc.nat(packed.length - 1), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const bad = Buffer.from(packed);
        bad[at] ^= x;
        try {
          expect(decompress(type, bad, 100_000).length).toBeLessThanOrEqual(100_000);
        } catch (e) {
          expect(e).toBeInstanceOf(CompressionError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it.each(TYPES)('codec %i: every truncation is refused or decodes a prefix', (type) => {
    const data = Buffer.concat([Buffer.alloc(50_000, 'truncation '), randomBytes(5000)]);
    const packed = compress(type, data);
    const step = Math.max(1, Math.floor(packed.length / 300));
    for (let n = 0; n < packed.length; n += step) {
      try {
        const out = decompress(type, packed.subarray(0, n), 100_000);
        expect(data.subarray(0, out.length).equals(out)).toBe(true);
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
      }
    }
  });

  it('arbitrary bytes never escape as anything but DecodeError, for any type id', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 200 }), (type, bytes) => {
        try {
          expect(decompress(type, Buffer.from(bytes), 10_000).length).toBeLessThanOrEqual(10_000);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

function lz4WithHeader(flg: number, bd: number, contentSize?: bigint): Buffer {
  const parts = [Buffer.from([0x04, 0x22, 0x4d, 0x18, flg, bd])];
  if (contentSize !== undefined) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(contentSize);
    parts.push(b);
  }
  if ((flg & 1) !== 0) parts.push(Buffer.from([1, 0, 0, 0]));
  const header = Buffer.concat(parts);
  const hc = (xxhash32(header.subarray(4)) >>> 8) & 0xff;
  return Buffer.concat([header, Buffer.from([hc]), Buffer.alloc(4)]);
}

function lz4WithBlock(word: number): Buffer {
  const header = lz4WithHeader(0x60, 0x40).subarray(0, 7);
  const w = Buffer.alloc(4);
  w.writeUInt32LE(word);
  return Buffer.concat([header, w, Buffer.alloc(0x10001), Buffer.alloc(4)]);
}

function zstdHeader(descriptor: number[], fcsBytes = 0, fcs = 0n): Buffer {
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, ...descriptor])];
  if (fcsBytes === 8) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(fcs);
    parts.push(b);
  }
  return Buffer.concat(parts);
}
