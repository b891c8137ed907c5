// The sparse offset index of one segment (Kafka's OffsetIndex, the `.index` file).
//
// File format, as Kafka's: 8-byte entries, big-endian
//   relativeOffset int32 (offset - segment baseOffset) | position int32 (byte position in the .log)
// An entry maps the LAST offset of a batch to the position where that batch starts (Kafka 3.x's
// LogSegment.append), one entry every index.interval.bytes of log.
//
// Invariants: relative offsets and positions are both strictly increasing. The entries live in
// memory in exactly the file format, so persisting is one write and loading is one read. Kafka
// preallocates and mmaps the file; Samsa writes it whole when a segment becomes inactive or the log
// closes, and rebuilds it by rescanning the segment whenever it is missing or fails its checks.

const ENTRY_SIZE = 8;
const INITIAL_CAPACITY = 64;
/** The buffer of every index without entries (never written: appends first grow the buffer). */
const NO_ENTRIES = Buffer.alloc(0);

export interface OffsetPosition {
  /** Absolute offset of the entry (the last offset of the batch at `position`). */
  readonly offset: number;
  readonly position: number;
}

export class OffsetIndex {
  static readonly ENTRY_SIZE = ENTRY_SIZE;
  readonly baseOffset: number;
  /** Entries allowed before the index counts as full (segment.index.bytes / 8). */
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

  /** Bytes the file holds (or will hold). */
  get sizeInBytes(): number {
    return this.count * ENTRY_SIZE;
  }

  entry(i: number): OffsetPosition {
    const p = i * ENTRY_SIZE;
    return { offset: this.baseOffset + this.buf.readInt32BE(p), position: this.buf.readInt32BE(p + 4) };
  }

  lastEntry(): OffsetPosition | null {
    return this.count === 0 ? null : this.entry(this.count - 1);
  }

  /**
   * Appends an entry. Offsets and positions must increase strictly; the index may grow past
   * maxEntries (a multi-batch append or a rebuild), `isFull` then tells the log to roll.
   */
  append(offset: number, position: number): void {
    const rel = offset - this.baseOffset;
    if (rel < 0 || rel > 0x7fffffff)
      throw new RangeError(`offset ${offset} not relative to ${this.baseOffset}`);
    if (this.count > 0) {
      const last = this.entry(this.count - 1);
      if (offset <= last.offset || position <= last.position) {
        throw new RangeError(`index entry (${offset}, ${position}) after (${last.offset}, ${last.position})`);
      }
    }
    const p = this.count * ENTRY_SIZE;
    if (p + ENTRY_SIZE > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(INITIAL_CAPACITY * ENTRY_SIZE, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, p);
      this.buf = grown;
    }
    this.buf.writeInt32BE(rel, p);
    this.buf.writeInt32BE(position, p + 4);
    this.count++;
  }

  /**
   * The entry with the largest offset <= target, or (baseOffset, 0) if none: a batch at or before
   * the one holding `target` starts at that position.
   */
  lookup(target: number): OffsetPosition {
    const rel = target - this.baseOffset;
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.buf.readInt32BE(mid * ENTRY_SIZE) <= rel) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? { offset: this.baseOffset, position: 0 } : this.entry(found);
  }

  /** Removes the entries for offsets >= `offset` (Kafka's truncateTo). */
  truncateTo(offset: number): void {
    const rel = offset - this.baseOffset;
    while (this.count > 0 && this.buf.readInt32BE((this.count - 1) * ENTRY_SIZE) >= rel) this.count--;
  }

  /** Removes the entries whose batch starts at or after `position` (truncation of the log). */
  truncateToPosition(position: number): void {
    while (this.count > 0 && this.buf.readInt32BE((this.count - 1) * ENTRY_SIZE + 4) >= position)
      this.count--;
  }

  reset(): void {
    this.count = 0;
  }

  /** The file content: a view, valid until the next append. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.count * ENTRY_SIZE);
  }

  /**
   * Checks an index loaded from disk against its log (Kafka's sanityCheck, stricter): whole
   * entries, strictly increasing offsets and positions, every position inside the log. Returns the
   * problem, or null. The caller also verifies the last entry against the batch it points at.
   */
  static check(data: Buffer, logSize: number): string | null {
    if (data.length % ENTRY_SIZE !== 0) return `size ${data.length} is not a multiple of ${ENTRY_SIZE}`;
    let lastRel = -1;
    let lastPos = -1;
    for (let p = 0; p < data.length; p += ENTRY_SIZE) {
      const rel = data.readInt32BE(p);
      const pos = data.readInt32BE(p + 4);
      if (rel <= lastRel) return `entry ${p / ENTRY_SIZE} offset ${rel} is not increasing`;
      if (pos < 0 || pos <= lastPos) return `entry ${p / ENTRY_SIZE} position ${pos} is not increasing`;
      if (pos >= logSize) return `entry ${p / ENTRY_SIZE} position ${pos} is past the log's ${logSize} bytes`;
      lastRel = rel;
      lastPos = pos;
    }
    return null;
  }
}
