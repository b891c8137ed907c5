// One segment of a partition log (Kafka's LogSegment): the `.log` file of record batches, its
// sparse `.index` and its `.timeindex`, and the bookkeeping an append, a lookup, a recovery or a
// truncation needs. The segment owns its files and file handle; the PartitionLog owns the order
// of operations (it alone calls the mutating methods, from its serial I/O queue or synchronously
// on append).
//
// Invariants:
// - offsets in a segment are strictly increasing, all >= baseOffset and < baseOffset + 2^31;
// - `size` counts every byte appended (written or still queued), `writtenSize` the bytes the file
//   holds; positions below `writtenSize` never change except by truncate;
// - the in-memory indexes cover every batch of the segment (the active segment's always; an older
//   segment's once `ensureLoaded()` ran); the index files are written when the segment becomes
//   inactive or the log closes, and on load they are checked against the log and rebuilt by a
//   rescan when missing, malformed, or pointing at something other than a batch boundary.

import { closeSync, openSync, readFileSync, readSync, writevSync } from 'node:fs';
import { type FileHandle, open, rename, utimes } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { RECORD_BATCH_OVERHEAD } from '../protocol/records/constants.js';
import { type BatchInfo, readBatchInfo, scanFileBatches, walkBatches } from './batch-scan.js';
import { KafkaStorageError, LogUnavailableError } from './errors.js';
import {
  DELETED_FILE_SUFFIX,
  type StorageHooks,
  segmentFilePaths,
  unlinkIfExists,
  writeFileAtomic,
} from './files.js';
import { OffsetIndex } from './offset-index.js';
import { TimeIndex } from './time-index.js';
import { TransactionIndex } from './transaction-index.js';

export interface SegmentSettings {
  readonly indexIntervalBytes: number;
  readonly segmentIndexBytes: number;
}

/** Bytes read after an index entry to find the batch holding an offset, beyond index.interval.bytes. */
const SCAN_SLACK = 16 * 1024;
/** Writes up to this size are made synchronously (page cache only; see LogSegment.write). */
const SYNC_WRITE_MAX_BYTES = 256 * 1024;
const MAX_WINDOW = 16 * 1024 * 1024;
/** The longest log tail `loadSync` reads (past the last index entry); a longer one loads async. */
const SYNC_LOAD_MAX_TAIL = 4 * 1024 * 1024;

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

function readWholeFileSync(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (e) {
    if (errno(e) === 'ENOENT') return null;
    throw e;
  }
}

