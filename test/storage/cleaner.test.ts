// The log cleaner: what compaction keeps and drops (latest value per key, tombstones and their
// delete horizon), offsets and batch boundaries, codecs, the active segment, the lag and ratio
// rules, transactional and producer batches, reads during a clean.

import { readFile } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { makeLogConfig } from '../../src/storage/index.js';
import {
  append,
  batchesOf,
  CompressionType,
  checkCompacted,
  compactedLog,
  inactiveBytes,
  isFiller,
  type KV,
  kvBatch,
  model,
  type ReadRec,
  readBatches,
  readRecs,
  roll,
} from './cleaner-helpers.js';
import { T0 } from './helpers.js';

const DAY = 86_400_000;

/** 100,000 updates over 1,000 keys in batches of 100, then tombstones for keys k0..k99. */
async function manyUpdates(log: Parameters<typeof append>[0], batches = 1000) {
  const compression = CompressionType.None;
  for (let b = 0; b < batches; b++) {
    const recs: KV[] = [];
    for (let i = b * 100; i < b * 100 + 100; i++) recs.push([`k${i % 1000}`, `v${i}`]);
    log.append(kvBatch(recs, { compression }));
  }
  const tombstones: KV[] = [];
  for (let k = 0; k < 100; k++) tombstones.push([`k${k}`, null]);
  await append(log, kvBatch(tombstones, { compression }));
}

