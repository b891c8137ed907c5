// Choosing a partition for a record, as Kafka's producer does:
// - an explicit partition wins;
// - a keyed record goes to toPositive(murmur2(key)) % numPartitions (Kafka's BuiltInPartitioner,
//   the same function as Java's DefaultPartitioner and librdkafka's murmur2_random), so that keyed
//   records land on the same partition whichever Kafka client wrote them;
// - a keyless record goes to the topic's current "sticky" partition (KIP-480): every keyless record
//   joins the same batch until that batch is closed, then a new sticky partition is picked at random
//   among the partitions that have a leader. Few, full batches beat many small ones.

/** Kafka's Utils.murmur2 (seed 0x9747b28c), as a signed 32-bit int. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  // Java folds the 1-3 tail bytes with a fall-through switch; the same in ifs.
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) {
    h ^= data[tail];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs, which differs at MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition Kafka's default partitioner gives a keyed record. */
export function murmur2Partition(key: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(key)) % numPartitions;
}

/** Per-topic sticky partitions for keyless records (KIP-480's StickyPartitionCache). */
export class StickyPartitionCache {
  private readonly byTopic = new Map<string, number>();

  /** The topic's sticky partition, if it has one below numPartitions. */
  current(topic: string, numPartitions: number): number | undefined {
    const p = this.byTopic.get(topic);
    return p !== undefined && p < numPartitions ? p : undefined;
  }

  /** The topic's sticky partition, choosing one if there is none yet. */
  partition(topic: string, numPartitions: number, available: readonly number[]): number {
    const p = this.byTopic.get(topic);
    if (p !== undefined && p < numPartitions) return p;
    return this.next(topic, numPartitions, available, -1);
  }

  /**
   * Called when the sticky partition's batch was closed: picks another partition, at random among
   * those with a leader (all of them if none has), never the previous one when there is a choice.
   */
  next(topic: string, numPartitions: number, available: readonly number[], previous: number): number {
    const pool = available.length > 0 ? available : Array.from({ length: numPartitions }, (_, i) => i);
    let p: number;
    if (pool.length === 1) p = pool[0];
    else {
      do p = pool[Math.floor(Math.random() * pool.length)];
      while (p === previous);
    }
    this.byTopic.set(topic, p);
    return p;
  }
}
