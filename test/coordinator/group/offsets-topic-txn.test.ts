// OffsetsTopicStore's transactional appends on a real PartitionLog behind a ReplicaManager: the
// batch carries the producer and the transactional flag, is never merged with other writes, opens
// the producer's transaction in the partition's producer state, repeats (same epoch) are all
// appended, a stale epoch is INVALID_PRODUCER_EPOCH; loadOffsetsTopic replays the records and the
// markers in log order and leaves still-open transactions pending.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadOffsetsTopic, OffsetsTopicStore } from '../../../src/broker/offsets-topic.js';
import { ReplicaManager } from '../../../src/broker/replica-manager.js';
import { GroupCoordinator } from '../../../src/coordinator/group/index.js';
import type { TopicLogConfig } from '../../../src/metadata/configs.js';
import { GROUP_METADATA_TOPIC_NAME } from '../../../src/metadata/topic-name.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { OffsetFetchRequest } from '../../../src/protocol/generated/messages/OffsetFetchRequest.js';
import { TxnOffsetCommitRequest } from '../../../src/protocol/generated/messages/TxnOffsetCommitRequest.js';
import { encodeEndTxnMarkerBatch } from '../../../src/protocol/records/control.js';
import { decodeRecordSet } from '../../../src/protocol/records/index.js';
import { concatRecords, makeLogConfig, PartitionLog } from '../../../src/storage/index.js';
import { SimulatedTime, SYSTEM_TIME } from '../../../src/util/clock.js';
import { DEFAULT_CONFIG } from './helpers.js';

vi.setConfig({ testTimeout: 20000 });

const P1 = 1000n;
const P2 = 2000n;

/** What ReplicaManager.append and the transactional write read of the topic's config. */
const TOPIC_CONFIG = {
  maxMessageBytes: 1048588,
  segmentBytes: 1 << 30,
  compact: true,
  messageTimestampType: 'CreateTime',
  messageTimestampBeforeMaxMs: Number.MAX_SAFE_INTEGER,
  messageTimestampAfterMaxMs: Number.MAX_SAFE_INTEGER,
  compressionType: 'producer',
  compressionGzipLevel: -1,
  compressionZstdLevel: 3,
} as unknown as TopicLogConfig;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function offsetsPartition(): Promise<{ log: PartitionLog; replicaManager: ReplicaManager }> {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-offsets-txn-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const log = await PartitionLog.open({
    dir,
    topicPartition: { topic: GROUP_METADATA_TOPIC_NAME, partition: 0 },
    config: makeLogConfig({}),
  });
  cleanups.push(() => log.close());
  const replicaManager = new ReplicaManager(SYSTEM_TIME);
  replicaManager.add({
    topic: GROUP_METADATA_TOPIC_NAME,
    topicId: 'offsets-topic-id',
    index: 0,
    leaderEpoch: 0,
    log,
    config: () => TOPIC_CONFIG,
  });
  return { log, replicaManager };
}

function coordinatorOn(replicaManager: ReplicaManager): GroupCoordinator {
  return new GroupCoordinator({
    config: { ...DEFAULT_CONFIG, numPartitions: 1 },
    time: new SimulatedTime(),
    store: new OffsetsTopicStore(replicaManager),
    topics: { partitionExists: (topic, partition) => (topic === 't' || topic === 'u') && partition < 3 },
  });
}

function txnCommit(
  c: GroupCoordinator,
  producerId: bigint,
  producerEpoch: number,
  topic: string,
  partition: number,
  offset: bigint,
) {
  return c
    .txnCommitOffsets(
      {
        ...TxnOffsetCommitRequest.default(),
        transactionalId: `txn-${producerId}`,
        groupId: 'g',
        producerId,
        producerEpoch,
        topics: [
          {
            name: topic,
            partitions: [
              {
                partitionIndex: partition,
                committedOffset: offset,
                committedLeaderEpoch: -1,
                committedMetadata: '',
              },
            ],
          },
        ],
      },
      3,
    )
    .then((r) => r.topics[0].partitions[0].errorCode);
}

function commit(c: GroupCoordinator, topic: string, partition: number, offset: bigint) {
  return c
    .commitOffsets(
      {
        groupId: 'g',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [
          {
            name: topic,
            partitions: [
              {
                partitionIndex: partition,
                committedOffset: offset,
                committedLeaderEpoch: -1,
                commitTimestamp: -1n,
                committedMetadata: '',
              },
            ],
          },
        ],
      },
      8,
    )
    .then((r) => r.topics[0].partitions[0].errorCode);
}

async function fetchOne(c: GroupCoordinator, topic: string, partition: number, requireStable: boolean) {
  const resp = await c.fetchOffsets(
    {
      ...OffsetFetchRequest.default(),
      groupId: 'g',
      topics: [{ name: topic, partitionIndexes: [partition] }],
      requireStable,
    },
    7,
  );
  const p = resp.topics[0].partitions[0];
  return { offset: p.committedOffset, errorCode: p.errorCode };
}

async function readBatches(log: PartitionLog) {
  const read = await log.read(0n, 1 << 20);
  return decodeRecordSet(concatRecords(read), { maxUncompressedBytes: 1 << 20 }).batches;
}