describe('log cleaner: what a clean keeps', () => {
  it('keeps the latest record of each key, at its offset, and tombstones until their horizon', async () => {
    const { log, cleaner, now } = await compactedLog({ segmentBytes: 64 * 1024, deleteRetentionMs: DAY });
    await manyUpdates(log);
    await roll(log);
    const before = await readRecs(log);
    const segmentsBefore = log.numberOfSegments;
    const sizeBefore = inactiveBytes(log);
    expect(segmentsBefore).toBeGreaterThan(20);
    const activeBase = Number(log.segmentBaseOffsets().at(-1));

    const stats = await cleaner.cleanLog(log);
    expect(stats).not.toBeNull();
    expect(stats!.endOffset).toBe(activeBase);
    expect(stats!.recordsRemoved).toBe(100_000 - 900);
    const after = await readRecs(log);
    checkCompacted(after, before);
    const data = after.filter((r) => !isFiller(r));
    // One record per key: keys k100..k999 with their last value (offset 99000 + k), and the
    // tombstones of k0..k99 (offsets 100000..100099), still within delete.retention.ms.
    expect(data).toHaveLength(1000);
    for (const r of data) {
      const k = Number(r.key!.slice(1));
      if (k < 100) expect(r).toMatchObject({ offset: 100_000 + k, value: null });
      else expect(r).toMatchObject({ offset: 99_000 + k, value: `v${99_000 + k}` });
    }
    expect(inactiveBytes(log)).toBeLessThan(sizeBefore / 20);
    // One cleaned segment per old one (each was full); the next clean merges them.
    expect(log.numberOfSegments).toBe(segmentsBefore);
    expect(log.logStartOffset).toBe(0n);
    expect(cleaner.firstDirtyOffset(log)).toBe(BigInt(activeBase));

    // Within delete.retention.ms of the first clean: the tombstones stay.
    now.value = T0 + DAY - 1;
    await cleaner.cleanLog(log);
    expect((await readRecs(log)).filter((r) => r.value === null)).toHaveLength(100);
    expect(log.numberOfSegments).toBe(2);
    // Past it: they go.
    now.value = T0 + DAY + 1;
    const sweep = await cleaner.cleanLog(log);
    expect(sweep!.tombstonesRemoved).toBe(100);
    const swept = await readRecs(log);
    checkCompacted(swept, before);
    expect(swept.filter((r) => r.value === null)).toEqual([]);
    expect(swept.filter((r) => !isFiller(r))).toHaveLength(900);
    // The tombstones' batch ended right before the first uncleanable offset: Kafka keeps the last
    // batch of a cleaning round, emptied, so its offsets stay known.
    const last = (await readBatches(log)).find((x) => x.baseOffset === 100_000);
    expect(last).toMatchObject({ lastOffset: 100_099, records: [] });
  });

  it('keeps offsets and batch boundaries: batches keep their base and last offsets; emptied ones go', async () => {
    const { log, cleaner } = await compactedLog();
    // Batches of 10 over keys a0..a19: batch b holds a(10b % 20)..; batches 0..9 are superseded by 10..19.
    for (let b = 0; b < 20; b++) {
      const recs: KV[] = [];
      for (let i = 0; i < 10; i++) recs.push([`a${(b * 10 + i) % 20}`, `v${b * 10 + i}`]);
      log.append(kvBatch(recs));
    }
    // Half of a batch superseded: batch 20 (offsets 200..209) keys c0..c9, then c0..c4 again.
    log.append(kvBatch(Array.from({ length: 10 }, (_, i): KV => [`c${i}`, `old${i}`])));
    await append(log, kvBatch(Array.from({ length: 5 }, (_, i): KV => [`c${i}`, `new${i}`])));
    await roll(log);
    const before = await readBatches(log);
    await cleaner.cleanLog(log);
    const after = await readBatches(log);
    checkCompacted(
      after.flatMap((b) => b.records),
      before.flatMap((b) => b.records),
    );
    const bounds = after.map((b) => [b.baseOffset, b.lastOffset]);
    // Batches 0..17 had every record superseded by batches 18 and 19 (the last of a0..a19).
    expect(bounds).toEqual([
      [180, 189],
      [190, 199],
      [200, 209],
      [210, 214],
      [215, 215],
    ]);
    const half = after[2];
    expect(half.records.map((r) => r.offset)).toEqual([205, 206, 207, 208, 209]);
    expect(half.batch.header.lastOffsetDelta).toBe(9);
    // Untouched batches are the very bytes written.
    expect(after[0].bytes.equals(before[18].bytes)).toBe(true);
    expect(after[3].bytes.equals(before[21].bytes)).toBe(true);
    // A read inside a removed range starts at the next batch kept.
    const r = await log.read(50n, 1 << 20);
    expect(r.firstBatchBaseOffset).toBe(180n);
    // Reopening keeps it all (indexes of the cleaned segment included).
    await log.close();
  });

  it('recompresses rebuilt batches with their own codec (gzip, zstd)', async () => {
    for (const compression of [CompressionType.Gzip, CompressionType.Zstd]) {
      const { log, cleaner } = await compactedLog();
      log.append(
        kvBatch(
          [
            ['a', '1'],
            ['b', '1'],
            ['c', '1'],
          ],
          { compression },
        ),
      );
      log.append(
        kvBatch(
          [
            ['x', '1'],
            ['y', '1'],
          ],
          { compression },
        ),
      );
      await append(log, kvBatch([['a', '2']], { compression: CompressionType.None }));
      await roll(log);
      const before = await readBatches(log);
      await cleaner.cleanLog(log);
      const after = await readBatches(log);
      const rebuilt = after[0];
      expect(rebuilt.baseOffset).toBe(0);
      expect(rebuilt.batch.header.compression).toBe(compression);
      expect(rebuilt.records.map((r) => [r.key, r.value])).toEqual([
        ['b', '1'],
        ['c', '1'],
      ]);
      expect(rebuilt.batch.header.lastOffsetDelta).toBe(2);
      // Nothing removed: byte for byte.
      expect(after[1].bytes.equals(before[1].bytes)).toBe(true);
      expect(after[1].batch.header.compression).toBe(compression);
    }
  });

  it('drops records without a key in the cleaned range, as Kafka does', async () => {
    const { log, cleaner } = await compactedLog();
    await append(
      log,
      kvBatch([
        ['a', '1'],
        [null, 'keyless'],
        ['b', '1'],
      ]),
    );
    await roll(log);
    await cleaner.cleanLog(log);
    const recs = await readRecs(log);
    expect(recs.map((r) => [r.offset, r.key?.slice(0, 2)])).toEqual([
      [0, 'a'],
      [2, 'b'],
      [3, '~f'],
    ]);
  });

  it('never touches the active segment', async () => {
    const { log, cleaner } = await compactedLog();
    await append(log, kvBatch([['a', '0']]));
    await append(log, kvBatch([['a', '1']]));
    await roll(log);
    // The active segment now holds the filler and more updates of a.
    for (let i = 2; i < 6; i++) await append(log, kvBatch([['a', String(i)]]));
    const activeFile = log.segmentsSnapshot().at(-1)!.paths.log;
    const activeBytes = await readFile(activeFile);
    const stats = await cleaner.cleanLog(log);
    expect(stats!.firstUncleanableOffset).toBe(3);
    const recs = await readRecs(log);
    // a=0 goes; the active segment's records are not looked at, so a=1 stays and so do they.
    expect(recs.map((r) => r.value?.slice(0, 1))).toEqual(['1', 'x', '2', '3', '4', '5']);
    expect((await readFile(activeFile)).equals(activeBytes)).toBe(true);
  });

  it('compacts committed transactional records like others and keeps their marker', async () => {
    const { log, cleaner } = await compactedLog();
    await append(log, kvBatch([['t', 'plain-1']]));
    await append(
      log,
      kvBatch(
        [
          ['t', 'txn'],
          ['u', 'txn'],
        ],
        { producerId: 7n, producerEpoch: 0, baseSequence: 0, isTransactional: true },
      ),
    );
    const commit = log.appendTxnMarker(
      { producerId: 7n, producerEpoch: 0, coordinatorEpoch: 1, commit: true },
      T0,
    );
    await log.waitDurable(commit.lastOffset);
    await append(log, kvBatch([['u', 'plain-2']]));
    await roll(log);
    await cleaner.cleanLog(log);
    const after = (await readBatches(log)).filter((b) => !b.records.some((r) => r.key?.startsWith('~')));
    // plain-1 is shadowed by the committed t; the transactional batch keeps t (rebuilt, still
    // transactional, same offsets) and loses u to plain-2; the marker stays with its data.
    expect(
      after.map((b) => [b.baseOffset, b.lastOffset, b.records.map((r) => `${r.key}=${r.value}`)]),
    ).toEqual([
      [1, 2, ['t=txn']],
      [3, 3, [expect.any(String)]],
      [4, 4, ['u=plain-2']],
    ]);
    expect(after[0].batch.header.isTransactional).toBe(true);
    expect(after[1].batch.header.isControl).toBe(true);
  });

  it("keeps an active producer's last batch as an empty batch; not an expired producer's", async () => {
    for (const expired of [false, true]) {
      const { log, cleaner, now } = await compactedLog({}, { producerIdExpirationMs: DAY });
      await append(
        log,
        kvBatch(
          [
            ['p', '1'],
            ['q', '1'],
          ],
          { producerId: 42n, producerEpoch: 3, baseSequence: 17 },
        ),
      );
      await append(
        log,
        kvBatch(
          [
            ['p', '2'],
            ['q', '2'],
          ],
          { producerId: 42n, producerEpoch: 3, baseSequence: 19 },
        ),
      );
      await append(
        log,
        kvBatch(
          [
            ['p', '3'],
            ['q', '3'],
          ],
          { timestamp: T0 + 10 },
        ),
      );
      await roll(log, T0 + 10);
      now.value = expired ? T0 + DAY + 1 : T0 + 1000;
      await cleaner.cleanLog(log);
      const after = await readBatches(log);
      const bounds = after.map((b) => [b.baseOffset, b.lastOffset, b.records.length]);
      if (expired) {
        expect(bounds).toEqual([
          [4, 5, 2],
          [6, 6, 1],
        ]);
      } else {
        // The first batch of producer 42 goes; its last one (sequence 19..20) stays, empty.
        expect(bounds).toEqual([
          [2, 3, 0],
          [4, 5, 2],
          [6, 6, 1],
        ]);
        const h = after[0].batch.header;
        expect(h).toMatchObject({ producerId: 42n, producerEpoch: 3, baseSequence: 19, recordCount: 0 });
        expect(h.lastOffsetDelta).toBe(1);
      }
    }
  });
});

