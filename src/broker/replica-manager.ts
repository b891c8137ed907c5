// ReplicaManager: the partitions this broker hosts and the produce/fetch paths through them.
// On a single node every partition's only replica is the leader here, so the high watermark is
// the log end offset once durable (see storage/partition-log.ts for the durability contract).
//
// It owns: the map topic-partition → Partition, appends (validation, offset assignment by the log,
// waiting for durability before the ack), reads for Fetch, offset lookups for ListOffsets, and the
// long-poll watchers that wake waiting fetches when a partition gets data.

import type { TopicLogConfig } from '../metadata/configs.js';
import { ErrorCode } from '../protocol/errors.js';
import { StorageError } from '../storage/errors.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { NodeTime } from '../util/clock.js';
import { PartitionWatchers } from './delayed-fetch.js';
import { type RecordError, validateRecords } from './log-validator.js';
import type { BrokerTopicStats } from './metrics.js';
import { recompress, targetCompression } from './recompress.js';

/** Batches larger than this once decompressed are refused (far above any max.message.bytes). */
const MAX_UNCOMPRESSED_BATCH_BYTES = 256 << 20;

export interface Partition {
  readonly topic: string;
  readonly topicId: string;
  readonly index: number;
  readonly leaderEpoch: number;
  readonly log: PartitionLog;
  /** The topic's effective config (topic override, broker config, default). */
  readonly config: () => TopicLogConfig;
}

export interface AppendResult {
  errorCode: number;
  errorMessage: string | null;
  recordErrors: RecordError[];
  baseOffset: bigint;
  logAppendTimeMs: bigint;
  logStartOffset: bigint;
  /** Resolves when the append is durable as the ack contract requires; rejects on a storage error. */
  durable: Promise<void>;
}

/** The Kafka error code for an error the storage layer raised (KAFKA_STORAGE_ERROR if unknown). */
export function storageErrorCode(err: unknown): number {
  if (err instanceof StorageError && err.kafkaError in ErrorCode) {
    return ErrorCode[err.kafkaError as keyof typeof ErrorCode];
  }
  return ErrorCode.KAFKA_STORAGE_ERROR;
}

export const partitionKey = (topic: string, index: number) => `${topic}-${index}`;

/**
 * KIP-890 part 1, the broker-side check of a transactional produce: is this partition part of the
 * producer's ongoing transaction (AddPartitionsToTxn happened first)? Answers a Kafka error code,
 * NONE when it is. Synchronous, so nothing (a timeout abort and its markers) can come between the
 * check and the append that follows it: a record can never land after its transaction's marker.
 */
export type TransactionVerifier = (
  transactionalId: string,
  producerId: bigint,
  producerEpoch: number,
  topic: string,
  partition: number,
) => number;

