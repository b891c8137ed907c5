// OffsetForLeaderEpoch (key 23), versions 2-4; 0-1 (removed by Kafka 4.0, KIP-896) with
// samsa.legacy.protocol.enable. For each
// partition: the end offset of the requested leader epoch, i.e. the start offset of the first
// later epoch in the log, with the largest epoch at or below the requested one (Kafka's
// LeaderEpochFileCache.endOffsetFor). Consumers use it after a leader change to detect log
// truncation (KIP-320); the answer does not depend on the replica id, as in Kafka.
//
// - current_leader_epoch (when not -1) is checked first: older than the partition's epoch →
//   FENCED_LEADER_EPOCH, newer → UNKNOWN_LEADER_EPOCH, with epoch -1 and end offset -1.
// - The requested epoch equal to the partition's current epoch → (epoch, log end offset).
// - An older epoch → (largest epoch <= it that has data, start of the next epoch); an epoch older
//   than every epoch in the log → (that epoch, start of the first epoch after it). With no later
//   epoch in the log, the next epoch is the current one, which starts at the log end offset.
// - An epoch newer than the current one, or -1 → (-1, -1) with no error.
//
// Approximation: there is no leader-epoch-checkpoint file yet. The epoch → start offset entries
// are derived from the partitionLeaderEpoch that the leader stamps into every batch it appends
// (ReplicaManager.append), plus the current epoch, which Kafka's cache gets on becoming leader.
// That gives Kafka's answers as long as every batch in the log was stamped by this broker as
// leader (epochs never decrease along the log); batches with epoch -1 are skipped. The lookup of
// an older epoch is a binary search over offsets: about log2(log length) single-batch reads.

import { ErrorCode } from '../../protocol/errors.js';
import { OffsetForLeaderEpochRequest } from '../../protocol/generated/messages/OffsetForLeaderEpochRequest.js';
import { OffsetForLeaderEpochResponse } from '../../protocol/generated/messages/OffsetForLeaderEpochResponse.js';
import { type BatchInfo, readBatchInfo } from '../../storage/batch-scan.js';
import { KafkaStorageError, OffsetOutOfRangeError } from '../../storage/errors.js';
import type { PartitionLog } from '../../storage/partition-log.js';
import { defineHandler } from '../api-handler.js';
import { storageErrorCode } from '../replica-manager.js';
import type { BrokerServices } from '../services.js';

const UNDEFINED_EPOCH = -1;
const UNDEFINED_EPOCH_OFFSET = -1n;

export interface EpochEndOffset {
  leaderEpoch: number;
  endOffset: bigint;
}

const UNDEFINED: EpochEndOffset = { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };

/** The header of the batch holding `offset` (or the first one after it) below `maxOffset`, or null. */
async function batchAtOrAfter(
  log: PartitionLog,
  offset: bigint,
  maxOffset: bigint,
): Promise<BatchInfo | null> {
  if (offset >= maxOffset) return null;
  const r = await log.read(offset, 1, { maxOffset, minOneBatch: true });
  if (r.records.length === 0) return null;
  const info = readBatchInfo(r.records[0], 0);
  if (typeof info === 'string') throw new KafkaStorageError(`${log.dir} at offset ${offset}: ${info}`);
  return info;
}

/**
 * Kafka's UnifiedLog.endOffsetForEpoch for a leader whose current epoch is `currentEpoch`, derived
 * from the epochs stamped in the log's batches (see the file header).
 */
export async function endOffsetForEpoch(
  log: PartitionLog,
  currentEpoch: number,
  requested: number,
): Promise<EpochEndOffset> {
  if (requested === UNDEFINED_EPOCH || requested > currentEpoch) return UNDEFINED;
  if (requested === currentEpoch) return { leaderEpoch: currentEpoch, endOffset: log.logEndOffset };
  // A log start moving under the lookup (retention, DeleteRecords) makes a read fail: start over.
  for (let attempt = 0; ; attempt++) {
    try {
      return await olderEpochEnd(log, requested);
    } catch (err) {
      if (!(err instanceof OffsetOutOfRangeError) || attempt >= 2) throw err;
    }
  }
}

async function olderEpochEnd(log: PartitionLog, requested: number): Promise<EpochEndOffset> {
  const start = log.logStartOffset;
  const end = log.logEndOffset;
  const batchAt = (o: bigint) => batchAtOrAfter(log, o, end);
  const isLater = (b: BatchInfo | null) => b === null || b.partitionLeaderEpoch > requested;
  // Epochs never decrease along the log, so "the batch holding offset o is of a later epoch" is
  // false, then true: binary search for the first such offset (the log end if there is none).
  let lo = start;
  let hi = end;
  while (lo < hi) {
    const mid = lo + (hi - lo) / 2n;
    if (isLater(await batchAt(mid))) hi = mid;
    else lo = mid + 1n;
  }
  const next = lo < end ? await batchAt(lo) : null;
  // The next epoch starts at its first batch (clamped to the log start, as Kafka's cache is after
  // truncateFromStart); with no later batch it is the current epoch, starting at the log end.
  const endOffset = next === null ? end : BigInt(Math.max(next.baseOffset, Number(start)));
  // The largest epoch at or below the requested one with data, if any: the batch just before.
  const prev = lo > start ? await batchAt(lo - 1n) : null;
  const floor =
    prev !== null && !isLater(prev) && prev.partitionLeaderEpoch >= 0 ? prev.partitionLeaderEpoch : -1;
  return { leaderEpoch: floor >= 0 ? floor : requested, endOffset };
}

type PartitionResult = OffsetForLeaderEpochResponse.EpochEndOffset;

const answer = (partition: number, errorCode: number, r: EpochEndOffset = UNDEFINED): PartitionResult => ({
  errorCode,
  partition,
  leaderEpoch: r.leaderEpoch,
  endOffset: r.endOffset,
});

export const offsetForLeaderEpochHandler = defineHandler<
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse,
  BrokerServices
>({
  apiKey: 23,
  minVersion: 2,
  maxVersion: 4,
  legacyMinVersion: 0,
  request: OffsetForLeaderEpochRequest,
  response: OffsetForLeaderEpochResponse,
  async handle(req, _ctx, { metadata, replicaManager }) {
    const topics = await Promise.all(
      req.topics.map(async (t) => ({
        topic: t.topic,
        partitions: await Promise.all(
          t.partitions.map(async (p): Promise<PartitionResult> => {
            const partition = replicaManager.get(t.topic, p.partition);
            if (!partition) {
              const known = metadata.image.partition(t.topic, p.partition) !== undefined;
              return answer(
                p.partition,
                known ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              );
            }
            if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch !== partition.leaderEpoch) {
              return answer(
                p.partition,
                p.currentLeaderEpoch > partition.leaderEpoch
                  ? ErrorCode.UNKNOWN_LEADER_EPOCH
                  : ErrorCode.FENCED_LEADER_EPOCH,
              );
            }
            if (partition.log.offlineReason) return answer(p.partition, ErrorCode.KAFKA_STORAGE_ERROR);
            try {
              const r = await endOffsetForEpoch(partition.log, partition.leaderEpoch, p.leaderEpoch);
              return answer(p.partition, ErrorCode.NONE, r);
            } catch (err) {
              return answer(p.partition, storageErrorCode(err));
            }
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
});
