// Committed transactions per second: N transactional producers (N from BENCH_PRODUCERS, default
// 64, 256 and 1,024 in turn), each on its own connection,
// run transactions of RECORDS_PER_TXN records of 100 bytes (one batch to one partition) back to
// back: AddPartitionsToTxn, Produce (acks=all), EndTxn(commit), each waiting for the previous
// answer, as a client's commitTransaction does. Beside it, in the same run, the baseline: the same
// producers sending the same batches without transactions (idempotent, acks=all), so the figure
// says what the transaction protocol costs on this machine, not how fast the machine is.
//
//   npm run build && node dist/bench/transactions.js
//
// The broker runs in a child process with its default durability (fsync before every ack; the
// coordinator's __transaction_state writes and the markers likewise).

import { mkdtempSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ApiKey } from '../src/protocol/generated/api-keys.js';
import { AddPartitionsToTxnRequest } from '../src/protocol/generated/messages/AddPartitionsToTxnRequest.js';
import { AddPartitionsToTxnResponse } from '../src/protocol/generated/messages/AddPartitionsToTxnResponse.js';
import { CreateTopicsRequest } from '../src/protocol/generated/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../src/protocol/generated/messages/CreateTopicsResponse.js';
import { EndTxnRequest } from '../src/protocol/generated/messages/EndTxnRequest.js';
import { EndTxnResponse } from '../src/protocol/generated/messages/EndTxnResponse.js';
import { FindCoordinatorRequest } from '../src/protocol/generated/messages/FindCoordinatorRequest.js';
import { FindCoordinatorResponse } from '../src/protocol/generated/messages/FindCoordinatorResponse.js';
import { InitProducerIdRequest } from '../src/protocol/generated/messages/InitProducerIdRequest.js';
import { InitProducerIdResponse } from '../src/protocol/generated/messages/InitProducerIdResponse.js';
import { ProduceRequest } from '../src/protocol/generated/messages/ProduceRequest.js';
import { ProduceResponse } from '../src/protocol/generated/messages/ProduceResponse.js';
import { encodeRecordBatch } from '../src/protocol/records/encode.js';
import { BenchConnection } from './rpc.js';
import { root, startBroker } from './samsa-process.js';

/** Producer counts, one pair of rows each: a transactional producer has one request out at a time. */
const PRODUCERS = (process.env.BENCH_PRODUCERS ?? '64,256,1024').split(',').map(Number);
const RECORDS_PER_TXN = 100;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const PARTITIONS = 16;
const TOPIC = 'txn-bench';

const work = mkdtempSync(join(process.env.BENCH_DIR ?? root, '.bench-transactions-'));

interface Producer {
  c: BenchConnection;
  transactionalId: string | null;
  producerId: bigint;
  producerEpoch: number;
  partition: number;
  sequence: number;
}

function batch(p: Producer, transactional: boolean): Buffer {
  const value = Buffer.alloc(100, 't');
  const now = Date.now();
  const records = Array.from({ length: RECORDS_PER_TXN }, () => ({ key: null, value, timestamp: now }));
  const b = encodeRecordBatch(records, {
    producerId: p.producerId,
    producerEpoch: p.producerEpoch,
    baseSequence: p.sequence,
    isTransactional: transactional,
  });
  p.sequence += RECORDS_PER_TXN;
  return b;
}

async function produce(p: Producer, transactional: boolean): Promise<void> {
  const res = await p.c.request(ApiKey.Produce, 9, ProduceRequest, ProduceResponse, {
    transactionalId: p.transactionalId,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [{ name: TOPIC, partitionData: [{ index: p.partition, records: batch(p, transactional) }] }],
  });
  const code = res.responses[0].partitionResponses[0].errorCode;
  if (code !== 0) throw new Error(`produce failed with error ${code}`);
}

/** CONCURRENT_TRANSACTIONS answers (the previous transaction still completing), retried at once. */
let concurrentRetries = 0;

async function transaction(p: Producer): Promise<void> {
  for (;;) {
    const code = await addPartition(p);
    if (code === 0) break;
    if (code !== 51) throw new Error(`AddPartitionsToTxn failed with error ${code}`);
    concurrentRetries++;
  }
  await produce(p, true);
  for (;;) {
    const ended = await p.c.request(ApiKey.EndTxn, 3, EndTxnRequest, EndTxnResponse, {
      transactionalId: p.transactionalId!,
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      committed: true,
    });
    if (ended.errorCode === 0) return;
    if (ended.errorCode !== 51) throw new Error(`EndTxn failed with error ${ended.errorCode}`);
    concurrentRetries++;
  }
}

