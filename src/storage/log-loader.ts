// Opening a partition directory (Kafka's LogLoader): finds the segments, removes leftovers of
// interrupted deletions and index replacements, recovers the segments that may hold data not
// known to be durable, and works out the log end and log start offsets.
//
// Recovery rule (Kafka's): every segment from the one containing the recovery point on is
// rescanned (header sanity, CRC-32C, offset order) and truncated at its first bad batch; once a
// segment was truncated, every later segment is deleted, so the log stays a prefix of what was
// written. Segments before it are trusted; their indexes load lazily and are checked then. After a
// clean shutdown nothing is rescanned: only the last segment's indexes are loaded (and checked) to
// find the log end offset, with synchronous reads (this runs before the broker serves), and not at
// all when the segment is empty; a log that never held a record (both checkpoints at 0) is opened
// from one stat of its empty first segment, without listing the directory (`openNeverWritten`).
// Recovered segments are fsynced and their rebuilt indexes written before the log opens, so
// everything the loader leaves behind is durable. The rescanned segments' `.txnindex` entries are
// rebuilt by the caller with the producer state (see `recoveredFrom`).
//
// Interrupted cleaner swaps (Kafka's LogLoader rules): `.cleaned` files are an unfinished clean and
// are deleted. A `<base>.log.swap` is a cleaned segment that was committed (fsynced, then renamed
// from .cleaned) to replace the segments it covers: the swap is completed by deleting every
// ordinary segment file whose base offset lies in [base, the swap's next offset) and renaming the
// .swap files to their final names. A .swap whose base offset is at or above that of a leftover
// .cleaned file belongs to a swap whose renames had not all happened: it is deleted instead (the
// replaced segments are still whole then, since they are only removed after every rename).

