// The log side of transactions: markers (appendTxnMarker and its fencing), the last stable offset
// with open, committed, aborted and interleaved transactions, the `.txnindex` files and
// collectAbortedTransactions, read_committed reads, recovery after a clean shutdown and after a
// crash, retention and truncation of the index, and the cleaner's transactional rules.

import { readdir, readFile, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeEndTxnMarkerBatch, encodeRecordBatch } from '../../src/protocol/records/index.js';
import {
  InvalidProducerEpochError,
  InvalidRecordError,
  InvalidTxnStateError,
  TransactionCoordinatorFencedError,
} from '../../src/storage/errors.js';
import type { PartitionLog } from '../../src/storage/index.js';
import { TransactionIndex, TXN_INDEX_ENTRY_BYTES } from '../../src/storage/transaction-index.js';
import {
  compactedLog,
  kvBatch,
  readBatches,
  readRecs,
  roll,
  snapshotDir as snapshotDirSync,
} from './cleaner-helpers.js';
import { decodeAll, openLog, T0, tempDir } from './helpers.js';

const A = 1000n;
const B = 2000n;

/** Per producer, the next sequence (each test starts its producers at 0). */
const sequences = new Map<bigint, number>();
beforeEach(() => sequences.clear());

/** A transactional batch of `count` records of producer `pid`, values naming `tag`. */
function txn(pid: bigint, count: number, tag: string, epoch = 0): Buffer {
  const seq = sequences.get(pid) ?? 0;
  sequences.set(pid, seq + count);
  const records = Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`${tag}-k${i}`),
    value: Buffer.from(`${tag}-${i}`),
    timestamp: T0,
  }));
  return encodeRecordBatch(records, {
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    isTransactional: true,
  });
}

function plain(value: string): Buffer {
  return encodeRecordBatch([{ key: Buffer.from(value), value: Buffer.from(value), timestamp: T0 }]);
}

function marker(pid: bigint, commit: boolean, o: { epoch?: number; coordinatorEpoch?: number } = {}) {
  return { producerId: pid, producerEpoch: o.epoch ?? 0, coordinatorEpoch: o.coordinatorEpoch ?? 1, commit };
}

async function durable(log: PartitionLog): Promise<void> {
  if (log.logEndOffset > 0n) await log.waitDurable(log.logEndOffset - 1n);
}

/** Values a read_committed read returns (whole batches below the LSO). */
async function committedValues(log: PartitionLog): Promise<string[]> {
  const r = await log.read(log.logStartOffset, 1 << 20, { isolation: 'read_committed' });
  return r.records.flatMap((b) => decodeAll(b).map((x) => x.value));
}

/** Base offset of the segment holding `offset`. */
function segmentOf(log: PartitionLog, offset: bigint): bigint {
  return log
    .segmentBaseOffsets()
    .filter((b) => b <= offset)
    .at(-1)!;
}

function fileName(base: bigint): string {
  return `${String(base).padStart(20, '0')}.txnindex`;
}

async function txnIndexFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.txnindex')).sort();
}

