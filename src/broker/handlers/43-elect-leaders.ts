// ElectLeaders (key 43), versions 0-2. The controller elects (metadata/partition-admin.ts, as
// Kafka's ReplicationControlManager.electLeaders), through the metadata log like every controller
// operation. On one node each partition's leader is already its preferred (first) replica, so a
// preferred election answers ELECTION_NOT_NEEDED per partition named, and an unclean one too (the
// partition has a leader); topic partitions null asks for every partition, and then, as Kafka,
// every topic is listed without the partitions that needed no election. Unknown topic or partition:
// UNKNOWN_TOPIC_OR_PARTITION per partition. An election type other than 0 and 1 (v1+): the whole
// request fails with INVALID_REQUEST. v0 carries no election type: always preferred.
// Not done: no authorizer, so never CLUSTER_AUTHORIZATION_FAILED; timeoutMs is not needed (the
// election is complete when the records are durable).

import { electLeaders } from '../../metadata/partition-admin.js';
import { ElectLeadersRequest } from '../../protocol/generated/messages/ElectLeadersRequest.js';
import { ElectLeadersResponse } from '../../protocol/generated/messages/ElectLeadersResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const electLeadersHandler = defineHandler<ElectLeadersRequest, ElectLeadersResponse, BrokerServices>({
  apiKey: 43,
  minVersion: 0,
  maxVersion: 2,
  request: ElectLeadersRequest,
  response: ElectLeadersResponse,
  handle: (req, ctx, { runMetadataOp }) => runMetadataOp((c) => electLeaders(c.image, req, ctx.apiVersion)),
});