describe('log cleaner: the offset map budget', () => {
  it('cleans only as far as log.cleaner.dedupe.buffer.size covers; later rounds do the rest', async () => {
    // About 48 keys fit (80 bytes of overhead plus the key each); every batch has 10 keys.
    const { log, cleaner } = await compactedLog({}, { dedupeBufferBytes: 4 * 1024 });
    for (let b = 0; b < 100; b++) {
      const recs: KV[] = [];
      for (let i = 0; i < 10; i++) recs.push([`k${(b * 10 + i) % 100}`, `v${b * 10 + i}`]);
      log.append(kvBatch(recs));
    }
    await append(log, kvBatch([['k0', 'last']]));
    await roll(log);
    const before = await readRecs(log);
    const activeBase = Number(log.segmentBaseOffsets().at(-1));
    const first = await cleaner.cleanLog(log);
    expect(first!.endOffset).toBeLessThan(activeBase);
    expect(first!.endOffset % 10).toBe(0);
    expect(first!.mapEntries).toBeLessThanOrEqual(60);
    expect(cleaner.firstDirtyOffset(log)).toBe(BigInt(first!.endOffset));
    // Past the map's reach nothing changed.
    const after1 = await readRecs(log);
    checkCompacted(after1, before);
    expect(after1.filter((r) => r.offset >= first!.endOffset)).toEqual(
      before.filter((r) => r.offset >= first!.endOffset),
    );
    let rounds = 1;
    while (cleaner.firstDirtyOffset(log) < BigInt(activeBase)) {
      await cleaner.cleanLog(log);
      rounds++;
    }
    expect(rounds).toBeGreaterThan(5);
    const all = await readRecs(log);
    checkCompacted(all, before);
    const done = all.filter((r) => !isFiller(r));
    // Every key once, with its last value.
    expect(done).toHaveLength(100);
    expect(done.find((r) => r.key === 'k0')!.value).toBe('last');
  });
});

