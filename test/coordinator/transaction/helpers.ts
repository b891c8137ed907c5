// Test fixtures for the transaction coordinator: a fake clock, an in-memory __transaction_state
// (that can fail and hold appends), a marker writer that records the markers it writes and can fail
// per partition, and a Harness speaking the coordinator's API.

import {
  TransactionCoordinator,
  type TransactionCoordinatorConfig,
} from '../../../src/coordinator/transaction/coordinator.js';
import {
  parseTransactionLogKey,
  parseTransactionLogValue,
} from '../../../src/coordinator/transaction/records.js';
import {
  type TransactionStore,
  TransactionStoreError,
  type TxnMarkerWriter,
  type WriteMarkersRequest,
  type WriteMarkersResult,
} from '../../../src/coordinator/transaction/store.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { SimulatedTime } from '../../../src/util/clock.js';

export interface StoredRecord {
  partition: number;
  key: Buffer;
  value: Buffer | null;
  /** false when the coordinator did not wait for the record to be durable (unset: it did). */
  durable?: boolean;
}

/** __transaction_state in memory: records in append order; `hold()` delays durability until `release()`. */
export class MemoryTxnStore implements TransactionStore {
  readonly records: StoredRecord[] = [];
  appends = 0;
  private failures: number[] = [];
  private holding = false;
  private held: Array<() => void> = [];

  failNext(errorCode: number, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(errorCode);
  }

  hold(): void {
    this.holding = true;
  }

  release(): void {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const done of held) done();
  }

  get heldCount(): number {
    return this.held.length;
  }

  append(
    partition: number,
    key: Buffer,
    value: Buffer | null,
    opts: { durable?: boolean } = {},
  ): Promise<void> {
    this.appends++;
    const failure = this.failures.shift();
    if (failure !== undefined) return Promise.reject(new TransactionStoreError(failure, 'injected failure'));
    const durable = opts.durable !== false;
    this.records.push({ partition, key, value, durable });
    if (!this.holding || !durable) return Promise.resolve();
    return new Promise((resolve) => this.held.push(resolve));
  }

  /** The decoded records of one transactional id, in log order (null for a tombstone). */
  history(transactionalId: string) {
    return this.records
      .filter((r) => parseTransactionLogKey(r.key) === transactionalId)
      .map((r) => (r.value === null ? null : parseTransactionLogValue(r.value)));
  }

  /** The states written for one transactional id, in log order ('tombstone' for null). */
  states(transactionalId: string): string[] {
    return this.history(transactionalId).map((t) => (t === null ? 'tombstone' : t.state));
  }
}

export interface WrittenMarker {
  topic: string;
  partition: number;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  commit: boolean;
  transactionVersion: number | undefined;
}

/**
 * Writes markers in memory. `failPartition(topic, partition, code, times)` makes the next attempts
 * on that partition answer `code`; `deleted` partitions answer UNKNOWN_TOPIC_OR_PARTITION;
 * `rejectNext` makes whole calls reject.
 */
export class FakeMarkerWriter implements TxnMarkerWriter {
  readonly calls: WriteMarkersRequest[] = [];
  readonly written: WrittenMarker[] = [];
  readonly deleted = new Set<string>();
  rejectNext = 0;
  private failures = new Map<string, number[]>();

  failPartition(topic: string, partition: number, errorCode: number, times = 1): void {
    const list = this.failures.get(`${topic}-${partition}`) ?? [];
    for (let i = 0; i < times; i++) list.push(errorCode);
    this.failures.set(`${topic}-${partition}`, list);
  }

  async writeMarkers(m: WriteMarkersRequest): Promise<WriteMarkersResult[]> {
    this.calls.push({ ...m, partitions: [...m.partitions] });
    if (this.rejectNext > 0) {
      this.rejectNext--;
      throw new Error('injected marker writer failure');
    }
    return m.partitions.map(({ topic, partition }) => {
      const key = `${topic}-${partition}`;
      if (this.deleted.has(key)) return { topic, partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      const failure = this.failures.get(key)?.shift();
      if (failure !== undefined) return { topic, partition, errorCode: failure };
      this.written.push({
        topic,
        partition,
        producerId: m.producerId,
        producerEpoch: m.producerEpoch,
        coordinatorEpoch: m.coordinatorEpoch,
        commit: m.commit,
        transactionVersion: m.transactionVersion,
      });
      return { topic, partition, errorCode: ErrorCode.NONE };
    });
  }
}

/** Lets every pending promise continuation run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Observes a promise without awaiting it. */
export function track<T>(p: Promise<T>): { readonly done: boolean; readonly value: T } {
  const state: { done: boolean; value: T | undefined } = { done: false, value: undefined };
  p.then((v) => {
    state.done = true;
    state.value = v;
  });
  return {
    get done() {
      return state.done;
    },
    get value() {
      if (!state.done) throw new Error('promise not settled yet');
      return state.value as T;
    },
  };
}

export type Config = Partial<TransactionCoordinatorConfig>;

export const TIMEOUT_MS = 60000;

export class Harness {
  readonly time: SimulatedTime;
  readonly store: MemoryTxnStore;
  readonly markers: FakeMarkerWriter;
  readonly coordinator: TransactionCoordinator;
  readonly logs: Array<{ level: string; msg?: string; o: object }> = [];
  nextProducerId: { value: bigint };
  producerIdFailure: number | null = null;

