// samsa/client: the public API of Samsa's Kafka client (producer, consumer, admin).

export {
  Admin,
  type AdminOptions,
  type AlterConfigOp,
  type ConfigEntry,
  type ConfigResource,
  ConfigResourceType,
  ConfigSource,
  type GroupDescription,
  type GroupListing,
  type GroupMemberDescription,
  type GroupOffset,
  type NewTopic,
  type OffsetSpec,
  type PartitionLag,
  type TopicDescription,
} from './admin.js';
export {
  BUILTIN_ASSIGNORS,
  CooperativeStickyAssignor,
  type MemberSubscription,
  type PartitionAssignor,
  RangeAssignor,
  type RebalanceProtocol,
  RoundRobinAssignor,
} from './assignors.js';
export type { BrokerNode, ClusterOptions, PartitionMetadata, TopicMetadata } from './cluster.js';
export {
  type AssignOptions,
  type Batch,
  type CommitOffset,
  Consumer,
  type ConsumerOptions,
  type ConsumerRecord,
  type RebalanceListener,
  type SubscribeOptions,
} from './consumer.js';
export type { CommittedOffset } from './consumer-coordinator.js';
export type { TopicPartition } from './consumer-protocol.js';
export {
  BrokersUnreachableError,
  ClientClosedError,
  CommitFailedError,
  isRetriable,
  KafkaConnectionError,
  KafkaError,
  KafkaTimeoutError,
  ProducerFencedError,
  TransactionAbortableError,
  TransactionAbortedError,
  TransactionFatalError,
  TransactionStateError,
} from './errors.js';
export type { OffsetAndTimestamp } from './list-offsets.js';
export type { Logger } from './logger.js';
export { murmur2, murmur2Partition, toPositive } from './partitioner.js';
export {
  type Acks,
  type ConsumerGroupMetadata,
  Producer,
  type ProducerOptions,
  type ProducerRecord,
  type RecordMetadata,
  type SendRequest,
  type TransactionCallOptions,
  type TransactionOffset,
  type TransactionState,
} from './producer.js';
export type { SenderStats } from './sender.js';
export type { Bytes, Deserializer, HeadersInput, Serializer } from './serde.js';
export type { OffsetResetStrategy } from './subscription-state.js';
