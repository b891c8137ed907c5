// KRaft: the replicated metadata quorum as a sans-IO state machine (see docs/ARCHITECTURE.md).
export * from './batch.js';
export * from './config.js';
export * from './log.js';
export * from './messages.js';
export * from './raft-node.js';
