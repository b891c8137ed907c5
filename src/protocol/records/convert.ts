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

import { compress } from '../compression/index.js';
import { xxhash32 } from '../compression/native.js';
import { CompressionType } from '../compression/types.js';
import { DecodeError } from '../primitives/reader.js';
import {
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V0,
  MAGIC_V1,
  MAGIC_V2,
  NO_TIMESTAMP,
  TimestampType,
} from './constants.js';
import { crc32 } from './crc.js';
import { decodeRecordBatch } from './decode.js';
import { encodeRecordBatch } from './encode.js';
import { splitRecordSet } from './framing.js';
import { decodeLegacyEntry } from './legacy.js';
import type { KafkaRecord, RecordInput } from './types.js';

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

/** Size of one legacy message after LOG_OVERHEAD. */
function messageBodySize(magic: 0 | 1, key: Buffer | null, value: Buffer | null): number {
  return 4 + 1 + 1 + (magic === MAGIC_V1 ? 8 : 0) + 4 + (key?.length ?? 0) + 4 + (value?.length ?? 0);
}

/** Writes one legacy message at `pos` of `out`; returns the position after it. */
function writeMessage(
  out: Buffer,
  pos: number,
  magic: 0 | 1,
  offset: bigint,
  attributes: number,
  timestamp: number,
  key: Buffer | null,
  value: Buffer | null,
): number {
  const body = messageBodySize(magic, key, value);
  out.writeBigInt64BE(offset, pos);
  out.writeInt32BE(body, pos + 8);
  let p = pos + MAGIC_OFFSET;
  out.writeInt8(magic, p++);
  out.writeInt8(attributes, p++);
  if (magic === MAGIC_V1) {
    out.writeBigInt64BE(BigInt(timestamp), p);
    p += 8;
  }
  for (const b of [key, value]) {
    if (b === null) {
      out.writeInt32BE(-1, p);
      p += 4;
    } else {
      out.writeInt32BE(b.length, p);
      p += 4;
      b.copy(out, p);
      p += b.length;
    }
  }
  out.writeUInt32BE(crc32(out.subarray(pos + MAGIC_OFFSET, p)), pos + LOG_OVERHEAD);
  return p;
}

/** Encodes messages (absolute offsets given) as a legacy message set, uncompressed. */
function encodeMessages(
  magic: 0 | 1,
  messages: readonly { offset: bigint; attributes: number; timestamp: number; record: KafkaRecord }[],
): Buffer {
  let size = 0;
  for (const m of messages) size += LOG_OVERHEAD + messageBodySize(magic, m.record.key, m.record.value);
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const m of messages) {
    pos = writeMessage(out, pos, magic, m.offset, m.attributes, m.timestamp, m.record.key, m.record.value);
  }
  return out;
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
 */
export function downConvertBatch(batch: Buffer, toMagic: 0 | 1, o: DownConvertOptions): Buffer | null {
  const decoded = decodeRecordBatch(batch, {
    maxUncompressedBytes: o.maxUncompressedBytes,
    verifyCrc: false,
  });
  const h = decoded.header;
  if (h.isControl) return null;
  const codec = h.compression as CompressionType;
  if (codec === CompressionType.Zstd) throw new DecodeError('zstd batches cannot be down-converted');
  const logAppendTime = h.timestampType === TimestampType.LogAppendTime;
  const timestampBit = toMagic === MAGIC_V1 && logAppendTime ? LEGACY_TIMESTAMP_TYPE_MASK : 0;
  const messages: { offset: bigint; attributes: number; timestamp: number; record: KafkaRecord }[] = [];
  for (const r of decoded.records) {
    const offset = decoded.baseOffset + BigInt(r.offsetDelta);
    if (offset < o.firstOffset) continue;
    messages.push({
      offset,
      attributes: timestampBit,
      timestamp: toMagic === MAGIC_V0 ? NO_TIMESTAMP : r.timestamp,
      record: r,
    });
  }
  if (messages.length === 0) return null;
  if (codec === CompressionType.None) return encodeMessages(toMagic, messages);

  // One wrapper: the inner set compressed; magic 1 inner offsets relative to the first record.
  const first = messages[0].offset;
  const last = messages[messages.length - 1].offset;
  const inner = encodeMessages(
    toMagic,
    toMagic === MAGIC_V1 ? messages.map((m) => ({ ...m, offset: m.offset - first })) : messages,
  );
  let packed = compress(codec, inner);
  if (codec === CompressionType.Lz4 && toMagic === MAGIC_V0) packed = breakLz4HeaderChecksum(packed);
  let wrapperTimestamp = NO_TIMESTAMP;
  if (toMagic === MAGIC_V1) {
    if (logAppendTime) wrapperTimestamp = Number(h.maxTimestamp);
    else for (const m of messages) wrapperTimestamp = Math.max(wrapperTimestamp, m.timestamp);
  }
  const out = Buffer.allocUnsafe(LOG_OVERHEAD + messageBodySize(toMagic, null, packed));
  writeMessage(out, 0, toMagic, last, codec | timestampBit, wrapperTimestamp, null, packed);
  return out;
}
