// Helpers of the log cleaner tests: keyed batches, a read-back that keeps batch boundaries (and
// copes with the empty batches the cleaner may leave), and the compaction invariants.

import { cpSync, mkdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CompressionType } from '../../src/protocol/compression/types.js';
import {
  type DecodedRecordBatch,
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordInput,
  splitRecordSet,
} from '../../src/protocol/records/index.js';
import { LogCleaner, type LogConfig, type PartitionLog, TailCache } from '../../src/storage/index.js';
import { clockOf } from '../../src/util/clock.js';
import { openLog, T0, tempDir } from './helpers.js';

export { CompressionType };

/** A record: key and value as strings (null value: a tombstone). */
export type KV = [key: string | null, value: string | null];

export interface BatchOptions {
  compression?: CompressionType;
  timestamp?: number;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
}

export function kvBatch(records: KV[], opts: BatchOptions = {}): Buffer {
  const input: RecordInput[] = records.map(([k, v]) => ({
    key: k === null ? null : Buffer.from(k),
    value: v === null ? null : Buffer.from(v),
    timestamp: opts.timestamp ?? T0,
  }));
  return encodeRecordBatch(input, {
    compression: opts.compression,
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    baseSequence: opts.baseSequence,
    isTransactional: opts.isTransactional,
  });
}

export interface ReadRec {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

export interface ReadBatch {
  baseOffset: number;
  lastOffset: number;
  batch: DecodedRecordBatch;
  bytes: Buffer;
  records: ReadRec[];
}

/** The batches of a records buffer (as a read returns it). */
export function batchesOf(buf: Buffer): ReadBatch[] {
  return splitRecordSet(buf).entries.map((e) => {
    const batch = decodeRecordBatch(e.bytes, { maxUncompressedBytes: 1 << 26 });
    const baseOffset = Number(batch.baseOffset);
    return {
      baseOffset,
      lastOffset: Number(batch.lastOffset),
      batch,
      bytes: Buffer.from(e.bytes),
      records: batch.records.map((rec) => ({
        offset: baseOffset + rec.offsetDelta,
        key: rec.key?.toString() ?? null,
        value: rec.value?.toString() ?? null,
        timestamp: rec.timestamp,
      })),
    };
  });
}

/** Every batch from the log start up to the high watermark, as the log serves them. */
export async function readBatches(log: PartitionLog): Promise<ReadBatch[]> {
  const out: ReadBatch[] = [];
  let next = Number(log.logStartOffset);
  const end = Number(log.highWatermark);
  while (next < end) {
    const r = await log.read(BigInt(next), 256 * 1024);
    if (r.sizeInBytes === 0) throw new Error(`no progress at ${next}`);
    for (const part of r.records) {
      for (const b of batchesOf(part)) {
        if (b.lastOffset < next) continue;
        out.push(b);
        next = b.lastOffset + 1;
      }
    }
  }
  return out;
}

export async function readRecs(log: PartitionLog): Promise<ReadRec[]> {
  return (await readBatches(log)).flatMap((b) => b.records);
}

/** Offset -> record of everything written; the latest record of each key. */
export function model(records: ReadRec[]): { byOffset: Map<number, ReadRec>; latest: Map<string, ReadRec> } {
  const byOffset = new Map<number, ReadRec>();
  const latest = new Map<string, ReadRec>();
  for (const r of records) {
    byOffset.set(r.offset, r);
    if (r.key !== null) latest.set(r.key, r);
  }
  return { byOffset, latest };
}

/**
 * The compaction invariants against the log as written (`before`): offsets strictly increasing,
 * every record one that was written (same offset, key, value), and the latest record of each key
 * still there. Returns the records.
 */
export function checkCompacted(after: ReadRec[], before: ReadRec[]): void {
  const { byOffset, latest } = model(before);
  const seen = new Set<number>();
  let last = -1;
  for (const r of after) {
    if (r.offset <= last) throw new Error(`offset ${r.offset} after ${last}`);
    last = r.offset;
    const orig = byOffset.get(r.offset);
    if (!orig || orig.key !== r.key || orig.value !== r.value) {
      throw new Error(`record at ${r.offset} (${r.key}=${r.value}) was never written`);
    }
    seen.add(r.offset);
  }
  for (const [k, r] of latest) {
    if (r.value !== null && !seen.has(r.offset))
      throw new Error(`latest record of ${k} at ${r.offset} is gone`);
  }
}

/** Appends, and waits until durable. */
export async function append(log: PartitionLog, batch: Buffer, nowMs?: number): Promise<void> {
  const info = log.append(batch, { nowMs });
  await log.waitDurable(info.lastOffset);
}

let fillers = 0;

/**
 * Appends a batch too large for the active segment, so it rolls: everything before becomes
 * cleanable. Each filler has a key of its own starting with "~".
 */
export async function roll(log: PartitionLog, timestamp = T0): Promise<void> {
  // Exactly segment.bytes (or within a few bytes under it): alone in its segment, and the next
  // append rolls again.
  const limit = log.config.segmentBytes;
  const key = `~filler${fillers++}`;
  let n = Math.max(16, limit - 200);
  let batch = kvBatch([[key, 'x'.repeat(n)]], { timestamp });
  for (let i = 0; i < 4 && batch.length !== limit; i++) {
    n += limit - batch.length;
    batch = kvBatch([[key, 'x'.repeat(n)]], { timestamp });
  }
  if (batch.length > limit) batch = kvBatch([[key, 'x'.repeat(n - 4)]], { timestamp });
  await append(log, batch);
}

export function isFiller(r: ReadRec): boolean {
  return r.key?.startsWith('~') ?? false;
}

/** Bytes of the inactive segments. */
export function inactiveBytes(log: PartitionLog): number {
  return log
    .segmentsSnapshot()
    .slice(0, -1)
    .reduce((n, s) => n + s.size, 0);
}

/** A standalone compacted log and a cleaner for it (time from `now.value`). */
export async function compactedLog(
  overrides: Partial<LogConfig> = {},
  cleanerOpts: { ioBufferBytes?: number; dedupeBufferBytes?: number; producerIdExpirationMs?: number } = {},
  dir?: string,
  tailCacheBytes = 8 * 1024 * 1024,
) {
  const now = { value: T0 };
  const d = dir ?? (await tempDir());
  const hooks: { onCleanerSwap?: (stage: string, dir: string, base: number) => void } = {};
  const log = await openLog(
    d,
    { cleanupPolicy: ['compact'], segmentBytes: 16 * 1024, ...overrides },
    {
      time: clockOf(() => now.value),
      tailCache: new TailCache(tailCacheBytes),
      hooks: {
        onCleanerSwap: (stage, dir, base) => hooks.onCleanerSwap?.(stage, dir, base),
      },
    },
  );
  const cleaner = new LogCleaner(() => [{ log }], {
    time: clockOf(() => now.value),
    hooks: { onCleanerSwap: (stage, dir, base) => hooks.onCleanerSwap?.(stage, dir, base) },
    ...cleanerOpts,
  });
  return { log, cleaner, now, dir: d, hooks };
}

/** A copy of `dir` as it is this instant (what a crash would leave), in a fresh directory. */
export function snapshotDir(dir: string, into: string): void {
  mkdirSync(into, { recursive: true });
  cpSync(dir, into, { recursive: true });
}

export async function filesOf(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

export function sub(dir: string, name: string): string {
  return join(dir, name);
}