export interface ClientAppendOptions {
  /** The Produce request's transactional_id; its presence marks a client's append (checked). */
  transactionalId: string | null;
  /** Produce v0-2: the records are a magic 0/1 message set, converted up to one v2 batch. */
  legacyMagicAllowed?: boolean;
}

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly topicNames = new Map<string, string>(); // topic id -> name
  readonly watchers: PartitionWatchers;
  /** BrokerTopicMetrics of appends, set by the broker when it keeps metrics (broker/metrics.ts). */
  topicStats: BrokerTopicStats | null = null;
  /** Set by the broker once the transaction coordinator exists (transaction.partition.verification.enable). */
  transactionVerifier: TransactionVerifier | null = null;

  /** `time`: the node's clock and timers (append timestamps, delayed fetch time-outs). */
  constructor(readonly time: NodeTime) {
    this.watchers = new PartitionWatchers(time);
  }

  get(topic: string, index: number): Partition | undefined {
    return this.partitions.get(partitionKey(topic, index));
  }

  add(p: Partition): void {
    this.partitions.set(partitionKey(p.topic, p.index), p);
    this.topicNames.set(p.topicId, p.topic);
  }

  /** The name of a hosted topic by its id (Fetch v13+ names topics by id). */
  topicName(topicId: string): string | undefined {
    return this.topicNames.get(topicId);
  }

  remove(topic: string, index: number): Partition | undefined {
    const key = partitionKey(topic, index);
    const p = this.partitions.get(key);
    this.partitions.delete(key);
    if (p && ![...this.partitions.values()].some((q) => q.topicId === p.topicId))
      this.topicNames.delete(p.topicId);
    this.watchers.notify(key);
    return p;
  }

  all(): IterableIterator<Partition> {
    return this.partitions.values();
  }

  /**
   * Validates and appends one partition's records. The append itself happens now, synchronously,
   * so appends apply in request order; the returned promise is what an acks=1/-1 answer awaits.
   * `client` is given for a Produce: transactional batches then need a transactional id (else
   * TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as Kafka) and pass the transaction verifier. The
   * coordinators' own appends (transactional offset commits) leave it out.
   */
  append(p: Partition, records: Buffer | null, client?: ClientAppendOptions): AppendResult {
    const nowMs = this.time.now();
    const c = p.config();
    const v = validateRecords(records, {
      maxMessageBytes: c.maxMessageBytes,
      segmentBytes: c.segmentBytes,
      compacted: c.compact,
      timestampType: c.messageTimestampType,
      timestampBeforeMaxMs: c.messageTimestampBeforeMaxMs,
      timestampAfterMaxMs: c.messageTimestampAfterMaxMs,
      nowMs,
      maxUncompressedBytes: MAX_UNCOMPRESSED_BATCH_BYTES,
      legacyMagicAllowed: client?.legacyMagicAllowed === true,
    });
    if (v.ok && v.header.isTransactional && client) {
      const { transactionalId } = client;
      if (transactionalId === null) {
        return this.refused(
          p,
          ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
          'transactional records need a transactional id',
          [],
        );
      }
      const code =
        this.transactionVerifier?.(
          transactionalId,
          v.header.producerId,
          v.header.producerEpoch,
          p.topic,
          p.index,
        ) ?? ErrorCode.NONE;
      if (code !== ErrorCode.NONE) {
        return this.refused(p, code, `partition ${p.topic}-${p.index} is not in the transaction`, []);
      }
    }
    if (!v.ok) return this.refused(p, v.errorCode, v.errorMessage, v.recordErrors);
    let batch = v.batch;
    const target = targetCompression(c.compressionType);
    let info: ReturnType<PartitionLog['append']>;
    try {
      if (target !== null) {
        const levels = { gzip: c.compressionGzipLevel, zstd: c.compressionZstdLevel };
        batch = recompress(batch, v.header, target, levels, MAX_UNCOMPRESSED_BATCH_BYTES);
      }
      info = p.log.append(batch, {
        nowMs,
        timestampType: c.messageTimestampType,
        leaderEpoch: p.leaderEpoch,
      });
    } catch (err) {
      return this.refused(p, storageErrorCode(err), (err as Error).message, []);
    }
    this.topicStats?.produced(
      p.topic,
      info.duplicate ? 0 : Number(info.lastOffset - info.baseOffset) + 1,
      batch.length,
      false,
    );
    const key = partitionKey(p.topic, p.index);
    const durable = p.log.waitDurable(info.lastOffset).then(() => this.watchers.notify(key));
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      recordErrors: [],
      baseOffset: info.baseOffset,
      logAppendTimeMs: info.logAppendTimeMs,
      logStartOffset: info.logStartOffset,
      durable,
    };
  }

  private refused(
    p: Partition,
    errorCode: number,
    errorMessage: string,
    recordErrors: RecordError[],
  ): AppendResult {
    this.topicStats?.produced(p.topic, 0, 0, true);
    return {
      errorCode,
      errorMessage,
      recordErrors,
      baseOffset: -1n,
      logAppendTimeMs: -1n,
      logStartOffset: p.log.logStartOffset,
      durable: Promise.resolve(),
    };
  }
}
