// The v2 record body: sizing and writing records (producer path) and the decode loop
// (consumer/broker path). Both are hot; they avoid per-record allocation beyond the record object
// itself, and key/value/header values are views, never copies.
//
// Record => length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
//           key varint-bytes (-1 = null), value varint-bytes, headers varint count,
//           each header: key varint-string, value varint-bytes (-1 = null).

import { DecodeError, Reader } from '../primitives/reader.js';
import { EncodeError, unsignedVarintSize, type Writer } from '../primitives/writer.js';
import { MIN_RECORD_BYTES } from './constants.js';
import type { KafkaRecord, RecordHeader, RecordInput } from './types.js';

/** Size of a zigzag varint (int32). */
export function varintSize(v: number): number {
  return unsignedVarintSize(v >= 0 ? v * 2 : -v * 2 - 1);
}

/** Size of a zigzag varlong given as a number (|v| <= 2^52). */
export function varlongSize(v: number): number {
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}

function bytesFieldSize(b: Uint8Array | null | undefined): number {
  return b == null ? 1 : varintSize(b.length) + b.length;
}

function writeBytesField(w: Writer, b: Uint8Array | null | undefined): void {
  if (b == null) {
    w.varint(-1);
  } else {
    w.varint(b.length);
    w.raw(b);
  }
}

const MAX_DELTA = 2 ** 52;

/**
 * Records laid out for writing: per-record body sizes and deltas, header keys as UTF-8, and the
 * exact total, so the writer can be sized once and nothing is measured twice.
 */
export interface PreparedRecords {
  records: readonly RecordInput[];
  bodySizes: Int32Array;
  timestampDeltas: Float64Array;
  offsetDeltas: Int32Array;
  headerKeys: Buffer[];
  /** Bytes of all records, length prefixes included. */
  size: number;
}

export function prepareRecords(
  records: readonly RecordInput[],
  timestamps: Float64Array,
  baseTimestamp: number,
): PreparedRecords {
  const n = records.length;
  const bodySizes = new Int32Array(n);
  const timestampDeltas = new Float64Array(n);
  const offsetDeltas = new Int32Array(n);
  const headerKeys: Buffer[] = [];
  let size = 0;
  let previousOffsetDelta = -1;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    const offsetDelta = r.offsetDelta ?? i;
    if (!Number.isInteger(offsetDelta) || offsetDelta <= previousOffsetDelta || offsetDelta > 0x7fffffff) {
      throw new EncodeError(
        `record ${i}: offsetDelta ${offsetDelta} must be an int32 above ${previousOffsetDelta}`,
      );
    }
    previousOffsetDelta = offsetDelta;
    const timestampDelta = timestamps[i] - baseTimestamp;
    if (!Number.isSafeInteger(timestampDelta) || Math.abs(timestampDelta) > MAX_DELTA) {
      throw new EncodeError(
        `record ${i}: timestamp ${timestamps[i]} is not an integer near ${baseTimestamp}`,
      );
    }
    let body =
      1 +
      varlongSize(timestampDelta) +
      varintSize(offsetDelta) +
      bytesFieldSize(r.key) +
      bytesFieldSize(r.value);
    const headers = r.headers;
    const headerCount = headers === undefined ? 0 : headers.length;
    body += varintSize(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const header = (headers as NonNullable<RecordInput['headers']>)[h];
      const key = Buffer.from(header.key, 'utf8');
      headerKeys.push(key);
      body += varintSize(key.length) + key.length + bytesFieldSize(header.value);
    }
    bodySizes[i] = body;
    timestampDeltas[i] = timestampDelta;
    offsetDeltas[i] = offsetDelta;
    size += varintSize(body) + body;
  }
  return { records, bodySizes, timestampDeltas, offsetDeltas, headerKeys, size };
}

export function writeRecords(w: Writer, p: PreparedRecords): void {
  let k = 0;
  for (let i = 0; i < p.records.length; i++) {
    const r = p.records[i];
    w.varint(p.bodySizes[i]);
    w.int8(0); // record attributes: none defined
    w.varlongNumber(p.timestampDeltas[i]);
    w.varint(p.offsetDeltas[i]);
    writeBytesField(w, r.key);
    writeBytesField(w, r.value);
    const headers = r.headers;
    const headerCount = headers === undefined ? 0 : headers.length;
    w.varint(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const key = p.headerKeys[k++];
      w.varint(key.length);
      w.raw(key);
      writeBytesField(w, (headers as NonNullable<RecordInput['headers']>)[h].value);
    }
  }
}

function readBytesField(r: Reader): Buffer | null {
  const n = r.varint();
  if (n === -1) return null;
  if (n < 0) throw new DecodeError(`invalid record field length ${n} at offset ${r.pos}`);
  return r.raw(n);
}

