// Retention by time and size, DeleteRecords, truncation helpers, and the LogManager's deletion of
// partition logs.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogManager, OffsetOutOfRangeError, type PartitionLog } from '../../src/storage/index.js';
import { SimulatedTime } from '../../src/util/clock.js';
import { batch, expectContiguous, onCleanup, openLog, readAll, T0, tempDir } from './helpers.js';

/** `segments` segments of 2 batches of 5 records each; batch timestamps T0 + 1000 * segment. */
async function segmented(log: PartitionLog, segments: number): Promise<number> {
  let next = Number(log.logEndOffset);
  for (let s = 0; s < segments; s++) {
    for (let b = 0; b < 2; b++) {
      log.append(batch(5, next, { timestamp: T0 + 1000 * s, valueBytes: 50 }));
      next += 5;
    }
  }
  await log.waitDurable(BigInt(next - 1));
  return next;
}

async function logFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.log')).sort();
}

// Two batches of ~5 * 60 bytes fit; a third does not.
const SEGMENT_BYTES = 800;

describe('retention', () => {
  it('by time: deletes the oldest segments whose largest timestamp is older than retention.ms', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentBytes: SEGMENT_BYTES, retentionMs: 10_000 });
    const end = await segmented(log, 6);
    expect(log.numberOfSegments).toBe(6);
    // Segment s has timestamp T0 + 1000 s: at T0 + 12_500, segments 0..2 are older than 10 s.
    expect(await log.deleteRetainedSegments(T0 + 12_500)).toBe(3);
    expect(log.numberOfSegments).toBe(3);
    expect(log.logStartOffset).toBe(30n);
    expect(await logFiles(dir)).toHaveLength(3);
    expect((await readdir(dir)).filter((f) => f.endsWith('.deleted'))).toEqual([]);
    await expect(log.read(29n, 100)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    expectContiguous(await readAll(log), 30, end);
    // Nothing more is due.
    expect(await log.deleteRetainedSegments(T0 + 12_500)).toBe(0);
  });

  it('by time, when every segment is due: rolls an empty active segment first', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentBytes: SEGMENT_BYTES, retentionMs: 10_000 });
    const end = await segmented(log, 3);
    expect(await log.deleteRetainedSegments(T0 + 60_000)).toBe(3);
    expect(log.segmentBaseOffsets()).toEqual([BigInt(end)]);
    expect(log.logStartOffset).toBe(BigInt(end));
    expect(log.logEndOffset).toBe(BigInt(end));
    expect(await logFiles(dir)).toEqual([`${String(end).padStart(20, '0')}.log`]);
    const next = await segmented(log, 1);
    expectContiguous(await readAll(log), end, next);
  });

  it('by size: deletes oldest segments while the rest still holds retention.bytes', async () => {
    const log = await openLog(await tempDir(), { segmentBytes: SEGMENT_BYTES, retentionBytes: 2000 });
    const end = await segmented(log, 8);
    const sizeBefore = log.size;
    const deleted = await log.deleteRetainedSegments(T0);
    expect(deleted).toBeGreaterThan(0);
    expect(log.size).toBeGreaterThanOrEqual(2000);
    expect(log.size).toBeLessThan(2000 + SEGMENT_BYTES);
    expect(log.size).toBeLessThan(sizeBefore);
    expectContiguous(await readAll(log), Number(log.logStartOffset), end);
  });

  it('leaves compacted topics and unlimited retention alone', async () => {
    const compact = await openLog(await tempDir(), {
      segmentBytes: SEGMENT_BYTES,
      retentionMs: 1,
      retentionBytes: 1,
      cleanupPolicy: ['compact'],
    });
    await segmented(compact, 4);
    expect(await compact.deleteRetainedSegments(T0 + 1e9)).toBe(0);
    const forever = await openLog(await tempDir(), { segmentBytes: SEGMENT_BYTES, retentionMs: -1 });
    await segmented(forever, 4);
    expect(await forever.deleteRetainedSegments(T0 + 1e12)).toBe(0);
  });

  it('never deletes data at or above the high watermark', async () => {
    const log = await openLog(await tempDir(), { segmentBytes: SEGMENT_BYTES, retentionMs: 0 });
    await segmented(log, 3);
    // A fresh append not yet durable keeps the active segment (and its range) out of reach.
    log.append(batch(5, Number(log.logEndOffset), { timestamp: T0 }));
    const deleted = await log.deleteRetainedSegments(T0 + 1e9);
    expect(deleted).toBe(3);
    expect(log.numberOfSegments).toBe(1);
  });
});

describe('DeleteRecords', () => {
  it('advances the log start offset and deletes whole segments below it', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentBytes: SEGMENT_BYTES });
    const end = await segmented(log, 5);
    expect(await log.deleteRecordsBefore(25n)).toBe(25n);
    expect(log.logStartOffset).toBe(25n);
    // Segments [0,10) and [10,20) are wholly below 25; [20,30) stays (it holds 25..29).
    expect(log.segmentBaseOffsets()[0]).toBe(20n);
    expect(await logFiles(dir)).toHaveLength(3);
    const r = await log.read(25n, 1 << 20);
    expect(r.firstBatchBaseOffset).toBe(25n);
    const all = await readAll(log);
    expectContiguous(all, 25, end);
    // Not backwards, and never past the high watermark.
    expect(await log.deleteRecordsBefore(10n)).toBe(25n);
    await expect(log.deleteRecordsBefore(BigInt(end + 1))).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    expect(await log.deleteRecordsBefore(BigInt(end))).toBe(BigInt(end));
    expect((await log.read(BigInt(end), 100)).sizeInBytes).toBe(0);
  });
});