describe('transactions: markers and the last stable offset', () => {
  it('holds the LSO at an open transaction; a commit or an abort releases it once durable', async () => {
    for (const commit of [true, false]) {
      const log = await openLog(await tempDir());
      log.append(plain('p0'));
      log.append(txn(A, 2, 'a'));
      await durable(log);
      expect(log.highWatermark).toBe(3n);
      expect(log.lastStableOffset).toBe(1n);
      expect(await committedValues(log)).toEqual(['p0']);
      log.append(plain('p3'));
      await durable(log);
      // Still at the transaction's first offset: p3 is not readable for read_committed yet.
      expect(log.lastStableOffset).toBe(1n);

      const info = log.appendTxnMarker(marker(A, commit), T0);
      expect(info.baseOffset).toBe(4n);
      expect(info.lastOffset).toBe(4n);
      // The marker is not durable yet: the transaction is not stable until it is.
      expect(log.lastStableOffset).toBe(1n);
      let seen = -1n;
      const off = log.onHighWatermark(() => {
        seen = log.lastStableOffset;
      });
      await log.waitDurable(info.lastOffset);
      off();
      expect(log.lastStableOffset).toBe(5n);
      // Listeners of the high watermark already see the new LSO.
      expect(seen).toBe(5n);
      const r = await log.read(0n, 1 << 20, { isolation: 'read_committed' });
      expect(r.lastStableOffset).toBe(5n);
      expect(r.abortedTransactions).toEqual(commit ? [] : [{ producerId: A, firstOffset: 1n }]);
      expect(await log.collectAbortedTransactions(0n, 5n)).toEqual(
        commit ? [] : [{ producerId: A, firstOffset: 1n }],
      );
      await log.close();
    }
  });

  it('two interleaved transactions: the LSO follows the oldest open one', async () => {
    const log = await openLog(await tempDir());
    log.append(txn(A, 1, 'a0')); // 0
    log.append(txn(B, 1, 'b0')); // 1
    log.append(txn(A, 1, 'a1')); // 2
    log.append(txn(B, 1, 'b1')); // 3
    await durable(log);
    expect(log.lastStableOffset).toBe(0n);
    expect([...log.producerState.ongoingTransactions()]).toEqual([
      [Number(A), 0],
      [Number(B), 1],
    ]);
    // B aborts first: A is still open, so the entry's LSO is A's first offset.
    const abortB = log.appendTxnMarker(marker(B, false), T0); // 4
    await log.waitDurable(abortB.lastOffset);
    expect(log.lastStableOffset).toBe(0n);
    log.append(txn(B, 1, 'b2')); // 5: a new transaction of B
    const commitA = log.appendTxnMarker(marker(A, true), T0); // 6
    await log.waitDurable(commitA.lastOffset);
    expect(log.lastStableOffset).toBe(5n);
    const abortB2 = log.appendTxnMarker(marker(B, false), T0); // 7
    await log.waitDurable(abortB2.lastOffset);
    expect(log.lastStableOffset).toBe(8n);
    const idx = log.segmentsSnapshot()[0].txnIndex.allEntries();
    expect(idx).toEqual([
      { producerId: B, firstOffset: 1, lastOffset: 4, lastStableOffset: 0 },
      { producerId: B, firstOffset: 5, lastOffset: 7, lastStableOffset: 8 },
    ]);
    expect(await log.collectAbortedTransactions(0n, 8n)).toEqual([
      { producerId: B, firstOffset: 1n },
      { producerId: B, firstOffset: 5n },
    ]);
    // Only the entries overlapping the range.
    expect(await log.collectAbortedTransactions(5n, 8n)).toEqual([{ producerId: B, firstOffset: 5n }]);
    expect(await log.collectAbortedTransactions(0n, 1n)).toEqual([]);
  });

  it('fences markers of an older producer epoch or coordinator epoch; writes a marker without a transaction', async () => {
    const log = await openLog(await tempDir());
    log.append(txn(A, 1, 'a', 3));
    log.appendTxnMarker(marker(A, true, { epoch: 3, coordinatorEpoch: 5 }), T0);
    expect(() => log.appendTxnMarker(marker(A, false, { epoch: 2, coordinatorEpoch: 5 }), T0)).toThrow(
      InvalidProducerEpochError,
    );
    expect(() => log.appendTxnMarker(marker(A, false, { epoch: 3, coordinatorEpoch: 4 }), T0)).toThrow(
      TransactionCoordinatorFencedError,
    );
    try {
      log.appendTxnMarker(marker(A, false, { epoch: 3, coordinatorEpoch: 4 }), T0);
    } catch (e) {
      expect((e as TransactionCoordinatorFencedError).kafkaError).toBe('TRANSACTION_COORDINATOR_FENCED');
    }
    const end = log.logEndOffset;
    // No open transaction: still written (a new producer too), nothing indexed, LSO unaffected.
    const again = log.appendTxnMarker(marker(A, false, { epoch: 3, coordinatorEpoch: 5 }), T0);
    expect(again.baseOffset).toBe(end);
    const unknown = log.appendTxnMarker(marker(B, false), T0);
    expect(unknown.baseOffset).toBe(end + 1n);
    await durable(log);
    expect(log.lastStableOffset).toBe(log.highWatermark);
    expect(log.segmentsSnapshot()[0].txnIndex.size).toBe(0);
    // A non-transactional batch while a transaction is open is still refused.
    log.append(txn(B, 1, 'b'));
    expect(() =>
      log.append(
        encodeRecordBatch([{ key: null, value: Buffer.from('x'), timestamp: T0 }], {
          producerId: B,
          producerEpoch: 0,
          baseSequence: 1,
        }),
      ),
    ).toThrow(InvalidTxnStateError);
  });

  it('refuses a control batch from a client with INVALID_RECORD', async () => {
    const log = await openLog(await tempDir());
    log.append(txn(A, 1, 'a'));
    const m = encodeEndTxnMarkerBatch({
      commit: true,
      producerId: A,
      producerEpoch: 0,
      coordinatorEpoch: 1,
      timestamp: T0,
    });
    expect(() => log.append(m)).toThrow(InvalidRecordError);
    try {
      log.append(m);
    } catch (e) {
      expect((e as InvalidRecordError).kafkaError).toBe('INVALID_RECORD');
    }
    expect(log.logEndOffset).toBe(1n);
    // The coordinator's origin may.
    expect(log.append(m, { origin: 'coordinator' }).baseOffset).toBe(1n);
  });

  it('read_committed reads stop at the LSO, in whole batches', async () => {
    const log = await openLog(await tempDir());
    log.append(plain('p0'));
    log.append(plain('p1'));
    log.append(txn(A, 3, 'a'));
    log.append(plain('p5'));
    await durable(log);
    const r = await log.read(0n, 1 << 20, { isolation: 'read_committed' });
    expect(r.records.flatMap((b) => decodeAll(b).map((x) => x.offset))).toEqual([0, 1]);
    const u = await log.read(0n, 1 << 20);
    expect(u.records.flatMap((b) => decodeAll(b).map((x) => x.offset))).toEqual([0, 1, 2, 3, 4, 5]);
    // A read at the LSO returns nothing yet.
    const at = await log.read(2n, 1 << 20, { isolation: 'read_committed' });
    expect(at.sizeInBytes).toBe(0);
    expect(at.abortedTransactions).toEqual([]);
    // maxOffset still bounds it.
    const capped = await log.read(0n, 1 << 20, { isolation: 'read_committed', maxOffset: 1n });
    expect(capped.records.flatMap((b) => decodeAll(b).map((x) => x.offset))).toEqual([0]);
  });
});

