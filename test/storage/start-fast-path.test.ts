// The start of a broker with many partitions (issue 3: 10,000 partitions in at most 2 s): after a
// clean shutdown the partition directories are listed synchronously, an empty active segment is
// loaded without reading its indexes (its .log opened on first use), a log that never held a
// record is opened from one stat, and the checkpoints and the metadata log are read once. Each of
// these must leave a log that serves reads and appends, survives a reopen, and is still rescanned
// after a crash.

import { cp, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileMetadataLog } from '../../src/metadata/metadata-log.js';
import { topicRecord } from '../../src/metadata/records.js';
import {
  CLEAN_SHUTDOWN_FILE,
  LogManager,
  offsetFilePrefix,
  parseOffsetCheckpoint,
} from '../../src/storage/index.js';
import { SimulatedTime } from '../../src/util/clock.js';
import {
  batch,
  expectContiguous,
  fill,
  onCleanup,
  readAll,
  recoveryCounter,
  smallSegmentManager,
  tempDir,
} from './helpers.js';

const seg0 = (dir: string, suffix: string) => join(dir, offsetFilePrefix(0) + suffix);

describe('start after a clean shutdown', () => {
  it('never-written and empty logs open without a read, then take appends, reopen, and are rescanned after a crash', async () => {
    const logDir = await tempDir();
    const mgr = await smallSegmentManager([logDir]);
    for (let p = 0; p < 20; p++) await mgr.getOrCreateLog('empty', p);
    const full = await mgr.getOrCreateLog('full', 0);
    const endFull = await fill(full, 30); // several segments
    await mgr.close();
    expect(await readdir(logDir)).toContain(CLEAN_SHUTDOWN_FILE);

    const c1 = recoveryCounter();
    const mgr2 = await smallSegmentManager([logDir], c1.hooks);
    expect(c1.recovered).toEqual([]);
    expect(mgr2.allLogs()).toHaveLength(21);
    for (let p = 0; p < 20; p++) {
      const log = mgr2.getLog('empty', p)!;
      expect(log.logEndOffset).toBe(0n);
      expect(log.recoveredSegments).toBe(0);
    }
    expectContiguous(await readAll(mgr2.getLog('full', 0)!), 0, endFull);
    // The opened-empty logs work: appends (across segment rolls), reads, offsets by time.
    const e0 = mgr2.getLog('empty', 0)!;
    const end0 = await fill(e0, 25);
    expectContiguous(await readAll(e0), 0, end0);
    const e1 = mgr2.getLog('empty', 1)!;
    const end1 = await fill(e1, 2);
    const endFull2 = await fill(mgr2.getLog('full', 0)!, 2);
    await mgr2.close();

    // Reopened cleanly: what was appended is there (e1 is no longer "never written").
    const c2 = recoveryCounter();
    const mgr3 = await smallSegmentManager([logDir], c2.hooks);
    expect(c2.recovered).toEqual([]);
    expectContiguous(await readAll(mgr3.getLog('empty', 0)!), 0, end0);
    expectContiguous(await readAll(mgr3.getLog('empty', 1)!), 0, end1);
    expectContiguous(await readAll(mgr3.getLog('full', 0)!), 0, endFull2);
    const end2 = await fill(mgr3.getLog('empty', 2)!, 3);
    const end1b = await fill(mgr3.getLog('empty', 1)!, 3);
    await mgr3.abort(); // a crash

    // A crash: every active segment is rescanned, the appends after the clean start survive.
    const c3 = recoveryCounter();
    const mgr4 = await smallSegmentManager([logDir], c3.hooks);
    expect(mgr4.cleanShutdownDirs.size).toBe(0);
    expect(c3.recovered.length).toBeGreaterThanOrEqual(21);
    expectContiguous(await readAll(mgr4.getLog('empty', 2)!), 0, end2);
    expectContiguous(await readAll(mgr4.getLog('empty', 1)!), 0, end1b);
    expectContiguous(await readAll(mgr4.getLog('empty', 0)!), 0, end0);
    expect(mgr4.getLog('empty', 3)!.logEndOffset).toBe(0n);
  });

  it('an appended-to log whose start crashed before a checkpoint is rescanned, not taken as never written', async () => {
    const logDir = await tempDir();
    const mgr = await smallSegmentManager([logDir]);
    await mgr.getOrCreateLog('t', 0);
    await mgr.close();
    const mgr2 = await smallSegmentManager([logDir]);
    const end = await fill(mgr2.getLog('t', 0)!, 4);
    await mgr2.abort(); // checkpoints still say 0, but there is no clean-shutdown marker
    const c = recoveryCounter();
    const mgr3 = await smallSegmentManager([logDir], c.hooks);
    expect(c.recovered).toHaveLength(1);
    expectContiguous(await readAll(mgr3.getLog('t', 0)!), 0, end);
  });

  it('a never-written log whose segment file is gone or not empty takes the general path', async () => {
    const logDir = await tempDir();
    const mgr = await smallSegmentManager([logDir]);
    const dirA = (await mgr.getOrCreateLog('a', 0)).dir;
    const dirB = (await mgr.getOrCreateLog('b', 0)).dir;
    await mgr.close();
    // a: the segment file is gone; b: replaced by a log with data the checkpoints do not know of.
    await unlink(seg0(dirA, '.log'));
    const other = await tempDir();
    const m = await smallSegmentManager([other]);
    const src = await m.getOrCreateLog('b', 0);
    const endB = await fill(src, 30);
    await m.close();
    await rm(dirB, { recursive: true });
    await cp(src.dir, dirB, { recursive: true });

    const mgr2 = await smallSegmentManager([logDir]);
    const a2 = mgr2.getLog('a', 0)!;
    expect(a2.logEndOffset).toBe(0n);
    const endA = await fill(a2, 2);
    expectContiguous(await readAll(a2), 0, endA);
    const b2 = mgr2.getLog('b', 0)!;
    expect(b2.logEndOffset).toBe(BigInt(endB));
    expectContiguous(await readAll(b2), 0, endB);
    const endB2 = await fill(b2, 2);
    expectContiguous(await readAll(b2), 0, endB2);
  });

  it('a never-written log with its index files missing gets them back once it holds data', async () => {
    const logDir = await tempDir();
    const mgr = await smallSegmentManager([logDir]);
    const dir = (await mgr.getOrCreateLog('t', 0)).dir;
    await mgr.close();
    await unlink(seg0(dir, '.index'));
    await unlink(seg0(dir, '.timeindex'));
    const mgr2 = await smallSegmentManager([logDir]);
    expect(mgr2.getLog('t', 0)!.logEndOffset).toBe(0n);
    await mgr2.close();
    const mgr3 = await smallSegmentManager([logDir]);
    const end = await fill(mgr3.getLog('t', 0)!, 40);
    await mgr3.close();
    const names = await readdir(dir);
    expect(names).toContain(`${offsetFilePrefix(0)}.index`);
    expect(names).toContain(`${offsetFilePrefix(0)}.timeindex`);
    const c = recoveryCounter();
    const mgr4 = await smallSegmentManager([logDir], c.hooks);
    expect(c.recovered).toEqual([]);
    expectContiguous(await readAll(mgr4.getLog('t', 0)!), 0, end);
  });

  it('an active segment with data loads synchronously, and falls back to a rescan when its files disagree', async () => {
    const cases: Array<[string, (dir: string, base: string) => Promise<void>, boolean]> = [
      ['untouched', async () => {}, false],
      ['garbage offset index', (dir, base) => writeFile(join(dir, `${base}.index`), 'garbage'), true],
      ['offset index missing', (dir, base) => unlink(join(dir, `${base}.index`)), true],
      ['time index missing', (dir, base) => unlink(join(dir, `${base}.timeindex`)), true],
      [
        'a torn batch after the last one',
        async (dir, base) => {
          const { appendFile } = await import('node:fs/promises');
          await appendFile(join(dir, `${base}.log`), batch(3, 0).subarray(0, 40));
        },
        true,
      ],
    ];
    for (const [what, damage, rescans] of cases) {
      const logDir = await tempDir();
      const open = (hooks = {}) =>
        LogManager.open({
          logDirs: [logDir],
          time: new SimulatedTime(Date.now()),
          hooks,
          defaultConfig: { segmentBytes: 4000, indexIntervalBytes: 300 },
        });
      const mgr = await open();
      const log = await mgr.getOrCreateLog('t', 0);
      const end = await fill(log, 40);
      await mgr.close();
      const bases = (await readdir(log.dir)).filter((n) => n.endsWith('.log')).sort();
      expect(bases.length, what).toBeGreaterThan(1);
      await damage(log.dir, bases[bases.length - 1].slice(0, 20));
      const c = recoveryCounter();
      const mgr2 = await open(c.hooks);
      onCleanup(() => mgr2.abort());
      expect(c.recovered.length > 0, what).toBe(rescans);
      const log2 = mgr2.getLog('t', 0)!;
      expect(log2.logEndOffset, what).toBe(BigInt(end));
      expectContiguous(await readAll(log2), 0, end);
      const end2 = await fill(log2, 10);
      await mgr2.abort(); // a crash: the rescan agrees with what the load worked out
      const mgr3 = await open();
      onCleanup(() => mgr3.abort());
      expectContiguous(await readAll(mgr3.getLog('t', 0)!), 0, end2);
      await mgr3.close();
    }
  });

  it('a clean-shutdown listing removes leftovers of interrupted writes', async () => {
    const logDir = await tempDir();
    const mgr = await smallSegmentManager([logDir]);
    const log = await mgr.getOrCreateLog('t', 0);
    const end = await fill(log, 10);
    await mgr.close();
    await writeFile(join(log.dir, `${offsetFilePrefix(0)}.index.tmp`), 'x');
    await writeFile(join(log.dir, `${offsetFilePrefix(99999)}.log.deleted`), 'x');
    await writeFile(join(log.dir, `${offsetFilePrefix(77777)}.timeindex`), 'orphan');
    const mgr2 = await smallSegmentManager([logDir]);
    const names = await readdir(log.dir);
    expect(names.filter((n) => n.endsWith('.tmp') || n.endsWith('.deleted'))).toEqual([]);
    expect(names).not.toContain(`${offsetFilePrefix(77777)}.timeindex`);
    expectContiguous(await readAll(mgr2.getLog('t', 0)!), 0, end);
  });

  it('updateTopicConfig reaches exactly the logs of the topic, also after delete and re-create', async () => {
    const logDir = await tempDir();
    const mgr = await smallSegmentManager([logDir]);
    for (let p = 0; p < 3; p++) await mgr.getOrCreateLog('x', p);
    await mgr.getOrCreateLog('y', 0);
    mgr.updateTopicConfig('x', { retentionMs: 1234 });
    for (let p = 0; p < 3; p++) expect(mgr.getLog('x', p)!.config.retentionMs).toBe(1234);
    expect(mgr.getLog('y', 0)!.config.retentionMs).not.toBe(1234);
    await mgr.deleteLog('x', 1);
    const again = await mgr.getOrCreateLog('x', 1);
    mgr.updateTopicConfig('x', { retentionMs: 99 });
    expect(again.config.retentionMs).toBe(99);
    expect(mgr.getLog('x', 0)!.config.retentionMs).toBe(99);
    expect(mgr.getLog('y', 0)!.config.retentionMs).not.toBe(99);
  });
});

