// The producer state of a partition (src/storage/producer-state.ts) through the partition log:
// duplicates of the last five batches, sequence gaps, epochs, wraparound, batches without a
// producer, record sets of several batches, the snapshot format, snapshots at roll and close,
// the rebuild from the log after a crash, truncation, retention and expiration.

import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeEndTxnMarkerBatch, encodeRecordBatch } from '../../src/protocol/records/index.js';
import {
  InvalidProducerEpochError,
  InvalidTxnStateError,
  OutOfOrderSequenceError,
} from '../../src/storage/errors.js';
import type { PartitionLog } from '../../src/storage/index.js';
import {
  CorruptSnapshotError,
  decodeSnapshot,
  encodeSnapshot,
  incrementSequence,
  ProducerStateEntry,
  snapshotFileName,
} from '../../src/storage/producer-state.js';
import { clockOf } from '../../src/util/clock.js';
import { openLog, readAll, T0, tempDir } from './helpers.js';

const PID = 4000n;
const INT32_MAX = 0x7fffffff;

interface IdemOptions {
  pid?: bigint;
  epoch?: number;
  timestamp?: number;
  isTransactional?: boolean;
}

/** An idempotent batch of `count` records with sequences from `seq`; values name the sequence. */
function idem(seq: number, count = 1, o: IdemOptions = {}): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({
    key: null,
    value: Buffer.from(`s${incrementSequence(seq, i)}`),
    timestamp: o.timestamp ?? T0 + i,
  }));
  return encodeRecordBatch(records, {
    producerId: o.pid ?? PID,
    producerEpoch: o.epoch ?? 0,
    baseSequence: seq,
    isTransactional: o.isTransactional,
  });
}

/** A batch without producer id (a producer with idempotence off). */
function plain(value: string): Buffer {
  return encodeRecordBatch([{ key: null, value: Buffer.from(value), timestamp: T0 }]);
}

async function durable(log: PartitionLog): Promise<void> {
  if (log.logEndOffset > 0n) await log.waitDurable(log.logEndOffset - 1n);
}

async function values(log: PartitionLog): Promise<string[]> {
  await durable(log);
  return (await readAll(log)).map((r) => r.value);
}

async function snapshotsIn(dir: string): Promise<number[]> {
  return (await readdir(dir))
    .filter((n) => n.endsWith('.snapshot'))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b);
}

