// The server-side assignors of KIP-848 consumer groups (group.consumer.assignors): `uniform`
// (Kafka's UniformAssignor, the default) and `range` (Kafka's RangeAssignor).
//
// An assignor is a pure function from the members' subscriptions (and their current target
// assignment, for stickiness) to a new target assignment. It never sees member epochs or who
// currently owns what: the coordinator's reconciliation (consumer-group.ts) turns a target into
// revocations and assignments safely.
//
// Rack-aware assignment is not done: the member's rack is kept and described, not used.

/** Partitions by topic id. */
export type TopicAssignment = Map<string, Set<number>>;

export interface AssignmentMember {
  memberId: string;
  /** Topic ids this member subscribes to (names and regex already resolved, existing topics only). */
  subscribedTopicIds: ReadonlySet<string>;
  /** Its current target assignment: the uniform assignor keeps what it can. */
  previous: TopicAssignment;
}

export interface AssignmentTopic {
  id: string;
  name: string;
  numPartitions: number;
}

export interface ServerAssignor {
  readonly name: string;
  /** Returns a target assignment for every member (empty for a member that gets nothing). */
  assign(
    members: readonly AssignmentMember[],
    topics: ReadonlyMap<string, AssignmentTopic>,
  ): Map<string, TopicAssignment>;
}

function emptyResult(members: readonly AssignmentMember[]): Map<string, TopicAssignment> {
  return new Map(members.map((m) => [m.memberId, new Map()]));
}

function add(a: TopicAssignment, topicId: string, partition: number): void {
  let set = a.get(topicId);
  if (!set) {
    set = new Set();
    a.set(topicId, set);
  }
  set.add(partition);
}

function remove(a: TopicAssignment, topicId: string, partition: number): void {
  const set = a.get(topicId);
  if (!set) return;
  set.delete(partition);
  if (set.size === 0) a.delete(topicId);
}

/**
 * Balanced and sticky: every member gets as many partitions as it can of the topics it subscribes
 * to, counts differ by at most one between members that could take each other's partitions, and a
 * partition stays with its current target owner whenever balance allows (so a join or a leave moves
 * only the partitions it must). With identical subscriptions this is Kafka's uniform result
 * (floor(P/N) or ceil(P/N) each); with different subscriptions it balances greedily.
 */
export const UNIFORM_ASSIGNOR: ServerAssignor = {
  name: 'uniform',
  assign(members, topics) {
    const result = emptyResult(members);
    if (members.length === 0) return result;
    const sorted = [...members].sort((a, b) =>
      a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
    );
    const count = new Map<string, number>(sorted.map((m) => [m.memberId, 0]));
    const subscribers = new Map<string, string[]>();
    for (const m of sorted) {
      for (const t of m.subscribedTopicIds) {
        if (!topics.has(t)) continue;
        let list = subscribers.get(t);
        if (!list) {
          list = [];
          subscribers.set(t, list);
        }
        list.push(m.memberId);
      }
    }
    // Ceiling per member with identical subscriptions: nobody keeps more than ceil(P/N).
    let totalPartitions = 0;
    for (const t of subscribers.keys()) totalPartitions += topics.get(t)?.numPartitions ?? 0;
    const cap = Math.ceil(totalPartitions / sorted.length);
    const owned = new Set<string>();
    // 1. Stickiness: keep each still-valid partition of the previous target, up to the cap.
    for (const m of sorted) {
      const mine = result.get(m.memberId)!;
      for (const [topicId, partitions] of m.previous) {
        const topic = topics.get(topicId);
        if (!topic || !m.subscribedTopicIds.has(topicId)) continue;
        for (const p of [...partitions].sort((a, b) => a - b)) {
          const key = `${topicId}:${p}`;
          if (p >= topic.numPartitions || owned.has(key) || count.get(m.memberId)! >= cap) continue;
          owned.add(key);
          add(mine, topicId, p);
          count.set(m.memberId, count.get(m.memberId)! + 1);
        }
      }
    }
    // 2. Every unowned partition goes to its least-loaded subscriber (ties: smallest member id).
    const topicIds = [...subscribers.keys()].sort((a, b) => {
      const na = topics.get(a)!.name;
      const nb = topics.get(b)!.name;
      return na < nb ? -1 : na > nb ? 1 : 0;
    });
    for (const topicId of topicIds) {
      const subs = subscribers.get(topicId)!;
      const n = topics.get(topicId)!.numPartitions;
      for (let p = 0; p < n; p++) {
        if (owned.has(`${topicId}:${p}`)) continue;
        let best = subs[0];
        for (const s of subs) if (count.get(s)! < count.get(best)!) best = s;
        add(result.get(best)!, topicId, p);
        count.set(best, count.get(best)! + 1);
      }
    }
    // 3. Balance: move a partition from a member to one that has at least two fewer and subscribes
    //    to its topic, until no such pair exists. Partitions moved are the highest-numbered ones,
    //    so the lower ones (most often the previously kept ones) stay put.
    for (;;) {
      const byLoad = [...sorted].sort((a, b) => count.get(b.memberId)! - count.get(a.memberId)!);
      let moved = false;
      outer: for (const from of byLoad) {
        for (let i = byLoad.length - 1; i >= 0; i--) {
          const to = byLoad[i];
          if (count.get(from.memberId)! - count.get(to.memberId)! <= 1) break;
          const fromAssignment = result.get(from.memberId)!;
          for (const [topicId, partitions] of fromAssignment) {
            if (!to.subscribedTopicIds.has(topicId)) continue;
            const p = Math.max(...partitions);
            remove(fromAssignment, topicId, p);
            add(result.get(to.memberId)!, topicId, p);
            count.set(from.memberId, count.get(from.memberId)! - 1);
            count.set(to.memberId, count.get(to.memberId)! + 1);
            moved = true;
            break outer;
          }
        }
      }
      if (!moved) break;
    }
    return result;
  },
};

