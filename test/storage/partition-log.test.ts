// PartitionLog: appends and reads across segment rolls, offsets, whole-batch reads, maxBytes and
// minOneBatch, out-of-range, LogAppendTime, timestamp lookups, and the on-disk layout.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readRecordBatchHeader, splitRecordSet, TimestampType } from '../../src/protocol/records/index.js';
import {
  concatRecords,
  ListOffsetsTimestamp,
  OffsetOutOfRangeError,
  type PartitionLog,
  TailCache,
} from '../../src/storage/index.js';
import { clockOf } from '../../src/util/clock.js';
import { batch, decodeAll, expectContiguous, openLog, readAll, T0, tempDir } from './helpers.js';

/** Appends batches of the given sizes (records each); returns the base offset of each batch. */
async function appendBatches(log: PartitionLog, sizes: number[], valueBytes = 20): Promise<number[]> {
  const bases: number[] = [];
  let next = Number(log.logEndOffset);
  for (const n of sizes) {
    const info = log.append(batch(n, next, { valueBytes }));
    expect(Number(info.baseOffset)).toBe(next);
    expect(Number(info.lastOffset)).toBe(next + n - 1);
    bases.push(next);
    next += n;
  }
  await log.waitDurable(BigInt(next - 1));
  return bases;
}