  constructor(
    readonly config: Config = {},
    shared?: {
      time: SimulatedTime;
      store: MemoryTxnStore;
      markers: FakeMarkerWriter;
      nextProducerId: { value: bigint };
    },
  ) {
    this.time = shared?.time ?? new SimulatedTime();
    this.store = shared?.store ?? new MemoryTxnStore();
    this.markers = shared?.markers ?? new FakeMarkerWriter();
    this.nextProducerId = shared?.nextProducerId ?? { value: 1000n };
    this.coordinator = new TransactionCoordinator({
      ...config,
      time: this.time,
      store: this.store,
      markers: this.markers,
      generateProducerId: async () => {
        if (this.producerIdFailure !== null) {
          throw Object.assign(new Error('no producer ids'), { errorCode: this.producerIdFailure });
        }
        return this.nextProducerId.value++;
      },
      groupPartitionFor: (groupId) => groupId.length % 50,
      logger: {
        info: (o, msg) => this.logs.push({ level: 'info', msg, o }),
        warn: (o, msg) => this.logs.push({ level: 'warn', msg, o }),
      },
    });
  }

  static started(config: Config = {}): Harness {
    const h = new Harness(config);
    h.coordinator.startup();
    return h;
  }

  /** A new coordinator (same clock, store, marker writer) loaded by replaying every stored record, started. */
  reload(config: Config = this.config): Harness {
    this.coordinator.shutdown();
    const h = new Harness(config, {
      time: this.time,
      store: this.store,
      markers: this.markers,
      nextProducerId: this.nextProducerId,
    });
    for (const r of this.store.records) h.coordinator.replay(r.partition, r.key, r.value);
    h.coordinator.startup();
    return h;
  }

  /** Moves the clock by `ms` timer by timer, letting the promises each timer wakes run before the next. */
  async advance(ms: number): Promise<void> {
    const target = this.time.now() + ms;
    for (;;) {
      const next = this.time.nextTaskAt();
      if (next === null || next > target) break;
      this.time.advance(next - this.time.now());
      await settle();
    }
    this.time.advance(target - this.time.now());
    await settle();
  }

  init(
    id = 'txn',
    timeoutMs = TIMEOUT_MS,
    expected: { producerId: bigint; producerEpoch: number } | null = null,
  ) {
    return this.coordinator.initProducerId(id, timeoutMs, expected);
  }

  /** InitProducerId that must succeed. */
  async initOk(id = 'txn', timeoutMs = TIMEOUT_MS): Promise<{ producerId: bigint; producerEpoch: number }> {
    const r = await this.init(id, timeoutMs);
    if (r.errorCode !== ErrorCode.NONE) throw new Error(`InitProducerId failed: ${r.errorCode}`);
    return { producerId: r.producerId, producerEpoch: r.producerEpoch };
  }

  add(
    p: { producerId: bigint; producerEpoch: number },
    partitions: Array<[string, number]> = [['t', 0]],
    id = 'txn',
    v2 = false,
  ): Promise<number> {
    return this.coordinator.addPartitionsToTxn(
      id,
      p.producerId,
      p.producerEpoch,
      partitions.map(([topic, partition]) => ({ topic, partition })),
      { isTransactionV2: v2 },
    );
  }

  end(p: { producerId: bigint; producerEpoch: number }, commit: boolean, id = 'txn', v2 = false) {
    return this.coordinator.endTxn(id, p.producerId, p.producerEpoch, commit, { isTransactionV2: v2 });
  }

  describe(id = 'txn') {
    return this.coordinator.describeTransactions([id])[0];
  }

  state(id = 'txn'): string {
    return this.describe(id).transactionState;
  }
}
