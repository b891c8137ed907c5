// Recovery: reopening after a simulated kill, torn and corrupt tails, missing and garbage indexes,
// clean shutdown skipping the scan, and the checkpoint files.

import { open, readdir, readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRC_OFFSET } from '../../src/protocol/records/index.js';
import {
  CLEAN_SHUTDOWN_FILE,
  formatOffsetCheckpoint,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  offsetFilePrefix,
  parseOffsetCheckpoint,
  RECOVERY_POINT_CHECKPOINT_FILE,
} from '../../src/storage/index.js';
import {
  batch,
  expectContiguous,
  fill,
  openLog,
  readAll,
  recoveryCounter,
  smallSegmentManager,
  tempDir,
} from './helpers.js';

function segPath(dir: string, base: bigint, suffix = '.log'): string {
  return join(dir, offsetFilePrefix(Number(base)) + suffix);
}

/** Positions of the batches in a segment file. */
async function batchPositions(path: string): Promise<number[]> {
  const data = await readFile(path);
  const out: number[] = [];
  for (let p = 0; p < data.length; p += 12 + data.readInt32BE(p + 8)) out.push(p);
  return out;
}

describe('recovery after a kill', () => {
  it('reopening a log that was never closed keeps every durable batch and continues', async () => {
    const dir = await tempDir();
    const cfg = { segmentBytes: 2000, indexIntervalBytes: 200 };
    const log = await openLog(dir, cfg);
    const end = await fill(log, 40);
    // The first instance is still open (a kill leaves no chance to close): reopen beside it.
    const { recovered, hooks } = recoveryCounter();
    const again = await openLog(dir, cfg, { hooks });
    expect(recovered.length).toBe(again.numberOfSegments); // no checkpoint: everything rescanned
    expect(again.logEndOffset).toBe(BigInt(end));
    expectContiguous(await readAll(again), 0, end);
    const next = await fill(again, 5);
    expectContiguous(await readAll(again), 0, next);
  });

  it('a torn tail (the .log cut mid-batch) is truncated at the torn batch', async () => {
    const dir = await tempDir();
    const cfg = { segmentBytes: 3000, indexIntervalBytes: 100 };
    const log = await openLog(dir, cfg);
    const end = await fill(log, 30);
    await log.abort();
    const last = log.segmentBaseOffsets().pop()!;
    const path = segPath(dir, last);
    const positions = await batchPositions(path);
    const lastBatchPos = positions[positions.length - 1];
    await truncate(path, lastBatchPos + 20);

    const { recovered, hooks } = recoveryCounter();
    const again = await openLog(dir, cfg, { hooks });
    expect(recovered.length).toBeGreaterThan(0);
    expect(again.logEndOffset).toBe(BigInt(end - 3));
    expect((await stat(path)).size).toBe(lastBatchPos);
    expectContiguous(await readAll(again), 0, end - 3);
    // Appends continue at the right offset, and the rebuilt indexes serve reads.
    const next = await fill(again, 4);
    expect(next).toBe(end - 3 + 12);
    expectContiguous(await readAll(again), 0, next);
    await again.close();
    const third = await openLog(dir, cfg);
    expectContiguous(await readAll(third), 0, next);
  });

  it('a corrupted byte in the last batch fails its CRC: truncated there', async () => {
    const dir = await tempDir();
    const log = await openLog(dir);
    const end = await fill(log, 10);
    await log.abort();
    const path = segPath(dir, 0n);
    const positions = await batchPositions(path);
    const lastPos = positions[positions.length - 1];
    const fh = await open(path, 'r+');
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, lastPos + 70);
    b[0] ^= 0xff;
    await fh.write(b, 0, 1, lastPos + 70);
    await fh.close();

    const again = await openLog(dir);
    expect(again.logEndOffset).toBe(BigInt(end - 3));
    expect((await stat(path)).size).toBe(lastPos);
    expectContiguous(await readAll(again), 0, end - 3);
    const info = again.append(batch(2, end - 3));
    expect(info.baseOffset).toBe(BigInt(end - 3));
  });

  it('a bad batch in an older segment truncates there and deletes every later segment', async () => {
    const dir = await tempDir();
    const cfg = { segmentBytes: 1500 };
    const log = await openLog(dir, cfg);
    await fill(log, 30);
    await log.abort();
    const bases = log.segmentBaseOffsets();
    expect(bases.length).toBeGreaterThan(3);
    const victim = bases[1];
    const path = segPath(dir, victim);
    const positions = await batchPositions(path);
    const fh = await open(path, 'r+');
    await fh.write(Buffer.from([0, 0, 0, 0]), 0, 4, positions[1] + CRC_OFFSET);
    await fh.close();

    const again = await openLog(dir, cfg);
    expect(again.segmentBaseOffsets()).toEqual([0n, victim]);
    const kept = Number(victim) + 3; // the first batch of the victim survives
    expect(again.logEndOffset).toBe(BigInt(kept));
    expectContiguous(await readAll(again), 0, kept);
    const files = await readdir(dir);
    for (const b of bases.slice(2)) expect(files).not.toContain(`${offsetFilePrefix(Number(b))}.log`);
  });

  it('segments below the recovery point are trusted; a missing or garbage index is rebuilt on use', async () => {
    const dir = await tempDir();
    const cfg = { segmentBytes: 1500, indexIntervalBytes: 100 };
    const log = await openLog(dir, cfg);
    const end = await fill(log, 30);
    await log.close();
    const bases = log.segmentBaseOffsets();
    await unlink(segPath(dir, bases[0], '.index'));
    // Garbage: right size, nonsense entries.
    await writeFile(segPath(dir, bases[1], '.index'), Buffer.alloc(64, 0x7f));
    // Longer than its log: a valid index, plus entries pointing past the end of the .log.
    const idx2 = segPath(dir, bases[2], '.index');
    const size2 = (await stat(segPath(dir, bases[2]))).size;
    const extra = Buffer.alloc(8);
    extra.writeInt32BE(1000, 0);
    extra.writeInt32BE(size2 + 100, 4);
    await writeFile(idx2, Buffer.concat([await readFile(idx2), extra]));

    const { recovered, hooks } = recoveryCounter();
    const again = await openLog(dir, cfg, { hooks, recoveryPoint: BigInt(end) });
    // Only the segment holding the recovery point was rescanned at open.
    expect(recovered).toEqual([segPath(dir, bases[bases.length - 1])]);
    expectContiguous(await readAll(again), 0, end);
    expect(recovered).toContain(segPath(dir, bases[0]));
    expect(recovered).toContain(segPath(dir, bases[1]));
    expect(recovered).toContain(segPath(dir, bases[2]));
    expect(recovered.length).toBe(4);
    // The rebuilt indexes are written at close, and pass the checks on the next open.
    await again.close();
    const { recovered: r2, hooks: h2 } = recoveryCounter();
    const third = await openLog(dir, cfg, { hooks: h2, recoveryPoint: BigInt(end) });
    expectContiguous(await readAll(third), 0, end);
    expect(r2).toEqual([segPath(dir, bases[bases.length - 1])]);
  });
});

