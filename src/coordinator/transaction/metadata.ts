// One transactional id's state in the transaction coordinator (Kafka's TransactionMetadata,
// TransactionState and TxnTransitMetadata).
//
// A state change is two steps, as in Kafka: prepare*() checks the transition is legal, sets
// `pendingState` (which makes every other request for this id answer CONCURRENT_TRANSACTIONS) and
// returns a TxnTransit, the complete next state; the coordinator writes the transit to
// __transaction_state and, when the append resolves, completeTransition() makes it the state. When
// the append fails, abortTransition() drops the pending state and nothing changed.
//
// Unlike Kafka, nothing here is mutated before its record is durable (Kafka bumps the epoch in
// memory while fencing, and remembers a failed fence in hasFailedEpochFence): memory is always what
// replaying the log gives. The only in-memory-only change is the removal of partitions whose markers
// are written while a transaction completes, which Kafka also never logs.

/** Kafka's TransactionState, with the ids written in TransactionLogValue.transactionStatus. */
export type TransactionState =
  | 'Empty'
  | 'Ongoing'
  | 'PrepareCommit'
  | 'PrepareAbort'
  | 'CompleteCommit'
  | 'CompleteAbort'
  | 'Dead'
  | 'PrepareEpochFence';

export const TRANSACTION_STATES: readonly TransactionState[] = [
  'Empty',
  'Ongoing',
  'PrepareCommit',
  'PrepareAbort',
  'CompleteCommit',
  'CompleteAbort',
  'Dead',
  'PrepareEpochFence',
];

/** The transactionStatus byte of a state (its index in TRANSACTION_STATES, as Kafka's ids). */
export function stateId(state: TransactionState): number {
  return TRANSACTION_STATES.indexOf(state);
}

export function stateFromId(id: number): TransactionState {
  const state = TRANSACTION_STATES[id];
  if (state === undefined) throw new Error(`unknown transaction state id ${id}`);
  return state;
}

