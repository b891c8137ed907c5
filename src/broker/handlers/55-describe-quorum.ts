// DescribeQuorum (key 55), versions 0-2. The KRaft quorum of the metadata partition
// __cluster_metadata-0 as Kafka's KafkaRaftClient answers on the leader of a one-voter quorum (a
// combined node formatted --standalone):
// - a request that does not name exactly that one partition: UNKNOWN_TOPIC_OR_PARTITION on every
//   partition it names, top-level NONE (DescribeQuorumRequest.getPartitionLevelErrorResponse; v2
//   also carries the error's message);
// - else: leader = this node, leader epoch from quorum-state (one more at each start,
//   metadata/quorum-state.ts), high watermark = this voter's log end offset = the metadata log's
//   record count (every record is durable before it is applied, and this node is the only voter,
//   so all of it is committed); the voter's last fetch and last caught-up timestamps are "now", as
//   Kafka reports them for the leader itself; no observers (the node's broker side shares the
//   leader's raft client). v2: the voter's directory id (the metadata dir's meta.properties
//   directory.id) and, in nodes, its listeners: the endpoints this node advertises, which also
//   serve the controller APIs (Samsa has no separate CONTROLLER listener).
// Not done: no authorizer, so never CLUSTER_AUTHORIZATION_FAILED.

import { CLUSTER_METADATA_TOPIC_NAME as METADATA_TOPIC_NAME } from '../../metadata/topic-name.js';
import { ErrorCode, errorByCode } from '../../protocol/errors.js';
import { DescribeQuorumRequest } from '../../protocol/generated/messages/DescribeQuorumRequest.js';
import { DescribeQuorumResponse } from '../../protocol/generated/messages/DescribeQuorumResponse.js';
import { ZERO_UUID } from '../../protocol/message.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const describeQuorumHandler = defineHandler<
  DescribeQuorumRequest,
  DescribeQuorumResponse,
  BrokerServices
>({
  apiKey: 55,
  minVersion: 0,
  maxVersion: 2,
  request: DescribeQuorumRequest,
  response: DescribeQuorumResponse,
  handle(req, ctx, { quorum, metadata, advertisedEndpoints, time }) {
    const v2 = ctx.apiVersion >= 2;
    const valid =
      req.topics.length === 1 &&
      req.topics[0].topicName === METADATA_TOPIC_NAME &&
      req.topics[0].partitions.length === 1 &&
      req.topics[0].partitions[0].partitionIndex === 0;
    if (!valid) {
      const e = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        topics: req.topics.map((t) => ({
          topicName: t.topicName,
          partitions: t.partitions.map((p) => ({
            ...unknownPartition(),
            partitionIndex: p.partitionIndex,
            errorCode: e,
            errorMessage: v2 ? errorByCode(e).message : null,
          })),
        })),
        nodes: [],
      };
    }
    const now = BigInt(time.now());
    const logEndOffset = metadata.logEndOffset;
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topics: [
        {
          topicName: METADATA_TOPIC_NAME,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: ErrorCode.NONE,
              errorMessage: null,
              leaderId: quorum.leaderId,
              leaderEpoch: quorum.leaderEpoch,
              highWatermark: logEndOffset,
              currentVoters: [
                {
                  replicaId: quorum.leaderId,
                  replicaDirectoryId: v2 ? quorum.directoryId : ZERO_UUID,
                  logEndOffset,
                  lastFetchTimestamp: now,
                  lastCaughtUpTimestamp: now,
                },
              ],
              observers: [],
            },
          ],
        },
      ],
      nodes: v2
        ? [
            {
              nodeId: quorum.leaderId,
              listeners: advertisedEndpoints.map((e) => ({ name: e.name, host: e.host, port: e.port })),
            },
          ]
        : [],
    };
  },
});

/** A partition entry with Kafka's defaults, for the error answer. */
function unknownPartition(): Omit<DescribeQuorumResponse.PartitionData, 'partitionIndex' | 'errorCode'> {
  return {
    errorMessage: null,
    leaderId: 0,
    leaderEpoch: 0,
    highWatermark: 0n,
    currentVoters: [],
    observers: [],
  };
}
