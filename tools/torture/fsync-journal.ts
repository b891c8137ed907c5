// The injected storage layer of the "lost unsynced writes" fault: loaded into a broker process by
// the torture harness (`node --import <this file> <broker>`), before the broker's own code, it
// wraps Node's FileHandle.datasync/sync/truncate so that every completed fsync of a segment file
// (*.log) is recorded, with the file's length when the fsync began, in a journal outside the data
// dir (SAMSA_TORTURE_FSYNC_JOURNAL). After a SIGKILL the harness cuts every .log file back to its
// last recorded length (harness.ts, loseUnsyncedWrites): what a power loss may do to bytes the
// page cache held but no fsync covered. The broker's code is not changed at all: it cannot tell
// this layer from the file system.
//
// Why the length at the start of the fsync: an fdatasync covers at least every write that
// completed before it began. A write still in flight may or may not be covered; counting it keeps
// bytes the broker never acknowledged (harmless to the check), never drops acknowledged ones.
// A journal line is written (synchronously) after the fsync completed and before the broker sees
// the promise resolve, so nothing acknowledged on the strength of an fsync is missing from it.
//
// SAMSA_TORTURE_ACK_BEFORE_FSYNC_MS=N turns it into the deliberately broken storage the checker
// must catch: each fsync of a .log file resolves at once, and the real fsync runs N ms later (and
// only then is journaled), so the broker acknowledges produce requests before their data is
// durable (test/torture/broken-broker.test.ts).

import { fstatSync, openSync, readlinkSync, writeSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

type Sync = (this: FileHandle) => Promise<void>;
type Truncate = (this: FileHandle, len?: number) => Promise<void>;

const journal = process.env.SAMSA_TORTURE_FSYNC_JOURNAL;
const ackEarlyMs = Number(process.env.SAMSA_TORTURE_ACK_BEFORE_FSYNC_MS ?? '0');

function segmentPath(fh: FileHandle): string | null {
  try {
    const path = readlinkSync(`/proc/self/fd/${fh.fd}`);
    return path.endsWith('.log') ? path : null;
  } catch {
    return null;
  }
}

if (journal) {
  const out = openSync(journal, 'a');
  const record = (line: string) => writeSync(out, `${line}\n`);
  // FileHandle is not exported; any open handle leads to its prototype.
  const probe = await open(process.execPath, 'r');
  const proto = Object.getPrototypeOf(probe) as Record<string, unknown>;
  await probe.close();
  for (const name of ['datasync', 'sync'] as const) {
    const original = proto[name] as Sync;
    proto[name] = function (this: FileHandle): Promise<void> {
      const path = segmentPath(this);
      if (path === null) return original.call(this);
      const size = fstatSync(this.fd).size;
      if (ackEarlyMs > 0) {
        setTimeout(() => {
          original.call(this).then(
            () => record(`sync\t${path}\t${size}`),
            () => {}, // closed meanwhile: nothing became durable
          );
        }, ackEarlyMs);
        return Promise.resolve();
      }
      return original.call(this).then(() => {
        record(`sync\t${path}\t${size}`);
      });
    };
  }
  // A truncation (recovery, truncateTo) shortens what survives too.
  const truncate = proto.truncate as Truncate;
  proto.truncate = function (this: FileHandle, len = 0): Promise<void> {
    const path = segmentPath(this);
    return truncate.call(this, len).then(() => {
      if (path !== null) record(`truncate\t${path}\t${len}`);
    });
  };
}
