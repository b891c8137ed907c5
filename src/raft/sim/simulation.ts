// A seeded, deterministic simulation of a KRaft quorum (after Kafka's RaftEventSimulationTest):
// N RaftNodes on simulated time, a simulated network (drops, delays, duplicates, reordering,
// partitions and heals), simulated disks (a crash loses what was not flushed, and quorum-state
// writes not completed), crashes and restarts, graceful resignations, and a client proposing
// entries to whichever node believes it leads.
//
// Invariants are checked after every event:
// - at most one leader per epoch;
// - each node's high watermark never decreases (within one run of the node);
// - committed entries never change: every node's log below its high watermark agrees with the
//   global record of committed entries, and no node truncates below its high watermark;
// - committed entries never disappear: the last committed entry is on the disks of a majority;
// and, once the chaos stops (network healed, every node up), liveness: an entry proposed after
// that commits on every node within a bound of simulated time.
//
// Everything random comes from one seed, so a seed replays exactly: same seed, same event trace
// (traceHash). Lives in src/ (not test/) so that bench/raft-sim.ts can run it from dist/.

import type { QuorumStateData } from '../../protocol/generated/index.js';
import { type RaftConfig, raftConfig } from '../config.js';
import type { RaftMessage } from '../messages.js';
import { RaftNode } from '../raft-node.js';
import { frameSnapshot, readSnapshot } from '../snapshot.js';
import { batchKey, InvariantViolation, QuorumInvariants, TrackedLog } from './invariants.js';
import { Prng } from './prng.js';

export interface SimulationOptions {
  seed: number;
  /** Voters (3 or 5 are the usual sizes). */
  nodes: number;
  /** Length of the chaos phase in simulated ms. */
  chaosMs?: number;
  /** Simulated ms after the chaos within which a new entry must commit everywhere. */
  livenessBoundMs?: number;
  /** Rules broken on purpose (tests of the simulation itself). */
  unsafeFaults?: RaftConfig['unsafeFaults'];
  /** Keep a readable trace of the events (slower). */
  recordTrace?: boolean;
}

export interface SimulationResult {
  seed: number;
  ok: boolean;
  /** The first invariant broken, with the simulated time. */
  violation?: string;
  events: number;
  /** A hash of every event processed, in order: equal for equal seeds. */
  traceHash: number;
  trace?: string[];
  simulatedMs: number;
  /** Offsets committed by the end. */
  committed: number;
  /** Highest epoch reached. */
  maxEpoch: number;
  crashes: number;
}

interface SimNode {
  id: number;
  raft: RaftNode | null;
  log: TrackedLog;
  /** The quorum-state file as on disk. */
  stored: QuorumStateData | null;
  incarnation: number;
  /** The disk serves one operation at a time, in order. */
  diskFreeAt: number;
  pollAt: number;
  /** Partition group: nodes talk only within their group. */
  group: number;
}

type SimEvent =
  | { kind: 'deliver'; message: RaftMessage; connection: number }
  | { kind: 'poll'; node: number; incarnation: number }
  | { kind: 'flushed'; node: number; incarnation: number; token: number; flushId: number }
  | { kind: 'stateWritten'; node: number; incarnation: number; seq: number; state: QuorumStateData }
  | { kind: 'client' }
  | { kind: 'fault' }
  | { kind: 'snapshot' }
  | { kind: 'heal' };

interface Scheduled {
  t: number;
  seq: number;
  event: SimEvent;
}

/** A binary min-heap on (t, seq): events at equal times run in scheduling order. */
class EventQueue {
  private heap: Scheduled[] = [];
  get size(): number {
    return this.heap.length;
  }
  push(s: Scheduled): void {
    const h = this.heap;
    h.push(s);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }
  pop(): Scheduled | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop() as Scheduled;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

export class RaftSimulation {
  readonly seed: number;
  private readonly rng: Prng;
  private readonly opts: Required<Omit<SimulationOptions, 'unsafeFaults' | 'recordTrace'>> &
    SimulationOptions;
  private readonly nodes: SimNode[] = [];
  private readonly voters: number[];
  private readonly queue = new EventQueue();
  private seq = 0;
  private now = 0;
  private events = 0;
  private hash = 0x811c9dc5;
  private trace: string[] | undefined;

