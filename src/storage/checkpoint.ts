// Kafka's per-log-dir checkpoint files, in Kafka's own text format so that a user (or Kafka's
// tools) recognises them:
//   recovery-point-offset-checkpoint, log-start-offset-checkpoint:
//     "0\n<count>\n<topic> <partition> <offset>\n..."  (version 0, then one line per partition)
//   .kafka_cleanshutdown: {"version":0,"brokerEpoch":<n>} (Kafka 3.7+'s CleanShutdownFileHandler)
// These are Kafka's formats, not ours, so they carry Kafka's version field and no CRC; a file that
// fails to parse is reported (CorruptCheckpointError) and the caller falls back to the safe choice
// (rescan everything; start offsets from the segments).
//
// Writes are atomic and durable: a .tmp sibling, fsync, rename, directory fsync (as Kafka's
// CheckpointFile does).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CLEAN_SHUTDOWN_FILE,
  fsyncDir,
  type TopicPartition,
  unlinkIfExists,
  writeFileAtomic,
} from './files.js';

const CHECKPOINT_VERSION = 0;

export class CorruptCheckpointError extends Error {
  override name = 'CorruptCheckpointError';
}

export interface CheckpointEntry extends TopicPartition {
  readonly offset: bigint;
}

export function formatOffsetCheckpoint(entries: Iterable<CheckpointEntry>): string {
  const lines: string[] = [];
  for (const e of entries) lines.push(`${e.topic} ${e.partition} ${e.offset}`);
  return `${CHECKPOINT_VERSION}\n${lines.length}\n${lines.map((l) => `${l}\n`).join('')}`;
}

/** Parses the checkpoint text; throws CorruptCheckpointError on anything malformed. */
export function parseOffsetCheckpoint(text: string, what = 'checkpoint'): CheckpointEntry[] {
  const out: CheckpointEntry[] = [];
  forEachCheckpointLine(text, what, (topic, partition, offset) => out.push({ topic, partition, offset }));
  return out;
}

const LINE_RE = /^(\S+) (\d+) (-?\d+)$/;

/** The entries of a checkpoint, in file order, handed to `fn` (no object per line). */
function forEachCheckpointLine(
  text: string,
  what: string,
  fn: (topic: string, partition: number, offset: bigint) => void,
): void {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 2) throw new CorruptCheckpointError(`${what}: missing version or count`);
  if (lines[0].trim() !== String(CHECKPOINT_VERSION)) {
    throw new CorruptCheckpointError(`${what}: unrecognized version ${JSON.stringify(lines[0])}`);
  }
  const count = Number(lines[1].trim());
  if (!/^\d+$/.test(lines[1].trim()) || count !== lines.length - 2) {
    throw new CorruptCheckpointError(`${what}: expected ${lines[1]} entries, found ${lines.length - 2}`);
  }
  for (let i = 2; i < lines.length; i++) {
    const m = LINE_RE.exec(lines[i].trim());
    if (!m) throw new CorruptCheckpointError(`${what}: malformed line ${JSON.stringify(lines[i])}`);
    fn(m[1], Number(m[2]), BigInt(m[3]));
  }
}

/** Reads a checkpoint file: null when absent; CorruptCheckpointError when malformed. */
export async function readOffsetCheckpoint(path: string): Promise<Map<string, bigint> | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const map = new Map<string, bigint>();
  forEachCheckpointLine(text, path, (topic, partition, offset) => map.set(`${topic}-${partition}`, offset));
  return map;
}

export async function writeOffsetCheckpoint(
  dir: string,
  fileName: string,
  entries: Iterable<CheckpointEntry>,
): Promise<void> {
  await writeFileAtomic(join(dir, fileName), Buffer.from(formatOffsetCheckpoint(entries), 'utf8'), dir);
}

/** Whether the log dir was shut down cleanly; the marker is removed so a later crash is seen. */
export async function consumeCleanShutdownMarker(dir: string): Promise<boolean> {
  const path = join(dir, CLEAN_SHUTDOWN_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  // Removed (durably) before any write, so that a crash from now on is seen as one.
  await unlinkIfExists(path);
  await fsyncDir(dir);
  // Kafka before 3.7 wrote an empty file; later versions a small JSON document.
  if (text.trim() === '') return true;
  try {
    const doc = JSON.parse(text) as { version?: unknown };
    return doc.version === 0;
  } catch {
    return false;
  }
}

export async function writeCleanShutdownMarker(dir: string, brokerEpoch = -1): Promise<void> {
  const doc = JSON.stringify({ version: 0, brokerEpoch });
  await writeFileAtomic(join(dir, CLEAN_SHUTDOWN_FILE), Buffer.from(doc, 'utf8'), dir);
}
