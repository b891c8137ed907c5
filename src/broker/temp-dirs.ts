// The temporary data directories of embedded brokers (startBroker() without log.dirs).
//
// stop() removes its broker's directory, but a test process that crashes, is killed, or never
// calls stop() leaves it behind. So each directory carries an owner file naming the process that
// made it, and every startBroker() first sweeps the directories whose owner is gone. Only
// directories with a readable owner file are ever removed: anything else under the temp dir (other
// programs', other users', one being created this instant) is left alone.
//
// Layout: <os.tmpdir()>/samsa-XXXXXX/{samsa-owner.json, data/}; data/ is the broker's log.dirs.
// The owner file holds the pid and, on Linux, the process's start time (field 22 of
// /proc/<pid>/stat), so that a pid the kernel has since given to another process does not keep a
// dead owner's directory alive forever.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'samsa-';
export const OWNER_FILE = 'samsa-owner.json';

interface Owner {
  pid: number;
  /** Clock ticks since boot at which the process started (Linux), or null where unknown. */
  startTime: string | null;
}

/** A process's start time from /proc (Linux), or null. */
function processStartTime(pid: number | 'self'): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 overall; fields[0] here is field 3
  } catch {
    return null;
  }
}

function isAlive(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.startTime === null) return true;
  const now = processStartTime(owner.pid);
  return now === null || now === owner.startTime;
}

/** Makes a new temporary directory owned by this process; returns it and its data directory. */
export function createOwnedTempDir(): { dir: string; dataDir: string } {
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  const owner: Owner = { pid: process.pid, startTime: processStartTime('self') };
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify(owner));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  return { dir, dataDir };
}

/**
 * Removes the temporary directories of embedded brokers whose process is gone; returns their
 * paths. Never throws: a directory that cannot be read or removed is skipped.
 */
export function sweepStaleTempDirs(root = tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(root, name);
    let owner: Owner;
    try {
      const parsed = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as Partial<Owner>;
      if (typeof parsed.pid !== 'number' || !Number.isInteger(parsed.pid) || parsed.pid <= 0) continue;
      owner = { pid: parsed.pid, startTime: typeof parsed.startTime === 'string' ? parsed.startTime : null };
    } catch {
      continue; // not one of ours, or not yet written
    }
    if (isAlive(owner)) continue;
    try {
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // another user's, or being removed by another sweep: leave it
    }
  }
  return removed;
}
