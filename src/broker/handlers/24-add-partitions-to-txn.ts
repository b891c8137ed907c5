// AddPartitionsToTxn (key 24), versions 0-5: a transactional producer adds partitions to its
// ongoing transaction before it writes to them.
//
// - v0-3 (clients): one transaction. v4+ (brokers, KIP-890 part 1): several transactions, each
//   either an add or, with verify_only, a check that the partitions are already in it.
// - As KafkaApis: a partition of an unknown topic or partition gets UNKNOWN_TOPIC_OR_PARTITION
//   and the other partitions of that transaction OPERATION_NOT_ATTEMPTED (nothing is added).
//   Otherwise the coordinator's one answer applies to every partition.
// - PRODUCER_FENCED is answered as INVALID_PRODUCER_EPOCH before v2.

import { ErrorCode } from '../../protocol/errors.js';
import { AddPartitionsToTxnRequest } from '../../protocol/generated/messages/AddPartitionsToTxnRequest.js';
import { AddPartitionsToTxnResponse } from '../../protocol/generated/messages/AddPartitionsToTxnResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';
import { fencedForVersion } from './txn-errors.js';

type TopicResult = AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult;

async function handleTransaction(
  t: AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction,
  version: number,
  services: BrokerServices,
): Promise<TopicResult[]> {
  const { replicaManager, transactionCoordinator } = services;
  const partitions = t.topics.flatMap((topic) =>
    topic.partitions.map((partition) => ({ topic: topic.name, partition })),
  );
  const answer = (code: (topic: string, partition: number) => number): TopicResult[] =>
    t.topics.map((topic) => ({
      name: topic.name,
      resultsByPartition: topic.partitions.map((partitionIndex) => ({
        partitionIndex,
        partitionErrorCode: code(topic.name, partitionIndex),
      })),
    }));
  const unknown = new Set(
    partitions
      .filter((p) => !replicaManager.get(p.topic, p.partition))
      .map((p) => `${p.topic}-${p.partition}`),
  );
  if (unknown.size > 0) {
    return answer((topic, partition) =>
      unknown.has(`${topic}-${partition}`)
        ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        : ErrorCode.OPERATION_NOT_ATTEMPTED,
    );
  }
  if (t.verifyOnly) {
    const results = transactionCoordinator.verifyPartitionsInTxn(
      t.transactionalId,
      t.producerId,
      t.producerEpoch,
      partitions,
    );
    const byKey = new Map(results.map((r) => [`${r.topic}-${r.partition}`, r.errorCode]));
    return answer((topic, partition) => byKey.get(`${topic}-${partition}`) ?? ErrorCode.INVALID_TXN_STATE);
  }
  const code = await transactionCoordinator.addPartitionsToTxn(
    t.transactionalId,
    t.producerId,
    t.producerEpoch,
    partitions,
  );
  const forVersion = fencedForVersion(code, version, 2);
  return answer(() => forVersion);
}

export const addPartitionsToTxnHandler = defineHandler<
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  BrokerServices
>({
  apiKey: 24,
  minVersion: 0,
  maxVersion: 5,
  request: AddPartitionsToTxnRequest,
  response: AddPartitionsToTxnResponse,
  async handle(req, ctx, services) {
    const response = AddPartitionsToTxnResponse.default();
    if (ctx.apiVersion < 4) {
      response.resultsByTopicV3AndBelow = await handleTransaction(
        {
          transactionalId: req.v3AndBelowTransactionalId,
          producerId: req.v3AndBelowProducerId,
          producerEpoch: req.v3AndBelowProducerEpoch,
          verifyOnly: false,
          topics: req.v3AndBelowTopics,
        },
        ctx.apiVersion,
        services,
      );
      return response;
    }
    response.resultsByTransaction = await Promise.all(
      req.transactions.map(async (t) => ({
        transactionalId: t.transactionalId,
        topicResults: await handleTransaction(t, ctx.apiVersion, services),
      })),
    );
    return response;
  },
});