describe('checkpoint parsing', () => {
  it('accepts and refuses the same lines as the line pattern', () => {
    const ok = '0\n5\na 0 5\nmy.topic-x 12 -1\n  b 1 7  \nc 2 12345678901234567890\nd 007 0007\r\n';
    expect(parseOffsetCheckpoint(ok)).toEqual([
      { topic: 'a', partition: 0, offset: 5n },
      { topic: 'my.topic-x', partition: 12, offset: -1n },
      { topic: 'b', partition: 1, offset: 7n },
      { topic: 'c', partition: 2, offset: 12345678901234567890n },
      { topic: 'd', partition: 7, offset: 7n },
    ]);
    for (const bad of [
      'a  0 5',
      'a 0 5 6',
      'a -1 5',
      'a 0 -',
      'a 0 5x',
      ' 0 5',
      'a 0',
      'a 0 --5',
      't\t0 3',
    ]) {
      expect(() => parseOffsetCheckpoint(`0\n1\n${bad}\n`), bad).toThrow(/malformed/);
    }
  });
});

describe('metadata log start', () => {
  it('replays the entries decoded at open, or the file when an append came first', async () => {
    const dir = await tempDir();
    const path = join(dir, 'samsa-metadata.log');
    const log = await FileMetadataLog.open(path);
    await log.append([topicRecord('a', 'AAECAwQFBgcICQoLDA0ODw')]);
    await log.close();

    const again = await FileMetadataLog.open(path);
    const first: unknown[] = [];
    await again.replayAll((r) => first.push(r));
    expect(first).toHaveLength(1);
    const second: unknown[] = [];
    await again.replayAll((r) => second.push(r));
    expect(second).toEqual(first);
    await again.close();

    const third = await FileMetadataLog.open(path);
    await third.append([topicRecord('b', 'AQECAwQFBgcICQoLDA0ODw')]);
    const all: unknown[] = [];
    await third.replayAll((r) => all.push(r));
    expect(all).toHaveLength(2);
    await third.close();
  });
});