describe('log cleaner: when a log is cleaned', () => {
  /** Segments of 4 batches of 10 records over keys k0..k9, timestamps T0 + 1000 * segment. */
  async function segments(log: Parameters<typeof append>[0], n: number, first = 0): Promise<void> {
    for (let s = first; s < first + n; s++) {
      for (let b = 0; b < 4; b++) {
        const recs: KV[] = [];
        for (let i = 0; i < 10; i++) recs.push([`k${i}`, `s${s}b${b}-${'.'.repeat(300)}`]);
        await append(log, kvBatch(recs, { timestamp: T0 + 1000 * s }));
      }
      await roll(log, T0 + 1000 * s);
    }
  }

  it('min.compaction.lag.ms holds back segments with records younger than the lag', async () => {
    const { log, cleaner, now } = await compactedLog({ minCompactionLagMs: 10_000, segmentBytes: 20_000 });
    await segments(log, 6);
    now.value = T0 + 13_500;
    // Segments with data of T0 + 4000 and T0 + 5000 (and the fillers after them) are too young.
    const before = await readRecs(log);
    const bases = log.segmentBaseOffsets().map(Number);
    const stats = await cleaner.cleanLog(log);
    const firstYoung = before.find((r) => r.timestamp >= T0 + 4000)!.offset;
    expect(bases).toContain(firstYoung);
    expect(stats!.firstUncleanableOffset).toBe(firstYoung);
    const after = await readRecs(log);
    checkCompacted(after, before);
    // The young part is untouched, duplicates included.
    expect(after.filter((r) => r.offset >= firstYoung)).toEqual(before.filter((r) => r.offset >= firstYoung));
    // The old part holds only the last values of k0..k9 as of then (plus fillers).
    const old = after.filter((r) => r.offset < firstYoung && !isFiller(r));
    expect(old.map((r) => r.value!.slice(0, 4))).toEqual(Array(10).fill('s3b3'));
    // Without the lag, everything up to the active segment is cleaned.
    log.updateConfig(makeLogConfig({ ...log.config, minCompactionLagMs: 0 }));
    const all = await cleaner.cleanLog(log);
    expect(all!.firstUncleanableOffset).toBe(Number(log.segmentBaseOffsets().at(-1)));
  });

  it('min.cleanable.dirty.ratio decides whether a log is due', async () => {
    const { log, cleaner } = await compactedLog({ minCleanableDirtyRatio: 0.5, segmentBytes: 20_000 });
    expect(await cleaner.runOnce()).toBeNull();
    await segments(log, 4);
    // Never cleaned: all dirty (ratio 1).
    expect((await cleaner.grabFilthiestLog())?.cleanableRatio).toBe(1);
    expect(await cleaner.runOnce()).not.toBeNull();
    expect(await cleaner.runOnce()).toBeNull();
    // A little new dirt: below the ratio.
    await segments(log, 1, 10);
    const ltc = await cleaner.grabFilthiestLog();
    expect(ltc).toBeNull();
    const view = await cleaner.logToClean(log, T0);
    expect(view.cleanableRatio).toBeGreaterThan(0);
    expect(view.cleanableRatio).toBeLessThan(0.5);
    expect(await cleaner.runOnce()).toBeNull();
    // More: above it.
    await segments(log, 4, 20);
    expect((await cleaner.logToClean(log, T0)).cleanableRatio).toBeGreaterThan(0.5);
    const stats = await cleaner.runOnce();
    expect(stats).not.toBeNull();
    expect(stats!.endOffset).toBe(Number(log.segmentBaseOffsets().at(-1)));
  });

  it('max.compaction.lag.ms forces a clean of a log below the ratio (KIP-354)', async () => {
    const { log, cleaner, now } = await compactedLog({
      minCleanableDirtyRatio: 0.99,
      maxCompactionLagMs: 60_000,
      segmentBytes: 20_000,
    });
    await segments(log, 4);
    await cleaner.cleanLog(log);
    await segments(log, 1, 10);
    // The earliest first batch of the dirty segments: the filler that was active at the first
    // clean, timestamp T0 + 3000.
    now.value = T0 + 3000 + 59_000;
    expect((await cleaner.logToClean(log, now.value)).needCompactionNow).toBe(false);
    expect(await cleaner.runOnce()).toBeNull();
    now.value = T0 + 3000 + 61_000;
    const ltc = await cleaner.logToClean(log, now.value);
    expect(ltc.needCompactionNow).toBe(true);
    expect(ltc.cleanableRatio).toBeLessThan(0.99);
    expect(await cleaner.runOnce()).not.toBeNull();
  });

  it('leaves logs without compact alone', async () => {
    const { log, cleaner } = await compactedLog({ cleanupPolicy: ['delete'], segmentBytes: 20_000 });
    await segments(log, 3);
    expect(await cleaner.runOnce()).toBeNull();
  });

  it('compact,delete: both retention and compaction apply', async () => {
    const { log, cleaner } = await compactedLog({
      cleanupPolicy: ['compact', 'delete'],
      retentionMs: 3_500,
      segmentBytes: 20_000,
    });
    await segments(log, 6);
    await cleaner.cleanLog(log);
    const before = await readRecs(log);
    const deleted = await log.deleteRetainedSegments(T0 + 7_000);
    expect(deleted).toBeGreaterThan(0);
    const after = await readRecs(log);
    expect(after[0].offset).toBeGreaterThan(0);
    expect(after).toEqual(before.filter((r) => r.offset >= Number(log.logStartOffset)));
  });
});

