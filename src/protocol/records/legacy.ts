// Magic 0 and 1 message sets (read-only, for inspecting old logs and old-format fetches).
//
// Message => offset int64, size int32, crc uint32 (CRC-32 of magic..end), magic int8,
//            attributes int8 [compression bits 0-2, timestamp type bit 3 (v1)],
//            timestamp int64 (v1 only), key bytes (int32 length, -1 null), value bytes.
// A compressed message (wrapper) holds a whole inner message set in its value. In v1 the inner
// offsets are relative (0..n-1) and the wrapper's offset is the absolute offset of the last inner
// message; in v0 the inner offsets are absolute. Semantics follow AbstractLegacyRecordBatch.

import { decompress, repairLegacyLz4HeaderChecksum } from '../compression/index.js';
import { CompressionType } from '../compression/types.js';
import { DecodeError, Reader } from '../primitives/reader.js';
import { LOG_OVERHEAD, MAGIC_OFFSET, MAGIC_V0, MAGIC_V1, NO_TIMESTAMP, TimestampType } from './constants.js';
import { crc32 } from './crc.js';
import { splitRecordSet } from './framing.js';
import { CrcMismatchError } from './header.js';
import type { DecodedLegacyBatch, DecodeOptions, KafkaRecord } from './types.js';

export interface LegacyMessage {
  offset: bigint;
  crc: number;
  magic: 0 | 1;
  attributes: number;
  /** -1 for magic 0. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
}

/** Reads the complete legacy message that `entry` holds (as framed by splitRecordSet). */
export function readLegacyMessage(entry: Buffer, verifyCrc = true): LegacyMessage {
  const end = LOG_OVERHEAD + entry.readInt32BE(8);
  if (end > entry.length) throw new DecodeError(`truncated legacy message: ${entry.length} of ${end} bytes`);
  const r = new Reader(entry, LOG_OVERHEAD, end);
  const crc = r.uint32();
  // The CRC first, so that damage is reported as such rather than as whatever field it hit.
  if (verifyCrc) {
    const computed = crc32(entry.subarray(MAGIC_OFFSET, end));
    if (computed !== crc) throw new CrcMismatchError('legacy message', crc, computed);
  }
  const magic = r.int8();
  if (magic !== MAGIC_V0 && magic !== MAGIC_V1) throw new DecodeError(`legacy message magic ${magic}`);
  const attributes = r.int8();
  const timestamp = magic === MAGIC_V1 ? Number(r.int64()) : NO_TIMESTAMP;
  const key = r.nullableBytes();
  const value = r.nullableBytes();
  r.expectEnd('legacy message');
  return { offset: entry.readBigInt64BE(0), crc, magic, attributes, timestamp, key, value };
}

function timestampTypeOf(m: LegacyMessage): TimestampType {
  if (m.magic === MAGIC_V0) return TimestampType.NoTimestampType;
  return (m.attributes & 0x08) !== 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime;
}

/** Decodes one shallow legacy entry: a plain message, or a compressed wrapper and its inner set. */
export function decodeLegacyEntry(entry: Buffer, options: DecodeOptions): DecodedLegacyBatch {
  const verifyCrc = options.verifyCrc !== false;
  const wrapper = readLegacyMessage(entry, verifyCrc);
  const compression = (wrapper.attributes & 0x07) as CompressionType;
  const timestampType = timestampTypeOf(wrapper);
  if (compression === CompressionType.None) {
    const record: KafkaRecord = {
      attributes: wrapper.attributes,
      offsetDelta: 0,
      timestamp: wrapper.timestamp,
      key: wrapper.key,
      value: wrapper.value,
      headers: [],
    };
    return {
      magic: wrapper.magic,
      baseOffset: wrapper.offset,
      lastOffset: wrapper.offset,
      compression,
      timestampType,
      crc: wrapper.crc,
      records: [record],
    };
  }
  if (compression > CompressionType.Lz4) {
    throw new DecodeError(`compression type ${compression} is not valid for magic ${wrapper.magic}`);
  }
  if (wrapper.value === null) throw new DecodeError('compressed legacy message has a null value');
  const packed =
    compression === CompressionType.Lz4 && wrapper.magic === MAGIC_V0
      ? repairLegacyLz4HeaderChecksum(wrapper.value)
      : wrapper.value;
  const innerSet = decompress(compression, packed, options.maxUncompressedBytes);
  const { entries, partialBytes } = splitRecordSet(innerSet);
  if (partialBytes > 0) throw new DecodeError(`compressed message set ends with ${partialBytes} stray bytes`);
  if (entries.length === 0) throw new DecodeError('compressed message set holds no messages');

  const inner = entries.map((e) => {
    const m = readLegacyMessage(e.bytes, verifyCrc);
    if (m.magic !== wrapper.magic) {
      throw new DecodeError(`inner message magic ${m.magic} differs from its wrapper's ${wrapper.magic}`);
    }
    if ((m.attributes & 0x07) !== CompressionType.None) throw new DecodeError('nested compressed message');
    return m;
  });
  // v1: inner offsets are relative and the wrapper's is the last one's absolute offset.
  const shift = wrapper.magic === MAGIC_V1 ? wrapper.offset - inner[inner.length - 1].offset : 0n;
  const baseOffset = inner[0].offset + shift;
  const appendTime = timestampType === TimestampType.LogAppendTime;
  const records: KafkaRecord[] = inner.map((m) => ({
    attributes: m.attributes,
    offsetDelta: Number(m.offset + shift - baseOffset),
    timestamp: appendTime ? wrapper.timestamp : m.timestamp,
    key: m.key,
    value: m.value,
    headers: [],
  }));
  return {
    magic: wrapper.magic,
    baseOffset,
    lastOffset: inner[inner.length - 1].offset + shift,
    compression,
    timestampType,
    crc: wrapper.crc,
    records,
  };
}

/** Decodes a whole legacy message set (partial trailing message reported, as in a Fetch). */
export function decodeLegacyMessageSet(
  messageSet: Buffer,
  options: DecodeOptions,
): { batches: DecodedLegacyBatch[]; partialBytes: number } {
  const { entries, partialBytes } = splitRecordSet(messageSet);
  const batches = entries.map((e) => {
    if (e.magic > MAGIC_V1) throw new DecodeError(`magic ${e.magic} entry in a legacy message set`);
    return decodeLegacyEntry(e.bytes, options);
  });
  return { batches, partialBytes };
}
