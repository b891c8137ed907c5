// One shape of time for the whole node (Kafka's Time + Scheduler, see DESIGN.md "One clock").
//
// Every module of the broker reads the time and sets its timers through a `Clock & Scheduler`
// (the `NodeTime` type) handed down from `startBroker`: storage (retention, flush, checkpoints,
// the cleaner), the group and transaction coordinators, fetch sessions, delayed fetch, the
// controller and the broker's own bookkeeping. This file is the only one (outside src/client and
// src/cli) that touches Date.now, setTimeout, setInterval or process.hrtime; a test greps src/ so
// that stays true. Two implementations:
// - SYSTEM_TIME: the wall clock and Node's timers, unref'd so that a pending timer (a session
//   timeout, a retention check) never keeps the process alive;
// - SimulatedTime: a clock that moves only when told; `advance(ms)` runs the tasks that fall due,
//   in due-time order then in the order they were scheduled, so a whole node runs deterministically.

/** Cancels a scheduled task; calling it again, or after a one-shot task ran, does nothing. */
export type Cancel = () => void;

export interface Clock {
  /** Wall-clock milliseconds since the epoch (record timestamps, retention, session deadlines). */
  now(): number;
  /** A monotonic reading in nanoseconds, for measuring durations; unrelated to `now()`. */
  monotonicNs(): bigint;
}

export interface ScheduleOptions {
  /** A name for logs and tests (Kafka names its scheduler tasks: "kafka-log-retention"...). */
  name?: string;
  /**
   * false: the timer keeps the process alive while pending (Node's default). Every timer of the
   * broker is unref'd (true, the default): only its sockets keep it alive.
   */
  unref?: boolean;
}

/**
 * A task's return value is ignored by the real scheduler; a promise returned from a task lets the
 * simulated one report when the work it started has finished (`SimulatedTime.advance`).
 */
export type Task = () => unknown;

export interface Scheduler {
  /** Runs `task` once, `delayMs` from now (a negative delay counts as 0). */
  schedule(delayMs: number, task: Task, options?: ScheduleOptions): Cancel;
  /** Runs `task` every `periodMs`, the first run `periodMs` from now, until cancelled. */
  schedulePeriodic(periodMs: number, task: Task, options?: ScheduleOptions): Cancel;
}

/** What a node is given: the time and the timers. */
export type NodeTime = Clock & Scheduler;

/** setTimeout's longest delay; a longer one would fire at once (Node's TimeoutOverflowWarning). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The wall clock and Node's timers. Delays beyond setTimeout's limit are waited out in steps. */
export const SYSTEM_TIME: NodeTime = {
  now: () => Date.now(),
  // process.hrtime, not the global performance: its first use loads perf_hooks (1 ms of start).
  monotonicNs: () => process.hrtime.bigint(),
  schedule(delayMs: number, task: Task, options?: ScheduleOptions): Cancel {
    const unref = options?.unref ?? true;
    let timer: NodeJS.Timeout;
    const arm = (remainingMs: number): void => {
      const stepMs = Math.min(remainingMs, MAX_TIMEOUT_MS);
      timer = setTimeout(() => (remainingMs > stepMs ? arm(remainingMs - stepMs) : task()), stepMs);
      if (unref) timer.unref();
    };
    arm(Math.max(0, delayMs));
    return () => clearTimeout(timer);
  },
  schedulePeriodic(periodMs: number, task: Task, options?: ScheduleOptions): Cancel {
    if (periodMs > MAX_TIMEOUT_MS) {
      // setInterval cannot wait that long: one-shots in a chain, each armed when the last fires.
      let cancelNext: Cancel = () => {};
      let cancelled = false;
      const arm = (): void => {
        cancelNext = SYSTEM_TIME.schedule(
          periodMs,
          () => {
            if (cancelled) return;
            arm();
            task();
          },
          options,
        );
      };
      arm();
      return () => {
        cancelled = true;
        cancelNext();
      };
    }
    const timer = setInterval(task, Math.max(1, periodMs));
    if (options?.unref ?? true) timer.unref();
    return () => clearInterval(timer);
  },
};

interface SimulatedTask {
  at: number;
  seq: number;
  task: Task;
  /** Set for a periodic task: when it runs, it is scheduled again this much later. */
  periodMs: number | undefined;
  name: string | undefined;
  cancelled: boolean;
}

