// The periodic tasks of the storage layer (retention, checkpoints, flush.ms) run through this
// interface, so that tests drive them by hand and the broker can share one timer service.

export interface Scheduler {
  /** Runs `task` every `periodMs`; returns a function that cancels it. */
  schedule(name: string, periodMs: number, task: () => Promise<void>): () => void;
}

/**
 * setInterval-based: timers are unref'd (they never keep the process alive) and a run is skipped
 * while the previous run of the same task is still going, so slow disks never stack up work.
 */
export class TimerScheduler implements Scheduler {
  constructor(private readonly onError: (name: string, e: unknown) => void = () => {}) {}

  schedule(name: string, periodMs: number, task: () => Promise<void>): () => void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      task()
        .catch((e) => this.onError(name, e))
        .finally(() => {
          running = false;
        });
    }, periodMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}

/** A scheduler whose tasks run only when the test says so. */
export class ManualScheduler implements Scheduler {
  private readonly tasks = new Map<string, { periodMs: number; task: () => Promise<void> }>();

  schedule(name: string, periodMs: number, task: () => Promise<void>): () => void {
    this.tasks.set(name, { periodMs, task });
    return () => this.tasks.delete(name);
  }

  get names(): string[] {
    return [...this.tasks.keys()];
  }

  /** Runs the named task (or every task) once. */
  async run(name?: string): Promise<void> {
    for (const [n, t] of this.tasks) if (name === undefined || n === name) await t.task();
  }
}
