// Metadata (key 3), versions 0-12. Topics null (v1+) means all topics; v0's empty list does too.
// Unknown topics are created when auto.create.topics.enable and the request allows it (v4+), and
// answered with their metadata in the same response (a single node creates them at once, where
// Kafka answers LEADER_NOT_AVAILABLE and lets the client retry). Topics asked for by id (v10+
// with a null name) are not looked up, as in Kafka: UNKNOWN_TOPIC_ID.
// No authorizer yet: authorized-operations fields say "everything" when asked for.

import type { TopicImage } from '../../metadata/image.js';
import { isInternalTopic, topicNameError } from '../../metadata/topic-name.js';
import { ErrorCode } from '../../protocol/errors.js';
import { MetadataRequest } from '../../protocol/generated/messages/MetadataRequest.js';
import { MetadataResponse } from '../../protocol/generated/messages/MetadataResponse.js';
import { ZERO_UUID } from '../../protocol/message.js';
import { defineHandler } from '../api-handler.js';
import { endpointForListener } from '../listener-endpoint.js';
import type { BrokerServices } from '../services.js';

const NOT_REQUESTED = -2147483648;
// READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (AclOperation codes).
const ALL_TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11].reduce((m, op) => m | (1 << op), 0);

function topicMetadata(t: TopicImage, includeOps: boolean): MetadataResponse.MetadataResponseTopic {
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.id,
    isInternal: isInternalTopic(t.name),
    partitions: [...t.partitions].map(([index, p]) => ({
      errorCode: p.leader < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
      partitionIndex: index,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [...p.replicas],
      isrNodes: [...p.isr],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: includeOps ? ALL_TOPIC_OPERATIONS : NOT_REQUESTED,
  };
}

function errorTopic(
  name: string | null,
  topicId: string,
  errorCode: number,
): MetadataResponse.MetadataResponseTopic {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: NOT_REQUESTED,
  };
}

export const metadataHandler = defineHandler<MetadataRequest, MetadataResponse, BrokerServices>({
  apiKey: 3,
  minVersion: 0,
  maxVersion: 12,
  request: MetadataRequest,
  response: MetadataResponse,
  async handle(req, ctx, services) {
    const { metadata, config } = services;
    const includeOps = req.includeTopicAuthorizedOperations;
    const all = req.topics === null || (ctx.apiVersion === 0 && req.topics.length === 0);
    let topics: MetadataResponse.MetadataResponseTopic[];
    if (all) {
      topics = [...metadata.image.topics()].map((t) => topicMetadata(t, includeOps));
    } else {
      const requested = req.topics ?? [];
      const allowCreate =
        config.bool('auto.create.topics.enable') && (ctx.apiVersion < 4 || req.allowAutoTopicCreation);
      const missing = requested
        .map((t) => t.name)
        .filter((n): n is string => n !== null && topicNameError(n) === null && !metadata.image.topic(n));
      if (allowCreate && missing.length > 0) {
        await services.runMetadataOp((c) => c.autoCreateTopics([...new Set(missing)]));
      }
      topics = requested.map((t) => {
        if (t.name === null) return errorTopic(null, t.topicId, ErrorCode.UNKNOWN_TOPIC_ID);
        if (topicNameError(t.name) !== null)
          return errorTopic(t.name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION);
        const image = metadata.image.topic(t.name);
        return image
          ? topicMetadata(image, includeOps)
          : errorTopic(t.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      });
    }
    // Each broker's endpoint on the listener this request came in on; one without it is left out.
    const brokers = [...metadata.image.brokers()]
      .filter((b) => !b.fenced)
      .flatMap((b) => {
        const e = endpointForListener(b.endpoints, ctx.listenerName);
        return e ? [{ nodeId: b.brokerId, host: e.host, port: e.port, rack: b.rack }] : [];
      });
    return {
      throttleTimeMs: 0,
      brokers,
      clusterId: services.clusterId,
      controllerId: services.nodeId,
      topics,
      clusterAuthorizedOperations: NOT_REQUESTED,
    };
  },
});
