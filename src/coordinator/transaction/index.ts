// The transaction coordinator: the state machine behind InitProducerId (transactional),
// AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, DescribeTransactions and ListTransactions.
//
//   coordinator.ts          TransactionCoordinator: the public API, markers and completion, timeouts, expiry
//   metadata.ts             TransactionMetadata / TransactionState: one transactional id's state and transitions
//   records.ts              __transaction_state record keys and values (read and write)
//   store.ts                TransactionStore (the broker's durable append), TxnMarkerWriter, error translation
//   producer-id-manager.ts  ProducerIdManager: blocks of producer ids from the controller

export {
  DEFAULT_TRANSACTION_COORDINATOR_CONFIG,
  type ListTransactionsResult,
  type PartitionError,
  type ProducerIdAndEpochResult,
  type TopicPartition,
  TransactionCoordinator,
  type TransactionCoordinatorConfig,
  type TransactionCoordinatorLogger,
  type TransactionCoordinatorOptions,
} from './coordinator.js';
export { TRANSACTION_STATES, type TransactionState } from './metadata.js';
export { ProducerIdAllocationError, type ProducerIdBlock, ProducerIdManager } from './producer-id-manager.js';
export {
  parseTransactionLogKey,
  parseTransactionLogValue,
  transactionLogKey,
  transactionLogValue,
  transactionLogValueVersion,
} from './records.js';
export {
  type TransactionStore,
  TransactionStoreError,
  type TxnMarkerWriter,
  type WriteMarkersRequest,
  type WriteMarkersResult,
} from './store.js';
