// JoinGroup (key 11), versions 0-9. Member ids are required from v4 (KIP-394); static membership from v5 (KIP-345).
// The group coordinator (coordinator/group/) decides and answers; see it for Kafka's rules.

import { JoinGroupRequest } from '../../protocol/generated/messages/JoinGroupRequest.js';
import { JoinGroupResponse } from '../../protocol/generated/messages/JoinGroupResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

/** Kafka reports a member's host as Java's InetAddress.toString() of the peer: "/127.0.0.1". */
function clientHost(clientAddress: string): string {
  const colon = clientAddress.lastIndexOf(':');
  const ip = colon > 0 ? clientAddress.slice(0, colon) : clientAddress;
  return `/${ip.replace(/^\[|\]$/g, '')}`;
}

export const joinGroupHandler = defineHandler<JoinGroupRequest, JoinGroupResponse, BrokerServices>({
  apiKey: 11,
  minVersion: 0,
  maxVersion: 9,
  request: JoinGroupRequest,
  response: JoinGroupResponse,
  handle: (req, ctx, { groupCoordinator }) =>
    groupCoordinator.joinGroup(req, ctx.apiVersion, ctx.clientId ?? '', clientHost(ctx.clientAddress)),
});
