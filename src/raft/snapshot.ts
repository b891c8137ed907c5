// KIP-630 snapshots in Kafka's format (sans-IO): what a `<endOffset>-<epoch>.checkpoint` file holds
// and what FetchSnapshot ships, byte for byte. A snapshot is a sequence of v2 record batches, all
// stamped with the snapshot's epoch: first a control batch holding one SnapshotHeader record
// (lastContainedLogTimestamp), then the application's data batches, last a control batch holding
// one SnapshotFooter record (Kafka's RecordsSnapshotWriter; RecordsSnapshotReader checks the
// same). A file without its footer is incomplete and not a snapshot.
//
// `buildSnapshot` numbers the batches as Kafka's writer does (the header at offset 0, the data
// from 1). `frameSnapshot` wraps data batches that are already encoded and keeps them as they are:
// the simulation puts the log's own batches in, offsets and epochs unchanged, so that the
// invariants can check a snapshot's content against the committed log.

import { SnapshotFooterRecord, SnapshotHeaderRecord } from '../protocol/generated/index.js';
import { RECORD_BATCH_OVERHEAD } from '../protocol/records/constants.js';
import {
  ControlRecordType,
  decodeControlRecordKey,
  encodeControlRecordKey,
} from '../protocol/records/control.js';
import { decodeRecordBatch } from '../protocol/records/decode.js';
import { encodeRecordBatch } from '../protocol/records/encode.js';
import { isRecordBatchCrcValid, readRecordBatchHeader, recordBatchSize } from '../protocol/records/header.js';
import type { RaftBatch } from './log.js';

const SNAPSHOT_HEADER_VERSION = 0;
const SNAPSHOT_FOOTER_VERSION = 0;

/** The suffix of a complete snapshot file, of one being written, and of one being deleted. */
export const SNAPSHOT_SUFFIX = '.checkpoint';
export const PARTIAL_SNAPSHOT_SUFFIX = '.checkpoint.part';
export const DELETED_SNAPSHOT_SUFFIX = '.checkpoint.deleted';

export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError';
}

/** `<endOffset, 20 digits>-<epoch, 10 digits>.checkpoint` (Kafka's Snapshots.filenameFromSnapshotId). */
export function snapshotFileName(endOffset: number, epoch: number, suffix = SNAPSHOT_SUFFIX): string {
  return `${String(endOffset).padStart(20, '0')}-${String(epoch).padStart(10, '0')}${suffix}`;
}

export type SnapshotFileKind = 'complete' | 'partial' | 'deleted';

/** The snapshot id and kind of a file name, or null when it is no snapshot file. */
export function parseSnapshotFileName(
  name: string,
): { endOffset: number; epoch: number; kind: SnapshotFileKind } | null {
  const m = /^(\d{20})-(\d{10})(\.checkpoint(?:\.part|\.deleted)?)$/.exec(name);
  if (m === null) return null;
  const endOffset = Number(m[1]);
  const epoch = Number(m[2]);
  if (!Number.isSafeInteger(endOffset) || epoch > 0x7fffffff) return null;
  const kind: SnapshotFileKind =
    m[3] === SNAPSHOT_SUFFIX ? 'complete' : m[3] === PARTIAL_SNAPSHOT_SUFFIX ? 'partial' : 'deleted';
  return { endOffset, epoch, kind };
}

function controlBatch(baseOffset: number, epoch: number, type: number, value: Buffer, nowMs: number): Buffer {
  return encodeRecordBatch([{ key: encodeControlRecordKey(type), value }], {
    baseOffset: BigInt(baseOffset),
    partitionLeaderEpoch: epoch,
    defaultTimestamp: nowMs,
    isControl: true,
  });
}

function headerBatch(epoch: number, lastContainedLogTimestamp: number, nowMs: number): Buffer {
  const value = SnapshotHeaderRecord.encode(
    { version: SNAPSHOT_HEADER_VERSION, lastContainedLogTimestamp: BigInt(lastContainedLogTimestamp) },
    0,
  );
  return controlBatch(0, epoch, ControlRecordType.SnapshotHeader, value, nowMs);
}

function footerBatch(baseOffset: number, epoch: number, nowMs: number): Buffer {
  const value = SnapshotFooterRecord.encode({ version: SNAPSHOT_FOOTER_VERSION }, 0);
  return controlBatch(baseOffset, epoch, ControlRecordType.SnapshotFooter, value, nowMs);
}

export interface SnapshotFraming {
  /** The snapshot's epoch: the epoch of the entry at endOffset - 1. Every batch carries it. */
  epoch: number;
  /** The append time of the last record of the log the snapshot contains (SnapshotHeader). */
  lastContainedLogTimestamp: number;
  /** The time written into the header and footer batches. */
  nowMs: number;
}

/**
 * A snapshot of `batches` (each a list of record values), numbered as Kafka's writer numbers them:
 * SnapshotHeader at offset 0, the data batches from 1, the SnapshotFooter after them.
 */
