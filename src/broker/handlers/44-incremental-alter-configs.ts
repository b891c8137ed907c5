// IncrementalAlterConfigs (key 44), versions 0-1. SET, DELETE, APPEND, SUBTRACT.
// The controller (metadata/controller.ts) validates and answers; the records it writes are made
// durable before the answer, and the hosted partitions follow the new metadata.

import { IncrementalAlterConfigsRequest } from '../../protocol/generated/messages/IncrementalAlterConfigsRequest.js';
import { IncrementalAlterConfigsResponse } from '../../protocol/generated/messages/IncrementalAlterConfigsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const incrementalAlterConfigsHandler = defineHandler<
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
  BrokerServices
>({
  apiKey: 44,
  minVersion: 0,
  maxVersion: 1,
  request: IncrementalAlterConfigsRequest,
  response: IncrementalAlterConfigsResponse,
  handle: (req, _ctx, services) => services.runMetadataOp((c) => c.incrementalAlterConfigs(req)),
});
