// A hand-driven quorum for scripted Raft tests: nodes share a clock moved by the test, disk work
// completes at once, and messages go through only over the links the test allows (and past its
// drop filter). Invariants (src/raft/sim/invariants.ts) are checked after every step.

import type { QuorumStateData } from '../../src/protocol/generated/index.js';
import { METADATA_TOPIC, METADATA_TOPIC_ID, type RaftConfig, raftConfig } from '../../src/raft/config.js';
import type { RaftMessage, RaftOutput } from '../../src/raft/messages.js';
import { RaftNode } from '../../src/raft/raft-node.js';
import { QuorumInvariants, TrackedLog } from '../../src/raft/sim/invariants.js';

export interface ManualNode {
  id: number;
  raft: RaftNode | null;
  log: TrackedLog;
  stored: QuorumStateData | null;
}

export class ManualCluster {
  now = 0;
  readonly nodes: ManualNode[];
  readonly invariants: QuorumInvariants;
  /** Messages sent and not yet delivered. */
  inflight: RaftMessage[] = [];
  /** Which pairs can talk (both directions). Default: all. */
  link: (a: number, b: number) => boolean = () => true;
  /** Return true to lose a message. */
  drop: (m: RaftMessage) => boolean = () => false;
  /** Everything delivered, for assertions. */
  delivered: RaftMessage[] = [];
  /** Off only where a test forges messages (a forged leader can break any invariant). */
  checkInvariants = true;

  constructor(
    readonly voters: number[],
    private readonly overrides: Partial<RaftConfig> = {},
  ) {
    this.nodes = voters.map((id) => ({ id, raft: null, log: new TrackedLog(), stored: null }));
    this.invariants = new QuorumInvariants(voters.length);
    for (const n of this.nodes) this.start(n.id);
  }

  node(id: number): ManualNode {
    const n = this.nodes.find((x) => x.id === id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  raft(id: number): RaftNode {
    const r = this.node(id).raft;
    if (r === null) throw new Error(`node ${id} is down`);
    return r;
  }

  start(id: number): void {
    const n = this.node(id);
    const config = raftConfig({ nodeId: id, voters: this.voters, clusterId: 'test', ...this.overrides });
    // A fixed, different "random" value per node: node 3 times out first (1110 ms), then node 1
    // (1370 ms), then node 2 (1740 ms); no two nodes tie, so elections settle deterministically.
    const r = (id * 0.37) % 1;
    n.raft = new RaftNode({ config, log: n.log, random: () => r, nowMs: this.now, quorumState: n.stored });
    this.settle();
  }

  crash(id: number): void {
    const n = this.node(id);
    n.raft = null;
    n.log.crash();
    this.invariants.forgetTruncations(n);
    this.inflight = this.inflight.filter((m) => m.source !== id && m.destination !== id);
  }

  /** Performs every node's outputs: disk work completes at once, sends go in flight. */
  settle(): void {
    for (let again = true; again; ) {
      again = false;
      for (const n of this.nodes) {
        const raft = n.raft;
        if (raft === null) continue;
        const outs: RaftOutput[] = raft.takeOutputs();
        if (outs.length > 0) again = true;
        for (const out of outs) {
          if (out.type === 'send') this.inflight.push(out.message);
          else if (out.type === 'flush') {
            n.log.completeFlush(n.log.beginFlush(out.offset));
            raft.handleFlushed(out.flushId, this.now);
          } else {
            n.stored = out.state;
            raft.handleQuorumStateWritten(out.seq, this.now);
          }
        }
      }
    }
  }

  /** Delivers what is in flight (and what that causes) at the current time. */
  deliverAll(): void {
    for (let rounds = 0; this.inflight.length > 0 && rounds < 1000; rounds++) {
      const batch = this.inflight;
      this.inflight = [];
      for (const m of batch) {
        const dest = this.nodes.find((x) => x.id === m.destination);
        if (dest?.raft == null || this.drop(m) || !this.link(m.source, m.destination)) continue;
        if (this.delivered.length < 100_000) this.delivered.push(m);
        dest.raft.receive(m, this.now);
        this.settle();
      }
    }
    if (this.checkInvariants) this.invariants.check(this.nodes);
  }

  /** Moves the clock by dtMs: polls every node, delivers, checks invariants. */
  step(dtMs = 10): void {
    this.now += dtMs;
    for (const n of this.nodes) n.raft?.poll(this.now);
    this.settle();
    this.deliverAll();
  }

  runUntil(done: () => boolean, maxMs = 20_000, dtMs = 10): void {
    const until = this.now + maxMs;
    while (!done()) {
      if (this.now >= until) throw new Error(`condition not met within ${maxMs} ms`);
      this.step(dtMs);
    }
  }

  run(ms: number, dtMs = 10): void {
    const until = this.now + ms;
    while (this.now < until) this.step(dtMs);
  }

  leader(): RaftNode | undefined {
    return this.nodes.find((n) => n.raft?.role === 'Leader')?.raft ?? undefined;
  }
}

/** Only these nodes talk to each other. */
export function only(...ids: number[]): (a: number, b: number) => boolean {
  return (a, b) => ids.includes(a) && ids.includes(b);
}

/** A follower's Fetch of __cluster_metadata-0 (maxWaitMs 0: answered at once). */
export function fetchRequest(
  from: number,
  to: number,
  epoch: number,
  fetchOffset: number,
  lastFetchedEpoch: number,
  topic = METADATA_TOPIC,
): RaftMessage {
  return {
    kind: 'request',
    source: from,
    destination: to,
    correlationId: 9,
    request: {
      api: 'Fetch',
      body: {
        clusterId: 'test',
        replicaId: from,
        replicaState: { replicaId: from, replicaEpoch: -1n },
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic,
            topicId: topic === METADATA_TOPIC ? METADATA_TOPIC_ID : 'AAAAAAAAAAAAAAAAAAAAAg',
            partitions: [
              {
                partition: 0,
                currentLeaderEpoch: epoch,
                fetchOffset: BigInt(fetchOffset),
                lastFetchedEpoch,
                logStartOffset: 0n,
                partitionMaxBytes: 1 << 20,
                replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
              },
            ],
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      },
    },
  };
}
