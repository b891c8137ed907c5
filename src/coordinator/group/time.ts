// CoordinatorTime: the clock and the timers of the group coordinator.
//
// Every timer the coordinator sets (session timeouts, the rebalance timeout, the initial rebalance
// delay, the pending-sync timeout, the offset-expiry task) goes through this interface, so tests run
// the whole state machine on a fake clock without sleeping.

export interface CoordinatorTime {
  now(): number;
  /** Calls fn after delayMs; returns a function that cancels it. */
  schedule(delayMs: number, fn: () => void): () => void;
}

/** setTimeout's longest delay; a longer one would fire at once (Node's TimeoutOverflowWarning). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The wall clock and setTimeout. Timers are unref'd: a pending session timeout never keeps the
 *  process alive. Delays beyond setTimeout's limit are waited out in steps. */
export const SYSTEM_COORDINATOR_TIME: CoordinatorTime = {
  now: () => Date.now(),
  schedule(delayMs: number, fn: () => void): () => void {
    let timer: NodeJS.Timeout;
    const arm = (remainingMs: number): void => {
      const stepMs = Math.min(remainingMs, MAX_TIMEOUT_MS);
      timer = setTimeout(() => (remainingMs > stepMs ? arm(remainingMs - stepMs) : fn()), stepMs);
      timer.unref();
    };
    arm(Math.max(0, delayMs));
    return () => clearTimeout(timer);
  },
};
