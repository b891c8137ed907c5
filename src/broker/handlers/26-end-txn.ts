// EndTxn (key 26), versions 0-5: commit or abort the producer's transaction. The coordinator
// writes PrepareCommit/PrepareAbort, answers, then writes the markers and completes the
// transaction (coordinator/transaction/). v5 is transaction version 2 (KIP-890 part 2): the epoch
// is bumped at every end and the new producer id and epoch are returned. v5 is still marked
// unstable in Kafka's schema, so, as Kafka, it is served only with unstable.api.versions.enable.
// PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2.

import { EndTxnRequest } from '../../protocol/generated/messages/EndTxnRequest.js';
import { EndTxnResponse } from '../../protocol/generated/messages/EndTxnResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';
import { fencedForVersion } from './txn-errors.js';

export const endTxnHandler = defineHandler<EndTxnRequest, EndTxnResponse, BrokerServices>({
  apiKey: 26,
  minVersion: 0,
  maxVersion: 4,
  unstableMaxVersion: 5,
  request: EndTxnRequest,
  response: EndTxnResponse,
  async handle(req, ctx, { transactionCoordinator }) {
    const r = await transactionCoordinator.endTxn(
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      req.committed,
      { isTransactionV2: ctx.apiVersion >= 5 },
    );
    return {
      throttleTimeMs: 0,
      errorCode: fencedForVersion(r.errorCode, ctx.apiVersion, 2),
      producerId: r.producerId,
      producerEpoch: r.producerEpoch,
    };
  },
});
