// File and directory names of Kafka's on-disk layout, and the small fs helpers every storage module
// shares (durable atomic replace, directory fsync, hooks).
//
// Layout of a log dir (as Kafka's):
//   <topic>-<partition>/00000000000000000000.log        record batches as received
//                       00000000000000000000.index      sparse offset index
//                       00000000000000000000.timeindex  time index
//                       00000000000000000000.txnindex   aborted transactions (only if any)
//                       00000000000000000000.log.cleaned   a segment being written by the cleaner
//                       00000000000000000000.log.swap      a cleaned segment being swapped in
//                       00000000000000001234.snapshot      producer state (producer-state.ts)
//                       partition.metadata                 its topic id (partition-metadata.ts)
//   <topic>-<partition>.<uuid>-delete/                  a deleted partition, removed in background
//   recovery-point-offset-checkpoint, log-start-offset-checkpoint, cleaner-offset-checkpoint,
//   .kafka_cleanshutdown

import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const LOG_FILE_SUFFIX = '.log';
export const INDEX_FILE_SUFFIX = '.index';
export const TIME_INDEX_FILE_SUFFIX = '.timeindex';
/** Kafka's aborted transaction index (transaction-index.ts); only present when it has entries. */
export const TXN_INDEX_FILE_SUFFIX = '.txnindex';
/** Kafka's suffix for a segment file being deleted. */
export const DELETED_FILE_SUFFIX = '.deleted';
/** Our suffix for an index being replaced atomically (write, fsync, rename). */
export const TMP_FILE_SUFFIX = '.tmp';
export const DELETE_DIR_SUFFIX = '-delete';
/** Kafka's suffix of the files of a segment the cleaner is writing (deleted at open). */
export const CLEANED_FILE_SUFFIX = '.cleaned';
/** Kafka's suffix of a cleaned segment committed to replace old ones (the swap completes at open). */
export const SWAP_FILE_SUFFIX = '.swap';

export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
/** Per log dir: each compacted log's first dirty offset (Kafka's LogCleanerManager checkpoint). */
export const CLEANER_OFFSET_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';
export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';

/** A segment's file name prefix: its base offset zero-padded to 20 digits, as Kafka's. */
export function offsetFilePrefix(offset: number): string {
  return String(offset).padStart(20, '0');
}

export function segmentFilePaths(dir: string, baseOffset: number) {
  const prefix = join(dir, offsetFilePrefix(baseOffset));
  return {
    log: prefix + LOG_FILE_SUFFIX,
    index: prefix + INDEX_FILE_SUFFIX,
    timeIndex: prefix + TIME_INDEX_FILE_SUFFIX,
    txnIndex: prefix + TXN_INDEX_FILE_SUFFIX,
  };
}

/** Base offset of a segment file name like "00000000000000001234.log", else null. */
export function parseSegmentFileName(name: string): { baseOffset: number; suffix: string } | null {
  // /^(\d{20})(\.[a-z]+)$/ by hand: called for every file of every partition at start.
  if (name.length < 22 || name.charCodeAt(20) !== 46) return null; // '.'
  for (let i = 0; i < 20; i++) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  for (let i = 21; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 97 || c > 122) return null;
  }
  const baseOffset = Number(name.slice(0, 20));
  if (!Number.isSafeInteger(baseOffset)) return null;
  return { baseOffset, suffix: name.slice(20) };
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Kafka's legal topic names: [a-zA-Z0-9._-], 1..249 characters. */
export function isLegalTopicName(topic: string): boolean {
  return /^[a-zA-Z0-9._-]{1,249}$/.test(topic) && topic !== '.' && topic !== '..';
}

export function partitionDirName(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`;
}

/** "<topic>-<partition>" back to its parts (the topic may itself hold dashes), else null. */
export function parsePartitionDirName(name: string): TopicPartition | null {
  const m = /^(.+)-(\d+)$/.exec(name);
  if (!m || !isLegalTopicName(m[1])) return null;
  const partition = Number(m[2]);
  if (partition > 0x7fffffff) return null;
  return { topic: m[1], partition };
}

/** Kafka's name for a partition dir awaiting deletion: "<topic>-<partition>.<uuid hex>-delete". */
export function deleteDirName(tp: TopicPartition, uuidHex: string): string {
  return `${partitionDirName(tp)}.${uuidHex}${DELETE_DIR_SUFFIX}`;
}

export function isDeleteDirName(name: string): boolean {
  // The suffix first: called for every partition directory at start.
  return name.endsWith(DELETE_DIR_SUFFIX) && /^.+-\d+\.[0-9a-f]{32}-delete$/.test(name);
}

/** Observation points for tests and metrics. A hook that throws fails the operation it observes. */
export interface StorageHooks {
  /** Before each fdatasync/fsync of a log segment file. */
  onFsync?(path: string): void;
  /** After a segment was rescanned (recovery, or an index that failed its checks). */
  onSegmentRecovered?(path: string, info: { validBytes: number; truncatedBytes: number }): void;
  /**
   * The cleaner's swap of a cleaned segment (base offset `baseOffset`) into log dir `dir`, at each
   * step: 'cleaned' (the .cleaned files are written and fsynced), 'swap' (renamed to .swap: the
   * commit point), 'old-deleted' (the replaced segments renamed to .deleted, the .swap not yet
   * renamed), 'done'. Tests copy the directory here to simulate a crash at that point.
   */
  onCleanerSwap?(stage: 'cleaned' | 'swap' | 'old-deleted' | 'done', dir: string, baseOffset: number): void;
}

/** fsync of a directory, so that created, renamed and removed entries survive a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    // Some filesystems refuse fsync on a directory (EINVAL, EISDIR); nothing more can be done.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw e;
  } finally {
    await fh.close();
  }
}

/**
 * Replaces `path` with `data` atomically and durably: write a sibling .tmp, fsync it, rename it
 * over `path`, fsync the directory (Kafka's checkpoint files are written the same way).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | readonly Uint8Array[], dir: string) {
  const tmp = path + TMP_FILE_SUFFIX;
  const fh = await open(tmp, 'w');
  try {
    const parts = data instanceof Uint8Array ? [data] : [...data];
    let total = 0;
    for (const p of parts) total += p.length;
    if (total > 0) {
      const { bytesWritten } = await fh.writev(parts as NodeJS.ArrayBufferView[], 0);
      if (bytesWritten !== total) throw new Error(`short write to ${tmp}: ${bytesWritten} of ${total}`);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dir);
}

/** unlink that ignores a file already gone. */
export async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
