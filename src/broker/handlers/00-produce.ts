// Produce (key 0), versions 3-11; 0-2 (removed by Kafka 4.0) with samsa.legacy.protocol.enable,
// whose magic 0/1 message sets the log validator converts up to record batch v2.
// Records are validated and appended in request order, synchronously; the answer waits until every
// appended partition is durable (the ack contract of storage/partition-log.ts). acks=0 gets no
// answer at all. Batches of idempotent producers are checked against the partition's producer
// state by the log (storage/producer-state.ts): a retried batch is answered with its original
// offsets, once they are durable. Transactional batches need the request's transactional id and a
// partition added to the producer's ongoing transaction (KIP-890 part 1, ReplicaManager's
// transaction verifier). Not done yet: quotas (throttle time is always 0).

import { isInternalTopic } from '../../metadata/topic-name.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ProduceRequest } from '../../protocol/generated/messages/ProduceRequest.js';
import { ProduceResponse } from '../../protocol/generated/messages/ProduceResponse.js';
import { CloseConnection, defineHandler, NO_RESPONSE } from '../api-handler.js';
import { storageErrorCode } from '../replica-manager.js';
import type { BrokerServices } from '../services.js';

type PartitionResponse = ProduceResponse.PartitionProduceResponse;

function partitionResponse(
  index: number,
  errorCode: number,
  errorMessage: string | null = null,
): PartitionResponse {
  return {
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
  };
}

/**
 * The transaction verifier's answers as each Produce version knows them (Kafka's ReplicaManager
 * and AddPartitionsToTxnManager): TRANSACTION_ABORTABLE exists from v11, older producers get
 * INVALID_TXN_STATE; a transaction being completed (CONCURRENT_TRANSACTIONS, known to producers
 * only from v12) is the retriable NOT_ENOUGH_REPLICAS; a fenced producer (PRODUCER_FENCED) gets
 * INVALID_PRODUCER_EPOCH at every version, the answer producers expect from Produce: librdkafka
 * takes PRODUCER_FENCED there as abortable, and would abort and carry on beside the producer that
 * replaced it, where INVALID_PRODUCER_EPOCH makes it raise its fatal "fenced" error.
 */
function verificationErrorForVersion(code: number, version: number): number {
  if (code === ErrorCode.PRODUCER_FENCED) return ErrorCode.INVALID_PRODUCER_EPOCH;
  if (code === ErrorCode.TRANSACTION_ABORTABLE && version < 11) return ErrorCode.INVALID_TXN_STATE;
  if (code === ErrorCode.CONCURRENT_TRANSACTIONS) return ErrorCode.NOT_ENOUGH_REPLICAS;
  return code;
}

export const produceHandler = defineHandler<ProduceRequest, ProduceResponse, BrokerServices>({
  apiKey: 0,
  minVersion: 3,
  maxVersion: 11,
  legacyMinVersion: 0,
  request: ProduceRequest,
  response: ProduceResponse,
  async handle(req, ctx, { replicaManager }) {
    const acksValid = req.acks === -1 || req.acks === 0 || req.acks === 1;
    const pending: Promise<void>[] = [];
    const responses: ProduceResponse.TopicProduceResponse[] = req.topicData.map((t) => ({
      name: t.name,
      partitionResponses: t.partitionData.map((pd) => {
        if (!acksValid) return partitionResponse(pd.index, ErrorCode.INVALID_REQUIRED_ACKS);
        const partition = replicaManager.get(t.name, pd.index);
        if (!partition) return partitionResponse(pd.index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        // The coordinators' topics are written by the coordinators only (Kafka lets its own admin
        // client id "__admin_client" through; Samsa has no such tool).
        if (isInternalTopic(t.name)) {
          return partitionResponse(
            pd.index,
            ErrorCode.INVALID_TOPIC_EXCEPTION,
            `Cannot append to internal topic ${t.name}`,
          );
        }
        const r = replicaManager.append(partition, pd.records, {
          transactionalId: req.transactionalId,
          legacyMagicAllowed: ctx.apiVersion < 3,
        });
        const res: PartitionResponse = {
          ...partitionResponse(
            pd.index,
            verificationErrorForVersion(r.errorCode, ctx.apiVersion),
            r.errorMessage,
          ),
          baseOffset: r.baseOffset,
          logAppendTimeMs: r.logAppendTimeMs,
          logStartOffset: r.logStartOffset,
          recordErrors: r.recordErrors.map((e) => ({
            batchIndex: e.batchIndex,
            batchIndexErrorMessage: e.message,
          })),
        };
        // An append that cannot be made durable is not acknowledged: it answers with the error.
        pending.push(
          r.durable.catch((err: unknown) => {
            res.errorCode = storageErrorCode(err);
            res.errorMessage = (err as Error).message;
            res.baseOffset = -1n;
          }),
        );
        return res;
      }),
    }));
    if (req.acks === 0) {
      // Kafka closes the connection when an acks=0 produce was refused anywhere, since that is
      // the only way such a producer can learn of it (and refresh its metadata).
      const refused = responses.find((t) => t.partitionResponses.some((p) => p.errorCode !== ErrorCode.NONE));
      if (refused) throw new CloseConnection(`acks=0 produce refused for topic ${refused.name}`);
      return NO_RESPONSE;
    }
    await Promise.all(pending);
    return { responses, throttleTimeMs: 0, nodeEndpoints: [] };
  },
});
