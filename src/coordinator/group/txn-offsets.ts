// PendingTxnOffsets: offsets committed inside a transaction (TxnOffsetCommit) whose transaction has
// not ended yet (Kafka's OffsetMetadataManager.pendingTransactionalOffsets and
// openTransactionsByGroup).
//
// A transactional offset commit is written to __consumer_offsets in a transactional batch of the
// producer. Its offsets stay here, invisible to OffsetFetch (a require_stable fetch answers
// UNSTABLE_OFFSET_COMMIT for them), until the transaction's COMMIT or ABORT marker is written to the
// same __consumer_offsets partition: a commit moves them to the group's committed offsets, an
// abort drops them. Each pending offset keeps the write sequence number of its record (its log
// order), so that a commit never overwrites an offset written later in the log (Kafka compares
// record offsets), and a tombstone removes only what was written before it.
//
// Invariants: an entry exists in `byProducer` only with its producer id in `openByGroup` for the
// group; `openByGroup` loses a producer id only when its transaction ends (a tombstone may have
// emptied its offsets before, as Kafka: the group keeps an open transaction until the marker).

import type { OffsetAndMetadata } from './records.js';

/** A pending transactional offset and the write sequence number (log order) of its record. */
export interface PendingTxnOffset extends OffsetAndMetadata {
  seq: number;
}

/** One offset of a transaction that ended. */
export interface CompletedTxnOffset {
  groupId: string;
  topic: string;
  partition: number;
  offset: PendingTxnOffset;
}

type PartitionOffsets = Map<number, PendingTxnOffset>;
type TopicOffsets = Map<string, PartitionOffsets>;

export class PendingTxnOffsets {
  /** producer id -> group id -> topic -> partition -> the producer's latest pending offset. */
  private readonly byProducer = new Map<bigint, Map<string, TopicOffsets>>();
  /** group id -> producer ids whose open transaction committed offsets of the group. */
  private readonly openByGroup = new Map<string, Set<bigint>>();

  /** Records a pending offset; a later commit of the same producer for the partition replaces it. */
  add(producerId: bigint, groupId: string, topic: string, partition: number, offset: PendingTxnOffset): void {
    let groups = this.byProducer.get(producerId);
    if (!groups) {
      groups = new Map();
      this.byProducer.set(producerId, groups);
    }
    let topics = groups.get(groupId);
    if (!topics) {
      topics = new Map();
      groups.set(groupId, topics);
    }
    let partitions = topics.get(topic);
    if (!partitions) {
      partitions = new Map();
      topics.set(topic, partitions);
    }
    const current = partitions.get(partition);
    if (!current || current.seq < offset.seq) partitions.set(partition, offset);
    let producers = this.openByGroup.get(groupId);
    if (!producers) {
      producers = new Set();
      this.openByGroup.set(groupId, producers);
    }
    producers.add(producerId);
  }

  /** Kafka's hasPendingTransactionalOffsets: some open transaction holds an offset of this partition. */
  has(groupId: string, topic: string, partition: number): boolean {
    const producers = this.openByGroup.get(groupId);
    if (!producers) return false;
    for (const pid of producers) {
      if (this.byProducer.get(pid)?.get(groupId)?.get(topic)?.has(partition)) return true;
    }
    return false;
  }

  /** Whether an open transaction committed offsets of the group (it is then not expired away). */
  hasOpenTransactions(groupId: string): boolean {
    return this.openByGroup.has(groupId);
  }

  /** The partitions of the group with a pending transactional offset (each once). */
  partitionsOf(groupId: string): Array<[string, number]> {
    const producers = this.openByGroup.get(groupId);
    if (!producers) return [];
    const out: Array<[string, number]> = [];
    const seen = new Set<string>();
    for (const pid of producers) {
      const topics = this.byProducer.get(pid)?.get(groupId);
      if (!topics) continue;
      for (const [topic, partitions] of topics) {
        for (const partition of partitions.keys()) {
          const k = `${partition}:${topic}`;
          if (seen.has(k)) continue;
          seen.add(k);
          out.push([topic, partition]);
        }
      }
    }
    return out;
  }

  /** Applies an offset tombstone written with sequence `seq`: pending offsets written before it go. */
  remove(groupId: string, topic: string, partition: number, seq: number): void {
    const producers = this.openByGroup.get(groupId);
    if (!producers) return;
    for (const pid of producers) {
      const topics = this.byProducer.get(pid)?.get(groupId);
      const partitions = topics?.get(topic);
      const o = partitions?.get(partition);
      if (!topics || !partitions || !o || o.seq > seq) continue;
      partitions.delete(partition);
      if (partitions.size === 0) topics.delete(topic);
    }
  }

  /**
   * Ends the transaction of `producerId` for the groups `inScope` accepts (those of the
   * __consumer_offsets partition the marker went to). Returns the offsets it held, removed from
   * here; the caller materialises them on COMMIT.
   */
  complete(producerId: bigint, inScope: (groupId: string) => boolean): CompletedTxnOffset[] {
    const groups = this.byProducer.get(producerId);
    if (!groups) return [];
    const out: CompletedTxnOffset[] = [];
    for (const [groupId, topics] of groups) {
      if (!inScope(groupId)) continue;
      groups.delete(groupId);
      const producers = this.openByGroup.get(groupId);
      producers?.delete(producerId);
      if (producers?.size === 0) this.openByGroup.delete(groupId);
      for (const [topic, partitions] of topics) {
        for (const [partition, offset] of partitions) out.push({ groupId, topic, partition, offset });
      }
    }
    if (groups.size === 0) this.byProducer.delete(producerId);
    return out;
  }

  /** Number of producers with an open transaction holding offsets (for tests and metrics). */
  get openTransactions(): number {
    return this.byProducer.size;
  }
}
