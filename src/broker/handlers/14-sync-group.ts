// SyncGroup (key 14), versions 0-5. The leader's assignment is stored durably before any member gets its share.
// The group coordinator (coordinator/group/) decides and answers; see it for Kafka's rules.

import { SyncGroupRequest } from '../../protocol/generated/messages/SyncGroupRequest.js';
import { SyncGroupResponse } from '../../protocol/generated/messages/SyncGroupResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const syncGroupHandler = defineHandler<SyncGroupRequest, SyncGroupResponse, BrokerServices>({
  apiKey: 14,
  minVersion: 0,
  maxVersion: 5,
  request: SyncGroupRequest,
  response: SyncGroupResponse,
  handle: (req, ctx, { groupCoordinator }) => groupCoordinator.syncGroup(req, ctx.apiVersion),
});
