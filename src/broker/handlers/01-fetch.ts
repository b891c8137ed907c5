// Fetch (key 1), versions 4-17; 0-3 (removed by Kafka 4.0) with samsa.legacy.protocol.enable.
// Consumers only for now: a fetch from a replica (replica id >= 0) is refused until replication
// exists.
//
// - Fetch v0-3 (no sessions, no isolation: read_uncommitted) gets the stored v2 batches converted
//   down to magic 0 (v0/v1) or magic 1 (v2/v3) message sets (broker/down-conversion.ts, Kafka's
//   LazyDownConversionRecords); a partition holding zstd batches answers
//   UNSUPPORTED_COMPRESSION_TYPE, and one whose message.downconversion.enable is false
//   UNSUPPORTED_VERSION, as in Kafka 3.x.
// - Incremental fetch sessions (KIP-227) through FetchSessionCache; topics by name before v13,
//   by id from v13 (UNKNOWN_TOPIC_ID).
// - Reads return whole batches: a fetch offset inside a batch returns that batch; at least one
//   batch is returned even past max_bytes for the first partition with data (KIP-74).
// - Long poll: fewer than min_bytes waits up to max_wait_ms for the partitions read to grow by
//   the missing bytes (counted as the logs' growth, which counts a batch when it is appended,
//   a little before it is durable and readable; the re-read then returns what is readable).
// - read_committed (isolation_level 1) reads only below the last stable offset, and lists the
//   aborted transactions that overlap what it returns (from the logs' .txnindex), so the client
//   drops their records (Kafka's FetchIsolation.TXN_COMMITTED and collectAbortedTransactions).

import { ErrorCode } from '../../protocol/errors.js';
import { FetchRequest } from '../../protocol/generated/messages/FetchRequest.js';
import { FetchResponse } from '../../protocol/generated/messages/FetchResponse.js';
import { EMPTY_BYTES, ZERO_UUID } from '../../protocol/message.js';
import { OffsetOutOfRangeError } from '../../storage/errors.js';
import { concatRecords } from '../../storage/partition-log.js';
import { defineHandler } from '../api-handler.js';
import { downConvertRead, fetchMagic } from '../down-conversion.js';
import type { SessionPartition } from '../fetch-session.js';
import { partitionKey, storageErrorCode } from '../replica-manager.js';
import type { BrokerServices } from '../services.js';

const READ_COMMITTED = 1;

/** Cap on one down-converted batch's decompressed records (as the log validator's). */
const MAX_UNCOMPRESSED_BATCH_BYTES = 256 << 20;

interface Outcome {
  p: SessionPartition;
  data: FetchResponse.PartitionData;
}

function emptyPartition(index: number, errorCode: number): FetchResponse.PartitionData {
  return {
    partitionIndex: index,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: EMPTY_BYTES,
  };
}

