// The time index of one segment (Kafka's TimeIndex, the `.timeindex` file).
//
// File format, as Kafka's: 12-byte entries, big-endian
//   timestamp int64 (the segment's max timestamp so far) | relativeOffset int32
// An entry (T, O) says: every batch appended up to the entry's batch has maxTimestamp <= T, and O is
// the last offset of the batch that carried T. Entries are added beside offset index entries, only
// when T grows, plus a final entry for the segment's max timestamp when it becomes inactive, so
// the last entry gives the segment's largest timestamp (retention.ms, ListOffsets -3).
//
// Invariants: timestamps strictly increasing, offsets non-decreasing. Held in memory in the file
// format; persisted and rebuilt like the offset index.

const ENTRY_SIZE = 12;
const INITIAL_CAPACITY = 32;
/** The buffer of every index without entries (never written: appends first grow the buffer). */
const NO_ENTRIES = Buffer.alloc(0);

export interface TimestampOffset {
  readonly timestamp: number;
  readonly offset: number;
}

function readTs(buf: Buffer, p: number): number {
  return buf.readInt32BE(p) * 0x1_0000_0000 + buf.readUInt32BE(p + 4);
}

function writeTs(buf: Buffer, p: number, ts: number): void {
  buf.writeBigInt64BE(BigInt(ts), p);
}

export class TimeIndex {
  static readonly ENTRY_SIZE = ENTRY_SIZE;
  readonly baseOffset: number;
  readonly maxEntries: number;
  private buf: Buffer;
  private count = 0;

  constructor(baseOffset: number, maxIndexBytes: number, data?: Buffer) {
    this.baseOffset = baseOffset;
    this.maxEntries = Math.max(1, Math.floor(maxIndexBytes / ENTRY_SIZE));
    const n = data ? data.length - (data.length % ENTRY_SIZE) : 0;
    // Room to grow: a loaded index of the active segment takes appends. An empty index takes no
    // memory until its first entry (most segments of a broker with many partitions stay empty).
    this.buf = n === 0 ? NO_ENTRIES : Buffer.allocUnsafe(Math.max(INITIAL_CAPACITY * ENTRY_SIZE, n * 2));
    if (n > 0) data!.copy(this.buf, 0, 0, n);
    this.count = n / ENTRY_SIZE;
  }

  get entries(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  get sizeInBytes(): number {
    return this.count * ENTRY_SIZE;
  }

  entry(i: number): TimestampOffset {
    const p = i * ENTRY_SIZE;
    return { timestamp: readTs(this.buf, p), offset: this.baseOffset + this.buf.readInt32BE(p + 8) };
  }

  /** The last entry, or (-1, baseOffset) for an empty index (Kafka's lastEntry). */
  lastEntry(): TimestampOffset {
    return this.count === 0 ? { timestamp: -1, offset: this.baseOffset } : this.entry(this.count - 1);
  }

  /** Appends (timestamp, offset) if the timestamp is larger than the last entry's (maybeAppend). */
  maybeAppend(timestamp: number, offset: number): void {
    const rel = offset - this.baseOffset;
    if (rel < 0 || rel > 0x7fffffff)
      throw new RangeError(`offset ${offset} not relative to ${this.baseOffset}`);
    // As Kafka: an empty index's last entry is (-1, baseOffset), so "no timestamp" is never indexed.
    const last = this.lastEntry();
    if (timestamp <= last.timestamp) return;
    if (offset < last.offset) throw new RangeError(`time index offset ${offset} before ${last.offset}`);
    const p = this.count * ENTRY_SIZE;
    if (p + ENTRY_SIZE > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(INITIAL_CAPACITY * ENTRY_SIZE, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, p);
      this.buf = grown;
    }
    writeTs(this.buf, p, timestamp);
    this.buf.writeInt32BE(rel, p + 8);
    this.count++;
  }

  /**
   * The entry with the largest timestamp strictly below `target`, or (-1, baseOffset): no batch up
   * to that entry's batch holds a timestamp >= target, so a search for the first record with
   * timestamp >= target may start at the entry's offset. (Kafka takes <=, which can skip an earlier
   * record with exactly the target timestamp; strict is always correct.)
   */
  lookupBelow(target: number): TimestampOffset {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (readTs(this.buf, mid * ENTRY_SIZE) < target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? { timestamp: -1, offset: this.baseOffset } : this.entry(found);
  }

  /** Removes the entries for offsets >= `offset`. */
  truncateTo(offset: number): void {
    const rel = offset - this.baseOffset;
    while (this.count > 0 && this.buf.readInt32BE((this.count - 1) * ENTRY_SIZE + 8) >= rel) this.count--;
  }

  reset(): void {
    this.count = 0;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.count * ENTRY_SIZE);
  }

  /**
   * Checks a time index loaded from disk: whole entries, strictly increasing timestamps,
   * non-decreasing offsets, all within [0, maxRelativeOffset]. Returns the problem, or null.
   */
  static check(data: Buffer, maxRelativeOffset: number): string | null {
    if (data.length % ENTRY_SIZE !== 0) return `size ${data.length} is not a multiple of ${ENTRY_SIZE}`;
    let lastTs = -1;
    let lastRel = 0;
    for (let p = 0; p < data.length; p += ENTRY_SIZE) {
      const ts = readTs(data, p);
      const rel = data.readInt32BE(p + 8);
      if (ts <= lastTs) return `entry ${p / ENTRY_SIZE} timestamp ${ts} is not increasing`;
      if (rel < lastRel || rel > maxRelativeOffset)
        return `entry ${p / ENTRY_SIZE} offset ${rel} out of order or past the segment`;
      lastTs = ts;
      lastRel = rel;
    }
    return null;
  }
}
