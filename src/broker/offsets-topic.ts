// The group coordinator's log on this broker: the `__consumer_offsets` partitions.
//
// The coordinator (coordinator/group/) is a pure state machine; this module gives it storage.
// `OffsetsTopicStore.append` writes its records as one batch to a partition through the same path
// as an acks=all produce (validation, append, fsync per the ack contract), so a commit answered to a
// client survives a crash exactly as an acknowledged produce does. `loadOffsetsTopic` replays every
// hosted partition into the coordinator at start, before any request is served.
//
// Transactional offset commits (TxnOffsetCommit) are written alone, as a TRANSACTIONAL batch of the
// producer (producer id and epoch, base sequence 0, as Kafka's coordinator writes them), appended
// with the 'coordinator' origin: the partition's producer state checks the epoch (an older one is
// INVALID_PRODUCER_EPOCH) and opens the producer's transaction, but neither checks sequences nor
// looks for duplicates (coordinator batches repeat sequence 0). The transaction coordinator's
// COMMIT/ABORT marker later closes it (transaction-topic.ts LocalTxnMarkerWriter).
//
// The topic is created on first need, as Kafka does on the first FindCoordinator (or OffsetCommit)
// for a group: compacted, offsets.topic.num.partitions partitions (metadata/controller.ts).

import {
  type GroupCoordinator,
  type GroupStore,
  GroupStoreError,
  type OffsetsRecord,
  type TxnAppendOptions,
} from '../coordinator/group/coordinator.js';
import { GROUP_METADATA_TOPIC_NAME } from '../metadata/topic-name.js';
import { ErrorCode } from '../protocol/errors.js';
import { decodeEndTxnMarker } from '../protocol/records/control.js';
import { encodeRecordBatch } from '../protocol/records/index.js';
import type { KafkaRecord } from '../protocol/records/types.js';
import type { Clock } from '../util/clock.js';
import { readInternalTopic } from './internal-topic.js';
import { type Partition, partitionKey, type ReplicaManager, storageErrorCode } from './replica-manager.js';

/**
 * Appends that arrive in the same burst (the commits of every request in one network read) and
 * go to the same partition are written as one batch, with one validation, one log append and one
 * durable wait, as Kafka's coordinator runtime batches its writes. Order is kept: a burst is
 * appended before anything that comes after it. Appends larger than this go alone, so that one
 * oversized group record (MESSAGE_TOO_LARGE) fails only its own write.
 */
const COALESCE_MAX_BYTES = 256 * 1024;

interface Burst {
  records: OffsetsRecord[];
  bytes: number;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

export class OffsetsTopicStore implements GroupStore {
  private readonly bursts = new Map<number, Burst>();

  constructor(
    private readonly replicaManager: ReplicaManager,
    private readonly time: Clock = replicaManager.time,
  ) {}

  append(partition: number, records: OffsetsRecord[], txn?: TxnAppendOptions): Promise<void> {
    if (txn) {
      // Never coalesced: the batch carries the producer. Earlier appends of the partition go first.
      this.writeBurst(partition);
      return this.writeTxn(partition, records, txn);
    }
    let bytes = 0;
    for (const r of records) bytes += r.key.length + (r.value?.length ?? 0) + 16;
    let burst = this.bursts.get(partition);
    if (burst && burst.bytes + bytes > COALESCE_MAX_BYTES) {
      this.writeBurst(partition);
      burst = undefined;
    }
    if (bytes > COALESCE_MAX_BYTES) return this.write(partition, records);
    if (!burst) {
      burst = { records: [], bytes: 0, waiters: [] };
      this.bursts.set(partition, burst);
      queueMicrotask(() => this.writeBurst(partition));
    }
    for (const r of records) burst.records.push(r);
    burst.bytes += bytes;
    const b = burst;
    return new Promise<void>((resolve, reject) => b.waiters.push({ resolve, reject }));
  }

  private writeBurst(partition: number): void {
    const burst = this.bursts.get(partition);
    if (!burst) return;
    this.bursts.delete(partition);
    this.write(partition, burst.records).then(
      () => {
        for (const w of burst.waiters) w.resolve();
      },
      (err) => {
        for (const w of burst.waiters) w.reject(err);
      },
    );
  }

  /** Appends now (synchronously, so in call order) and resolves once durable. */
  private write(partition: number, records: OffsetsRecord[]): Promise<void> {
    const p = this.hosted(partition);
    if (!p) return notHere(partition);
    const batch = encodeRecordBatch(
      records.map((r) => ({ key: r.key, value: r.value })),
      { defaultTimestamp: this.time.now() },
    );
    const r = this.replicaManager.append(p, batch);
    if (r.errorCode !== ErrorCode.NONE) {
      return Promise.reject(
        new GroupStoreError(r.errorCode, r.errorMessage ?? `append to ${GROUP_METADATA_TOPIC_NAME} failed`),
      );
    }
    return r.durable.catch((err: unknown) => {
      throw new GroupStoreError(storageErrorCode(err), (err as Error).message);
    });
  }

