// The log cleaner and failures: a crash at each step of a swap (the directory copied at that
// instant, then opened as after kill -9), interrupted renames, a clean aborted by close() or by
// deleting the log, a corrupt batch; and the LogManager side: schedule, cleaner-offset-checkpoint.

import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CLEANER_OFFSET_CHECKPOINT_FILE,
  CleaningAbortedError,
  LogManager,
  makeLogConfig,
  type PartitionLog,
  UncleanableLogError,
} from '../../src/storage/index.js';
import { SimulatedTime } from '../../src/util/clock.js';
import {
  append,
  checkCompacted,
  compactedLog,
  filesOf,
  type KV,
  kvBatch,
  type ReadRec,
  readRecs,
  roll,
  snapshotDir,
} from './cleaner-helpers.js';
import { onCleanup, openLog, T0, tempDir } from './helpers.js';

/**
 * 200 batches, in segments of 4 KiB, then a roll. Each batch: 9 records over keys k0..k49 and one
 * of a key of its own (so every batch keeps a record and a cleaned segment covers the offsets of
 * all the segments it replaces).
 */
async function write(log: PartitionLog): Promise<void> {
  for (let b = 0; b < 200; b++) {
    const recs: KV[] = [[`u${b}`, `v${b * 10}`]];
    for (let i = 1; i < 10; i++) recs.push([`k${(b * 10 + i) % 50}`, `v${b * 10 + i}`]);
    await append(log, kvBatch(recs));
  }
  await roll(log);
}

const LEFTOVER = /\.(cleaned|swap|deleted|tmp)$/;

/** Opens a crash copy as after kill -9 (everything rescanned), checks it, then once more trusting it. */
async function reopenCrashed(dir: string, before: ReadRec[]): Promise<ReadRec[]> {
  const log = await openLog(
    dir,
    { cleanupPolicy: ['compact'], segmentBytes: 16 * 1024 },
    { recoveryPoint: 0n },
  );
  expect((await filesOf(dir)).filter((f) => LEFTOVER.test(f))).toEqual([]);
  const recs = await readRecs(log);
  checkCompacted(recs, before);
  const end = log.logEndOffset;
  await log.close();
  // Reopened after a clean shutdown: the indexes written by the cleaner and the loader are trusted.
  const again = await openLog(
    dir,
    { cleanupPolicy: ['compact'] },
    { recoveryPoint: end, hadCleanShutdown: true },
  );
  expect(await readRecs(again)).toEqual(recs);
  for (let o = 0; o < Number(end); o += 97) {
    const r = await again.read(BigInt(o), 100);
    expect(r.sizeInBytes).toBeGreaterThan(0);
  }
  return recs;
}

describe('log cleaner: crash safety', () => {
  async function crashAt(stage: 'cleaned' | 'swap' | 'old-deleted') {
    const { log, cleaner, hooks } = await compactedLog({ segmentBytes: 4 * 1024 });
    await write(log);
    // Bigger segments from now on: each cleaned segment replaces several old ones.
    log.updateConfig(makeLogConfig({ ...log.config, segmentBytes: 16 * 1024 }));
    const before = await readRecs(log);
    const copy = join(await tempDir(), 'crash');
    let swaps = 0;
    hooks.onCleanerSwap = (s, d) => {
      // The second group's swap, so the log holds cleaned and uncleaned segments both.
      if (s === stage && ++swaps === 2) snapshotDir(d, copy);
    };
    const stats = await cleaner.cleanLog(log);
    expect(stats!.segmentsCleaned).toBeGreaterThan(stats!.segmentsWritten);
    expect(stats!.segmentsWritten).toBeGreaterThan(2);
    const files = await filesOf(copy);
    return { before, copy, files, cleanedLog: await readRecs(log) };
  }

  it('a crash after the .cleaned files were written: they are dropped, the old segments serve', async () => {
    const { before, copy, files } = await crashAt('cleaned');
    expect(files.filter((f) => f.endsWith('.cleaned'))).toHaveLength(3);
    const recs = await reopenCrashed(copy, before);
    // The first group was swapped in before the crash, the second was not.
    expect(recs.length).toBeLessThan(before.length);
    const secondBase = Number(files.find((f) => f.endsWith('.log.cleaned'))!.slice(0, 20));
    const next = Number(
      files.filter((f) => f.endsWith('.log') && Number(f.slice(0, 20)) > secondBase)[0]!.slice(0, 20),
    );
    expect(next).toBeGreaterThan(secondBase);
    // The second group's first old segment is still there as written.
    const inGroup = (r: ReadRec) => r.offset >= secondBase && r.offset < next;
    expect(recs.filter(inGroup)).toEqual(before.filter(inGroup));
  });

  for (const stage of ['swap', 'old-deleted'] as const) {
    it(`a crash after the ${stage === 'swap' ? '.swap rename' : 'old segments became .deleted'}: the swap completes`, async () => {
      const { before, copy, files } = await crashAt(stage);
      expect(files.filter((f) => f.endsWith('.log.swap'))).toHaveLength(1);
      const swapBase = Number(files.find((f) => f.endsWith('.log.swap'))!.slice(0, 20));
      const replaced = files.filter(
        (f) => f.endsWith(stage === 'swap' ? '.log' : '.log.deleted') && Number(f.slice(0, 20)) >= swapBase,
      );
      const recs = await reopenCrashed(copy, before);
      // The segments the swap replaced are gone, so the group holds only what the clean kept.
      const segs = (await filesOf(copy)).filter((f) => f.endsWith('.log')).map((f) => Number(f.slice(0, 20)));
      expect(replaced.length).toBeGreaterThan(1);
      const next = segs.find((b) => b > swapBase)!;
      const inGroup = (r: ReadRec) => r.offset >= swapBase && r.offset < next;
      expect(recs.filter(inGroup).length).toBeLessThan(before.filter(inGroup).length);
    });
  }

  it('a crash in the middle of the .cleaned -> .swap renames: the swap is undone', async () => {
    const { before, copy } = await crashAt('cleaned');
    const names = await filesOf(copy);
    const log = names.find((f) => f.endsWith('.log.cleaned'))!;
    await rename(join(copy, log), join(copy, log.replace('.cleaned', '.swap')));
    const recs = await reopenCrashed(copy, before);
    // From the second group on, the log is as written.
    const base = Number(log.slice(0, 20));
    expect(recs.filter((r) => r.offset >= base)).toEqual(before.filter((r) => r.offset >= base));
  });
});

