// The cleaner's key -> latest offset map (Kafka's SkimpyOffsetMap), bounded by
// log.cleaner.dedupe.buffer.size.
//
// Kafka stores a 16-byte MD5 of each key in a fixed array of slots and accepts the (tiny) chance
// that two keys collide, which would make the cleaner drop a live record. Here the map is keyed by
// the key bytes themselves (as a latin1 string: one byte per char, exact), so there are no
// collisions; memory is bounded by charging each entry its key length plus a fixed estimate of a
// JS Map entry's overhead against the budget. The cleaner checks `isFull` between batches, so the
// map can exceed its budget by at most one batch's keys (which also guarantees that each round
// makes progress, however small the budget).
//
// `latestOffset` is the last offset the map covers: records above it were not looked at, and the
// cleaner keeps them whatever their key.

/** Estimated bytes of one entry besides its key: Map slot, string header, boxed offset. */
export const OFFSET_MAP_ENTRY_OVERHEAD = 80;
/** V8 Maps hold at most 2^24 entries. */
const MAX_ENTRIES = (1 << 24) - 1;

export class OffsetMap {
  readonly capacityBytes: number;
  private readonly map = new Map<string, number>();
  private usedBytes = 0;
  /** The last offset the map covers (-1 when none). */
  latestOffset = -1;

  constructor(capacityBytes: number) {
    if (!(capacityBytes > 0)) throw new RangeError(`offset map capacity ${capacityBytes}`);
    this.capacityBytes = capacityBytes;
  }

  get size(): number {
    return this.map.size;
  }

  /** Bytes charged so far (keys plus the per-entry estimate). */
  get bytes(): number {
    return this.usedBytes;
  }

  /** No more keys should be added (checked between batches). */
  get isFull(): boolean {
    return this.usedBytes >= this.capacityBytes || this.map.size >= MAX_ENTRIES - 1_000_000;
  }

  /** Fraction of the budget in use (Kafka's utilization, for the cleaner's log line). */
  get utilization(): number {
    return this.usedBytes / this.capacityBytes;
  }

  /** Records `offset` as the latest offset of `key` (offsets arrive in increasing order). */
  put(key: Buffer, offset: number): void {
    const k = key.toString('latin1');
    if (!this.map.has(k)) this.usedBytes += OFFSET_MAP_ENTRY_OVERHEAD + key.length;
    this.map.set(k, offset);
  }

  /** The latest offset of `key`, or -1 when the map does not hold it. */
  get(key: Buffer): number {
    return this.map.get(key.toString('latin1')) ?? -1;
  }

  clear(): void {
    this.map.clear();
    this.usedBytes = 0;
    this.latestOffset = -1;
  }
}
