// The aborted transaction index of one segment (Kafka's TransactionIndex, `<base>.txnindex`): one
// entry per ABORT marker in the segment, in marker-offset order, so that a read_committed fetch
// learns which producers' records in the range it returns belong to aborted transactions.
//
// FILE FORMAT (Kafka's AbortedTxn, 34 bytes per entry, no header):
//   int16 version (0), int64 producer id, int64 first offset (the transaction's first record),
//   int64 last offset (the ABORT marker's offset), int64 last stable offset (the partition's LSO
//   once this transaction completed: the first offset of the oldest other open transaction, or the
//   marker offset + 1).
// As Kafka, the file exists only when the segment has an entry. Samsa keeps the entries in memory
// and writes the file atomically with the segment's other indexes (at roll, close, by the cleaner
// and after recovery); the active segment's entries are rebuilt from the log after a crash (the
// active segment is always rescanned then, see log-loader.ts and PartitionLog.open).
//
// Invariant: entries' last offsets are strictly increasing and lie in the segment.

export const TXN_INDEX_ENTRY_BYTES = 34;
const TXN_INDEX_VERSION = 0;

/** One aborted transaction (Kafka's AbortedTxn). Offsets are numbers (< 2^53) inside storage. */
export interface AbortedTxn {
  readonly producerId: bigint;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly lastStableOffset: number;
}

/** What a read_committed consumer needs of an aborted transaction (FetchResponse's AbortedTransaction). */
export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

export class TransactionIndex {
  private entries: AbortedTxn[];
  /** Whether the file may differ from memory. */
  dirty = false;

  constructor(entries: AbortedTxn[] = []) {
    this.entries = entries;
  }

  /** The entries of a `.txnindex` file's bytes; a torn or bad tail (crash mid-write) is dropped. */
  static decode(buf: Buffer): { entries: AbortedTxn[]; problem: string | null } {
    const entries: AbortedTxn[] = [];
    let p = 0;
    let problem: string | null = null;
    while (p + TXN_INDEX_ENTRY_BYTES <= buf.length) {
      const version = buf.readInt16BE(p);
      if (version !== TXN_INDEX_VERSION) {
        problem = `unknown entry version ${version} at byte ${p}`;
        break;
      }
      const e: AbortedTxn = {
        producerId: buf.readBigInt64BE(p + 2),
        firstOffset: Number(buf.readBigInt64BE(p + 10)),
        lastOffset: Number(buf.readBigInt64BE(p + 18)),
        lastStableOffset: Number(buf.readBigInt64BE(p + 26)),
      };
      const prev = entries[entries.length - 1];
      if (e.firstOffset > e.lastOffset || (prev !== undefined && e.lastOffset <= prev.lastOffset)) {
        problem = `entry at byte ${p} is out of order`;
        break;
      }
      entries.push(e);
      p += TXN_INDEX_ENTRY_BYTES;
    }
    if (problem === null && p !== buf.length) problem = `${buf.length - p} trailing bytes`;
    return { entries, problem };
  }

  static encodeEntry(e: AbortedTxn, out: Buffer, p: number): void {
    out.writeInt16BE(TXN_INDEX_VERSION, p);
    out.writeBigInt64BE(e.producerId, p + 2);
    out.writeBigInt64BE(BigInt(e.firstOffset), p + 10);
    out.writeBigInt64BE(BigInt(e.lastOffset), p + 18);
    out.writeBigInt64BE(BigInt(e.lastStableOffset), p + 26);
  }

  /** The file's bytes. */
  bytes(): Buffer {
    const out = Buffer.allocUnsafe(this.entries.length * TXN_INDEX_ENTRY_BYTES);
    for (let i = 0; i < this.entries.length; i++) {
      TransactionIndex.encodeEntry(this.entries[i], out, i * TXN_INDEX_ENTRY_BYTES);
    }
    return out;
  }

  get size(): number {
    return this.entries.length;
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** The entries, in marker order (a copy). */
  allEntries(): AbortedTxn[] {
    return this.entries.slice();
  }

  /** Adds an entry; its marker must follow the last one (Kafka refuses an out-of-order append). */
  append(e: AbortedTxn): void {
    const last = this.entries[this.entries.length - 1];
    if (last !== undefined && e.lastOffset <= last.lastOffset) {
      throw new Error(`aborted txn marker ${e.lastOffset} does not follow ${last.lastOffset}`);
    }
    this.entries.push(e);
    this.dirty = true;
  }

  /** Drops the entries whose marker is at or after `offset` (the segment is truncated there). */
  truncateTo(offset: number): void {
    let n = this.entries.length;
    while (n > 0 && this.entries[n - 1].lastOffset >= offset) n--;
    if (n < this.entries.length) {
      this.entries = this.entries.slice(0, n);
      this.dirty = true;
    }
  }

  /** Removes every entry (the segment is rescanned and its entries rebuilt). */
  reset(): void {
    if (this.entries.length > 0) this.dirty = true;
    this.entries = [];
  }

  /**
   * Kafka's TransactionIndex.collectAbortedTxns: appends to `out` the entries overlapping
   * [fetchOffset, upperBoundOffset) and returns whether the search is complete (an entry's last
   * stable offset reached the upper bound: no later segment can hold a transaction that
   * started below it).
   */
  collect(fetchOffset: number, upperBoundOffset: number, out: AbortedTxn[]): boolean {
    for (const e of this.entries) {
      if (e.lastOffset >= fetchOffset && e.firstOffset < upperBoundOffset) out.push(e);
      if (e.lastStableOffset >= upperBoundOffset) return true;
    }
    return false;
  }
}
