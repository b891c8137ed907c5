// The safety invariants of a KRaft quorum, checked against the live state of every node (Kafka's
// RaftEventSimulationTest invariants): shared by the seeded simulation and scripted tests.
//
// - At most one leader per epoch.
// - A node's high watermark never decreases (within one run of the node: a restart starts over).
// - Committed entries never change: every node's log below its high watermark agrees with the
//   global record of committed entries (which it extends), and no node truncates its log below
//   its high watermark.
// - Committed entries never disappear: the last committed entry is on the disks of a majority of
//   voters, so no set of crashes can lose it.
// - A snapshot holds committed entries only. (In the simulation a snapshot's content is the
//   batches it replaces, inside Kafka's SnapshotHeader/SnapshotFooter framing, so it is checked
//   against the committed record like the log.)

import { MemoryRaftLog, type RaftLog, type RaftSnapshot } from '../log.js';
import type { RaftNode } from '../raft-node.js';
import { readSnapshot } from '../snapshot.js';

export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
}

/** A MemoryRaftLog that remembers the lowest truncation since the invariants last looked. */
export class TrackedLog extends MemoryRaftLog {
  lowestTruncation = Number.POSITIVE_INFINITY;
  override truncateTo(offset: number): void {
    if (offset < this.endOffset() && offset < this.lowestTruncation) this.lowestTruncation = offset;
    super.truncateTo(offset);
  }
}

/** A log the invariants can watch: its lowest truncation since they last looked, its durable end. */
export interface ObservedLog extends RaftLog {
  lowestTruncation: number;
  durableEndOffset(): number;
}

/** What the invariants see of a node. A crashed node has raft === null (its log is its disk). */
export interface ObservedNode {
  id: number;
  raft: RaftNode | null;
  log: ObservedLog;
}

/** An entry's identity in the committed record: its epoch and its batch CRC. */
export function batchKey(epoch: number, bytes: Buffer): number {
  return epoch * 4294967296 + bytes.readUInt32BE(17);
}

interface NodeTrack {
  raft: RaftNode | null;
  lastHw: number;
  verifiedUpTo: number;
}

export class QuorumInvariants {
  private readonly majority: number;
  private leaderOfEpoch = new Map<number, number>();
  /** committed[o] = key of the batch holding offset o. */
  private committed: number[] = [];
  private tracks = new Map<number, NodeTrack>();
  private verifiedSnapshots = new WeakSet<RaftSnapshot>();

  constructor(voterCount: number) {
    this.majority = Math.floor(voterCount / 2) + 1;
  }

  get committedCount(): number {
    return this.committed.length;
  }

  isCommitted(offset: number, key: number): boolean {
    return this.committed[offset] === key;
  }

  /** A node crashed: the truncation its log takes is a loss of unflushed data, not a violation. */
  forgetTruncations(node: ObservedNode): void {
    node.log.lowestTruncation = Number.POSITIVE_INFINITY;
  }

