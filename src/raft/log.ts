// The replicated log as the Raft state machine sees it (Kafka's ReplicatedLog): a sequence of
// whole v2 record batches, each stamped with the leader epoch that appended it, plus the leader
// epoch cache (leader-epoch-checkpoint) that answers "where does epoch E end?".
//
// Reads, appends and truncations are synchronous: they act on the log as the operating system
// holds it (page cache). Durability is the asynchronous part: the state machine asks for a flush
// (an output) and is told when it completed (an input). MemoryRaftLog is the in-memory
// implementation used by the simulation: it keeps the durable prefix apart so that a simulated
// crash loses exactly what was not flushed.
//
// Offsets are numbers here: the metadata log stays far below 2^53 records; bigint is used on the
// wire only.

export interface RaftBatch {
  baseOffset: number;
  lastOffset: number;
  /** The leader epoch that appended the batch (its partitionLeaderEpoch). */
  epoch: number;
  /** The complete v2 batch, baseOffset and partitionLeaderEpoch written in. */
  bytes: Buffer;
}

export interface OffsetAndEpoch {
  offset: number;
  epoch: number;
}

/**
 * A snapshot (KIP-630): the state of everything below endOffset, as the application wrote it
 * (Kafka's <endOffset>-<epoch>.checkpoint). epoch is the epoch of the entry at endOffset - 1.
 * Written durably before the log uses it.
 */
export interface RaftSnapshot {
  endOffset: number;
  epoch: number;
  bytes: Buffer;
}

export interface RaftLog {
  /** The log start offset: the end of the latest snapshot, 0 without one. */
  startOffset(): number;
  /** The offset the next appended batch gets (log end offset). */
  endOffset(): number;
  /** The epoch of the last batch; of the snapshot when no batch follows it; 0 for an empty log. */
  lastFetchedEpoch(): number;
  /**
   * The largest epoch ≤ `epoch` that the log holds, and the offset where it ends (the start of the
   * next epoch, or the log end for the last one). The snapshot counts as an entry of its epoch
   * ending at its end offset. An epoch below all of these: (0, start).
   */
  endOffsetForEpoch(epoch: number): OffsetAndEpoch;
  /** Appends at the log end: batch.baseOffset must equal endOffset(), epochs never decrease. */
  append(batch: RaftBatch): void;
  /** Removes every batch at or above `offset` (a batch straddling it goes whole). */
  truncateTo(offset: number): void;
  /** Whole batches from the one holding `fromOffset`, at least one, then while under maxBytes. */
  read(fromOffset: number, maxBytes: number): RaftBatch[];
  /** The batch holding `offset`, if the log has it. */
  batchAt(offset: number): RaftBatch | undefined;
  latestSnapshot(): RaftSnapshot | undefined;
  /** A snapshot still kept, by id: followers may be part-way through fetching an older one. */
  snapshotById(endOffset: number, epoch: number): RaftSnapshot | undefined;
  /**
   * Stores a snapshot of the committed prefix ending at a batch boundary, durably, and moves the
   * log start to its end (the batches below go).
   */
  createSnapshot(snapshot: RaftSnapshot): void;
  /** A follower replaces its whole log with the leader's snapshot (durably): start = end = its end. */
  installSnapshot(snapshot: RaftSnapshot): void;
}

interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class MemoryRaftLog implements RaftLog {
  private batches: RaftBatch[] = [];
  private epochs: EpochEntry[] = [];
  /** Offsets below this survive a crash. Invariant: the durable log is a prefix of the log. */
  private durable = 0;
  /** Flushes begun and not completed: what each covers (lowered by truncations meanwhile). */
  private flushes = new Map<number, number>();
  private nextFlushId = 0;
  private snapshot: RaftSnapshot | undefined;
  /** The latest snapshots, newest last (Kafka keeps older ones until retention deletes them). */
  private kept: RaftSnapshot[] = [];
  private static readonly KEPT_SNAPSHOTS = 3;

  startOffset(): number {
    return this.snapshot?.endOffset ?? 0;
  }

  endOffset(): number {
    const n = this.batches.length;
    return n === 0 ? this.startOffset() : this.batches[n - 1].lastOffset + 1;
  }

  lastFetchedEpoch(): number {
    const n = this.batches.length;
    return n === 0 ? (this.snapshot?.epoch ?? 0) : this.batches[n - 1].epoch;
  }

  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    for (let i = this.epochs.length - 1; i >= 0; i--) {
      const e = this.epochs[i];
      if (e.epoch <= epoch) {
        const end = i + 1 < this.epochs.length ? this.epochs[i + 1].startOffset : this.endOffset();
        return { epoch: e.epoch, offset: end };
      }
    }
    const snap = this.snapshot;
    if (snap !== undefined && snap.epoch <= epoch) return { epoch: snap.epoch, offset: snap.endOffset };
    return { epoch: 0, offset: this.startOffset() };
  }

  latestSnapshot(): RaftSnapshot | undefined {
    return this.snapshot;
  }

  snapshotById(endOffset: number, epoch: number): RaftSnapshot | undefined {
    return this.kept.find((s) => s.endOffset === endOffset && s.epoch === epoch);
  }

  private keep(snapshot: RaftSnapshot): void {
    this.snapshot = snapshot;
    this.kept.push(snapshot);
    if (this.kept.length > MemoryRaftLog.KEPT_SNAPSHOTS) this.kept.shift();
  }

  createSnapshot(snapshot: RaftSnapshot): void {
    const end = snapshot.endOffset;
    if (end <= this.startOffset()) return;
    if (end > this.endOffset()) throw new Error(`snapshot at ${end} beyond the log end ${this.endOffset()}`);
    let i = 0;
    while (i < this.batches.length && this.batches[i].lastOffset < end) i++;
    if (i < this.batches.length && this.batches[i].baseOffset < end)
      throw new Error(`snapshot at ${end} is inside a batch`);
    this.batches = this.batches.slice(i);
    this.keep(snapshot);
    // Epochs older than the first kept batch's are the snapshot's now; that epoch starts at the log start.
    if (this.batches.length === 0) this.epochs = [];
    else {
      const first = this.batches[0].epoch;
      this.epochs = this.epochs.filter((e) => e.epoch >= first);
      if (this.epochs[0].startOffset < end) this.epochs[0] = { epoch: first, startOffset: end };
    }
    if (this.durable < end) this.durable = end;
  }

  installSnapshot(snapshot: RaftSnapshot): void {
    this.batches = [];
    this.epochs = [];
    this.keep(snapshot);
    this.durable = snapshot.endOffset;
    for (const id of this.flushes.keys()) this.flushes.set(id, snapshot.endOffset);
  }

  append(batch: RaftBatch): void {
    const end = this.endOffset();
    if (batch.baseOffset !== end) throw new Error(`append at ${batch.baseOffset}, log end is ${end}`);
    if (batch.lastOffset < batch.baseOffset) throw new Error('batch with no offsets');
    const last = this.epochs[this.epochs.length - 1];
    if (batch.epoch < (last?.epoch ?? this.snapshot?.epoch ?? 0))
      throw new Error(`append of epoch ${batch.epoch} after epoch ${last?.epoch ?? this.snapshot?.epoch}`);
    if (last === undefined || batch.epoch > last.epoch)
      this.epochs.push({ epoch: batch.epoch, startOffset: batch.baseOffset });
    this.batches.push(batch);
  }

  truncateTo(offset: number): void {
    if (offset < this.startOffset())
      throw new Error(`truncation to ${offset}, below the log start ${this.startOffset()}`);
    let i = this.batches.length;
    while (i > 0 && this.batches[i - 1].lastOffset >= offset) i--;
    this.batches.length = i;
    const end = this.endOffset();
    while (this.epochs.length > 0 && this.epochs[this.epochs.length - 1].startOffset >= end)
      this.epochs.pop();
    // A truncation reaches the disk at once (a file truncate): the durable prefix shrinks with it,
    // and a flush in progress no longer covers what was cut (batches appended later at the same
    // offsets were not there when it began).
    if (this.durable > end) this.durable = end;
    for (const [id, covers] of this.flushes) if (covers > end) this.flushes.set(id, end);
  }

  read(fromOffset: number, maxBytes: number): RaftBatch[] {
    const out: RaftBatch[] = [];
    let i = this.indexOf(fromOffset);
    if (i < 0) return out;
    let bytes = 0;
    for (; i < this.batches.length; i++) {
      const b = this.batches[i];
      if (out.length > 0 && bytes + b.bytes.length > maxBytes) break;
      out.push(b);
      bytes += b.bytes.length;
    }
    return out;
  }

  batchAt(offset: number): RaftBatch | undefined {
    const i = this.indexOf(offset);
    return i < 0 ? undefined : this.batches[i];
  }

  /** An fsync begins: it will cover the log as it is now, up to `offset`. Returns its id. */
  beginFlush(offset: number): number {
    const id = this.nextFlushId++;
    this.flushes.set(id, Math.min(offset, this.endOffset()));
    return id;
  }

  /** The fsync `id` completed: what it covered (less any truncation since) is durable. */
  completeFlush(id: number): void {
    const covers = this.flushes.get(id);
    if (covers === undefined) return;
    this.flushes.delete(id);
    if (covers > this.durable) this.durable = covers;
  }

  durableEndOffset(): number {
    return this.durable;
  }

  /** A crash: everything not yet durable is gone. */
  crash(): void {
    this.flushes.clear();
    this.truncateTo(Math.max(this.durable, this.startOffset()));
  }

  private indexOf(offset: number): number {
    let lo = 0;
    let hi = this.batches.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const b = this.batches[mid];
      if (offset < b.baseOffset) hi = mid - 1;
      else if (offset > b.lastOffset) lo = mid + 1;
      else return mid;
    }
    return -1;
  }
}
