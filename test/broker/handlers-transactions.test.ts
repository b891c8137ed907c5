// Transactions over the wire (raw requests, test/helpers/kafka-rpc.ts): what each API answers on
// the paths a client takes and on bad input, the last stable offset and aborted-transaction list
// a read_committed Fetch gets, ListOffsets with read_committed, the KIP-890 checks (a transactional
// produce to a partition not added to the transaction; a delayed EndTxn of an older epoch), and a
// broker restart in the middle of a transaction.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  AddOffsetsToTxnRequest,
  AddOffsetsToTxnResponse,
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  ApiKey,
  EndTxnRequest,
  EndTxnResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  WriteTxnMarkersRequest,
  WriteTxnMarkersResponse,
} from '../../src/protocol/generated/index.js';
import { decodeRecordSet, encodeRecordBatch } from '../../src/protocol/records/index.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';

const READ_COMMITTED = 1;
const silent = pino({ level: 'silent' });

interface Txn {
  id: string;
  producerId: bigint;
  epoch: number;
  /** Next sequence per partition. */
  seq: Map<number, number>;
}

class TxnClient {
  constructor(readonly rpc: KafkaRpc) {}

  async init(id: string, timeoutMs = 60_000, version = 4): Promise<Txn> {
    const r = await this.initRaw(id, timeoutMs, version);
    expect(r.errorCode).toBe(ErrorCode.NONE);
    return { id, producerId: r.producerId, epoch: r.producerEpoch, seq: new Map() };
  }

  initRaw(id: string | null, timeoutMs = 60_000, version = 4): Promise<InitProducerIdResponse> {
    return this.rpc.request(ApiKey.InitProducerId, version, InitProducerIdRequest, InitProducerIdResponse, {
      transactionalId: id,
      transactionTimeoutMs: timeoutMs,
      producerId: -1n,
      producerEpoch: -1,
    });
  }

  async add(t: Txn, topic: string, partitions: number[], version = 3): Promise<number[]> {
    const r = await this.rpc.request(
      ApiKey.AddPartitionsToTxn,
      version,
      AddPartitionsToTxnRequest,
      AddPartitionsToTxnResponse,
      {
        ...AddPartitionsToTxnRequest.default(),
        v3AndBelowTransactionalId: t.id,
        v3AndBelowProducerId: t.producerId,
        v3AndBelowProducerEpoch: t.epoch,
        v3AndBelowTopics: [{ name: topic, partitions }],
      },
    );
    return r.resultsByTopicV3AndBelow.flatMap((x) => x.resultsByPartition.map((p) => p.partitionErrorCode));
  }

  /** A transactional batch of `values` to topic-partition, with the producer's next sequence. */
  async produce(
    t: Txn,
    topic: string,
    partition: number,
    values: string[],
    transactionalId: string | null = t.id,
  ) {
    const seq = t.seq.get(partition) ?? 0;
    const records = encodeRecordBatch(
      values.map((v) => ({ key: null, value: Buffer.from(v), timestamp: Date.now() })),
      { producerId: t.producerId, producerEpoch: t.epoch, baseSequence: seq, isTransactional: true },
    );
    const r = await this.rpc.produceRecords(topic, partition, records, -1, transactionalId);
    if (r.errorCode === ErrorCode.NONE) t.seq.set(partition, seq + values.length);
    return r;
  }

  end(t: Txn, committed: boolean, version = 3, epoch = t.epoch): Promise<EndTxnResponse> {
    return this.rpc.request(ApiKey.EndTxn, version, EndTxnRequest, EndTxnResponse, {
      transactionalId: t.id,
      producerId: t.producerId,
      producerEpoch: epoch,
      committed,
    });
  }

  /** Values and aborted-transaction list of a read_committed (or uncommitted) fetch from 0. */
  async read(topic: string, partition: number, isolation = READ_COMMITTED) {
    const p = await this.rpc.fetchOnce(topic, partition, 0n, 8 << 20, isolation);
    const { batches } = decodeRecordSet(p.records ?? Buffer.alloc(0), { maxUncompressedBytes: 64 << 20 });
    const data = batches.filter((b) => b.magic !== 2 || !b.header.isControl);
    return {
      errorCode: p.errorCode,
      lastStableOffset: p.lastStableOffset,
      highWatermark: p.highWatermark,
      abortedTransactions: p.abortedTransactions,
      values: data.flatMap((b) => b.records.map((r) => r.value?.toString() ?? null)),
      controlBatches: batches.length - data.length,
    };
  }
}

