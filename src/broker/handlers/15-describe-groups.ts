// DescribeGroups (key 15), versions 0-5.
// The group coordinator (coordinator/group/) decides and answers; see it for Kafka's rules.

import { DescribeGroupsRequest } from '../../protocol/generated/messages/DescribeGroupsRequest.js';
import { DescribeGroupsResponse } from '../../protocol/generated/messages/DescribeGroupsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const describeGroupsHandler = defineHandler<
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  BrokerServices
>({
  apiKey: 15,
  minVersion: 0,
  maxVersion: 5,
  request: DescribeGroupsRequest,
  response: DescribeGroupsResponse,
  handle: (req, ctx, { groupCoordinator }) => groupCoordinator.describeGroups(req, ctx.apiVersion),
});
