// What the request handlers can reach: the broker's parts, passed to every handler call.
// It grows as the broker does (log manager, metadata image, coordinators).

import type { GroupCoordinator } from '../coordinator/group/coordinator.js';
import type { TransactionCoordinator, TxnMarkerWriter } from '../coordinator/transaction/coordinator.js';
import type { ProducerIdManager } from '../coordinator/transaction/producer-id-manager.js';
import type { Controller, ControllerResult } from '../metadata/controller.js';
import type { BrokerEndpoint } from '../metadata/image.js';
import type { MetadataManager } from '../metadata/manager.js';
import type { QuorumState } from '../metadata/quorum-state.js';
import type { LogManager } from '../storage/log-manager.js';
import type { NodeTime } from '../util/clock.js';
import type { ApiRegistry } from './api-handler.js';
import type { BrokerConfig } from './config.js';
import type { FetchSessionCache } from './fetch-session.js';
import type { BrokerMetrics } from './metrics.js';
import type { ReplicaManager } from './replica-manager.js';

export interface BrokerServices {
  readonly config: BrokerConfig;
  readonly registry: ApiRegistry<BrokerServices>;
  readonly nodeId: number;
  readonly clusterId: string;
  /** The metadata quorum: this node, the only voter, leader in the epoch it started (quorum-state). */
  readonly quorum: QuorumState;
  /** The node's clock and timers (src/util/clock.ts): every module reads the time through it. */
  readonly time: NodeTime;
  readonly replicaManager: ReplicaManager;
  readonly fetchSessions: FetchSessionCache;
  readonly metadata: MetadataManager;
  readonly logManager: LogManager;
  /** The broker's counters while its HTTP listener is on (broker/metrics.ts), else null. */
  readonly metrics: BrokerMetrics | null;
  /** This broker's advertised endpoints, as registered. */
  readonly advertisedEndpoints: readonly BrokerEndpoint[];
  /** Runs a controller operation (durably) and applies its result to the hosted partitions. */
  runMetadataOp<T>(op: (c: Controller) => ControllerResult<T>): Promise<T>;
  /** The classic group coordinator; its log is __consumer_offsets (broker/offsets-topic.ts). */
  readonly groupCoordinator: GroupCoordinator;
  /** Producer ids for InitProducerId, in blocks made durable through the controller. */
  readonly producerIdManager: ProducerIdManager;
  /** Creates __consumer_offsets if it does not exist (as Kafka does on the first FindCoordinator). */
  ensureOffsetsTopic(): Promise<void>;
  /** The transaction coordinator; its log is __transaction_state (broker/transaction-topic.ts). */
  readonly transactionCoordinator: TransactionCoordinator;
  /** Creates __transaction_state if it does not exist (on the first transactional FindCoordinator). */
  ensureTransactionTopic(): Promise<void>;
  /** Writes COMMIT/ABORT markers to partitions hosted here (the coordinator's and WriteTxnMarkers'). */
  readonly txnMarkerWriter: TxnMarkerWriter;
}