/**
 * Manual time for tests and simulation. The clock starts at `startMs` and moves only through
 * `advance`/`advanceTo`; the monotonic reading follows it. Tasks run synchronously inside
 * `advance`, each with `now()` equal to its due time.
 */
export class SimulatedTime implements NodeTime {
  private nowMs: number;
  private nextSeq = 0;
  private tasks: SimulatedTask[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  monotonicNs(): bigint {
    return BigInt(this.nowMs) * 1_000_000n;
  }

  schedule(delayMs: number, task: Task, options?: ScheduleOptions): Cancel {
    return this.add(Math.max(0, delayMs), task, undefined, options?.name);
  }

  schedulePeriodic(periodMs: number, task: Task, options?: ScheduleOptions): Cancel {
    // A period under 1 ms would make advance() loop forever at one instant.
    const period = Math.max(1, periodMs);
    return this.add(period, task, period, options?.name);
  }

  /**
   * Moves the clock by `ms`, running every task that falls due, including ones scheduled meanwhile
   * (by due time, then in the order scheduled). The tasks run before this returns; the promise it
   * returns settles once the promises those tasks returned have settled (their errors ignored), so
   * `await time.advance(ms)` also waits for asynchronous work such as a retention pass.
   */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.nowMs + Math.max(0, ms));
  }

  /** Moves the clock to `targetMs` (never backwards); see `advance`. */
  advanceTo(targetMs: number): Promise<void> {
    const target = Math.max(this.nowMs, targetMs);
    const started: Promise<unknown>[] = [];
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.nowMs = next.at;
      if (next.periodMs === undefined) next.cancelled = true;
      else {
        next.at += next.periodMs;
        next.seq = this.nextSeq++;
      }
      const result = next.task();
      if (result instanceof Promise) started.push(result);
    }
    this.nowMs = target;
    this.tasks = this.tasks.filter((t) => !t.cancelled);
    return Promise.allSettled(started).then(() => {});
  }

  /** When the next task is due, or null when none is pending. */
  nextTaskAt(): number | null {
    let at: number | null = null;
    for (const t of this.tasks) if (!t.cancelled && (at === null || t.at < at)) at = t.at;
    return at;
  }

  /** Tasks waiting to run (a periodic task counts once). */
  get pendingTasks(): number {
    return this.tasks.filter((t) => !t.cancelled).length;
  }

  /** The names of the pending tasks that were given one, in the order scheduled. */
  get taskNames(): string[] {
    return this.tasks.filter((t) => !t.cancelled && t.name !== undefined).map((t) => t.name as string);
  }

  private add(delayMs: number, task: Task, periodMs: number | undefined, name: string | undefined): Cancel {
    const entry: SimulatedTask = {
      at: this.nowMs + delayMs,
      seq: this.nextSeq++,
      task,
      periodMs,
      name,
      cancelled: false,
    };
    this.tasks.push(entry);
    return () => {
      entry.cancelled = true;
    };
  }

  private nextDue(target: number): SimulatedTask | undefined {
    let next: SimulatedTask | undefined;
    for (const t of this.tasks) {
      if (t.cancelled || t.at > target) continue;
      if (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)) next = t;
    }
    return next;
  }
}

/** A Clock that reads `nowMs()` (a test's variable time); its monotonic reading follows it. */
export function clockOf(nowMs: () => number): Clock {
  return { now: nowMs, monotonicNs: () => BigInt(Math.trunc(nowMs())) * 1_000_000n };
}

/**
 * Runs the asynchronous `task` every `periodMs` on `scheduler`. A run is skipped while the
 * previous one is still going, so a slow disk never stacks up work; a failure goes to `onError`
 * and the next period runs as usual. Returns the cancel of the periodic task.
 */
export function schedulePeriodicAsync(
  scheduler: Scheduler,
  name: string,
  periodMs: number,
  task: () => Promise<void>,
  onError: (name: string, e: unknown) => void,
): Cancel {
  let running = false;
  return scheduler.schedulePeriodic(
    periodMs,
    () => {
      if (running) return undefined;
      running = true;
      return task()
        .catch((e) => onError(name, e))
        .finally(() => {
          running = false;
        });
    },
    { name },
  );
}