describe('transactions over the wire', () => {
  let broker: Broker;
  let client: TxnClient;

  beforeAll(async () => {
    broker = await startBroker({
      // EndTxn v5 (KIP-890 part 2) is unstable upstream: served only when asked for.
      config: { 'transaction.max.timeout.ms': '120000', 'unstable.api.versions.enable': 'true' },
      logger: silent,
    });
    client = new TxnClient(await KafkaRpc.connect(broker.port));
    for (const t of ['tx-a', 'tx-b', 'tx-c', 'tx-d'])
      expect((await client.rpc.createTopic(t, 2)).errorCode).toBe(ErrorCode.NONE);
  });

  afterAll(async () => {
    client?.rpc.close();
    await broker?.stop();
  });

  it('FindCoordinator for a transactional id answers this broker and creates __transaction_state', async () => {
    const r = await client.rpc.request(
      ApiKey.FindCoordinator,
      3,
      FindCoordinatorRequest,
      FindCoordinatorResponse,
      {
        ...FindCoordinatorRequest.default(),
        key: 'some-txn',
        keyType: 1,
      },
    );
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.nodeId).toBe(broker.services.nodeId);
    expect(broker.services.metadata.image.topic('__transaction_state')).toBeDefined();
  });

  it('InitProducerId: the same id keeps its producer id and bumps the epoch; bad timeouts are refused', async () => {
    const first = await client.init('init-txn');
    const second = await client.init('init-txn');
    expect(second.producerId).toBe(first.producerId);
    expect(second.epoch).toBe(first.epoch + 1);
    expect((await client.initRaw('init-txn', 0)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await client.initRaw('init-txn', 120_001)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await client.initRaw('')).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('a transactional produce needs the transactional id and a partition added first', async () => {
    const t = await client.init('produce-checks');
    // Not added to the transaction (KIP-890 part 1).
    expect((await client.produce(t, 'tx-a', 0, ['x'])).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(await client.add(t, 'tx-a', [0])).toEqual([ErrorCode.NONE]);
    // Transactional records in a Produce without a transactional id.
    expect((await client.produce(t, 'tx-a', 0, ['x'], null)).errorCode).toBe(
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    );
    expect((await client.produce(t, 'tx-a', 0, ['x'])).errorCode).toBe(ErrorCode.NONE);
    expect((await client.end(t, false)).errorCode).toBe(ErrorCode.NONE);
  });

  it('AddPartitionsToTxn: an unknown partition fails the request, the others are not attempted', async () => {
    const t = await client.init('add-unknown');
    expect(await client.add(t, 'tx-a', [0, 7])).toEqual([
      ErrorCode.OPERATION_NOT_ATTEMPTED,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    const stale = { ...t, epoch: t.epoch - 1 };
    await client.init('add-unknown');
    // v1 predates PRODUCER_FENCED: a fenced producer hears INVALID_PRODUCER_EPOCH.
    expect(await client.add(stale, 'tx-a', [0], 1)).toEqual([ErrorCode.INVALID_PRODUCER_EPOCH]);
    expect(await client.add({ ...t, epoch: t.epoch - 1 }, 'tx-a', [0], 3)).toEqual([
      ErrorCode.PRODUCER_FENCED,
    ]);
    expect(await client.add({ ...t, producerId: 999_999n }, 'tx-a', [0])).toEqual([
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    ]);
  });

  it('read_committed stops at the last stable offset until the commit, then sees the records', async () => {
    const t = await client.init('commit-flow');
    expect(await client.add(t, 'tx-b', [0])).toEqual([ErrorCode.NONE]);
    const produced = await client.produce(t, 'tx-b', 0, ['c1', 'c2', 'c3']);
    expect(produced.errorCode).toBe(ErrorCode.NONE);

    const open = await client.read('tx-b', 0);
    expect(open.values).toEqual([]);
    expect(open.lastStableOffset).toBe(produced.baseOffset);
    expect(open.highWatermark).toBe(produced.baseOffset + 3n);
    expect((await client.read('tx-b', 0, 0)).values).toEqual(['c1', 'c2', 'c3']);
    expect((await client.rpc.listOffset('tx-b', 0, -1n, READ_COMMITTED)).offset).toBe(produced.baseOffset);
    expect((await client.rpc.listOffset('tx-b', 0, -1n)).offset).toBe(produced.baseOffset + 3n);

    expect((await client.end(t, true)).errorCode).toBe(ErrorCode.NONE);
    // The markers are written after EndTxn is answered: read until they are there.
    let done = await client.read('tx-b', 0);
    const deadline = Date.now() + 10_000;
    while (done.values.length === 0 && Date.now() < deadline) done = await client.read('tx-b', 0);
    expect(done.values).toEqual(['c1', 'c2', 'c3']);
    expect(done.controlBatches).toBe(1);
    expect(done.lastStableOffset).toBe(done.highWatermark);
    expect(done.abortedTransactions).toEqual([]);
    expect((await client.rpc.listOffset('tx-b', 0, -1n, READ_COMMITTED)).offset).toBe(
      produced.baseOffset + 4n,
    );
  });

  it('an aborted transaction is listed to read_committed fetchers, who drop its records', async () => {
    const t = await client.init('abort-flow');
    expect(await client.add(t, 'tx-c', [0, 1])).toEqual([ErrorCode.NONE, ErrorCode.NONE]);
    const p0 = await client.produce(t, 'tx-c', 0, ['a1', 'a2']);
    expect((await client.produce(t, 'tx-c', 1, ['a3'])).errorCode).toBe(ErrorCode.NONE);
    expect((await client.end(t, false)).errorCode).toBe(ErrorCode.NONE);
    let r = await client.read('tx-c', 0);
    const deadline = Date.now() + 10_000;
    while (r.controlBatches === 0 && Date.now() < deadline) r = await client.read('tx-c', 0);
    expect(r.lastStableOffset).toBe(r.highWatermark);
    expect(r.abortedTransactions).toEqual([{ producerId: t.producerId, firstOffset: p0.baseOffset }]);
    // The records are in the log (a read_committed client drops them using the list above).
    expect(r.values).toEqual(['a1', 'a2']);
    expect((await client.read('tx-c', 0, 0)).abortedTransactions).toBeNull();
  });

  it('AddOffsetsToTxn and an EndTxn retry: the same result is idempotent, the other is INVALID_TXN_STATE', async () => {
    const t = await client.init('offsets-flow');
    const added = await client.rpc.request(
      ApiKey.AddOffsetsToTxn,
      3,
      AddOffsetsToTxnRequest,
      AddOffsetsToTxnResponse,
      {
        transactionalId: t.id,
        producerId: t.producerId,
        producerEpoch: t.epoch,
        groupId: 'offsets-flow-group',
      },
    );
    expect(added.errorCode).toBe(ErrorCode.NONE);
    expect((await client.end(t, true)).errorCode).toBe(ErrorCode.NONE);
    // A retry while (or after) the markers are written: NONE or CONCURRENT_TRANSACTIONS, then NONE.
    let retry = await client.end(t, true);
    while (retry.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS) retry = await client.end(t, true);
    expect(retry.errorCode).toBe(ErrorCode.NONE);
    expect((await client.end(t, false)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('a delayed EndTxn of a finished transaction never ends the next one (KIP-890 part 2, EndTxn v5)', async () => {
    const t = await client.init('jepsen', 60_000, 5);
    expect(await client.add(t, 'tx-d', [0])).toEqual([ErrorCode.NONE]);
    expect((await client.produce(t, 'tx-d', 0, ['first'])).errorCode).toBe(ErrorCode.NONE);
    const oldEpoch = t.epoch;
    const committed = await client.end(t, true, 5);
    expect(committed.errorCode).toBe(ErrorCode.NONE);
    // Transaction version 2: every end bumps the epoch; the producer goes on with the new one.
    expect(committed.producerEpoch).toBe(oldEpoch + 1);
    t.epoch = committed.producerEpoch;
    t.seq.clear();
    let added = await client.add(t, 'tx-d', [0]);
    while (added[0] === ErrorCode.CONCURRENT_TRANSACTIONS) added = await client.add(t, 'tx-d', [0]);
    expect(added).toEqual([ErrorCode.NONE]);
    expect((await client.produce(t, 'tx-d', 0, ['second'])).errorCode).toBe(ErrorCode.NONE);
    // The first transaction's abort, delayed in the network, arrives now with the old epoch.
    const delayed = await client.end(t, false, 5, oldEpoch);
    expect(delayed.errorCode).not.toBe(ErrorCode.NONE);
    // The second transaction is still open and commits.
    expect((await client.end(t, true, 5)).errorCode).toBe(ErrorCode.NONE);
    let r = await client.read('tx-d', 0);
    const deadline = Date.now() + 10_000;
    while (r.values.length < 2 && Date.now() < deadline) r = await client.read('tx-d', 0);
    expect(r.values).toEqual(['first', 'second']);
    expect(r.abortedTransactions).toEqual([]);
  });

  it('WriteTxnMarkers writes markers for a coordinator elsewhere; unknown partitions say so', async () => {
    const t = await client.init('markers-api');
    expect(await client.add(t, 'tx-a', [1])).toEqual([ErrorCode.NONE]);
    expect((await client.produce(t, 'tx-a', 1, ['m'])).errorCode).toBe(ErrorCode.NONE);
    const r = await client.rpc.request(
      ApiKey.WriteTxnMarkers,
      1,
      WriteTxnMarkersRequest,
      WriteTxnMarkersResponse,
      {
        markers: [
          {
            producerId: t.producerId,
            producerEpoch: t.epoch,
            transactionResult: true,
            coordinatorEpoch: 0,
            topics: [
              { name: 'tx-a', partitionIndexes: [1] },
              { name: 'no-such-topic', partitionIndexes: [0] },
            ],
          },
        ],
      },
    );
    expect(r.markers[0].topics.map((x) => x.partitions[0].errorCode)).toEqual([
      ErrorCode.NONE,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    const read = await client.read('tx-a', 1);
    expect(read.values).toContain('m');
    expect(read.lastStableOffset).toBe(read.highWatermark);
    // The coordinator still thinks the transaction is open: end it so it is not left hanging.
    expect((await client.end(t, true)).errorCode).toBe(ErrorCode.NONE);
  });
});

describe('a broker restart in the middle of a transaction', () => {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-txn-restart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the open transaction is aborted once it times out: the partition is not stuck', async () => {
    const config = {
      'log.dirs': dir,
      'transaction.abort.timed.out.transaction.cleanup.interval.ms': '200',
    };
    let broker = await startBroker({ config, logger: silent });
    let client = new TxnClient(await KafkaRpc.connect(broker.port));
    expect((await client.rpc.createTopic('restart-txn', 1)).errorCode).toBe(ErrorCode.NONE);
    const t = await client.init('restart-txn', 1000);
    expect(await client.add(t, 'restart-txn', [0])).toEqual([ErrorCode.NONE]);
    const produced = await client.produce(t, 'restart-txn', 0, ['open-1', 'open-2']);
    expect(produced.errorCode).toBe(ErrorCode.NONE);
    client.rpc.close();
    await broker.stop();

    broker = await startBroker({ config, logger: silent });
    client = new TxnClient(await KafkaRpc.connect(broker.port));
    try {
      // Right after the restart the transaction is still open: the LSO holds at its first offset.
      const before = await client.read('restart-txn', 0);
      expect(before.lastStableOffset).toBe(produced.baseOffset);
      let r = before;
      const deadline = Date.now() + 20_000;
      while (r.lastStableOffset !== r.highWatermark && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 100));
        r = await client.read('restart-txn', 0);
      }
      expect(r.lastStableOffset).toBe(r.highWatermark);
      expect(r.abortedTransactions).toEqual([{ producerId: t.producerId, firstOffset: produced.baseOffset }]);
      // The timed-out producer was fenced: its epoch is no longer current.
      expect((await client.end(t, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    } finally {
      client.rpc.close();
      await broker.stop();
    }
  }, 60_000);
});
