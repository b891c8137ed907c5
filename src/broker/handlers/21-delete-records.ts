// DeleteRecords (key 21), versions 0-2 (none dropped by Kafka 4.0). Moves each partition's log
// start offset up to the requested offset (-1 means the high watermark) and answers the new low
// watermark, as Kafka's ReplicaManager.deleteRecords; segments wholly below it go at once.
//
// Errors as Kafka: UNKNOWN_TOPIC_OR_PARTITION for a partition the metadata does not have,
// INVALID_TOPIC_EXCEPTION for an internal topic, NOT_LEADER_OR_FOLLOWER for one not hosted here,
// KAFKA_STORAGE_ERROR for an offline log, POLICY_VIOLATION when cleanup.policy lacks "delete",
// OFFSET_OUT_OF_RANGE for an offset beyond the high watermark or negative (other than -1). An
// offset below the current log start is no error: nothing is deleted and the start is answered.
//
// Deliberately different from Kafka: the log-start-offset checkpoint is written before the answer
// (Kafka waits for its periodic task), so an acknowledged deletion survives a crash.
// Not done: timeout_ms (a single node has no followers whose low watermark to wait for); no
// authorizer, so no TOPIC_AUTHORIZATION_FAILED.

import { isInternalTopic } from '../../metadata/topic-name.js';
import { ErrorCode } from '../../protocol/errors.js';
import { DeleteRecordsRequest } from '../../protocol/generated/messages/DeleteRecordsRequest.js';
import { DeleteRecordsResponse } from '../../protocol/generated/messages/DeleteRecordsResponse.js';
import { defineHandler } from '../api-handler.js';
import { partitionKey, storageErrorCode } from '../replica-manager.js';
import type { BrokerServices } from '../services.js';

/** DeleteRecordsRequest.HIGH_WATERMARK: delete everything below the high watermark. */
const HIGH_WATERMARK = -1n;

type PartitionResult = DeleteRecordsResponse.DeleteRecordsPartitionResult;

const failed = (partitionIndex: number, errorCode: number): PartitionResult => ({
  partitionIndex,
  lowWatermark: -1n,
  errorCode,
});

export const deleteRecordsHandler = defineHandler<
  DeleteRecordsRequest,
  DeleteRecordsResponse,
  BrokerServices
>({
  apiKey: 21,
  minVersion: 0,
  maxVersion: 2,
  request: DeleteRecordsRequest,
  response: DeleteRecordsResponse,
  async handle(req, _ctx, { metadata, replicaManager, logManager }) {
    // One answer per partition; a partition named twice takes its last offset (Kafka keys a map).
    const byTopic = new Map<string, Map<number, bigint>>();
    for (const t of req.topics) {
      let parts = byTopic.get(t.name);
      if (!parts) {
        parts = new Map();
        byTopic.set(t.name, parts);
      }
      for (const p of t.partitions) parts.set(p.partitionIndex, p.offset);
    }

    const deleted: string[] = [];
    const deleteOne = async (topic: string, index: number, offset: bigint): Promise<PartitionResult> => {
      if (!metadata.image.partition(topic, index)) return failed(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      if (isInternalTopic(topic)) return failed(index, ErrorCode.INVALID_TOPIC_EXCEPTION);
      const partition = replicaManager.get(topic, index);
      if (!partition) return failed(index, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      const log = partition.log;
      if (log.offlineReason) return failed(index, ErrorCode.KAFKA_STORAGE_ERROR);
      if (!partition.config().delete) return failed(index, ErrorCode.POLICY_VIOLATION);
      const target = offset === HIGH_WATERMARK ? log.highWatermark : offset;
      if (target < 0n) return failed(index, ErrorCode.OFFSET_OUT_OF_RANGE);
      try {
        const before = log.logStartOffset;
        const lowWatermark = await log.deleteRecordsBefore(target);
        if (lowWatermark !== before) deleted.push(partitionKey(topic, index));
        return { partitionIndex: index, lowWatermark, errorCode: ErrorCode.NONE };
      } catch (err) {
        return failed(index, storageErrorCode(err));
      }
    };

    const topics = await Promise.all(
      [...byTopic].map(async ([name, parts]) => ({
        name,
        partitions: await Promise.all([...parts].map(([index, offset]) => deleteOne(name, index, offset))),
      })),
    );

    if (deleted.length > 0) {
      try {
        await logManager.checkpointLogStartOffsets();
      } catch {
        // The new log start is in effect but would not survive a crash: not acknowledged.
        for (const t of topics) {
          t.partitions = t.partitions.map((p) =>
            p.errorCode === ErrorCode.NONE ? failed(p.partitionIndex, ErrorCode.KAFKA_STORAGE_ERROR) : p,
          );
        }
      }
      // Long-polling fetches positioned below the new log start re-check (OFFSET_OUT_OF_RANGE).
      for (const key of deleted) replicaManager.watchers.notify(key);
    }
    return { throttleTimeMs: 0, topics };
  },
});
