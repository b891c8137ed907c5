// AlterPartitionReassignments (key 45), version 0. The controller validates and applies each
// partition's target (metadata/partition-admin.ts, as Kafka's ReplicationControlManager), through
// the metadata log. On one node the only valid target is [this node], the partition's current
// replicas: the reassignment is complete at once (NONE, nothing to write). A target naming a
// broker that is not registered, a broker twice, or no broker: INVALID_REPLICA_ASSIGNMENT with
// Kafka's message. Replicas null (cancel) with no reassignment in progress:
// NO_REASSIGNMENT_IN_PROGRESS (a cancel whose revert needs an unclean election is refused unless the
// topic's unclean.leader.election.enable allows it). Unknown topic or partition:
// UNKNOWN_TOPIC_OR_PARTITION.
// Not done: no authorizer, so never CLUSTER_AUTHORIZATION_FAILED; timeoutMs is not needed.

import { alterPartitionReassignments } from '../../metadata/partition-admin.js';
import { AlterPartitionReassignmentsRequest } from '../../protocol/generated/messages/AlterPartitionReassignmentsRequest.js';
import { AlterPartitionReassignmentsResponse } from '../../protocol/generated/messages/AlterPartitionReassignmentsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const alterPartitionReassignmentsHandler = defineHandler<
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  BrokerServices
>({
  apiKey: 45,
  minVersion: 0,
  maxVersion: 0,
  request: AlterPartitionReassignmentsRequest,
  response: AlterPartitionReassignmentsResponse,
  handle: (req, _ctx, { runMetadataOp }) =>
    runMetadataOp((c) =>
      alterPartitionReassignments(c.image, req, (t) => c.effectiveTopicConfig(t).uncleanLeaderElectionEnable),
    ),
});