  // Network and disk character, drawn per seed.
  private dropRate: number;
  private dupRate: number;
  private maxDelayMs: number;
  private maxDiskMs: number;
  private fetchMaxBytes: number;
  private fetchSnapshotMaxBytes: number;
  private chaos = true;

  /** (destination, source, correlationId) of a delivered request → requester incarnation. */
  private connections = new Map<string, number>();

  private readonly invariants: QuorumInvariants;
  private maxEpoch = 0;
  private crashes = 0;

  // Client.
  private proposals = 0;
  /** Proposals made after the chaos: offset and key, waiting to commit everywhere. */
  private probes: { offset: number; key: number }[] = [];
  private livenessMet = false;
  private healedAt = Number.POSITIVE_INFINITY;

  constructor(options: SimulationOptions) {
    this.opts = { chaosMs: 15_000, livenessBoundMs: 30_000, ...options };
    this.seed = options.seed >>> 0;
    this.rng = new Prng(this.seed);
    if (options.recordTrace) this.trace = [];
    this.voters = Array.from({ length: options.nodes }, (_, i) => i + 1);
    this.invariants = new QuorumInvariants(options.nodes);
    this.dropRate = this.rng.float() * 0.1;
    this.dupRate = this.rng.float() * 0.05;
    this.maxDelayMs = this.rng.int(1, 60);
    this.maxDiskMs = this.rng.int(0, 15);
    // Small fetches (one to a few batches) make partial replication, and its corner cases, common.
    this.fetchMaxBytes = this.rng.int(60, 400);
    // Snapshots move in a few chunks: one byte-sized chunk per round trip could never catch up
    // with the snapshots the nodes keep taking.
    this.fetchSnapshotMaxBytes = this.rng.int(2048, 32768);
    for (const id of this.voters) {
      this.nodes.push({
        id,
        raft: null,
        log: new TrackedLog(),
        stored: null,
        incarnation: 0,
        diskFreeAt: 0,
        pollAt: Number.POSITIVE_INFINITY,
        group: 0,
      });
    }
  }

  run(): SimulationResult {
    let violation: string | undefined;
    try {
      for (const n of this.nodes) this.start(n);
      this.schedule(this.rng.int(20, 200), { kind: 'client' });
      this.schedule(this.rng.int(200, 2000), { kind: 'fault' });
      this.schedule(this.opts.chaosMs, { kind: 'heal' });
      this.schedule(this.rng.int(1000, 6000), { kind: 'snapshot' });
      const end = this.opts.chaosMs + this.opts.livenessBoundMs;
      for (;;) {
        const next = this.queue.pop();
        if (next === undefined) break;
        if (next.t > end) break;
        this.now = next.t;
        this.process(next.event);
        this.checkInvariants();
        if (this.livenessMet) break;
      }
      if (!this.livenessMet) {
        const states = this.nodes
          .map((n) => {
            const r = n.raft;
            return r === null
              ? `${n.id} down`
              : `${n.id} ${r.role} epoch ${r.epoch} leader ${r.leaderId} hw ${r.highWatermark} end ${n.log.endOffset()}`;
          })
          .join('; ');
        throw new InvariantViolation(
          `liveness: no entry proposed after the heal at ${this.healedAt} ms committed on every node within ${this.opts.livenessBoundMs} ms (${states})`,
        );
      }
    } catch (e) {
      if (!(e instanceof InvariantViolation)) throw e;
      violation = `t=${this.now}ms: ${e.message}`;
    }
    return {
      seed: this.seed,
      ok: violation === undefined,
      violation,
      events: this.events,
      traceHash: this.hash >>> 0,
      trace: this.trace,
      simulatedMs: this.now,
      committed: this.invariants.committedCount,
      maxEpoch: this.maxEpoch,
      crashes: this.crashes,
    };
  }

  // ---------------------------------------------------------------- events

  private schedule(delay: number, event: SimEvent): void {
    this.queue.push({ t: this.now + delay, seq: this.seq++, event });
  }