/**
 * Walks `count` records in buf[start, end) checking their structure (every length within its
 * record, records filling the range exactly) without allocating: the produce path's validation,
 * where building record objects would cost more than the check. Calls `visit` with each record's
 * index, timestamp delta, offset delta and key length (-1 for a null key). Raises DecodeError.
 */
export function scanRecords(
  buf: Buffer,
  start: number,
  end: number,
  count: number,
  visit: (index: number, timestampDelta: number, offsetDelta: number, keyLength: number) => void,
): void {
  if (count > (end - start) / MIN_RECORD_BYTES) {
    throw new DecodeError(`${count} records cannot fit in ${end - start} bytes`);
  }
  const r = new Reader(buf, start, end);
  for (let i = 0; i < count; i++) {
    const length = r.varint();
    if (length < MIN_RECORD_BYTES - 1 || length > r.remaining) {
      throw new DecodeError(`record ${i}: invalid length ${length} with ${r.remaining} bytes left`);
    }
    const recordEnd = r.pos + length;
    r.int8(); // attributes, unused in v2
    const timestampDelta = r.varlongNumber();
    const offsetDelta = r.varint();
    const keyLength = skipBytesField(r);
    skipBytesField(r);
    const headerCount = r.varint();
    if (headerCount < 0 || headerCount * 2 > recordEnd - r.pos) {
      throw new DecodeError(`record ${i}: invalid header count ${headerCount}`);
    }
    for (let h = 0; h < headerCount; h++) {
      const keyBytes = r.varint();
      if (keyBytes < 0) throw new DecodeError(`record ${i}: invalid header key length ${keyBytes}`);
      r.skip(keyBytes);
      skipBytesField(r);
    }
    if (r.pos !== recordEnd) throw new DecodeError(`record ${i}: fields do not match its length ${length}`);
    visit(i, timestampDelta, offsetDelta, keyLength);
  }
  if (r.pos !== end) throw new DecodeError(`${end - r.pos} bytes after the last of ${count} records`);
}

/** Skips a varint-length byte field; returns its length (-1 for null). */
function skipBytesField(r: Reader): number {
  const n = r.varint();
  if (n < -1) throw new DecodeError(`invalid record field length ${n} at offset ${r.pos}`);
  if (n > 0) r.skip(n);
  return n;
}

/**
 * Decodes `count` records from buf[start, end), which must hold exactly those records.
 * `fixedTimestamp` is the batch's maxTimestamp for LogAppendTime batches, else null (timestamps
 * are baseTimestamp + delta).
 */
export function readRecords(
  buf: Buffer,
  start: number,
  end: number,
  count: number,
  baseTimestamp: number,
  fixedTimestamp: number | null,
): KafkaRecord[] {
  // Every record takes at least MIN_RECORD_BYTES, so a forged count is caught before the loop.
  if (count > (end - start) / MIN_RECORD_BYTES) {
    throw new DecodeError(`${count} records cannot fit in ${end - start} bytes`);
  }
  const r = new Reader(buf, start, end);
  const records: KafkaRecord[] = [];
  for (let i = 0; i < count; i++) {
    const length = r.varint();
    if (length < MIN_RECORD_BYTES - 1 || length > r.remaining) {
      throw new DecodeError(`record ${i}: invalid length ${length} with ${r.remaining} bytes left`);
    }
    const recordEnd = r.pos + length;
    const attributes = r.int8();
    const timestampDelta = r.varlongNumber();
    const offsetDelta = r.varint();
    const key = readBytesField(r);
    const value = readBytesField(r);
    const headerCount = r.varint();
    // A header takes at least two bytes (empty key, null value).
    if (headerCount < 0 || headerCount * 2 > recordEnd - r.pos) {
      throw new DecodeError(`record ${i}: invalid header count ${headerCount}`);
    }
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const keyLength = r.varint();
      if (keyLength < 0) throw new DecodeError(`record ${i}: invalid header key length ${keyLength}`);
      r.need(keyLength);
      const headerKey = buf.toString('utf8', r.pos, r.pos + keyLength);
      r.pos += keyLength;
      headers.push({ key: headerKey, value: readBytesField(r) });
    }
    if (r.pos !== recordEnd) {
      throw new DecodeError(
        `record ${i}: declared ${length} bytes but its fields take ${r.pos - recordEnd + length}`,
      );
    }
    records.push({
      attributes,
      offsetDelta,
      timestamp: fixedTimestamp ?? baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    });
  }
  if (r.pos !== end) throw new DecodeError(`${end - r.pos} bytes after the last of ${count} records`);
  return records;
}
