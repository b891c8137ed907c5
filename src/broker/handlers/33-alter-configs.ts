// AlterConfigs (key 33), versions 0-2. Replaces a resource's whole dynamic config set.
// The controller (metadata/controller.ts) validates and answers; the records it writes are made
// durable before the answer, and the hosted partitions follow the new metadata.

import { AlterConfigsRequest } from '../../protocol/generated/messages/AlterConfigsRequest.js';
import { AlterConfigsResponse } from '../../protocol/generated/messages/AlterConfigsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const alterConfigsHandler = defineHandler<AlterConfigsRequest, AlterConfigsResponse, BrokerServices>({
  apiKey: 33,
  minVersion: 0,
  maxVersion: 2,
  request: AlterConfigsRequest,
  response: AlterConfigsResponse,
  handle: (req, _ctx, services) => services.runMetadataOp((c) => c.alterConfigs(req)),
});
