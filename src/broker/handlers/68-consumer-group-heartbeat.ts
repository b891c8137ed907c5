// ConsumerGroupHeartbeat (key 68), version 0, and 1 with unstable.api.versions.enable (v1 is marked
// unstable in the schemas this broker implements, so, as Kafka then, it is not advertised by
// default): the KIP-848 consumer group protocol (join, heartbeat, leave, static membership; v1 adds
// the server-side topic regex and member ids chosen by the client). The group coordinator
// (coordinator/group/consumer-groups.ts) decides and answers.

import { ConsumerGroupHeartbeatRequest } from '../../protocol/generated/messages/ConsumerGroupHeartbeatRequest.js';
import { ConsumerGroupHeartbeatResponse } from '../../protocol/generated/messages/ConsumerGroupHeartbeatResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

/** Kafka reports a member's host as Java's InetAddress.toString() of the peer: "/127.0.0.1". */
function clientHost(clientAddress: string): string {
  const colon = clientAddress.lastIndexOf(':');
  const ip = colon > 0 ? clientAddress.slice(0, colon) : clientAddress;
  return `/${ip.replace(/^\[|\]$/g, '')}`;
}

export const consumerGroupHeartbeatHandler = defineHandler<
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponse,
  BrokerServices
>({
  apiKey: 68,
  minVersion: 0,
  maxVersion: 0,
  unstableMaxVersion: 1,
  request: ConsumerGroupHeartbeatRequest,
  response: ConsumerGroupHeartbeatResponse,
  handle: (req, ctx, { groupCoordinator }) =>
    groupCoordinator.consumerGroupHeartbeat(
      req,
      ctx.apiVersion,
      ctx.clientId ?? '',
      clientHost(ctx.clientAddress),
    ),
});
