// The log directory lock: Kafka's `.lock` file in every log dir (and the metadata dir), held
// exclusively for the life of the broker, so that a second broker started on the same data
// refuses to start instead of writing beside the first one (both would acknowledge writes, and
// whichever wrote the checkpoints last would take the other's acknowledged records away).
//
// The lock is a real kernel lock, flock(2) on `<dir>/.lock`, so it ends with the process however
// the process ends (kill -9 included) and no stale-lock guessing is ever needed.
//
// Node has no flock binding and no well-kept npm package ships one prebuilt (fs-ext compiles at
// install; its prebuilt fork has one release), so the lock is taken by a short-lived child: this
// process opens `.lock` and hands that descriptor to the child as its fd 3, and the child calls
// flock(2) on it (LOCK_EX | LOCK_NB) and exits. The child is `flock -x -n 3`, util-linux's (every
// Linux distribution ships it) or busybox's, or else perl (macOS has no flock(1) but has perl,
// whose flock() is flock(2) there). A flock belongs to the open file description, which the child
// shares with this process, so the lock the child takes stays held by this process's descriptor
// after the child exits, until that descriptor is closed (stop()) or the process dies. Two
// descriptors opened separately conflict even within one process, so two in-process brokers
// (startBroker() in tests) on one directory are refused as well. Node opens files with O_CLOEXEC,
// so no process this broker might spawn inherits the lock.
//
// The holder writes its pid into `.lock` (Kafka leaves the file empty; the content is only for
// the refusal message). The file is never deleted: deleting a locked file would let the next
// starter lock a new inode beside the held one.
//
// Where neither tool exists, the directories are used unlocked, with a warning.

import { spawn } from 'node:child_process';
import { closeSync, constants, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE_NAME = '.lock';

/** Another process (or another broker in this process) holds a log dir's lock. */
export class LogDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holderPid: number | null,
  ) {
    super(
      `log dir ${dir} is locked by another broker (${holderPid === null ? 'pid unknown' : `pid ${holderPid}`}); ` +
        'stop it first, or give this broker other log.dirs',
    );
    this.name = 'LogDirLockedError';
  }
}

/** The locks of a broker's directories; release() closes them (idempotent). */
export class LogDirLocks {
  private released = false;

  constructor(
    private readonly held: { dir: string; fd: number }[],
    /** Directories used without a lock (no tool to take one on this system). */
    readonly unlocked: readonly string[],
  ) {}

  get dirs(): string[] {
    return this.held.map((h) => h.dir);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const { fd } of this.held) {
      try {
        // Emptied first, so that nobody reads this pid as the holder once the lock is gone.
        ftruncateSync(fd, 0);
      } catch {}
      try {
        closeSync(fd);
      } catch {}
    }
  }
}

/** What a lock tool reported. */
type FlockOutcome = 'locked' | 'held' | 'failed' | 'unavailable';

/**
 * The programs that can flock(2) a descriptor they inherit as fd 3, in order of preference. Each
 * exits 0 once it holds the lock and 1 when it is held elsewhere; anything else is a failure.
 */
export const LOCK_TOOLS = {
  // Short options: busybox's flock knows no long ones (its usage error would exit 1, "held").
  flock: { command: 'flock', args: ['-x', '-n', '3'] },
  // open fd 3 as a handle without dup'ing it; 6 = LOCK_EX | LOCK_NB.
  perl: {
    command: 'perl',
    args: ['-e', 'open(my $fh, "+<&=", 3) or exit 2; flock($fh, 6) or exit 1; exit 0'],
  },
} as const;

export type LockTool = keyof typeof LOCK_TOOLS;

/** Runs one lock tool on the given descriptor (the child's fd 3). */
function flockDescriptor(fd: number, tool: LockTool): Promise<{ outcome: FlockOutcome; detail: string }> {
  return new Promise((resolve) => {
    let stderr = '';
    let settled = false;
    const done = (outcome: FlockOutcome, detail = '') => {
      if (settled) return;
      settled = true;
      resolve({ outcome, detail });
    };
    let child: ReturnType<typeof spawn>;
    try {
      const { command, args } = LOCK_TOOLS[tool];
      child = spawn(command, [...args], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    } catch (err) {
      done('unavailable', (err as Error).message);
      return;
    }
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', (err: NodeJS.ErrnoException) => {
      // ENOENT: no such tool here. Anything else stops the start: a lock we cannot take is not
      // a lock we may ignore.
      if (err.code === 'ENOENT') done('unavailable', err.message);
      else done('failed', err.message);
    });
    child.on('close', (code) => {
      if (code === 0) done('locked');
      else if (code === 1) done('held', stderr.trim());
      else done('failed', `${tool} exited with ${code}: ${stderr.trim()}`);
    });
  });
}

function readHolderPid(path: string): number | null {
  try {
    const m = /pid=(\d+)/.exec(readFileSync(path, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The tool that worked last, tried first next time (saves a failed spawn per dir on macOS). */
let preferredTool: LockTool | null = null;

/** Locks a descriptor with the first lock tool this system has. */
async function lockDescriptor(
  fd: number,
  tools: readonly LockTool[],
): Promise<{ outcome: FlockOutcome; detail: string }> {
  const order =
    preferredTool && tools.includes(preferredTool)
      ? [preferredTool, ...tools.filter((t) => t !== preferredTool)]
      : tools;
  const missing: string[] = [];
  for (const tool of order) {
    const r = await flockDescriptor(fd, tool);
    if (r.outcome !== 'unavailable') {
      preferredTool = tool;
      return r;
    }
    missing.push(r.detail);
  }
  return { outcome: 'unavailable', detail: missing.join('; ') };
}

/**
 * Locks each directory (created if missing), in order; if one is held elsewhere, releases the
 * ones already taken and throws LogDirLockedError. `warn` hears about directories left unlocked
 * because this system has none of the lock tools (`tools`: which to try, for tests).
 */
export async function lockLogDirs(
  dirs: readonly string[],
  warn?: (msg: string) => void,
  tools: readonly LockTool[] = ['flock', 'perl'],
): Promise<LogDirLocks> {
  const held: { dir: string; fd: number }[] = [];
  const unlocked: string[] = [];
  const locks = new LogDirLocks(held, unlocked);
  try {
    for (const dir of new Set(dirs)) {
      mkdirSync(dir, { recursive: true });
      const path = join(dir, LOCK_FILE_NAME);
      // Never O_TRUNC: the holder's pid in the file is what the refusal names.
      const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
      const { outcome, detail } = await lockDescriptor(fd, tools);
      if (outcome === 'locked') {
        held.push({ dir, fd });
        ftruncateSync(fd, 0);
        writeSync(fd, `pid=${process.pid}\n`, 0);
        continue;
      }
      closeSync(fd);
      if (outcome === 'unavailable') {
        unlocked.push(dir);
        warn?.(`log dir ${dir} is used without a lock: neither flock(1) nor perl is available (${detail})`);
        continue;
      }
      if (outcome === 'failed') throw new Error(`cannot lock log dir ${dir}: ${detail}`);
      throw new LogDirLockedError(dir, readHolderPid(path));
    }
  } catch (err) {
    locks.release();
    throw err;
  }
  return locks;
}
