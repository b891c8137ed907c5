// Kafka's MemoryRecordsBuilder for the producer: records are written into the batch's bytes as
// they are appended, so a batch waiting for its acknowledgement holds one buffer instead of a
// record object, key and value views and header list per record (objects that outlive
// young-generation collections and are promoted, the producer's largest cost on a fast pipe).
// build() fills in the v2 header in front of the records already written; without compression
// the batch is the builder's own buffer (no copy).
//
// The bytes are exactly encodeRecordBatch's for the same records (offset deltas 0..n-1, the first
// record's timestamp as the base): the tests compare the two.

import { compress } from '../compression/index.js';
import { CompressionType, isCompressionType } from '../compression/types.js';
import { EncodeError } from '../primitives/writer.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  TRANSACTIONAL_FLAG_MASK,
} from './constants.js';
import { crc32c } from './crc.js';

/** Timestamp deltas are varlongs; beyond 2^52 a double no longer holds them exactly. */
const MAX_DELTA = 2 ** 52;

export interface BuildBatchOptions {
  compression?: CompressionType;
  compressionLevel?: number;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
}

function unsignedVarintSize(u: number): number {
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x200000) return 3;
  if (u < 0x10000000) return 4;
  return 5;
}

/** Size of a zigzag varint (int32). */
function varintSize(v: number): number {
  return unsignedVarintSize(v >= 0 ? v * 2 : -v * 2 - 1);
}

/** Size of a zigzag varlong held in a number (|v| <= 2^52). */
function varlongSize(v: number): number {
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  if (u < 0x10000000) return unsignedVarintSize(u);
  let n = 4;
  u = Math.floor(u / 0x10000000);
  while (u > 0) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}

