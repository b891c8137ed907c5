// Settings of one KRaft quorum member, with Kafka's names and defaults (QuorumConfig.java):
// controller.quorum.voters (static voters), controller.quorum.election.timeout.ms,
// controller.quorum.election.backoff.max.ms, controller.quorum.fetch.timeout.ms,
// controller.quorum.request.timeout.ms, controller.quorum.retry.backoff.ms.

/** The single partition KRaft replicates. */
export const METADATA_TOPIC = '__cluster_metadata';
export const METADATA_PARTITION = 0;
/** Kafka's reserved topic id of __cluster_metadata (Uuid.METADATA_TOPIC_ID, 0...01). */
export const METADATA_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

export interface RaftConfig {
  /** node.id of this replica. */
  nodeId: number;
  /** The static voter set (controller.quorum.voters), node ids. */
  voters: readonly number[];
  clusterId: string;
  /** controller.quorum.election.timeout.ms: the base of the randomized election timeout. */
  electionTimeoutMs: number;
  /** controller.quorum.election.backoff.max.ms: the cap of the backoff after a lost election. */
  electionBackoffMaxMs: number;
  /** controller.quorum.fetch.timeout.ms: a follower that fetches nothing from its leader for this long starts an election. */
  fetchTimeoutMs: number;
  /** controller.quorum.request.timeout.ms: an unanswered request is forgotten after this. */
  requestTimeoutMs: number;
  /** controller.quorum.retry.backoff.ms: the pause before retrying a failed request. */
  retryBackoffMs: number;
  /** The long-poll of a follower's Fetch (Kafka's KafkaRaftClient uses 500 ms). */
  fetchMaxWaitMs: number;
  /** Bytes of record batches a Fetch response carries at most (at least one batch is sent). */
  fetchMaxBytes: number;
  /** Bytes of snapshot a FetchSnapshot response carries at most. */
  fetchSnapshotMaxBytes: number;
  /** KIP-996: a replica asks for pre-votes before bumping the epoch. */
  preVote: boolean;
  /**
   * Rules deliberately broken, for tests only: proof that the simulation catches such bugs.
   * Never set outside tests.
   */
  unsafeFaults?: {
    /** Grant votes without comparing the candidate's log with ours. */
    skipVoteLogCheck?: boolean;
    /** Advance the high watermark over entries of earlier epochs without waiting for one of the leader's epoch. */
    skipCurrentEpochCommitRule?: boolean;
    /** Count appended but unflushed entries: the leader's own log end, a follower's fetch before its flush. */
    countUnflushedEntries?: boolean;
  };
}

export const RAFT_DEFAULTS = {
  electionTimeoutMs: 1000,
  electionBackoffMaxMs: 1000,
  fetchTimeoutMs: 2000,
  requestTimeoutMs: 2000,
  retryBackoffMs: 20,
  fetchMaxWaitMs: 500,
  // Kafka's KafkaRaftClient fetches up to 8 MiB (MAX_FETCH_SIZE_BYTES), log and snapshot alike.
  fetchMaxBytes: 8 * 1024 * 1024,
  fetchSnapshotMaxBytes: 8 * 1024 * 1024,
  preVote: true,
} as const;

/** Kafka's check-quorum window: a leader resigns when no majority fetched within 1.5 × fetch timeout. */
export const CHECK_QUORUM_TIMEOUT_FACTOR = 1.5;

export function raftConfig(
  c: Pick<RaftConfig, 'nodeId' | 'voters' | 'clusterId'> & Partial<RaftConfig>,
): RaftConfig {
  const config: RaftConfig = { ...RAFT_DEFAULTS, ...c };
  if (config.voters.length === 0) throw new Error('controller.quorum.voters is empty');
  if (new Set(config.voters).size !== config.voters.length) throw new Error('duplicate voter ids');
  for (const k of ['electionTimeoutMs', 'fetchTimeoutMs', 'requestTimeoutMs'] as const) {
    if (!(config[k] > 0)) throw new Error(`${k} must be positive`);
  }
  return config;
}
