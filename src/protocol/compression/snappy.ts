// snappy (Kafka compression type 2): raw snappy blocks and the xerial framing around them.
//
// What is written: xerial framing, as the Java client does (SnappyOutputStream from
// xerial/snappy-java: magic 0x82 'SNAPPY' 0x00, int32 version 1, int32 min-compatible version 1,
// then chunks of [int32 compressed length][raw snappy block], each block compressing 32 KiB of
// input). librdkafka writes one unframed raw snappy block but reads both forms
// (rd_kafka_snappy_java_uncompress), and the Java client's reader falls back to raw snappy when the
// magic is absent; so xerial is the one form every client reads, including old Java consumers,
// and it matches what the reference implementation itself produces.
//
// What is read: both. A raw block states its uncompressed length in its varint preamble; a xerial
// stream is the sum of its chunks' preambles. Both are checked against the cap before the native
// decoder runs (it allocates the stated length up front).

import { type DecodeError, Reader } from '../primitives/reader.js';
import { snappyNative } from './native.js';
import { CompressionError, checkLimit } from './types.js';

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
const XERIAL_VERSION = 1;
const XERIAL_MIN_COMPATIBLE_VERSION = 1;
/** snappy-java's SnappyOutputStream default block size, which the Java client uses. */
const XERIAL_BLOCK_BYTES = 32 * 1024;
/**
 * No snappy element expands more than 64 output bytes per 3 input bytes (a copy with a 2-byte
 * offset), so a preamble claiming more than this many times the input is corrupt, whatever the cap.
 */
const MAX_EXPANSION = 22;

export function isXerialFramed(data: Buffer): boolean {
  return data.length >= XERIAL_MAGIC.length && XERIAL_MAGIC.equals(data.subarray(0, XERIAL_MAGIC.length));
}

/** Compresses with xerial framing (see the file header for why). */
export function snappyCompress(data: Buffer): Buffer {
  const blocks: Buffer[] = [];
  let total = XERIAL_HEADER_BYTES;
  for (let off = 0; off < data.length; off += XERIAL_BLOCK_BYTES) {
    const block = snappyNative().compressSync(data.subarray(off, off + XERIAL_BLOCK_BYTES));
    blocks.push(block);
    total += 4 + block.length;
  }
  const out = Buffer.allocUnsafe(total);
  XERIAL_MAGIC.copy(out, 0);
  out.writeInt32BE(XERIAL_VERSION, 8);
  out.writeInt32BE(XERIAL_MIN_COMPATIBLE_VERSION, 12);
  let pos = XERIAL_HEADER_BYTES;
  for (const block of blocks) {
    out.writeInt32BE(block.length, pos);
    block.copy(out, pos + 4);
    pos += 4 + block.length;
  }
  return out;
}

/** One raw snappy block without framing (what librdkafka writes). */
export function snappyCompressRaw(data: Buffer): Buffer {
  return snappyNative().compressSync(data);
}

export function snappyDecompress(data: Buffer, maxBytes: number): Buffer {
  return isXerialFramed(data) ? xerialDecompress(data, maxBytes) : rawDecompress(data, maxBytes);
}

/** The uncompressed length a raw block declares, checked for plausibility. */
function rawLength(block: Buffer): number {
  let n: number;
  try {
    n = new Reader(block).unsignedVarint();
  } catch (e) {
    throw corrupt(`bad length preamble: ${(e as DecodeError).message}`, e);
  }
  if (n > MAX_EXPANSION * block.length) {
    throw corrupt(`a ${block.length}-byte block cannot hold ${n} bytes`);
  }
  return n;
}

function rawDecompress(block: Buffer, maxBytes: number): Buffer {
  const n = rawLength(block);
  checkLimit('snappy', n, maxBytes);
  return uncompressBlock(block, n);
}

function uncompressBlock(block: Buffer, expected: number): Buffer {
  let out: Buffer;
  try {
    out = snappyNative().uncompressSync(block, { asBuffer: true }) as Buffer;
  } catch (e) {
    throw corrupt((e as Error).message, e);
  }
  if (out.length !== expected) throw corrupt(`block decoded to ${out.length} bytes, declared ${expected}`);
  return out;
}

function xerialDecompress(data: Buffer, maxBytes: number): Buffer {
  if (data.length < XERIAL_HEADER_BYTES) throw corrupt('truncated xerial header');
  // Pass 1: walk the chunk headers and sum the declared lengths, before decoding anything.
  const blocks: Buffer[] = [];
  const lengths: number[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_BYTES;
  while (pos < data.length) {
    if (data.length - pos < 4) throw corrupt(`truncated chunk header at ${pos}`);
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || len > data.length - pos)
      throw corrupt(`chunk length ${len} at ${pos - 4} exceeds the input`);
    if (len === 0) continue;
    const block = data.subarray(pos, pos + len);
    pos += len;
    const n = rawLength(block);
    total += n;
    checkLimit('snappy', total, maxBytes);
    blocks.push(block);
    lengths.push(n);
  }
  // Pass 2: decode. One chunk (any batch under 32 KiB) needs no copy.
  if (blocks.length === 1) return uncompressBlock(blocks[0], lengths[0]);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < blocks.length; i++) {
    uncompressBlock(blocks[i], lengths[i]).copy(out, at);
    at += lengths[i];
  }
  return out;
}

function corrupt(message: string, cause?: unknown): CompressionError {
  return new CompressionError('snappy', 'corrupt', message, { cause });
}
