// The group coordinator's log on this broker: the `__consumer_offsets` partitions.
//
// The coordinator (coordinator/group/) is a pure state machine; this module gives it storage.
// `OffsetsTopicStore.append` writes its records as one batch to a partition through the same path
// as an acks=all produce (validation, append, fsync per the ack contract), so a commit answered to a
// client survives a crash exactly as an acknowledged produce does. `loadOffsetsTopic` replays every
// hosted partition into the coordinator at start, before any request is served.
//
// The topic is created on first need, as Kafka does on the first FindCoordinator (or OffsetCommit)
// for a group: compacted, offsets.topic.num.partitions partitions (metadata/controller.ts).

import {
  type GroupCoordinator,
  type GroupStore,
  GroupStoreError,
  type OffsetsRecord,
} from '../coordinator/group/coordinator.js';
import { GROUP_METADATA_TOPIC_NAME } from '../metadata/topic-name.js';
import { ErrorCode } from '../protocol/errors.js';
import { decodeRecordSet, encodeRecordBatch } from '../protocol/records/index.js';
import { concatRecords } from '../storage/partition-log.js';
import { type ReplicaManager, storageErrorCode } from './replica-manager.js';

/** Read size while loading; a batch bigger than this is still read whole (minOneBatch). */
const LOAD_READ_BYTES = 5 << 20;
/** Decompressed size cap while loading; far above offsets.topic's max.message.bytes. */
const LOAD_MAX_UNCOMPRESSED_BYTES = 256 << 20;

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
    private readonly now: () => number = Date.now,
  ) {}

  append(partition: number, records: OffsetsRecord[]): Promise<void> {
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
    const p = this.replicaManager.get(GROUP_METADATA_TOPIC_NAME, partition);
    if (!p) {
      // Not hosted here (the topic is being created, or was deleted): the client looks again.
      return Promise.reject(
        new GroupStoreError(
          ErrorCode.NOT_COORDINATOR,
          `${GROUP_METADATA_TOPIC_NAME}-${partition} is not here`,
        ),
      );
    }
    const batch = encodeRecordBatch(
      records.map((r) => ({ key: r.key, value: r.value })),
      { defaultTimestamp: this.now() },
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
}

/**
 * Replays every hosted __consumer_offsets partition into the coordinator, in offset order, then
 * starts it. Control batches (transaction markers) carry no group state and are skipped.
 * Returns the number of records replayed.
 */
export async function loadOffsetsTopic(
  coordinator: GroupCoordinator,
  replicaManager: ReplicaManager,
  numPartitions: number,
): Promise<number> {
  let replayed = 0;
  for (let partition = 0; partition < numPartitions; partition++) {
    const p = replicaManager.get(GROUP_METADATA_TOPIC_NAME, partition);
    if (!p) continue;
    let offset = p.log.logStartOffset;
    const end = p.log.highWatermark;
    while (offset < end) {
      const read = await p.log.read(offset, LOAD_READ_BYTES);
      if (read.sizeInBytes === 0) break;
      const { batches } = decodeRecordSet(concatRecords(read), {
        maxUncompressedBytes: LOAD_MAX_UNCOMPRESSED_BYTES,
      });
      if (batches.length === 0) break;
      for (const b of batches) {
        if (b.lastOffset < offset) continue;
        if (b.magic !== 2 || !b.header.isControl) {
          for (const rec of b.records) {
            if (b.baseOffset + BigInt(rec.offsetDelta) < offset || rec.key === null) continue;
            coordinator.replay(partition, rec.key, rec.value);
            replayed++;
          }
        }
        offset = b.lastOffset + 1n;
      }
    }
  }
  coordinator.startup();
  return replayed;
}