async function addPartition(p: Producer): Promise<number> {
  const added = await p.c.request(
    ApiKey.AddPartitionsToTxn,
    3,
    AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse,
    {
      ...AddPartitionsToTxnRequest.default(),
      v3AndBelowTransactionalId: p.transactionalId!,
      v3AndBelowProducerId: p.producerId,
      v3AndBelowProducerEpoch: p.producerEpoch,
      v3AndBelowTopics: [{ name: TOPIC, partitions: [p.partition] }],
    },
  );
  return added.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode;
}

/** Runs `op` back to back on every producer for DURATION_MS; returns operations per second. */
async function drive(producers: Producer[], op: (p: Producer) => Promise<void>): Promise<number> {
  let done = 0;
  const t0 = performance.now();
  const end = t0 + DURATION_MS;
  await Promise.all(
    producers.map(async (p) => {
      while (performance.now() < end) {
        await op(p);
        done++;
      }
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

async function initProducer(
  c: BenchConnection,
  transactionalId: string | null,
  i: number,
): Promise<Producer> {
  for (;;) {
    const init = await c.request(ApiKey.InitProducerId, 4, InitProducerIdRequest, InitProducerIdResponse, {
      transactionalId,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    if (init.errorCode === 0) {
      return {
        c,
        transactionalId,
        producerId: init.producerId,
        producerEpoch: init.producerEpoch,
        partition: i % PARTITIONS,
        sequence: 0,
      };
    }
    // COORDINATOR_LOAD_IN_PROGRESS / CONCURRENT_TRANSACTIONS / NOT_COORDINATOR: retry.
    if (![14, 15, 16, 51].includes(init.errorCode)) throw new Error(`InitProducerId: ${init.errorCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<void> {
  // BENCH_OVERRIDES="log.flush.interval.ms=1000" measures Kafka's page-cache mode instead.
  const overrides = process.env.BENCH_OVERRIDES?.split(' ').filter((o) => o !== '') ?? [];
  const b = await startBroker(join(work, 'data'), overrides);
  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, node ${process.version}, ${new Date().toISOString()}`,
  );
  console.log(
    `${RECORDS_PER_TXN} records of 100 B per transaction (one batch), ${DURATION_MS / 1000} s per row, acks=all, ${PARTITIONS} partitions${overrides.length > 0 ? `, ${overrides.join(' ')}` : ''}\n`,
  );
  console.log('| measurement | result | goal | note |');
  console.log('|---|---|---|---|');
  try {
    const admin = await BenchConnection.open(b.port);
    const created = await admin.request(ApiKey.CreateTopics, 7, CreateTopicsRequest, CreateTopicsResponse, {
      topics: [
        { name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    if (created.topics[0].errorCode !== 0) throw new Error(`create: ${created.topics[0].errorCode}`);
    // Creates __transaction_state, as a client's first lookup does.
    await admin.request(ApiKey.FindCoordinator, 3, FindCoordinatorRequest, FindCoordinatorResponse, {
      ...FindCoordinatorRequest.default(),
      key: 'txn-0',
      keyType: 1,
    });
    admin.close();

    for (const producers of PRODUCERS) {
      const conns = await Promise.all(Array.from({ length: producers }, () => BenchConnection.open(b.port)));
      try {
        const idempotent = await Promise.all(conns.map((conn, i) => initProducer(conn, null, i)));
        const baseline = await drive(idempotent, (p) => produce(p, false));
        const transactional = await Promise.all(
          conns.map((conn, i) => initProducer(conn, `txn-${producers}-${i}`, i)),
        );
        concurrentRetries = 0;
        const txns = await drive(transactional, transaction);
        console.log(
          `| baseline: ${producers} idempotent producers, the same batches, one request at a time each | ${baseline.toFixed(0)} batches/s | | ${((baseline * RECORDS_PER_TXN) / 1e3).toFixed(0)} k records/s |`,
        );
        console.log(
          `| transactions: ${producers} producers (AddPartitionsToTxn, Produce, EndTxn commit) | ${txns.toFixed(0)} committed/s | >= 2,000/s | ${((txns / baseline) * 100).toFixed(0)}% of the baseline's batches/s; ${concurrentRetries} CONCURRENT_TRANSACTIONS retries |`,
        );
      } finally {
        for (const c of conns) c.close();
      }
    }
  } finally {
    await b.stop();
  }
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
