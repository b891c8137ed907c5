// OffsetCommit (key 8), versions 2-9; 0-1 (removed by Kafka 4.0) with samsa.legacy.protocol.enable.
// Commits are durable (acks=all into __consumer_offsets) before the answer.
// The group coordinator (coordinator/group/) decides and answers; see it for Kafka's rules.

import { OffsetCommitRequest } from '../../protocol/generated/messages/OffsetCommitRequest.js';
import { OffsetCommitResponse } from '../../protocol/generated/messages/OffsetCommitResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const offsetCommitHandler = defineHandler<OffsetCommitRequest, OffsetCommitResponse, BrokerServices>({
  apiKey: 8,
  minVersion: 2,
  maxVersion: 9,
  legacyMinVersion: 0,
  request: OffsetCommitRequest,
  response: OffsetCommitResponse,
  handle: (req, ctx, { groupCoordinator }) => groupCoordinator.commitOffsets(req, ctx.apiVersion),
});
