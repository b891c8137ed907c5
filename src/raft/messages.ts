// What RaftNode exchanges with the world. Messages are the generated wire types of Kafka's KRaft
// APIs (Vote 52, BeginQuorumEpoch 53, EndQuorumEpoch 54, Fetch 1 on __cluster_metadata-0,
// FetchSnapshot 59), inside
// an envelope naming source, destination and correlation id: the network adapter encodes `body`
// with the generated codec and matches responses to requests by correlation id, as a real
// connection does.
//
// One field is outside the generated types: Vote's PreVote flag (KIP-996, VoteRequest v2). The
// schemas in ../shared/kafka-protocol predate it (VoteRequest 0-1), so the flag rides in the
// envelope until the schema copy is updated and v2 generated.

import type {
  BeginQuorumEpochRequest,
  BeginQuorumEpochResponse,
  EndQuorumEpochRequest,
  EndQuorumEpochResponse,
  FetchRequest,
  FetchResponse,
  FetchSnapshotRequest,
  FetchSnapshotResponse,
  QuorumStateData,
  VoteRequest,
  VoteResponse,
} from '../protocol/generated/index.js';

export type RaftRequest =
  | { api: 'Vote'; body: VoteRequest; preVote: boolean }
  | { api: 'BeginQuorumEpoch'; body: BeginQuorumEpochRequest }
  | { api: 'EndQuorumEpoch'; body: EndQuorumEpochRequest }
  | { api: 'Fetch'; body: FetchRequest }
  | { api: 'FetchSnapshot'; body: FetchSnapshotRequest };

export type RaftResponse =
  | { api: 'Vote'; body: VoteResponse; preVote: boolean }
  | { api: 'BeginQuorumEpoch'; body: BeginQuorumEpochResponse }
  | { api: 'EndQuorumEpoch'; body: EndQuorumEpochResponse }
  | { api: 'Fetch'; body: FetchResponse }
  | { api: 'FetchSnapshot'; body: FetchSnapshotResponse };

export type RaftApi = RaftRequest['api'];

export interface RaftRequestMessage {
  kind: 'request';
  source: number;
  destination: number;
  correlationId: number;
  request: RaftRequest;
}

export interface RaftResponseMessage {
  kind: 'response';
  source: number;
  destination: number;
  /** The correlation id of the request answered. */
  correlationId: number;
  response: RaftResponse;
}

export type RaftMessage = RaftRequestMessage | RaftResponseMessage;

/** What the driver must do for the node. Performed in order. */
export type RaftOutput =
  | { type: 'send'; message: RaftMessage }
  /** fsync the log up to `offset`, then call handleFlushed(flushId). */
  | { type: 'flush'; flushId: number; offset: number }
  /** Write the quorum-state file durably, then call handleQuorumStateWritten(seq). */
  | { type: 'writeQuorumState'; seq: number; state: QuorumStateData };
