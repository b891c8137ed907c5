// Kafka's murmur2 partitioner: Java's test vectors, kafkajs's Java-compatible implementation on
// random keys, and the sticky partition cache.

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { murmur2, murmur2Partition, StickyPartitionCache, toPositive } from '../../src/client/partitioner.js';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  k: Buffer,
) => number;

describe('murmur2', () => {
  it("matches Kafka's UtilsTest vectors", () => {
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [s, h] of cases) expect(murmur2(Buffer.from(s)), s).toBe(h);
  });

  it('matches kafkajs (Java-compatible) on 5,000 random keys of every tail length', () => {
    for (let i = 0; i < 5000; i++) {
      const key = randomBytes(i % 64);
      expect(murmur2(key)).toBe(kafkajsMurmur2(key) | 0);
    }
  });

  it('partitions with toPositive, not Math.abs', () => {
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-1)).toBe(0x7fffffff);
    const key = Buffer.from('foobar');
    expect(murmur2Partition(key, 7)).toBe((-790332482 & 0x7fffffff) % 7);
  });
});

describe('StickyPartitionCache', () => {
  it('keeps one partition until told a batch closed, then moves to another available one', () => {
    const c = new StickyPartitionCache();
    const first = c.partition('t', 5, [0, 1, 2, 3, 4]);
    for (let i = 0; i < 10; i++) expect(c.partition('t', 5, [0, 1, 2, 3, 4])).toBe(first);
    for (let i = 0; i < 50; i++) {
      const prev = c.partition('t', 5, [0, 1, 2, 3, 4]);
      const next = c.next('t', 5, [0, 1, 2, 3, 4], prev);
      expect(next).not.toBe(prev);
    }
    // Only partitions with a leader are chosen.
    for (let i = 0; i < 20; i++) expect([1, 3]).toContain(c.next('u', 5, [1, 3], -1));
  });
});
