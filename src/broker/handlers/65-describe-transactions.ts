// DescribeTransactions (key 65), version 0: the coordinator's state of each transactional id
// (state, timeout, start time, producer id and epoch, partitions); TRANSACTIONAL_ID_NOT_FOUND for
// an id it does not know.

import { DescribeTransactionsRequest } from '../../protocol/generated/messages/DescribeTransactionsRequest.js';
import { DescribeTransactionsResponse } from '../../protocol/generated/messages/DescribeTransactionsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const describeTransactionsHandler = defineHandler<
  DescribeTransactionsRequest,
  DescribeTransactionsResponse,
  BrokerServices
>({
  apiKey: 65,
  minVersion: 0,
  maxVersion: 0,
  request: DescribeTransactionsRequest,
  response: DescribeTransactionsResponse,
  handle: (req, _ctx, { transactionCoordinator }) => ({
    throttleTimeMs: 0,
    transactionStates: transactionCoordinator.describeTransactions(req.transactionalIds),
  }),
});
