// ConsumerGroupDescribe (key 69), version 0: KIP-848 consumer groups with their epochs, members and
// current and target assignments. include_authorized_operations is not supported (Kafka's "not
// requested" value is returned). Classic groups answer GROUP_ID_NOT_FOUND, as in Kafka.

import { ConsumerGroupDescribeRequest } from '../../protocol/generated/messages/ConsumerGroupDescribeRequest.js';
import { ConsumerGroupDescribeResponse } from '../../protocol/generated/messages/ConsumerGroupDescribeResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const consumerGroupDescribeHandler = defineHandler<
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse,
  BrokerServices
>({
  apiKey: 69,
  minVersion: 0,
  maxVersion: 0,
  request: ConsumerGroupDescribeRequest,
  response: ConsumerGroupDescribeResponse,
  handle: async (req, ctx, { groupCoordinator }) =>
    groupCoordinator.consumerGroupDescribe(req, ctx.apiVersion),
});
