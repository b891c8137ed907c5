// The classic group coordinator: the state machine behind JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup, OffsetCommit, OffsetFetch, OffsetDelete, ListGroups, DescribeGroups and DeleteGroups.
//
//   coordinator.ts  GroupCoordinator: the public API, membership and rebalances, group admin, expiry
//   offsets.ts      OffsetMetadataManager: commits, fetches, deletions and expiry of offsets
//   group.ts        ClassicGroup / ClassicGroupMember / GroupOffsets: one group's state
//   records.ts      __consumer_offsets record keys and values (read and write)
//   responses.ts    JoinGroup / SyncGroup responses shaped for a request version
//   store.ts        GroupStore (the broker's durable append), append error translation
//   txn-offsets.ts  PendingTxnOffsets: offsets of open transactions (TxnOffsetCommit)

export {
  type CoordinatorLogger,
  GroupCoordinator,
  type GroupCoordinatorConfig,
  type TopicLookup,
} from './coordinator.js';
export type { ClassicGroupState } from './group.js';
export {
  groupMetadataKey,
  groupMetadataValue,
  type OffsetAndMetadata,
  offsetCommitKey,
  offsetCommitValue,
  parseGroupMetadataValue,
  parseOffsetCommitValue,
  parseRecordKey,
} from './records.js';
export { type GroupStore, GroupStoreError, type OffsetsRecord, type TxnAppendOptions } from './store.js';
