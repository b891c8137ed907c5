// The `quorum-state` file (Kafka's FileQuorumStateStore): a node's election state, QuorumStateData
// (src/protocol/generated/raft/) as one line of JSON with a `data_version` field, in the metadata
// partition's directory `<metadata.log.dir>/__cluster_metadata-0/quorum-state`. This module is the
// one owner of that format; the single-node broker (metadata/quorum-state.ts) and the KRaft file
// adapters both go through it.
//
// Versions as Kafka writes them: 0 (kraft.version 0, static voters: clusterId, leaderId,
// leaderEpoch, votedId, appliedOffset, currentVoters) and 1 (kraft.version 1, KIP-853: leaderId,
// leaderEpoch, votedId, votedDirectoryId). The file is replaced atomically: a temporary file is
// written and fsynced, renamed over the old one, and the directory fsynced, so a crash leaves the
// old state or the new one, never a torn file. An unreadable file is an error, as in Kafka: starting
// over at epoch 0 could vote twice in an epoch or reuse epochs clients have seen.

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { QuorumStateData } from '../protocol/generated/index.js';
import { writeFileAtomic } from '../storage/files.js';

/** The directory Kafka gives the metadata partition's log. */
export const METADATA_PARTITION_DIR = '__cluster_metadata-0';
export const QUORUM_STATE_FILE = 'quorum-state';

export type QuorumStateVersion = 0 | 1;

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
const INT32_MAX = 0x7fffffff;

export class QuorumStateFileError extends Error {
  override name = 'QuorumStateFileError';
}

export function quorumStatePath(metadataLogDir: string): string {
  return join(metadataLogDir, METADATA_PARTITION_DIR, QUORUM_STATE_FILE);
}

/** The JSON Kafka writes for `state` at `version` (only the fields that version has). */
export function formatQuorumState(state: QuorumStateData, version: QuorumStateVersion): string {
  const json: Record<string, unknown> =
    version === 0
      ? {
          clusterId: state.clusterId,
          leaderId: state.leaderId,
          leaderEpoch: state.leaderEpoch,
          votedId: state.votedId,
          appliedOffset: Number(state.appliedOffset),
          currentVoters: state.currentVoters?.map((v) => ({ voterId: v.voterId })) ?? null,
        }
      : {
          leaderId: state.leaderId,
          leaderEpoch: state.leaderEpoch,
          votedId: state.votedId,
          votedDirectoryId: state.votedDirectoryId,
        };
  json.data_version = version;
  return JSON.stringify(json);
}

function int32Field(obj: Record<string, unknown>, name: string, min: number, where: string): number {
  const v = obj[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > INT32_MAX) {
    throw new QuorumStateFileError(`${where}: no valid ${name}`);
  }
  return v;
}

/** Parses the file's text; throws QuorumStateFileError naming `where` for anything malformed. */
export function parseQuorumState(
  text: string,
  where = QUORUM_STATE_FILE,
): { state: QuorumStateData; version: QuorumStateVersion } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new QuorumStateFileError(`${where}: not a quorum-state file (not JSON)`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new QuorumStateFileError(`${where}: not a quorum-state file (not a JSON object)`);
  }
  const obj = parsed as Record<string, unknown>;
  // Kafka reads a file without data_version as version 0 (files of Kafka before 3.8 have it too).
  const version = obj.data_version ?? 0;
  if (version !== 0 && version !== 1) {
    throw new QuorumStateFileError(`${where}: unsupported data_version ${String(version)}`);
  }
  const state: QuorumStateData = {
    clusterId: '',
    leaderId: int32Field(obj, 'leaderId', -1, where),
    leaderEpoch: int32Field(obj, 'leaderEpoch', -1, where),
    votedId: int32Field(obj, 'votedId', -1, where),
    votedDirectoryId: ZERO_UUID,
    appliedOffset: 0n,
    currentVoters: [],
  };
  if (version === 0) {
    if (obj.clusterId !== undefined && typeof obj.clusterId !== 'string') {
      throw new QuorumStateFileError(`${where}: no valid clusterId`);
    }
    state.clusterId = (obj.clusterId as string | undefined) ?? '';
    const applied = obj.appliedOffset ?? 0;
    if (typeof applied !== 'number' || !Number.isSafeInteger(applied)) {
      throw new QuorumStateFileError(`${where}: no valid appliedOffset`);
    }
    state.appliedOffset = BigInt(applied);
    const voters = obj.currentVoters;
    if (voters === null) state.currentVoters = null;
    else if (voters !== undefined) {
      if (!Array.isArray(voters)) throw new QuorumStateFileError(`${where}: no valid currentVoters`);
      state.currentVoters = voters.map((v) => {
        if (v === null || typeof v !== 'object')
          throw new QuorumStateFileError(`${where}: no valid currentVoters`);
        return { voterId: int32Field(v as Record<string, unknown>, 'voterId', 0, where) };
      });
    }
  } else {
    const dir = obj.votedDirectoryId ?? ZERO_UUID;
    if (typeof dir !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(dir)) {
      throw new QuorumStateFileError(`${where}: no valid votedDirectoryId`);
    }
    state.votedDirectoryId = dir;
  }
  return { state, version };
}

/** Reads `path`; null when there is no such file (a node that never voted). */
export async function readQuorumStateFile(
  path: string,
): Promise<{ state: QuorumStateData; version: QuorumStateVersion } | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return parseQuorumState(text, path);
}

/** Replaces `path` with `state` durably and atomically (temp file, fsync, rename, fsync dir). */
export async function writeQuorumStateFile(
  path: string,
  state: QuorumStateData,
  version: QuorumStateVersion,
): Promise<void> {
  const dir = join(path, '..');
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(path, Buffer.from(formatQuorumState(state, version)), dir);
}

/**
 * A node's quorum-state file, with writes applied in the order asked (a RaftNode's
 * writeQuorumState outputs: each completion is handleQuorumStateWritten(seq), and a later state must
 * not be overtaken by an earlier one on disk).
 */
export class FileQuorumStateStore {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    /** 0 for static voters (kraft.version 0), 1 for dynamic quorums (kraft.version 1). */
    readonly version: QuorumStateVersion = 0,
  ) {}

  static forLogDir(metadataLogDir: string, version: QuorumStateVersion = 0): FileQuorumStateStore {
    return new FileQuorumStateStore(quorumStatePath(metadataLogDir), version);
  }

  async read(): Promise<QuorumStateData | null> {
    return (await readQuorumStateFile(this.path))?.state ?? null;
  }

  /** Queues a durable write; resolves once it (and every write queued before it) is on disk. */
  write(state: QuorumStateData): Promise<void> {
    const snapshot = { ...state };
    const p = this.chain.then(() => writeQuorumStateFile(this.path, snapshot, this.version));
    // A failed write fails its caller; the next write still runs (it replaces the whole file).
    this.chain = p.catch(() => {});
    return p;
  }

  /** Resolves once every write queued so far has settled. */
  settled(): Promise<void> {
    return this.chain;
  }
}
