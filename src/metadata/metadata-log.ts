// The metadata log: where metadata records are made durable before they are applied, and from
// which the image is rebuilt at start.
//
// MetadataLog is the contract the broker may later implement on a real __cluster_metadata-0
// partition log. FileMetadataLog is the implementation used today: one append-only file under the
// data directory. Its format (all integers big-endian):
//
//   header:  "SMDL" | format version: u8 (= 1) | 3 reserved zero bytes
//   entry*:  payload length: u32 | crc32c(length bytes + payload): u32 | payload
//   payload: record count: u32 | (record length: u32 | record)*
//
// where each record is a MetadataRecordSerde value (see records.ts). One append() is one entry, so
// an operation's records become durable together or not at all. Every append is fsynced before it
// resolves. On open, a torn tail (an incomplete last entry, or a last entry whose CRC fails because
// the crash caught it half-written) is truncated away; a bad entry followed by more data is not a
// torn write but corruption, and opening fails rather than silently dropping committed metadata.

import { type FileHandle, mkdir, open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { type ApiMessageAndVersion, decodeMetadataRecord, encodeMetadataRecord } from './records.js';

export interface MetadataLog {
  /** Makes the records durable, as one atomic entry; resolves once they are (fsynced). */
  append(records: readonly ApiMessageAndVersion[]): Promise<void>;
  /** Calls `apply` for every record in the log, in order. */
  replayAll(apply: (record: ApiMessageAndVersion) => void): Promise<void>;
  close(): Promise<void>;
}

/** The metadata file's name under a data directory (beside meta.properties, not a partition dir). */
export const METADATA_LOG_FILE_NAME = 'samsa-metadata.log';

export function metadataLogPath(dataDir: string): string {
  return join(dataDir, METADATA_LOG_FILE_NAME);
}

const MAGIC = Buffer.from('SMDL', 'latin1');
/** The file format version this code reads and writes. */
export const METADATA_LOG_FORMAT_VERSION = 1;
const HEADER_SIZE = 8;
const ENTRY_HEADER_SIZE = 8;
/** Larger entries are rejected on append and treated as garbage on read. */
export const MAX_ENTRY_SIZE = 256 * 1024 * 1024;

/** The metadata file is unreadable and cannot be repaired by truncating a torn tail. */
export class MetadataLogCorruptError extends Error {
  override name = 'MetadataLogCorruptError';
}

function header(): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(h, 0);
  h[4] = METADATA_LOG_FORMAT_VERSION;
  return h;
}

/** Encodes one append as a file entry (entry header + payload). */
export function encodeEntry(records: readonly ApiMessageAndVersion[]): Buffer {
  const encoded = records.map(encodeMetadataRecord);
  const payloadSize = 4 + encoded.reduce((n, b) => n + 4 + b.length, 0);
  if (payloadSize > MAX_ENTRY_SIZE)
    throw new RangeError(`metadata log entry of ${payloadSize} bytes is too large`);
  const buf = Buffer.allocUnsafe(ENTRY_HEADER_SIZE + payloadSize);
  buf.writeUInt32BE(payloadSize, 0);
  let pos = ENTRY_HEADER_SIZE;
  buf.writeUInt32BE(encoded.length, pos);
  pos += 4;
  for (const b of encoded) {
    buf.writeUInt32BE(b.length, pos);
    pos += 4;
    b.copy(buf, pos);
    pos += b.length;
  }
  buf.writeUInt32BE(entryCrc(buf, payloadSize), 4);
  return buf;
}

function entryCrc(entry: Buffer, payloadSize: number): number {
  return (
    crc32c(
      entry.subarray(ENTRY_HEADER_SIZE, ENTRY_HEADER_SIZE + payloadSize),
      crc32c(entry.subarray(0, 4)),
    ) >>> 0
  );
}

function decodePayload(payload: Buffer): ApiMessageAndVersion[] {
  if (payload.length < 4) throw new Error('payload shorter than its record count');
  const count = payload.readUInt32BE(0);
  const out: ApiMessageAndVersion[] = [];
  let pos = 4;
  for (let i = 0; i < count; i++) {
    if (pos + 4 > payload.length) throw new Error('record length past the end of the entry');
    const len = payload.readUInt32BE(pos);
    pos += 4;
    if (pos + len > payload.length) throw new Error('record past the end of the entry');
    // Copy: decoded records may keep views into their bytes, and the file buffer is large.
    out.push(decodeMetadataRecord(Buffer.from(payload.subarray(pos, pos + len))));
    pos += len;
  }
  if (pos !== payload.length) throw new Error(`${payload.length - pos} trailing bytes in entry`);
  return out;
}

