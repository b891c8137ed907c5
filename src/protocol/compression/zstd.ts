// zstd (Kafka compression type 4), natively via @toondepauw/node-zstd (libzstd's streaming API).
//
// Written: one frame without a content size, as Java's ZstdOutputStream (zstd-jni) writes, at
// level 3 by default (zstd's and Kafka's default; `compression.zstd.level` can change it).
//
// Read: the native decoder grows its output until the stream ends, so the output is bounded by
// walking the frames first, without decompressing: a raw block yields its size, an RLE block its
// repeat count, a compressed block at most Block_Maximum_Size = min(window size, 128 KiB). A
// declared content size is checked against the cap up front, but does not replace the block bound
// (libzstd compares the two only at the end of a frame). Skippable frames are skipped;
// concatenated frames are summed (libzstd decodes them all).
//
// A frame ends in a block that is usually not full, so its bound exceeds
// the true size by up to one block. The walk therefore allows BOUND_SLACK over the cap, and the
// exact length is checked after decoding: the native output stays below maxBytes + 128 KiB, and
// the cap is exact for the single-frame streams Kafka clients write.

import { zstdNative } from './native.js';
import { CompressionError, checkLimit } from './types.js';

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC = 0x184d2a50; // low 4 bits are free
const MAX_BLOCK_BYTES = 128 * 1024;
/**
 * libzstd's default decoding limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT): larger windows are refused by
 * the native decoder anyway; checking here gives the typed error. A frame without a content size
 * makes libzstd reserve its window (at most 128 MiB of address space), but only the pages it
 * writes, i.e. at most the bounded output, become resident.
 */
const MAX_WINDOW_LOG = 27;

/** One maximum-size block: the most a frame's bound can overshoot in the usual case. */
const BOUND_SLACK = MAX_BLOCK_BYTES;

export const ZSTD_DEFAULT_LEVEL = 3;

type ZstdEncoder = InstanceType<ReturnType<typeof zstdNative>['Encoder']>;
type ZstdDecoder = InstanceType<ReturnType<typeof zstdNative>['Decoder']>;
const encoders = new Map<number, ZstdEncoder>();
let decoder: ZstdDecoder | undefined;

export function zstdCompress(data: Buffer, level = ZSTD_DEFAULT_LEVEL): Buffer {
  let encoder = encoders.get(level);
  if (encoder === undefined) {
    encoder = new (zstdNative().Encoder)(level);
    encoders.set(level, encoder);
  }
  return encoder.encodeSync(data);
}

export function zstdDecompress(data: Buffer, maxBytes: number): Buffer {
  const bound = zstdOutputBound(data, maxBytes + BOUND_SLACK);
  let out: Buffer;
  try {
    decoder ??= new (zstdNative().Decoder)();
    out = decoder.decodeSync(data);
  } catch (e) {
    throw corrupt((e as Error).message, e);
  }
  if (out.length > bound) throw corrupt(`decoded ${out.length} bytes, more than the frames allow (${bound})`);
  checkLimit('zstd', out.length, maxBytes);
  return out;
}

/**
 * An upper bound of the decoded size of `data` (one or more frames), computed from headers only.
 * Raises CompressionError('limit') as soon as it passes maxBytes, ('corrupt') on malformed frames.
 */
export function zstdOutputBound(data: Buffer, maxBytes: number): number {
  let total = 0;
  let frames = 0;
  let pos = 0;
  const need = (n: number) => {
    if (n > data.length - pos) throw corrupt(`truncated frame at byte ${pos}`);
  };
  while (pos < data.length) {
    need(4);
    const magic = data.readUInt32LE(pos);
    pos += 4;
    if ((magic & 0xfffffff0) === SKIPPABLE_MAGIC) {
      need(4);
      const size = data.readUInt32LE(pos);
      pos += 4;
      need(size);
      pos += size;
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw corrupt(`bad frame magic 0x${magic.toString(16)} at byte ${pos - 4}`);
    frames++;
    need(1);
    const fhd = data[pos++];
    const fcsFlag = fhd >> 6;
    const singleSegment = (fhd & 0x20) !== 0;
    if ((fhd & 0x08) !== 0) throw corrupt('reserved frame header bit set');
    const hasChecksum = (fhd & 0x04) !== 0;
    let windowSize = 0;
    if (!singleSegment) {
      need(1);
      const wd = data[pos++];
      const windowLog = 10 + (wd >> 3);
      if (windowLog > MAX_WINDOW_LOG) {
        throw new CompressionError(
          'zstd',
          'unsupported',
          `window of 2^${windowLog} bytes is over 2^${MAX_WINDOW_LOG}`,
        );
      }
      const base = 2 ** windowLog;
      windowSize = base + (base / 8) * (wd & 7);
    }
    const dictIdBytes = [0, 1, 2, 4][fhd & 3];
    need(dictIdBytes);
    const dictId = dictIdBytes === 0 ? 0 : data.readUIntLE(pos, dictIdBytes);
    pos += dictIdBytes;
    if (dictId !== 0) throw new CompressionError('zstd', 'unsupported', `frame needs dictionary ${dictId}`);
    const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
    need(fcsBytes);
    let contentSize = -1;
    if (fcsBytes > 0) {
      const size =
        fcsBytes === 1
          ? BigInt(data[pos])
          : fcsBytes === 2
            ? BigInt(data.readUInt16LE(pos) + 256)
            : fcsBytes === 4
              ? BigInt(data.readUInt32LE(pos))
              : data.readBigUInt64LE(pos);
      // Checked first: libzstd sizes its buffers from the declared content size.
      if (size > BigInt(maxBytes - total)) {
        throw new CompressionError(
          'zstd',
          'limit',
          `frame declares ${size} bytes, over the limit of ${maxBytes}`,
        );
      }
      contentSize = Number(size);
      pos += fcsBytes;
    }
    if (singleSegment) windowSize = contentSize;
    const blockMax = Math.min(windowSize, MAX_BLOCK_BYTES);
    let bound = 0;
    let last = false;
    while (!last) {
      need(3);
      const header = data[pos] | (data[pos + 1] << 8) | (data[pos + 2] << 16);
      pos += 3;
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (size > blockMax) throw corrupt(`block of ${size} bytes exceeds the maximum of ${blockMax}`);
      if (type === 0) {
        need(size);
        pos += size;
        bound += size;
      } else if (type === 1) {
        need(1);
        pos += 1;
        bound += size;
      } else if (type === 2) {
        need(size);
        pos += size;
        bound += blockMax;
      } else {
        throw corrupt('reserved block type');
      }
      // The blocks bound the output even when a content size is declared: the decoder compares
      // the two only at the end of the frame, after writing the blocks out.
      checkLimit('zstd', total + bound, maxBytes);
    }
    if (hasChecksum) {
      need(4);
      pos += 4;
    }
    if (contentSize > bound)
      throw corrupt(`frame declares ${contentSize} bytes, its blocks hold at most ${bound}`);
    total += bound;
  }
  if (frames === 0) throw corrupt('no zstd frame in input');
  return total;
}

function corrupt(message: string, cause?: unknown): CompressionError {
  return new CompressionError('zstd', 'corrupt', message, { cause });
}
