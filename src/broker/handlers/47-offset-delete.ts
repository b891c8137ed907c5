// OffsetDelete (key 47), versions 0-0. Not for topics a stable group subscribes to (GROUP_SUBSCRIBED_TO_TOPIC).
// The group coordinator (coordinator/group/) decides and answers; see it for Kafka's rules.

import { OffsetDeleteRequest } from '../../protocol/generated/messages/OffsetDeleteRequest.js';
import { OffsetDeleteResponse } from '../../protocol/generated/messages/OffsetDeleteResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const offsetDeleteHandler = defineHandler<OffsetDeleteRequest, OffsetDeleteResponse, BrokerServices>({
  apiKey: 47,
  minVersion: 0,
  maxVersion: 0,
  request: OffsetDeleteRequest,
  response: OffsetDeleteResponse,
  handle: (req, ctx, { groupCoordinator }) => groupCoordinator.deleteOffsets(req, ctx.apiVersion),
});