describe('recovery of a large log', () => {
  it('reads and checks in chunks, letting the event loop run meanwhile', async () => {
    const dir = await tempDir();
    const log = await openLog(dir);
    let next = 0;
    for (let i = 0; i < 600; i++) {
      log.append(batch(8, next, { valueBytes: 4000 }));
      next += 8;
    }
    await log.waitDurable(BigInt(next - 1));
    await log.abort();
    expect((await stat(segPath(dir, 0n))).size).toBeGreaterThan(16 * 1024 * 1024);
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const again = await openLog(dir);
    running = false;
    expect(again.logEndOffset).toBe(BigInt(next));
    // 1 MiB per chunk: the loop turned over at least once per few chunks.
    expect(ticks).toBeGreaterThan(8);
  });
});

describe('LogManager start and clean shutdown', () => {
  it('a clean shutdown reopens without rescanning; a crash rescans', async () => {
    const logDir = await tempDir();
    const mgr = await smallSegmentManager([logDir]);
    const a = await mgr.getOrCreateLog('orders', 0);
    const b = await mgr.getOrCreateLog('orders', 1);
    const endA = await fill(a, 30);
    const endB = await fill(b, 5);
    await mgr.close();
    expect(await readdir(logDir)).toContain(CLEAN_SHUTDOWN_FILE);

    const c1 = recoveryCounter();
    const mgr2 = await smallSegmentManager([logDir], c1.hooks);
    expect(c1.recovered).toEqual([]);
    expect(mgr2.cleanShutdownDirs.has(logDir)).toBe(true);
    // The marker is consumed at start: a crash from now on is seen as one.
    expect(await readdir(logDir)).not.toContain(CLEAN_SHUTDOWN_FILE);
    const a2 = mgr2.getLog('orders', 0)!;
    expectContiguous(await readAll(a2), 0, endA);
    expectContiguous(await readAll(mgr2.getLog('orders', 1)!), 0, endB);
    const endA2 = await fill(a2, 3);
    await mgr2.abort(); // a crash

    const c2 = recoveryCounter();
    const mgr3 = await smallSegmentManager([logDir], c2.hooks);
    expect(c2.recovered.length).toBeGreaterThan(0);
    expect(mgr3.cleanShutdownDirs.size).toBe(0);
    expectContiguous(await readAll(mgr3.getLog('orders', 0)!), 0, endA2);
  });

  it('with checkpoints, a crash rescans only from the recovery point', async () => {
    const logDir = await tempDir();
    const mgr = await smallSegmentManager([logDir]);
    const log = await mgr.getOrCreateLog('t', 0);
    const end = await fill(log, 40);
    await mgr.checkpoint();
    await mgr.abort();
    const c = recoveryCounter();
    const mgr2 = await smallSegmentManager([logDir], c.hooks);
    expect(c.recovered).toHaveLength(1);
    expectContiguous(await readAll(mgr2.getLog('t', 0)!), 0, end);
  });

  it('writes the checkpoints in Kafka format', async () => {
    const logDir = await tempDir();
    const mgr = await smallSegmentManager([logDir]);
    const a = await mgr.getOrCreateLog('my.topic-x', 3);
    const b = await mgr.getOrCreateLog('other', 0);
    const endA = await fill(a, 30);
    await fill(b, 1);
    await a.deleteRecordsBefore(20n);
    await mgr.close();
    const rp = await readFile(join(logDir, RECOVERY_POINT_CHECKPOINT_FILE), 'utf8');
    const lines = rp.split('\n');
    expect(lines[0]).toBe('0');
    expect(lines[1]).toBe('2');
    expect(lines.slice(2, 4).sort()).toEqual([`my.topic-x 3 ${endA}`, 'other 0 3']);
    expect(rp.endsWith('\n')).toBe(true);
    const lso = await readFile(join(logDir, LOG_START_OFFSET_CHECKPOINT_FILE), 'utf8');
    expect(parseOffsetCheckpoint(lso)).toContainEqual({ topic: 'my.topic-x', partition: 3, offset: 20n });
    const mgr2 = await smallSegmentManager([logDir]);
    expect(mgr2.getLog('my.topic-x', 3)!.logStartOffset).toBe(20n);
  });

  it('a malformed checkpoint falls back to a full rescan', async () => {
    const logDir = await tempDir();
    const mgr = await smallSegmentManager([logDir]);
    const end = await fill(await mgr.getOrCreateLog('t', 0), 40);
    await mgr.checkpoint();
    await mgr.abort();
    await writeFile(join(logDir, RECOVERY_POINT_CHECKPOINT_FILE), '0\n5\nt 0 zz\n');
    const c = recoveryCounter();
    const mgr2 = await smallSegmentManager([logDir], c.hooks);
    expect(c.recovered.length).toBe(mgr2.getLog('t', 0)!.numberOfSegments);
    expectContiguous(await readAll(mgr2.getLog('t', 0)!), 0, end);
  });

  it('checkpoint text round-trips and rejects malformed input', () => {
    const entries = [
      { topic: 'a', partition: 0, offset: 5n },
      { topic: 'b.c_d-e', partition: 12, offset: 9007199254740993n },
    ];
    const text = formatOffsetCheckpoint(entries);
    expect(text).toBe('0\n2\na 0 5\nb.c_d-e 12 9007199254740993\n');
    expect(parseOffsetCheckpoint(text)).toEqual(entries);
    expect(formatOffsetCheckpoint([])).toBe('0\n0\n');
    expect(() => parseOffsetCheckpoint('1\n0\n')).toThrow(/version/);
    expect(() => parseOffsetCheckpoint('0\n2\na 0 5\n')).toThrow(/entries/);
    expect(() => parseOffsetCheckpoint('0\n1\na x 5\n')).toThrow(/malformed/);
  });
});
