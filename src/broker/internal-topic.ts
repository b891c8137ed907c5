// Reading a coordinator's internal topic (__consumer_offsets, __transaction_state) from its start
// to its high watermark at broker start, before requests are served: the coordinators rebuild
// their state from it. Each decoded batch is handed over in offset order; records below the
// offset reached (a batch read again at a read boundary) are the visitor's to skip with `from`.

import type { DecodedBatch } from '../protocol/records/index.js';
import { decodeRecordSet } from '../protocol/records/index.js';
import { concatRecords } from '../storage/partition-log.js';
import type { ReplicaManager } from './replica-manager.js';

/** Read size while loading; a batch bigger than this is still read whole (minOneBatch). */
const LOAD_READ_BYTES = 5 << 20;
/** Decompressed size cap while loading; far above the topics' max.message.bytes. */
const LOAD_MAX_UNCOMPRESSED_BYTES = 256 << 20;

/**
 * Calls `visit(partition, batch, from)` for every batch of every hosted partition of `topic`, in
 * offset order; `from` is the first offset not visited yet (records below it were).
 */
export async function readInternalTopic(
  replicaManager: ReplicaManager,
  topic: string,
  numPartitions: number,
  visit: (partition: number, batch: DecodedBatch, from: bigint) => void,
): Promise<void> {
  for (let partition = 0; partition < numPartitions; partition++) {
    const p = replicaManager.get(topic, partition);
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
        visit(partition, b, offset);
        offset = b.lastOffset + 1n;
      }
    }
  }
}
