// The transaction coordinator's log on this broker: the `__transaction_state` partitions, and the
// transaction markers it writes to the partitions of a transaction.
//
// `TransactionTopicStore.append` writes one transactional id's state record as a batch to its
// partition through the acks=all produce path and resolves once durable, so a state the coordinator
// acted on (PrepareCommit answered to a client) survives a crash. `loadTransactionTopic` replays
// the hosted partitions into the coordinator at start. `LocalTxnMarkerWriter` appends COMMIT/ABORT
// control batches to the partitions of a transaction; on a single node every partition's leader is
// here, so the coordinator's WriteTxnMarkers calls become local appends (Kafka's
// TransactionMarkerChannelManager sends them over the network to each leader).
//
// The topic is created on the first FindCoordinator for a transactional id (or InitProducerId):
// compacted, transaction.state.log.num.partitions partitions (metadata/controller.ts).

import type { GroupCoordinator } from '../coordinator/group/coordinator.js';
import {
  type TransactionCoordinator,
  type TransactionStore,
  TransactionStoreError,
  type TxnMarkerWriter,
  type WriteMarkersRequest,
  type WriteMarkersResult,
} from '../coordinator/transaction/coordinator.js';
import { GROUP_METADATA_TOPIC_NAME, TRANSACTION_STATE_TOPIC_NAME } from '../metadata/topic-name.js';
import { ErrorCode } from '../protocol/errors.js';
import { encodeRecordBatch } from '../protocol/records/index.js';
import type { Clock } from '../util/clock.js';
import { readInternalTopic } from './internal-topic.js';
import { partitionKey, type ReplicaManager, storageErrorCode } from './replica-manager.js';

export class TransactionTopicStore implements TransactionStore {
  constructor(
    private readonly replicaManager: ReplicaManager,
    private readonly time: Clock = replicaManager.time,
  ) {}

  /** Appends now (synchronously, so in call order) and resolves once durable (or at once). */
  append(
    partition: number,
    key: Buffer,
    value: Buffer | null,
    opts: { durable?: boolean } = {},
  ): Promise<void> {
    const p = this.replicaManager.get(TRANSACTION_STATE_TOPIC_NAME, partition);
    if (!p) {
      return Promise.reject(
        new TransactionStoreError(
          ErrorCode.NOT_COORDINATOR,
          `${TRANSACTION_STATE_TOPIC_NAME}-${partition} is not here`,
        ),
      );
    }
    const batch = encodeRecordBatch([{ key, value }], { defaultTimestamp: this.time.now() });
    const r = this.replicaManager.append(p, batch);
    if (r.errorCode !== ErrorCode.NONE) {
      return Promise.reject(
        new TransactionStoreError(
          r.errorCode,
          r.errorMessage ?? `append to ${TRANSACTION_STATE_TOPIC_NAME} failed`,
        ),
      );
    }
    const durable = r.durable.catch((err: unknown) => {
      throw new TransactionStoreError(storageErrorCode(err), (err as Error).message);
    });
    if (opts.durable === false) {
      // Nobody waits: a storage failure takes the log offline, which the next durable append reports.
      durable.catch(() => {});
      return Promise.resolve();
    }
    return durable;
  }
}

/**
 * Replays every hosted __transaction_state partition into the coordinator, in offset order.
 * Returns the number of records replayed. The caller starts the coordinator afterwards (which
 * completes transactions left in PrepareCommit/PrepareAbort by writing their markers).
 */
export async function loadTransactionTopic(
  coordinator: TransactionCoordinator,
  replicaManager: ReplicaManager,
  numPartitions: number,
): Promise<number> {
  let replayed = 0;
  await readInternalTopic(
    replicaManager,
    TRANSACTION_STATE_TOPIC_NAME,
    numPartitions,
    (partition, b, from) => {
      if (b.magic === 2 && b.header.isControl) return;
      for (const rec of b.records) {
        if (b.baseOffset + BigInt(rec.offsetDelta) < from || rec.key === null) continue;
        coordinator.replay(partition, rec.key, rec.value);
        replayed++;
      }
    },
  );
  return replayed;
}

/**
 * Writes transaction markers to partitions hosted here (WriteTxnMarkers, from the coordinator in
 * this process or from the WriteTxnMarkers API). Each marker is answered once durable. A marker
 * written to a __consumer_offsets partition then completes the transactional offset commits it
 * ends (Kafka's GroupCoordinator.onTransactionCompleted), so they become visible to OffsetFetch
 * only once the marker is on disk.
 */
export class LocalTxnMarkerWriter implements TxnMarkerWriter {
  constructor(
    private readonly replicaManager: ReplicaManager,
    private readonly groupCoordinator: () => GroupCoordinator | undefined,
    private readonly time: Clock = replicaManager.time,
  ) {}

  async writeMarkers(m: WriteMarkersRequest): Promise<WriteMarkersResult[]> {
    return Promise.all(
      m.partitions.map(async ({ topic, partition }): Promise<WriteMarkersResult> => {
        const answer = (errorCode: number) => ({ topic, partition, errorCode });
        const p = this.replicaManager.get(topic, partition);
        if (!p) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        try {
          const info = p.log.appendTxnMarker(
            {
              producerId: m.producerId,
              producerEpoch: m.producerEpoch,
              coordinatorEpoch: m.coordinatorEpoch,
              commit: m.commit,
            },
            this.time.now(),
          );
          await p.log.waitDurable(info.lastOffset);
        } catch (err) {
          return answer(storageErrorCode(err));
        }
        // The last stable offset may have moved: wake read_committed fetches waiting on it.
        this.replicaManager.watchers.notify(partitionKey(topic, partition));
        if (topic === GROUP_METADATA_TOPIC_NAME) {
          this.groupCoordinator()?.completeTransaction(partition, m.producerId, m.commit);
        }
        return answer(ErrorCode.NONE);
      }),
    );
  }
}
