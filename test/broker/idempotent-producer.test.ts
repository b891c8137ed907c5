// The idempotent producer over the wire (raw requests, test/helpers/kafka-rpc.ts): InitProducerId
// hands out distinct ids, never the same twice across restarts; a retried batch is acknowledged
// with its original offset and stored once; a gap is OUT_OF_ORDER_SEQUENCE_NUMBER, an old epoch
// INVALID_PRODUCER_EPOCH; DescribeProducers shows the producer; deduplication holds across a clean
// restart (in process) and across kill -9 (test/helpers/broker-process.ts).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  ApiKey,
  DescribeProducersRequest,
  DescribeProducersResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
} from '../../src/protocol/generated/index.js';
import { encodeRecordBatch } from '../../src/protocol/records/index.js';
import { BrokerProcess, buildBroker, removeBrokerBuild, stopAllBrokers } from '../helpers/broker-process.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'samsa-idempotent-'));
  dirs.push(d);
  return d;
}

afterAll(async () => {
  await stopAllBrokers();
  removeBrokerBuild();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function initProducerId(
  rpc: KafkaRpc,
  body: Partial<InitProducerIdRequest> = {},
  version = 4,
): Promise<InitProducerIdResponse> {
  return rpc.request(ApiKey.InitProducerId, version, InitProducerIdRequest, InitProducerIdResponse, {
    transactionalId: null,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
    ...body,
  });
}

/** An idempotent batch of `count` records with sequences from `seq`; values "<tag>-<seq>". */
function batch(producerId: bigint, epoch: number, seq: number, count = 1, tag = 'r'): Buffer {
  return encodeRecordBatch(
    Array.from({ length: count }, (_, i) => ({
      key: null,
      value: Buffer.from(`${tag}-${seq + i}`),
      timestamp: Date.now(),
    })),
    { producerId, producerEpoch: epoch, baseSequence: seq },
  );
}

async function values(rpc: KafkaRpc, topic: string): Promise<string[]> {
  return (await rpc.readPartition(topic, 0)).records.map((r) => r.value ?? '');
}

async function startInProcess(dir: string): Promise<Broker> {
  return startBroker({
    config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir },
    logger: pino({ level: 'silent' }),
  });
}

describe('idempotent producer (in-process broker)', () => {
  let broker: Broker;
  let rpc: KafkaRpc;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir();
    broker = await startInProcess(dir);
    rpc = await KafkaRpc.connect(broker.port);
  });

  afterAll(async () => {
    rpc?.close();
    await broker?.stop();
  });

  it('InitProducerId gives a new id with epoch 0 to every caller, and refuses what Kafka refuses', async () => {
    const answers = await Promise.all(
      [0, 1, 2, 3, 4, 5, 4, 4].map((v) => initProducerId(rpc, {}, v).then((r) => ({ v, r }))),
    );
    for (const { r } of answers) expect(r).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 0 });
    const ids = answers.map((a) => a.r.producerId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toBeGreaterThanOrEqual(0n);
    // KIP-360 without a transactional id: Kafka hands out a fresh id, not a bump of the old one.
    const again = await initProducerId(rpc, { producerId: ids[0], producerEpoch: 0 });
    expect(again.errorCode).toBe(ErrorCode.NONE);
    expect(ids).not.toContain(again.producerId);
    expect(again.producerEpoch).toBe(0);
    expect(await initProducerId(rpc, { producerId: 5n, producerEpoch: -1 })).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      producerId: -1n,
    });
    expect((await initProducerId(rpc, { transactionalId: '' })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    // With a transactional id the transaction coordinator answers (handlers-transactions.test.ts).
    expect((await initProducerId(rpc, { transactionalId: 'tx' })).errorCode).toBe(ErrorCode.NONE);
  });

  it('acknowledges a retried batch with its original offset and stores it once', async () => {
    expect((await rpc.createTopic('retry', 1)).errorCode).toBe(ErrorCode.NONE);
    const { producerId } = await initProducerId(rpc);
    const first = await rpc.produceRecords('retry', 0, batch(producerId, 0, 0, 3));
    expect(first).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n });
    const second = await rpc.produceRecords('retry', 0, batch(producerId, 0, 3, 2));
    expect(second).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 3n });
    // Retries of both retained batches, pipelined with a new one.
    const [r1, r2, third] = await Promise.all([
      rpc.produceRecords('retry', 0, batch(producerId, 0, 0, 3)),
      rpc.produceRecords('retry', 0, batch(producerId, 0, 3, 2)),
      rpc.produceRecords('retry', 0, batch(producerId, 0, 5, 1)),
    ]);
    expect(r1).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n });
    expect(r2).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 3n });
    expect(third).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 5n });
    expect(await values(rpc, 'retry')).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'r-4', 'r-5']);
  });

  it('answers a gap with OUT_OF_ORDER_SEQUENCE_NUMBER and an old epoch with INVALID_PRODUCER_EPOCH', async () => {
    expect((await rpc.createTopic('checks', 1)).errorCode).toBe(ErrorCode.NONE);
    const { producerId } = await initProducerId(rpc);
    expect((await rpc.produceRecords('checks', 0, batch(producerId, 2, 0, 2))).errorCode).toBe(
      ErrorCode.NONE,
    );
    const gap = await rpc.produceRecords('checks', 0, batch(producerId, 2, 3));
    expect(gap).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, baseOffset: -1n });
    const old = await rpc.produceRecords('checks', 0, batch(producerId, 1, 2));
    expect(old.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    const newEpochNotAtZero = await rpc.produceRecords('checks', 0, batch(producerId, 3, 2));
    expect(newEpochNotAtZero.errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    // A producer id with a negative sequence is not a valid batch (Kafka's LogValidator).
    const noSeq = await rpc.produceRecords('checks', 0, batch(producerId, 2, -1));
    expect(noSeq.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect((await rpc.produceRecords('checks', 0, batch(producerId, 2, 2))).baseOffset).toBe(2n);
    expect(await values(rpc, 'checks')).toEqual(['r-0', 'r-1', 'r-2']);
  });

  it('DescribeProducers lists the producers of a partition', async () => {
    expect((await rpc.createTopic('described', 2)).errorCode).toBe(ErrorCode.NONE);
    const { producerId } = await initProducerId(rpc);
    await rpc.produceRecords('described', 1, batch(producerId, 0, 0, 4));
    const res = await rpc.request(
      ApiKey.DescribeProducers,
      0,
      DescribeProducersRequest,
      DescribeProducersResponse,
      {
        topics: [
          { name: 'described', partitionIndexes: [0, 1, 7] },
          { name: 'nope', partitionIndexes: [0] },
        ],
      },
    );
    const [p0, p1, p7] = res.topics[0].partitions;
    expect(p0).toMatchObject({ partitionIndex: 0, errorCode: 0, activeProducers: [] });
    expect(p1.activeProducers).toEqual([
      {
        producerId,
        producerEpoch: 0,
        lastSequence: 3,
        lastTimestamp: expect.any(BigInt),
        coordinatorEpoch: -1,
        currentTxnStartOffset: -1n,
      },
    ]);
    expect(p7.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(res.topics[1].partitions[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});

describe('idempotent producer across restarts', () => {
  it('keeps ids unique and recognises a retry after a clean restart', async () => {
    const dir = tempDir();
    let broker = await startInProcess(dir);
    let rpc = await KafkaRpc.connect(broker.port);
    expect((await rpc.createTopic('restart', 1)).errorCode).toBe(ErrorCode.NONE);
    const ids: bigint[] = [];
    for (let i = 0; i < 5; i++) ids.push((await initProducerId(rpc)).producerId);
    const producerId = ids[0];
    for (let s = 0; s < 4; s++) {
      expect((await rpc.produceRecords('restart', 0, batch(producerId, 0, s))).baseOffset).toBe(BigInt(s));
    }
    rpc.close();
    await broker.stop();

    broker = await startInProcess(dir);
    rpc = await KafkaRpc.connect(broker.port);
    try {
      for (let i = 0; i < 5; i++) ids.push((await initProducerId(rpc)).producerId);
      expect(new Set(ids).size).toBe(ids.length);
      // The last batch before the stop is still known (the snapshot written at shutdown).
      const retry = await rpc.produceRecords('restart', 0, batch(producerId, 0, 3));
      expect(retry).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 3n });
      const gap = await rpc.produceRecords('restart', 0, batch(producerId, 0, 5));
      expect(gap.errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      expect((await rpc.produceRecords('restart', 0, batch(producerId, 0, 4))).baseOffset).toBe(4n);
      expect(await values(rpc, 'restart')).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'r-4']);
    } finally {
      rpc.close();
      await broker.stop();
    }
  });

  describe('kill -9', () => {
    beforeAll(async () => {
      await buildBroker();
    }, 180_000);

    it('recognises retries of the last batches and never repeats an id after kill -9', async () => {
      let b = await BrokerProcess.start({ dataDir: tempDir() });
      let rpc = await KafkaRpc.connect(b.port);
      expect((await rpc.createTopic('crash', 1)).errorCode).toBe(ErrorCode.NONE);
      const ids: bigint[] = [];
      for (let i = 0; i < 3; i++) ids.push((await initProducerId(rpc)).producerId);
      const [p1, p2] = ids;
      // Interleaved producers; every answer came after the fsync (acks=all).
      for (let s = 0; s < 10; s++) {
        expect((await rpc.produceRecords('crash', 0, batch(p1, 0, 2 * s, 2, 'a'))).errorCode).toBe(0);
        expect((await rpc.produceRecords('crash', 0, batch(p2, 0, s, 1, 'b'))).errorCode).toBe(0);
      }
      const before = await values(rpc, 'crash');
      rpc.close();
      await b.kill();

      b = await b.restart();
      rpc = await KafkaRpc.connect(b.port);
      for (let i = 0; i < 3; i++) ids.push((await initProducerId(rpc)).producerId);
      expect(new Set(ids).size).toBe(ids.length);
      // Each of the five retained batches of each producer is a duplicate, with its offset.
      for (let s = 5; s < 10; s++) {
        expect(await rpc.produceRecords('crash', 0, batch(p1, 0, 2 * s, 2, 'a'))).toMatchObject({
          errorCode: 0,
          baseOffset: BigInt(3 * s),
        });
        expect(await rpc.produceRecords('crash', 0, batch(p2, 0, s, 1, 'b'))).toMatchObject({
          errorCode: 0,
          baseOffset: BigInt(3 * s + 2),
        });
      }
      expect((await rpc.produceRecords('crash', 0, batch(p2, 0, 11, 1, 'b'))).errorCode).toBe(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      );
      expect((await rpc.produceRecords('crash', 0, batch(p2, 0, 10, 1, 'b'))).baseOffset).toBe(30n);
      const after = await values(rpc, 'crash');
      expect(after).toEqual([...before, 'b-10']);

      // A second kill -9 right away: the state rebuilt at the first restart is there again.
      rpc.close();
      await b.kill();
      b = await b.restart();
      rpc = await KafkaRpc.connect(b.port);
      expect(await rpc.produceRecords('crash', 0, batch(p2, 0, 10, 1, 'b'))).toMatchObject({
        errorCode: 0,
        baseOffset: 30n,
      });
      expect(await values(rpc, 'crash')).toEqual(after);
      rpc.close();
      await b.stop();
    }, 120_000);
  });
});