export const fetchHandler = defineHandler<FetchRequest, FetchResponse, BrokerServices>({
  apiKey: 1,
  minVersion: 4,
  maxVersion: 17,
  legacyMinVersion: 0,
  request: FetchRequest,
  response: FetchResponse,
  async handle(req, ctx, { replicaManager, fetchSessions, metrics }) {
    const byId = ctx.apiVersion >= 13;
    const response = (
      errorCode: number,
      sessionId: number,
      responses: FetchResponse.FetchableTopicResponse[],
    ) => ({
      throttleTimeMs: 0,
      errorCode,
      sessionId,
      responses,
      nodeEndpoints: [],
    });
    const replicaId = ctx.apiVersion >= 15 ? req.replicaState.replicaId : req.replicaId;
    if (replicaId >= 0) return response(ErrorCode.NOT_LEADER_OR_FOLLOWER, 0, []);

    const session = fetchSessions.begin({
      sessionId: req.sessionId,
      sessionEpoch: req.sessionEpoch,
      partitions: req.topics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: byId ? t.topicId : t.topic,
          partition: p.partition,
          fetchOffset: p.fetchOffset,
          partitionMaxBytes: p.partitionMaxBytes,
          logStartOffset: p.logStartOffset,
          currentLeaderEpoch: p.currentLeaderEpoch,
        })),
      ),
      forgotten: req.forgottenTopicsData.map((f) => ({
        topic: byId ? f.topicId : f.topic,
        partitions: f.partitions,
      })),
    });
    if (session.errorCode !== ErrorCode.NONE) return response(session.errorCode, 0, []);

    const readCommitted = req.isolationLevel === READ_COMMITTED;
    const toMagic = fetchMagic(ctx.apiVersion);
    const resolve = (p: SessionPartition) => {
      const name = byId ? replicaManager.topicName(p.topic) : p.topic;
      return name === undefined ? undefined : replicaManager.get(name, p.partition);
    };

    const readAll = async (): Promise<{ outcomes: Outcome[]; bytes: number }> => {
      let budget = req.maxBytes;
      let bytes = 0;
      const outcomes: Outcome[] = [];
      for (const sp of session.partitions) {
        const partition = resolve(sp);
        if (!partition) {
          const code = byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          outcomes.push({ p: sp, data: emptyPartition(sp.partition, code) });
          continue;
        }
        const log = partition.log;
        const base = {
          ...emptyPartition(sp.partition, ErrorCode.NONE),
          highWatermark: log.highWatermark,
          lastStableOffset: log.lastStableOffset,
          logStartOffset: log.logStartOffset,
          abortedTransactions: readCommitted ? [] : null,
        };
        if (sp.currentLeaderEpoch >= 0 && sp.currentLeaderEpoch !== partition.leaderEpoch) {
          const code =
            sp.currentLeaderEpoch > partition.leaderEpoch
              ? ErrorCode.UNKNOWN_LEADER_EPOCH
              : ErrorCode.FENCED_LEADER_EPOCH;
          outcomes.push({ p: sp, data: { ...base, errorCode: code } });
          continue;
        }
        try {
          const max = Math.max(0, Math.min(sp.partitionMaxBytes, budget));
          const result = await log.read(sp.fetchOffset, max, {
            minOneBatch: bytes === 0,
            isolation: readCommitted ? 'read_committed' : 'read_uncommitted',
          });
          let records: Buffer;
          if (toMagic === null) {
            records = concatRecords(result);
          } else {
            if (partition.config().values.get('message.downconversion.enable') === false) {
              outcomes.push({ p: sp, data: { ...base, errorCode: ErrorCode.UNSUPPORTED_VERSION } });
              continue;
            }
            const converted = downConvertRead(
              result.records,
              toMagic,
              sp.fetchOffset,
              MAX_UNCOMPRESSED_BATCH_BYTES,
            );
            if (!converted.ok) {
              outcomes.push({ p: sp, data: { ...base, errorCode: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE } });
              continue;
            }
            records = converted.records;
          }
          bytes += records.length;
          budget -= records.length;
          outcomes.push({
            p: sp,
            data: {
              ...base,
              highWatermark: result.highWatermark,
              lastStableOffset: result.lastStableOffset,
              logStartOffset: result.logStartOffset,
              abortedTransactions: readCommitted ? (result.abortedTransactions ?? []) : null,
              records,
            },
          });
        } catch (err) {
          const code =
            err instanceof OffsetOutOfRangeError ? ErrorCode.OFFSET_OUT_OF_RANGE : storageErrorCode(err);
          outcomes.push({ p: sp, data: { ...base, errorCode: code } });
        }
      }
      return { outcomes, bytes };
    };

    // What is readable now, taken before the first read so that no append acknowledged while
    // the read runs can slip between the read and the wait (that fetch would sleep max_wait_ms).
    const watched = session.partitions.flatMap((sp) => {
      const partition = resolve(sp);
      if (!partition) return [];
      const { log } = partition;
      return [
        {
          key: partitionKey(partition.topic, partition.index),
          log,
          readable: log.bytesBelowHighWatermark,
          lastStable: log.lastStableOffset,
        },
      ];
    });
    let { outcomes, bytes } = await readAll();
    const hasError = outcomes.some((o) => o.data.errorCode !== ErrorCode.NONE);
    if (bytes < req.minBytes && req.maxWaitMs > 0 && !hasError && session.partitions.length > 0) {
      // The wait ends once what was read plus the bytes that became readable since reaches
      // min_bytes (read_committed: only once the last stable offset moved), or at max_wait_ms.
      // Bytes made readable during the first read are counted twice: an early answer, never a
      // missed one.
      const ready = () =>
        watched.reduce((sum, w) => {
          if (readCommitted && w.log.lastStableOffset === w.lastStable) return sum;
          return sum + (w.log.bytesBelowHighWatermark - w.readable);
        }, bytes) >= req.minBytes;
      const keys = watched.map((w) => w.key);
      if (await replicaManager.watchers.waitFor(keys, ready, req.maxWaitMs))
        ({ outcomes, bytes } = await readAll());
    }

    const topics = new Map<string, FetchResponse.FetchableTopicResponse>();
    for (const o of outcomes) {
      const included = session.include(o.p, {
        errorCode: o.data.errorCode,
        highWatermark: o.data.highWatermark,
        lastStableOffset: o.data.lastStableOffset,
        logStartOffset: o.data.logStartOffset,
        hasRecords: (o.data.records?.length ?? 0) > 0,
      });
      if (!included) continue;
      metrics?.topics.fetched(
        byId ? replicaManager.topicName(o.p.topic) : o.p.topic,
        o.data.errorCode,
        o.data.records,
      );
      let t = topics.get(o.p.topic);
      if (!t) {
        t = {
          topic: byId ? '' : o.p.topic,
          topicId: byId ? o.p.topic : (replicaManager.get(o.p.topic, o.p.partition)?.topicId ?? ZERO_UUID),
          partitions: [],
        };
        topics.set(o.p.topic, t);
      }
      t.partitions.push(o.data);
    }
    return response(ErrorCode.NONE, session.sessionId, [...topics.values()]);
  },
});