describe('log cleaner: concurrency', () => {
  it('reads during a clean never fail and always see a valid log', async () => {
    const { log, cleaner, hooks } = await compactedLog(
      { segmentBytes: 16 * 1024 },
      { ioBufferBytes: 2048 },
      undefined,
      64 * 1024,
    );
    await manyUpdates(log, 400);
    await roll(log);
    const before = await readRecs(log);
    const { byOffset } = model(before);
    let reads = 0;
    let done = false;
    const check = (recs: ReadRec[]) => {
      for (const r of recs) {
        const o = byOffset.get(r.offset);
        if (!o || o.value !== r.value) throw new Error(`bad record at ${r.offset}`);
      }
    };
    const reader = (async () => {
      let o = 0;
      while (!done) {
        const r = await log.read(BigInt(o), 8 * 1024);
        reads++;
        const recs: ReadRec[] = [];
        for (const part of r.records) for (const b of batchesOf(part)) recs.push(...b.records);
        check(recs);
        o = recs.length > 0 ? (recs.at(-1)!.offset + 1) % 40_000 : (o + 977) % 40_000;
        await nextTurn();
      }
    })();
    // Reads of the very segments being swapped, right at the swap and while their files go.
    const racing: Promise<void>[] = [];
    hooks.onCleanerSwap = (stage, _dir, base) => {
      if (stage === 'swap' || stage === 'old-deleted') {
        racing.push(
          log.read(BigInt(base), 4096).then((r) => {
            expect(r.sizeInBytes).toBeGreaterThan(0);
            for (const part of r.records) for (const b of batchesOf(part)) check(b.records);
          }),
        );
      }
    };
    const stats = await cleaner.cleanLog(log);
    done = true;
    await reader;
    await Promise.all(racing);
    expect(racing.length).toBe(2 * stats!.segmentsWritten);
    expect(stats!.segmentsCleaned).toBeGreaterThan(10);
    expect(reads).toBeGreaterThan(20);
    checkCompacted(await readRecs(log), before);
  });
});
