// ListOffsets (key 2), versions 1-10 (Kafka 4.0 dropped v0's "old style offsets").
// Special timestamps: -1 latest (the high watermark; the last stable offset for read_committed),
// -2 earliest, -3 the record with the largest timestamp (v7+),
// -4 earliest local (v8+, the log start: no tiered storage yet), -5 latest tiered (v9+: none, so
// offset -1). A timestamp with no record at or after it answers offset -1, as Kafka does; with
// read_committed, so does one whose record is not below the last stable offset yet
// (Partition.fetchOffsetForTimestamp's lastFetchableOffset).

import { ErrorCode } from '../../protocol/errors.js';
import { ListOffsetsRequest } from '../../protocol/generated/messages/ListOffsetsRequest.js';
import { ListOffsetsResponse } from '../../protocol/generated/messages/ListOffsetsResponse.js';
import { defineHandler } from '../api-handler.js';
import { storageErrorCode } from '../replica-manager.js';
import type { BrokerServices } from '../services.js';

const LATEST_TIERED = -5n;
const READ_COMMITTED = 1;

type PartitionResponse = ListOffsetsResponse.ListOffsetsPartitionResponse;

const answer = (partitionIndex: number, errorCode: number, timestamp = -1n, offset = -1n, leaderEpoch = -1) =>
  ({
    partitionIndex,
    errorCode,
    oldStyleOffsets: [],
    timestamp,
    offset,
    leaderEpoch,
  }) satisfies PartitionResponse;

export const listOffsetsHandler = defineHandler<ListOffsetsRequest, ListOffsetsResponse, BrokerServices>({
  apiKey: 2,
  minVersion: 1,
  maxVersion: 10,
  request: ListOffsetsRequest,
  response: ListOffsetsResponse,
  async handle(req, ctx, { replicaManager }) {
    // Kafka answers INVALID_REQUEST for every entry of a partition listed more than once.
    const counts = new Map<string, number>();
    for (const t of req.topics)
      for (const p of t.partitions)
        counts.set(`${t.name}-${p.partitionIndex}`, (counts.get(`${t.name}-${p.partitionIndex}`) ?? 0) + 1);
    const topics = await Promise.all(
      req.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map(async (p): Promise<PartitionResponse> => {
            if (counts.get(`${t.name}-${p.partitionIndex}`)! > 1)
              return answer(p.partitionIndex, ErrorCode.INVALID_REQUEST);
            const partition = replicaManager.get(t.name, p.partitionIndex);
            if (!partition) return answer(p.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch !== partition.leaderEpoch) {
              const code =
                p.currentLeaderEpoch > partition.leaderEpoch
                  ? ErrorCode.UNKNOWN_LEADER_EPOCH
                  : ErrorCode.FENCED_LEADER_EPOCH;
              return answer(p.partitionIndex, code);
            }
            const ts = p.timestamp;
            if (ts === LATEST_TIERED && ctx.apiVersion >= 9) return answer(p.partitionIndex, ErrorCode.NONE);
            if (ts < -4n || (ts === -3n && ctx.apiVersion < 7) || (ts === -4n && ctx.apiVersion < 8)) {
              return answer(p.partitionIndex, ErrorCode.UNSUPPORTED_VERSION);
            }
            try {
              const found = await partition.log.offsetForTimestamp(ts);
              if (!found) return answer(p.partitionIndex, ErrorCode.NONE);
              let offset = found.offset;
              if (req.isolationLevel === READ_COMMITTED && ts !== -2n && ts !== -4n) {
                const lso = partition.log.lastStableOffset;
                if (ts === -1n) offset = lso;
                else if (offset >= lso) return answer(p.partitionIndex, ErrorCode.NONE);
              }
              const epoch =
                ts === -1n || ts === -2n || ts === -4n ? partition.leaderEpoch : found.leaderEpoch;
              // leader_epoch exists from v4; older versions must leave it at its default.
              return answer(
                p.partitionIndex,
                ErrorCode.NONE,
                found.timestamp,
                offset,
                ctx.apiVersion >= 4 ? epoch : -1,
              );
            } catch (err) {
              return answer(p.partitionIndex, storageErrorCode(err));
            }
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
});