describe('truncation (replication helpers)', () => {
  it('truncateTo removes the batch holding the offset and everything after', async () => {
    const log = await openLog(await tempDir(), { segmentBytes: SEGMENT_BYTES, indexIntervalBytes: 50 });
    await segmented(log, 4);
    expect(await log.truncateTo(23n)).toBe(true);
    expect(log.logEndOffset).toBe(20n);
    expect(log.highWatermark).toBe(20n);
    expectContiguous(await readAll(log), 0, 20);
    const next = await segmented(log, 1);
    expect(next).toBe(30);
    expectContiguous(await readAll(log), 0, 30);
    await log.close();
    const again = await openLog(log.dir, { segmentBytes: SEGMENT_BYTES });
    expectContiguous(await readAll(again), 0, 30);
  });

  it('truncateFullyAndStartAt empties the log at a new offset; followers append with given offsets', async () => {
    const log = await openLog(await tempDir(), { segmentBytes: SEGMENT_BYTES });
    await segmented(log, 2);
    await log.truncateFullyAndStartAt(1000n);
    expect(log.logStartOffset).toBe(1000n);
    expect(log.logEndOffset).toBe(1000n);
    const b = batch(4, 1000);
    b.writeBigInt64BE(1000n, 0);
    const info = log.appendAsFollower(b);
    expect(info).toMatchObject({ baseOffset: 1000n, lastOffset: 1003n });
    const stale = batch(1, 0);
    stale.writeBigInt64BE(500n, 0);
    expect(() => log.appendAsFollower(stale)).toThrow(/below/);
    await log.waitDurable(1003n);
    expectContiguous(await readAll(log), 1000, 1004);
  });
});

describe('LogManager', () => {
  async function manager(logDirs: string[]) {
    const time = new SimulatedTime(T0 + 60_000);
    const mgr = await LogManager.open({
      logDirs,
      defaultConfig: { segmentBytes: SEGMENT_BYTES, retentionMs: 10_000 },
      time,
    });
    onCleanup(() => mgr.abort());
    return { mgr, time };
  }

  it('runs retention and checkpoints on its schedule', async () => {
    const { mgr, time } = await manager([await tempDir()]);
    mgr.startup();
    expect(time.taskNames.sort()).toEqual([
      'kafka-log-cleaner',
      'kafka-log-flusher',
      'kafka-log-retention',
      'kafka-log-start-offset-checkpoint',
      'kafka-producer-expiration-check',
      'kafka-recovery-point-checkpoint',
    ]);
    const log = await mgr.getOrCreateLog('t', 0);
    const end = await segmented(log, 3);
    // Not before log.retention.check.interval.ms (default 300000) has passed on the node's clock.
    await time.advance(299_999);
    expect(log.logStartOffset).toBe(0n);
    await time.advance(1);
    expect(log.logStartOffset).toBe(BigInt(end));
  });

  it('spreads new logs over the log dirs and deletes logs as Kafka (rename to -delete, then remove)', async () => {
    const d1 = await tempDir();
    const d2 = await tempDir();
    const { mgr } = await manager([d1, d2]);
    const logs = await Promise.all([0, 1, 2, 3].map((p) => mgr.getOrCreateLog('events', p)));
    expect(new Set(logs.map((l) => join(l.dir, '..'))).size).toBe(2);
    expect(await mgr.getOrCreateLog('events', 0)).toBe(logs[0]);
    await segmented(logs[1], 2);
    const home = mgr.logDirOf('events', 1)!;
    expect(await mgr.deleteLog('events', 1)).toBe(true);
    expect(mgr.getLog('events', 1)).toBeUndefined();
    // Renamed away at once (Kafka's "<topic>-<partition>.<uuid>-delete"), removed in the background.
    expect(await readdir(home)).not.toContain('events-1');
    await mgr.awaitDeletions();
    expect((await readdir(home)).filter((n) => n.startsWith('events-1'))).toEqual([]);
    expect(await mgr.deleteLog('events', 1)).toBe(false);
    // Re-created empty.
    const fresh = await mgr.getOrCreateLog('events', 1);
    expect(fresh.logEndOffset).toBe(0n);
    await mgr.close();
    const { mgr: again } = await manager([d1, d2]);
    expect(again.allLogs()).toHaveLength(4);
  });

  it('removes leftover -delete directories at start and ignores the metadata log', async () => {
    const d = await tempDir();
    const { mgr } = await manager([d]);
    await mgr.getOrCreateLog('a', 0);
    await mgr.getOrCreateLog('__cluster_metadata', 0).catch(() => undefined);
    await mgr.deleteLog('a', 0);
    await mgr.abort();
    const { mgr: again } = await manager([d]);
    await again.awaitDeletions();
    expect((await readdir(d)).filter((n) => n.endsWith('-delete'))).toEqual([]);
    expect(again.getLog('__cluster_metadata', 0)).toBeUndefined();
  });
});