/** The result of scanning a metadata file's bytes. */
export interface ScanResult {
  /** Records of each complete, valid entry, in order. */
  readonly entries: ApiMessageAndVersion[][];
  /** Offset just past the last valid entry: where the file must end. */
  readonly validEnd: number;
}

/**
 * Scans a metadata file's bytes (header included). Throws MetadataLogCorruptError for a bad header
 * or for damage before the last entry; reports a torn tail through validEnd < bytes.length.
 */
export function scanMetadataLog(bytes: Buffer, path = 'metadata log'): ScanResult {
  if (bytes.length < HEADER_SIZE) {
    // Only a crash while the file was being created leaves less than a header.
    if (!MAGIC.subarray(0, Math.min(4, bytes.length)).equals(bytes.subarray(0, Math.min(4, bytes.length)))) {
      throw new MetadataLogCorruptError(`${path}: not a Samsa metadata log (bad magic)`);
    }
    return { entries: [], validEnd: 0 };
  }
  if (!bytes.subarray(0, 4).equals(MAGIC))
    throw new MetadataLogCorruptError(`${path}: not a Samsa metadata log (bad magic)`);
  if (bytes[4] !== METADATA_LOG_FORMAT_VERSION) {
    throw new MetadataLogCorruptError(
      `${path}: format version ${bytes[4]}, this Samsa reads version ${METADATA_LOG_FORMAT_VERSION}`,
    );
  }
  const entries: ApiMessageAndVersion[][] = [];
  let pos = HEADER_SIZE;
  while (pos < bytes.length) {
    if (bytes.length - pos < ENTRY_HEADER_SIZE) break; // torn entry header
    const len = bytes.readUInt32BE(pos);
    const end = pos + ENTRY_HEADER_SIZE + len;
    if (len > MAX_ENTRY_SIZE || end > bytes.length) break; // torn (or garbage) length: incomplete entry
    const isLast = end === bytes.length;
    const crcOk = bytes.readUInt32BE(pos + 4) === entryCrc(bytes.subarray(pos, end), len);
    if (!crcOk) {
      if (isLast) break; // a torn final write
      throw new MetadataLogCorruptError(
        `${path}: entry at offset ${pos} fails its CRC and is followed by more entries`,
      );
    }
    try {
      entries.push(decodePayload(bytes.subarray(pos + ENTRY_HEADER_SIZE, end)));
    } catch (e) {
      throw new MetadataLogCorruptError(
        `${path}: entry at offset ${pos} has a valid CRC but cannot be decoded: ${e}`,
      );
    }
    pos = end;
  }
  return { entries, validEnd: pos };
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** A MetadataLog in one append-only file, fsynced per append, torn tail truncated on open. */
export class FileMetadataLog implements MetadataLog {
  private queue: Promise<unknown> = Promise.resolve();
  private failure: unknown = null;
  private closed = false;

  private constructor(
    readonly path: string,
    private handle: FileHandle,
    private end: number,
    /** Bytes of torn tail cut off when the file was opened (0 after a clean shutdown). */
    readonly truncatedBytes: number,
    /**
     * The entries open() decoded, while the file still ends where open() left it: the first
     * replayAll() hands them out instead of reading and decoding the file a second time (at start
     * of a broker with 10,000 partitions that is a tenth of a second). Dropped once used.
     */
    private openedEntries: { entries: ApiMessageAndVersion[][]; end: number } | null = null,
  ) {}

  /** Opens (creating if needed) the metadata log at `path`, repairing a torn tail. */
  static async open(path: string): Promise<FileMetadataLog> {
    await mkdir(dirname(path), { recursive: true });
    let handle: FileHandle;
    let created = false;
    try {
      handle = await open(path, 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      handle = await open(path, 'wx+');
      created = true;
    }
    try {
      const bytes = await handle.readFile();
      const { entries, validEnd } = scanMetadataLog(bytes, path);
      let end = validEnd;
      let truncated = bytes.length - validEnd;
      if (end < HEADER_SIZE) {
        // New file, or one torn during creation: (re)write the header.
        await handle.truncate(0);
        await handle.write(header(), 0, HEADER_SIZE, 0);
        await handle.sync();
        end = HEADER_SIZE;
        truncated = created ? 0 : bytes.length;
        await fsyncDir(dirname(path));
      } else if (truncated > 0) {
        await handle.truncate(end);
        await handle.sync();
      }
      return new FileMetadataLog(path, handle, end, truncated, {
        entries: end === validEnd ? entries : [],
        end,
      });
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async append(records: readonly ApiMessageAndVersion[]): Promise<void> {
    if (records.length === 0) return;
    // Encoding errors reject here, before anything is written, and leave the log usable. (An async
    // function runs up to its first await synchronously, so appends queue in call order.)
    const entry = encodeEntry(records);
    return this.enqueue(async () => {
      await this.writeFully(entry, this.end);
      await this.handle.datasync();
      this.end += entry.length;
    });
  }

  async replayAll(apply: (record: ApiMessageAndVersion) => void): Promise<void> {
    const opened = this.openedEntries;
    this.openedEntries = null;
    if (opened !== null) {
      // Behind any queued append, as a read would be: unchanged since open() means the same bytes.
      const same = await this.enqueue(async () => this.end === opened.end);
      if (same) {
        for (const entry of opened.entries) for (const r of entry) apply(r);
        return;
      }
    }
    const bytes = await this.enqueue(async () => {
      const buf = Buffer.allocUnsafe(this.end);
      const { bytesRead } = await this.handle.read(buf, 0, this.end, 0);
      return buf.subarray(0, bytesRead);
    });
    const { entries } = scanMetadataLog(bytes, this.path);
    for (const entry of entries) for (const r of entry) apply(r);
  }

  /**
   * Replaces the whole log with `records` (e.g. MetadataImage.toRecords(), to compact it):
   * written to a temporary file, fsynced, renamed over the log, directory fsynced.
   */
  rewrite(records: readonly ApiMessageAndVersion[]): Promise<void> {
    return this.enqueue(async () => {
      const tmp = `${this.path}.tmp`;
      const h = await open(tmp, 'w');
      try {
        const entry = records.length > 0 ? encodeEntry(records) : Buffer.alloc(0);
        const all = Buffer.concat([header(), entry]);
        await h.write(all, 0, all.length, 0);
        await h.sync();
      } finally {
        await h.close();
      }
      await this.handle.close();
      await rename(tmp, this.path);
      await fsyncDir(dirname(this.path));
      this.handle = await open(this.path, 'r+');
      this.end = (await this.handle.stat()).size;
    });
  }

  /** Bytes in the file (header included). */
  get size(): number {
    return this.end;
  }

  close(): Promise<void> {
    return this.enqueue(async () => {
      this.closed = true;
      await this.handle.close();
    });
  }

  private async writeFully(buf: Buffer, position: number): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.handle.write(buf, off, buf.length - off, position + off);
      off += bytesWritten;
    }
  }

  /** Runs operations one at a time; after a failed write the log refuses further use. */
  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closed) throw new Error(`metadata log ${this.path} is closed`);
      if (this.failure) throw new Error(`metadata log ${this.path} failed earlier: ${this.failure}`);
      try {
        return await op();
      } catch (e) {
        // A failed write or fsync leaves the file's state unknown: stop (Kafka halts the process).
        this.failure = e;
        throw e;
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }
}

/**
 * A MetadataLog in memory, for tests and for brokers that do not persist metadata. Records are
 * encoded and decoded on append, so that what it replays is exactly what a file would.
 */
export class InMemoryMetadataLog implements MetadataLog {
  readonly entries: Buffer[] = [];

  async append(records: readonly ApiMessageAndVersion[]): Promise<void> {
    if (records.length > 0) this.entries.push(encodeEntry(records));
  }

  async replayAll(apply: (record: ApiMessageAndVersion) => void): Promise<void> {
    for (const e of this.entries) for (const r of decodePayload(e.subarray(ENTRY_HEADER_SIZE))) apply(r);
  }

  async close(): Promise<void> {}
}
