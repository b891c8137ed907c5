// A Produce from a fenced transactional producer answers INVALID_PRODUCER_EPOCH, as Kafka's
// AddPartitionsToTxnManager maps the coordinator's PRODUCER_FENCED for Produce, so that librdkafka
// raises its fatal "fenced" error (the producer instance is done) rather than an abortable one
// (which would let it abort and go on beside the producer that replaced it). Checked with
// confluent-kafka-python (python/fenced_producer.py) and on the wire.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/api-keys.js';
import {
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
} from '../../src/protocol/generated/index.js';
import { encodeRecordBatch } from '../../src/protocol/records/encode.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';
import { hasConfluentKafka, PYTHON, requireClient, run } from '../helpers/tools.js';
import { startTestBroker, type TestBroker } from './node-helpers.js';

const SCRIPT = join(import.meta.dirname, 'python', 'fenced_producer.py');

let tb: TestBroker;
let rpc: KafkaRpc;

beforeAll(async () => {
  tb = await startTestBroker('fenced', { 'group.initial.rebalance.delay.ms': '0' });
  rpc = await KafkaRpc.connect(tb.broker.port);
  expect((await rpc.createTopic('fenced', 1)).errorCode).toBe(0);
  expect((await rpc.createTopic('fenced-wire', 1)).errorCode).toBe(0);
});

afterAll(async () => {
  rpc?.close();
  await tb?.stop();
});

describe('a fenced transactional producer', () => {
  it('gets INVALID_PRODUCER_EPOCH for its Produce on the wire (PRODUCER_FENCED mapped, v3 to v11)', async () => {
    const txnId = 'fenced-wire-txn';
    const coord = await rpc.request(
      ApiKey.FindCoordinator,
      4,
      FindCoordinatorRequest,
      FindCoordinatorResponse,
      {
        key: '',
        keyType: 1,
        coordinatorKeys: [txnId],
      },
    );
    expect(coord.coordinators[0].errorCode).toBe(0);
    const init = () =>
      rpc.request(ApiKey.InitProducerId, 4, InitProducerIdRequest, InitProducerIdResponse, {
        transactionalId: txnId,
        transactionTimeoutMs: 60_000,
        producerId: -1n,
        producerEpoch: -1,
      });
    const first = await init();
    expect(first.errorCode).toBe(0);
    const added = await rpc.request(
      ApiKey.AddPartitionsToTxn,
      3,
      AddPartitionsToTxnRequest,
      AddPartitionsToTxnResponse,
      {
        transactions: [],
        v3AndBelowTransactionalId: txnId,
        v3AndBelowProducerId: first.producerId,
        v3AndBelowProducerEpoch: first.producerEpoch,
        v3AndBelowTopics: [{ name: 'fenced-wire', partitions: [0] }],
      },
    );
    expect(added.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode).toBe(0);
    const batch = (seq: number, value: string) =>
      encodeRecordBatch([{ value: Buffer.from(value) }], {
        producerId: first.producerId,
        producerEpoch: first.producerEpoch,
        baseSequence: seq,
        isTransactional: true,
      });
    const ok = await rpc.produceRecords('fenced-wire', 0, batch(0, 'a'), -1, txnId);
    expect(ok.errorCode).toBe(0);
    // A second InitProducerId for the same id fences the first producer (its epoch is bumped);
    // CONCURRENT_TRANSACTIONS while the first one's open transaction is being aborted, retried
    // as clients do.
    let second = await init();
    while (second.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS) {
      await new Promise((r) => setTimeout(r, 20));
      second = await init();
    }
    expect(second.errorCode).toBe(0);
    expect(second.producerEpoch).toBeGreaterThan(first.producerEpoch);
    const fenced = await rpc.produceRecords('fenced-wire', 0, batch(1, 'b'), -1, txnId);
    expect(fenced.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))(
    "surfaces librdkafka's fatal fenced error in confluent-kafka-python",
    async () => {
      const r = await run(PYTHON, [SCRIPT, tb.broker.bootstrap, 'fenced', 'fenced-txn']);
      expect(r.code, r.stderr).toBe(0);
      type Outcome = { ok?: boolean; name?: string; code?: number; fatal?: boolean; abortable?: boolean };
      const out = JSON.parse(r.stdout) as {
        delivery: (string | null)[];
        fenced_code: number;
        flush: Outcome;
        commit: Outcome;
      };
      // The record produced after the fence raises librdkafka's fatal fenced error (before the fix:
      // an abortable PRODUCER_FENCED, which let the old producer abort and go on); committing
      // fails with it too.
      const fatalFenced = { code: out.fenced_code, fatal: true, abortable: false };
      expect(out.flush).toMatchObject(fatalFenced);
      expect(out.commit).toMatchObject(fatalFenced);
      // Delivered: the first record of the old producer and the new producer's record.
      expect(out.delivery.filter((d) => d === null)).toHaveLength(2);
      expect(out.delivery[0]).toBeNull();
      expect(out.delivery.at(-1)).toBeNull();
    },
  );
});
