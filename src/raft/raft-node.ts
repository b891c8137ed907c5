// One member of the KRaft quorum as a sans-IO state machine (Kafka's KafkaRaftClient + QuorumState,
// KIP-595 with KIP-996 pre-vote, static voters).
//
// Inputs: received messages (receive), the passage of time (poll), completed disk work
// (handleFlushed, handleQuorumStateWritten) and the application's proposals (propose, resign).
// Every input takes the current time; nothing here reads a clock, a socket or a file. Outputs are
// collected and taken with takeOutputs(): messages to send, log flushes and quorum-state writes to
// perform. The log itself is injected (RaftLog): reads, appends and truncations are synchronous
// page-cache operations; durability comes back as handleFlushed.
//
// Durability rules this file keeps (the reasons the simulation checks):
// - The election state (epoch, vote, leader) is written before anything that depends on it is
//   sent: after a writeQuorumState output, sends are held until handleQuorumStateWritten.
// - The leader counts its own log only up to what is flushed; a follower reports (fetchOffset) only
//   a flushed log, because it sends its next Fetch only once everything it appended is flushed.
//   So the high watermark, a majority of reported offsets, only covers entries on a majority of
//   disks.
// - The high watermark moves only forward, and only once an entry of the leader's own epoch (the
//   LeaderChange record at epochStartOffset) is on a majority (Raft §5.4.2).

import { ErrorCode } from '../protocol/errors.js';
import type {
  BeginQuorumEpochRequest,
  DescribeQuorumRequest,
  DescribeQuorumResponse,
  EndQuorumEpochRequest,
  FetchRequest,
  FetchResponse,
  FetchSnapshotRequest,
  FetchSnapshotResponse,
  QuorumStateData,
  VoteRequest,
} from '../protocol/generated/index.js';
import { buildDataBatch, buildLeaderChangeBatch, concatBatches, splitBatches } from './batch.js';
import {
  CHECK_QUORUM_TIMEOUT_FACTOR,
  METADATA_PARTITION,
  METADATA_TOPIC,
  METADATA_TOPIC_ID,
  type RaftConfig,
} from './config.js';
import type { RaftLog, RaftSnapshot } from './log.js';
import type { RaftMessage, RaftOutput, RaftRequest, RaftRequestMessage, RaftResponse } from './messages.js';
import { isValidSnapshot } from './snapshot.js';

export type RaftRole = 'Unattached' | 'Prospective' | 'Candidate' | 'Leader' | 'Follower' | 'Resigned';

/** Kafka's RETRY_BACKOFF_BASE_MS of the election backoffs. */
const ELECTION_BACKOFF_BASE_MS = 100;
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

interface ReplicaState {
  /** The follower's log end (its last fetchOffset), -1 until it fetched in this epoch. */
  endOffset: number;
  /** It acknowledged BeginQuorumEpoch, or fetched in this epoch. */
  acknowledged: boolean;
  /** DescribeQuorum: when it last fetched, -1 if never in this epoch. */
  lastFetchMs: number;
  /** DescribeQuorum: the latest time at which its log had reached ours (Kafka's lastCaughtUpTimestamp). */
  lastCaughtUpMs: number;
  /** Our log end when it last fetched. */
  lastFetchLeaderEnd: number;
}

function newReplicaState(): ReplicaState {
  return { endOffset: -1, acknowledged: false, lastFetchMs: -1, lastCaughtUpMs: -1, lastFetchLeaderEnd: -1 };
}

interface ParkedFetch {
  message: RaftRequestMessage;
  deadlineMs: number;
}

interface InflightRequest {
  api: RaftRequest['api'];
  destination: number;
  sentMs: number;
  /** The local epoch when sent: a response to a request of an earlier epoch is only read for its epoch. */
  epoch: number;
  /** Fetch only: the log end the request asked from. */
  fetchOffset?: number;
}

export interface RaftNodeOptions {
  config: RaftConfig;
  log: RaftLog;
  /** A uniform random number in [0, 1): election jitter. Seeded in simulations. */
  random: () => number;
  nowMs: number;
  /** The quorum-state file as read at start, or null when there is none. */
  quorumState: QuorumStateData | null;
}

export type ProposeResult =
  | { ok: true; baseOffset: number; lastOffset: number; epoch: number }
  | { ok: false; error: 'NOT_LEADER' };

export class RaftNode {
  readonly config: RaftConfig;
  readonly log: RaftLog;
  private readonly random: () => number;
  private readonly majority: number;

  role: RaftRole = 'Unattached';
  epoch = 0;
  leaderId = -1;
  votedId = -1;
  /** Offsets below are committed as far as this node knows. Never decreases. */
  highWatermark = 0;
  /** The log is durable below this offset. */
  flushedEnd: number;

  // Timers (absolute ms; Infinity when off).
  private electionDeadlineMs = Number.POSITIVE_INFINITY;
  private fetchDeadlineMs = Number.POSITIVE_INFINITY;
  private checkQuorumDeadlineMs = Number.POSITIVE_INFINITY;
  private beginQuorumResendMs = Number.POSITIVE_INFINITY;
  private electionRetries = 0;
  /** Candidate: the election was lost or timed out; at electionDeadlineMs a new one starts. */
  private backingOff = false;

  // Elections (Prospective, Candidate).
  private granted = new Set<number>();
  private rejected = new Set<number>();

  // Leader.
  private replicas = new Map<number, ReplicaState>();
  /** Replicas fetching that are not voters (observers), for DescribeQuorum. */
  private observers = new Map<number, ReplicaState>();
  private epochStartOffset = 0;
  private fetchedSinceCheck = new Set<number>();
  private parked: ParkedFetch[] = [];

  // Follower.
  private fetchCorrelationId = -1;
  private nextFetchMs = 0;
  private lastLeaderContactMs = Number.NEGATIVE_INFINITY;
  /**
   * The leader of this epoch that resigned (its EndQuorumEpoch reached us). Voters that missed the
   * resignation may still name it; we do not go back to it in this epoch, nor name it ourselves.
   * (A leader we left on a fetch timeout we do go back to when a voter names it: it may be fine.)
   */
  private resignedLeaderId = -1;
  /**
   * The leader of this epoch we stopped following on a fetch timeout. Answers naming it do not
   * pull us back (its other followers may not have noticed yet), but a lost pre-vote does: a
   * majority refusing means they still hear from it.
   */
  private abandonedLeaderId = -1;

  /** Follower: the leader's snapshot being fetched (KIP-630), chunk by chunk. */
  private snapshotFetch: { endOffset: number; epoch: number; chunks: Buffer[]; received: number } | null =
    null;

  private inflight = new Map<number, InflightRequest>();
  private nextCorrelationId = 0;

  // Outputs and durability.
  private outputs: RaftOutput[] = [];
  private held: RaftMessage[] = [];
  private stateSeq = 0;
  private stateWritten = 0;
  private flushes = new Map<number, number>();
  private nextFlushId = 0;
  private flushRequestedUpTo: number;

