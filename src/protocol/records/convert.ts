// Conversion between magic 0/1 message sets and v2 record batches, for the request versions of
// clients older than Kafka 0.11 (Produce v0-2, Fetch v0-3), as Kafka 3.x did it:
//
// - Up-conversion (Kafka's LogValidator.convertAndAssignOffsetsNonCompressed and the compressed
//   path of validateMessagesAndAssignOffsetsCompressed): every message of the set, wrappers
//   unpacked, becomes one record of ONE v2 batch with offset deltas 0..n-1 (the log assigns the
//   offsets), the message's key, value and timestamp (-1 for magic 0, which has none). The batch
//   keeps the producer's codec (the last compressed wrapper's, Kafka's sourceCompression); the
//   broker's compression.type then applies as for any batch.
// - Down-conversion (RecordsUtil.downConvert, MemoryRecordsBuilder with magic 0/1): one stored v2
//   batch becomes one legacy entry set: a compressed batch one wrapper message (same codec) whose
//   inner offsets are absolute (magic 0) or relative to the first (magic 1) and whose offset is
//   the last record's; an uncompressed batch one message per record. Records below the fetch
//   offset are left out, control batches are skipped (the old formats cannot carry them), record
//   headers are dropped, and magic 0 loses the timestamps. Transactional data is converted like any
//   other (a Fetch below v4 reads uncommitted). A magic 0 LZ4 wrapper gets the frame header checksum
//   Kafka's old producers and consumers computed (KAFKA-3160), as Kafka writes it.

import { compress, decompress } from '../compression/index.js';
import { xxhash32 } from '../compression/native.js';
import { CompressionType } from '../compression/types.js';
import { DecodeError, Reader } from '../primitives/reader.js';
import {
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V0,
  MAGIC_V1,
  MAGIC_V2,
  MIN_RECORD_BYTES,
  NO_TIMESTAMP,
  RECORD_BATCH_OVERHEAD,
  TimestampType,
} from './constants.js';
import { crc32 } from './crc.js';
import { encodeRecordBatch } from './encode.js';
import { splitRecordSet } from './framing.js';
import { readRecordBatchHeader } from './header.js';
import { decodeLegacyEntry } from './legacy.js';
import type { RecordInput } from './types.js';

/** Legacy attribute bit 3: the timestamp is the log append time (magic 1). */
const LEGACY_TIMESTAMP_TYPE_MASK = 0x08;

export interface UpConverted {
  /** One v2 batch, base offset 0, CreateTime, no producer id. */
  batch: Buffer;
  recordCount: number;
  /** The codec of the producer's wrappers (none if every message was plain). */
  sourceCompression: CompressionType;
  /** The largest shallow message (a wrapper counts whole), for max.message.bytes. */
  largestEntryBytes: number;
}

/**
 * Converts the magic 0/1 message set of a Produce v0-2 partition into one v2 batch. Throws
 * DecodeError (or CrcMismatchError, CompressionError) for what does not parse, a trailing partial
 * message, a magic 2 entry among legacy ones, and an empty set.
 */
export function upConvertMessageSet(records: Buffer, maxUncompressedBytes: number): UpConverted {
  const { entries, partialBytes } = splitRecordSet(records);
  if (partialBytes > 0)
    throw new DecodeError(`message set ends with a partial message of ${partialBytes} bytes`);
  if (entries.length === 0) throw new DecodeError('empty message set');
  const inputs: RecordInput[] = [];
  let sourceCompression: CompressionType = CompressionType.None;
  let largestEntryBytes = 0;
  let uncompressedBytes = 0;
  for (const e of entries) {
    if (e.magic === MAGIC_V2) throw new DecodeError('a record batch v2 among magic 0/1 messages');
    largestEntryBytes = Math.max(largestEntryBytes, e.bytes.length);
    const batch = decodeLegacyEntry(e.bytes, { maxUncompressedBytes });
    if (batch.compression !== CompressionType.None) sourceCompression = batch.compression;
    for (const r of batch.records) {
      uncompressedBytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
      if (uncompressedBytes > maxUncompressedBytes) {
        throw new DecodeError(`message set holds more than ${maxUncompressedBytes} bytes`);
      }
      inputs.push({ key: r.key, value: r.value, timestamp: r.timestamp, offsetDelta: inputs.length });
    }
  }
  return {
    batch: encodeRecordBatch(inputs, { compression: sourceCompression }),
    recordCount: inputs.length,
    sourceCompression,
    largestEntryBytes,
  };
}

/** The frame header checksum byte of magic 0 LZ4, computed over the magic number too (KAFKA-3160). */
function breakLz4HeaderChecksum(frame: Buffer): Buffer {
  if (frame.length < 7) return frame;
  const flg = frame[4];
  const descriptorEnd = 6 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0);
  if (descriptorEnd >= frame.length) return frame;
  frame[descriptorEnd] = (xxhash32(frame.subarray(0, descriptorEnd)) >>> 8) & 0xff;
  return frame;
}

