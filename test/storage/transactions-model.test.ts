// A model check of the log's transaction state: random interleavings of transactional and plain
// batches of three producers, COMMIT/ABORT markers, truncation, DeleteRecords, clean and crash
// reopens (with the
// recovery point of some earlier checkpoint), in small segments. After every step the last stable
// offset, the open transactions and collectAbortedTransactions over random ranges equal what a
// replay of the model's batches says. Failures print fast-check's seed.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../../src/protocol/records/index.js';
import type { PartitionLog } from '../../src/storage/index.js';
import { clockOf } from '../../src/util/clock.js';
import { openLog, T0, tempDir } from './helpers.js';

type Op =
  | { kind: 'data'; pid: number; transactional: boolean; count: number }
  | { kind: 'plain'; count: number }
  | { kind: 'marker'; pid: number; commit: boolean }
  | { kind: 'truncate'; at: number }
  | { kind: 'deleteRecords'; at: number }
  | { kind: 'reopen'; clean: boolean; rp: number }
  | { kind: 'query'; from: number; to: number };

const pidArb = fc.integer({ min: 0, max: 2 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('data' as const),
      pid: pidArb,
      transactional: fc.boolean(),
      count: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('plain' as const), count: fc.integer({ min: 1, max: 4 }) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('marker' as const), pid: pidArb, commit: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('truncate' as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deleteRecords' as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('reopen' as const),
      clean: fc.boolean(),
      rp: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('query' as const),
      from: fc.double({ min: 0, max: 1, noNaN: true }),
      to: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
);

/** A batch of the model: offsets, producer, kind. */
interface ModelBatch {
  base: number;
  last: number;
  pid: number | null;
  transactional: boolean;
  /** A marker: COMMIT (true) or ABORT (false). */
  marker: boolean | null;
  /** Data batches of a producer: first sequence. */
  seq: number;
}

const PIDS = [100n, 200n, 300n];

/** What a replay of the model's batches says. */
function derive(batches: readonly ModelBatch[]) {
  const open = new Map<number, number>();
  const aborted: Array<{ pid: number; first: number; last: number }> = [];
  const nextSeq = [0, 0, 0];
  for (const b of batches) {
    if (b.pid === null) continue;
    if (b.marker !== null) {
      const first = open.get(b.pid);
      if (first !== undefined) {
        if (!b.marker) aborted.push({ pid: b.pid, first, last: b.base });
        open.delete(b.pid);
      }
      continue;
    }
    nextSeq[b.pid] = b.seq + (b.last - b.base) + 1;
    if (b.transactional && !open.has(b.pid)) open.set(b.pid, b.base);
  }
  return { open, aborted, nextSeq };
}

describe('transactions against a model', () => {
  it('LSO, open transactions and aborted transactions always match the model', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 250, max: 900 }),
        async (ops, segmentBytes) => {
          const dir = await tempDir();
          const cfg = { segmentBytes };
          // The clock near the batches' timestamps: no producer expires (which would reset sequences).
          const time = clockOf(() => T0 + 1000);
          let log: PartitionLog = await openLog(dir, cfg, { time });
          let batches: ModelBatch[] = [];
          let end = 0;
          for (const op of ops) {
            const state = derive(batches);
            switch (op.kind) {
              case 'data': {
                // A producer inside a transaction may only write transactional batches.
                const transactional = op.transactional || state.open.has(op.pid);
                const seq = state.nextSeq[op.pid];
                const records = Array.from({ length: op.count }, (_, i) => ({
                  key: null,
                  value: Buffer.from(`p${op.pid}-${seq + i}`),
                  timestamp: T0,
                }));
                const info = log.append(
                  encodeRecordBatch(records, {
                    producerId: PIDS[op.pid],
                    producerEpoch: 0,
                    baseSequence: seq,
                    isTransactional: transactional,
                  }),
                );
                expect(Number(info.baseOffset)).toBe(end);
                batches.push({
                  base: end,
                  last: end + op.count - 1,
                  pid: op.pid,
                  transactional,
                  marker: null,
                  seq,
                });
                end += op.count;
                await log.waitDurable(info.lastOffset);
                break;
              }
              case 'plain': {
                const records = Array.from({ length: op.count }, () => ({
                  key: null,
                  value: null,
                  timestamp: T0,
                }));
                const info = log.append(encodeRecordBatch(records));
                batches.push({
                  base: end,
                  last: end + op.count - 1,
                  pid: null,
                  transactional: false,
                  marker: null,
                  seq: -1,
                });
                end += op.count;
                await log.waitDurable(info.lastOffset);
                break;
              }
              case 'marker': {
                const info = log.appendTxnMarker(
                  { producerId: PIDS[op.pid], producerEpoch: 0, coordinatorEpoch: 1, commit: op.commit },
                  T0,
                );
                expect(Number(info.baseOffset)).toBe(end);
                batches.push({
                  base: end,
                  last: end,
                  pid: op.pid,
                  transactional: true,
                  marker: op.commit,
                  seq: -1,
                });
                end += 1;
                await log.waitDurable(info.lastOffset);
                break;
              }
              case 'deleteRecords': {
                const start = Number(log.logStartOffset);
                await log.deleteRecordsBefore(BigInt(start + Math.floor(op.at * (end - start))));
                break;
              }
              case 'truncate': {
                // Not below the log start (a full truncation forgets every producer).
                const start = Number(log.logStartOffset);
                if (end === start) break;
                const at = start + Math.floor(op.at * (end - start));
                await log.truncateTo(BigInt(at));
                end = Number(log.logEndOffset);
                batches = batches.filter((b) => b.last < end);
                break;
              }
              case 'reopen': {
                // After a crash, any checkpoint at or below the flushed offset may have been the
                // last one written: segments from the one holding it are rescanned.
                const recoveryPoint = op.clean
                  ? log.recoveryPoint
                  : BigInt(Math.floor(op.rp * Number(log.recoveryPoint)));
                if (op.clean) await log.close();
                else await log.abort();
                const logStartOffset = log.logStartOffset;
                log = await openLog(dir, cfg, {
                  hadCleanShutdown: op.clean,
                  recoveryPoint,
                  time,
                  logStartOffset,
                });
                break;
              }
              case 'query': {
                const from = Math.floor(Math.min(op.from, op.to) * end);
                const to = Math.ceil(Math.max(op.from, op.to) * end);
                const firstBase = Number(log.segmentBaseOffsets()[0]);
                const expected = state.aborted
                  .filter((a) => a.last >= firstBase && a.last >= from && a.first < to)
                  .map((a) => ({ producerId: PIDS[a.pid], firstOffset: BigInt(a.first) }));
                expect(await log.collectAbortedTransactions(BigInt(from), BigInt(to))).toEqual(expected);
                break;
              }
            }
            const after = derive(batches);
            expect(Number(log.logEndOffset)).toBe(end);
            const firstOpen = Math.min(...after.open.values());
            const start = Number(log.logStartOffset);
            expect(Number(log.lastStableOffset)).toBe(after.open.size > 0 ? Math.max(firstOpen, start) : end);
            expect(
              [...log.producerState.ongoingTransactions()].map(([pid, first]) => [Number(pid), first]),
            ).toEqual(
              [...after.open].sort((a, b) => a[1] - b[1]).map(([pid, first]) => [Number(PIDS[pid]), first]),
            );
            // The entries of deleted segments went with them.
            const firstBase = Number(log.segmentBaseOffsets()[0]);
            expect(await log.collectAbortedTransactions(0n, BigInt(end))).toEqual(
              after.aborted
                .filter((a) => a.last >= firstBase)
                .map((a) => ({ producerId: PIDS[a.pid], firstOffset: BigInt(a.first) })),
            );
          }
          await log.close();
        },
      ),
      { numRuns: 30 },
    );
  });
});