  private record(kind: number, a: number, b: number, c: number, text?: () => string): void {
    this.events++;
    let h = this.hash;
    for (const v of [this.now, kind, a, b, c]) {
      h = Math.imul(h ^ (v & 0xffff), 0x01000193);
      h = Math.imul(h ^ (v >>> 16), 0x01000193);
    }
    this.hash = h;
    if (this.trace !== undefined && text !== undefined) this.trace.push(`${this.now} ${text()}`);
  }

  private process(event: SimEvent): void {
    switch (event.kind) {
      case 'deliver': {
        const m = event.message;
        const dest = this.nodes[m.destination - 1];
        const apiCode = apiNumber(m.kind === 'request' ? m.request.api : m.response.api);
        this.record(
          1,
          m.source * 16 + m.destination,
          apiCode + (m.kind === 'request' ? 0 : 100),
          m.correlationId,
          () => `deliver ${m.kind} ${describeMessage(m)} ${m.source}->${m.destination} #${m.correlationId}`,
        );
        if (dest.raft === null) return;
        if (this.nodes[m.source - 1].group !== dest.group) return;
        if (m.kind === 'response') {
          // A response travels on the requester's connection; a restart closed it.
          if (event.connection !== dest.incarnation) return;
        } else {
          this.connections.set(`${m.destination}:${m.source}:${m.correlationId}`, event.connection);
        }
        dest.raft.receive(m, this.now);
        this.drain(dest);
        return;
      }
      case 'poll': {
        const n = this.nodes[event.node - 1];
        if (n.raft === null || n.incarnation !== event.incarnation || n.pollAt !== this.now) return;
        this.record(2, n.id, 0, 0, () => `poll ${n.id}`);
        n.pollAt = Number.POSITIVE_INFINITY;
        n.raft.poll(this.now);
        this.drain(n);
        return;
      }
      case 'flushed': {
        const n = this.nodes[event.node - 1];
        if (n.raft === null || n.incarnation !== event.incarnation) return;
        this.record(3, n.id, event.flushId, 0, () => `flushed ${n.id} #${event.flushId}`);
        n.log.completeFlush(event.token);
        n.raft.handleFlushed(event.flushId, this.now);
        this.drain(n);
        return;
      }
      case 'stateWritten': {
        const n = this.nodes[event.node - 1];
        if (n.raft === null || n.incarnation !== event.incarnation) return;
        this.record(4, n.id, event.seq, 0, () => `quorum-state ${n.id} epoch ${event.state.leaderEpoch}`);
        n.stored = event.state;
        n.raft.handleQuorumStateWritten(event.seq, this.now);
        this.drain(n);
        return;
      }
      case 'client':
        this.client();
        this.schedule(this.rng.int(20, 300), { kind: 'client' });
        return;
      case 'fault':
        if (!this.chaos) return;
        this.fault();
        this.schedule(this.rng.int(100, 2000), { kind: 'fault' });
        return;
      case 'snapshot':
        this.snapshot();
        this.schedule(this.rng.int(1000, 6000), { kind: 'snapshot' });
        return;
      case 'heal':
        this.record(9, 0, 0, 0, () => 'heal: network whole, every node up, no more faults');
        this.chaos = false;
        this.healedAt = this.now;
        this.dropRate = 0;
        for (const n of this.nodes) {
          n.group = 0;
          if (n.raft === null) this.start(n);
        }
        return;
    }
  }

  /** Performs a node's outputs: sends onto the network, writes onto its disk. */
  private drain(n: SimNode): void {
    const raft = n.raft;
    if (raft === null) return;
    for (const out of raft.takeOutputs()) {
      if (out.type === 'send') this.send(n, out.message);
      else if (out.type === 'flush') {
        const token = n.log.beginFlush(out.offset);
        const at = this.diskSlot(n);
        this.queue.push({
          t: at,
          seq: this.seq++,
          event: { kind: 'flushed', node: n.id, incarnation: n.incarnation, token, flushId: out.flushId },
        });
      } else {
        const at = this.diskSlot(n);
        this.queue.push({
          t: at,
          seq: this.seq++,
          event: {
            kind: 'stateWritten',
            node: n.id,
            incarnation: n.incarnation,
            seq: out.seq,
            state: out.state,
          },
        });
      }
    }
    const due = raft.nextDeadlineMs();
    if (due < n.pollAt || n.pollAt < this.now) {
      if (Number.isFinite(due)) {
        n.pollAt = Math.max(due, this.now);
        this.queue.push({
          t: n.pollAt,
          seq: this.seq++,
          event: { kind: 'poll', node: n.id, incarnation: n.incarnation },
        });
      }
    }
  }

