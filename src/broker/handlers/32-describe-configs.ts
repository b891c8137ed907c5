// DescribeConfigs (key 32), versions 1-4; v0 (removed by Kafka 4.0, is_default instead of sources)
// with samsa.legacy.protocol.enable. Topic and broker resources with
// values, sources, synonyms (v1+) and types and documentation (v3+), from the metadata image.

import { DescribeConfigsRequest } from '../../protocol/generated/messages/DescribeConfigsRequest.js';
import { DescribeConfigsResponse } from '../../protocol/generated/messages/DescribeConfigsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const describeConfigsHandler = defineHandler<
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  BrokerServices
>({
  apiKey: 32,
  minVersion: 1,
  maxVersion: 4,
  legacyMinVersion: 0,
  request: DescribeConfigsRequest,
  response: DescribeConfigsResponse,
  handle: (req, _ctx, { metadata }) => metadata.controller.describeConfigs(req),
});
