// Shared helpers of the storage tests: temp dirs (removed after each test), batches whose record
// values name their own offset, and a full read-back of a log.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { decodeRecordSet, encodeRecordBatch, type RecordInput } from '../../src/protocol/records/index.js';
import {
  type LogConfig,
  LogManager,
  makeLogConfig,
  PartitionLog,
  type PartitionLogOptions,
} from '../../src/storage/index.js';
import { SimulatedTime } from '../../src/util/clock.js';

const dirs: string[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => {});
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A fresh temp dir, removed after the test. */
export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'samsa-storage-'));
  dirs.push(d);
  return d;
}

/** Runs after the test, before the temp dirs go (close logs the test left open). */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

export const T0 = 1_700_000_000_000;

/**
 * One batch of `count` records. Values are "v<n>" for n = firstValue.., so that once offsets are
 * assigned in order (firstValue = the expected base offset) each record names its offset.
 */
export function batch(
  count: number,
  firstValue: number,
  opts: { timestamp?: number | ((i: number) => number); valueBytes?: number } = {},
): Buffer {
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    const n = firstValue + i;
    const pad = opts.valueBytes ? '.'.repeat(Math.max(0, opts.valueBytes - String(n).length - 1)) : '';
    const ts = typeof opts.timestamp === 'function' ? opts.timestamp(i) : (opts.timestamp ?? T0 + n);
    records.push({ key: Buffer.from(`k${n}`), value: Buffer.from(`v${n}${pad}`), timestamp: ts });
  }
  return encodeRecordBatch(records);
}

export interface ReadRecord {
  offset: number;
  value: string;
  timestamp: number;
}

/** Decodes every record of a records buffer, with absolute offsets. */
export function decodeAll(buf: Buffer): ReadRecord[] {
  const out: ReadRecord[] = [];
  const { batches, partialBytes } = decodeRecordSet(buf, { maxUncompressedBytes: 1 << 26 });
  if (partialBytes !== 0) throw new Error(`partial batch of ${partialBytes} bytes`);
  for (const b of batches) {
    for (const r of b.records) {
      const value = r.value?.toString() ?? '';
      out.push({
        offset: Number(b.baseOffset) + r.offsetDelta,
        value: value.replace(/\.+$/, ''),
        timestamp: r.timestamp,
      });
    }
  }
  return out;
}

/** Reads the whole log from its start up to `maxOffset` (default the high watermark). */
export async function readAll(log: PartitionLog, maxOffset?: bigint): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  let next = log.logStartOffset;
  const end = maxOffset ?? log.highWatermark;
  while (next < end) {
    const r = await log.read(next, 64 * 1024, { maxOffset: end });
    if (r.sizeInBytes === 0) throw new Error(`no progress at ${next}`);
    for (const part of r.records) {
      for (const rec of decodeAll(part)) {
        if (rec.offset >= Number(next)) out.push(rec);
      }
    }
    next = BigInt(out[out.length - 1].offset + 1);
  }
  return out;
}

/** Checks records are exactly offsets from..to-1, each value naming its offset. */
export function expectContiguous(records: ReadRecord[], from: number, to: number): void {
  if (records.length !== to - from) throw new Error(`expected ${to - from} records, got ${records.length}`);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (r.offset !== from + i || r.value !== `v${from + i}`) {
      throw new Error(`record ${i}: offset ${r.offset} value ${r.value}, expected ${from + i}`);
    }
  }
}

export function config(overrides: Partial<LogConfig> = {}): LogConfig {
  return makeLogConfig(overrides);
}

/** Opens a standalone log in `dir`, closed after the test unless the test closed it. */
export async function openLog(
  dir: string,
  overrides: Partial<LogConfig> = {},
  extra: Partial<PartitionLogOptions> = {},
): Promise<PartitionLog> {
  const log = await PartitionLog.open({
    dir,
    topicPartition: { topic: 't', partition: 0 },
    config: config(overrides),
    ...extra,
  });
  onCleanup(() => log.abort());
  return log;
}

/** Appends `batches` batches of `per` records, waiting for durability; returns the log end offset. */
export async function fill(log: PartitionLog, batches: number, per = 3): Promise<number> {
  let next = Number(log.logEndOffset);
  for (let i = 0; i < batches; i++) {
    log.append(batch(per, next, { valueBytes: 30 }));
    next += per;
  }
  await log.waitDurable(BigInt(next - 1));
  return next;
}

/** Records the segments a log's recovery rescans (the onSegmentRecovered hook). */
export function recoveryCounter() {
  const recovered: string[] = [];
  return { recovered, hooks: { onSegmentRecovered: (path: string) => recovered.push(path) } };
}

/** A LogManager on `logDirs` with 2000-byte segments and a manual scheduler, aborted at cleanup. */
export async function smallSegmentManager(logDirs: string[], hooks = {}): Promise<LogManager> {
  const mgr = await LogManager.open({
    logDirs,
    // Simulated time that never advances here: the periodic tasks run only when a test says so.
    time: new SimulatedTime(Date.now()),
    hooks,
    defaultConfig: { segmentBytes: 2000 },
  });
  onCleanup(() => mgr.abort());
  return mgr;
}
