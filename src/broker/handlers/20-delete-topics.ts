// DeleteTopics (key 20), versions 1-6; v0 (removed by Kafka 4.0) with samsa.legacy.protocol.enable.
// By name, or by topic id from v6.
// The controller (metadata/controller.ts) validates and answers; the records it writes are made
// durable before the answer, and the hosted partitions follow the new metadata.
// delete.topic.enable=false: TOPIC_DELETION_DISABLED, or INVALID_REQUEST below v3 (older than that
// code), as Kafka answers. The internal topics are never deleted: TOPIC_DELETION_DISABLED at every
// version, since the clients that still send v1 (kafkajs, librdkafka) know the code, and
// INVALID_REQUEST ("Invalid request", v1 carries no message) would not tell their users why.

import { ErrorCode } from '../../protocol/errors.js';
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
  handle: async (req, ctx, services) => {
    const res = await services.runMetadataOp((c) => c.deleteTopics(req));
    if (ctx.apiVersion < 3 && !services.config.bool('delete.topic.enable')) {
      for (const r of res.responses) {
        if (r.errorCode === ErrorCode.TOPIC_DELETION_DISABLED) r.errorCode = ErrorCode.INVALID_REQUEST;
      }
    }
    return res;
  },
});