/** A COMMIT/ABORT marker at the log end, written as a replica would copy it (no producer checks). */
async function writeMarker(log: PartitionLog, producerId: bigint, producerEpoch: number, commit: boolean) {
  const info = log.appendAsFollower(
    encodeEndTxnMarkerBatch({
      commit,
      producerId,
      producerEpoch,
      coordinatorEpoch: 0,
      timestamp: Date.now(),
      baseOffset: log.logEndOffset,
    }),
  );
  await log.waitDurable(info.lastOffset);
}

describe('OffsetsTopicStore transactional append', () => {
  it('writes transactional batches apart, opens the transaction, and replays them with their markers', async () => {
    const { log, replicaManager } = await offsetsPartition();
    const c = coordinatorOn(replicaManager);
    c.startup();

    // A plain commit and a transactional one issued in the same burst: two batches, in order.
    const [plain, txn] = await Promise.all([commit(c, 't', 0, 1n), txnCommit(c, P1, 0, 't', 0, 10n)]);
    expect([plain, txn]).toEqual([ErrorCode.NONE, ErrorCode.NONE]);
    // A second commit of the same producer and epoch (coordinator batches all start at sequence 0):
    // appended, neither a duplicate nor out of order.
    expect(await txnCommit(c, P1, 0, 't', 1, 11n)).toBe(ErrorCode.NONE);
    // Another producer at epoch 5, then a zombie of it at epoch 4.
    expect(await txnCommit(c, P2, 5, 'u', 0, 20n)).toBe(ErrorCode.NONE);
    expect(await txnCommit(c, P2, 4, 'u', 0, 21n)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);

    const batches = await readBatches(log);
    expect(
      batches.map((b) => [
        b.magic === 2 ? b.header.isTransactional : null,
        b.magic === 2 ? b.header.producerId : null,
        b.magic === 2 ? b.header.producerEpoch : null,
        b.records.length,
      ]),
    ).toEqual([
      [false, -1n, -1, 1],
      [true, P1, 0, 1],
      [true, P1, 0, 1],
      [true, P2, 5, 1],
    ]);
    expect(log.producerState.entry(P1)?.currentTxnFirstOffset).toBe(1);
    expect(log.producerState.entry(P2)?.currentTxnFirstOffset).toBe(3);
    expect(await fetchOne(c, 't', 0, true)).toEqual({
      offset: -1n,
      errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
    });

    // P1 commits: the marker is durable, then the coordinator is told (the broker's marker writer).
    await writeMarker(log, P1, 0, true);
    c.completeTransaction(0, P1, true);
    expect(await fetchOne(c, 't', 0, true)).toEqual({ offset: 10n, errorCode: ErrorCode.NONE });
    expect(await fetchOne(c, 't', 1, false)).toEqual({ offset: 11n, errorCode: ErrorCode.NONE });
    c.shutdown();

    // A new coordinator loaded from the log: P1's offsets committed, P2's transaction still open.
    const loaded = coordinatorOn(replicaManager);
    const replayed = await loadOffsetsTopic(loaded, replicaManager, 1);
    expect(replayed).toBe(4);
    expect(await fetchOne(loaded, 't', 0, true)).toEqual({ offset: 10n, errorCode: ErrorCode.NONE });
    expect(await fetchOne(loaded, 't', 1, true)).toEqual({ offset: 11n, errorCode: ErrorCode.NONE });
    expect(await fetchOne(loaded, 'u', 0, true)).toEqual({
      offset: -1n,
      errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
    });
    await writeMarker(log, P2, 5, false);
    loaded.completeTransaction(0, P2, false);
    expect(await fetchOne(loaded, 'u', 0, true)).toEqual({ offset: -1n, errorCode: ErrorCode.NONE });
    loaded.shutdown();

    // And once more, with the abort marker in the log.
    const again = coordinatorOn(replicaManager);
    await loadOffsetsTopic(again, replicaManager, 1);
    expect(await fetchOne(again, 'u', 0, true)).toEqual({ offset: -1n, errorCode: ErrorCode.NONE });
    expect(await fetchOne(again, 't', 0, false)).toEqual({ offset: 10n, errorCode: ErrorCode.NONE });
    again.shutdown();
  });

  it('a transactional commit over max.message.bytes fails alone with UNKNOWN_SERVER_ERROR', async () => {
    const { replicaManager } = await offsetsPartition();
    const c = new GroupCoordinator({
      config: { ...DEFAULT_CONFIG, numPartitions: 1, offsetMetadataMaxBytes: 30000 },
      time: new SimulatedTime(),
      store: new OffsetsTopicStore(replicaManager),
      topics: { partitionExists: () => true },
    });
    c.startup();
    const resp = await c.txnCommitOffsets(
      {
        ...TxnOffsetCommitRequest.default(),
        transactionalId: 'txn',
        groupId: 'g',
        producerId: P1,
        producerEpoch: 0,
        topics: [
          {
            name: 't',
            // 40 x 30000 bytes of metadata: one batch over 1048588 bytes.
            partitions: Array.from({ length: 40 }, (_, i) => ({
              partitionIndex: i,
              committedOffset: 1n,
              committedLeaderEpoch: -1,
              committedMetadata: 'x'.repeat(30000),
            })),
          },
        ],
      },
      3,
    );
    expect(new Set(resp.topics[0].partitions.map((p) => p.errorCode))).toEqual(
      new Set([ErrorCode.UNKNOWN_SERVER_ERROR]),
    );
    expect(c.hasPendingTxnOffsets('g', 't', 0)).toBe(false);
    c.shutdown();
  });
});
