// RecordAccumulator's batch buffers: records are written into their batch on append (nothing else
// kept per record but its sink run and timestamp), and a busy partition's batches start at the
// size the previous one grew to, while a quiet partition's shrink back.

import { describe, expect, it } from 'vitest';
import { RecordAccumulator, type RecordSink } from '../../src/client/record-accumulator.js';
import { decodeRecordBatch } from '../../src/protocol/records/decode.js';

const sink = (): RecordSink & { got: [number, bigint][] } => {
  const got: [number, bigint][] = [];
  return { got, delivered: (i, m) => got.push([i, m.offset]), failed: () => {} };
};

describe('RecordAccumulator', () => {
  it('a busy partition starts each batch at the size the last one grew to; a quiet one shrinks back', () => {
    const acc = new RecordAccumulator(1_000_000);
    const q = acc.queue('t', 0);
    const s = sink();
    const value = Buffer.alloc(1000, 1);
    // The first batch starts at 64 KiB and grows to 1 MiB.
    let i = 0;
    while (q.batches.length < 2 && i < 2000) acc.append(q, { value, timestamp: 1 }, 1021, s, i++, 0);
    expect(q.batches).toHaveLength(2);
    expect(q.batches[0].capacity).toBe(1 << 20);
    // The next started there: no regrowth.
    expect(q.batches[1].capacity).toBe(1 << 20);
    // That one leaves nearly empty (linger.ms): the one after starts at half, and so on down.
    q.batches[1].closed = true;
    acc.append(q, { value, timestamp: 1 }, 1021, s, i++, 0);
    expect(q.batches[2].capacity).toBe(1 << 19);
    q.batches[2].closed = true;
    acc.append(q, { value, timestamp: 1 }, 1021, s, i++, 0);
    expect(q.batches[3].capacity).toBe(1 << 18);
  });

  it('settles every record of a batch with its sink, index and offset, across send() runs', () => {
    const acc = new RecordAccumulator(16_384);
    const q = acc.queue('t', 0);
    const a = sink();
    const b = sink();
    // a's records 0-1, b's 0, a's 5 (not following 1: a run of its own), b's 1.
    acc.append(q, { value: Buffer.from('a0'), timestamp: 10 }, 30, a, 0, 0);
    acc.append(q, { value: Buffer.from('a1'), timestamp: 11 }, 30, a, 1, 0);
    acc.append(q, { value: Buffer.from('b0'), timestamp: 12 }, 30, b, 0, 0);
    acc.append(q, { value: Buffer.from('a5'), timestamp: 13 }, 30, a, 5, 0);
    acc.append(q, { value: Buffer.from('b1'), timestamp: 14 }, 30, b, 1, 0);
    const [batch] = q.batches;
    const bytes = batch.build(0, undefined, false);
    const decoded = decodeRecordBatch(bytes, { maxUncompressedBytes: 1 << 20 });
    expect(decoded.records.map((r) => [r.value?.toString(), r.timestamp])).toEqual([
      ['a0', 10],
      ['a1', 11],
      ['b0', 12],
      ['a5', 13],
      ['b1', 14],
    ]);
    batch.complete(100n, -1n);
    expect(a.got).toEqual([
      [0, 100n],
      [1, 101n],
      [5, 103n],
    ]);
    expect(b.got).toEqual([
      [0, 102n],
      [1, 104n],
    ]);
  });
});