describe('transactions: the .txnindex files', () => {
  it('indexes aborts in the segment of their marker, across rolls; the file format is Kafka’s', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentBytes: 1024 });
    log.append(txn(A, 2, 'a')); // 0-1
    await roll(log);
    const b = log.append(txn(B, 1, 'b')).baseOffset;
    await roll(log);
    const abortA = log.appendTxnMarker(marker(A, false), T0).baseOffset;
    await roll(log);
    const abortB = log.appendTxnMarker(marker(B, false), T0).baseOffset;
    await roll(log);
    await durable(log);
    const segA = segmentOf(log, abortA);
    const segB = segmentOf(log, abortB);
    expect(segA).not.toBe(segB);
    // The files of the segments holding the markers (written when they became inactive).
    expect(await txnIndexFiles(dir)).toEqual([fileName(segA), fileName(segB)]);
    const bytes = await readFile(join(dir, fileName(segA)));
    expect(bytes.length).toBe(TXN_INDEX_ENTRY_BYTES);
    expect(bytes.readInt16BE(0)).toBe(0);
    expect(bytes.readBigInt64BE(2)).toBe(A);
    expect(bytes.readBigInt64BE(10)).toBe(0n);
    expect(bytes.readBigInt64BE(18)).toBe(abortA);
    // B was still open when A aborted: the LSO then was B's first offset.
    expect(bytes.readBigInt64BE(26)).toBe(b);
    expect(TransactionIndex.decode(await readFile(join(dir, fileName(segB)))).entries).toEqual([
      {
        producerId: B,
        firstOffset: Number(b),
        lastOffset: Number(abortB),
        lastStableOffset: Number(abortB) + 1,
      },
    ]);
    const end = log.logEndOffset;
    expect(await log.collectAbortedTransactions(0n, end)).toEqual([
      { producerId: A, firstOffset: 0n },
      { producerId: B, firstOffset: b },
    ]);
    // From the middle: A's transaction covers offset 1; B's starts later.
    expect(await log.collectAbortedTransactions(1n, 2n)).toEqual([{ producerId: A, firstOffset: 0n }]);
    expect(await log.collectAbortedTransactions(abortA + 1n, end)).toEqual([
      { producerId: B, firstOffset: b },
    ]);
    expect(await log.collectAbortedTransactions(abortB + 1n, end)).toEqual([]);
  });

  it('survives a clean restart, with an open transaction and its LSO', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentBytes: 1024 });
    log.append(txn(A, 1, 'a'));
    log.appendTxnMarker(marker(A, false), T0);
    log.append(plain('p'));
    log.append(txn(B, 1, 'b')); // 3, stays open
    log.append(plain('q'));
    await durable(log);
    expect(log.lastStableOffset).toBe(3n);
    await log.close();
    expect(await txnIndexFiles(dir)).toEqual(['00000000000000000000.txnindex']);
    const again = await openLog(dir, { segmentBytes: 1024 }, { hadCleanShutdown: true });
    expect(again.recoveredSegments).toBe(0);
    expect(again.lastStableOffset).toBe(3n);
    expect(await again.collectAbortedTransactions(0n, 5n)).toEqual([{ producerId: A, firstOffset: 0n }]);
    // The open transaction goes on and aborts after the restart.
    again.appendTxnMarker(marker(B, false), T0);
    await durable(again);
    expect(again.lastStableOffset).toBe(6n);
    expect(await again.collectAbortedTransactions(0n, 6n)).toEqual([
      { producerId: A, firstOffset: 0n },
      { producerId: B, firstOffset: 3n },
    ]);
  });

  it('after a crash: the LSO of an open transaction is right, and lost index files are rebuilt', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentBytes: 1024 });
    log.append(txn(A, 2, 'a')); // 0-1
    log.append(txn(B, 1, 'b')); // 2
    await roll(log);
    const abortA = log.appendTxnMarker(marker(A, false), T0).baseOffset;
    await roll(log);
    const open = log.append(txn(A, 1, 'a2')).baseOffset; // stays open
    const abortB = log.appendTxnMarker(marker(B, false), T0).baseOffset; // active segment: no file yet
    await durable(log);
    expect(log.lastStableOffset).toBe(open);
    const segA = segmentOf(log, abortA);
    const segments = log.numberOfSegments;
    const expected = [
      { producerId: A, firstOffset: 0n },
      { producerId: B, firstOffset: 2n },
    ];
    const recoveryPoint = log.recoveryPoint;
    await log.abort(); // kill -9
    expect(await txnIndexFiles(dir)).toEqual([fileName(segA)]);

    // Reopened with the recovery point: only the active segment is rescanned; B's abort is
    // indexed again from the log, and the LSO is A's open transaction.
    const again = await openLog(dir, { segmentBytes: 1024 }, { recoveryPoint });
    expect(again.recoveredSegments).toBe(1);
    expect(again.lastStableOffset).toBe(open);
    expect(await again.collectAbortedTransactions(0n, abortB + 1n)).toEqual(expected);
    await again.abort();

    // The index file of a rescanned segment is rebuilt (here every segment is rescanned).
    await unlink(join(dir, fileName(segA)));
    const third = await openLog(dir, { segmentBytes: 1024 });
    expect(third.recoveredSegments).toBe(segments);
    expect(await third.collectAbortedTransactions(0n, abortB + 1n)).toEqual(expected);
    expect(await txnIndexFiles(dir)).toEqual([fileName(segA)]);
    expect(TransactionIndex.decode(await readFile(join(dir, fileName(segA)))).entries).toEqual([
      { producerId: A, firstOffset: 0, lastOffset: Number(abortA), lastStableOffset: 2 },
    ]);
    expect(third.lastStableOffset).toBe(open);
    await third.abort();

    // Recovery point inside the marker's segment while the latest snapshot is above it: the
    // replay from the older snapshot rebuilds that segment's entry.
    await unlink(join(dir, fileName(segA)));
    const fourth = await openLog(dir, { segmentBytes: 1024 }, { recoveryPoint: abortA });
    expect(fourth.recoveredSegments).toBeLessThan(segments);
    expect(await fourth.collectAbortedTransactions(0n, abortB + 1n)).toEqual(expected);
    expect(fourth.lastStableOffset).toBe(open);
    await fourth.abort();
  });

  it('a torn tail that loses a marker reopens its transaction and drops its index entry', async () => {
    const dir = await tempDir();
    const log = await openLog(dir);
    log.append(txn(A, 1, 'a')); // 0
    log.append(plain('p')); // 1
    log.appendTxnMarker(marker(A, false), T0); // 2
    await durable(log);
    expect(await log.collectAbortedTransactions(0n, 3n)).toHaveLength(1);
    await log.abort();
    const file = join(dir, '00000000000000000000.log');
    const { size } = await stat(file);
    await truncate(file, size - 5);
    const again = await openLog(dir);
    expect(again.logEndOffset).toBe(2n);
    expect(again.lastStableOffset).toBe(0n);
    expect(await again.collectAbortedTransactions(0n, 2n)).toEqual([]);
  });

  it('truncation removes the entries above the new end; retention deletes the files with their segments', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { segmentBytes: 1024, retentionMs: 10_000 });
    log.append(txn(A, 1, 'a')); // 0
    log.appendTxnMarker(marker(A, false), T0); // 1
    log.append(txn(B, 1, 'b')); // 2
    log.appendTxnMarker(marker(B, false), T0); // 3
    await durable(log);
    expect(await log.collectAbortedTransactions(0n, 4n)).toHaveLength(2);
    await log.truncateTo(3n);
    expect(await log.collectAbortedTransactions(0n, 4n)).toEqual([{ producerId: A, firstOffset: 0n }]);
    // B's transaction is open again after the truncation.
    expect(log.lastStableOffset).toBe(2n);
    log.appendTxnMarker(marker(B, true), T0);
    await roll(log, T0);
    await durable(log);
    expect(await txnIndexFiles(dir)).toEqual(['00000000000000000000.txnindex']);
    expect(await log.deleteRetainedSegments(T0 + 20_000)).toBeGreaterThan(0);
    expect(await txnIndexFiles(dir)).toEqual([]);
    expect(await log.collectAbortedTransactions(log.logStartOffset, log.logEndOffset)).toEqual([]);
  });
});