/** Writes a zigzag varint/varlong (|v| <= 2^52) at `pos`; returns the position after it. */
function putVarlong(buf: Buffer, pos: number, v: number): number {
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  while (u >= 0x80) {
    buf[pos++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  buf[pos++] = u;
  return pos;
}

export class RecordBatchBuilder {
  private buf: Buffer;
  /** Where the next record goes; the header's 61 bytes are reserved in front. */
  private pos = RECORD_BATCH_OVERHEAD;
  private n = 0;
  private baseTimestamp = NO_TIMESTAMP;
  private maxTimestamp = NO_TIMESTAMP;

  /** @param initialCapacity bytes to start with (records included); the buffer doubles as needed */
  constructor(initialCapacity = 16_384) {
    this.buf = Buffer.allocUnsafe(Math.max(RECORD_BATCH_OVERHEAD + 64, initialCapacity));
  }

  get recordCount(): number {
    return this.n;
  }

  /** Bytes the buffer holds now (it grows as records need). */
  get capacity(): number {
    return this.buf.length;
  }

  /** Bytes of the uncompressed batch so far, header included. */
  get sizeInBytes(): number {
    return this.pos;
  }

  /**
   * Appends one record (offset delta = its index, timestamp delta from the first record's
   * timestamp). Checks everything before writing: on EncodeError the builder is unchanged.
   */
  append(
    timestamp: number,
    key: Uint8Array | null | undefined,
    value: Uint8Array | null | undefined,
    headers?: ReadonlyArray<{ key: string; value: Uint8Array | null }>,
  ): void {
    const base = this.n === 0 ? timestamp : this.baseTimestamp;
    const timestampDelta = timestamp - base;
    if (!Number.isSafeInteger(timestampDelta) || Math.abs(timestampDelta) > MAX_DELTA)
      throw new EncodeError(`timestamp ${timestamp} is not an integer near ${base}`);
    const offsetDelta = this.n;
    const keyLength = key == null ? -1 : key.length;
    const valueLength = value == null ? -1 : value.length;
    const headerCount = headers === undefined ? 0 : headers.length;
    let body =
      1 +
      varlongSize(timestampDelta) +
      varintSize(offsetDelta) +
      varintSize(keyLength) +
      Math.max(keyLength, 0) +
      varintSize(valueLength) +
      Math.max(valueLength, 0) +
      varintSize(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const header = (headers as NonNullable<typeof headers>)[h];
      const k = Buffer.byteLength(header.key, 'utf8');
      const v = header.value === null ? -1 : header.value.length;
      body += varintSize(k) + k + varintSize(v) + Math.max(v, 0);
    }
    const total = varintSize(body) + body;
    if (this.pos + total > this.buf.length) this.grow(this.pos + total);

    const buf = this.buf;
    let p = putVarlong(buf, this.pos, body);
    buf[p++] = 0; // record attributes: none defined in v2
    p = putVarlong(buf, p, timestampDelta);
    p = putVarlong(buf, p, offsetDelta);
    p = putVarlong(buf, p, keyLength);
    if (keyLength > 0) {
      buf.set(key as Uint8Array, p);
      p += keyLength;
    }
    p = putVarlong(buf, p, valueLength);
    if (valueLength > 0) {
      buf.set(value as Uint8Array, p);
      p += valueLength;
    }
    p = putVarlong(buf, p, headerCount);
    for (let h = 0; h < headerCount; h++) {
      const header = (headers as NonNullable<typeof headers>)[h];
      const k = Buffer.byteLength(header.key, 'utf8');
      p = putVarlong(buf, p, k);
      p += buf.write(header.key, p, k, 'utf8');
      const v = header.value;
      p = putVarlong(buf, p, v === null ? -1 : v.length);
      if (v !== null && v.length > 0) {
        buf.set(v, p);
        p += v.length;
      }
    }
    this.pos = p;
    if (this.n === 0) this.baseTimestamp = timestamp;
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    this.n++;
  }

  private grow(needed: number): void {
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /**
   * The complete v2 batch (CRC included). Without compression it is a view of the builder's
   * buffer: append nothing after building.
   */
  build(options: BuildBatchOptions = {}): Buffer {
    const compression = options.compression ?? CompressionType.None;
    if (!isCompressionType(compression)) throw new EncodeError(`unknown compression type ${compression}`);
    let batch: Buffer;
    if (compression === CompressionType.None || this.n === 0) {
      batch = this.buf.subarray(0, this.pos);
    } else {
      const compressed = compress(
        compression,
        this.buf.subarray(RECORD_BATCH_OVERHEAD, this.pos),
        options.compressionLevel,
      );
      batch = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + compressed.length);
      compressed.copy(batch, RECORD_BATCH_OVERHEAD);
    }
    if (batch.length - LOG_OVERHEAD > 0x7fffffff)
      throw new EncodeError(`record batch of ${batch.length} bytes`);
    let attributes = compression & COMPRESSION_CODEC_MASK;
    if (options.isTransactional) attributes |= TRANSACTIONAL_FLAG_MASK;
    batch.writeBigInt64BE(0n, BASE_OFFSET_OFFSET);
    batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
    batch.writeInt32BE(NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET);
    batch.writeInt8(MAGIC_V2, MAGIC_OFFSET);
    batch.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
    batch.writeInt32BE(this.n > 0 ? this.n - 1 : 0, LAST_OFFSET_DELTA_OFFSET);
    batch.writeBigInt64BE(BigInt(this.baseTimestamp), BASE_TIMESTAMP_OFFSET);
    batch.writeBigInt64BE(BigInt(this.maxTimestamp), MAX_TIMESTAMP_OFFSET);
    batch.writeBigInt64BE(options.producerId ?? NO_PRODUCER_ID, PRODUCER_ID_OFFSET);
    batch.writeInt16BE(options.producerEpoch ?? NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
    batch.writeInt32BE(options.baseSequence ?? NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
    batch.writeInt32BE(this.n, RECORDS_COUNT_OFFSET);
    batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
    return batch;
  }
}
