// The KRaft quorum state of this node, as a single-voter quorum (Kafka's combined node formatted
// with --standalone): the node is the only voter, so each start is an election it wins, in an
// epoch one past the last one it knew. Kafka persists that epoch in
// `<metadata dir>/__cluster_metadata-0/quorum-state` (QuorumStateData as JSON, data_version 1);
// Samsa writes the same file in the same place, so that the epoch survives restarts and grows
// with each one, and DescribeQuorum reports it.
//
// The file is replaced atomically (temporary file fsynced, renamed, directory fsynced): a crash
// leaves either the old epoch or the new one, never a torn file. An unreadable file is an error
// (as in Kafka): starting at epoch 1 again would reuse epochs already seen by clients.

import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** The directory Kafka gives the metadata partition's log (Samsa keeps its quorum-state there). */
export const METADATA_PARTITION_DIR = '__cluster_metadata-0';
export const QUORUM_STATE_FILE = 'quorum-state';

export interface QuorumState {
  readonly leaderId: number;
  readonly leaderEpoch: number;
  /** The directory id of the metadata log's dir (meta.properties directory.id). */
  readonly directoryId: string;
}

async function fsyncPath(path: string, flags: string): Promise<void> {
  const h = await open(path, flags);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Reads the last epoch written in `dataDir`, or 0 if this node never started. */
export async function readLeaderEpoch(dataDir: string): Promise<number> {
  const path = join(dataDir, METADATA_PARTITION_DIR, QUORUM_STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${path}: not a quorum-state file (not JSON)`);
  }
  const epoch = (parsed as { leaderEpoch?: unknown } | null)?.leaderEpoch;
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0 || epoch > 0x7fffffff) {
    throw new Error(`${path}: no valid leaderEpoch`);
  }
  return epoch;
}

/**
 * Starts a new epoch with this node as leader (the only voter votes for itself and wins) and
 * makes it durable before returning it.
 */
export async function electSelf(dataDir: string, nodeId: number, directoryId: string): Promise<QuorumState> {
  const previous = await readLeaderEpoch(dataDir);
  if (previous >= 0x7fffffff) throw new Error('quorum-state: leader epoch exhausted');
  const state: QuorumState = { leaderId: nodeId, leaderEpoch: previous + 1, directoryId };
  const dir = join(dataDir, METADATA_PARTITION_DIR);
  await mkdir(dir, { recursive: true });
  const path = join(dir, QUORUM_STATE_FILE);
  const tmp = `${path}.tmp`;
  // Kafka's QuorumStateData JSON, data_version 1 (KIP-853): the vote is for the leader itself.
  const json = JSON.stringify({
    leaderId: state.leaderId,
    leaderEpoch: state.leaderEpoch,
    votedId: nodeId,
    votedDirectoryId: directoryId,
    data_version: 1,
  });
  const h = await open(tmp, 'w');
  try {
    await h.writeFile(json);
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(tmp, path);
  await fsyncPath(dir, 'r');
  return state;
}