describe('transactions: the cleaner', () => {
  it('removes aborted records, compacts committed ones, keeps markers until their data is gone', async () => {
    // Producers expire after 5 ms, so that A's aborted batch is not kept as its last batch.
    const { log, cleaner, now } = await compactedLog(
      { deleteRetentionMs: 1000 },
      { producerIdExpirationMs: 5 },
    );
    const append = async (b: Buffer) => {
      const info = log.append(b);
      await log.waitDurable(info.lastOffset);
    };
    await append(kvBatch([['k', 'plain-1']])); // 0
    await append(
      kvBatch(
        [
          ['k', 'aborted'],
          ['x', 'aborted'],
        ],
        { producerId: A, producerEpoch: 0, baseSequence: 0, isTransactional: true },
      ),
    ); // 1-2
    await append(
      kvBatch(
        [
          ['y', 'committed'],
          ['z', 'committed'],
        ],
        { producerId: B, producerEpoch: 0, baseSequence: 0, isTransactional: true },
      ),
    ); // 3-4
    const abortA = log.appendTxnMarker(marker(A, false), now.value); // 5
    const commitB = log.appendTxnMarker(marker(B, true), now.value); // 6
    await log.waitDurable(commitB.lastOffset);
    await append(kvBatch([['z', 'plain-2']])); // 7
    await roll(log); // 8
    expect(abortA.baseOffset).toBe(5n);
    expect(await txnIndexFiles(log.dir)).toEqual(['00000000000000000000.txnindex']);

    await cleaner.cleanLog(log);
    let batches = await readBatches(log);
    const values = (bs: typeof batches) =>
      bs
        .filter((b) => !b.batch.header.isControl)
        .flatMap((b) => b.records.map((r) => `${r.offset}:${r.key}=${r.value}`));
    // The aborted k does not shadow plain-1; x goes with its batch; committed y stays, z is compacted.
    expect(values(batches).filter((v) => !v.includes('~'))).toEqual([
      '0:k=plain-1',
      '3:y=committed',
      '7:z=plain-2',
    ]);
    const committed = batches.find((b) => b.baseOffset === 3)!;
    expect(committed.batch.header.isTransactional).toBe(true);
    // Both markers stay: this clean met their data.
    expect(batches.filter((b) => b.batch.header.isControl).map((b) => b.baseOffset)).toEqual([5, 6]);
    // The abort keeps its index entry while its marker stays with the data it covered.
    expect(await log.collectAbortedTransactions(0n, 9n)).toEqual([{ producerId: A, firstOffset: 1n }]);
    // In the cleaned segment's own file, swapped in with it.
    expect(await txnIndexFiles(log.dir)).toEqual([fileName(0n)]);
    expect(TransactionIndex.decode(await readFile(join(log.dir, fileName(0n)))).entries).toEqual([
      { producerId: A, firstOffset: 1, lastOffset: 5, lastStableOffset: 3 },
    ]);

    // A was still active: its last (aborted) batch stays as an empty batch, which the next clean
    // (A expired) removes; the one after finds the marker without data and stamps its horizon.
    expect(batches.find((b) => b.baseOffset === 1)?.records).toEqual([]);
    now.value += 10;
    await cleaner.cleanLog(log);
    expect((await readBatches(log)).some((b) => b.baseOffset === 1)).toBe(false);
    now.value += 10;
    await cleaner.cleanLog(log);
    batches = await readBatches(log);
    const abortMarker = batches.find((b) => b.baseOffset === 5)!;
    expect(abortMarker.batch.header.isControl).toBe(true);
    expect(abortMarker.batch.header.hasDeleteHorizonMs).toBe(true);
    expect(await log.collectAbortedTransactions(0n, 9n)).toEqual([]);
    expect(await txnIndexFiles(log.dir)).toEqual([]);
    // The commit marker still covers y.
    expect(batches.find((b) => b.baseOffset === 6)!.batch.header.hasDeleteHorizonMs).toBe(false);

    // After delete.retention.ms the abort marker is removed.
    now.value += 2000;
    await cleaner.cleanLog(log);
    batches = await readBatches(log);
    expect(batches.some((b) => b.baseOffset === 5)).toBe(false);
    expect(batches.some((b) => b.baseOffset === 6)).toBe(true);
    expect((await readRecs(log)).filter((r) => !r.key?.startsWith('~')).map((r) => r.value)).toEqual([
      'plain-1',
      'committed',
      '\u0000\u0000\u0000\u0000\u0000\u0001',
      'plain-2',
    ]);
  });

  it('never cleans past an open transaction', async () => {
    const { log, cleaner } = await compactedLog();
    log.append(kvBatch([['k', '1']]));
    log.append(
      kvBatch([['t', 'open']], { producerId: A, producerEpoch: 0, baseSequence: 0, isTransactional: true }),
    );
    await roll(log);
    await roll(log);
    log.append(kvBatch([['k', '2']]));
    await roll(log);
    await durable(log);
    expect(log.lastStableOffset).toBe(1n);
    const stats = await cleaner.cleanLog(log);
    expect(stats === null || stats.firstUncleanableOffset <= 1).toBe(true);
    expect((await readRecs(log)).map((r) => r.value)[0]).toBe('1');
  });
});

