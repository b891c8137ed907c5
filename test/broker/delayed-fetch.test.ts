import { describe, expect, it } from 'vitest';
import { PartitionWatchers } from '../../src/broker/delayed-fetch.js';
import { SimulatedTime } from '../../src/util/clock.js';

/** Whether `p` has settled, without waiting for it. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => {
    done = true;
  });
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('PartitionWatchers', () => {
  it('wakes a waiter when a watched partition becomes ready, and cleans up', async () => {
    const time = new SimulatedTime();
    const w = new PartitionWatchers(time);
    let bytes = 0;
    const p = w.waitFor(['t-0', 't-1'], () => bytes >= 10, 5000);
    w.notify('t-0'); // not enough yet: keeps waiting
    expect(w.size).toBe(2);
    bytes = 10;
    w.notify('t-1');
    expect(await p).toBe(true);
    expect(w.size).toBe(0);
    expect(time.pendingTasks).toBe(0); // its max_wait_ms timer is cancelled
  });

  it('times out with false only once max_wait_ms has passed on the node clock', async () => {
    const time = new SimulatedTime();
    const w = new PartitionWatchers(time);
    const p = w.waitFor(['t-0'], () => false, 50);
    await time.advance(49);
    expect(await settled(p)).toBe(false);
    expect(w.size).toBe(1);
    await time.advance(1);
    expect(await p).toBe(false);
    expect(w.size).toBe(0);
  });

  it('answers at once when already ready or max wait is 0', async () => {
    const time = new SimulatedTime();
    const w = new PartitionWatchers(time);
    expect(await w.waitFor(['t-0'], () => true, 10_000)).toBe(true);
    expect(await w.waitFor(['t-0'], () => false, 0)).toBe(false);
    expect(time.pendingTasks).toBe(0);
  });

  it('stops waiting when aborted (a closed connection)', async () => {
    const time = new SimulatedTime();
    const w = new PartitionWatchers(time);
    const ac = new AbortController();
    const p = w.waitFor(['t-0'], () => false, 10_000, ac.signal);
    ac.abort();
    expect(await p).toBe(false);
    expect(w.size).toBe(0);
    expect(time.pendingTasks).toBe(0);
  });
});
