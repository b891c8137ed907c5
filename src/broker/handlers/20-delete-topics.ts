// DeleteTopics (key 20), versions 1-6; v0 (removed by Kafka 4.0) with samsa.legacy.protocol.enable.
// By name, or by topic id from v6.
// The controller (metadata/controller.ts) validates and answers; the records it writes are made
// durable before the answer, and the hosted partitions follow the new metadata.

import { DeleteTopicsRequest } from '../../protocol/generated/messages/DeleteTopicsRequest.js';
import { DeleteTopicsResponse } from '../../protocol/generated/messages/DeleteTopicsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const deleteTopicsHandler = defineHandler<DeleteTopicsRequest, DeleteTopicsResponse, BrokerServices>({
  apiKey: 20,
  minVersion: 1,
  maxVersion: 6,
  legacyMinVersion: 0,
  request: DeleteTopicsRequest,
  response: DeleteTopicsResponse,
  handle: (req, _ctx, services) => services.runMetadataOp((c) => c.deleteTopics(req)),
});
