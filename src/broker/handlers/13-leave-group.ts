// LeaveGroup (key 13), versions 0-5. v3+ removes a batch of members, by member id or group.instance.id.
// The group coordinator (coordinator/group/) decides and answers; see it for Kafka's rules.

import { LeaveGroupRequest } from '../../protocol/generated/messages/LeaveGroupRequest.js';
import { LeaveGroupResponse } from '../../protocol/generated/messages/LeaveGroupResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const leaveGroupHandler = defineHandler<LeaveGroupRequest, LeaveGroupResponse, BrokerServices>({
  apiKey: 13,
  minVersion: 0,
  maxVersion: 5,
  request: LeaveGroupRequest,
  response: LeaveGroupResponse,
  handle: (req, ctx, { groupCoordinator }) => groupCoordinator.leaveGroup(req, ctx.apiVersion),
});
