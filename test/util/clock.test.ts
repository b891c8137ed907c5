// The node's clock: SYSTEM_TIME (real timers, cancellable, unref'd) and SimulatedTime (manual
// time, due tasks run in due-time order then in the order scheduled), and the storage-style
// periodic async task (a run skipped while the previous one is going).

import { describe, expect, it } from 'vitest';
import { SimulatedTime, SYSTEM_TIME, schedulePeriodicAsync } from '../../src/util/clock.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `cond` until it holds (real time), so no assertion depends on how fast the machine is. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(10);
  expect(cond()).toBe(true);
}

describe('SYSTEM_TIME', () => {
  it('fires after the delay unless cancelled', async () => {
    const fired: string[] = [];
    const start = SYSTEM_TIME.now();
    SYSTEM_TIME.schedule(5, () => fired.push('kept'));
    const cancel = SYSTEM_TIME.schedule(5, () => fired.push('cancelled'));
    cancel();
    await until(() => fired.length > 0);
    await sleep(20);
    expect(fired).toEqual(['kept']);
    expect(SYSTEM_TIME.now() - start).toBeGreaterThanOrEqual(4);
  });

  it('does not fire a delay beyond setTimeout’s limit at once', async () => {
    const fired: string[] = [];
    const cancel = SYSTEM_TIME.schedule(2 ** 31 + 1000, () => fired.push('early'));
    await sleep(20);
    cancel();
    expect(fired).toEqual([]);
  });

  it('runs a periodic task until cancelled', async () => {
    let runs = 0;
    const cancel = SYSTEM_TIME.schedulePeriodic(2, () => runs++);
    await until(() => runs >= 3);
    cancel();
    const after = runs;
    await sleep(30);
    expect(runs).toBe(after);
  });

  it('does not run a period beyond setInterval’s limit at once, and cancels it', async () => {
    let runs = 0;
    const cancel = SYSTEM_TIME.schedulePeriodic(2 ** 31 + 1000, () => runs++);
    await sleep(20);
    cancel();
    expect(runs).toBe(0);
  });

  it('has a monotonic reading that never goes back', () => {
    const a = SYSTEM_TIME.monotonicNs();
    const b = SYSTEM_TIME.monotonicNs();
    expect(b >= a).toBe(true);
  });
});

describe('SimulatedTime', () => {
  it('moves only when advanced, and runs tasks at their due time', async () => {
    const time = new SimulatedTime(1000);
    const seen: Array<[string, number]> = [];
    time.schedule(50, () => seen.push(['b', time.now()]));
    time.schedule(10, () => seen.push(['a', time.now()]));
    expect(time.now()).toBe(1000);
    await time.advance(9);
    expect(seen).toEqual([]);
    expect(time.now()).toBe(1009);
    await time.advance(100);
    expect(seen).toEqual([
      ['a', 1010],
      ['b', 1050],
    ]);
    expect(time.now()).toBe(1109);
    expect(time.monotonicNs()).toBe(1109n * 1_000_000n);
  });

  it('runs tasks due at the same time in the order they were scheduled (FIFO)', async () => {
    const time = new SimulatedTime(0);
    const order: number[] = [];
    for (const i of [1, 2, 3]) time.schedule(5, () => order.push(i));
    time.schedule(4, () => order.push(0));
    await time.advance(5);
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('runs tasks scheduled by a task when they fall due within the same advance', async () => {
    const time = new SimulatedTime(0);
    const at: number[] = [];
    time.schedule(10, () => {
      at.push(time.now());
      time.schedule(0, () => at.push(time.now()));
      time.schedule(15, () => at.push(time.now()));
      time.schedule(100, () => at.push(time.now()));
    });
    await time.advance(30);
    expect(at).toEqual([10, 10, 25]);
    expect(time.pendingTasks).toBe(1);
    expect(time.nextTaskAt()).toBe(110);
  });

  it('cancels one-shot and periodic tasks; a negative delay counts as 0', async () => {
    const time = new SimulatedTime(0);
    const fired: string[] = [];
    const cancelOnce = time.schedule(5, () => fired.push('once'));
    const cancelEvery = time.schedulePeriodic(5, () => fired.push('every'));
    time.schedule(-7, () => fired.push('now'));
    await time.advance(0);
    expect(fired).toEqual(['now']);
    cancelOnce();
    await time.advance(10);
    expect(fired).toEqual(['now', 'every', 'every']);
    cancelEvery();
    await time.advance(100);
    expect(fired).toEqual(['now', 'every', 'every']);
    expect(time.pendingTasks).toBe(0);
    expect(time.nextTaskAt()).toBeNull();
  });

  it('runs a periodic task once per period crossed, and lists named tasks', async () => {
    const time = new SimulatedTime(0);
    const runs: number[] = [];
    time.schedulePeriodic(100, () => runs.push(time.now()), { name: 'kafka-log-retention' });
    time.schedule(1, () => {}, { name: 'one-shot' });
    expect(time.taskNames).toEqual(['kafka-log-retention', 'one-shot']);
    await time.advance(350);
    expect(runs).toEqual([100, 200, 300]);
    expect(time.taskNames).toEqual(['kafka-log-retention']);
  });

  it('never goes back; advance resolves once the promises of the tasks it ran settle', async () => {
    const time = new SimulatedTime(500);
    await time.advanceTo(100);
    expect(time.now()).toBe(500);
    let done = false;
    let release!: () => void;
    time.schedule(1, () =>
      new Promise<void>((r) => {
        release = r;
      }).then(() => {
        done = true;
      }),
    );
    time.schedule(2, () => Promise.reject(new Error('ignored by advance')));
    const advanced = time.advance(5);
    expect(done).toBe(false);
    release();
    await advanced;
    expect(done).toBe(true);
  });
});

describe('schedulePeriodicAsync', () => {
  it('skips a run while the previous one is going and reports failures', async () => {
    const time = new SimulatedTime(0);
    const errors: string[] = [];
    let started = 0;
    let release: (() => void) | undefined;
    let fail = false;
    const cancel = schedulePeriodicAsync(
      time,
      'task',
      10,
      () => {
        started++;
        if (fail) return Promise.reject(new Error('disk'));
        return new Promise<void>((r) => {
          release = r;
        });
      },
      (name, e) => errors.push(`${name}: ${(e as Error).message}`),
    );
    void time.advance(30); // three periods, one run: the first is still going
    expect(started).toBe(1);
    release?.();
    await new Promise((r) => setImmediate(r));
    fail = true;
    await time.advance(10);
    expect(started).toBe(2);
    expect(errors).toEqual(['task: disk']);
    fail = false;
    const next = time.advance(10); // a failure does not stop the schedule
    expect(started).toBe(3);
    release?.();
    await next;
    cancel();
    await time.advance(100);
    expect(started).toBe(3);
  });
});