/** Bytes [pos, pos + n) of an open file, fewer at its end. */
function readExactlySync(fd: number, pos: number, n: number): Buffer {
  const buf = Buffer.allocUnsafe(n);
  let got = 0;
  while (got < n) {
    const bytesRead = readSync(fd, buf, got, n - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === n ? buf : buf.subarray(0, got);
}

async function readWholeFile(path: string): Promise<Buffer | null> {
  try {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      const buf = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) {
        const { bytesRead } = await fh.read(buf, got, size - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (errno(e) === 'ENOENT') return null;
    throw e;
  }
}

/** A bounded window over a file, refilled on demand: header walks without a read per batch. */
class FileWindow {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly limit: number,
    private readonly windowBytes: number,
  ) {}

  /** Bytes [pos, pos + len) (len capped at the limit) as a view; reads when not in the window. */
  async get(pos: number, len: number): Promise<Buffer> {
    const want = Math.min(len, this.limit - pos);
    if (pos < this.start || pos + want > this.start + this.buf.length) {
      const n = Math.min(Math.max(want, this.windowBytes), this.limit - pos);
      this.buf = await readExactly(this.fh, pos, n);
      this.start = pos;
    }
    return this.buf.subarray(pos - this.start, pos - this.start + want);
  }
}

async function readExactly(fh: FileHandle, pos: number, n: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(n);
  let got = 0;
  while (got < n) {
    const { bytesRead } = await fh.read(buf, got, n - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === n ? buf : buf.subarray(0, got);
}

export interface SegmentReadResult {
  /** Whole batches, a view of one read (or empty). */
  data: Buffer;
  /** Info of the first batch returned (the one holding the target offset, or the next one). */
  first: BatchInfo | null;
}

export interface SegmentPaths {
  readonly log: string;
  readonly index: string;
  readonly timeIndex: string;
  readonly txnIndex: string;
}

export class LogSegment {
  readonly baseOffset: number;
  private readonly dir: string;
  /** The files' paths without a suffix, built on first use (not at all for most segments at start). */
  private basePathsMem: SegmentPaths | null = null;
  /** '' for a live segment; '.cleaned' or '.swap' while the cleaner builds or swaps it in. */
  private fileSuffix: string;
  private readonly settings: SegmentSettings;
  private readonly hooks: StorageHooks;

  /** Bytes appended: written to the file or queued for it. */
  size = 0;
  /** Bytes in the file; reads through the file stay below it. */
  writtenSize = 0;
  /** The offset after the segment's last batch (baseOffset when empty). Exact once loaded. */
  nextOffset: number;
  maxTimestampSoFar = -1;
  offsetOfMaxTimestampSoFar: number;
  /** Max timestamp of the first batch (segment.ms rolls from it), or null (Kafka's rollingBasedTimestamp). */
  rollingBasedTimestamp: number | null = null;
  /** Creation (or load) time, the roll clock when batches carry no timestamps. */
  readonly createdMs: number;
  /** Last append or the file's mtime: retention's fallback when no batch has a timestamp. */
  lastModifiedMs: number;
  private bytesSinceLastIndexEntry = 0;

  private offsetIndexMem: OffsetIndex | null = null;
  private timeIndexMem: TimeIndex | null = null;
  /** The aborted transaction index, loaded on demand (`loadTxnIndex`); always for a new segment. */
  private txnIndexMem: TransactionIndex | null = null;
  private txnIndexLoading: Promise<TransactionIndex> | null = null;
  private loading: Promise<void> | null = null;
  private loaded = false;
  /** Why the last recovery stopped early (it truncated), for the log's warning; null if it did not. */
  lastRecoveryProblem: string | null = null;
  /** Whether the index files on disk may differ from memory. */
  indexesDirty = false;

  private fh: Promise<FileHandle> | null = null;
  private resolveCreated: ((fh: Promise<FileHandle>) => void) | null = null;
  private readers = 0;
  private drained: (() => void) | null = null;
  deleted = false;
  private closed = false;
  private readonly renamedToDeleted: string[] = [];

  private constructor(
    dir: string,
    baseOffset: number,
    settings: SegmentSettings,
    hooks: StorageHooks,
    nowMs: number,
    fileSuffix = '',
  ) {
    this.baseOffset = baseOffset;
    this.dir = dir;
    this.fileSuffix = fileSuffix;
    this.settings = settings;
    this.hooks = hooks;
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestampSoFar = baseOffset;
    this.createdMs = nowMs;
    this.lastModifiedMs = nowMs;
  }

  /**
   * A new, empty segment. Its file is created by `createFile()` (from the log's I/O queue);
   * until then `acquire()` waits for it. The cleaner passes `fileSuffix` '.cleaned' (Kafka's
   * LogSegment.open with a suffix) for the segment it writes.
   */
  static createNew(
    dir: string,
    baseOffset: number,
    settings: SegmentSettings,
    hooks: StorageHooks,
    nowMs: number,
    fileSuffix = '',
  ): LogSegment {
    const seg = new LogSegment(dir, baseOffset, settings, hooks, nowMs, fileSuffix);
    seg.offsetIndexMem = new OffsetIndex(baseOffset, settings.segmentIndexBytes);
    seg.timeIndexMem = new TimeIndex(baseOffset, settings.segmentIndexBytes);
    seg.txnIndexMem = new TransactionIndex();
    seg.fh = new Promise((resolve) => {
      seg.resolveCreated = resolve;
    });
    seg.indexesDirty = true;
    seg.loaded = true;
    return seg;
  }

  /** An existing segment file of `size` bytes; indexes load lazily (`ensureLoaded`). */
  static openExisting(
    dir: string,
    baseOffset: number,
    size: number,
    mtimeMs: number,
    settings: SegmentSettings,
    hooks: StorageHooks,
    nowMs: number,
  ): LogSegment {
    const seg = new LogSegment(dir, baseOffset, settings, hooks, nowMs);
    seg.size = size;
    seg.writtenSize = size;
    seg.lastModifiedMs = mtimeMs;
    return seg;
  }

  /** Creates (or empties) the segment's .log file. */
  async createFile(): Promise<void> {
    // Closed before its roll ran (the log was aborted): the file is not wanted any more.
    if (this.closed) throw new LogUnavailableError(`segment ${this.paths.log} is closed`);
    const opened = open(this.paths.log, 'w+');
    opened.catch(() => {});
    if (this.resolveCreated) this.resolveCreated(opened);
    else this.fh = opened;
    this.resolveCreated = null;
    await opened;
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  private get basePaths(): SegmentPaths {
    this.basePathsMem ??= segmentFilePaths(this.dir, this.baseOffset);
    return this.basePathsMem;
  }

  /** The segment's files: `<base>.log`, `.index`, `.timeindex`, plus the current file suffix. */
  get paths(): SegmentPaths {
    const x = this.fileSuffix;
    return {
      log: this.basePaths.log + x,
      index: this.basePaths.index + x,
      timeIndex: this.basePaths.timeIndex + x,
      txnIndex: this.basePaths.txnIndex + x,
    };
  }

  /**
   * Renames the segment's files from suffix `from` to `to` (Kafka's changeFileSuffixes); an index
   * file that does not exist is skipped. The open file handle, if any, keeps working.
   */
  async changeFileSuffixes(from: string, to: string): Promise<void> {
    if (from !== this.fileSuffix) throw new Error(`${this.paths.log} does not carry the suffix "${from}"`);
    const b = this.basePaths;
    for (const f of [b.log, b.index, b.timeIndex, b.txnIndex]) {
      try {
        await rename(f + from, f + to);
      } catch (e) {
        if (errno(e) !== 'ENOENT' || f === this.basePaths.log) throw e;
      }
    }
    this.fileSuffix = to;
  }

  /** Sets the .log file's modification time (the cleaner keeps the replaced segments' one). */
  async setLastModified(ms: number): Promise<void> {
    const t = new Date(ms);
    await utimes(this.paths.log, t, t);
    this.lastModifiedMs = ms;
  }

  get offsetIndex(): OffsetIndex {
    if (!this.offsetIndexMem) throw new Error(`indexes of ${this.paths.log} are not loaded`);
    return this.offsetIndexMem;
  }

  get timeIndex(): TimeIndex {
    if (!this.timeIndexMem) throw new Error(`indexes of ${this.paths.log} are not loaded`);
    return this.timeIndexMem;
  }

  /** The segment's largest timestamp for retention (Kafka's largestTimestamp). Needs ensureLoaded. */
  /** The aborted transaction index; needs `loadTxnIndex()` (done for new and active segments). */
  get txnIndex(): TransactionIndex {
    if (!this.txnIndexMem) throw new Error(`transaction index of ${this.paths.log} is not loaded`);
    return this.txnIndexMem;
  }

  get isTxnIndexLoaded(): boolean {
    return this.txnIndexMem !== null;
  }

  /**
   * Reads `.txnindex` once (a missing file: no entries, as Kafka). A bad tail (torn write) is
   * dropped and the file rewritten on the next persist.
   */
  loadTxnIndex(): Promise<TransactionIndex> {
    if (this.txnIndexMem) return Promise.resolve(this.txnIndexMem);
    if (!this.txnIndexLoading) {
      this.txnIndexLoading = (async () => {
        const data = await readWholeFile(this.paths.txnIndex);
        const idx = new TransactionIndex();
        if (data !== null) {
          const { entries, problem } = TransactionIndex.decode(data);
          for (const e of entries) idx.append(e);
          idx.dirty = problem !== null;
        }
        this.txnIndexMem ??= idx;
        return this.txnIndexMem;
      })().finally(() => {
        this.txnIndexLoading = null;
      });
    }
    return this.txnIndexLoading;
  }

  /** The directory listing shows no `.txnindex`: the index is empty, no read needed. */
  setNoTxnIndexFile(): void {
    this.txnIndexMem ??= new TransactionIndex();
  }

  /** Forgets the entries (recovery rebuilds them from the log); the file follows on the next persist. */
  resetTxnIndex(): void {
    if (this.txnIndexMem) this.txnIndexMem.reset();
    else {
      this.txnIndexMem = new TransactionIndex();
      this.txnIndexMem.dirty = true;
    }
  }

  /** Writes `.txnindex` if it changed: atomically when it has entries, else the file is removed. */
  async persistTxnIndex(): Promise<void> {
    const idx = this.txnIndexMem;
    if (!idx?.dirty) return;
    idx.dirty = false;
    try {
      if (idx.isEmpty) await unlinkIfExists(this.paths.txnIndex);
      else await writeFileAtomic(this.paths.txnIndex, idx.bytes(), dirname(this.paths.log));
    } catch (e) {
      idx.dirty = true;
      throw e;
    }
  }

  get largestTimestamp(): number {
    return this.maxTimestampSoFar > 0 ? this.maxTimestampSoFar : this.lastModifiedMs;
  }

  get isIndexFull(): boolean {
    return this.offsetIndex.isFull || this.timeIndex.isFull;
  }

  // ---- file handle ----

  /** The open file handle, pinned against close until `release()`. */
  async acquire(): Promise<FileHandle> {
    if (this.deleted) throw new KafkaStorageError(`segment ${this.paths.log} was deleted`);
    if (this.closed) throw new LogUnavailableError(`segment ${this.paths.log} is closed`);
    this.readers++;
    try {
      if (!this.fh) {
        this.fh = open(this.paths.log, 'r+');
        this.fh.catch(() => {});
      }
      return await this.fh;
    } catch (e) {
      this.release();
      throw e;
    }
  }

  release(): void {
    this.readers--;
    if (this.readers === 0 && this.drained) this.drained();
  }

  private async withHandle<T>(fn: (fh: FileHandle) => Promise<T>): Promise<T> {
    const fh = await this.acquire();
    try {
      return await fn(fh);
    } finally {
      this.release();
    }
  }

  // ---- append path (synchronous bookkeeping) ----

  /**
   * Records a batch placed at `position` (Kafka's LogSegment.append, per batch): max timestamp so
   * far, and an index entry when more than index.interval.bytes went by since the last one.
   */
  onBatchAppended(info: { lastOffset: number; maxTimestamp: number; size: number }, position: number): void {
    if (position === 0) this.rollingBasedTimestamp = info.maxTimestamp;
    if (info.maxTimestamp > this.maxTimestampSoFar) {
      this.maxTimestampSoFar = info.maxTimestamp;
      this.offsetOfMaxTimestampSoFar = info.lastOffset;
    }
    if (this.bytesSinceLastIndexEntry > this.settings.indexIntervalBytes) {
      this.offsetIndex.append(info.lastOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += info.size;
    this.nextOffset = info.lastOffset + 1;
    this.size = position + info.size;
    this.indexesDirty = true;
  }

  /**
   * Kafka's shouldRoll: the append of `messagesSize` bytes ending at `maxOffset`, whose largest
   * timestamp is `maxTimestamp`, needs a new segment.
   */
  shouldRoll(
    messagesSize: number,
    maxTimestamp: number,
    maxOffset: number,
    nowMs: number,
    segmentBytes: number,
    segmentMs: number,
  ): boolean {
    // Offsets must stay relative to the base (an int32); checked first, as an empty segment
    // cannot take a batch beyond that either.
    if (maxOffset - this.baseOffset > 0x7fffffff) return true;
    if (this.size === 0) return false;
    if (this.size > segmentBytes - messagesSize) return true;
    const waited =
      this.rollingBasedTimestamp !== null && this.rollingBasedTimestamp >= 0
        ? maxTimestamp - this.rollingBasedTimestamp
        : nowMs - this.createdMs;
    if (waited > segmentMs) return true;
    return this.isIndexFull;
  }

  // ---- writes ----

  /**
   * Writes `chunks` contiguously at `position` (the log's I/O queue calls this in order).
   *
   * With `allowSync` (a log in page-cache mode, which does not fdatasync each write) a write of up
   * to SYNC_WRITE_MAX_BYTES is made synchronously: it only copies into the page cache, about 3 us
   * of CPU for a small write against about 35 us for Node's threadpool round trip of an async
   * writev (measured on Node 20). Not in fsync mode: there the file system can make a write wait
   * for journal commits forced by the fdatasyncs of this and other logs (ext4), which must not
   * stall the event loop; nor for large writes, so the event loop never copies megabytes.
   */
  async write(chunks: Buffer[], position: number, allowSync = false): Promise<void> {
    await this.withHandle(async (fh) => {
      let total = 0;
      for (const c of chunks) total += c.length;
      let done = 0;
      let bufs = chunks;
      while (done < total) {
        const { bytesWritten } =
          allowSync && total - done <= SYNC_WRITE_MAX_BYTES
            ? { bytesWritten: writevSync(fh.fd, bufs, position + done) }
            : await fh.writev(bufs, position + done);
        if (bytesWritten <= 0) throw new Error(`writev wrote ${bytesWritten} bytes`);
        done += bytesWritten;
        if (done < total) bufs = remainingAfter(chunks, done);
      }
    });
    this.writtenSize = Math.max(this.writtenSize, position + chunks.reduce((n, c) => n + c.length, 0));
  }

  /** fdatasync of the .log file. */
  async sync(): Promise<void> {
    this.hooks.onFsync?.(this.paths.log);
    await this.withHandle((fh) => fh.datasync());
  }

  /**
   * Writes both index files atomically (tmp + fsync + rename + dir fsync), after appending the
   * final time index entry for the segment's max timestamp (Kafka's onBecomeInactiveSegment).
   */
  async persistIndexes(): Promise<void> {
    if (!this.isLoaded) return;
    this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
    const dir = dirname(this.paths.log);
    this.indexesDirty = false;
    try {
      await writeFileAtomic(this.paths.index, Buffer.from(this.offsetIndex.bytes()), dir);
      await writeFileAtomic(this.paths.timeIndex, Buffer.from(this.timeIndex.bytes()), dir);
    } catch (e) {
      this.indexesDirty = true;
      throw e;
    }
    await this.persistTxnIndex();
  }

  // ---- loading and recovery ----

  /**
   * Loads and checks the index files of a segment trusted to be durable (below the recovery
   * point), then finds its next offset with a header walk from the last index entry. Any problem
   * with the indexes, or a torn tail, falls back to `recover()`.
   */
  ensureLoaded(): Promise<void> {
    if (this.isLoaded) return Promise.resolve();
    if (!this.loading) {
      this.loading = this.load().finally(() => {
        this.loading = null;
      });
    }
    return this.loading;
  }

  /**
   * Loads a segment whose .log file is empty without reading anything (the clean-shutdown open of
   * an empty active segment): with no batch, the only valid indexes are empty ones, which is what
   * a load (or the rescan it would fall back to) ends with. `indexFilesPresent` false (either file
   * missing from the listing) marks the indexes dirty so the files are written again, as the
   * rescan would. Index files with entries for an empty log are never read: the segment's indexes
   * are written from memory once it gets data (roll, close) or rebuilt by recovery after a crash.
   */
  loadEmpty(indexFilesPresent: boolean): void {
    if (this.loaded) return;
    if (this.size !== 0) throw new Error(`${this.paths.log} is not empty`);
    const size = this.settings.segmentIndexBytes;
    this.install(
      new TailWalk(
        this.baseOffset,
        new OffsetIndex(this.baseOffset, size),
        new TimeIndex(this.baseOffset, size),
      ),
    );
    if (!indexFilesPresent) this.indexesDirty = true;
  }

  /**
   * `ensureLoaded()` with synchronous reads, for the clean-shutdown open of an active segment
   * before the broker serves (a few syscalls on the main thread instead of a threadpool round trip
   * each, for thousands of partitions). The same checks as `load()`; on any problem, or a tail past
   * the last index entry longer than SYNC_LOAD_MAX_TAIL, it changes nothing and answers false, and
   * the caller goes through `ensureLoaded()`, which checks again and rescans. The .log file is
   * opened on first use, not kept open from here.
   */
  loadSync(): boolean {
    if (this.loaded) return true;
    const indexData = readWholeFileSync(this.paths.index);
    const timeData = readWholeFileSync(this.paths.timeIndex);
    if (indexData === null || timeData === null) return false;
    if (OffsetIndex.check(indexData, this.size) !== null || TimeIndex.check(timeData, 0x7fffffff) !== null) {
      return false;
    }
    const offsetIndex = new OffsetIndex(this.baseOffset, this.settings.segmentIndexBytes, indexData);
    const timeIndex = new TimeIndex(this.baseOffset, this.settings.segmentIndexBytes, timeData);
    const walk = new TailWalk(this.baseOffset, offsetIndex, timeIndex);
    const last = offsetIndex.lastEntry();
    const from = last ? last.position : 0;
    if (this.size - from > SYNC_LOAD_MAX_TAIL) return false;
    const fd = openSync(this.paths.log, 'r');
    try {
      // From the last indexed batch (which must end at the entry's offset) to the end.
      const tail = readExactlySync(fd, from, this.size - from);
      if (tail.length < this.size - from) return false;
      if (last) {
        const info = tail.length >= RECORD_BATCH_OVERHEAD ? readBatchInfo(tail, 0) : 'short';
        if (typeof info === 'string' || info.lastOffset !== last.offset) return false;
      }
      let p = 0;
      while (p < tail.length) {
        if (tail.length - p < RECORD_BATCH_OVERHEAD) return false;
        const b = readBatchInfo(tail, p, from + p);
        if (typeof b === 'string' || p + b.size > tail.length) return false;
        walk.add(b);
        p += b.size;
      }
      if (timeIndex.lastEntry().offset >= walk.next) return false;
      if (walk.rolling === null && this.size > 0)
        walk.setRolling(readExactlySync(fd, 0, RECORD_BATCH_OVERHEAD));
    } finally {
      closeSync(fd);
    }
    this.install(walk);
    return true;
  }

  private async load(): Promise<void> {
    const [indexData, timeData] = await Promise.all([
      readWholeFile(this.paths.index),
      readWholeFile(this.paths.timeIndex),
    ]);
    const problem = await this.checkIndexFiles(indexData, timeData);
    if (problem !== null) {
      await this.recover(problem);
      return;
    }
    const offsetIndex = new OffsetIndex(this.baseOffset, this.settings.segmentIndexBytes, indexData!);
    const timeIndex = new TimeIndex(this.baseOffset, this.settings.segmentIndexBytes, timeData!);
    const walk = new TailWalk(this.baseOffset, offsetIndex, timeIndex);
    const last = offsetIndex.lastEntry();
    // Header walk from the last indexed batch to the end (Kafka's readNextOffset).
    const from = last ? last.position : 0;
    const tail = await this.withHandle((fh) =>
      scanFileBatches(fh, from, this.size, { verifyCrc: false }, (b) => {
        walk.add(b);
        return undefined;
      }),
    );
    if (tail.problem !== null || timeIndex.lastEntry().offset >= walk.next) {
      await this.recover(tail.problem ?? 'time index points past the log');
      return;
    }
    if (walk.rolling === null && this.size > 0) {
      walk.setRolling(await this.withHandle((fh) => readExactly(fh, 0, RECORD_BATCH_OVERHEAD)));
    }
    this.install(walk);
  }

  /** The state a load (sync or async) read from the index files and the log's tail. */
  private install(st: TailWalk): void {
    this.offsetIndexMem = st.offsetIndex;
    this.timeIndexMem = st.timeIndex;
    this.nextOffset = st.next;
    this.maxTimestampSoFar = st.maxTs;
    this.offsetOfMaxTimestampSoFar = st.maxTsOffset;
    this.rollingBasedTimestamp = st.rolling;
    this.bytesSinceLastIndexEntry = st.bytesSince;
    this.loaded = true;
  }

  /** Why the index files cannot be trusted, or null. */
  private async checkIndexFiles(indexData: Buffer | null, timeData: Buffer | null): Promise<string | null> {
    if (indexData === null) return 'offset index missing';
    if (timeData === null) return 'time index missing';
    const p1 = OffsetIndex.check(indexData, this.size);
    if (p1 !== null) return `offset index: ${p1}`;
    const p2 = TimeIndex.check(timeData, 0x7fffffff);
    if (p2 !== null) return `time index: ${p2}`;
    if (indexData.length > 0) {
      // The last entry must name a real batch boundary: the batch there ends at the entry's offset.
      const n = indexData.length;
      const rel = indexData.readInt32BE(n - 8);
      const pos = indexData.readInt32BE(n - 4);
      const head = await this.withHandle((fh) => readExactly(fh, pos, RECORD_BATCH_OVERHEAD));
      if (head.length < RECORD_BATCH_OVERHEAD) return 'offset index points past the log';
      const info = readBatchInfo(head, 0);
      if (typeof info === 'string' || info.lastOffset !== this.baseOffset + rel) {
        return 'offset index entry does not match the batch it points at';
      }
    }
    return null;
  }

  /**
   * Rescans the whole segment (Kafka's LogSegment.recover): each batch's header sanity, CRC-32C
   * and offset order are checked, the indexes rebuilt, and the file truncated at the first bad
   * batch. Returns the bytes truncated.
   */
  async recover(reason = 'recovery'): Promise<number> {
    const offsetIndex = new OffsetIndex(this.baseOffset, this.settings.segmentIndexBytes);
    const timeIndex = new TimeIndex(this.baseOffset, this.settings.segmentIndexBytes);
    this.offsetIndexMem = offsetIndex;
    this.timeIndexMem = timeIndex;
    this.maxTimestampSoFar = -1;
    this.offsetOfMaxTimestampSoFar = this.baseOffset;
    this.rollingBasedTimestamp = null;
    this.bytesSinceLastIndexEntry = 0;
    this.nextOffset = this.baseOffset;
    const fileSize = this.size;
    let expected = this.baseOffset;
    this.size = 0;
    const result = await this.withHandle((fh) =>
      scanFileBatches(fh, 0, fileSize, { verifyCrc: true }, (b) => {
        if (b.baseOffset < expected) return `offset ${b.baseOffset} is not above ${expected - 1}`;
        if (b.lastOffset - this.baseOffset > 0x7fffffff)
          return `offset ${b.lastOffset} too far from the base`;
        this.onBatchAppended(b, b.position);
        expected = b.lastOffset + 1;
        return undefined;
      }),
    );
    const truncated = fileSize - result.validEnd;
    if (truncated > 0) {
      await this.withHandle((fh) => fh.truncate(result.validEnd));
    }
    this.size = result.validEnd;
    this.writtenSize = result.validEnd;
    this.indexesDirty = true;
    this.hooks.onSegmentRecovered?.(this.paths.log, {
      validBytes: result.validEnd,
      truncatedBytes: truncated,
    });
    this.lastRecoveryProblem = result.problem !== null ? `${reason}: ${result.problem}` : null;
    this.loaded = true;
    return truncated;
  }

  // ---- reads ----

  /** Up to `length` bytes of the file from `position` (fewer at the end of the file). */
  readAt(position: number, length: number): Promise<Buffer> {
    return this.withHandle((fh) => readExactly(fh, position, length));
  }

  /**
   * Finds the first batch with lastOffset >= `target` in the file below `limit`, then returns whole
   * batches from it: up to `maxBytes` (at least that first batch when `minOneBatch`), none whose
   * baseOffset is >= `maxOffset`. Null when no batch below `limit` reaches `target`.
   */
  async read(
    target: number,
    maxBytes: number,
    minOneBatch: boolean,
    limit: number,
    maxOffset: number,
  ): Promise<SegmentReadResult | null> {
    await this.ensureLoaded();
    const start = this.offsetIndex.lookup(target).position;
    if (start >= limit) return null;
    return this.withHandle(async (fh) => {
      // One read usually covers the scan from the index entry and the answer; capped so that a
      // huge maxBytes does not size the scan window (the answer itself is read exactly).
      const windowBytes = Math.min(this.settings.indexIntervalBytes + maxBytes + SCAN_SLACK, MAX_WINDOW);
      const window = new FileWindow(fh, limit, windowBytes);
      let p = start;
      let first: BatchInfo | null = null;
      while (p < limit) {
        const head = await window.get(p, RECORD_BATCH_OVERHEAD);
        if (head.length < RECORD_BATCH_OVERHEAD) break;
        const info = readBatchInfo(head, 0, p);
        if (typeof info === 'string') throw new KafkaStorageError(`${this.paths.log} at ${p}: ${info}`);
        if (info.lastOffset >= target) {
          first = info;
          break;
        }
        p += info.size;
      }
      if (first === null) return null;
      if (first.baseOffset >= maxOffset) return { data: Buffer.alloc(0), first };
      const want = minOneBatch ? Math.max(maxBytes, first.size) : maxBytes;
      const region = await window.get(p, Math.min(want, limit - p));
      const end = walkBatches(region, 0, region.length, (b) => b.baseOffset < maxOffset);
      return { data: region.subarray(0, end), first };
    });
  }

  /** Calls `visit` for every batch from the one at or before `target` on; stops when it says so. */
  async forEachBatchFrom(
    target: number,
    limit: number,
    visit: (b: BatchInfo, batch: () => Promise<Buffer>) => Promise<boolean> | boolean,
  ): Promise<void> {
    await this.ensureLoaded();
    let p = this.offsetIndex.lookup(target).position;
    await this.withHandle(async (fh) => {
      const window = new FileWindow(fh, limit, 64 * 1024);
      while (p < limit) {
        const head = await window.get(p, RECORD_BATCH_OVERHEAD);
        if (head.length < RECORD_BATCH_OVERHEAD) return;
        const info = readBatchInfo(head, 0, p);
        if (typeof info === 'string') throw new KafkaStorageError(`${this.paths.log} at ${p}: ${info}`);
        const at = p;
        const more = await visit(info, () => window.get(at, info.size));
        if (!more) return;
        p += info.size;
      }
    });
  }

  // ---- truncation and deletion ----

  /**
   * Removes every batch with lastOffset >= `offset` (Kafka's LogSegment.truncateTo: a batch holding
   * `offset` goes entirely). Returns the base offset of the first batch removed, or null if none.
   * The caller has drained the segment's writes.
   */
  async truncateTo(offset: number): Promise<number | null> {
    await this.ensureLoaded();
    let cut = -1;
    let cutBase = -1;
    await this.forEachBatchFrom(offset, this.writtenSize, (b) => {
      if (b.lastOffset >= offset) {
        cut = b.position;
        cutBase = b.baseOffset;
        return false;
      }
      return true;
    });
    if (cut < 0) return null;
    (await this.loadTxnIndex()).truncateTo(offset);
    await this.withHandle((fh) => fh.truncate(cut));
    this.offsetIndex.truncateToPosition(cut);
    this.offsetIndex.truncateTo(offset);
    this.timeIndex.truncateTo(offset);
    this.size = cut;
    this.writtenSize = cut;
    this.indexesDirty = true;
    await this.rescanTail();
    return cutBase;
  }

  /** After truncation: next offset, max timestamp and index spacing from the last entry on. */
  private async rescanTail(): Promise<void> {
    const last = this.offsetIndex.lastEntry();
    const lastTime = this.timeIndex.lastEntry();
    this.maxTimestampSoFar = lastTime.timestamp;
    this.offsetOfMaxTimestampSoFar = lastTime.offset;
    this.nextOffset = last ? last.offset + 1 : this.baseOffset;
    this.bytesSinceLastIndexEntry = 0;
    if (this.size === 0) this.rollingBasedTimestamp = null;
    const from = last ? last.position : 0;
    await this.withHandle((fh) =>
      scanFileBatches(fh, from, this.size, { verifyCrc: false }, (b) => {
        if (b.maxTimestamp > this.maxTimestampSoFar) {
          this.maxTimestampSoFar = b.maxTimestamp;
          this.offsetOfMaxTimestampSoFar = b.lastOffset;
        }
        this.nextOffset = b.lastOffset + 1;
        this.bytesSinceLastIndexEntry += b.size;
        return undefined;
      }),
    );
  }

  /** Closes the file handle for good (log closed or aborted): later acquires fail. */
  async close(): Promise<void> {
    this.closed = true;
    await this.releaseHandle();
  }

  /** Closes the file handle once no read holds it; the next acquire reopens the file. */
  async releaseHandle(): Promise<void> {
    if (this.resolveCreated) {
      // The file was never created (the log stopped before its roll ran): nothing to close.
      const never = Promise.reject(new LogUnavailableError(`segment ${this.paths.log} was never created`));
      never.catch(() => {});
      this.resolveCreated(never);
      this.resolveCreated = null;
    }
    while (this.readers > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
      });
    }
    this.drained = null;
    const fh = this.fh;
    this.fh = null;
    if (fh) {
      try {
        await (await fh).close();
      } catch {
        // Never opened (creation failed): nothing to close.
      }
    }
  }

  /**
   * Deletes the segment as Kafka does: rename the files to `.deleted` (readers holding the handle
   * keep reading), then close and unlink them once no read holds the handle.
   */
  async delete(): Promise<void> {
    await this.renameToDeleted();
    await this.finishDelete();
  }

  /**
   * No new reads from now on (they fail with KafkaStorageError, and the log retries them on its
   * new segment list); resolves once an open of the file already under way has finished, so that
   * no later open can find another file under this segment's name. Reads holding the handle go on.
   */
  async retire(): Promise<void> {
    this.deleted = true;
    if (this.fh && !this.resolveCreated) await this.fh.catch(() => {});
  }

  /** First half of `delete()`: no new reads, files renamed to `.deleted`. */
  async renameToDeleted(): Promise<void> {
    this.deleted = true;
    const p = this.paths;
    for (const f of [p.log, p.index, p.timeIndex, p.txnIndex]) {
      try {
        await rename(f, f + DELETED_FILE_SUFFIX);
        this.renamedToDeleted.push(f + DELETED_FILE_SUFFIX);
      } catch (e) {
        if (errno(e) !== 'ENOENT') throw e;
      }
    }
  }

  /** Second half of `delete()`: close once no read holds the handle, unlink the `.deleted` files. */
  async finishDelete(): Promise<void> {
    await this.close();
    for (const f of this.renamedToDeleted.splice(0)) await unlinkIfExists(f);
  }

  /** The file name, for log lines. */
  get name(): string {
    return basename(this.paths.log);
  }
}

function remainingAfter(chunks: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  let s = skip;
  for (const c of chunks) {
    if (s >= c.length) {
      s -= c.length;
      continue;
    }
    out.push(s > 0 ? c.subarray(s) : c);
    s = 0;
  }
  return out;
}

/**
 * What loading a segment learns from its index files and the batches past the last index entry
 * (Kafka's readNextOffset walk): the next offset, the max timestamp and its offset, the first
 * batch's timestamp (segment.ms), and the bytes since the last index entry.
 */
class TailWalk {
  next: number;
  maxTs: number;
  maxTsOffset: number;
  rolling: number | null = null;
  bytesSince = 0;

  constructor(
    baseOffset: number,
    readonly offsetIndex: OffsetIndex,
    readonly timeIndex: TimeIndex,
  ) {
    const last = offsetIndex.lastEntry();
    const lastTime = timeIndex.lastEntry();
    this.next = last ? last.offset + 1 : baseOffset;
    this.maxTs = lastTime.timestamp;
    this.maxTsOffset = lastTime.offset;
  }

  add(b: { position: number; maxTimestamp: number; lastOffset: number; size: number }): void {
    if (b.position === 0) this.rolling = b.maxTimestamp;
    if (b.maxTimestamp > this.maxTs) {
      this.maxTs = b.maxTimestamp;
      this.maxTsOffset = b.lastOffset;
    }
    this.next = b.lastOffset + 1;
    // Kafka resets the count at an indexed batch, then adds that batch's size.
    this.bytesSince += b.size;
  }

  /** The first batch's timestamp, from its header (when the walk did not start at position 0). */
  setRolling(head: Buffer): void {
    const info = head.length === RECORD_BATCH_OVERHEAD ? readBatchInfo(head, 0) : 'short';
    if (typeof info !== 'string') this.rolling = info.maxTimestamp;
  }
}
