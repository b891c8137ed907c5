// DeleteGroups (key 42), versions 0-2. Only empty groups can be deleted (NON_EMPTY_GROUP).
// The group coordinator (coordinator/group/) decides and answers; see it for Kafka's rules.

import { DeleteGroupsRequest } from '../../protocol/generated/messages/DeleteGroupsRequest.js';
import { DeleteGroupsResponse } from '../../protocol/generated/messages/DeleteGroupsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const deleteGroupsHandler = defineHandler<DeleteGroupsRequest, DeleteGroupsResponse, BrokerServices>({
  apiKey: 42,
  minVersion: 0,
  maxVersion: 2,
  request: DeleteGroupsRequest,
  response: DeleteGroupsResponse,
  handle: (req, ctx, { groupCoordinator }) => groupCoordinator.deleteGroups(req, ctx.apiVersion),
});
