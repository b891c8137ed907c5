// CreatePartitions (key 37), versions 0-3. Increase only; validate_only; assignments.
// The controller (metadata/controller.ts) validates and answers; the records it writes are made
// durable before the answer, and the hosted partitions follow the new metadata.

import { CreatePartitionsRequest } from '../../protocol/generated/messages/CreatePartitionsRequest.js';
import { CreatePartitionsResponse } from '../../protocol/generated/messages/CreatePartitionsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const createPartitionsHandler = defineHandler<
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  BrokerServices
>({
  apiKey: 37,
  minVersion: 0,
  maxVersion: 3,
  request: CreatePartitionsRequest,
  response: CreatePartitionsResponse,
  handle: (req, _ctx, services) => services.runMetadataOp((c) => c.createPartitions(req)),
});
