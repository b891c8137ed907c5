// OffsetFetch (key 9), versions 1-9; v0 (removed by Kafka 4.0) with samsa.legacy.protocol.enable.
// v8+ asks for several groups at once.
// The group coordinator (coordinator/group/) decides and answers; see it for Kafka's rules.

import { OffsetFetchRequest } from '../../protocol/generated/messages/OffsetFetchRequest.js';
import { OffsetFetchResponse } from '../../protocol/generated/messages/OffsetFetchResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const offsetFetchHandler = defineHandler<OffsetFetchRequest, OffsetFetchResponse, BrokerServices>({
  apiKey: 9,
  minVersion: 1,
  maxVersion: 9,
  legacyMinVersion: 0,
  request: OffsetFetchRequest,
  response: OffsetFetchResponse,
  handle: (req, ctx, { groupCoordinator }) => groupCoordinator.fetchOffsets(req, ctx.apiVersion),
});
