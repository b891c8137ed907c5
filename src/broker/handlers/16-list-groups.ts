// ListGroups (key 16), versions 0-5. v4 filters by state, v5 by type.
// The group coordinator (coordinator/group/) decides and answers; see it for Kafka's rules.

import { ListGroupsRequest } from '../../protocol/generated/messages/ListGroupsRequest.js';
import { ListGroupsResponse } from '../../protocol/generated/messages/ListGroupsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const listGroupsHandler = defineHandler<ListGroupsRequest, ListGroupsResponse, BrokerServices>({
  apiKey: 16,
  minVersion: 0,
  maxVersion: 5,
  request: ListGroupsRequest,
  response: ListGroupsResponse,
  handle: (req, ctx, { groupCoordinator }) => groupCoordinator.listGroups(req, ctx.apiVersion),
});