describe('producer state: appends', () => {
  it('answers a retried batch with its original offsets and does not append it again', async () => {
    const log = await openLog(await tempDir());
    const first = log.append(idem(0, 3));
    expect(first).toMatchObject({ baseOffset: 0n, lastOffset: 2n, duplicate: false });
    log.append(idem(3, 2));
    const retry = log.append(idem(0, 3));
    expect(retry).toMatchObject({ baseOffset: 0n, lastOffset: 2n, duplicate: true, batches: 0 });
    // Kafka answers a duplicate with the batch's timestamp as its log append time.
    expect(retry.logAppendTimeMs).toBe(BigInt(T0 + 2));
    expect(log.append(idem(3, 2))).toMatchObject({ baseOffset: 3n, lastOffset: 4n, duplicate: true });
    expect(log.logEndOffset).toBe(5n);
    expect(await values(log)).toEqual(['s0', 's1', 's2', 's3', 's4']);
    // A duplicate waits for the original to be durable (here it already is).
    await log.waitDurable(retry.lastOffset);
  });

  it('retains the last five batches: an older retry is out of order', async () => {
    const log = await openLog(await tempDir());
    for (let s = 0; s < 6; s++) log.append(idem(s));
    for (let s = 1; s < 6; s++) {
      expect(log.append(idem(s))).toMatchObject({ baseOffset: BigInt(s), duplicate: true });
    }
    expect(() => log.append(idem(0))).toThrow(OutOfOrderSequenceError);
    // The same sequence range only counts as a duplicate with the same epoch and both ends equal.
    expect(() => log.append(idem(4, 2))).toThrow(OutOfOrderSequenceError);
    expect(log.logEndOffset).toBe(6n);
    expect(log.producerState.entry(PID)?.batches.map((b) => b.lastSeq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses a sequence gap and leaves the state as it was', async () => {
    const log = await openLog(await tempDir());
    log.append(idem(0, 2));
    expect(() => log.append(idem(3))).toThrow(OutOfOrderSequenceError);
    expect(() => log.append(idem(1))).toThrow(OutOfOrderSequenceError);
    expect(log.logEndOffset).toBe(2n);
    expect(log.append(idem(2))).toMatchObject({ baseOffset: 2n, duplicate: false });
  });

  it('fences older epochs; a new epoch starts at sequence 0', async () => {
    const log = await openLog(await tempDir());
    log.append(idem(0, 2, { epoch: 3 }));
    expect(() => log.append(idem(2, 1, { epoch: 2 }))).toThrow(InvalidProducerEpochError);
    expect(() => log.append(idem(0, 1, { epoch: 2 }))).toThrow(InvalidProducerEpochError);
    expect(() => log.append(idem(2, 1, { epoch: 4 }))).toThrow(OutOfOrderSequenceError);
    expect(log.append(idem(0, 1, { epoch: 4 }))).toMatchObject({ baseOffset: 2n, duplicate: false });
    // The new epoch forgot the old one's batches: a retry of them is fenced, not a duplicate.
    expect(() => log.append(idem(0, 2, { epoch: 3 }))).toThrow(InvalidProducerEpochError);
    expect(log.producerState.entry(PID)).toMatchObject({ producerEpoch: 4, lastSeq: 0 });
  });

  it('accepts a producer it does not know at any sequence (KIP-360), then checks from there', async () => {
    const log = await openLog(await tempDir());
    expect(log.append(idem(1234, 2))).toMatchObject({ baseOffset: 0n });
    expect(() => log.append(idem(1237))).toThrow(OutOfOrderSequenceError);
    log.append(idem(1236));
    expect(log.producerState.entry(PID)?.lastSeq).toBe(1236);
  });

  it('wraps sequences from Int32.MAX to 0', async () => {
    const log = await openLog(await tempDir());
    log.append(idem(INT32_MAX - 2, 2)); // MAX-2, MAX-1
    log.append(idem(INT32_MAX - 0, 3)); // MAX, 0, 1
    expect(log.producerState.entry(PID)?.lastSeq).toBe(1);
    expect(log.append(idem(INT32_MAX, 3))).toMatchObject({ baseOffset: 2n, duplicate: true });
    expect(() => log.append(idem(3))).toThrow(OutOfOrderSequenceError);
    log.append(idem(2));
    // A batch ending exactly at Int32.MAX is followed by sequence 0.
    const other = { pid: PID + 1n };
    log.append(idem(INT32_MAX - 1, 2, other));
    expect(() => log.append(idem(1, 1, other))).toThrow(OutOfOrderSequenceError);
    expect(log.append(idem(0, 1, other)).duplicate).toBe(false);
  });

  it('keeps no state for batches without a producer id: a repeated one is appended again', async () => {
    const log = await openLog(await tempDir());
    log.append(plain('a'));
    log.append(plain('a'));
    expect(log.producerState.size).toBe(0);
    expect(await values(log)).toEqual(['a', 'a']);
  });

  it('validates every batch of a record set in order; one refused batch refuses the set', async () => {
    const log = await openLog(await tempDir());
    const set = Buffer.concat([idem(0, 2), idem(2, 2), plain('x'), idem(0, 1, { pid: 9n })]);
    expect(log.append(set)).toMatchObject({ baseOffset: 0n, lastOffset: 5n, batches: 4 });
    expect(log.producerState.entry(PID)?.batches.map((b) => [b.lastSeq, b.lastOffset])).toEqual([
      [1, 1],
      [3, 3],
    ]);
    expect(log.producerState.entry(9n)?.lastDataOffset).toBe(5);
    expect(() => log.append(Buffer.concat([idem(4), idem(6)]))).toThrow(OutOfOrderSequenceError);
    expect(log.logEndOffset).toBe(6n);
    expect(log.producerState.entry(PID)?.lastSeq).toBe(3);
    log.append(idem(4));
    expect(log.producerState.entry(PID)?.lastSeq).toBe(4);
  });

  it('answers a duplicate with the original LogAppendTime', async () => {
    const log = await openLog(await tempDir(), { messageTimestampType: 'LogAppendTime' });
    const a = log.append(idem(0), { nowMs: T0 + 500 });
    expect(a.logAppendTimeMs).toBe(BigInt(T0 + 500));
    const b = log.append(idem(0), { nowMs: T0 + 900 });
    expect(b).toMatchObject({ duplicate: true, baseOffset: 0n, logAppendTimeMs: BigInt(T0 + 500) });
  });

  it('tracks transactions: a plain batch inside one is refused, a marker closes it', async () => {
    const log = await openLog(await tempDir());
    log.append(idem(0, 1, { isTransactional: true }));
    expect(log.producerState.entry(PID)?.currentTxnFirstOffset).toBe(0);
    expect(() => log.append(idem(1))).toThrow(InvalidTxnStateError);
    log.append(
      encodeEndTxnMarkerBatch({
        commit: true,
        producerId: PID,
        producerEpoch: 0,
        coordinatorEpoch: 7,
        timestamp: T0,
      }),
      { origin: 'coordinator' },
    );
    expect(log.producerState.entry(PID)).toMatchObject({ currentTxnFirstOffset: -1, coordinatorEpoch: 7 });
    expect(log.append(idem(1)).duplicate).toBe(false);
  });
});

describe('producer state: snapshots', () => {
  it("round-trips Kafka's snapshot format and checks its CRC", () => {
    const a = new ProducerStateEntry(17, 3, 5, T0 + 9, -1, [
      { lastSeq: 40, lastOffset: 100, offsetDelta: 4, timestamp: T0 + 8 },
      { lastSeq: 44, lastOffset: 120, offsetDelta: 3, timestamp: T0 + 9 },
    ]);
    const b = new ProducerStateEntry(2n ** 60n, 0, -1, T0, 77, []);
    const bytes = encodeSnapshot([a, b]);
    expect(bytes.length).toBe(10 + 2 * 46);
    expect(bytes.readInt16BE(0)).toBe(1);
    expect(bytes.readInt32BE(6)).toBe(2);
    const [ra, rb] = decodeSnapshot(bytes);
    // Only the last batch of each producer is stored, as Kafka.
    expect(ra).toMatchObject({
      producerId: 17,
      producerEpoch: 3,
      coordinatorEpoch: 5,
      lastTimestamp: T0 + 9,
    });
    expect(ra.batches).toEqual([{ lastSeq: 44, lastOffset: 120, offsetDelta: 3, timestamp: T0 + 9 }]);
    expect(rb).toMatchObject({ producerId: 2n ** 60n, lastSeq: -1, currentTxnFirstOffset: 77, batches: [] });
    for (const at of [1, 5, 6, 20, bytes.length - 1]) {
      const bad = Buffer.from(bytes);
      bad[at] ^= 0x40;
      expect(() => decodeSnapshot(bad), `byte ${at}`).toThrow(CorruptSnapshotError);
    }
    expect(() => decodeSnapshot(bytes.subarray(0, bytes.length - 1))).toThrow(CorruptSnapshotError);
    expect(decodeSnapshot(encodeSnapshot([]))).toEqual([]);
  });

  it('writes a snapshot at each roll and at close; a reopened log knows the last batch of each producer', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentBytes: 1024 });
    for (let s = 0; s < 40; s++) log.append(idem(s, 1, { timestamp: T0 }));
    const bases = log.segmentBaseOffsets().map(Number);
    expect(bases.length).toBeGreaterThan(2);
    await log.close();
    // One at every segment but the first (the roll), one at the log end (the close).
    expect(await snapshotsIn(dir)).toEqual([...bases.slice(1), 40]);
    const snap = decodeSnapshot(await readFile(join(dir, snapshotFileName(bases[1]))));
    expect(snap[0]).toMatchObject({ producerId: Number(PID), lastSeq: bases[1] - 1 });

    // (At a time when the producer has not expired: loading a snapshot drops expired producers.)
    const now = clockOf(() => T0 + 60_000);
    const again = await openLog(dir, { segmentBytes: 1024 }, { hadCleanShutdown: true, time: now });
    expect(again.append(idem(39, 1, { timestamp: T0 }))).toMatchObject({ duplicate: true, baseOffset: 39n });
    // Only the last batch survives in a snapshot (Kafka's format): an older retry is out of order.
    expect(() => again.append(idem(38, 1, { timestamp: T0 }))).toThrow(OutOfOrderSequenceError);
    expect(again.append(idem(40)).baseOffset).toBe(40n);
  });

  it('rebuilds the state from the log after a crash that left no snapshot', async () => {
    const dir = await tempDir();
    const log = await openLog(dir);
    for (let s = 0; s < 8; s++) log.append(idem(2 * s, 2));
    log.append(plain('x'));
    log.append(idem(0, 1, { pid: 77n, epoch: 5 }));
    await durable(log);
    await log.abort();
    expect(await snapshotsIn(dir)).toEqual([]);

    const again = await openLog(dir);
    // All five retained batches are rebuilt from the batch headers.
    for (let s = 3; s < 8; s++) {
      expect(again.append(idem(2 * s, 2))).toMatchObject({ duplicate: true, baseOffset: BigInt(2 * s) });
    }
    expect(() => again.append(idem(4, 2))).toThrow(OutOfOrderSequenceError);
    expect(again.producerState.entry(77n)).toMatchObject({ producerEpoch: 5, lastSeq: 0 });
    expect(() => again.append(idem(1, 1, { pid: 77n, epoch: 4 }))).toThrow(InvalidProducerEpochError);
    // The rebuilt state was snapshotted at the log end, so a second crash need not replay again.
    expect(await snapshotsIn(dir)).toEqual([18]);
  });

  it('replays from the latest snapshot, skipping a corrupt one', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentBytes: 1024 });
    let s = 0;
    while (log.numberOfSegments < 4) log.append(idem(s++, 1, { timestamp: T0 }));
    for (let i = 0; i < 3; i++) log.append(idem(s++, 1, { timestamp: T0 }));
    // The rolls' snapshots are written by the I/O queue ahead of the later batches.
    await durable(log);
    const bases = log.segmentBaseOffsets().map(Number);
    await log.abort();
    expect(await snapshotsIn(dir)).toEqual(bases.slice(1));
    const latest = join(dir, snapshotFileName(bases[3]));
    const bytes = await readFile(latest);
    bytes[bytes.length - 3] ^= 1;
    await writeFile(latest, bytes);

    const again = await openLog(dir, { segmentBytes: 1024 }, { time: clockOf(() => T0 + 60_000) });
    // The corrupt snapshot was deleted; the one before it plus a replay rebuilt the state.
    expect(await snapshotsIn(dir)).toEqual([...bases.slice(1, 3), s]);
    for (let k = s - 5; k < s; k++) expect(again.append(idem(k, 1, { timestamp: T0 })).duplicate).toBe(true);
    expect(again.append(idem(s)).baseOffset).toBe(BigInt(s));
  });

  it('truncation drops the snapshots above the new end and rolls the state back', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentBytes: 1024 });
    let s = 0;
    while (log.numberOfSegments < 3) log.append(idem(s++, 1, { timestamp: T0 }));
    const bases = log.segmentBaseOffsets().map(Number);
    log.append(idem(s++, 1, { timestamp: T0 }));
    await durable(log);
    expect(await snapshotsIn(dir)).toEqual(bases.slice(1));
    const cut = bases[1] + 2;
    await log.truncateTo(BigInt(cut));
    expect(log.logEndOffset).toBe(BigInt(cut));
    expect(await snapshotsIn(dir)).toEqual([bases[1]]);
    // The producer's last sequence is the one at offset cut - 1 again.
    expect(log.producerState.entry(PID)?.lastSeq).toBe(cut - 1);
    expect(log.append(idem(cut - 1, 1, { timestamp: T0 })).duplicate).toBe(true);
    expect(log.append(idem(cut)).baseOffset).toBe(BigInt(cut));

    await log.truncateFullyAndStartAt(100n);
    expect(await snapshotsIn(dir)).toEqual([]);
    expect(log.producerState.size).toBe(0);
  });

  it('retention deletes a segment with its snapshot but keeps the producers (KIP-360)', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentBytes: 1024, retentionMs: 1000 });
    let s = 0;
    while (log.numberOfSegments < 3) log.append(idem(s++, 1, { timestamp: T0 }));
    const other = { pid: 55n, timestamp: T0 + 10_000 };
    log.append(idem(0, 1, other));
    await durable(log);
    const before = await snapshotsIn(dir);
    // Every segment but the active one holds only the old producer's records.
    const deleted = await log.deleteRetainedSegments(T0 + 5000);
    expect(deleted).toBe(2);
    const after = await snapshotsIn(dir);
    expect(after).toEqual(before.filter((o) => o >= Number(log.logStartOffset)));
    expect(log.producerState.entry(PID)?.lastSeq).toBe(s - 1);
    expect(() => log.append(idem(s + 1, 1, { timestamp: T0 }))).toThrow(OutOfOrderSequenceError);
  });

  it('expires idle producers after producer.id.expiration.ms, also when loading a snapshot', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, {}, { producerIdExpirationMs: 60_000 });
    log.append(idem(0, 1, { pid: 1n, timestamp: T0 }));
    log.append(idem(0, 1, { pid: 2n, timestamp: T0 + 50_000 }));
    expect(log.producerState.removeExpiredProducers(T0 + 59_999)).toBe(0);
    expect(log.producerState.removeExpiredProducers(T0 + 60_000)).toBe(1);
    expect(log.producerState.entry(1n)).toBeUndefined();
    // An expired producer is unknown again: any sequence is accepted.
    expect(log.append(idem(9, 1, { pid: 1n, timestamp: T0 + 60_000 })).duplicate).toBe(false);
    await log.close();
    const again = await openLog(
      dir,
      {},
      { producerIdExpirationMs: 60_000, hadCleanShutdown: true, time: clockOf(() => T0 + 115_000) },
    );
    expect(again.producerState.entry(2n)).toBeUndefined();
    expect(again.producerState.entry(1n)?.lastSeq).toBe(9);
  });

  it('rebuilds transaction state from markers in the log', async () => {
    const dir = await tempDir();
    const log = await openLog(dir);
    log.append(idem(0, 1, { isTransactional: true }));
    log.append(
      encodeEndTxnMarkerBatch({
        commit: false,
        producerId: PID,
        producerEpoch: 1,
        coordinatorEpoch: 3,
        timestamp: T0,
      }),
      { origin: 'coordinator' },
    );
    log.append(idem(0, 1, { pid: 8n, isTransactional: true }));
    await durable(log);
    await log.abort();
    const again = await openLog(dir);
    expect(again.producerState.entry(PID)).toMatchObject({
      producerEpoch: 1,
      coordinatorEpoch: 3,
      currentTxnFirstOffset: -1,
      batches: [],
    });
    expect(again.producerState.entry(8n)).toMatchObject({ currentTxnFirstOffset: 2 });
  });
});