  private diskSlot(n: SimNode): number {
    const at = Math.max(this.now, n.diskFreeAt) + this.rng.int(0, this.maxDiskMs);
    n.diskFreeAt = at;
    return at;
  }

  private send(from: SimNode, message: RaftMessage): void {
    let connection: number;
    if (message.kind === 'request') connection = from.incarnation;
    else {
      const key = `${message.source}:${message.destination}:${message.correlationId}`;
      const c = this.connections.get(key);
      if (c === undefined) return;
      this.connections.delete(key);
      connection = c;
    }
    const copies = this.rng.chance(this.dupRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (this.rng.chance(this.dropRate)) continue;
      this.schedule(this.rng.int(0, this.maxDelayMs), { kind: 'deliver', message, connection });
    }
  }

  // ---------------------------------------------------------------- nodes

  private start(n: SimNode): void {
    n.incarnation++;
    n.pollAt = Number.POSITIVE_INFINITY;
    const random = this.rng.fork(n.id);
    const config = raftConfig({
      nodeId: n.id,
      voters: this.voters,
      clusterId: 'sim',
      fetchMaxBytes: this.fetchMaxBytes,
      fetchSnapshotMaxBytes: this.fetchSnapshotMaxBytes,
      unsafeFaults: this.opts.unsafeFaults,
    });
    n.raft = new RaftNode({
      config,
      log: n.log,
      random: () => random.float(),
      nowMs: this.now,
      quorumState: n.stored,
    });
    this.record(5, n.id, n.incarnation, 0, () => `start ${n.id} (run ${n.incarnation})`);
    this.drain(n);
  }

  private crash(n: SimNode): void {
    this.crashes++;
    this.record(6, n.id, 0, 0, () => `crash ${n.id}`);
    n.raft = null;
    n.log.crash();
    this.invariants.forgetTruncations(n);
  }

  private fault(): void {
    const live = this.nodes.filter((n) => n.raft !== null);
    const down = this.nodes.filter((n) => n.raft === null);
    const r = this.rng.float();
    if (r < 0.25 && live.length > 0) this.crash(this.rng.pick(live));
    else if (r < 0.5 && down.length > 0) this.start(this.rng.pick(down));
    else if (r < 0.65) {
      // A random split into two sides.
      for (const n of this.nodes) n.group = this.rng.int(0, 1);
      this.record(7, 0, 0, 0, () => `partition ${this.nodes.map((n) => n.group).join('')}`);
    } else if (r < 0.85) {
      for (const n of this.nodes) n.group = 0;
      this.record(8, 0, 0, 0, () => 'partition healed');
    } else {
      const leaders = live.filter((n) => n.raft?.role === 'Leader');
      if (leaders.length > 0) {
        const l = this.rng.pick(leaders);
        this.record(10, l.id, 0, 0, () => `resign ${l.id}`);
        l.raft?.resign(this.now);
        this.drain(l);
      }
    }
  }

  /**
   * A node takes a snapshot at its high watermark (rounded down to a batch boundary), as the
   * metadata layer will. Its content here is the batches it replaces (framed by a SnapshotHeader
   * and a SnapshotFooter), so that the invariants can check it against the committed record.
   */
  private snapshot(): void {
    const live = this.nodes.filter((n) => n.raft !== null);
    if (live.length === 0) return;
    const n = this.rng.pick(live);
    const raft = n.raft as RaftNode;
    const hw = raft.highWatermark;
    const start = n.log.startOffset();
    if (hw <= start) return;
    const b = n.log.batchAt(hw - 1);
    if (b === undefined) return;
    const end = b.lastOffset === hw - 1 ? hw : b.baseOffset;
    if (end <= start) return;
    const previous = n.log.latestSnapshot();
    const parts = [previous === undefined ? Buffer.alloc(0) : readSnapshot(previous.bytes).dataBytes];
    let epoch = previous?.epoch ?? 0;
    for (const batch of n.log.read(start, Number.MAX_SAFE_INTEGER)) {
      if (batch.baseOffset >= end) break;
      parts.push(batch.bytes);
      epoch = batch.epoch;
    }
    // In Kafka's format (SnapshotHeader, the batches, SnapshotFooter), as a .checkpoint file holds it.
    const bytes = frameSnapshot(
      { epoch, lastContainedLogTimestamp: 0, nowMs: this.now },
      Buffer.concat(parts),
    );
    if (raft.createSnapshot(end, bytes)) {
      this.record(13, n.id, end, 0, () => `snapshot ${n.id} at ${end}`);
    }
  }