/** Kafka's validPreviousStates: the states each state may be entered from. */
const VALID_PREVIOUS: Record<TransactionState, readonly TransactionState[]> = {
  Empty: ['Empty', 'CompleteCommit', 'CompleteAbort'],
  Ongoing: ['Ongoing', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  PrepareCommit: ['Ongoing'],
  // Transaction V2 lets a client abort from Empty/Complete* (it may not know the server's state).
  PrepareAbort: ['Ongoing', 'PrepareEpochFence', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  CompleteCommit: ['PrepareCommit'],
  CompleteAbort: ['PrepareAbort'],
  Dead: ['Empty', 'CompleteAbort', 'CompleteCommit'],
  PrepareEpochFence: ['Ongoing'],
};

export function isValidTransition(from: TransactionState, to: TransactionState): boolean {
  return VALID_PREVIOUS[to].includes(from);
}

/** States in which an idle transactional id may be expired (Kafka's isExpirationAllowed). */
export function isExpirationAllowed(state: TransactionState): boolean {
  return state === 'Empty' || state === 'CompleteCommit' || state === 'CompleteAbort';
}

export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
/** Short.MAX_VALUE. */
export const MAX_PRODUCER_EPOCH = 32767;

/** Kafka's TransactionMetadata.isEpochExhausted: MAX is kept so a producer can always be fenced. */
export function isEpochExhausted(epoch: number): boolean {
  return epoch >= MAX_PRODUCER_EPOCH - 1;
}

/** A set of topic partitions, in insertion order. */
export class TopicPartitionSet {
  private readonly byKey = new Map<string, { topic: string; partition: number }>();

  constructor(items: Iterable<{ topic: string; partition: number }> = []) {
    for (const tp of items) this.add(tp.topic, tp.partition);
  }

  private static key(topic: string, partition: number): string {
    return `${partition}:${topic}`;
  }

  add(topic: string, partition: number): void {
    this.byKey.set(TopicPartitionSet.key(topic, partition), { topic, partition });
  }

  delete(topic: string, partition: number): void {
    this.byKey.delete(TopicPartitionSet.key(topic, partition));
  }

  has(topic: string, partition: number): boolean {
    return this.byKey.has(TopicPartitionSet.key(topic, partition));
  }

  get size(): number {
    return this.byKey.size;
  }

  values(): IterableIterator<{ topic: string; partition: number }> {
    return this.byKey.values();
  }

  copy(): TopicPartitionSet {
    return new TopicPartitionSet(this.byKey.values());
  }

  /** Topics with their partitions, topics in first-seen order, partitions ascending. */
  byTopic(): Array<{ topic: string; partitions: number[] }> {
    const out = new Map<string, number[]>();
    for (const { topic, partition } of this.byKey.values()) {
      const list = out.get(topic) ?? [];
      out.set(topic, list);
      list.push(partition);
    }
    return [...out].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
  }
}

/** The complete next state of a transactional id (Kafka's TxnTransitMetadata): what a record holds. */
export interface TxnTransit {
  producerId: bigint;
  prevProducerId: bigint;
  nextProducerId: bigint;
  producerEpoch: number;
  lastProducerEpoch: number;
  txnTimeoutMs: number;
  state: TransactionState;
  partitions: TopicPartitionSet;
  txnStartTimestamp: number;
  txnLastUpdateTimestamp: number;
  /** The client's transaction version: 0/1 (TV1 semantics) or 2 (KIP-890 part 2, epoch bump per txn). */
  clientTransactionVersion: number;
}

export class TransactionMetadata {
  producerId: bigint;
  prevProducerId: bigint;
  nextProducerId: bigint;
  producerEpoch: number;
  /** The epoch before the last bump; not in the log (-1 after a load), used by KIP-360 retries. */
  lastProducerEpoch: number;
  txnTimeoutMs: number;
  state: TransactionState;
  partitions: TopicPartitionSet;
  txnStartTimestamp: number;
  txnLastUpdateTimestamp: number;
  clientTransactionVersion: number;
  /** Set while a transition is being written; blocks every other transition. */
  pendingState: TransactionState | null = null;
  /** False until a record of this id was written or replayed (a brand-new id's first InitProducerId). */
  persisted: boolean;

  constructor(
    readonly transactionalId: string,
    t: TxnTransit,
    persisted: boolean,
  ) {
    this.producerId = t.producerId;
    this.prevProducerId = t.prevProducerId;
    this.nextProducerId = t.nextProducerId;
    this.producerEpoch = t.producerEpoch;
    this.lastProducerEpoch = t.lastProducerEpoch;
    this.txnTimeoutMs = t.txnTimeoutMs;
    this.state = t.state;
    this.partitions = t.partitions.copy();
    this.txnStartTimestamp = t.txnStartTimestamp;
    this.txnLastUpdateTimestamp = t.txnLastUpdateTimestamp;
    this.clientTransactionVersion = t.clientTransactionVersion;
    this.persisted = persisted;
  }

  get pendingTransitionInProgress(): boolean {
    return this.pendingState !== null;
  }

  get isProducerEpochExhausted(): boolean {
    return isEpochExhausted(this.producerEpoch);
  }

  /** The current state as a transit (the base every prepare*() changes). */
  snapshot(): TxnTransit {
    return {
      producerId: this.producerId,
      prevProducerId: this.prevProducerId,
      nextProducerId: this.nextProducerId,
      producerEpoch: this.producerEpoch,
      lastProducerEpoch: this.lastProducerEpoch,
      txnTimeoutMs: this.txnTimeoutMs,
      state: this.state,
      partitions: this.partitions.copy(),
      txnStartTimestamp: this.txnStartTimestamp,
      txnLastUpdateTimestamp: this.txnLastUpdateTimestamp,
      clientTransactionVersion: this.clientTransactionVersion,
    };
  }

  /** Checks and records the pending transition; `changes` is applied over the current state. */
  private prepareTransitionTo(state: TransactionState, changes: Partial<TxnTransit>): TxnTransit {
    if (this.pendingState !== null) {
      throw new Error(
        `${this.transactionalId}: preparing a transition to ${state} while ${this.pendingState} is pending`,
      );
    }
    const t: TxnTransit = { ...this.snapshot(), ...changes, state, prevProducerId: this.producerId };
    if (t.producerId < 0n) throw new Error(`${this.transactionalId}: illegal producer id ${t.producerId}`);
    if (state !== 'Dead' && t.producerEpoch < 0) {
      throw new Error(`${this.transactionalId}: illegal producer epoch ${t.producerEpoch}`);
    }
    if (!isValidTransition(this.state, state)) {
      throw new Error(`${this.transactionalId}: invalid transition from ${this.state} to ${state}`);
    }
    this.pendingState = state;
    return t;
  }

  /**
   * InitProducerId on Empty/Complete*: bump the epoch (Kafka's prepareIncrementProducerEpoch).
   * With KIP-360's expected epoch: a retry of a successful bump keeps the epoch; a stale epoch is
   * fenced (returns 'fenced' without preparing anything).
   */
  prepareIncrementProducerEpoch(
    newTxnTimeoutMs: number,
    expectedProducerEpoch: number | null,
    now: number,
  ): TxnTransit | 'fenced' {
    const bumped = this.producerEpoch + 1;
    let producerEpoch: number;
    let lastProducerEpoch: number;
    if (expectedProducerEpoch === null) {
      producerEpoch = bumped;
      lastProducerEpoch = NO_PRODUCER_EPOCH;
    } else if (this.producerEpoch === NO_PRODUCER_EPOCH || expectedProducerEpoch === this.producerEpoch) {
      producerEpoch = bumped;
      lastProducerEpoch = this.producerEpoch;
    } else if (expectedProducerEpoch === this.lastProducerEpoch) {
      // A retry of a bump whose response was lost: hand out the current epoch again.
      producerEpoch = this.producerEpoch;
      lastProducerEpoch = this.lastProducerEpoch;
    } else {
      return 'fenced';
    }
    // The caller rotates the producer id instead of bumping an exhausted epoch (Kafka throws here
    // too; only the no-bump retry above may pass with an exhausted epoch).
    if (producerEpoch !== this.producerEpoch && this.isProducerEpochExhausted) {
      throw new Error(`cannot allocate more producer epochs for producer id ${this.producerId}`);
    }
    return this.prepareTransitionTo('Empty', {
      producerEpoch,
      lastProducerEpoch,
      txnTimeoutMs: newTxnTimeoutMs,
      partitions: new TopicPartitionSet(),
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: now,
    });
  }

  /** InitProducerId when the epoch is exhausted: a new producer id at epoch 0. */
  prepareProducerIdRotation(
    newProducerId: bigint,
    newTxnTimeoutMs: number,
    now: number,
    recordLastEpoch: boolean,
  ): TxnTransit {
    return this.prepareTransitionTo('Empty', {
      producerId: newProducerId,
      producerEpoch: 0,
      lastProducerEpoch: recordLastEpoch ? this.producerEpoch : NO_PRODUCER_EPOCH,
      txnTimeoutMs: newTxnTimeoutMs,
      partitions: new TopicPartitionSet(),
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: now,
    });
  }

  /** AddPartitionsToTxn / AddOffsetsToTxn: Empty, Complete* or Ongoing -> Ongoing with the partitions added. */
  prepareAddPartitions(
    added: Iterable<{ topic: string; partition: number }>,
    now: number,
    clientTransactionVersion: number,
  ): TxnTransit {
    const starting =
      this.state === 'Empty' || this.state === 'CompleteAbort' || this.state === 'CompleteCommit';
    const partitions = this.partitions.copy();
    for (const tp of added) partitions.add(tp.topic, tp.partition);
    return this.prepareTransitionTo('Ongoing', {
      partitions,
      txnStartTimestamp: starting ? now : this.txnStartTimestamp,
      txnLastUpdateTimestamp: now,
      clientTransactionVersion,
    });
  }

  /**
   * EndTxn: -> PrepareCommit / PrepareAbort. With transaction V2 the epoch is bumped (the client
   * gets it in the EndTxn response); `nextProducerId` is the new id when that bump exhausts the epoch.
   * `fenceEpoch` is set when the coordinator aborts to fence the producer (timeout, InitProducerId
   * during an ongoing transaction): Kafka's PrepareEpochFence, the epoch first bumped by one (unless
   * already at MAX), then the abort's own V2 bump on top.
   */
  prepareAbortOrCommit(
    state: 'PrepareCommit' | 'PrepareAbort',
    clientTransactionVersion: number,
    nextProducerId: bigint,
    now: number,
    noPartitionAdded: boolean,
    fenceEpoch = false,
  ): TxnTransit {
    let base = this.producerEpoch;
    let baseLast = this.lastProducerEpoch;
    if (fenceEpoch) {
      // Kafka's prepareFenceProducerEpoch followed by the PrepareEpochFence -> PrepareAbort switch.
      if (!isValidTransition(this.state, 'PrepareEpochFence')) {
        throw new Error(`${this.transactionalId}: cannot fence the epoch in state ${this.state}`);
      }
      base = this.producerEpoch === MAX_PRODUCER_EPOCH ? this.producerEpoch : this.producerEpoch + 1;
      baseLast = NO_PRODUCER_EPOCH;
    }
    let producerEpoch: number;
    let lastProducerEpoch: number;
    if (clientTransactionVersion >= 2) {
      // An abort at MAX (a broken state) goes through without overflowing.
      producerEpoch = base === MAX_PRODUCER_EPOCH && state === 'PrepareAbort' ? base : base + 1;
      lastProducerEpoch = base;
    } else {
      producerEpoch = base;
      lastProducerEpoch = baseLast;
    }
    return this.prepareTransitionTo(state, {
      producerEpoch,
      lastProducerEpoch,
      txnStartTimestamp: noPartitionAdded ? now : this.txnStartTimestamp,
      nextProducerId,
      txnLastUpdateTimestamp: now,
      clientTransactionVersion,
    });
  }

  /** Markers written: PrepareCommit/PrepareAbort -> CompleteCommit/CompleteAbort. */
  prepareComplete(now: number): TxnTransit {
    const state = this.state === 'PrepareCommit' ? 'CompleteCommit' : 'CompleteAbort';
    const rotate = this.clientTransactionVersion >= 2 && this.nextProducerId !== NO_PRODUCER_ID;
    return this.prepareTransitionTo(state, {
      // The V2 bump overflowed: the client was handed the next producer id at epoch 0.
      producerId: rotate ? this.nextProducerId : this.producerId,
      producerEpoch: rotate ? 0 : this.producerEpoch,
      nextProducerId: NO_PRODUCER_ID,
      partitions: new TopicPartitionSet(),
      txnLastUpdateTimestamp: now,
    });
  }

  /** Expiration of an idle transactional id: the tombstone's pending state. */
  prepareDead(): TxnTransit {
    return this.prepareTransitionTo('Dead', { partitions: new TopicPartitionSet() });
  }

  /** The append of `t` is durable: it becomes the state. */
  completeTransition(t: TxnTransit): void {
    if (this.pendingState !== t.state) {
      throw new Error(`${this.transactionalId}: completing ${t.state} while pending ${this.pendingState}`);
    }
    this.producerId = t.producerId;
    this.prevProducerId = t.prevProducerId;
    this.nextProducerId = t.nextProducerId;
    this.producerEpoch = t.producerEpoch;
    this.lastProducerEpoch = t.lastProducerEpoch;
    this.txnTimeoutMs = t.txnTimeoutMs;
    this.state = t.state;
    this.partitions = t.partitions.copy();
    this.txnStartTimestamp = t.txnStartTimestamp;
    this.txnLastUpdateTimestamp = t.txnLastUpdateTimestamp;
    this.clientTransactionVersion = t.clientTransactionVersion;
    this.pendingState = null;
    this.persisted = true;
  }

  /** The append failed: nothing changed. */
  abortTransition(): void {
    this.pendingState = null;
  }
}