  /** Throws InvariantViolation at the first broken invariant. */
  check(nodes: readonly ObservedNode[]): void {
    for (const n of nodes) {
      const raft = n.raft;
      let track = this.tracks.get(n.id);
      if (track === undefined || track.raft !== raft) {
        // A new run of the node (or its first): its bookkeeping starts over.
        track = { raft, lastHw: 0, verifiedUpTo: 0 };
        this.tracks.set(n.id, track);
        n.log.lowestTruncation = Number.POSITIVE_INFINITY;
      }
      if (raft === null) continue;
      if (raft.role === 'Leader') {
        const other = this.leaderOfEpoch.get(raft.epoch);
        if (other === undefined) this.leaderOfEpoch.set(raft.epoch, n.id);
        else if (other !== n.id)
          throw new InvariantViolation(`two leaders in epoch ${raft.epoch}: ${other} and ${n.id}`);
      }
      const hw = raft.highWatermark;
      if (hw < track.lastHw) {
        throw new InvariantViolation(`node ${n.id}: high watermark went from ${track.lastHw} back to ${hw}`);
      }
      track.lastHw = hw;
      if (n.log.lowestTruncation < track.verifiedUpTo) {
        throw new InvariantViolation(
          `node ${n.id} truncated its log to ${n.log.lowestTruncation}, below committed offset ${track.verifiedUpTo}`,
        );
      }
      n.log.lowestTruncation = Number.POSITIVE_INFINITY;
      if (hw > n.log.endOffset()) {
        throw new InvariantViolation(
          `node ${n.id}: high watermark ${hw} beyond its log end ${n.log.endOffset()}`,
        );
      }
      const snapshot = n.log.latestSnapshot();
      if (snapshot !== undefined && !this.verifiedSnapshots.has(snapshot)) {
        this.checkSnapshot(n.id, snapshot);
        this.verifiedSnapshots.add(snapshot);
      }
      // Every entry below the high watermark agrees with the committed record (or extends it).
      let o = Math.max(track.verifiedUpTo, n.log.startOffset());
      while (o < hw) {
        const b = n.log.batchAt(o);
        if (b === undefined) throw new InvariantViolation(`node ${n.id}: no entry at committed offset ${o}`);
        const key = batchKey(b.epoch, b.bytes);
        for (let x = o; x <= b.lastOffset && x < hw; x++) {
          const known = this.committed[x];
          if (known === undefined) {
            if (x !== this.committed.length)
              throw new InvariantViolation(`node ${n.id}: committed offset ${x} after a gap`);
            this.committed.push(key);
          } else if (known !== key) {
            throw new InvariantViolation(
              `node ${n.id}: committed offset ${x} holds an entry of epoch ${b.epoch}, the committed record one of epoch ${Math.floor(known / 4294967296)} (a committed entry changed)`,
            );
          }
        }
        o = b.lastOffset + 1;
      }
      if (hw > track.verifiedUpTo) track.verifiedUpTo = hw;
    }
    // The last committed entry survives any crash: it is on a majority of disks.
    const c = this.committed.length;
    if (c > 0) {
      const key = this.committed[c - 1];
      let onDisk = 0;
      for (const n of nodes) {
        if (n.log.durableEndOffset() < c) continue;
        if (c - 1 < n.log.startOffset()) {
          onDisk++; // in its snapshot, whose content was checked
          continue;
        }
        const b = n.log.batchAt(c - 1);
        if (b !== undefined && batchKey(b.epoch, b.bytes) === key) onDisk++;
      }
      if (onDisk < this.majority) {
        throw new InvariantViolation(
          `committed offset ${c - 1} is on ${onDisk} disks, fewer than a majority`,
        );
      }
    }
  }

  /** Offsets [from, to) hold the entry `key` (of `epoch`): it must match or extend the record. */
  private checkCommitted(node: number, from: number, to: number, epoch: number, key: number): void {
    for (let x = from; x < to; x++) {
      const known = this.committed[x];
      if (known === undefined) {
        if (x !== this.committed.length)
          throw new InvariantViolation(`node ${node}: committed offset ${x} after a gap`);
        this.committed.push(key);
      } else if (known !== key) {
        throw new InvariantViolation(
          `node ${node}: committed offset ${x} holds an entry of epoch ${epoch}, the committed record one of epoch ${Math.floor(known / 4294967296)} (a committed entry changed)`,
        );
      }
    }
  }

  private checkSnapshot(node: number, snapshot: RaftSnapshot): void {
    let batches: ReturnType<typeof readSnapshot>['data'];
    try {
      batches = readSnapshot(snapshot.bytes, snapshot.epoch).data;
    } catch (e) {
      throw new InvariantViolation(
        `node ${node}: snapshot ${snapshot.endOffset}-${snapshot.epoch} is corrupt: ${String(e)}`,
      );
    }
    let next = 0;
    for (const b of batches) {
      if (b.baseOffset !== next)
        throw new InvariantViolation(`node ${node}: snapshot with a gap at offset ${next}`);
      this.checkCommitted(node, b.baseOffset, b.lastOffset + 1, b.epoch, batchKey(b.epoch, b.bytes));
      next = b.lastOffset + 1;
    }
    const last = batches[batches.length - 1];
    if (next !== snapshot.endOffset || last === undefined || last.epoch !== snapshot.epoch) {
      throw new InvariantViolation(
        `node ${node}: snapshot ${snapshot.endOffset}-${snapshot.epoch} holds offsets up to ${next}, last epoch ${last?.epoch}`,
      );
    }
  }
}