  private client(): void {
    const leaders = this.nodes.filter((n) => n.raft?.role === 'Leader');
    if (leaders.length === 0) return;
    const l = this.rng.pick(leaders);
    const count = this.rng.int(1, 3);
    const values = Array.from({ length: count }, () => Buffer.from(`s${this.seed}-p${this.proposals++}`));
    const raft = l.raft as RaftNode;
    const res = raft.propose(values, this.now);
    this.record(11, l.id, count, 0, () => `propose ${count} to ${l.id}`);
    if (res.ok && !this.chaos) {
      const batch = l.log.batchAt(res.baseOffset);
      if (batch !== undefined)
        this.probes.push({ offset: res.lastOffset, key: batchKey(batch.epoch, batch.bytes) });
    }
    this.drain(l);
  }

  // ---------------------------------------------------------------- invariants

  private checkInvariants(): void {
    this.invariants.check(this.nodes);
    for (const n of this.nodes)
      if (n.raft !== null && n.raft.epoch > this.maxEpoch) this.maxEpoch = n.raft.epoch;
    // Liveness: after the heal, some entry proposed since commits on every node.
    if (!this.chaos && this.probes.length > 0) {
      for (const p of this.probes) {
        if (!this.invariants.isCommitted(p.offset, p.key)) continue;
        if (this.nodes.every((n) => n.raft !== null && n.raft.highWatermark > p.offset)) {
          this.livenessMet = true;
          this.record(12, p.offset, 0, 0, () => `liveness: offset ${p.offset} committed on every node`);
          return;
        }
      }
    }
  }
}

function describeMessage(m: RaftMessage): string {
  if (m.kind === 'request') {
    const r = m.request;
    if (r.api === 'Vote') {
      const p = r.body.topics[0]?.partitions[0];
      return `${r.preVote ? 'PreVote' : 'Vote'} epoch ${p?.candidateEpoch} last ${p?.lastOffsetEpoch}/${p?.lastOffset}`;
    }
    if (r.api === 'Fetch') {
      const p = r.body.topics[0]?.partitions[0];
      return `Fetch epoch ${p?.currentLeaderEpoch} offset ${p?.fetchOffset} last epoch ${p?.lastFetchedEpoch}`;
    }
    return r.api;
  }
  const r = m.response;
  if (r.api === 'Vote') {
    const p = r.body.topics[0]?.partitions[0];
    return `${r.preVote ? 'PreVote' : 'Vote'} ${p?.voteGranted ? 'granted' : 'refused'} error ${p?.errorCode ?? r.body.errorCode} leader ${p?.leaderId} epoch ${p?.leaderEpoch}`;
  }
  if (r.api === 'Fetch') {
    const p = r.body.responses[0]?.partitions[0];
    return `Fetch error ${p?.errorCode ?? r.body.errorCode} hw ${p?.highWatermark} leader ${p?.currentLeader.leaderId}/${p?.currentLeader.leaderEpoch}${p !== undefined && p.divergingEpoch.epoch >= 0 ? ` diverging ${p.divergingEpoch.epoch}/${p.divergingEpoch.endOffset}` : ''}`;
  }
  return r.api;
}

function apiNumber(api: string): number {
  switch (api) {
    case 'Vote':
      return 52;
    case 'BeginQuorumEpoch':
      return 53;
    case 'EndQuorumEpoch':
      return 54;
    case 'FetchSnapshot':
      return 59;
    default:
      return 1;
  }
}

export function runSimulation(options: SimulationOptions): SimulationResult {
  return new RaftSimulation(options).run();
}
