// The KRaft quorum state of this node, as a single-voter quorum (Kafka's combined node formatted
// with --standalone): the node is the only voter, so each start is an election it wins, in an
// epoch one past the last one it knew. Kafka persists that epoch in
// `<metadata dir>/__cluster_metadata-0/quorum-state` (QuorumStateData as JSON, data_version 1);
// Samsa writes the same file in the same place, so that the epoch survives restarts and grows
// with each one, and DescribeQuorum reports it.
//
// The file format, its atomic replacement and its checks are src/raft/quorum-state-file.ts's (the
// one owner of that file); this module only decides what a single-voter start writes. An
// unreadable file is an error (as in Kafka): starting at epoch 1 again would reuse epochs already
// seen by clients.

import {
  METADATA_PARTITION_DIR,
  QUORUM_STATE_FILE,
  quorumStatePath,
  readQuorumStateFile,
  writeQuorumStateFile,
} from '../raft/quorum-state-file.js';

export { METADATA_PARTITION_DIR, QUORUM_STATE_FILE };

export interface QuorumState {
  readonly leaderId: number;
  readonly leaderEpoch: number;
  /** The directory id of the metadata log's dir (meta.properties directory.id). */
  readonly directoryId: string;
}

/** Reads the last epoch written in `dataDir`, or 0 if this node never started. */
export async function readLeaderEpoch(dataDir: string): Promise<number> {
  const read = await readQuorumStateFile(quorumStatePath(dataDir));
  // -1 is QuorumStateData's "no epoch yet".
  return read === null ? 0 : Math.max(0, read.state.leaderEpoch);
}

/**
 * Starts a new epoch with this node as leader (the only voter votes for itself and wins) and
 * makes it durable before returning it.
 */
export async function electSelf(dataDir: string, nodeId: number, directoryId: string): Promise<QuorumState> {
  const previous = await readLeaderEpoch(dataDir);
  if (previous >= 0x7fffffff) throw new Error('quorum-state: leader epoch exhausted');
  const state: QuorumState = { leaderId: nodeId, leaderEpoch: previous + 1, directoryId };
  // Kafka's QuorumStateData JSON, data_version 1 (KIP-853): the vote is for the leader itself.
  await writeQuorumStateFile(
    quorumStatePath(dataDir),
    {
      clusterId: '',
      leaderId: state.leaderId,
      leaderEpoch: state.leaderEpoch,
      votedId: nodeId,
      votedDirectoryId: directoryId,
      appliedOffset: 0n,
      currentVoters: [],
    },
    1,
  );
  return state;
}