describe('transactions: a crash during a cleaner swap', () => {
  for (const stage of ['cleaned', 'swap', 'old-deleted'] as const) {
    it(`keeps the aborted transaction index whole after a crash at '${stage}'`, async () => {
      const { log, cleaner, hooks } = await compactedLog({ segmentBytes: 1024 });
      const put = async (b: Buffer) => log.waitDurable(log.append(b).lastOffset);
      await put(kvBatch([['k', 'plain-1']]));
      await put(
        kvBatch([['k', 'aborted']], {
          producerId: A,
          producerEpoch: 0,
          baseSequence: 0,
          isTransactional: true,
        }),
      );
      // Data and marker in one segment: cleaned in one group, the marker stays with its (emptied) data.
      await put(kvBatch([['k', 'plain-2']]));
      const abort = log.appendTxnMarker(marker(A, false), T0);
      await log.waitDurable(abort.lastOffset);
      await roll(log);
      await roll(log);
      const expected = [{ producerId: A, firstOffset: 1n }];
      expect(await log.collectAbortedTransactions(0n, log.logEndOffset)).toEqual(expected);
      const copy = join(await tempDir(), 'crash');
      hooks.onCleanerSwap = (s, d) => {
        if (s === stage) snapshotDirSync(d, copy);
      };
      await cleaner.cleanLog(log);
      expect(await log.collectAbortedTransactions(0n, log.logEndOffset)).toEqual(expected);
      const end = log.logEndOffset;
      // The copy, trusted up to its end: the `.txnindex` files (old, or cleaned and swapped) are read.
      const again = await openLog(
        copy,
        { cleanupPolicy: ['compact'], segmentBytes: 1024 },
        { recoveryPoint: end },
      );
      expect(await again.collectAbortedTransactions(0n, end)).toEqual(expected);
      expect((await readdir(copy)).filter((f) => /\.(cleaned|swap|deleted)$/.test(f))).toEqual([]);
    });
  }
});
