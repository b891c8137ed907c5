// CreateTopics (key 19), versions 2-7; 0-1 (removed by Kafka 4.0) with
// samsa.legacy.protocol.enable. validate_only, configs, manual assignments.
// The controller (metadata/controller.ts) validates and answers; the records it writes are made
// durable before the answer, and the hosted partitions follow the new metadata.

import { CreateTopicsRequest } from '../../protocol/generated/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../../protocol/generated/messages/CreateTopicsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const createTopicsHandler = defineHandler<CreateTopicsRequest, CreateTopicsResponse, BrokerServices>({
  apiKey: 19,
  minVersion: 2,
  maxVersion: 7,
  legacyMinVersion: 0,
  request: CreateTopicsRequest,
  response: CreateTopicsResponse,
  handle: (req, _ctx, services) => services.runMetadataOp((c) => c.createTopics(req)),
});
