// ListTransactions (key 66), versions 0-1: the transactional ids this coordinator knows, filtered
// by state (unknown state names are echoed back in unknown_state_filters), producer id, and (v1)
// the minimum time the transaction has been running.

import { ListTransactionsRequest } from '../../protocol/generated/messages/ListTransactionsRequest.js';
import { ListTransactionsResponse } from '../../protocol/generated/messages/ListTransactionsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const listTransactionsHandler = defineHandler<
  ListTransactionsRequest,
  ListTransactionsResponse,
  BrokerServices
>({
  apiKey: 66,
  minVersion: 0,
  maxVersion: 1,
  request: ListTransactionsRequest,
  response: ListTransactionsResponse,
  handle(req, ctx, { transactionCoordinator }) {
    const r = transactionCoordinator.listTransactions({
      stateFilters: req.stateFilters,
      producerIdFilters: req.producerIdFilters,
      durationFilterMs: ctx.apiVersion >= 1 ? Number(req.durationFilter) : -1,
    });
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      unknownStateFilters: r.unknownStateFilters,
      transactionStates: r.transactionStates,
    };
  },
});