/**
 * Per topic, its subscribers sorted by member id get consecutive ranges of partitions; the first
 * (P mod N) get one more (Kafka's range assignment: co-partitioned topics land on the same members).
 */
export const RANGE_ASSIGNOR: ServerAssignor = {
  name: 'range',
  assign(members, topics) {
    const result = emptyResult(members);
    for (const topic of topics.values()) {
      const subs = members
        .filter((m) => m.subscribedTopicIds.has(topic.id))
        .map((m) => m.memberId)
        .sort();
      if (subs.length === 0) continue;
      const quota = Math.floor(topic.numPartitions / subs.length);
      const extra = topic.numPartitions % subs.length;
      subs.forEach((memberId, i) => {
        const start = i * quota + Math.min(i, extra);
        const length = quota + (i < extra ? 1 : 0);
        for (let p = start; p < start + length; p++) add(result.get(memberId)!, topic.id, p);
      });
    }
    return result;
  },
};

export const SERVER_ASSIGNORS: ReadonlyMap<string, ServerAssignor> = new Map([
  [UNIFORM_ASSIGNOR.name, UNIFORM_ASSIGNOR],
  [RANGE_ASSIGNOR.name, RANGE_ASSIGNOR],
]);

/** Kafka's class names for its assignors, accepted in group.consumer.assignors as their short names. */
const CLASS_NAMES: Record<string, string> = {
  'org.apache.kafka.coordinator.group.assignor.UniformAssignor': 'uniform',
  'org.apache.kafka.coordinator.group.assignor.RangeAssignor': 'range',
  'org.apache.kafka.coordinator.group.api.assignor.UniformAssignor': 'uniform',
  'org.apache.kafka.coordinator.group.api.assignor.RangeAssignor': 'range',
};

/** Resolves group.consumer.assignors (names or Kafka class names); throws on an unknown one. */
export function resolveAssignors(names: readonly string[]): ServerAssignor[] {
  const out: ServerAssignor[] = [];
  for (const raw of names) {
    const name = CLASS_NAMES[raw.trim()] ?? raw.trim();
    const a = SERVER_ASSIGNORS.get(name);
    if (!a) throw new Error(`unknown consumer group assignor ${raw} (supported: uniform, range)`);
    if (!out.includes(a)) out.push(a);
  }
  if (out.length === 0) throw new Error('group.consumer.assignors must name at least one assignor');
  return out;
}
