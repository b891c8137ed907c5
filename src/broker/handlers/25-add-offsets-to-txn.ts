// AddOffsetsToTxn (key 25), versions 0-4: a transactional producer adds a consumer group's
// offsets (the group's __consumer_offsets partition) to its transaction, before TxnOffsetCommit.
// The transaction coordinator decides (coordinator/transaction/); PRODUCER_FENCED is
// INVALID_PRODUCER_EPOCH before v2.

import { ErrorCode } from '../../protocol/errors.js';
import { AddOffsetsToTxnRequest } from '../../protocol/generated/messages/AddOffsetsToTxnRequest.js';
import { AddOffsetsToTxnResponse } from '../../protocol/generated/messages/AddOffsetsToTxnResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';
import { fencedForVersion } from './txn-errors.js';

export const addOffsetsToTxnHandler = defineHandler<
  AddOffsetsToTxnRequest,
  AddOffsetsToTxnResponse,
  BrokerServices
>({
  apiKey: 25,
  minVersion: 0,
  maxVersion: 4,
  request: AddOffsetsToTxnRequest,
  response: AddOffsetsToTxnResponse,
  async handle(req, ctx, { transactionCoordinator, ensureOffsetsTopic }) {
    // The group's offsets partition must exist to be part of the transaction.
    try {
      await ensureOffsetsTopic();
    } catch {
      return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    }
    const code = await transactionCoordinator.addOffsetsToTxn(
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      req.groupId,
    );
    return { throttleTimeMs: 0, errorCode: fencedForVersion(code, ctx.apiVersion, 2) };
  },
});
