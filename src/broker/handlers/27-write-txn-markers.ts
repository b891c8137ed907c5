// WriteTxnMarkers (key 27), versions 0-1: a transaction coordinator asks this broker, the leader
// of the partitions, to write COMMIT/ABORT control batches. On a single node Samsa's own
// coordinator writes its markers in-process through the same writer (broker/transaction-topic.ts);
// this API serves coordinators elsewhere (and tests). Each partition is answered once its marker
// is durable; a partition not hosted here gets UNKNOWN_TOPIC_OR_PARTITION.

import { WriteTxnMarkersRequest } from '../../protocol/generated/messages/WriteTxnMarkersRequest.js';
import { WriteTxnMarkersResponse } from '../../protocol/generated/messages/WriteTxnMarkersResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const writeTxnMarkersHandler = defineHandler<
  WriteTxnMarkersRequest,
  WriteTxnMarkersResponse,
  BrokerServices
>({
  apiKey: 27,
  minVersion: 0,
  maxVersion: 1,
  request: WriteTxnMarkersRequest,
  response: WriteTxnMarkersResponse,
  async handle(req, _ctx, { txnMarkerWriter }) {
    const markers = await Promise.all(
      req.markers.map(async (m) => {
        const results = await txnMarkerWriter.writeMarkers({
          producerId: m.producerId,
          producerEpoch: m.producerEpoch,
          coordinatorEpoch: m.coordinatorEpoch,
          commit: m.transactionResult,
          partitions: m.topics.flatMap((t) =>
            t.partitionIndexes.map((partition) => ({ topic: t.name, partition })),
          ),
        });
        const codes = new Map(results.map((r) => [`${r.topic}-${r.partition}`, r.errorCode]));
        return {
          producerId: m.producerId,
          topics: m.topics.map((t) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((partitionIndex) => ({
              partitionIndex,
              errorCode: codes.get(`${t.name}-${partitionIndex}`) ?? 0,
            })),
          })),
        };
      }),
    );
    return { markers };
  },
});
