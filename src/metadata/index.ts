// The metadata subsystem: KRaft metadata records and their serde, the metadata image they build,
// the controller logic of the admin APIs (CreateTopics, DeleteTopics, CreatePartitions, AlterConfigs,
// IncrementalAlterConfigs, DescribeConfigs, AllocateProducerIds), topic config definitions and
// resolution, and the metadata log that makes records durable and replays them at start.

export * from './config-defs.js';
export * from './configs.js';
export * from './controller.js';
export * from './image.js';
export * from './manager.js';
export * from './metadata-log.js';
export * from './records.js';
export * from './topic-name.js';
