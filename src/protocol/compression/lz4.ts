// lz4 (Kafka compression type 3): the LZ4 frame format, natively via lz4-napi (lz4_flex).
//
// Written: one frame, independent blocks, no block/content checksums, no content size, the way
// Java's KafkaLZ4BlockOutputStream writes (its reader refuses dependent blocks). lz4_flex picks the
// block size from the input length (64 KiB .. 4 MiB); Java and librdkafka read all four sizes.
//
// Read: before the native decoder runs, the frame headers are walked to bound the output. An
// uncompressed block yields exactly its size; a compressed block at most min(block max size,
// 255 x its compressed size) (no LZ4 sequence expands more than 255 bytes per input byte). Only
// when that cheap bound passes the cap are the blocks' sequences walked (token, lengths, offsets;
// literals skipped, nothing written) to get their exact decoded size, so the cap is exact and the
// common case costs one pass over the block headers. Skippable frames are skipped; concatenated
// frames are decoded one by one (lz4-napi stops after the first).

import { lz4Native, xxhash32 } from './native.js';
import { CompressionError, checkLimit } from './types.js';

const LZ4_MAGIC = 0x184d2204;
const SKIPPABLE_MAGIC = 0x184d2a50; // low 4 bits are free
const MAX_BLOCK_EXPANSION = 255;

export function lz4Compress(data: Buffer): Buffer {
  return lz4Native().compressFrameSync(data, { contentChecksum: false, blockChecksums: false });
}

export function lz4Decompress(data: Buffer, maxBytes: number): Buffer {
  const frames = walkFrames(data, maxBytes);
  if (frames.length === 1) return decodeFrame(frames[0]);
  const parts = frames.map(decodeFrame);
  return Buffer.concat(parts);
}

function decodeFrame(frame: Buffer): Buffer {
  try {
    return lz4Native().decompressFrameSync(frame);
  } catch (e) {
    throw corrupt((e as Error).message, e);
  }
}

/** Splits `data` into LZ4 frames, refusing it when their combined output may exceed maxBytes. */
export function walkFrames(data: Buffer, maxBytes: number): Buffer[] {
  const frames: Buffer[] = [];
  let total = 0;
  let pos = 0;
  const need = (n: number) => {
    if (n > data.length - pos) throw corrupt(`truncated frame at byte ${pos}`);
  };
  while (pos < data.length) {
    need(4);
    const magic = data.readUInt32LE(pos);
    if ((magic & 0xfffffff0) === SKIPPABLE_MAGIC) {
      need(8);
      const size = data.readUInt32LE(pos + 4);
      pos += 8;
      need(size);
      pos += size;
      continue;
    }
    if (magic !== LZ4_MAGIC) throw corrupt(`bad frame magic 0x${magic.toString(16)} at byte ${pos}`);
    const start = pos;
    pos += 4;
    need(2);
    const flg = data[pos];
    const bd = data[pos + 1];
    pos += 2;
    if (flg >> 6 !== 1) throw corrupt(`unsupported frame version ${flg >> 6}`);
    if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) throw corrupt('reserved descriptor bits set');
    const blockSizeId = (bd >> 4) & 7;
    if (blockSizeId < 4) throw corrupt(`invalid block size id ${blockSizeId}`);
    const blockMax = 1 << (2 * blockSizeId + 8);
    const blockChecksum = (flg & 0x10) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    let contentSize = -1;
    if ((flg & 0x08) !== 0) {
      need(8);
      const size = data.readBigUInt64LE(pos);
      pos += 8;
      // Checked before anything else: a decoder may reserve the declared size up front.
      if (size > BigInt(maxBytes - total)) {
        throw new CompressionError(
          'lz4',
          'limit',
          `frame declares ${size} bytes, over the limit of ${maxBytes}`,
        );
      }
      contentSize = Number(size);
    }
    if ((flg & 0x01) !== 0) throw new CompressionError('lz4', 'unsupported', 'frame needs a dictionary');
    need(1);
    pos += 1; // header checksum, verified by the native decoder
    let bound = 0;
    for (;;) {
      need(4);
      const word = data.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break; // EndMark
      const size = word & 0x7fffffff;
      const stored = word >>> 31 === 1;
      if (size > blockMax) throw corrupt(`block of ${size} bytes exceeds the frame's ${blockMax}`);
      need(size + (blockChecksum ? 4 : 0));
      pos += size + (blockChecksum ? 4 : 0);
      if (stored) {
        bound += size;
      } else {
        const cheap = Math.min(blockMax, size * MAX_BLOCK_EXPANSION);
        if (total + bound + cheap <= maxBytes) {
          bound += cheap;
        } else {
          const exact = blockDecodedSize(data, pos - size - (blockChecksum ? 4 : 0), size, blockMax);
          if (exact > blockMax) throw corrupt(`block decodes to more than the frame's ${blockMax} bytes`);
          bound += exact;
        }
      }
      // The blocks bound the output even when a content size is declared: a decoder may only
      // compare the two after writing the blocks out.
      checkLimit('lz4', total + bound, maxBytes);
    }
    if (contentChecksum) {
      need(4);
      pos += 4;
    }
    if (contentSize > bound)
      throw corrupt(`frame declares ${contentSize} bytes, its blocks hold at most ${bound}`);
    total += bound;
    frames.push(data.subarray(start, pos));
  }
  if (frames.length === 0) throw corrupt('no lz4 frame in input');
  return frames;
}

/**
 * The exact decoded size of the LZ4 block at data[start, start + size), found by walking its
 * sequences without producing output. Stops early once past `limit` (the caller refuses then).
 */
function blockDecodedSize(data: Buffer, start: number, size: number, limit: number): number {
  const end = start + size;
  let p = start;
  let out = 0;
  while (p < end) {
    const token = data[p++];
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (p >= end) throw corrupt('truncated literal length');
        b = data[p++];
        literals += b;
      } while (b === 255);
    }
    p += literals;
    out += literals;
    if (p > end) throw corrupt('literals run past the block');
    if (p === end) break; // the last sequence has literals only
    if (end - p < 2) throw corrupt('truncated match offset');
    if ((data[p] | (data[p + 1] << 8)) === 0) throw corrupt('zero match offset');
    p += 2;
    let match = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (p >= end) throw corrupt('truncated match length');
        b = data[p++];
        match += b;
      } while (b === 255);
    }
    out += match;
    if (out > limit) return out;
  }
  return out;
}

/**
 * A copy of a magic-0 lz4 message value with its frame header checksum recomputed. Kafka clients
 * before 0.10 hashed the magic number together with the descriptor (KAFKA-3160), so Java reads
 * magic-0 lz4 with header-checksum verification off; the native decoder always verifies, so the
 * byte is repaired instead. Input that is not an lz4 frame is returned as is (and then fails to decode).
 */
export function repairLegacyLz4HeaderChecksum(data: Buffer): Buffer {
  if (data.length < 7 || data.readUInt32LE(0) !== LZ4_MAGIC) return data;
  const flg = data[4];
  const descriptorEnd = 6 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0);
  if (descriptorEnd >= data.length) return data;
  const fixed = Buffer.from(data);
  fixed[descriptorEnd] = (xxhash32(fixed.subarray(4, descriptorEnd)) >>> 8) & 0xff;
  return fixed;
}

function corrupt(message: string, cause?: unknown): CompressionError {
  return new CompressionError('lz4', 'corrupt', message, { cause });
}