import { readdirSync, statSync } from 'node:fs';
import { mkdir, open, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logging/logger.js';
import { scanFileBatches } from './batch-scan.js';
import {
  CLEANED_FILE_SUFFIX,
  DELETED_FILE_SUFFIX,
  fsyncDir,
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  offsetFilePrefix,
  parseSegmentFileName,
  type StorageHooks,
  SWAP_FILE_SUFFIX,
  TIME_INDEX_FILE_SUFFIX,
  TMP_FILE_SUFFIX,
  TXN_INDEX_FILE_SUFFIX,
  unlinkIfExists,
} from './files.js';
import { LogSegment, type SegmentSettings } from './log-segment.js';
import { SNAPSHOT_FILE_SUFFIX } from './producer-state.js';

export interface LoadLogParams {
  dir: string;
  settings: SegmentSettings;
  /** Offset up to which the log is known durable (recovery-point-offset-checkpoint), 0 if unknown. */
  recoveryPoint: number;
  /** From log-start-offset-checkpoint, 0 if unknown. */
  logStartOffset: number;
  /** The log dir carried a clean-shutdown marker: trust every segment. */
  hadCleanShutdown: boolean;
  hooks: StorageHooks;
  nowMs: number;
  logger?: Logger;
}

export interface LoadedLog {
  segments: LogSegment[];
  nextOffset: number;
  logStartOffset: number;
  /** Segments rescanned (0 after a clean shutdown). */
  recoveredSegments: number;
  /** Bytes cut off torn or corrupt tails, and segments deleted after them. */
  truncatedBytes: number;
  /** Offsets of the producer state snapshots (`<offset>.snapshot`) in the directory, ascending. */
  snapshotOffsets: number[];
  /**
   * Base offset of the first segment rescanned, or null (clean shutdown, new log). The transaction
   * indexes of the segments from there on were reset: the caller rebuilds them from the log while
   * it rebuilds the producer state (PartitionLog.open).
   */
  recoveredFrom: number | null;
}

/** Loads the partition directory `dir`, creating it (with an empty first segment) if new. */
export async function loadLog(p: LoadLogParams): Promise<LoadedLog> {
  // After a clean shutdown (only ever at start, before the broker serves) the directory is listed
  // and its .log files stat'ed with synchronous calls: thousands of partitions then cost a few
  // syscalls each on the main thread rather than a threadpool round trip per call, and nothing else
  // waits on the event loop yet. A directory with an interrupted cleaner swap (or none at all)
  // takes the general path.
  if (p.hadCleanShutdown && p.recoveryPoint === 0 && p.logStartOffset === 0) {
    const loaded = openNeverWritten(p);
    if (loaded !== null) return loaded;
  }
  let names = p.hadCleanShutdown ? listForCleanOpen(p.dir) : null;
  if (names === null) {
    await mkdir(p.dir, { recursive: true });
    if (await completeInterruptedSwaps(p.dir, p.logger)) await fsyncDir(p.dir);
    names = await readdir(p.dir);
  }
  const logBases: number[] = [];
  const leftovers: string[] = [];
  const snapshotOffsets: number[] = [];
  // The index files present, as a bit per kind by base offset, and their names (orphans go).
  const indexKinds = new Map<number, number>();
  const indexNames: string[] = [];
  for (const name of names) {
    if (name.endsWith(DELETED_FILE_SUFFIX) || name.endsWith(TMP_FILE_SUFFIX)) {
      leftovers.push(name);
      continue;
    }
    const parsed = parseSegmentFileName(name);
    if (!parsed) continue;
    if (parsed.suffix === SNAPSHOT_FILE_SUFFIX) snapshotOffsets.push(parsed.baseOffset);
    else if (parsed.suffix === LOG_FILE_SUFFIX) logBases.push(parsed.baseOffset);
    else {
      const kind =
        parsed.suffix === INDEX_FILE_SUFFIX
          ? OFFSET_INDEX_BIT
          : parsed.suffix === TIME_INDEX_FILE_SUFFIX
            ? TIME_INDEX_BIT
            : parsed.suffix === TXN_INDEX_FILE_SUFFIX
              ? TXN_INDEX_BIT
              : 0;
      if (kind === 0) continue;
      indexKinds.set(parsed.baseOffset, (indexKinds.get(parsed.baseOffset) ?? 0) | kind);
      indexNames.push(name);
    }
  }
  logBases.sort((a, b) => a - b);
  snapshotOffsets.sort((a, b) => a - b);
  // Interrupted deletions and index replacements, and indexes whose log is gone (Kafka removes
  // orphaned index files too).
  for (const name of indexNames) {
    if (!sortedIncludes(logBases, Number(name.slice(0, 20)))) leftovers.push(name);
  }
  if (leftovers.length > 0) await Promise.all(leftovers.map((n) => unlinkIfExists(join(p.dir, n))));

  if (logBases.length === 0) {
    const start = Math.max(p.logStartOffset, 0);
    const seg = LogSegment.createNew(p.dir, start, p.settings, p.hooks, p.nowMs);
    await seg.createFile();
    await seg.persistIndexes();
    await fsyncDir(p.dir);
    return {
      segments: [seg],
      nextOffset: start,
      logStartOffset: start,
      recoveredSegments: 0,
      truncatedBytes: 0,
      snapshotOffsets,
      recoveredFrom: null,
    };
  }

  const logPath = (b: number) => join(p.dir, offsetFilePrefix(b) + LOG_FILE_SUFFIX);
  const stats = p.hadCleanShutdown
    ? logBases.map((b) => statSync(logPath(b)))
    : await Promise.all(logBases.map((b) => stat(logPath(b))));
  let segments = logBases.map((b, i) =>
    LogSegment.openExisting(p.dir, b, stats[i].size, stats[i].mtimeMs, p.settings, p.hooks, p.nowMs),
  );
  // Most segments have no aborted transaction, hence no .txnindex: known empty without a read.
  for (const seg of segments) {
    if (((indexKinds.get(seg.baseOffset) ?? 0) & TXN_INDEX_BIT) === 0) seg.setNoTxnIndexFile();
  }

  let recoveredSegments = 0;
  let truncatedBytes = 0;
  let recoveredFrom: number | null = null;
  if (p.hadCleanShutdown) {
    const last = segments[segments.length - 1];
    // An empty active segment (most partitions of a broker with many) needs no read at all: its
    // indexes can only be empty (LogSegment.loadEmpty). Its .log is opened on first use.
    if (last.size === 0) {
      const both = OFFSET_INDEX_BIT | TIME_INDEX_BIT;
      last.loadEmpty(((indexKinds.get(last.baseOffset) ?? 0) & both) === both);
    } else if (!last.loadSync()) {
      await last.ensureLoaded();
    }
  } else {
    // The segment holding the recovery point, and everything after it.
    let first = 0;
    for (let i = 0; i < segments.length; i++) if (segments[i].baseOffset <= p.recoveryPoint) first = i;
    recoveredFrom = segments[first].baseOffset;
    for (let i = first; i < segments.length; i++) {
      const seg = segments[i];
      // Kafka's LogSegment.recover rebuilds the transaction index with the producer state; here
      // the caller's producer state replay does (see recoveredFrom).
      seg.resetTxnIndex();
      const cut = await seg.recover();
      recoveredSegments++;
      if (cut > 0) {
        truncatedBytes += cut;
        p.logger?.warn(
          {
            segment: seg.paths.log,
            validBytes: seg.size,
            truncatedBytes: cut,
            problem: seg.lastRecoveryProblem,
          },
          'truncated a torn or corrupt segment tail',
        );
      }
      const dropOthers = cut > 0 || (i + 1 < segments.length && segments[i + 1].baseOffset < seg.nextOffset);
      if (dropOthers && i + 1 < segments.length) {
        const later = segments.slice(i + 1);
        for (const s of later) truncatedBytes += s.size;
        p.logger?.warn(
          { dir: p.dir, deleted: later.map((s) => s.name) },
          'deleting segments after a bad one',
        );
        await Promise.all(later.map((s) => s.delete()));
        segments = segments.slice(0, i + 1);
      }
    }
    // Make what recovery kept durable before anyone is acknowledged on top of it.
    for (let i = first; i < segments.length; i++) {
      const seg = segments[i];
      await seg.sync();
      if (i < segments.length - 1) await seg.persistIndexes();
    }
    if (truncatedBytes > 0) await fsyncDir(p.dir);
  }

  const last = segments[segments.length - 1];
  const nextOffset = last.nextOffset;
  const logStartOffset = Math.max(p.logStartOffset, segments[0].baseOffset);
  // Older segments reopen on demand; do not hold their descriptors from the load.
  for (let i = 0; i < segments.length - 1; i++) await segments[i].releaseHandle();
  return {
    segments,
    nextOffset,
    logStartOffset,
    recoveredSegments,
    truncatedBytes,
    snapshotOffsets,
    recoveredFrom,
  };
}

/**
 * A log that never held a record, after a clean shutdown: both checkpoints say 0, and a clean
 * shutdown writes them with every log closed, the recovery point at the log end. Such a log is
 * the empty segment 0 and its two index files, nothing else: no append ever happened, so no roll,
 * snapshot, transaction index, retention, truncation or cleaning did either, and a write that
 * failed (which could leave a `.tmp`) would have kept the clean-shutdown marker from being
 * written. One stat confirms that `00000000000000000000.log` is there and empty; anything else
 * (missing, not empty) takes the general path, which lists the directory. This spares a broker
 * with thousands of never-used partitions a directory listing each (five syscalls) at start.
 */
function openNeverWritten(p: LoadLogParams): LoadedLog | null {
  const st = statSync(join(p.dir, offsetFilePrefix(0) + LOG_FILE_SUFFIX), { throwIfNoEntry: false });
  if (st === undefined || !st.isFile() || st.size !== 0) return null;
  const seg = LogSegment.openExisting(p.dir, 0, 0, st.mtimeMs, p.settings, p.hooks, p.nowMs);
  seg.setNoTxnIndexFile();
  // Index files missing would not matter: an empty segment's are never read, and they are
  // written from memory once it gets data (or rebuilt by the rescan after a crash).
  seg.loadEmpty(true);
  return {
    segments: [seg],
    nextOffset: 0,
    logStartOffset: 0,
    recoveredSegments: 0,
    truncatedBytes: 0,
    snapshotOffsets: [],
    recoveredFrom: null,
  };
}

const OFFSET_INDEX_BIT = 1;
const TIME_INDEX_BIT = 2;
const TXN_INDEX_BIT = 4;

/** Whether the ascending array `a` holds `x`. */
function sortedIncludes(a: readonly number[], x: number): boolean {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] === x) return true;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * The names in a partition directory, read synchronously, when the clean-shutdown open can use
 * them as they are; null when the directory is missing or holds `.cleaned`/`.swap` files (an
 * interrupted cleaner swap, completed by the general path).
 */
