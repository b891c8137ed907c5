// ListPartitionReassignments (key 46), version 0. The reassignments in progress, of every topic
// (topics null) or of the partitions named, from the metadata image (metadata/partition-admin.ts,
// as Kafka's ReplicationControlManager.listPartitionReassignments); unknown topics and partitions
// are left out without an error, as in Kafka. On one node a reassignment completes at once, so
// the answer is empty. Read through the controller queue, so it sees every operation answered
// before it. Not done: no authorizer, so never CLUSTER_AUTHORIZATION_FAILED.

import { listPartitionReassignments } from '../../metadata/partition-admin.js';
import { ListPartitionReassignmentsRequest } from '../../protocol/generated/messages/ListPartitionReassignmentsRequest.js';
import { ListPartitionReassignmentsResponse } from '../../protocol/generated/messages/ListPartitionReassignmentsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

export const listPartitionReassignmentsHandler = defineHandler<
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
  BrokerServices
>({
  apiKey: 46,
  minVersion: 0,
  maxVersion: 0,
  request: ListPartitionReassignmentsRequest,
  response: ListPartitionReassignmentsResponse,
  handle: (req, _ctx, { metadata }) =>
    metadata.submit((c) => ({ records: [], response: listPartitionReassignments(c.image, req) })),
});
