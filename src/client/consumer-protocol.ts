// The "consumer" embedded protocol (Kafka's ConsumerProtocol): what a member puts in JoinGroup's
// protocol metadata (a Subscription) and what the leader hands out in SyncGroup (an Assignment).
// Both are an int16 version followed by the struct at that version. We write version 3 (Kafka
// 3.x's), and read any version: fields a version lacks take their defaults, and bytes after the
// known fields (a newer version's additions) are ignored, as Kafka's ConsumerProtocol does.

import { ConsumerProtocolAssignment } from '../protocol/generated/messages/ConsumerProtocolAssignment.js';
import { ConsumerProtocolSubscription } from '../protocol/generated/messages/ConsumerProtocolSubscription.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';
const SUBSCRIPTION_VERSION = 3;
const ASSIGNMENT_VERSION = 3;

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface Subscription {
  topics: string[];
  userData: Buffer | null;
  ownedPartitions: TopicPartition[];
  /** The generation the owned partitions were assigned in; -1 if unknown (versions < 2). */
  generationId: number;
  rackId: string | null;
}

export interface Assignment {
  partitions: TopicPartition[];
  userData: Buffer | null;
}

export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

/** Groups partitions by topic, each topic's partitions ascending (the wire form). */
export function groupByTopic(tps: Iterable<TopicPartition>): { topic: string; partitions: number[] }[] {
  const m = new Map<string, number[]>();
  for (const tp of tps) {
    let l = m.get(tp.topic);
    if (!l) {
      l = [];
      m.set(tp.topic, l);
    }
    l.push(tp.partition);
  }
  return [...m].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}

function flatten(list: { topic: string; partitions: number[] }[]): TopicPartition[] {
  return list.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
}

export function encodeSubscription(s: Subscription): Buffer {
  const w = new Writer(64);
  w.int16(SUBSCRIPTION_VERSION);
  ConsumerProtocolSubscription.write(
    w,
    {
      topics: s.topics,
      userData: s.userData,
      ownedPartitions: groupByTopic(s.ownedPartitions),
      generationId: s.generationId,
      rackId: s.rackId,
    },
    SUBSCRIPTION_VERSION,
  );
  return w.finish();
}

export function decodeSubscription(buf: Buffer): Subscription {
  const r = new Reader(buf);
  const version = Math.min(r.int16(), SUBSCRIPTION_VERSION);
  if (version < 0) throw new RangeError(`bad subscription version ${version}`);
  const s = ConsumerProtocolSubscription.read(r, version);
  return {
    topics: s.topics,
    userData: s.userData,
    ownedPartitions: flatten(s.ownedPartitions),
    generationId: s.generationId,
    rackId: s.rackId,
  };
}

export function encodeAssignment(a: Assignment): Buffer {
  const w = new Writer(64);
  w.int16(ASSIGNMENT_VERSION);
  ConsumerProtocolAssignment.write(
    w,
    { assignedPartitions: groupByTopic(a.partitions), userData: a.userData },
    ASSIGNMENT_VERSION,
  );
  return w.finish();
}

export function decodeAssignment(buf: Buffer): Assignment {
  // An empty assignment (a member the leader left out, or a failed sync) carries no bytes at all.
  if (buf.length === 0) return { partitions: [], userData: null };
  const r = new Reader(buf);
  const version = Math.min(r.int16(), ASSIGNMENT_VERSION);
  if (version < 0) throw new RangeError(`bad assignment version ${version}`);
  const a = ConsumerProtocolAssignment.read(r, version);
  return { partitions: flatten(a.assignedPartitions), userData: a.userData };
}