  constructor(options: RaftNodeOptions) {
    this.config = options.config;
    this.log = options.log;
    this.random = options.random;
    this.majority = Math.floor(this.config.voters.length / 2) + 1;
    // What the log holds at start was read from disk: it is durable.
    this.flushedEnd = this.log.endOffset();
    this.flushRequestedUpTo = this.flushedEnd;
    const now = options.nowMs;
    const stored = options.quorumState;
    const self = this.config.nodeId;
    const logEpoch = this.log.lastFetchedEpoch();
    if (stored === null || stored.leaderEpoch < logEpoch) {
      // No state, or a log ahead of it (the state is written before any append of an epoch, so
      // this means a lost file): start unattached in the log's epoch.
      this.becomeUnattached(
        stored === null ? logEpoch : Math.max(logEpoch, stored.leaderEpoch),
        -1,
        now,
        false,
      );
    } else if (stored.leaderId === self) {
      // A leader that restarted does not lead again in the same epoch: it resigned (Kafka).
      this.epoch = stored.leaderEpoch;
      this.leaderId = self;
      this.votedId = stored.votedId;
      this.role = 'Resigned';
      this.electionDeadlineMs = now + this.randomElectionTimeout();
    } else if (stored.leaderId >= 0 && this.isVoter(stored.leaderId)) {
      this.epoch = stored.leaderEpoch;
      this.votedId = stored.votedId;
      this.becomeFollower(stored.leaderEpoch, stored.leaderId, now, false);
    } else {
      this.becomeUnattached(stored.leaderEpoch, stored.votedId, now, false);
    }
  }

  // ---------------------------------------------------------------- inputs

  /** Time passes: fire what is due. Call at nextDeadlineMs() or later. */
  poll(nowMs: number): void {
    this.tick(nowMs);
  }

  receive(message: RaftMessage, nowMs: number): void {
    if (message.destination !== this.config.nodeId) return;
    if (message.kind === 'request') this.handleRequest(message, nowMs);
    else {
      const req = this.inflight.get(message.correlationId);
      // Unknown correlation id: a duplicate, or a response to a request this node forgot.
      if (req === undefined || req.api !== message.response.api || req.destination !== message.source) return;
      this.inflight.delete(message.correlationId);
      this.handleResponse(message.response, message.source, message.correlationId, req, nowMs);
    }
    this.tick(nowMs);
  }

  /** The fsync of flush `flushId` completed. */
  handleFlushed(flushId: number, nowMs: number): void {
    const covers = this.flushes.get(flushId);
    if (covers === undefined) return;
    this.flushes.delete(flushId);
    if (covers > this.flushedEnd) this.flushedEnd = covers;
    if (this.role === 'Leader') this.maybeAdvanceHighWatermark();
    this.tick(nowMs);
  }

  /** The quorum-state write `seq` is durable: what waited on it may be sent. */
  handleQuorumStateWritten(seq: number, nowMs: number): void {
    if (seq > this.stateWritten) this.stateWritten = seq;
    if (this.stateWritten >= this.stateSeq && this.held.length > 0) {
      for (const message of this.held) this.outputs.push({ type: 'send', message });
      this.held = [];
    }
    this.tick(nowMs);
  }

  /** Appends a batch of records if this node leads (KafkaRaftClient.prepareAppend/schedule). */
  propose(values: readonly Uint8Array[], nowMs: number): ProposeResult {
    if (this.role !== 'Leader') return { ok: false, error: 'NOT_LEADER' };
    const batch = buildDataBatch(this.log.endOffset(), this.epoch, values, nowMs);
    this.log.append(batch);
    this.requestFlush();
    this.completeParkedFetches();
    this.tick(nowMs);
    return { ok: true, baseOffset: batch.baseOffset, lastOffset: batch.lastOffset, epoch: this.epoch };
  }

  /** Graceful resignation: EndQuorumEpoch to the voters, the most caught up first. */
  resign(nowMs: number): void {
    if (this.role !== 'Leader') return;
    this.becomeResigned(nowMs);
    this.tick(nowMs);
  }

  /**
   * The application has the state of everything below endOffset in `bytes` (KIP-630): keep it as
   * the latest snapshot and let the log start move there. Only committed state can be a snapshot,
   * ending at a batch boundary. Returns false (nothing done) otherwise.
   */
  createSnapshot(endOffset: number, bytes: Buffer): boolean {
    if (endOffset <= this.log.startOffset() || endOffset > this.highWatermark) return false;
    const last = this.log.batchAt(endOffset - 1);
    if (last === undefined || last.lastOffset !== endOffset - 1) return false;
    this.log.createSnapshot({ endOffset, epoch: last.epoch, bytes });
    if (this.flushedEnd < endOffset) this.flushedEnd = endOffset;
    if (this.flushRequestedUpTo < endOffset) this.flushRequestedUpTo = endOffset;
    return true;
  }

  takeOutputs(): RaftOutput[] {
    const out = this.outputs;
    this.outputs = [];
    return out;
  }

  /** The earliest time poll() has something to do. */
  nextDeadlineMs(): number {
    let t = Number.POSITIVE_INFINITY;
    switch (this.role) {
      case 'Unattached':
      case 'Prospective':
      case 'Candidate':
      case 'Resigned':
        t = this.electionDeadlineMs;
        break;
      case 'Follower':
        t = this.fetchDeadlineMs;
        if (this.fetchCorrelationId >= 0) {
          const req = this.inflight.get(this.fetchCorrelationId);
          if (req !== undefined) t = Math.min(t, req.sentMs + this.config.requestTimeoutMs);
        } else if (
          this.flushedEnd >= this.log.endOffset() ||
          this.config.unsafeFaults?.countUnflushedEntries === true
        )
          t = Math.min(t, this.nextFetchMs);
        break;
      case 'Leader':
        t = Math.min(this.checkQuorumDeadlineMs, this.beginQuorumResendMs);
        for (const p of this.parked) t = Math.min(t, p.deadlineMs);
        break;
    }
    return t;
  }

  /** Election state as Kafka's quorum-state file holds it. */
  quorumState(): QuorumStateData {
    return {
      clusterId: this.config.clusterId,
      leaderId: this.role === 'Leader' || this.role === 'Resigned' ? this.config.nodeId : this.leaderId,
      leaderEpoch: this.epoch,
      votedId: this.votedId,
      votedDirectoryId: ZERO_UUID,
      appliedOffset: 0n,
      currentVoters: this.config.voters.map((voterId) => ({ voterId })),
    };
  }

  // ---------------------------------------------------------------- timers