  /**
   * Appends a transactional batch now (synchronously) and resolves once durable. It goes straight
   * to the log with the 'coordinator' origin, which ReplicaManager.append (the Produce path: client
   * origin, sequence and duplicate checks) does not offer; the batch is built here, so of that
   * path's validation only the size limit applies.
   */
  private writeTxn(partition: number, records: OffsetsRecord[], txn: TxnAppendOptions): Promise<void> {
    const p = this.hosted(partition);
    if (!p) return notHere(partition);
    const nowMs = this.time.now();
    const batch = encodeRecordBatch(
      records.map((r) => ({ key: r.key, value: r.value })),
      {
        defaultTimestamp: nowMs,
        producerId: txn.producerId,
        producerEpoch: txn.producerEpoch,
        baseSequence: 0,
        isTransactional: true,
      },
    );
    const c = p.config();
    if (batch.length > c.maxMessageBytes) {
      return Promise.reject(
        new GroupStoreError(
          ErrorCode.MESSAGE_TOO_LARGE,
          `transactional offset commit of ${batch.length} bytes is over max.message.bytes ${c.maxMessageBytes}`,
        ),
      );
    }
    let lastOffset: bigint;
    try {
      lastOffset = p.log.append(batch, {
        nowMs,
        timestampType: c.messageTimestampType,
        leaderEpoch: p.leaderEpoch,
        origin: 'coordinator',
      }).lastOffset;
    } catch (err) {
      return Promise.reject(new GroupStoreError(storageErrorCode(err), (err as Error).message));
    }
    return p.log.waitDurable(lastOffset).then(
      () => this.replicaManager.watchers.notify(partitionKey(p.topic, p.index)),
      (err: unknown) => {
        throw new GroupStoreError(storageErrorCode(err), (err as Error).message);
      },
    );
  }

  private hosted(partition: number): Partition | undefined {
    return this.replicaManager.get(GROUP_METADATA_TOPIC_NAME, partition);
  }
}

/** The partition is not hosted here (the topic is being created, or was deleted): the client looks again. */
function notHere(partition: number): Promise<never> {
  return Promise.reject(
    new GroupStoreError(ErrorCode.NOT_COORDINATOR, `${GROUP_METADATA_TOPIC_NAME}-${partition} is not here`),
  );
}

/**
 * Replays every hosted __consumer_offsets partition into the coordinator, in offset order, then
 * starts it. Records of transactional batches are replayed as pending under their producer id
 * (replayTxn); COMMIT/ABORT markers end them (replayMarker), in log order. Transactions without a
 * marker yet stay pending: the transaction coordinator completes them later. Other control
 * records are skipped. Returns the number of records replayed (markers not counted).
 */
export async function loadOffsetsTopic(
  coordinator: GroupCoordinator,
  replicaManager: ReplicaManager,
  numPartitions: number,
): Promise<number> {
  let replayed = 0;
  await readInternalTopic(replicaManager, GROUP_METADATA_TOPIC_NAME, numPartitions, (partition, b, from) => {
    if (b.magic === 2 && b.header.isControl) {
      replayControlBatch(coordinator, partition, b.header.producerId, b.records);
      return;
    }
    const txnProducer = b.magic === 2 && b.header.isTransactional ? b.header.producerId : null;
    for (const rec of b.records) {
      if (b.baseOffset + BigInt(rec.offsetDelta) < from || rec.key === null) continue;
      if (txnProducer === null) coordinator.replay(partition, rec.key, rec.value);
      else coordinator.replayTxn(partition, txnProducer, rec.key, rec.value);
      replayed++;
    }
  });
  coordinator.startup();
  return replayed;
}

/** A control batch: a COMMIT/ABORT marker ends the producer's transaction; anything else is skipped. */
function replayControlBatch(
  coordinator: GroupCoordinator,
  partition: number,
  producerId: bigint,
  records: readonly KafkaRecord[],
): void {
  // An empty control batch: the cleaner removed the marker once its transaction was gone.
  const rec = records[0];
  if (!rec) return;
  let marker: { commit: boolean };
  try {
    marker = decodeEndTxnMarker(rec);
  } catch {
    return; // not a transaction marker
  }
  coordinator.replayMarker(partition, producerId, marker.commit);
}
