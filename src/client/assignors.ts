// Partition assignors run by the group leader (Kafka's ConsumerPartitionAssignor implementations):
// `range` and `roundrobin` (eager: every member gives up everything at each rebalance) and
// `cooperative-sticky` (KIP-429: members keep what they can, and a partition that moves is first
// revoked by its owner in one rebalance and only assigned to its new owner in the next).
//
// Same inputs, same outputs as Kafka's, so a group mixing this client with Java or librdkafka
// members gets the assignment any of them would have computed as leader.

import { type Subscription, type TopicPartition, tpKey } from './consumer-protocol.js';

export type RebalanceProtocol = 'EAGER' | 'COOPERATIVE';

export interface MemberSubscription extends Subscription {
  memberId: string;
  groupInstanceId: string | null;
}

export interface PartitionAssignor {
  readonly name: string;
  /** The rebalance protocols the assignor supports, preferred first. */
  readonly supportedProtocols: readonly RebalanceProtocol[];
  /** Partition count per topic (only existing topics) and each member's subscription. */
  assign(
    partitionsPerTopic: ReadonlyMap<string, number>,
    members: readonly MemberSubscription[],
  ): Map<string, TopicPartition[]>;
}

/** Kafka orders members by group.instance.id when set (static members), else by member id. */
function compareMembers(a: MemberSubscription, b: MemberSubscription): number {
  const ka = a.groupInstanceId ?? a.memberId;
  const kb = b.groupInstanceId ?? b.memberId;
  if (a.groupInstanceId !== null && b.groupInstanceId === null) return -1;
  if (a.groupInstanceId === null && b.groupInstanceId !== null) return 1;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function emptyAssignment(members: readonly MemberSubscription[]): Map<string, TopicPartition[]> {
  return new Map(members.map((m) => [m.memberId, []]));
}

/** RangeAssignor: per topic, consecutive ranges; the first (n % members) members get one more. */
export const RangeAssignor: PartitionAssignor = {
  name: 'range',
  supportedProtocols: ['EAGER'],
  assign(partitionsPerTopic, members) {
    const out = emptyAssignment(members);
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
    for (const topic of topics) {
      const n = partitionsPerTopic.get(topic);
      if (n === undefined) continue;
      const consumers = members.filter((m) => m.topics.includes(topic)).sort(compareMembers);
      const per = Math.floor(n / consumers.length);
      const extra = n % consumers.length;
      consumers.forEach((m, i) => {
        const start = per * i + Math.min(i, extra);
        const length = per + (i < extra ? 1 : 0);
        const list = out.get(m.memberId) as TopicPartition[];
        for (let p = start; p < start + length; p++) list.push({ topic, partition: p });
      });
    }
    return out;
  },
};

/** RoundRobinAssignor: all partitions sorted by topic then partition, dealt to members in turn. */
export const RoundRobinAssignor: PartitionAssignor = {
  name: 'roundrobin',
  supportedProtocols: ['EAGER'],
  assign(partitionsPerTopic, members) {
    const out = emptyAssignment(members);
    const sorted = [...members].sort(compareMembers);
    const topics = [...new Set(members.flatMap((m) => m.topics))]
      .filter((t) => partitionsPerTopic.has(t))
      .sort();
    let i = 0;
    for (const topic of topics) {
      const n = partitionsPerTopic.get(topic) as number;
      for (let p = 0; p < n; p++) {
        // Next member (circularly) subscribed to this topic.
        for (let k = 0; k < sorted.length; k++) {
          const m = sorted[(i + k) % sorted.length];
          if (m.topics.includes(topic)) {
            (out.get(m.memberId) as TopicPartition[]).push({ topic, partition: p });
            i = (i + k + 1) % sorted.length;
            break;
          }
        }
      }
    }
    return out;
  },
};

/**
 * The sticky assignment (Kafka's AbstractStickyAssignor, simplified to one balancing pass):
 * 1. each member keeps the partitions it owned that still exist and that it still subscribes to;
 *    a partition claimed by several members goes to the claim with the highest generation;
 * 2. owners above their fair share (ceil or floor of partitions / members, per their topics) give
 *    the excess back;
 * 3. free partitions go one by one to the subscribed member with the fewest partitions.
 * The result is balanced (counts differ by at most one among members with equal subscriptions)
 * and moves as few partitions as possible.
 */
export function stickyAssign(
  partitionsPerTopic: ReadonlyMap<string, number>,
  members: readonly MemberSubscription[],
): Map<string, TopicPartition[]> {
  const sorted = [...members].sort(compareMembers);
  const all: TopicPartition[] = [];
  for (const topic of [...partitionsPerTopic.keys()].sort()) {
    if (!sorted.some((m) => m.topics.includes(topic))) continue;
    const n = partitionsPerTopic.get(topic) as number;
    for (let p = 0; p < n; p++) all.push({ topic, partition: p });
  }
  const exists = new Set(all.map(tpKey));
  // 1. Valid claims: highest generation wins.
  const claim = new Map<string, { member: string; generation: number }>();
  for (const m of sorted) {
    for (const tp of m.ownedPartitions) {
      const k = tpKey(tp);
      if (!exists.has(k) || !m.topics.includes(tp.topic)) continue;
      const c = claim.get(k);
      if (!c || m.generationId > c.generation)
        claim.set(k, { member: m.memberId, generation: m.generationId });
    }
  }
  const out = emptyAssignment(sorted);
  const byKey = new Map(all.map((tp) => [tpKey(tp), tp]));
  for (const [k, c] of claim) (out.get(c.member) as TopicPartition[]).push(byKey.get(k) as TopicPartition);
  // 2. Quotas: with P partitions over C members, (P % C) members may hold ceil(P/C), the rest floor.
  //    (Exact for equal subscriptions; with unequal ones step 3 still balances greedily.)
  const total = all.length;
  const c = sorted.length;
  const minQuota = Math.floor(total / c);
  let maxQuotaSlots = total % c;
  const free: TopicPartition[] = [];
  const byOwned = [...sorted].sort(
    (a, b) => (out.get(b.memberId)?.length ?? 0) - (out.get(a.memberId)?.length ?? 0),
  );
  for (const m of byOwned) {
    const list = out.get(m.memberId) as TopicPartition[];
    list.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    let quota = minQuota;
    if (list.length > minQuota && maxQuotaSlots > 0) {
      quota = minQuota + 1;
      maxQuotaSlots--;
    }
    if (list.length > quota) free.push(...list.splice(quota));
  }
  const assigned = new Set([...out.values()].flat().map(tpKey));
  for (const tp of all) if (!assigned.has(tpKey(tp))) free.push(tp);
  // Keep the order stable (topic, partition) so that equal inputs give equal outputs.
  const uniqueFree = [...new Map(free.map((tp) => [tpKey(tp), tp])).values()].sort((a, b) =>
    a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
  );
  // 3. Greedy fill.
  for (const tp of uniqueFree) {
    let best: MemberSubscription | null = null;
    for (const m of sorted) {
      if (!m.topics.includes(tp.topic)) continue;
      if (!best || (out.get(m.memberId)?.length ?? 0) < (out.get(best.memberId)?.length ?? 0)) best = m;
    }
    if (best) (out.get(best.memberId) as TopicPartition[]).push(tp);
  }
  return out;
}

/**
 * CooperativeStickyAssignor: the sticky assignment, minus every partition that changes owner
 * (KIP-429): the previous owner sees it missing and revokes it, rejoins, and the next rebalance
 * gives it to its new owner once nobody claims it.
 */
export const CooperativeStickyAssignor: PartitionAssignor = {
  name: 'cooperative-sticky',
  supportedProtocols: ['COOPERATIVE', 'EAGER'],
  assign(partitionsPerTopic, members) {
    const target = stickyAssign(partitionsPerTopic, members);
    const maxGeneration = Math.max(-1, ...members.map((m) => m.generationId));
    const owner = new Map<string, string>();
    for (const m of members) {
      // Stale claims (an older generation) do not count, as in Kafka.
      if (m.generationId !== maxGeneration && maxGeneration >= 0) continue;
      for (const tp of m.ownedPartitions) owner.set(tpKey(tp), m.memberId);
    }
    for (const [memberId, list] of target) {
      target.set(
        memberId,
        list.filter((tp) => {
          const o = owner.get(tpKey(tp));
          return o === undefined || o === memberId;
        }),
      );
    }
    return target;
  },
};

export const BUILTIN_ASSIGNORS: Record<string, PartitionAssignor> = {
  range: RangeAssignor,
  roundrobin: RoundRobinAssignor,
  'cooperative-sticky': CooperativeStickyAssignor,
};

/** Kafka's rule: cooperative only if every configured assignor supports it. */
export function rebalanceProtocolOf(assignors: readonly PartitionAssignor[]): RebalanceProtocol {
  return assignors.every((a) => a.supportedProtocols.includes('COOPERATIVE')) ? 'COOPERATIVE' : 'EAGER';
}