describe('PartitionLog append and read', () => {
  it('assigns offsets without gaps and reads everything back across segment rolls', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentBytes: 4096, indexIntervalBytes: 256 });
    const sizes = Array.from({ length: 120 }, (_, i) => 1 + (i % 7));
    await appendBatches(log, sizes);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(log.logEndOffset).toBe(BigInt(total));
    expect(log.highWatermark).toBe(BigInt(total));
    expect(log.numberOfSegments).toBeGreaterThan(5);
    expectContiguous(await readAll(log), 0, total);

    // Kafka's layout: 20-digit base offsets, .log/.index/.timeindex per segment.
    await log.close();
    const files = (await readdir(dir)).sort();
    const bases = log.segmentBaseOffsets().map((b) => String(b).padStart(20, '0'));
    for (const b of bases) {
      expect(files).toContain(`${b}.log`);
      expect(files).toContain(`${b}.index`);
      expect(files).toContain(`${b}.timeindex`);
    }
    // Every segment file holds whole batches, the first starting at the segment's base offset.
    for (const b of log.segmentBaseOffsets()) {
      const data = await readFile(join(dir, `${String(b).padStart(20, '0')}.log`));
      expect(data.length).toBeLessThanOrEqual(4096);
      expect(readRecordBatchHeader(data).baseOffset).toBe(b);
      const recs = decodeAll(data);
      expect(recs[0].offset).toBe(Number(b));
    }
  });

  it('a read at an offset inside a batch returns the whole batch', async () => {
    const log = await openLog(await tempDir());
    await appendBatches(log, [5, 10, 3]);
    for (const offset of [5, 9, 14]) {
      const r = await log.read(BigInt(offset), 1 << 20);
      expect(r.firstBatchBaseOffset).toBe(5n);
      const recs = decodeAll(concatRecords(r));
      expect(recs[0].offset).toBe(5);
      expectContiguous(recs, 5, 18);
    }
    // The same from the file once the memory tail is gone.
    await log.close();
    const reopened = await openLog(log.dir);
    const r = await reopened.read(9n, 1 << 20);
    expect(r.firstBatchBaseOffset).toBe(5n);
    expectContiguous(decodeAll(concatRecords(r)), 5, 18);
  });

  it('honours maxBytes with whole batches, and minOneBatch (KIP-74)', async () => {
    for (const fromFile of [false, true]) {
      let log = await openLog(await tempDir());
      await appendBatches(log, [10, 10, 10, 10], 100);
      if (fromFile) {
        await log.close();
        log = await openLog(log.dir);
      }
      const sizes = splitRecordSet(concatRecords(await log.read(0n, 1 << 20))).entries.map(
        (e) => e.bytes.length,
      );
      expect(sizes).toHaveLength(4);
      // Room for two and a half batches: two whole ones.
      const r = await log.read(0n, sizes[0] + sizes[1] + Math.floor(sizes[2] / 2));
      expect(r.sizeInBytes).toBe(sizes[0] + sizes[1]);
      expectContiguous(decodeAll(concatRecords(r)), 0, 20);
      // Smaller than one batch: the first batch anyway with minOneBatch, nothing without.
      const big = await log.read(12n, 10, { minOneBatch: true });
      expectContiguous(decodeAll(concatRecords(big)), 10, 20);
      const none = await log.read(12n, 10, { minOneBatch: false });
      expect(none.sizeInBytes).toBe(0);
      expect(none.records).toEqual([]);
    }
  });

  it('signals OFFSET_OUT_OF_RANGE below the log start and above the log end', async () => {
    const log = await openLog(await tempDir(), { segmentBytes: 1024 });
    await appendBatches(log, Array(20).fill(5));
    await expect(log.read(101n, 100)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    const atEnd = await log.read(100n, 100);
    expect(atEnd.sizeInBytes).toBe(0);
    await log.deleteRecordsBefore(50n);
    const err = await log.read(10n, 100).catch((e) => e);
    expect(err).toBeInstanceOf(OffsetOutOfRangeError);
    expect(err.kafkaError).toBe('OFFSET_OUT_OF_RANGE');
    expect(err.logStartOffset).toBe(50n);
    const r = await log.read(50n, 1 << 20);
    expect(decodeAll(concatRecords(r))[0].offset).toBe(50);
  });

  it('reads stop at maxOffset and, by default, at the high watermark', async () => {
    const log = await openLog(await tempDir());
    log.append(batch(3, 0));
    log.append(batch(3, 3));
    // Before the fsync: nothing is visible to a consumer yet (HWM 0), but a replica may read.
    expect(log.highWatermark).toBe(0n);
    expect((await log.read(0n, 1 << 20)).sizeInBytes).toBe(0);
    const follower = await log.read(0n, 1 << 20, { maxOffset: log.logEndOffset });
    expectContiguous(decodeAll(concatRecords(follower)), 0, 6);
    await log.waitDurable(5n);
    expect(log.highWatermark).toBe(6n);
    const limited = await log.read(0n, 1 << 20, { maxOffset: 3n });
    expectContiguous(decodeAll(concatRecords(limited)), 0, 3);
  });

  it('serves the hot tail from memory (views of the appended buffers) and older data from the file', async () => {
    const log = await openLog(await tempDir());
    const b = batch(4, 0);
    log.append(b);
    await log.waitDurable(3n);
    const r = await log.read(0n, 1 << 20);
    expect(r.records).toHaveLength(1);
    expect(r.records[0].buffer).toBe(b.buffer); // a view, no copy
  });

  it('stamps LogAppendTime and the leader epoch in place, keeping the CRC valid', async () => {
    const log = await openLog(await tempDir(), { messageTimestampType: 'LogAppendTime' });
    const now = T0 + 123_456;
    const info = log.append(batch(3, 0), { nowMs: now, leaderEpoch: 7 });
    expect(info.logAppendTimeMs).toBe(BigInt(now));
    await log.waitDurable(info.lastOffset);
    const r = await log.read(0n, 1 << 20);
    const buf = concatRecords(r);
    const h = readRecordBatchHeader(buf);
    expect(h.timestampType).toBe(TimestampType.LogAppendTime);
    expect(h.maxTimestamp).toBe(BigInt(now));
    expect(h.partitionLeaderEpoch).toBe(7);
    expect(decodeAll(buf).map((x) => x.timestamp)).toEqual([now, now, now]);
    const create = await openLog(await tempDir());
    expect(create.append(batch(1, 0)).logAppendTimeMs).toBe(-1n);
  });

  it('appends several batches in one record set, patching each', async () => {
    const log = await openLog(await tempDir());
    log.append(batch(2, 0));
    const set = Buffer.concat([batch(3, 2), batch(4, 5), batch(1, 9)]);
    const info = log.append(set);
    expect(info).toMatchObject({ baseOffset: 2n, lastOffset: 9n, batches: 3 });
    await log.waitDurable(9n);
    expectContiguous(await readAll(log), 0, 10);
  });

  it('ignores whatever baseOffset a producer put in its batch', async () => {
    const log = await openLog(await tempDir());
    log.append(batch(2, 0));
    for (const junk of [-1n, 123_456_789n, -(2n ** 63n)]) {
      const b = batch(3, Number(log.logEndOffset));
      b.writeBigInt64BE(junk, 0);
      const info = log.append(b);
      expect(info.lastOffset - info.baseOffset).toBe(2n);
    }
    await log.waitDurable(10n);
    expectContiguous(await readAll(log), 0, 11);
  });

  it('rejects malformed record sets without changing the log', async () => {
    const log = await openLog(await tempDir());
    log.append(batch(2, 0));
    const good = batch(3, 2);
    expect(() => log.append(good.subarray(0, good.length - 1))).toThrow(/truncated/);
    expect(() => log.append(Buffer.alloc(0))).toThrow(/empty/);
    const badMagic = Buffer.from(good);
    badMagic[16] = 1;
    expect(() => log.append(badMagic)).toThrow(/magic/);
    expect(log.logEndOffset).toBe(2n);
  });

  it('rolls on segment.ms, measured from the first batch timestamp as Kafka', async () => {
    const log = await openLog(await tempDir(), { segmentMs: 1000 });
    log.append(batch(1, 0, { timestamp: T0 }));
    log.append(batch(1, 1, { timestamp: T0 + 1000 }));
    expect(log.numberOfSegments).toBe(1);
    log.append(batch(1, 2, { timestamp: T0 + 1001 }));
    expect(log.segmentBaseOffsets()).toEqual([0n, 2n]);
    // Batches without timestamps fall back to the segment's creation time.
    let now = T0;
    const timed = await openLog(await tempDir(), { segmentMs: 1000 }, { time: clockOf(() => now) });
    timed.append(batch(1, 0, { timestamp: -1 }));
    now += 500;
    timed.append(batch(1, 1, { timestamp: -1 }));
    now += 600;
    timed.append(batch(1, 2, { timestamp: -1 }));
    expect(timed.segmentBaseOffsets()).toEqual([0n, 2n]);
    await timed.waitDurable(2n);
    expectContiguous(await readAll(timed), 0, 3);
  });

  it('rolls when the offset index is full (segment.index.bytes)', async () => {
    // 3 entries of 8 bytes; an entry every batch (interval 0).
    const log = await openLog(await tempDir(), { segmentIndexBytes: 24, indexIntervalBytes: 0 });
    await appendBatches(log, Array(12).fill(1));
    expect(log.numberOfSegments).toBeGreaterThanOrEqual(3);
    expectContiguous(await readAll(log), 0, 12);
  });

  it('finds offsets by timestamp (first record with timestamp >= target) and the max timestamp', async () => {
    const log = await openLog(await tempDir(), { segmentBytes: 2048, indexIntervalBytes: 100 });
    // Timestamps go up by 10 per record, with one out-of-order record at offset 57.
    let next = 0;
    for (let i = 0; i < 30; i++) {
      const base = next;
      log.append(batch(4, base, { timestamp: (j) => (base + j === 57 ? T0 + 5 : T0 + (base + j) * 10) }));
      next += 4;
    }
    await log.waitDurable(BigInt(next - 1));
    const all = await readAll(log);
    const linear = (ts: number) => all.find((r) => r.timestamp >= ts) ?? null;
    for (const ts of [T0 - 100, T0, T0 + 1, T0 + 5, T0 + 565, T0 + 570, T0 + 571, T0 + 1190, T0 + 5000]) {
      const got = await log.offsetForTimestamp(BigInt(ts));
      const want = linear(ts);
      expect(got === null ? null : Number(got.offset)).toBe(want === null ? null : want.offset);
      if (got && want) expect(got.timestamp).toBe(BigInt(want.timestamp));
    }
    const max = await log.offsetForTimestamp(ListOffsetsTimestamp.MAX_TIMESTAMP);
    expect(max).toMatchObject({ offset: 119n, timestamp: BigInt(T0 + 1190) });
    expect((await log.offsetForTimestamp(ListOffsetsTimestamp.EARLIEST))?.offset).toBe(0n);
    expect((await log.offsetForTimestamp(ListOffsetsTimestamp.LATEST))?.offset).toBe(120n);
    // Below the log start: the first offset at or after it.
    await log.deleteRecordsBefore(30n);
    expect((await log.offsetForTimestamp(BigInt(T0)))?.offset).toBe(30n);
  });

  it('reads from any offset equal a linear scan (random batch sizes, small segments)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 200, max: 3000 }),
        fc.integer({ min: 0, max: 600 }),
        fc.boolean(),
        fc.constantFrom(0, 2048, 1 << 20),
        async (sizes, segmentBytes, indexIntervalBytes, reopen, cacheBytes) => {
          // A small tail cache sends reads of recent data to the file too.
          let log = await openLog(
            await tempDir(),
            { segmentBytes, indexIntervalBytes },
            { tailCache: new TailCache(cacheBytes) },
          );
          await appendBatches(log, sizes, 10);
          if (reopen) {
            await log.close();
            log = await openLog(log.dir, { segmentBytes, indexIntervalBytes });
          }
          const total = sizes.reduce((a, b) => a + b, 0);
          const bases = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
          for (let o = 0; o < total; o++) {
            const r = await log.read(BigInt(o), 1);
            const want = bases.filter((b) => b <= o).pop()!;
            expect(r.firstBatchBaseOffset).toBe(BigInt(want));
            const recs = decodeAll(concatRecords(r));
            expect(recs[0].offset).toBe(want);
          }
          await log.close();
        },
      ),
      { numRuns: 25 },
    );
  });

  it('writes segment files no bigger than segment.bytes', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentBytes: 1500 });
    await appendBatches(log, Array(40).fill(3));
    await log.close();
    for (const f of await readdir(dir)) {
      if (f.endsWith('.log')) expect((await stat(join(dir, f))).size).toBeLessThanOrEqual(1500);
    }
  });
});
