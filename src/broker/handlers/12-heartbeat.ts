// Heartbeat (key 12), versions 0-4.
// The group coordinator (coordinator/group/) decides and answers; see it for Kafka's rules.

import { HeartbeatRequest } from '../../protocol/generated/messages/HeartbeatRequest.js';
import { HeartbeatResponse } from '../../protocol/generated/messages/HeartbeatResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const heartbeatHandler = defineHandler<HeartbeatRequest, HeartbeatResponse, BrokerServices>({
  apiKey: 12,
  minVersion: 0,
  maxVersion: 4,
  request: HeartbeatRequest,
  response: HeartbeatResponse,
  handle: (req, ctx, { groupCoordinator }) => groupCoordinator.heartbeat(req, ctx.apiVersion),
});
