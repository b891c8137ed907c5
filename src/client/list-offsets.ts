// ListOffsets for consumers and admin (Kafka's OffsetFetcher / ListOffsetsHandler): the offset for
// a timestamp, or the log start (EARLIEST = -2), end (LATEST = -1), or the offset of the largest
// timestamp (MAX_TIMESTAMP = -3), per partition, each asked of its leader. Leader errors refresh
// metadata and retry until the request timeout.

import { ErrorCode } from '../protocol/errors.js';
import type { ListOffsetsRequest } from '../protocol/generated/messages/ListOffsetsRequest.js';
import { ListOffsetsApi } from './apis.js';
import { type Cluster, sleep } from './cluster.js';
import { type TopicPartition, tpKey } from './consumer-protocol.js';
import { KafkaError } from './errors.js';

export const EARLIEST_TIMESTAMP = -2n;
export const LATEST_TIMESTAMP = -1n;
export const MAX_TIMESTAMP = -3n;

export interface OffsetAndTimestamp {
  /** -1n when no record has a timestamp at or after the one asked for. */
  offset: bigint;
  timestamp: bigint;
  leaderEpoch: number;
}

export async function listOffsets(
  cluster: Cluster,
  query: ReadonlyArray<TopicPartition & { timestamp: bigint }>,
  options: { isolationLevel?: number; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<Map<string, OffsetAndTimestamp>> {
  const out = new Map<string, OffsetAndTimestamp>();
  let pending = [...query];
  const deadline = Date.now() + (options.timeoutMs ?? cluster.requestTimeoutMs);
  await cluster.waitForTopics(
    [...new Set(query.map((q) => q.topic))],
    options.timeoutMs ?? cluster.requestTimeoutMs,
    options.signal,
  );
  for (;;) {
    const retry: typeof pending = [];
    let lastError: unknown = null;
    const byLeader = new Map<number, typeof pending>();
    for (const q of pending) {
      const leader = cluster.leaderFor(q.topic, q.partition);
      if (leader < 0) {
        retry.push(q);
        continue;
      }
      let l = byLeader.get(leader);
      if (!l) {
        l = [];
        byLeader.set(leader, l);
      }
      l.push(q);
    }
    await Promise.all(
      [...byLeader].map(async ([leader, qs]) => {
        const topics = new Map<string, ListOffsetsRequest.ListOffsetsPartition[]>();
        for (const q of qs) {
          let l = topics.get(q.topic);
          if (!l) {
            l = [];
            topics.set(q.topic, l);
          }
          l.push({
            partitionIndex: q.partition,
            currentLeaderEpoch: -1,
            timestamp: q.timestamp,
            maxNumOffsets: 1,
          });
        }
        try {
          const resp = await cluster.send(
            leader,
            ListOffsetsApi,
            (v) => ({
              replicaId: -1,
              isolationLevel: options.isolationLevel ?? 0,
              timeoutMs: cluster.requestTimeoutMs,
              topics: [...topics].map(([name, partitions]) => ({
                name,
                partitions: partitions.map((p) => (v === 0 ? p : { ...p, maxNumOffsets: 1 })),
              })),
            }),
            { signal: options.signal },
          );
          for (const q of qs) {
            const p = resp.topics
              .find((t) => t.name === q.topic)
              ?.partitions.find((x) => x.partitionIndex === q.partition);
            if (!p) {
              retry.push(q);
              continue;
            }
            if (p.errorCode === ErrorCode.NONE) {
              out.set(tpKey(q), { offset: p.offset, timestamp: p.timestamp, leaderEpoch: p.leaderEpoch });
            } else {
              const err = new KafkaError(p.errorCode, `ListOffsets ${q.topic}-${q.partition}`);
              if (!err.retriable) throw err;
              lastError = err;
              retry.push(q);
            }
          }
        } catch (err) {
          if (!(err instanceof KafkaError) || !err.retriable) throw err;
          lastError = err;
          retry.push(...qs);
        }
      }),
    );
    if (retry.length === 0) return out;
    if (Date.now() >= deadline) {
      throw lastError ?? new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, 'ListOffsets: no leader');
    }
    pending = retry;
    await sleep(cluster.retryBackoffMs, options.signal);
    await cluster.refreshMetadata(options.signal).catch(() => {});
  }
}
