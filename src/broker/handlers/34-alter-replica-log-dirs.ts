// AlterReplicaLogDirs (key 34), versions 1-2; v0 (removed by Kafka 4.0, KIP-896) with
// samsa.legacy.protocol.enable. Per partition, in
// the order of ReplicaManager.alterReplicaLogDirs (a partition named under several dirs: the last
// one counts, as Kafka's map):
// - a topic whose future-log directory name ("<topic>-<partition>.<32 hex>-future") would pass
//   255 bytes: INVALID_TOPIC_EXCEPTION;
// - a dir that is not one of log.dirs, compared as the exact absolute path (a relative or
//   unknown one): LOG_DIR_NOT_FOUND; a dir holding an offline log (Kafka takes the whole dir
//   offline on an I/O error): KAFKA_STORAGE_ERROR;
// - a partition not hosted here: REPLICA_NOT_AVAILABLE if the metadata knows it (Kafka's
//   NOT_LEADER_OR_FOLLOWER, kept as REPLICA_NOT_AVAILABLE for this API), else
//   UNKNOWN_TOPIC_OR_PARTITION; an offline hosted log: KAFKA_STORAGE_ERROR;
// - the dir the replica is already in: NONE (nothing to move, as Kafka).
// A move to another of the log.dirs: Samsa has no future replicas (Kafka copies the log into a
// "-future" log in the new dir while the current one keeps serving, then swaps them), so it
// cannot move the replica, and answers what Kafka answers when it cannot create the future log:
// KAFKA_STORAGE_ERROR, leaving the replica where it is (DescribeLogDirs shows where).
// Not done: no authorizer, so never CLUSTER_AUTHORIZATION_FAILED; Kafka also remembers the dir
// asked for a partition not created yet (its preferred log dir), which Samsa does not.

import { isAbsolute } from 'node:path';
import { ErrorCode } from '../../protocol/errors.js';
import { AlterReplicaLogDirsRequest } from '../../protocol/generated/messages/AlterReplicaLogDirsRequest.js';
import { AlterReplicaLogDirsResponse } from '../../protocol/generated/messages/AlterReplicaLogDirsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

/** Kafka's limit on a file name, checked against the future log's directory name. */
const MAX_DIR_NAME_BYTES = 255;
/** ".<uuid without dashes>-future", the suffix of a future log's directory name. */
const FUTURE_SUFFIX_BYTES = 1 + 32 + '-future'.length;

export const alterReplicaLogDirsHandler = defineHandler<
  AlterReplicaLogDirsRequest,
  AlterReplicaLogDirsResponse,
  BrokerServices
>({
  apiKey: 34,
  minVersion: 1,
  maxVersion: 2,
  legacyMinVersion: 0,
  request: AlterReplicaLogDirsRequest,
  response: AlterReplicaLogDirsResponse,
  handle(req, _ctx, { logManager, replicaManager, metadata }) {
    // topic → partition → requested dir; Map keeps the first-seen order, the last dir wins.
    const wanted = new Map<string, Map<number, string>>();
    for (const d of req.dirs) {
      for (const t of d.topics) {
        let parts = wanted.get(t.name);
        if (!parts) {
          parts = new Map();
          wanted.set(t.name, parts);
        }
        for (const p of t.partitions) parts.set(p, d.path);
      }
    }

    const offlineDirs = new Set<string>();
    for (const log of logManager.allLogs()) {
      if (log.offlineReason === null) continue;
      const { topic, partition } = log.topicPartition;
      const dir = logManager.logDirOf(topic, partition);
      if (dir !== undefined) offlineDirs.add(dir);
    }

    const errorFor = (topic: string, partition: number, dir: string): number => {
      const dirName = `${topic}-${partition}`;
      if (Buffer.byteLength(dirName) + FUTURE_SUFFIX_BYTES > MAX_DIR_NAME_BYTES) {
        return ErrorCode.INVALID_TOPIC_EXCEPTION;
      }
      if (!isAbsolute(dir) || !logManager.logDirs.includes(dir)) return ErrorCode.LOG_DIR_NOT_FOUND;
      if (offlineDirs.has(dir)) return ErrorCode.KAFKA_STORAGE_ERROR;
      const hosted = replicaManager.get(topic, partition);
      if (!hosted) {
        return metadata.image.partition(topic, partition)
          ? ErrorCode.REPLICA_NOT_AVAILABLE
          : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      }
      if (hosted.log.offlineReason !== null) return ErrorCode.KAFKA_STORAGE_ERROR;
      if (logManager.logDirOf(topic, partition) === dir) return ErrorCode.NONE;
      return ErrorCode.KAFKA_STORAGE_ERROR; // a move: no future replicas (see the header)
    };

    return {
      throttleTimeMs: 0,
      results: [...wanted].map(([topicName, parts]) => ({
        topicName,
        partitions: [...parts].map(([partitionIndex, dir]) => ({
          partitionIndex,
          errorCode: errorFor(topicName, partitionIndex, dir),
        })),
      })),
    };
  },
});
