// Every API this broker serves: its versions, and the handler file that serves it. ApiVersions
// answers from this table; a handler file loads on the first request for its API (network/
// connection.ts holds that connection's later requests meanwhile, so they still run in order),
// which keeps the start and the idle broker free of the handlers and codecs a client never uses.
// minVersion is Kafka 4.0's floor (KIP-896); legacyMinVersion, Kafka 3.9's, served while
// samsa.legacy.protocol.enable is true (the default) for clients older than Kafka 2.1.
// Each file states the same versions in its defineHandler; loading checks that they agree, and
// test/broker/api-handler.test.ts loads them all.

import type { ApiEntry, ApiHandler, ApiRegistry } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

type Versions = Pick<
  ApiEntry<BrokerServices>,
  'minVersion' | 'maxVersion' | 'unstableMaxVersion' | 'legacyMinVersion'
>;

function api<Req, Resp>(
  apiKey: number,
  versions: Versions,
  load: () => Promise<ApiHandler<Req, Resp, BrokerServices>>,
): ApiEntry<BrokerServices> {
  return { apiKey, ...versions, load: load as unknown as ApiEntry<BrokerServices>['load'] };
}

export const BROKER_APIS: readonly ApiEntry<BrokerServices>[] = [
  api(
    0,
    { minVersion: 3, maxVersion: 11, legacyMinVersion: 0 },
    async () => (await import('./00-produce.js')).produceHandler,
  ),
  api(
    1,
    { minVersion: 4, maxVersion: 17, legacyMinVersion: 0 },
    async () => (await import('./01-fetch.js')).fetchHandler,
  ),
  api(
    2,
    { minVersion: 1, maxVersion: 10, legacyMinVersion: 0 },
    async () => (await import('./02-list-offsets.js')).listOffsetsHandler,
  ),
  api(3, { minVersion: 0, maxVersion: 12 }, async () => (await import('./03-metadata.js')).metadataHandler),
  api(
    8,
    { minVersion: 2, maxVersion: 9, legacyMinVersion: 0 },
    async () => (await import('./08-offset-commit.js')).offsetCommitHandler,
  ),
  api(
    9,
    { minVersion: 1, maxVersion: 9, legacyMinVersion: 0 },
    async () => (await import('./09-offset-fetch.js')).offsetFetchHandler,
  ),
  api(
    10,
    { minVersion: 0, maxVersion: 6 },
    async () => (await import('./10-find-coordinator.js')).findCoordinatorHandler,
  ),
  api(
    11,
    { minVersion: 0, maxVersion: 9 },
    async () => (await import('./11-join-group.js')).joinGroupHandler,
  ),
  api(12, { minVersion: 0, maxVersion: 4 }, async () => (await import('./12-heartbeat.js')).heartbeatHandler),
  api(
    13,
    { minVersion: 0, maxVersion: 5 },
    async () => (await import('./13-leave-group.js')).leaveGroupHandler,
  ),
  api(
    14,
    { minVersion: 0, maxVersion: 5 },
    async () => (await import('./14-sync-group.js')).syncGroupHandler,
  ),
  api(
    15,
    { minVersion: 0, maxVersion: 5 },
    async () => (await import('./15-describe-groups.js')).describeGroupsHandler,
  ),
  api(
    16,
    { minVersion: 0, maxVersion: 5 },
    async () => (await import('./16-list-groups.js')).listGroupsHandler,
  ),
  api(
    18,
    { minVersion: 0, maxVersion: 4 },
    async () => (await import('./18-api-versions.js')).apiVersionsHandler,
  ),
  api(
    19,
    { minVersion: 2, maxVersion: 7, legacyMinVersion: 0 },
    async () => (await import('./19-create-topics.js')).createTopicsHandler,
  ),
  api(
    20,
    { minVersion: 1, maxVersion: 6, legacyMinVersion: 0 },
    async () => (await import('./20-delete-topics.js')).deleteTopicsHandler,
  ),
  api(
    21,
    { minVersion: 0, maxVersion: 2 },
    async () => (await import('./21-delete-records.js')).deleteRecordsHandler,
  ),
  api(
    22,
    { minVersion: 0, maxVersion: 5 },
    async () => (await import('./22-init-producer-id.js')).initProducerIdHandler,
  ),
  api(
    23,
    { minVersion: 2, maxVersion: 4, legacyMinVersion: 0 },
    async () => (await import('./23-offset-for-leader-epoch.js')).offsetForLeaderEpochHandler,
  ),
  api(
    24,
    { minVersion: 0, maxVersion: 5 },
    async () => (await import('./24-add-partitions-to-txn.js')).addPartitionsToTxnHandler,
  ),
  api(
    25,
    { minVersion: 0, maxVersion: 4 },
    async () => (await import('./25-add-offsets-to-txn.js')).addOffsetsToTxnHandler,
  ),
  api(
    26,
    { minVersion: 0, maxVersion: 4, unstableMaxVersion: 5 },
    async () => (await import('./26-end-txn.js')).endTxnHandler,
  ),
  api(
    27,
    { minVersion: 0, maxVersion: 1 },
    async () => (await import('./27-write-txn-markers.js')).writeTxnMarkersHandler,
  ),
  api(
    28,
    { minVersion: 0, maxVersion: 4 },
    async () => (await import('./28-txn-offset-commit.js')).txnOffsetCommitHandler,
  ),
  api(
    29,
    { minVersion: 1, maxVersion: 3, legacyMinVersion: 0 },
    async () => (await import('./29-describe-acls.js')).describeAclsHandler,
  ),
  api(
    30,
    { minVersion: 1, maxVersion: 3, legacyMinVersion: 0 },
    async () => (await import('./30-create-acls.js')).createAclsHandler,
  ),
  api(
    31,
    { minVersion: 1, maxVersion: 3, legacyMinVersion: 0 },
    async () => (await import('./31-delete-acls.js')).deleteAclsHandler,
  ),
  api(
    32,
    { minVersion: 1, maxVersion: 4, legacyMinVersion: 0 },
    async () => (await import('./32-describe-configs.js')).describeConfigsHandler,
  ),
  api(
    33,
    { minVersion: 0, maxVersion: 2 },
    async () => (await import('./33-alter-configs.js')).alterConfigsHandler,
  ),
  api(
    34,
    { minVersion: 1, maxVersion: 2, legacyMinVersion: 0 },
    async () => (await import('./34-alter-replica-log-dirs.js')).alterReplicaLogDirsHandler,
  ),
  api(
    35,
    { minVersion: 1, maxVersion: 4, legacyMinVersion: 0 },
    async () => (await import('./35-describe-log-dirs.js')).describeLogDirsHandler,
  ),
  api(
    37,
    { minVersion: 0, maxVersion: 3 },
    async () => (await import('./37-create-partitions.js')).createPartitionsHandler,
  ),
  api(
    42,
    { minVersion: 0, maxVersion: 2 },
    async () => (await import('./42-delete-groups.js')).deleteGroupsHandler,
  ),
  api(
    43,
    { minVersion: 0, maxVersion: 2 },
    async () => (await import('./43-elect-leaders.js')).electLeadersHandler,
  ),
  api(
    44,
    { minVersion: 0, maxVersion: 1 },
    async () => (await import('./44-incremental-alter-configs.js')).incrementalAlterConfigsHandler,
  ),
  api(
    45,
    { minVersion: 0, maxVersion: 0 },
    async () => (await import('./45-alter-partition-reassignments.js')).alterPartitionReassignmentsHandler,
  ),
  api(
    46,
    { minVersion: 0, maxVersion: 0 },
    async () => (await import('./46-list-partition-reassignments.js')).listPartitionReassignmentsHandler,
  ),
  api(
    47,
    { minVersion: 0, maxVersion: 0 },
    async () => (await import('./47-offset-delete.js')).offsetDeleteHandler,
  ),
  api(
    55,
    { minVersion: 0, maxVersion: 2 },
    async () => (await import('./55-describe-quorum.js')).describeQuorumHandler,
  ),
  api(
    60,
    { minVersion: 0, maxVersion: 1 },
    async () => (await import('./60-describe-cluster.js')).describeClusterHandler,
  ),
  api(
    61,
    { minVersion: 0, maxVersion: 0 },
    async () => (await import('./61-describe-producers.js')).describeProducersHandler,
  ),
  api(
    65,
    { minVersion: 0, maxVersion: 0 },
    async () => (await import('./65-describe-transactions.js')).describeTransactionsHandler,
  ),
  api(
    66,
    { minVersion: 0, maxVersion: 1 },
    async () => (await import('./66-list-transactions.js')).listTransactionsHandler,
  ),
  api(
    68,
    { minVersion: 0, maxVersion: 0, unstableMaxVersion: 1 },
    async () => (await import('./68-consumer-group-heartbeat.js')).consumerGroupHeartbeatHandler,
  ),
  api(
    69,
    { minVersion: 0, maxVersion: 0 },
    async () => (await import('./69-consumer-group-describe.js')).consumerGroupDescribeHandler,
  ),
  api(
    75,
    { minVersion: 0, maxVersion: 0 },
    async () => (await import('./75-describe-topic-partitions.js')).describeTopicPartitionsHandler,
  ),
];

export function registerHandlers(registry: ApiRegistry<BrokerServices>): void {
  for (const entry of BROKER_APIS) registry.registerLazy(entry);
}
