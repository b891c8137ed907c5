// ListOffsets (key 2), versions 1-10; v0 (removed by Kafka 4.0) with samsa.legacy.protocol.enable.
// v0 answers "old style offsets": up to max_num_offsets offsets, descending, from the segments'
// base offsets and the log end (Kafka 3.x's legacyFetchOffsetsBefore, see legacyOffsets).
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

/**
 * ListOffsets v0 (Kafka's UnifiedLog.legacyFetchOffsetsBefore and ReplicaManager's
 * legacyFetchOffsetsForTimestamp): the candidates are each segment's base offset (at least the
 * log start) with the segment's last modification time, then the log end offset with the time
 * now when the last segment is not empty. -1 (latest) starts from the last candidate, -2
 * (earliest) from the first, any other time from the last candidate modified at or before it;
 * from there up to max_num_offsets candidates going back, descending. A consumer is never told an
 * offset above the high watermark: that is replaced by the high watermark.
 */
export function legacyOffsets(
  segments: readonly { baseOffset: bigint; lastModifiedMs: number; size: number }[],
  logStartOffset: bigint,
  logEndOffset: bigint,
  highWatermark: bigint,
  timestamp: bigint,
  maxNumOffsets: number,
  nowMs: number,
): bigint[] {
  const candidates = segments.map((s) => ({
    offset: s.baseOffset > logStartOffset ? s.baseOffset : logStartOffset,
    time: s.lastModifiedMs,
  }));
  if (segments.length > 0 && segments[segments.length - 1].size > 0) {
    candidates.push({ offset: logEndOffset, time: nowMs });
  }
  let start: number;
  if (timestamp === -1n) start = candidates.length - 1;
  else if (timestamp === -2n) start = 0;
  else {
    start = candidates.length - 1;
    while (start >= 0 && BigInt(candidates[start].time) > timestamp) start--;
  }
  const offsets: bigint[] = [];
  for (let i = start; i >= 0 && offsets.length < maxNumOffsets; i--) offsets.push(candidates[i].offset);
  offsets.sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  if (offsets.some((o) => o > highWatermark)) {
    return [highWatermark, ...offsets.filter((o) => o <= highWatermark)];
  }
  return offsets;
}

export const listOffsetsHandler = defineHandler<ListOffsetsRequest, ListOffsetsResponse, BrokerServices>({
  apiKey: 2,
  minVersion: 1,
  maxVersion: 10,
  legacyMinVersion: 0,
  request: ListOffsetsRequest,
  response: ListOffsetsResponse,
  async handle(req, ctx, { replicaManager, time }) {
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
            if (ctx.apiVersion === 0) {
              const log = partition.log;
              const oldStyleOffsets = legacyOffsets(
                log.segmentSummaries(),
                log.logStartOffset,
                log.logEndOffset,
                log.highWatermark,
                ts,
                p.maxNumOffsets,
                time.now(),
              );
              return { ...answer(p.partitionIndex, ErrorCode.NONE), oldStyleOffsets };
            }
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
