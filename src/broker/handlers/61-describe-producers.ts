// DescribeProducers (key 61), version 0 (KIP-664): the producers each partition's producer state
// knows (storage/producer-state.ts), as Kafka's Partition.activeProducerState: id, epoch, last
// sequence (-1 when none is retained), last timestamp, coordinator epoch and the first offset of
// the open transaction (-1 when none). A partition not hosted here is UNKNOWN_TOPIC_OR_PARTITION.
// No ACLs yet, so no TOPIC_AUTHORIZATION_FAILED.

import { ErrorCode } from '../../protocol/errors.js';
import { DescribeProducersRequest } from '../../protocol/generated/messages/DescribeProducersRequest.js';
import { DescribeProducersResponse } from '../../protocol/generated/messages/DescribeProducersResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const describeProducersHandler = defineHandler<
  DescribeProducersRequest,
  DescribeProducersResponse,
  BrokerServices
>({
  apiKey: 61,
  minVersion: 0,
  maxVersion: 0,
  request: DescribeProducersRequest,
  response: DescribeProducersResponse,
  handle(req, _ctx, { replicaManager }) {
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((index): DescribeProducersResponse.PartitionResponse => {
          const p = replicaManager.get(t.name, index);
          if (!p) {
            return {
              partitionIndex: index,
              errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              errorMessage: null,
              activeProducers: [],
            };
          }
          return {
            partitionIndex: index,
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            activeProducers: [...p.log.producerState.activeProducers()].map((e) => ({
              producerId: BigInt(e.producerId),
              producerEpoch: e.producerEpoch,
              lastSequence: e.lastSeq,
              lastTimestamp: BigInt(e.lastTimestamp),
              coordinatorEpoch: e.coordinatorEpoch,
              currentTxnStartOffset: BigInt(e.currentTxnFirstOffset),
            })),
          };
        }),
      })),
    };
  },
});
