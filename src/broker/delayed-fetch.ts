// Long-poll support for Fetch (Kafka's DelayedFetch in its purgatory): a fetch that found fewer
// than min_bytes waits until a partition it reads gets new data or max_wait_ms passes, whichever
// comes first. Partitions signal new data through `notify`; waiters re-check and decide.

import type { Scheduler } from '../util/clock.js';

export class PartitionWatchers {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** `scheduler`: the node's timers (max_wait_ms runs on them). */
  constructor(private readonly scheduler: Scheduler) {}

  /** Wakes everything waiting on this partition (new records, a high watermark move, deletion). */
  notify(partitionKey: string): void {
    const set = this.waiters.get(partitionKey);
    if (!set) return;
    this.waiters.delete(partitionKey);
    for (const wake of set) wake();
  }

  /**
   * Resolves once `ready()` holds after a notify on one of the partitions, or after `maxWaitMs`,
   * or when `signal` aborts; resolves `true` when ready, `false` on time-out or abort.
   */
  waitFor(
    partitionKeys: readonly string[],
    ready: () => boolean,
    maxWaitMs: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    if (maxWaitMs <= 0 || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      let done = false;
      const finish = (result: boolean) => {
        if (done) return;
        done = true;
        cancelTimeout();
        signal?.removeEventListener('abort', onAbort);
        for (const k of partitionKeys) this.waiters.get(k)?.delete(wake);
        resolve(result);
      };
      const wake = () => {
        if (done) return;
        if (ready()) finish(true);
        else this.register(partitionKeys, wake);
      };
      const onAbort = () => finish(false);
      const cancelTimeout = this.scheduler.schedule(maxWaitMs, () => finish(false));
      signal?.addEventListener('abort', onAbort);
      this.register(partitionKeys, wake);
    });
  }

  /** Waiters currently registered (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const s of this.waiters.values()) n += s.size;
    return n;
  }

  private register(keys: readonly string[], wake: () => void): void {
    for (const k of keys) {
      let set = this.waiters.get(k);
      if (!set) {
        set = new Set();
        this.waiters.set(k, set);
      }
      set.add(wake);
    }
  }
}