export function buildSnapshot(framing: SnapshotFraming, batches: readonly (readonly Uint8Array[])[]): Buffer {
  const parts = [headerBatch(framing.epoch, framing.lastContainedLogTimestamp, framing.nowMs)];
  let next = 1;
  for (const values of batches) {
    if (values.length === 0) continue;
    parts.push(
      encodeRecordBatch(
        values.map((value) => ({ value })),
        { baseOffset: BigInt(next), partitionLeaderEpoch: framing.epoch, defaultTimestamp: framing.nowMs },
      ),
    );
    next += values.length;
  }
  parts.push(footerBatch(next, framing.epoch, framing.nowMs));
  return Buffer.concat(parts);
}

/** Wraps already encoded data batches (kept byte for byte) in a SnapshotHeader and a SnapshotFooter. */
export function frameSnapshot(framing: SnapshotFraming, data: Buffer): Buffer {
  let next = 1;
  for (const b of walk(data)) next = b.lastOffset + 1;
  return Buffer.concat([
    headerBatch(framing.epoch, framing.lastContainedLogTimestamp, framing.nowMs),
    data,
    footerBatch(next, framing.epoch, framing.nowMs),
  ]);
}

export interface ParsedSnapshot {
  header: SnapshotHeaderRecord;
  /** The data batches between header and footer, as views of the snapshot's bytes. */
  data: RaftBatch[];
  /** The bytes of the data batches, back to back (a view). */
  dataBytes: Buffer;
}

function walk(bytes: Buffer): RaftBatch[] {
  const out: RaftBatch[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < RECORD_BATCH_OVERHEAD) {
      throw new SnapshotFormatError(`a batch header cut short at byte ${pos}`);
    }
    let header: ReturnType<typeof readRecordBatchHeader>;
    try {
      header = readRecordBatchHeader(bytes, pos);
    } catch (e) {
      throw new SnapshotFormatError(`batch at byte ${pos}: ${(e as Error).message}`);
    }
    const size = recordBatchSize(bytes, pos);
    if (pos + size > bytes.length) throw new SnapshotFormatError(`a batch cut short at byte ${pos}`);
    const view = bytes.subarray(pos, pos + size);
    if (!isRecordBatchCrcValid(view)) throw new SnapshotFormatError(`batch at byte ${pos}: bad CRC`);
    const baseOffset = Number(header.baseOffset);
    out.push({
      baseOffset,
      lastOffset: baseOffset + header.lastOffsetDelta,
      epoch: header.partitionLeaderEpoch,
      bytes: view,
    });
    pos += size;
  }
  return out;
}

/** The single control record of a control batch, checked to be of `type`; its value. */
function controlValue(batch: RaftBatch, type: number, what: string): Buffer {
  let records: ReturnType<typeof decodeRecordBatch>['records'];
  let isControl: boolean;
  try {
    const decoded = decodeRecordBatch(batch.bytes, { maxUncompressedBytes: 1024 * 1024 });
    records = decoded.records;
    isControl = decoded.header.isControl;
  } catch (e) {
    throw new SnapshotFormatError(`${what}: ${(e as Error).message}`);
  }
  if (!isControl || records.length !== 1)
    throw new SnapshotFormatError(`${what}: not a control batch of one record`);
  let key: { type: number };
  try {
    key = decodeControlRecordKey(records[0].key);
  } catch (e) {
    throw new SnapshotFormatError(`${what}: ${(e as Error).message}`);
  }
  if (key.type !== type) throw new SnapshotFormatError(`${what}: control record of type ${key.type}`);
  return records[0].value ?? Buffer.alloc(0);
}

/**
 * Checks a whole snapshot (every CRC, the header first, the footer last, both of the snapshot's
 * epoch when `expectedEpoch` is given) and returns its parts. Throws SnapshotFormatError otherwise.
 */
export function readSnapshot(bytes: Buffer, expectedEpoch?: number): ParsedSnapshot {
  const batches = walk(bytes);
  if (batches.length < 2) throw new SnapshotFormatError('no SnapshotHeader and SnapshotFooter batches');
  const first = batches[0];
  const last = batches[batches.length - 1];
  let header: SnapshotHeaderRecord;
  try {
    header = SnapshotHeaderRecord.decode(
      controlValue(first, ControlRecordType.SnapshotHeader, 'first batch'),
      0,
    );
    SnapshotFooterRecord.decode(controlValue(last, ControlRecordType.SnapshotFooter, 'last batch'), 0);
  } catch (e) {
    if (e instanceof SnapshotFormatError) throw e;
    throw new SnapshotFormatError(`header or footer record: ${(e as Error).message}`);
  }
  if (expectedEpoch !== undefined && (first.epoch !== expectedEpoch || last.epoch !== expectedEpoch)) {
    throw new SnapshotFormatError(
      `header or footer of epoch ${first.epoch}/${last.epoch}, not ${expectedEpoch}`,
    );
  }
  const data = batches.slice(1, -1);
  const dataBytes = bytes.subarray(first.bytes.length, bytes.length - last.bytes.length);
  return { header, data, dataBytes };
}

/** Whether `bytes` is a complete, intact snapshot. */
export function isValidSnapshot(bytes: Buffer, expectedEpoch?: number): boolean {
  try {
    readSnapshot(bytes, expectedEpoch);
    return true;
  } catch {
    return false;
  }
}
