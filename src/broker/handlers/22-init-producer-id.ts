// InitProducerId (key 22), versions 0-5: producer ids for idempotent producers.
//
// As Kafka (KafkaApis.handleInitProducerIdRequest, TransactionCoordinator.handleInitProducerId):
// - producer_id and producer_epoch (v3+) must both be -1 or both be set: else INVALID_REQUEST.
// - No transactional id: a new producer id from the ProducerIdManager (blocks allocated durably
//   through the controller, coordinator/transaction/producer-id-manager.ts), epoch 0, whatever
//   producer id and epoch the request carries. That is the KIP-360 recovery path of an idempotent
//   producer too: Kafka "blindly accepts" the request and hands out a fresh id rather than bumping
//   the epoch of the old one (the epoch bump of an existing id is the transactional path), so a
//   producer that lost track of its sequences starts over with a new id at sequence 0.
// - An empty transactional id: INVALID_REQUEST.
// - A transactional id: the transaction coordinator (coordinator/transaction/) gives the id's
//   producer id and a bumped epoch (fencing older producers with that id), aborting a transaction
//   left open; it checks transaction.timeout.ms against transaction.max.timeout.ms. PRODUCER_FENCED
//   is INVALID_PRODUCER_EPOCH before v4.

import { ProducerIdAllocationError } from '../../coordinator/transaction/producer-id-manager.js';
import { ErrorCode } from '../../protocol/errors.js';
import { InitProducerIdRequest } from '../../protocol/generated/messages/InitProducerIdRequest.js';
import { InitProducerIdResponse } from '../../protocol/generated/messages/InitProducerIdResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';
import { fencedForVersion } from './txn-errors.js';

const NO_PRODUCER_ID = -1n;
const NO_PRODUCER_EPOCH = -1;

function failed(errorCode: number): InitProducerIdResponse {
  return { throttleTimeMs: 0, errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH };
}

export const initProducerIdHandler = defineHandler<
  InitProducerIdRequest,
  InitProducerIdResponse,
  BrokerServices
>({
  apiKey: 22,
  minVersion: 0,
  maxVersion: 5,
  request: InitProducerIdRequest,
  response: InitProducerIdResponse,
  async handle(req, ctx, services) {
    if ((req.producerId === NO_PRODUCER_ID) !== (req.producerEpoch === NO_PRODUCER_EPOCH)) {
      return failed(ErrorCode.INVALID_REQUEST);
    }
    if (req.transactionalId === '') return failed(ErrorCode.INVALID_REQUEST);
    if (req.transactionalId !== null) {
      try {
        await services.ensureTransactionTopic();
      } catch {
        return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      }
      const r = await services.transactionCoordinator.initProducerId(
        req.transactionalId,
        req.transactionTimeoutMs,
        req.producerId === NO_PRODUCER_ID
          ? null
          : { producerId: req.producerId, producerEpoch: req.producerEpoch },
      );
      return { throttleTimeMs: 0, ...r, errorCode: fencedForVersion(r.errorCode, ctx.apiVersion, 4) };
    }
    try {
      const producerId = await services.producerIdManager.generate();
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 };
    } catch (err) {
      return failed(
        err instanceof ProducerIdAllocationError ? err.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR,
      );
    }
  },
});