/** Size of one legacy message after LOG_OVERHEAD, from its key and value lengths (-1 = null). */
function messageBodySize(magic: 0 | 1, keyLength: number, valueLength: number): number {
  return 4 + 1 + 1 + (magic === MAGIC_V1 ? 8 : 0) + 4 + Math.max(keyLength, 0) + 4 + Math.max(valueLength, 0);
}

// CRC-32 (IEEE) in JavaScript, slicing by 4: legacy messages of ~100 bytes are checksummed faster
// here than through a native call each (the call and the view it needs cost more than the bytes).
const CRC_TABLES = (() => {
  const t = new Int32Array(4 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < 4; k++)
      t[k * 256 + i] = (t[(k - 1) * 256 + i] >>> 8) ^ t[t[(k - 1) * 256 + i] & 0xff];
  }
  return t;
})();
const SMALL_CRC_BYTES = 1024;

function crc32Range(b: Buffer, start: number, end: number): number {
  if (end - start > SMALL_CRC_BYTES) return crc32(b.subarray(start, end));
  const t = CRC_TABLES;
  let c = -1;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    c ^= b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
    c = t[768 + (c & 0xff)] ^ t[512 + ((c >>> 8) & 0xff)] ^ t[256 + ((c >>> 16) & 0xff)] ^ t[c >>> 24];
  }
  for (; i < end; i++) c = t[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const TWO_32 = 4294967296;

/** Writes a 32-bit value big-endian, byte by byte (no range checks: the hot loop's callers know). */
function put32(out: Buffer, v: number, pos: number): void {
  out[pos] = v >>> 24;
  out[pos + 1] = v >>> 16;
  out[pos + 2] = v >>> 8;
  out[pos + 3] = v;
}

/** Writes an int64 given as a number (|v| < 2^53) without a BigInt. */
function writeInt64(out: Buffer, v: number, pos: number): void {
  const hi = Math.floor(v / TWO_32);
  put32(out, hi, pos);
  put32(out, v - hi * TWO_32, pos + 4);
}

/** Copies src[start, start + n) to out at `to`; returns the position after it. */
function copyBytes(src: Buffer, start: number, n: number, out: Buffer, to: number): number {
  // A loop beats Buffer.copy (a view and a native call) only for a few bytes.
  if (n > 16) return to + src.copy(out, to, start, start + n);
  for (let i = 0; i < n; i++) out[to + i] = src[start + i];
  return to + n;
}

/**
 * Writes one legacy message at `pos` of `out` (key and value taken from `src` at the given
 * positions; length -1 for null); returns the position after it.
 */
function writeMessage(
  out: Buffer,
  pos: number,
  magic: 0 | 1,
  offset: number,
  attributes: number,
  timestamp: number,
  src: Buffer,
  keyStart: number,
  keyLength: number,
  valueStart: number,
  valueLength: number,
): number {
  writeInt64(out, offset, pos);
  put32(out, messageBodySize(magic, keyLength, valueLength), pos + 8);
  let p = pos + MAGIC_OFFSET;
  out[p++] = magic;
  out[p++] = attributes & 0xff;
  if (magic === MAGIC_V1) {
    writeInt64(out, timestamp, p);
    p += 8;
  }
  put32(out, keyLength, p);
  p += 4;
  if (keyLength > 0) p = copyBytes(src, keyStart, keyLength, out, p);
  put32(out, valueLength, p);
  p += 4;
  if (valueLength > 0) p = copyBytes(src, valueStart, valueLength, out, p);
  put32(out, crc32Range(out, pos + MAGIC_OFFSET, p), pos + LOG_OVERHEAD);
  return p;
}

/** The records of a v2 batch as positions in their (decompressed) bytes: no record objects. */
interface RecordLayout {
  count: number;
  src: Buffer;
  offsetDeltas: Int32Array;
  timestampDeltas: Float64Array;
  keyStarts: Int32Array;
  keyLengths: Int32Array;
  valueStarts: Int32Array;
  valueLengths: Int32Array;
}

function readBytesLength(r: Reader): number {
  const n = r.varint();
  if (n < -1) throw new DecodeError(`invalid record field length ${n} at offset ${r.pos}`);
  return n;
}

/** Walks the records of buf[start, end) (checked as the decoder checks them), headers skipped. */
function layoutRecords(src: Buffer, start: number, end: number, count: number): RecordLayout {
  if (count > (end - start) / MIN_RECORD_BYTES) {
    throw new DecodeError(`${count} records cannot fit in ${end - start} bytes`);
  }
  const l: RecordLayout = {
    count,
    src,
    offsetDeltas: new Int32Array(count),
    timestampDeltas: new Float64Array(count),
    keyStarts: new Int32Array(count),
    keyLengths: new Int32Array(count),
    valueStarts: new Int32Array(count),
    valueLengths: new Int32Array(count),
  };
  const r = new Reader(src, start, end);
  for (let i = 0; i < count; i++) {
    const length = r.varint();
    if (length < MIN_RECORD_BYTES - 1 || length > r.remaining) {
      throw new DecodeError(`record ${i}: invalid length ${length} with ${r.remaining} bytes left`);
    }
    const recordEnd = r.pos + length;
    r.int8(); // attributes, unused in v2
    l.timestampDeltas[i] = r.varlongNumber();
    l.offsetDeltas[i] = r.varint();
    const keyLength = readBytesLength(r);
    l.keyStarts[i] = r.pos;
    l.keyLengths[i] = keyLength;
    if (keyLength > 0) r.skip(keyLength);
    const valueLength = readBytesLength(r);
    l.valueStarts[i] = r.pos;
    l.valueLengths[i] = valueLength;
    if (valueLength > 0) r.skip(valueLength);
    // Headers: the old formats cannot carry them.
    if (r.pos > recordEnd) throw new DecodeError(`record ${i}: fields overrun its length ${length}`);
    r.pos = recordEnd;
  }
  if (r.pos !== end) throw new DecodeError(`${end - r.pos} bytes after the last of ${count} records`);
  return l;
}

export interface DownConvertOptions {
  /** Records below this offset (the fetch offset) are left out. */
  firstOffset: bigint;
  maxUncompressedBytes: number;
}

/**
 * Converts the complete v2 batch `batch` to magic 0 or 1 (see the file comment). Returns null when
 * nothing of it can be sent: a control batch, or no record at or after firstOffset. Throws for a
 * zstd batch (magic 0/1 has no zstd; a Fetch below v10 gets UNSUPPORTED_COMPRESSION_TYPE first).
 * Records are walked in place and written straight into the output, without record objects.
 */
export function downConvertBatch(batch: Buffer, toMagic: 0 | 1, o: DownConvertOptions): Buffer | null {
  const h = readRecordBatchHeader(batch);
  if (h.isControl || h.recordCount === 0) return null;
  const codec = h.compression as CompressionType;
  if (codec === CompressionType.Zstd) throw new DecodeError('zstd batches cannot be down-converted');
  const end = LOG_OVERHEAD + h.batchLength;
  if (end > batch.length) throw new DecodeError(`truncated record batch: ${batch.length} of ${end} bytes`);
  const l =
    codec === CompressionType.None
      ? layoutRecords(batch, RECORD_BATCH_OVERHEAD, end, h.recordCount)
      : (() => {
          const raw = decompress(codec, batch.subarray(RECORD_BATCH_OVERHEAD, end), o.maxUncompressedBytes);
          return layoutRecords(raw, 0, raw.length, h.recordCount);
        })();

  const baseOffset = Number(h.baseOffset);
  const firstOffset = Number(o.firstOffset);
  const baseTimestamp = Number(h.baseTimestamp);
  const logAppendTime = h.timestampType === TimestampType.LogAppendTime;
  const maxTimestamp = Number(h.maxTimestamp);
  const attributes = toMagic === MAGIC_V1 && logAppendTime ? LEGACY_TIMESTAMP_TYPE_MASK : 0;
  let first = 0;
  while (first < l.count && baseOffset + l.offsetDeltas[first] < firstOffset) first++;
  if (first === l.count) return null;

  let size = 0;
  let wrapperTimestamp = NO_TIMESTAMP;
  for (let i = first; i < l.count; i++) {
    size += LOG_OVERHEAD + messageBodySize(toMagic, l.keyLengths[i], l.valueLengths[i]);
    const ts = logAppendTime ? maxTimestamp : baseTimestamp + l.timestampDeltas[i];
    if (ts > wrapperTimestamp) wrapperTimestamp = ts;
  }
  const messages = Buffer.allocUnsafe(size);
  // Magic 1 inner messages of a wrapper carry offsets relative to the first; magic 0 absolute.
  const relative = codec !== CompressionType.None && toMagic === MAGIC_V1;
  const firstAbsolute = baseOffset + l.offsetDeltas[first];
  let pos = 0;
  for (let i = first; i < l.count; i++) {
    const offset = baseOffset + l.offsetDeltas[i];
    const ts =
      toMagic === MAGIC_V0
        ? NO_TIMESTAMP
        : logAppendTime
          ? maxTimestamp
          : baseTimestamp + l.timestampDeltas[i];
    pos = writeMessage(
      messages,
      pos,
      toMagic,
      relative ? offset - firstAbsolute : offset,
      attributes,
      ts,
      l.src,
      l.keyStarts[i],
      l.keyLengths[i],
      l.valueStarts[i],
      l.valueLengths[i],
    );
  }
  if (codec === CompressionType.None) return messages;

  // One wrapper: the inner set compressed, its offset the last record's, its timestamp the largest.
  let packed = compress(codec, messages);
  if (codec === CompressionType.Lz4 && toMagic === MAGIC_V0) packed = breakLz4HeaderChecksum(packed);
  const out = Buffer.allocUnsafe(LOG_OVERHEAD + messageBodySize(toMagic, -1, packed.length));
  const last = baseOffset + l.offsetDeltas[l.count - 1];
  writeMessage(out, 0, toMagic, last, codec | attributes, wrapperTimestamp, packed, 0, -1, 0, packed.length);
  return out;
}
