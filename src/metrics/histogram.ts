// Plain counters for latency histograms, cheap enough for the request path: observe() is a short
// loop over the bucket bounds and three increments, no allocation. The Prometheus exposition
// (broker/prometheus.ts, loaded on the first scrape) reads them; nothing here depends on a
// metrics library, so storage and the network layer can record without loading one.

/** Bucket upper bounds in milliseconds for request times (Kafka's *TimeMs), 0.1 ms to 30 s. */
export const REQUEST_TIME_BUCKETS_MS: readonly number[] = [
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
];

/** Bucket upper bounds in milliseconds for an fdatasync, 50 µs to 5 s. */
export const FLUSH_TIME_BUCKETS_MS: readonly number[] = [
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
];

export class LatencyHistogram {
  /** counts[i]: observations <= bounds[i] and > bounds[i-1]; the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /** Cumulative counts per bound (Prometheus' le buckets), then +Inf (= count). */
  cumulative(): number[] {
    const out: number[] = [];
    let acc = 0;
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i];
      out.push(acc);
    }
    return out;
  }
}
