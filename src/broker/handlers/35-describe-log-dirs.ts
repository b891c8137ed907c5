// DescribeLogDirs (key 35), versions 1-4; v0 (removed by Kafka 4.0, KIP-896) with
// samsa.legacy.protocol.enable. Every log dir of this
// broker (absolute path) with the requested partitions it holds (topics null: all of them), as
// Kafka's ReplicaManager.describeLogDirs: partition size in bytes (all segments), offset lag
// max(high watermark - log end offset, 0), i.e. 0 for a hosted partition and -1 for a log whose
// partition is not hosted, is_future_key false (no replica moves between dirs). Topics with none
// of the requested partitions in a dir are left out of it; unknown partitions are simply absent.
// total_bytes / usable_bytes (v4) come from statfs (Java's getTotalSpace / getUsableSpace).
//
// A dir holding a log that went offline after an I/O error answers KAFKA_STORAGE_ERROR with no
// topics, as Kafka, which takes the whole dir offline on such an error; so does a dir statfs
// cannot read. Not done: no authorizer, so never CLUSTER_AUTHORIZATION_FAILED; no future logs.

import { statfs } from 'node:fs/promises';
import { ErrorCode } from '../../protocol/errors.js';
import { DescribeLogDirsRequest } from '../../protocol/generated/messages/DescribeLogDirsRequest.js';
import { DescribeLogDirsResponse } from '../../protocol/generated/messages/DescribeLogDirsResponse.js';
import type { PartitionLog } from '../../storage/partition-log.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

type Result = DescribeLogDirsResponse.DescribeLogDirsResult;

/** Java's FileStore space figures, adjusted as Kafka does for file systems past Long.MAX_VALUE. */
async function space(dir: string): Promise<{ totalBytes: bigint; usableBytes: bigint }> {
  const s = await statfs(dir, { bigint: true });
  const clampLong = (v: bigint) => (v < 0n || v > 0x7fff_ffff_ffff_ffffn ? 0x7fff_ffff_ffff_ffffn : v);
  return { totalBytes: clampLong(s.blocks * s.bsize), usableBytes: clampLong(s.bavail * s.bsize) };
}

export const describeLogDirsHandler = defineHandler<
  DescribeLogDirsRequest,
  DescribeLogDirsResponse,
  BrokerServices
>({
  apiKey: 35,
  minVersion: 1,
  maxVersion: 4,
  legacyMinVersion: 0,
  request: DescribeLogDirsRequest,
  response: DescribeLogDirsResponse,
  async handle(req, _ctx, { logManager, replicaManager }) {
    let wanted: ((topic: string, partition: number) => boolean) | null = null;
    if (req.topics !== null) {
      const set = new Set<string>();
      for (const t of req.topics) for (const p of t.partitions) set.add(`${t.topic}\u0000${p}`);
      wanted = (topic, partition) => set.has(`${topic}\u0000${partition}`);
    }

    const logsByDir = new Map<string, PartitionLog[]>();
    for (const log of logManager.allLogs()) {
      const { topic, partition } = log.topicPartition;
      const dir = logManager.logDirOf(topic, partition);
      if (dir === undefined) continue;
      let logs = logsByDir.get(dir);
      if (!logs) {
        logs = [];
        logsByDir.set(dir, logs);
      }
      logs.push(log);
    }

    const results = await Promise.all(
      logManager.logDirs.map(async (logDir): Promise<Result> => {
        const logs = logsByDir.get(logDir) ?? [];
        const failed: Result = {
          errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
          logDir,
          topics: [],
          totalBytes: -1n,
          usableBytes: -1n,
        };
        if (logs.some((l) => l.offlineReason !== null)) return failed;
        let sizes: { totalBytes: bigint; usableBytes: bigint };
        try {
          sizes = await space(logDir);
        } catch {
          return failed;
        }
        const topics = new Map<string, DescribeLogDirsResponse.DescribeLogDirsPartition[]>();
        for (const log of logs) {
          const { topic, partition } = log.topicPartition;
          if (wanted && !wanted(topic, partition)) continue;
          let parts = topics.get(topic);
          if (!parts) {
            parts = [];
            topics.set(topic, parts);
          }
          const hosted = replicaManager.get(topic, partition)?.log === log;
          const lag = log.highWatermark - log.logEndOffset;
          parts.push({
            partitionIndex: partition,
            partitionSize: BigInt(log.size),
            offsetLag: hosted ? (lag > 0n ? lag : 0n) : -1n,
            isFutureKey: false,
          });
        }
        return {
          errorCode: ErrorCode.NONE,
          logDir,
          topics: [...topics]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([name, partitions]) => ({
              name,
              partitions: partitions.sort((a, b) => a.partitionIndex - b.partitionIndex),
            })),
          ...sizes,
        };
      }),
    );
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results };
  },
});