function listForCleanOpen(dir: string): string[] | null {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  for (const n of names) if (n.endsWith(CLEANED_FILE_SUFFIX) || n.endsWith(SWAP_FILE_SUFFIX)) return null;
  return names;
}

/** "<20 digits>.<kind>.<suffix>" (e.g. a .swap or .cleaned file): base offset and kind, else null. */
function parseSuffixedName(name: string, suffix: string): { baseOffset: number; kind: string } | null {
  if (!name.endsWith(suffix)) return null;
  const parsed = parseSegmentFileName(name.slice(0, -suffix.length));
  return parsed ? { baseOffset: parsed.baseOffset, kind: parsed.suffix } : null;
}

/** The offset after the last whole batch of a .log file (its base offset when it holds none). */
async function nextOffsetOf(path: string, baseOffset: number): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    let next = baseOffset;
    await scanFileBatches(fh, 0, size, { verifyCrc: false }, (b) => {
      next = b.lastOffset + 1;
      return undefined;
    });
    return next;
  } finally {
    await fh.close();
  }
}

/**
 * Deletes `.cleaned` files and completes or discards `.swap` files (see the header). Returns
 * whether anything changed in the directory.
 */
async function completeInterruptedSwaps(dir: string, logger?: Logger): Promise<boolean> {
  const names = await readdir(dir);
  const cleaned: string[] = [];
  let minCleaned = Number.POSITIVE_INFINITY;
  const swaps: Array<{ name: string; baseOffset: number; kind: string }> = [];
  for (const name of names) {
    const c = parseSuffixedName(name, CLEANED_FILE_SUFFIX);
    if (c) {
      cleaned.push(name);
      minCleaned = Math.min(minCleaned, c.baseOffset);
      continue;
    }
    if (name.endsWith(CLEANED_FILE_SUFFIX)) cleaned.push(name);
    const w = parseSuffixedName(name, SWAP_FILE_SUFFIX);
    if (w) swaps.push({ name, ...w });
  }
  if (cleaned.length === 0 && swaps.length === 0) return false;
  const swapLogBases = new Set(swaps.filter((w) => w.kind === LOG_FILE_SUFFIX).map((w) => w.baseOffset));
  const valid: typeof swaps = [];
  for (const w of swaps) {
    // Incomplete: some file of the same swap is still .cleaned, or the index has no .log beside it.
    if (w.baseOffset >= minCleaned || !swapLogBases.has(w.baseOffset)) {
      logger?.warn({ dir, file: w.name }, 'deleting a .swap file of an unfinished swap');
      await unlinkIfExists(join(dir, w.name));
    } else {
      valid.push(w);
    }
  }
  for (const n of cleaned) await unlinkIfExists(join(dir, n));
  // The range of offsets the committed swaps replace.
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const w of valid) {
    if (w.kind !== LOG_FILE_SUFFIX) continue;
    from = Math.min(from, w.baseOffset);
    to = Math.max(to, await nextOffsetOf(join(dir, w.name), w.baseOffset));
  }
  if (valid.length > 0) {
    // At least the segment with the swap's own base offset (an emptied group leaves an empty swap).
    to = Math.max(to, from + 1);
    for (const name of await readdir(dir)) {
      const parsed = parseSegmentFileName(name);
      // Producer snapshots are no segment files: the loader decides about them afterwards.
      if (
        parsed &&
        parsed.suffix !== SNAPSHOT_FILE_SUFFIX &&
        parsed.baseOffset >= from &&
        parsed.baseOffset < to
      ) {
        logger?.info({ dir, file: name }, 'deleting a segment file replaced by an interrupted swap');
        await unlinkIfExists(join(dir, name));
      }
    }
    // The log file last, so that a crash in between leaves a .log.swap to finish from.
    valid.sort((a, b) => Number(a.kind === LOG_FILE_SUFFIX) - Number(b.kind === LOG_FILE_SUFFIX));
    for (const w of valid) {
      await rename(join(dir, w.name), join(dir, w.name.slice(0, -SWAP_FILE_SUFFIX.length)));
    }
    logger?.info({ dir, segments: [...swapLogBases] }, 'completed an interrupted cleaner swap');
  }
  return true;
}