  private tick(now: number): void {
    switch (this.role) {
      case 'Unattached':
      case 'Resigned':
        if (now >= this.electionDeadlineMs) this.startElection(now);
        break;
      case 'Prospective':
        if (now >= this.electionDeadlineMs) this.preVoteLost(now);
        break;
      case 'Candidate':
        if (now >= this.electionDeadlineMs) {
          if (this.backingOff) this.startElection(now);
          else {
            this.electionRetries++;
            this.backingOff = true;
            this.electionDeadlineMs = now + this.electionBackoff();
          }
        }
        break;
      case 'Follower':
        if (now >= this.fetchDeadlineMs) {
          // Nothing from the leader within controller.quorum.fetch.timeout.ms.
          this.startElection(now);
          break;
        }
        this.maybeSendFetch(now);
        break;
      case 'Leader':
        if (now >= this.checkQuorumDeadlineMs) {
          // Check quorum: no majority fetched within the window; this leader may be cut off.
          this.becomeResigned(now);
          break;
        }
        if (now >= this.beginQuorumResendMs) this.sendBeginQuorumEpochs(now);
        this.expireParkedFetches(now);
        break;
    }
    // Forget requests nobody answered (their responses, if they ever come, are ignored).
    if (this.inflight.size > 0) {
      for (const [id, req] of this.inflight) {
        if (now - req.sentMs >= this.config.requestTimeoutMs) {
          this.inflight.delete(id);
          if (id === this.fetchCorrelationId) {
            this.fetchCorrelationId = -1;
            this.nextFetchMs = now;
            if (this.role === 'Follower') this.maybeSendFetch(now);
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- transitions

  private startElection(now: number): void {
    if (this.role === 'Follower') this.abandonedLeaderId = this.leaderId;
    if (!this.isVoter(this.config.nodeId)) {
      this.becomeUnattached(this.epoch, this.votedId, now, false);
      return;
    }
    if (this.config.preVote) this.becomeProspective(now);
    else this.becomeCandidate(now);
  }

  private becomeUnattached(epoch: number, votedId: number, now: number, persist = true): void {
    const changed = epoch !== this.epoch || votedId !== this.votedId || this.leaderId !== -1;
    if (epoch !== this.epoch) {
      this.resignedLeaderId = -1;
      this.abandonedLeaderId = -1;
    }
    this.leaveRole();
    this.role = 'Unattached';
    this.epoch = epoch;
    this.votedId = votedId;
    this.leaderId = -1;
    this.electionDeadlineMs = now + this.randomElectionTimeout();
    if (persist && changed) this.persist();
  }

  private becomeFollower(epoch: number, leaderId: number, now: number, persist = true): void {
    if (epoch !== this.epoch) {
      this.votedId = -1;
      this.resignedLeaderId = -1;
      this.abandonedLeaderId = -1;
    }
    this.leaveRole();
    this.role = 'Follower';
    this.epoch = epoch;
    this.leaderId = leaderId;
    this.fetchDeadlineMs = now + this.config.fetchTimeoutMs;
    this.lastLeaderContactMs = Number.NEGATIVE_INFINITY;
    this.nextFetchMs = now;
    this.electionRetries = 0;
    if (persist) this.persist();
  }

  /** KIP-996: ask whether we could win before bumping the epoch (nothing is persisted). */
  private becomeProspective(now: number): void {
    const epoch = this.epoch;
    const votedId = this.votedId;
    this.leaveRole();
    this.role = 'Prospective';
    this.epoch = epoch;
    this.votedId = votedId;
    this.leaderId = -1;
    this.granted = new Set([this.config.nodeId]);
    this.rejected = new Set();
    this.electionDeadlineMs = now + this.randomElectionTimeout();
    if (this.granted.size >= this.majority) {
      this.becomeCandidate(now);
      return;
    }
    this.sendVoteRequests(true, now);
  }

  private becomeCandidate(now: number): void {
    this.leaveRole();
    this.role = 'Candidate';
    this.epoch += 1;
    this.resignedLeaderId = -1;
    this.abandonedLeaderId = -1;
    this.votedId = this.config.nodeId;
    this.leaderId = -1;
    this.backingOff = false;
    this.granted = new Set([this.config.nodeId]);
    this.rejected = new Set();
    this.electionDeadlineMs = now + this.randomElectionTimeout();
    this.persist();
    if (this.granted.size >= this.majority) {
      this.becomeLeader(now);
      return;
    }
    this.sendVoteRequests(false, now);
  }

  private becomeLeader(now: number): void {
    const granting = [...this.granted].sort((a, b) => a - b);
    this.leaveRole();
    this.role = 'Leader';
    this.leaderId = this.config.nodeId;
    this.electionRetries = 0;
    this.persist();
    this.replicas = new Map();
    for (const v of this.config.voters) {
      if (v !== this.config.nodeId) this.replicas.set(v, newReplicaState());
    }
    this.observers = new Map();
    this.fetchedSinceCheck = new Set();
    this.checkQuorumDeadlineMs = now + Math.floor(this.config.fetchTimeoutMs * CHECK_QUORUM_TIMEOUT_FACTOR);
    // The epoch opens with a LeaderChange control record; committing it commits everything before.
    this.epochStartOffset = this.log.endOffset();
    this.log.append(
      buildLeaderChangeBatch(
        this.epochStartOffset,
        this.epoch,
        this.config.nodeId,
        this.config.voters,
        granting,
        now,
      ),
    );
    this.requestFlush();
    this.sendBeginQuorumEpochs(now);
  }

  private becomeResigned(now: number): void {
    const successors = [...this.replicas.entries()]
      .sort((a, b) => b[1].endOffset - a[1].endOffset || a[0] - b[0])
      .map(([id]) => id);
    this.leaveRole();
    this.role = 'Resigned';
    this.leaderId = this.config.nodeId;
    this.electionDeadlineMs = now + this.randomElectionTimeout();
    for (const v of this.config.voters) {
      if (v === this.config.nodeId) continue;
      const body: EndQuorumEpochRequest = {
        clusterId: this.config.clusterId,
        topics: [
          {
            topicName: METADATA_TOPIC,
            partitions: [
              {
                partitionIndex: METADATA_PARTITION,
                leaderId: this.config.nodeId,
                leaderEpoch: this.epoch,
                preferredSuccessors: successors,
                preferredCandidates: successors.map((candidateId) => ({
                  candidateId,
                  candidateDirectoryId: ZERO_UUID,
                })),
              },
            ],
          },
        ],
        leaderEndpoints: [],
      };
      this.sendRequest(v, { api: 'EndQuorumEpoch', body }, now);
    }
  }

  /** Clears what belonged to the role being left. */
  private leaveRole(): void {
    if (this.role === 'Leader') {
      // Parked fetches get an answer now (Kafka completes them when leadership is lost).
      const parked = this.parked;
      this.parked = [];
      this.role = 'Resigned';
      for (const p of parked) this.answerFetch(p.message);
    }
    this.electionDeadlineMs = Number.POSITIVE_INFINITY;
    this.fetchDeadlineMs = Number.POSITIVE_INFINITY;
    this.checkQuorumDeadlineMs = Number.POSITIVE_INFINITY;
    this.beginQuorumResendMs = Number.POSITIVE_INFINITY;
    this.backingOff = false;
    this.fetchCorrelationId = -1;
    this.snapshotFetch = null;
    this.parked = [];
  }

  /**
   * Adopts what a message says about the quorum (Kafka's maybeTransition): a higher epoch makes
   * this node follow the named leader, or be unattached in that epoch; in our own epoch, a leader
   * we did not know becomes ours. Returns false when the epoch is older than ours.
   */
  private maybeTransition(leaderId: number, epoch: number, now: number): boolean {
    if (epoch < this.epoch) return false;
    const knownLeader = leaderId >= 0 && this.isVoter(leaderId) ? leaderId : -1;
    if (epoch > this.epoch) {
      if (knownLeader >= 0 && knownLeader !== this.config.nodeId)
        this.becomeFollower(epoch, knownLeader, now);
      else this.becomeUnattached(epoch, -1, now);
    } else if (
      knownLeader >= 0 &&
      knownLeader !== this.config.nodeId &&
      knownLeader !== this.resignedLeaderId &&
      knownLeader !== this.abandonedLeaderId &&
      this.role !== 'Follower' &&
      this.role !== 'Leader' &&
      this.role !== 'Resigned'
    ) {
      this.becomeFollower(epoch, knownLeader, now);
    }
    return true;
  }

  // ---------------------------------------------------------------- requests

  private handleRequest(message: RaftRequestMessage, now: number): void {
    const { request } = message;
    const clusterId = request.body.clusterId;
    if (clusterId !== null && clusterId !== undefined && clusterId !== this.config.clusterId) {
      this.respondError(message, ErrorCode.INCONSISTENT_CLUSTER_ID);
      return;
    }
    switch (request.api) {
      case 'Vote':
        this.handleVoteRequest(message, request.body, request.preVote, now);
        break;
      case 'BeginQuorumEpoch':
        this.handleBeginQuorumEpochRequest(message, request.body, now);
        break;
      case 'EndQuorumEpoch':
        this.handleEndQuorumEpochRequest(message, request.body, now);
        break;
      case 'Fetch':
        this.handleFetchRequest(message, request.body, now);
        break;
      case 'FetchSnapshot':
        this.handleFetchSnapshotRequest(message, request.body);
        break;
    }
  }

  private handleVoteRequest(
    message: RaftRequestMessage,
    body: VoteRequest,
    preVote: boolean,
    now: number,
  ): void {
    const p = onlyPartition(body.topics, (t) => t.topicName === METADATA_TOPIC);
    if (p === undefined) {
      this.respondError(message, ErrorCode.INVALID_REQUEST);
      return;
    }
    const candidateId = p.candidateId;
    if (!this.isVoter(candidateId) || !this.isVoter(this.config.nodeId) || candidateId !== message.source) {
      this.respondVote(message, preVote, ErrorCode.INCONSISTENT_VOTER_SET, false);
      return;
    }
    if (p.candidateEpoch < this.epoch) {
      this.respondVote(message, preVote, ErrorCode.FENCED_LEADER_EPOCH, false);
      return;
    }
    // A newer epoch moves us to it, from a pre-vote too: a pre-vote carries the sender's current
    // epoch (it bumps nothing itself), and a voter left behind in an older epoch, still following
    // that epoch's leader, must not refuse it forever (Kafka does the same).
    if (p.candidateEpoch > this.epoch) this.becomeUnattached(p.candidateEpoch, -1, now);
    const lastOffset = Number(p.lastOffset);
    const ours = { epoch: this.log.lastFetchedEpoch(), offset: this.log.endOffset() };
    const logUpToDate =
      this.config.unsafeFaults?.skipVoteLogCheck === true ||
      p.lastOffsetEpoch > ours.epoch ||
      (p.lastOffsetEpoch === ours.epoch && lastOffset >= ours.offset);
    const granted = this.canGrantVote(candidateId, logUpToDate, preVote, now);
    if (granted && !preVote && this.votedId === -1) {
      // The vote is written to quorum-state before the response leaves (held until written).
      const epoch = this.epoch;
      this.becomeUnattached(epoch, candidateId, now);
    }
    this.respondVote(message, preVote, ErrorCode.NONE, granted);
  }

  private canGrantVote(candidateId: number, logUpToDate: boolean, preVote: boolean, now: number): boolean {
    switch (this.role) {
      case 'Leader':
        return false;
      case 'Follower':
        if (!preVote) return false; // this epoch has a leader already
        // A follower that hears from its leader refuses pre-votes: the election is not needed.
        return now - this.lastLeaderContactMs >= this.config.fetchTimeoutMs && logUpToDate;
      case 'Candidate':
      case 'Resigned':
        // Both voted for themselves in this epoch.
        return preVote && logUpToDate;
      case 'Unattached':
      case 'Prospective':
        if (preVote) return logUpToDate;
        if (this.votedId === candidateId) return true;
        return this.votedId === -1 && logUpToDate;
    }
  }

  private handleBeginQuorumEpochRequest(
    message: RaftRequestMessage,
    body: BeginQuorumEpochRequest,
    now: number,
  ): void {
    const p = onlyPartition(body.topics, (t) => t.topicName === METADATA_TOPIC);
    if (p === undefined) {
      this.respondError(message, ErrorCode.INVALID_REQUEST);
      return;
    }
    if (!this.isVoter(p.leaderId) || p.leaderId !== message.source) {
      this.respondEpoch(message, 'BeginQuorumEpoch', ErrorCode.INCONSISTENT_VOTER_SET);
      return;
    }
    if (p.leaderEpoch < this.epoch) {
      this.respondEpoch(message, 'BeginQuorumEpoch', ErrorCode.FENCED_LEADER_EPOCH);
      return;
    }
    if (p.leaderEpoch === this.epoch && (this.role === 'Leader' || this.role === 'Resigned')) {
      // Two leaders in one epoch cannot happen; refuse rather than follow.
      this.respondEpoch(message, 'BeginQuorumEpoch', ErrorCode.INVALID_REQUEST);
      return;
    }
    this.maybeTransition(p.leaderId, p.leaderEpoch, now);
    this.respondEpoch(message, 'BeginQuorumEpoch', ErrorCode.NONE);
  }

  private handleEndQuorumEpochRequest(
    message: RaftRequestMessage,
    body: EndQuorumEpochRequest,
    now: number,
  ): void {
    const p = onlyPartition(body.topics, (t) => t.topicName === METADATA_TOPIC);
    if (p === undefined) {
      this.respondError(message, ErrorCode.INVALID_REQUEST);
      return;
    }
    if (p.leaderEpoch < this.epoch) {
      this.respondEpoch(message, 'EndQuorumEpoch', ErrorCode.FENCED_LEADER_EPOCH);
      return;
    }
    if (p.leaderId === this.config.nodeId || !this.isVoter(p.leaderId)) {
      this.respondEpoch(message, 'EndQuorumEpoch', ErrorCode.INCONSISTENT_VOTER_SET);
      return;
    }
    this.maybeTransition(p.leaderId, p.leaderEpoch, now);
    if (this.role === 'Follower' && this.leaderId === p.leaderId && this.epoch === p.leaderEpoch) {
      // The leader steps down: its preferred successors start their election first.
      const successors =
        p.preferredSuccessors.length > 0
          ? p.preferredSuccessors
          : p.preferredCandidates.map((c) => c.candidateId);
      const position = successors.indexOf(this.config.nodeId);
      const backoff =
        position < 0
          ? this.config.electionBackoffMaxMs
          : position === 0
            ? 0
            : Math.min(ELECTION_BACKOFF_BASE_MS * 2 ** (position - 1), this.config.electionBackoffMaxMs);
      this.fetchDeadlineMs = Math.min(this.fetchDeadlineMs, now + backoff);
      this.lastLeaderContactMs = Number.NEGATIVE_INFINITY;
      this.resignedLeaderId = p.leaderId;
    }
    this.respondEpoch(message, 'EndQuorumEpoch', ErrorCode.NONE);
  }

  private handleFetchRequest(message: RaftRequestMessage, body: FetchRequest, now: number): void {
    const p = onlyPartition(
      body.topics,
      (t) => t.topic === METADATA_TOPIC || t.topicId === METADATA_TOPIC_ID,
    );
    if (p === undefined || p.partition !== METADATA_PARTITION) {
      this.respondError(message, ErrorCode.INVALID_REQUEST);
      return;
    }
    const replicaId = body.replicaState.replicaId >= 0 ? body.replicaState.replicaId : body.replicaId;
    if (replicaId !== message.source) {
      this.respondError(message, ErrorCode.INVALID_REQUEST);
      return;
    }
    if (p.currentLeaderEpoch < this.epoch || p.currentLeaderEpoch > this.epoch || this.role !== 'Leader') {
      this.answerFetch(message);
      return;
    }
    const fetchOffset = Number(p.fetchOffset);
    if (fetchOffset < 0 || !Number.isSafeInteger(fetchOffset)) {
      this.answerFetch(message);
      return;
    }
    const diverging = this.divergence(fetchOffset, p.lastFetchedEpoch);
    const replica = this.replicas.get(replicaId);
    if (diverging === null) this.recordFetch(replica ?? this.observer(replicaId), fetchOffset, now);
    if (diverging === null && replica !== undefined) {
      // The follower's log matches ours up to fetchOffset, and all of it is on its disk.
      replica.endOffset = fetchOffset;
      replica.acknowledged = true;
      this.fetchedSinceCheck.add(replicaId);
      if (this.fetchedSinceCheck.size + 1 >= this.majority) {
        this.fetchedSinceCheck.clear();
        this.checkQuorumDeadlineMs =
          now + Math.floor(this.config.fetchTimeoutMs * CHECK_QUORUM_TIMEOUT_FACTOR);
      }
      this.maybeAdvanceHighWatermark();
    }
    if (diverging === null && fetchOffset >= this.log.endOffset() && body.maxWaitMs > 0) {
      // Nothing to send yet: hold the request until data, a new high watermark, or maxWaitMs.
      this.parked.push({ message, deadlineMs: now + body.maxWaitMs });
      return;
    }
    this.answerFetch(message);
  }

  private observer(replicaId: number): ReplicaState {
    let state = this.observers.get(replicaId);
    if (state === undefined) {
      state = newReplicaState();
      this.observers.set(replicaId, state);
    }
    return state;
  }

  /** Fetch times for DescribeQuorum, as Kafka's LeaderState.updateReplicaState keeps them. */
  private recordFetch(state: ReplicaState, fetchOffset: number, now: number): void {
    const leaderEnd = this.log.endOffset();
    if (fetchOffset >= leaderEnd) state.lastCaughtUpMs = Math.max(state.lastCaughtUpMs, now);
    else if (state.lastFetchLeaderEnd > 0 && fetchOffset >= state.lastFetchLeaderEnd)
      state.lastCaughtUpMs = Math.max(state.lastCaughtUpMs, state.lastFetchMs);
    state.lastFetchLeaderEnd = leaderEnd;
    state.lastFetchMs = now;
    state.endOffset = fetchOffset;
  }

  /**
   * DescribeQuorum (API 55, answered by the leader only): the voters' and observers' log ends and
   * fetch times, the high watermark.
   */
  describeQuorum(request: DescribeQuorumRequest, nowMs: number): DescribeQuorumResponse {
    const p = onlyPartition(request.topics, (t) => t.topicName === METADATA_TOPIC);
    const error = (errorCode: number): DescribeQuorumResponse => ({
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topics: [
        {
          topicName: request.topics[0]?.topicName ?? METADATA_TOPIC,
          partitions: [
            {
              partitionIndex: p?.partitionIndex ?? METADATA_PARTITION,
              errorCode,
              errorMessage: null,
              leaderId: -1,
              leaderEpoch: -1,
              highWatermark: -1n,
              currentVoters: [],
              observers: [],
            },
          ],
        },
      ],
      nodes: [],
    });
    if (p === undefined || p.partitionIndex !== METADATA_PARTITION)
      return error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    if (this.role !== 'Leader') return error(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const describe = (replicaId: number, s: ReplicaState): DescribeQuorumResponse.ReplicaState => ({
      replicaId,
      replicaDirectoryId: ZERO_UUID,
      logEndOffset: BigInt(s.endOffset),
      lastFetchTimestamp: BigInt(s.lastFetchMs),
      lastCaughtUpTimestamp: BigInt(s.lastCaughtUpMs),
    });
    const self = this.config.nodeId;
    const voters = this.config.voters.map((v) =>
      v === self
        ? {
            replicaId: self,
            replicaDirectoryId: ZERO_UUID,
            logEndOffset: BigInt(this.log.endOffset()),
            lastFetchTimestamp: BigInt(nowMs),
            lastCaughtUpTimestamp: BigInt(nowMs),
          }
        : describe(v, this.replicas.get(v) ?? newReplicaState()),
    );
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topics: [
        {
          topicName: METADATA_TOPIC,
          partitions: [
            {
              partitionIndex: METADATA_PARTITION,
              errorCode: ErrorCode.NONE,
              errorMessage: null,
              leaderId: self,
              leaderEpoch: this.epoch,
              highWatermark: BigInt(this.highWatermark),
              currentVoters: voters,
              observers: [...this.observers].map(([id, s]) => describe(id, s)),
            },
          ],
        },
      ],
      nodes: [],
    };
  }

  /**
   * Null when the log matches a follower's (fetchOffset, lastFetchedEpoch); the snapshot to fetch
   * when the follower is below our log start; else where our log of that epoch ends.
   */
  private divergence(
    fetchOffset: number,
    lastFetchedEpoch: number,
  ): { epoch: number; offset: number } | RaftSnapshot | null {
    const start = this.log.startOffset();
    const snapshot = this.log.latestSnapshot();
    if (
      snapshot !== undefined &&
      (fetchOffset < start ||
        (fetchOffset === start && lastFetchedEpoch !== snapshot.epoch) ||
        // Its last epoch ended inside our snapshot: we can no longer tell where it diverges.
        lastFetchedEpoch < snapshot.epoch)
    )
      return snapshot;
    if (fetchOffset === 0) return null;
    const end = this.log.endOffsetForEpoch(lastFetchedEpoch);
    if (end.epoch !== lastFetchedEpoch || end.offset < fetchOffset) return end;
    return null;
  }

  /** Builds and sends the Fetch response for `message` as things stand now. */
  private answerFetch(message: RaftRequestMessage): void {
    if (message.request.api !== 'Fetch') return;
    const body = message.request.body;
    const p = onlyPartition(
      body.topics,
      (t) => t.topic === METADATA_TOPIC || t.topicId === METADATA_TOPIC_ID,
    );
    if (p === undefined) return;
    let errorCode: number = ErrorCode.NONE;
    if (p.currentLeaderEpoch < this.epoch) errorCode = ErrorCode.FENCED_LEADER_EPOCH;
    else if (p.currentLeaderEpoch > this.epoch) errorCode = ErrorCode.UNKNOWN_LEADER_EPOCH;
    else if (this.role !== 'Leader') errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
    const partition: FetchResponse.PartitionData = {
      partitionIndex: METADATA_PARTITION,
      errorCode,
      highWatermark: BigInt(this.highWatermark),
      lastStableOffset: BigInt(this.highWatermark),
      logStartOffset: BigInt(this.log.startOffset()),
      divergingEpoch: { epoch: -1, endOffset: -1n },
      currentLeader: { leaderId: this.currentLeaderId(), leaderEpoch: this.epoch },
      snapshotId: { endOffset: -1n, epoch: -1 },
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: null,
    };
    if (errorCode === ErrorCode.NONE) {
      const fetchOffset = Number(p.fetchOffset);
      const diverging = this.divergence(fetchOffset, p.lastFetchedEpoch);
      if (diverging !== null && 'bytes' in diverging) {
        partition.snapshotId = { endOffset: BigInt(diverging.endOffset), epoch: diverging.epoch };
      } else if (diverging !== null) {
        partition.divergingEpoch = { epoch: diverging.epoch, endOffset: BigInt(diverging.offset) };
      } else if (fetchOffset < this.log.endOffset()) {
        const maxBytes = Math.max(1, Math.min(body.maxBytes, p.partitionMaxBytes, this.config.fetchMaxBytes));
        const batches = this.log.read(fetchOffset, maxBytes);
        if (batches.length > 0) partition.records = concatBatches(batches);
      }
    }
    this.send({
      kind: 'response',
      source: this.config.nodeId,
      destination: message.source,
      correlationId: message.correlationId,
      response: {
        api: 'Fetch',
        body: {
          throttleTimeMs: 0,
          errorCode: ErrorCode.NONE,
          sessionId: 0,
          responses: [{ topic: METADATA_TOPIC, topicId: METADATA_TOPIC_ID, partitions: [partition] }],
          nodeEndpoints: [],
        },
      },
    });
  }

  /** KIP-630: a chunk of our latest snapshot, for a follower below our log start. */
  private handleFetchSnapshotRequest(message: RaftRequestMessage, body: FetchSnapshotRequest): void {
    const p = onlyPartition(body.topics, (t) => t.name === METADATA_TOPIC);
    if (p === undefined || p.partition !== METADATA_PARTITION) {
      this.respondError(message, ErrorCode.INVALID_REQUEST);
      return;
    }
    const partition: FetchSnapshotResponse.PartitionSnapshot = {
      index: METADATA_PARTITION,
      errorCode: ErrorCode.NONE,
      snapshotId: { endOffset: p.snapshotId.endOffset, epoch: p.snapshotId.epoch },
      currentLeader: { leaderId: this.currentLeaderId(), leaderEpoch: this.epoch },
      size: 0n,
      position: p.position,
      unalignedRecords: Buffer.alloc(0),
    };
    const snapshot = this.log.snapshotById(Number(p.snapshotId.endOffset), p.snapshotId.epoch);
    if (p.currentLeaderEpoch < this.epoch) partition.errorCode = ErrorCode.FENCED_LEADER_EPOCH;
    else if (p.currentLeaderEpoch > this.epoch) partition.errorCode = ErrorCode.UNKNOWN_LEADER_EPOCH;
    else if (this.role !== 'Leader') partition.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
    else if (snapshot === undefined) {
      partition.errorCode = ErrorCode.SNAPSHOT_NOT_FOUND;
    } else if (p.position < 0n || p.position > BigInt(snapshot.bytes.length)) {
      partition.errorCode = ErrorCode.POSITION_OUT_OF_RANGE;
    } else {
      const from = Number(p.position);
      const maxBytes = Math.max(1, Math.min(body.maxBytes, this.config.fetchSnapshotMaxBytes));
      partition.size = BigInt(snapshot.bytes.length);
      partition.unalignedRecords = snapshot.bytes.subarray(
        from,
        Math.min(snapshot.bytes.length, from + maxBytes),
      );
    }
    this.respond(message, {
      api: 'FetchSnapshot',
      body: {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        topics: [{ name: METADATA_TOPIC, partitions: [partition] }],
        nodeEndpoints: [],
      },
    });
  }

  private completeParkedFetches(): void {
    if (this.parked.length === 0) return;
    const parked = this.parked;
    this.parked = [];
    for (const p of parked) this.answerFetch(p.message);
  }

  private expireParkedFetches(now: number): void {
    if (this.parked.length === 0) return;
    const due = this.parked.filter((p) => p.deadlineMs <= now);
    if (due.length === 0) return;
    this.parked = this.parked.filter((p) => p.deadlineMs > now);
    for (const p of due) this.answerFetch(p.message);
  }

  // ---------------------------------------------------------------- responses

  private handleResponse(
    response: RaftResponse,
    source: number,
    correlationId: number,
    req: InflightRequest,
    now: number,
  ): void {
    switch (response.api) {
      case 'Vote': {
        const p = onlyPartition(response.body.topics, (t) => t.topicName === METADATA_TOPIC);
        if (p === undefined) return;
        if (p.leaderEpoch > this.epoch || (p.leaderEpoch === this.epoch && p.leaderId >= 0))
          this.maybeTransition(p.leaderId, p.leaderEpoch, now);
        if (req.epoch !== this.epoch) return;
        if (response.body.errorCode !== ErrorCode.NONE || p.errorCode !== ErrorCode.NONE) return;
        if (response.preVote) {
          if (this.role === 'Prospective' && p.leaderEpoch === this.epoch)
            this.tallyVote(source, p.voteGranted, true, now);
        } else if (this.role === 'Candidate' && !this.backingOff && p.leaderEpoch === this.epoch) {
          this.tallyVote(source, p.voteGranted, false, now);
        }
        return;
      }
      case 'BeginQuorumEpoch':
      case 'EndQuorumEpoch': {
        const p = onlyPartition(response.body.topics, (t) => t.topicName === METADATA_TOPIC);
        if (p === undefined) return;
        this.maybeTransition(p.leaderId, p.leaderEpoch, now);
        if (
          response.api === 'BeginQuorumEpoch' &&
          this.role === 'Leader' &&
          p.leaderEpoch === this.epoch &&
          p.errorCode === ErrorCode.NONE
        ) {
          const replica = this.replicas.get(source);
          if (replica !== undefined) replica.acknowledged = true;
        }
        return;
      }
      case 'Fetch':
        this.handleFetchResponse(response.body, correlationId, req, now);
        return;
      case 'FetchSnapshot':
        this.handleFetchSnapshotResponse(response.body, correlationId, req, now);
        return;
    }
  }

  private tallyVote(source: number, granted: boolean, preVote: boolean, now: number): void {
    if (granted) this.granted.add(source);
    else this.rejected.add(source);
    if (this.granted.size >= this.majority) {
      if (preVote) this.becomeCandidate(now);
      else this.becomeLeader(now);
    } else if (this.rejected.size >= this.majority) {
      // Lost: back off (randomized, growing with retries) before the next attempt.
      if (preVote) this.preVoteLost(now);
      else {
        this.electionRetries++;
        this.backingOff = true;
        this.electionDeadlineMs = now + this.electionBackoff();
      }
    }
  }

  /**
   * A pre-vote that did not win (a majority refused, or no majority answered in time). Back to the
   * leader we left if we left one on a fetch timeout (the refusals say it is alive; if it is not,
   * the fetch timeout brings us here again), else unattached until a backoff passes.
   */
  private preVoteLost(now: number): void {
    this.electionRetries++;
    const leader = this.abandonedLeaderId;
    if (leader >= 0 && leader !== this.resignedLeaderId) {
      this.becomeFollower(this.epoch, leader, now, false);
      this.abandonedLeaderId = leader;
      return;
    }
    this.becomeUnattached(this.epoch, this.votedId, now, false);
    this.electionDeadlineMs = now + this.electionBackoff();
  }

  private handleFetchResponse(
    body: FetchResponse,
    correlationId: number,
    req: InflightRequest,
    now: number,
  ): void {
    if (correlationId !== this.fetchCorrelationId) return;
    this.fetchCorrelationId = -1;
    if (this.role !== 'Follower' || req.epoch !== this.epoch) return;
    const p = onlyPartition(
      body.responses,
      (t) => t.topic === METADATA_TOPIC || t.topicId === METADATA_TOPIC_ID,
    );
    if (p === undefined || body.errorCode !== ErrorCode.NONE) {
      this.nextFetchMs = now + this.config.retryBackoffMs;
      return;
    }
    const leader = p.currentLeader;
    if (leader.leaderEpoch > this.epoch) {
      this.maybeTransition(leader.leaderId, leader.leaderEpoch, now);
      return;
    }
    if (p.errorCode !== ErrorCode.NONE) {
      this.nextFetchMs = now + this.config.retryBackoffMs;
      return;
    }
    // A successful fetch from our leader: it is alive.
    this.lastLeaderContactMs = now;
    this.fetchDeadlineMs = now + this.config.fetchTimeoutMs;
    this.nextFetchMs = now;
    if (p.snapshotId.endOffset >= 0n && p.snapshotId.epoch >= 0) {
      // Below the leader's log start: fetch its snapshot (KIP-630), then fetch on from its end.
      this.snapshotFetch = {
        endOffset: Number(p.snapshotId.endOffset),
        epoch: p.snapshotId.epoch,
        chunks: [],
        received: 0,
      };
      return;
    }
    if (p.divergingEpoch.epoch >= 0 && p.divergingEpoch.endOffset >= 0n) {
      this.truncateToDivergence(p.divergingEpoch.epoch, Number(p.divergingEpoch.endOffset));
      return;
    }
    // The log moved since the request (a truncation): its records no longer fit; fetch again.
    if (req.fetchOffset !== this.log.endOffset()) return;
    let batches: ReturnType<typeof splitBatches>;
    try {
      batches = splitBatches(p.records);
    } catch {
      this.nextFetchMs = now + this.config.retryBackoffMs;
      return;
    }
    let appended = false;
    for (const b of batches) {
      const end = this.log.endOffset();
      if (b.lastOffset < end) continue;
      if (b.baseOffset !== end || b.epoch > this.epoch || b.epoch < this.log.lastFetchedEpoch()) break;
      this.log.append(b);
      appended = true;
    }
    if (appended) this.requestFlush();
    const leaderHw = Number(p.highWatermark);
    if (leaderHw >= 0) {
      const hw = Math.min(leaderHw, this.log.endOffset());
      if (hw > this.highWatermark) this.highWatermark = hw;
    }
  }

  private handleFetchSnapshotResponse(
    body: FetchSnapshotResponse,
    correlationId: number,
    req: InflightRequest,
    now: number,
  ): void {
    if (correlationId !== this.fetchCorrelationId) return;
    this.fetchCorrelationId = -1;
    const fetch = this.snapshotFetch;
    if (this.role !== 'Follower' || req.epoch !== this.epoch || fetch === null) return;
    const p = onlyPartition(body.topics, (t) => t.name === METADATA_TOPIC);
    if (p !== undefined && p.currentLeader.leaderEpoch > this.epoch) {
      this.maybeTransition(p.currentLeader.leaderId, p.currentLeader.leaderEpoch, now);
      return;
    }
    if (
      p === undefined ||
      body.errorCode !== ErrorCode.NONE ||
      p.errorCode !== ErrorCode.NONE ||
      p.snapshotId.endOffset !== BigInt(fetch.endOffset) ||
      p.snapshotId.epoch !== fetch.epoch ||
      p.position !== BigInt(fetch.received) ||
      p.size < BigInt(fetch.received + p.unalignedRecords.length)
    ) {
      // The snapshot went (a newer one replaced it) or the answer does not fit: start over with a Fetch.
      this.snapshotFetch = null;
      this.nextFetchMs = now + this.config.retryBackoffMs;
      return;
    }
    this.lastLeaderContactMs = now;
    this.fetchDeadlineMs = now + this.config.fetchTimeoutMs;
    this.nextFetchMs = now;
    fetch.chunks.push(Buffer.from(p.unalignedRecords));
    fetch.received += p.unalignedRecords.length;
    if (BigInt(fetch.received) < p.size) return;
    // Complete: it replaces our whole log, durably; what it holds is committed. A snapshot that is
    // not whole in Kafka's format (header, footer, CRCs) is not installed: fetch again.
    this.snapshotFetch = null;
    const bytes = Buffer.concat(fetch.chunks);
    if (!isValidSnapshot(bytes, fetch.epoch)) {
      this.nextFetchMs = now + this.config.retryBackoffMs;
      return;
    }
    this.log.installSnapshot({ endOffset: fetch.endOffset, epoch: fetch.epoch, bytes });
    this.flushedEnd = fetch.endOffset;
    this.flushRequestedUpTo = fetch.endOffset;
    for (const id of this.flushes.keys()) this.flushes.set(id, fetch.endOffset);
    if (fetch.endOffset > this.highWatermark) this.highWatermark = fetch.endOffset;
  }

  /** KIP-595 log reconciliation: cut the log where it stops matching the leader's. */
  private truncateToDivergence(epoch: number, endOffset: number): void {
    let offset: number;
    if (epoch === 0) offset = Math.min(endOffset, this.log.endOffset());
    else {
      const local = this.log.endOffsetForEpoch(epoch);
      offset = local.epoch === epoch ? Math.min(local.offset, endOffset) : local.offset;
    }
    // Never below our own snapshot: it holds committed state only.
    offset = Math.max(offset, this.log.startOffset());
    if (offset >= this.log.endOffset()) return;
    this.log.truncateTo(offset);
    if (this.flushedEnd > offset) this.flushedEnd = offset;
    if (this.flushRequestedUpTo > offset) this.flushRequestedUpTo = offset;
    for (const [id, covers] of this.flushes) if (covers > offset) this.flushes.set(id, offset);
  }

  // ---------------------------------------------------------------- leader

  private maybeAdvanceHighWatermark(): void {
    const offsets: number[] = [];
    for (const v of this.config.voters) {
      const own =
        this.config.unsafeFaults?.countUnflushedEntries === true ? this.log.endOffset() : this.flushedEnd;
      offsets.push(v === this.config.nodeId ? own : (this.replicas.get(v)?.endOffset ?? -1));
    }
    offsets.sort((a, b) => b - a);
    const candidate = offsets[this.majority - 1];
    // Only an entry of this epoch on a majority commits what precedes it (Raft §5.4.2).
    if (candidate <= this.epochStartOffset && this.config.unsafeFaults?.skipCurrentEpochCommitRule !== true)
      return;
    if (candidate > this.highWatermark) {
      this.highWatermark = candidate;
      // Followers learn the new high watermark from their parked fetches.
      this.completeParkedFetches();
    }
  }

  private sendBeginQuorumEpochs(now: number): void {
    for (const [v, replica] of this.replicas) {
      if (replica.acknowledged) continue;
      const body: BeginQuorumEpochRequest = {
        clusterId: this.config.clusterId,
        voterId: v,
        topics: [
          {
            topicName: METADATA_TOPIC,
            partitions: [
              {
                partitionIndex: METADATA_PARTITION,
                voterDirectoryId: ZERO_UUID,
                leaderId: this.config.nodeId,
                leaderEpoch: this.epoch,
              },
            ],
          },
        ],
        leaderEndpoints: [],
      };
      this.sendRequest(v, { api: 'BeginQuorumEpoch', body }, now);
    }
    this.beginQuorumResendMs = now + Math.floor(this.config.fetchTimeoutMs / 2);
  }

  // ---------------------------------------------------------------- follower

  private maybeSendFetch(now: number): void {
    if (this.role !== 'Follower' || this.fetchCorrelationId >= 0 || now < this.nextFetchMs) return;
    const snap = this.snapshotFetch;
    if (snap !== null) {
      const body: FetchSnapshotRequest = {
        clusterId: this.config.clusterId,
        replicaId: this.config.nodeId,
        maxBytes: this.config.fetchSnapshotMaxBytes,
        topics: [
          {
            name: METADATA_TOPIC,
            partitions: [
              {
                partition: METADATA_PARTITION,
                currentLeaderEpoch: this.epoch,
                snapshotId: { endOffset: BigInt(snap.endOffset), epoch: snap.epoch },
                position: BigInt(snap.received),
                replicaDirectoryId: ZERO_UUID,
              },
            ],
          },
        ],
      };
      this.fetchCorrelationId = this.sendRequest(this.leaderId, { api: 'FetchSnapshot', body }, now);
      return;
    }
    // Report only a durable log: the leader counts our fetchOffset towards the high watermark.
    if (this.flushedEnd < this.log.endOffset() && this.config.unsafeFaults?.countUnflushedEntries !== true)
      return;
    const fetchOffset = this.log.endOffset();
    const body: FetchRequest = {
      clusterId: this.config.clusterId,
      replicaId: this.config.nodeId,
      replicaState: { replicaId: this.config.nodeId, replicaEpoch: -1n },
      maxWaitMs: this.config.fetchMaxWaitMs,
      minBytes: 0,
      maxBytes: this.config.fetchMaxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: METADATA_TOPIC,
          topicId: METADATA_TOPIC_ID,
          partitions: [
            {
              partition: METADATA_PARTITION,
              currentLeaderEpoch: this.epoch,
              fetchOffset: BigInt(fetchOffset),
              lastFetchedEpoch: this.log.lastFetchedEpoch(),
              logStartOffset: BigInt(this.log.startOffset()),
              partitionMaxBytes: this.config.fetchMaxBytes,
              replicaDirectoryId: ZERO_UUID,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    };
    this.fetchCorrelationId = this.sendRequest(this.leaderId, { api: 'Fetch', body }, now, fetchOffset);
  }

  // ---------------------------------------------------------------- plumbing

  private sendVoteRequests(preVote: boolean, now: number): void {
    const lastOffsetEpoch = this.log.lastFetchedEpoch();
    const lastOffset = BigInt(this.log.endOffset());
    // A pre-vote carries our current epoch (KIP-996: nothing is bumped before a majority says yes);
    // a real vote the epoch just bumped to.
    const candidateEpoch = this.epoch;
    for (const v of this.config.voters) {
      if (v === this.config.nodeId) continue;
      const body: VoteRequest = {
        clusterId: this.config.clusterId,
        voterId: v,
        topics: [
          {
            topicName: METADATA_TOPIC,
            partitions: [
              {
                partitionIndex: METADATA_PARTITION,
                candidateEpoch,
                candidateId: this.config.nodeId,
                candidateDirectoryId: ZERO_UUID,
                voterDirectoryId: ZERO_UUID,
                lastOffsetEpoch,
                lastOffset,
              },
            ],
          },
        ],
      };
      this.sendRequest(v, { api: 'Vote', body, preVote }, now);
    }
  }

  private sendRequest(destination: number, request: RaftRequest, now: number, fetchOffset?: number): number {
    const correlationId = this.nextCorrelationId++;
    this.inflight.set(correlationId, {
      api: request.api,
      destination,
      sentMs: now,
      epoch: this.epoch,
      fetchOffset,
    });
    this.send({ kind: 'request', source: this.config.nodeId, destination, correlationId, request });
    return correlationId;
  }

  private respondVote(
    message: RaftRequestMessage,
    preVote: boolean,
    errorCode: number,
    voteGranted: boolean,
  ): void {
    this.respond(message, {
      api: 'Vote',
      preVote,
      body: {
        errorCode: ErrorCode.NONE,
        topics: [
          {
            topicName: METADATA_TOPIC,
            partitions: [
              {
                partitionIndex: METADATA_PARTITION,
                errorCode,
                leaderId: this.currentLeaderId(),
                leaderEpoch: this.epoch,
                voteGranted,
              },
            ],
          },
        ],
        nodeEndpoints: [],
      },
    });
  }

  private respondEpoch(
    message: RaftRequestMessage,
    api: 'BeginQuorumEpoch' | 'EndQuorumEpoch',
    errorCode: number,
  ): void {
    const body = {
      errorCode: ErrorCode.NONE,
      topics: [
        {
          topicName: METADATA_TOPIC,
          partitions: [
            {
              partitionIndex: METADATA_PARTITION,
              errorCode,
              leaderId: this.currentLeaderId(),
              leaderEpoch: this.epoch,
            },
          ],
        },
      ],
      nodeEndpoints: [],
    };
    this.respond(message, api === 'BeginQuorumEpoch' ? { api, body } : { api, body });
  }

  /** A top-level error response, for requests this node cannot read (wrong cluster or topic). */
  private respondError(message: RaftRequestMessage, errorCode: number): void {
    const api = message.request.api;
    if (api === 'Fetch') {
      this.respond(message, {
        api,
        body: { throttleTimeMs: 0, errorCode, sessionId: 0, responses: [], nodeEndpoints: [] },
      });
    } else if (api === 'Vote') {
      this.respond(message, {
        api,
        preVote: message.request.api === 'Vote' && message.request.preVote,
        body: { errorCode, topics: [], nodeEndpoints: [] },
      });
    } else if (api === 'FetchSnapshot') {
      this.respond(message, { api, body: { throttleTimeMs: 0, errorCode, topics: [], nodeEndpoints: [] } });
    } else if (api === 'BeginQuorumEpoch') {
      this.respond(message, { api, body: { errorCode, topics: [], nodeEndpoints: [] } });
    } else {
      this.respond(message, { api, body: { errorCode, topics: [], nodeEndpoints: [] } });
    }
  }

  private respond(message: RaftRequestMessage, response: RaftResponse): void {
    this.send({
      kind: 'response',
      source: this.config.nodeId,
      destination: message.source,
      correlationId: message.correlationId,
      response,
    });
  }

  private send(message: RaftMessage): void {
    if (this.stateSeq > this.stateWritten) this.held.push(message);
    else this.outputs.push({ type: 'send', message });
  }

  private persist(): void {
    this.stateSeq++;
    this.outputs.push({ type: 'writeQuorumState', seq: this.stateSeq, state: this.quorumState() });
  }

  private requestFlush(): void {
    const end = this.log.endOffset();
    if (end <= this.flushRequestedUpTo) return;
    const flushId = this.nextFlushId++;
    this.flushes.set(flushId, end);
    this.flushRequestedUpTo = end;
    this.outputs.push({ type: 'flush', flushId, offset: end });
  }

  private currentLeaderId(): number {
    if (this.role === 'Leader') return this.config.nodeId;
    if (this.role === 'Follower' && this.leaderId !== this.resignedLeaderId) return this.leaderId;
    return -1;
  }

  private isVoter(id: number): boolean {
    return this.config.voters.includes(id);
  }

  /** Kafka: electionTimeoutMs plus a uniform jitter of up to electionTimeoutMs. */
  private randomElectionTimeout(): number {
    return this.config.electionTimeoutMs + Math.floor(this.random() * this.config.electionTimeoutMs);
  }

  /** Kafka's binary exponential election backoff, capped by controller.quorum.election.backoff.max.ms. */
  private electionBackoff(): number {
    const retries = Math.max(1, this.electionRetries);
    const slots = 2 << Math.min(20, retries - 1);
    return Math.min(
      ELECTION_BACKOFF_BASE_MS * Math.floor(this.random() * slots),
      this.config.electionBackoffMaxMs,
    );
  }
}

/** The partition of a one-topic, one-partition request or response, or undefined if malformed. */
function onlyPartition<T extends { partitions: readonly unknown[] }>(
  topics: readonly T[],
  match: (t: T) => boolean,
): T['partitions'][number] | undefined {
  if (!Array.isArray(topics) || topics.length !== 1 || !match(topics[0])) return undefined;
  const parts = topics[0].partitions;
  if (!Array.isArray(parts) || parts.length !== 1) return undefined;
  return parts[0];
}
