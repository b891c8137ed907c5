// The in-memory hot tail of the partition logs: the record sets most recently appended, kept as
// the very Buffers the producer sent (patched in place), so that most fetches (consumers keeping
// up with producers) are answered without a read syscall and without copying record bytes.
//
// One TailCache is shared by all logs of a LogManager and bounds their total: chunks are evicted
// oldest first across every log (a global FIFO), and only once written to the file, so a chunk
// still queued for writing is always readable from memory. Each log keeps its own chunks in
// offset order (TailChunks); the global queue holds the same chunk objects in append order, so
// evicting the global front is evicting its log's front.
//
// Invariant: a log's cached chunks are contiguous in the log: each chunk's first batch follows
// the previous chunk's last batch, so a read that starts inside the cached range can be answered
// from memory alone.

import type { LogSegment } from './log-segment.js';

export interface TailChunk {
  readonly owner: TailChunks;
  readonly segment: LogSegment;
  /** Position of the chunk's first byte in the segment file. */
  readonly position: number;
  /** Base offset of the first batch, last offset of the last batch. */
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** Whole batches, as appended. */
  readonly buf: Buffer;
  /** In the file (page cache) already; only then may it be evicted. */
  written: boolean;
  /** Dropped from its log (evicted or truncated away). */
  dropped: boolean;
}

export class TailCache {
  readonly maxBytes: number;
  private usedBytes = 0;
  private queue: TailChunk[] = [];
  private head = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.usedBytes;
  }

  add(chunk: TailChunk): void {
    this.queue.push(chunk);
    this.usedBytes += chunk.buf.length;
  }

  /** A chunk left its log (eviction by the log, truncation): its bytes no longer count. */
  onDropped(chunk: TailChunk): void {
    this.usedBytes -= chunk.buf.length;
  }

  /** Evicts written chunks, oldest first, until under budget (or the oldest is still unwritten). */
  evict(): void {
    while (this.usedBytes > this.maxBytes && this.head < this.queue.length) {
      const c = this.queue[this.head];
      if (!c.dropped) {
        if (!c.written) break;
        c.owner.dropFront(c);
      }
      this.queue[this.head++] = undefined as unknown as TailChunk;
    }
    // Skip dropped chunks at the front so they release their memory, and compact now and then.
    while (this.head < this.queue.length && this.queue[this.head].dropped) {
      this.queue[this.head++] = undefined as unknown as TailChunk;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

/** One log's cached chunks, in offset order. */
export class TailChunks {
  private chunks: TailChunk[] = [];
  private head = 0;
  private readonly cache: TailCache;

  constructor(cache: TailCache) {
    this.cache = cache;
  }

  get length(): number {
    return this.chunks.length - this.head;
  }

  at(i: number): TailChunk {
    return this.chunks[this.head + i];
  }

  push(
    segment: LogSegment,
    position: number,
    baseOffset: number,
    lastOffset: number,
    buf: Buffer,
  ): TailChunk {
    const chunk: TailChunk = {
      owner: this,
      segment,
      position,
      baseOffset,
      lastOffset,
      buf,
      written: false,
      dropped: false,
    };
    this.chunks.push(chunk);
    this.cache.add(chunk);
    return chunk;
  }

  /** Index of the first chunk whose lastOffset >= offset, or length if none. */
  findFrom(offset: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).lastOffset >= offset) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Called by the cache for its global front, which is this log's front. */
  dropFront(chunk: TailChunk): void {
    if (this.length === 0 || this.at(0) !== chunk) throw new Error('tail cache order broken');
    this.chunks[this.head++] = undefined as unknown as TailChunk;
    chunk.dropped = true;
    this.cache.onDropped(chunk);
    if (this.head > 256 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Drops every chunk (truncation, deletion, close). */
  clear(): void {
    for (let i = this.head; i < this.chunks.length; i++) {
      const c = this.chunks[i];
      c.dropped = true;
      this.cache.onDropped(c);
    }
    this.chunks = [];
    this.head = 0;
  }

  /**
   * Drops the chunks of `segments` (replaced by the cleaner). They are at the front, since the
   * cleaner replaces segments from the log start; should one not be, every chunk goes, which
   * keeps the cached chunks contiguous.
   */
  dropSegments(segments: ReadonlySet<LogSegment>): void {
    while (this.length > 0 && segments.has(this.at(0).segment)) this.dropSegment(this.at(0).segment);
    for (let i = 0; i < this.length; i++) {
      if (segments.has(this.at(i).segment)) {
        this.clear();
        return;
      }
    }
  }

  /** Drops chunks of segments no longer in the log (retention, DeleteRecords) from the front. */
  dropSegment(segment: LogSegment): void {
    while (this.length > 0 && this.at(0).segment === segment) {
      const c = this.at(0);
      this.chunks[this.head++] = undefined as unknown as TailChunk;
      c.dropped = true;
      this.cache.onDropped(c);
    }
  }
}