describe('log cleaner: stopping', () => {
  async function managed(dir: string, extra: Partial<Parameters<typeof LogManager.open>[0]> = {}) {
    const time = new SimulatedTime(T0);
    const hooks: { onCleanerSwap?: (stage: string) => void } = {};
    const mgr = await LogManager.open({
      logDirs: [dir],
      defaultConfig: { cleanupPolicy: ['compact'], segmentBytes: 4 * 1024 },
      time,
      cleanerIoBufferBytes: 1024,
      hooks: { onCleanerSwap: (stage) => hooks.onCleanerSwap?.(stage) },
      ...extra,
    });
    onCleanup(() => mgr.abort());
    return { mgr, time, hooks };
  }

  it('close() aborts a clean in progress and leaves a whole log', async () => {
    const dir = await tempDir();
    const { mgr, hooks } = await managed(dir);
    const log = await mgr.getOrCreateLog('t', 0);
    await write(log);
    const before = await readRecs(log);
    let closing: Promise<void> | null = null;
    hooks.onCleanerSwap = (stage) => {
      if (stage === 'done' && closing === null) closing = mgr.close();
    };
    await expect(mgr.cleaner.cleanLog(log)).rejects.toBeInstanceOf(CleaningAbortedError);
    expect(closing).not.toBeNull();
    await closing;
    const files = await filesOf(join(dir, 't-0'));
    expect(files.filter((f) => LEFTOVER.test(f))).toEqual([]);
    // Closed cleanly (marker written), and the checkpoint did not move: the round did not finish.
    expect(await readdir(dir)).toContain('.kafka_cleanshutdown');
    expect(await readFile(join(dir, CLEANER_OFFSET_CHECKPOINT_FILE), 'utf8').catch(() => '')).not.toMatch(
      /^t 0/m,
    );
    const { mgr: again } = await managed(dir);
    const reopened = again.getLog('t', 0)!;
    const recs = await readRecs(reopened);
    checkCompacted(recs, before);
    // One group was swapped in before the abort, not all of them.
    expect(recs.length).toBeLessThan(before.length);
    await again.cleaner.cleanLog(reopened);
    const full = await readRecs(reopened);
    expect(full.length).toBeLessThan(recs.length);
    checkCompacted(full, before);
  });

  it('deleting a log aborts its clean', async () => {
    const dir = await tempDir();
    const { mgr, hooks } = await managed(dir);
    const log = await mgr.getOrCreateLog('t', 0);
    await write(log);
    let deleting: Promise<boolean> | null = null;
    hooks.onCleanerSwap = (stage) => {
      if (stage === 'cleaned' && deleting === null) deleting = mgr.deleteLog('t', 0);
    };
    await expect(mgr.cleaner.cleanLog(log)).rejects.toBeInstanceOf(CleaningAbortedError);
    expect(await deleting).toBe(true);
    await mgr.awaitDeletions();
    expect((await readdir(dir)).filter((n) => n.startsWith('t-0'))).toEqual([]);
    // The cleaner still works for the log created again.
    const fresh = await mgr.getOrCreateLog('t', 0);
    await write(fresh);
    expect(await mgr.cleaner.cleanLog(fresh)).not.toBeNull();
  });

  it('a corrupt batch makes the log uncleanable, and the log stays as it is', async () => {
    const dir = await tempDir();
    const { mgr } = await managed(dir);
    const log = await mgr.getOrCreateLog('t', 0);
    await write(log);
    const before = await readRecs(log);
    // Damage a record byte of the second segment (its CRC no longer matches).
    const bases = log.segmentBaseOffsets();
    const seg = log.segmentsSnapshot()[1];
    const bytes = await readFile(seg.paths.log);
    bytes[100] ^= 0xff;
    await writeFile(seg.paths.log, bytes);
    await expect(mgr.cleaner.cleanLog(log)).rejects.toBeInstanceOf(UncleanableLogError);
    expect(mgr.cleaner.isUncleanable(log)).toBe(true);
    expect(await mgr.cleaner.runOnce()).toBeNull();
    expect((await filesOf(log.dir)).filter((f) => LEFTOVER.test(f))).toEqual([]);
    expect(log.segmentBaseOffsets()).toEqual(bases);
    expect(log.isOpen).toBe(true);
    // The other segments still read as written.
    const first = await log.read(0n, 1000);
    expect(first.firstBatchBaseOffset).toBe(0n);
    expect(before.length).toBeGreaterThan(2000);
  });
});

