import { describe, expect, it } from 'vitest';
import { PartitionWatchers } from '../../src/broker/delayed-fetch.js';

describe('PartitionWatchers', () => {
  it('wakes a waiter when a watched partition becomes ready, and cleans up', async () => {
    const w = new PartitionWatchers();
    let bytes = 0;
    const p = w.waitFor(['t-0', 't-1'], () => bytes >= 10, 5000);
    w.notify('t-0'); // not enough yet: keeps waiting
    expect(w.size).toBe(2);
    bytes = 10;
    w.notify('t-1');
    expect(await p).toBe(true);
    expect(w.size).toBe(0);
  });

  it('times out with false, and answers at once when already ready or max wait is 0', async () => {
    const w = new PartitionWatchers();
    const start = Date.now();
    expect(await w.waitFor(['t-0'], () => false, 50)).toBe(false);
    expect(Date.now() - start).toBeGreaterThanOrEqual(40);
    expect(w.size).toBe(0);
    expect(await w.waitFor(['t-0'], () => true, 10_000)).toBe(true);
    expect(await w.waitFor(['t-0'], () => false, 0)).toBe(false);
  });

  it('stops waiting when aborted (a closed connection)', async () => {
    const w = new PartitionWatchers();
    const ac = new AbortController();
    const p = w.waitFor(['t-0'], () => false, 10_000, ac.signal);
    ac.abort();
    expect(await p).toBe(false);
    expect(w.size).toBe(0);
  });
});
