// A model check: random sequences of appends, reads, DeleteRecords, retention by size,
// truncation, clean reopen and crash reopen against a plain array of what the log must hold.
// After every step the whole readable log equals the model. Failures print fast-check's seed.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatRecords, type PartitionLog, TailCache } from '../../src/storage/index.js';
import { batch, decodeAll, openLog, readAll, tempDir } from './helpers.js';

type Op =
  | { kind: 'append'; sizes: number[] }
  | { kind: 'read'; at: number; maxBytes: number }
  | { kind: 'deleteRecords'; at: number }
  | { kind: 'retention'; bytes: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'reopen'; clean: boolean }
  | { kind: 'concurrent'; sizes: number[]; bytes: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      sizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      maxBytes: fc.integer({ min: 1, max: 3000 }),
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
      kind: fc.constant('retention' as const),
      bytes: fc.integer({ min: 0, max: 3000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('truncate' as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const), clean: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('concurrent' as const),
      sizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 }),
      bytes: fc.integer({ min: 0, max: 3000 }),
    }),
  },
);

describe('PartitionLog against a model', () => {
  it('always reads back exactly the model', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 300, max: 1500 }),
        async (ops, segmentBytes) => {
          const dir = await tempDir();
          const cfg = { segmentBytes, indexIntervalBytes: 150 };
          const extra = { tailCache: new TailCache(1500) };
          let log: PartitionLog = await openLog(dir, cfg, extra);
          // The model: first offset held, and the values in order (each value names its offset).
          let start = 0;
          let end = 0;
          for (const op of ops) {
            switch (op.kind) {
              case 'append': {
                // Several appends in one synchronous run, then one wait.
                let last = 0n;
                for (const n of op.sizes) {
                  last = log.append(batch(n, end)).lastOffset;
                  end += n;
                }
                await log.waitDurable(last);
                break;
              }
              case 'read': {
                if (end === start) break;
                const at = Math.min(end - 1, start + Math.floor(op.at * (end - start)));
                const r = await log.read(BigInt(at), op.maxBytes);
                const recs = decodeAll(concatRecords(r));
                expect(recs.length).toBeGreaterThan(0);
                expect(recs[0].offset).toBeLessThanOrEqual(at);
                expect(recs.some((x) => x.offset === at)).toBe(true);
                for (const x of recs) expect(x.value).toBe(`v${x.offset}`);
                break;
              }
              case 'deleteRecords': {
                const at = Math.min(end, start + Math.floor(op.at * (end - start + 1)));
                expect(await log.deleteRecordsBefore(BigInt(at))).toBe(BigInt(Math.max(at, start)));
                start = Math.max(at, start);
                break;
              }
              case 'retention': {
                log.updateConfig({ ...log.config, retentionBytes: op.bytes });
                await log.deleteRetainedSegments();
                log.updateConfig({ ...log.config, retentionBytes: -1 });
                start = Number(log.logStartOffset);
                break;
              }
              case 'truncate': {
                if (end === start) break;
                const at = Math.min(end - 1, start + Math.floor(op.at * (end - start)));
                await log.truncateTo(BigInt(at));
                // The batch holding `at` goes entirely: the log end is that batch's base.
                end = Number(log.logEndOffset);
                expect(end).toBeLessThanOrEqual(at);
                start = Math.min(start, end);
                break;
              }
              case 'concurrent': {
                // Retention, appends and reads (of data not yet durable, as a replica would) all
                // in flight together.
                log.updateConfig({ ...log.config, retentionBytes: op.bytes });
                const work: Promise<unknown>[] = [log.deleteRetainedSegments()];
                let last = 0n;
                for (const n of op.sizes) {
                  const base = end;
                  last = log.append(batch(n, end)).lastOffset;
                  end += n;
                  work.push(
                    log.read(BigInt(base), 1 << 20, { maxOffset: log.logEndOffset }).then((r) => {
                      const recs = decodeAll(concatRecords(r));
                      expect(recs[0].offset).toBe(base);
                      for (const x of recs) expect(x.value).toBe(`v${x.offset}`);
                    }),
                  );
                }
                work.push(log.waitDurable(last));
                await Promise.all(work);
                log.updateConfig({ ...log.config, retentionBytes: -1 });
                start = Number(log.logStartOffset);
                break;
              }
              case 'reopen': {
                // What the checkpoint would say: segments before the one holding it are trusted.
                const recoveryPoint = log.recoveryPoint;
                if (op.clean) await log.close();
                else await log.abort();
                log = await openLog(dir, cfg, {
                  ...extra,
                  logStartOffset: BigInt(start),
                  hadCleanShutdown: op.clean,
                  recoveryPoint,
                });
                break;
              }
            }
            expect(Number(log.logStartOffset)).toBe(start);
            expect(Number(log.logEndOffset)).toBe(end);
            expect(Number(log.highWatermark)).toBe(end);
            const all = await readAll(log);
            expect(all.map((r) => r.offset)).toEqual(
              Array.from({ length: end - start }, (_, i) => start + i),
            );
            for (const r of all) expect(r.value).toBe(`v${r.offset}`);
          }
          await log.close();
        },
      ),
      { numRuns: 40 },
    );
  });
});