describe('log cleaner in the LogManager', () => {
  it('is scheduled (log.cleaner.backoff.ms) unless disabled, and its checkpoint survives a restart', async () => {
    const dir = await tempDir();
    const time = new SimulatedTime(T0);
    const open = (enable: boolean) =>
      LogManager.open({
        logDirs: [dir],
        defaultConfig: { cleanupPolicy: ['compact'], segmentBytes: 4 * 1024 },
        topicConfig: (t) => (t === 'plain' ? { cleanupPolicy: ['delete'] } : undefined),
        time,
        cleanerEnable: enable,
      });
    const mgr = await open(true);
    onCleanup(() => mgr.abort());
    mgr.startup();
    expect(time.taskNames).toContain('kafka-log-cleaner');
    const log = await mgr.getOrCreateLog('t', 0);
    const other = await mgr.getOrCreateLog('plain', 0);
    await write(log);
    await write(other);
    const before = await readRecs(log);
    const plainBefore = await readRecs(other);
    await time.advance(15_000); // log.cleaner.backoff.ms: one cleaning round
    const cleaned = await readRecs(log);
    checkCompacted(cleaned, before);
    expect(cleaned.length).toBeLessThan(before.length);
    expect(await readRecs(other)).toEqual(plainBefore);
    const end = Number(log.segmentBaseOffsets().at(-1));
    expect(mgr.cleaner.firstDirtyOffset(log)).toBe(BigInt(end));
    const text = await readFile(join(dir, CLEANER_OFFSET_CHECKPOINT_FILE), 'utf8');
    expect(text).toBe(`0\n1\nt 0 ${end}\n`);
    await mgr.close();

    const again = await open(false);
    onCleanup(() => again.abort());
    again.startup();
    expect(time.taskNames).not.toContain('kafka-log-cleaner');
    const reopened = again.getLog('t', 0)!;
    expect(again.cleaner.firstDirtyOffset(reopened)).toBe(BigInt(end));
    expect(await readRecs(reopened)).toEqual(cleaned);
    // Nothing dirty: nothing to do.
    expect(await again.cleaner.runOnce()).toBeNull();
    // Deleting the log drops it from the checkpoint.
    await again.deleteLog('t', 0);
    expect(await readFile(join(dir, CLEANER_OFFSET_CHECKPOINT_FILE), 'utf8')).toBe('0\n0\n');
  });

  it('a checkpoint past the log end (a lost tail) starts over from the log start', async () => {
    const { log, cleaner } = await compactedLog({ segmentBytes: 4 * 1024 });
    await write(log);
    cleaner.setFirstDirtyOffset(log, log.logEndOffset + 1000n);
    const range = await cleaner.cleanableOffsets(log, T0);
    expect(range).toMatchObject({ firstDirtyOffset: 0, reset: true });
    const stats = await cleaner.runOnce();
    expect(stats!.firstDirtyOffset).toBe(0);
    expect(cleaner.firstDirtyOffset(log)).toBe(BigInt(stats!.endOffset));
    // A truncation (a follower diverging) may cut below the first dirty offset and be followed by
    // new appends: the checkpoint no longer says what is clean, so the next clean starts over.
    await log.truncateTo(BigInt(stats!.endOffset - 50));
    await write(log);
    expect(log.logEndOffset).toBeGreaterThan(BigInt(stats!.endOffset));
    expect(await cleaner.cleanableOffsets(log, T0)).toMatchObject({ firstDirtyOffset: 0, reset: true });
  });
});
