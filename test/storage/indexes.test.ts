// The offset and time indexes: lookups equal a linear scan, Kafka's file formats, the checks a
// loaded index must pass, and LogSegment's index entries against the batches actually written.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OffsetIndex } from '../../src/storage/offset-index.js';
import { TimeIndex } from '../../src/storage/time-index.js';

describe('OffsetIndex', () => {
  it('lookup equals a linear scan over the entries', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 5000 })), {
          maxLength: 200,
        }),
        fc.array(fc.integer({ min: -10, max: 20_000 }), { minLength: 1, maxLength: 50 }),
        (base, steps, targets) => {
          const idx = new OffsetIndex(base, 1 << 20);
          const entries: Array<{ offset: number; position: number }> = [];
          let offset = base;
          let position = 0;
          for (const [dOff, dPos] of steps) {
            offset += dOff;
            position += dPos;
            idx.append(offset, position);
            entries.push({ offset, position });
          }
          for (const t of targets) {
            const target = base + t;
            const linear = entries.filter((e) => e.offset <= target).pop() ?? { offset: base, position: 0 };
            expect(idx.lookup(target)).toEqual(linear);
          }
          // Round trip through the file format.
          const reloaded = new OffsetIndex(base, 1 << 20, Buffer.from(idx.bytes()));
          expect(reloaded.entries).toBe(entries.length);
          expect(OffsetIndex.check(idx.bytes(), position + 1)).toBeNull();
        },
      ),
    );
  });

  it('takes appends after loading from a file, even an empty one', () => {
    for (const data of [Buffer.alloc(0), Buffer.from('0000000100000010', 'hex')]) {
      const idx = new OffsetIndex(0, 1 << 20, data);
      for (let i = 2; i < 200; i++) idx.append(i, i * 16);
      expect(idx.lastEntry()).toEqual({ offset: 199, position: 199 * 16 });
      const t = new TimeIndex(0, 1 << 20, Buffer.alloc(0));
      for (let i = 2; i < 200; i++) t.maybeAppend(i, i);
      expect(t.entries).toBe(198);
    }
  });

  it('uses Kafka format: int32 relative offset, int32 position', () => {
    const idx = new OffsetIndex(1000, 1 << 20);
    idx.append(1005, 4200);
    expect(idx.bytes().toString('hex')).toBe('00000005' + '00001068');
  });

  it('refuses non-increasing entries and reports fullness', () => {
    const idx = new OffsetIndex(0, 16);
    idx.append(5, 100);
    expect(() => idx.append(5, 200)).toThrow();
    expect(() => idx.append(6, 100)).toThrow();
    expect(idx.isFull).toBe(false);
    idx.append(6, 200);
    expect(idx.isFull).toBe(true);
  });

  it('check() rejects garbage: partial entries, disorder, positions past the log', () => {
    const good = Buffer.from('00000005000000100000000900000020', 'hex');
    expect(OffsetIndex.check(good, 100)).toBeNull();
    expect(OffsetIndex.check(good.subarray(0, 12), 100)).toMatch(/multiple/);
    expect(OffsetIndex.check(Buffer.from('00000009000000100000000500000020', 'hex'), 100)).toMatch(/offset/);
    expect(OffsetIndex.check(Buffer.from('00000005000000200000000900000010', 'hex'), 100)).toMatch(
      /position/,
    );
    expect(OffsetIndex.check(good, 0x20)).toMatch(/past the log/);
  });

  it('truncates entries at an offset or a position', () => {
    const idx = new OffsetIndex(0, 1 << 20);
    for (let i = 1; i <= 10; i++) idx.append(i * 10, i * 100);
    idx.truncateTo(55);
    expect(idx.lastEntry()).toEqual({ offset: 50, position: 500 });
    idx.truncateToPosition(300);
    expect(idx.lastEntry()).toEqual({ offset: 20, position: 200 });
  });
});

describe('TimeIndex', () => {
  it('lookupBelow equals a linear scan: the last entry with timestamp < target', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -5, max: 100 }), fc.integer({ min: 0, max: 20 })), {
          maxLength: 200,
        }),
        fc.array(fc.integer({ min: -10, max: 5000 }), { minLength: 1, maxLength: 50 }),
        (steps, targets) => {
          const base = 100;
          const idx = new TimeIndex(base, 1 << 20);
          const kept: Array<{ timestamp: number; offset: number }> = [];
          let ts = 0;
          let offset = base;
          for (const [dTs, dOff] of steps) {
            ts += dTs;
            offset += dOff;
            idx.maybeAppend(ts, offset);
            const last = kept.length ? kept[kept.length - 1].timestamp : -1;
            if (ts > last) kept.push({ timestamp: ts, offset });
          }
          expect(idx.entries).toBe(kept.length);
          for (const t of targets) {
            const linear = kept.filter((e) => e.timestamp < t).pop() ?? { timestamp: -1, offset: base };
            expect(idx.lookupBelow(t)).toEqual(linear);
          }
          expect(TimeIndex.check(idx.bytes(), 0x7fffffff)).toBeNull();
        },
      ),
    );
  });

  it('uses Kafka format: int64 timestamp, int32 relative offset', () => {
    const idx = new TimeIndex(1000, 1 << 20);
    idx.maybeAppend(1_700_000_000_000, 1003);
    expect(idx.bytes().toString('hex')).toBe('0000018bcfe56800' + '00000003');
    expect(idx.lastEntry()).toEqual({ timestamp: 1_700_000_000_000, offset: 1003 });
  });

  it('never indexes "no timestamp" (-1), as Kafka', () => {
    const idx = new TimeIndex(0, 1 << 20);
    idx.maybeAppend(-1, 5);
    expect(idx.entries).toBe(0);
    expect(idx.lastEntry()).toEqual({ timestamp: -1, offset: 0 });
  });

  it('check() rejects garbage', () => {
    const idx = new TimeIndex(0, 1 << 20);
    idx.maybeAppend(10, 1);
    idx.maybeAppend(20, 3);
    const good = Buffer.from(idx.bytes());
    expect(TimeIndex.check(good, 100)).toBeNull();
    expect(TimeIndex.check(good.subarray(0, 13), 100)).toMatch(/multiple/);
    expect(TimeIndex.check(good, 2)).toMatch(/past the segment/);
    const swapped = Buffer.concat([good.subarray(12), good.subarray(0, 12)]);
    expect(TimeIndex.check(swapped, 100)).toMatch(/timestamp/);
  });
});
