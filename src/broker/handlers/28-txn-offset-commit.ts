// TxnOffsetCommit (key 28), versions 0-4 (the schemas in use stop at 4; v5, KIP-890 part 2, is not
// in them). A transactional producer's offset commit (sendOffsetsToTransaction): the group
// coordinator (coordinator/group/) writes the offsets as a transactional batch of the producer to
// the group's __consumer_offsets partition and answers once durable; they become visible to
// OffsetFetch when the transaction commits (its marker completes them). The coordinator also does
// the request handler's part of Kafka: UNKNOWN_TOPIC_OR_PARTITION for partitions of unknown topics,
// and COORDINATOR_NOT_AVAILABLE instead of COORDINATOR_LOAD_IN_PROGRESS for v0-1 clients.
//
// With transaction.partition.verification.enable (the default), the group's __consumer_offsets
// partition must be in the producer's ongoing transaction (KIP-890 part 1). Not done: ACLs
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, GROUP_AUTHORIZATION_FAILED, TOPIC_AUTHORIZATION_FAILED).

import { GROUP_METADATA_TOPIC_NAME } from '../../metadata/topic-name.js';
import { ErrorCode } from '../../protocol/errors.js';
import { TxnOffsetCommitRequest } from '../../protocol/generated/messages/TxnOffsetCommitRequest.js';
import { TxnOffsetCommitResponse } from '../../protocol/generated/messages/TxnOffsetCommitResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';
import { fencedForVersion } from './txn-errors.js';

export const txnOffsetCommitHandler = defineHandler<
  TxnOffsetCommitRequest,
  TxnOffsetCommitResponse,
  BrokerServices
>({
  apiKey: 28,
  minVersion: 0,
  maxVersion: 4,
  request: TxnOffsetCommitRequest,
  response: TxnOffsetCommitResponse,
  handle: (req, ctx, { groupCoordinator, transactionCoordinator, config }) => {
    // KIP-890 part 1: the group's __consumer_offsets partition must be in the producer's ongoing
    // transaction (AddOffsetsToTxn came first), checked synchronously right before the
    // coordinator's append (which does not await before writing), so no marker can land between.
    if (config.bool('transaction.partition.verification.enable')) {
      const partition = groupCoordinator.partitionFor(req.groupId);
      const [v] = transactionCoordinator.verifyPartitionsInTxn(
        req.transactionalId,
        req.producerId,
        req.producerEpoch,
        [{ topic: GROUP_METADATA_TOPIC_NAME, partition }],
      );
      const code = v?.errorCode ?? ErrorCode.INVALID_TXN_STATE;
      if (code !== ErrorCode.NONE) {
        // TRANSACTION_ABORTABLE is known to clients from v4; older ones hear INVALID_TXN_STATE.
        const forVersion =
          code === ErrorCode.TRANSACTION_ABORTABLE && ctx.apiVersion < 4 ? ErrorCode.INVALID_TXN_STATE : code;
        // No TxnOffsetCommit version lists PRODUCER_FENCED: a fenced producer hears INVALID_PRODUCER_EPOCH.
        return txnOffsetCommitError(
          req,
          fencedForVersion(forVersion, ctx.apiVersion, Number.POSITIVE_INFINITY),
        );
      }
    }
    return groupCoordinator.txnCommitOffsets(req, ctx.apiVersion);
  },
});

/** A response giving `errorCode` for every partition of the request (Kafka's getErrorResponse). */
export function txnOffsetCommitError(
  req: TxnOffsetCommitRequest,
  errorCode: number,
): TxnOffsetCommitResponse {
  const resp = TxnOffsetCommitResponse.default();
  resp.topics = req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
  }));
  return resp;
}
