// What idempotence costs the broker: the same produce load with and without producer ids, in the
// same run, against a Samsa broker in a child process.
//
//   npm run build && node dist/bench/idempotence.js
//
// One connection per run produces RECORDS records of 100 bytes to one partition, acks=all, in
// batches of BATCH records, with IN_FLIGHT requests pipelined (what Kafka's Java producer does
// with idempotence on: 5). The idempotent run uses a producer id from InitProducerId and
// consecutive sequences; the plain one producer id -1. Batches are encoded before the clock
// starts, so the client's work is the same in both. Runs alternate, each kind on its own topic;
// the figure is the median of the runs of each kind.
//
// Why not librdkafka: its idempotent producer keeps one request in flight per partition whatever
// max.in.flight says (librdkafka PR #4989) and spends about twice the CPU of its plain producer,
// which on a small machine shared with the broker measures the client, not the broker.

import { mkdtempSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ApiKey } from '../src/protocol/generated/api-keys.js';
import { CreateTopicsRequest } from '../src/protocol/generated/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../src/protocol/generated/messages/CreateTopicsResponse.js';
import { InitProducerIdRequest } from '../src/protocol/generated/messages/InitProducerIdRequest.js';
import { InitProducerIdResponse } from '../src/protocol/generated/messages/InitProducerIdResponse.js';
import { ProduceRequest } from '../src/protocol/generated/messages/ProduceRequest.js';
import { ProduceResponse } from '../src/protocol/generated/messages/ProduceResponse.js';
import { encodeRecordBatch } from '../src/protocol/records/encode.js';
import { BenchConnection } from './rpc.js';
import { root, startBroker } from './samsa-process.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const IN_FLIGHT = 5;
const ROUNDS = 3;

const work = mkdtempSync(join(process.env.BENCH_DIR ?? root, '.bench-idempotence-'));

function batches(producerId: bigint): Buffer[] {
  const value = Buffer.alloc(100, 'p');
  const out: Buffer[] = [];
  for (let seq = 0; seq < RECORDS; seq += BATCH) {
    const records = Array.from({ length: BATCH }, () => ({ key: null, value, timestamp: Date.now() }));
    out.push(
      encodeRecordBatch(records, producerId >= 0n ? { producerId, producerEpoch: 0, baseSequence: seq } : {}),
    );
  }
  return out;
}

async function produce(c: BenchConnection, topic: string, all: Buffer[]): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < all.length) {
      const records = all[next++];
      const res = await c.request(ApiKey.Produce, 9, ProduceRequest, ProduceResponse, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 30_000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
      });
      const code = res.responses[0].partitionResponses[0].errorCode;
      if (code !== 0) throw new Error(`produce to ${topic} failed with error ${code}`);
    }
  };
  // Requests leave in order: each lane takes the next batch when its answer arrived.
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return RECORDS / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const b = await startBroker(join(work, 'data'));
  const c = await BenchConnection.open(b.port);
  const rates: Record<'plain' | 'idempotent', number[]> = { plain: [], idempotent: [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of ['plain', 'idempotent'] as const) {
        const topic = `${kind}-${round}`;
        const created = await c.request(ApiKey.CreateTopics, 7, CreateTopicsRequest, CreateTopicsResponse, {
          topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
          timeoutMs: 30_000,
          validateOnly: false,
        });
        if (created.topics[0].errorCode !== 0)
          throw new Error(`create ${topic}: ${created.topics[0].errorCode}`);
        let producerId = -1n;
        if (kind === 'idempotent') {
          const init = await c.request(
            ApiKey.InitProducerId,
            4,
            InitProducerIdRequest,
            InitProducerIdResponse,
            {
              transactionalId: null,
              transactionTimeoutMs: 60_000,
              producerId: -1n,
              producerEpoch: -1,
            },
          );
          producerId = init.producerId;
        }
        rates[kind].push(await produce(c, topic, batches(producerId)));
      }
    }
  } finally {
    c.close();
    await b.stop();
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const plain = median(rates.plain);
  const idem = median(rates.idempotent);
  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, node ${process.version}, ${new Date().toISOString()}`,
  );
  console.log(`${RECORDS} records of 100 B per run, ${BATCH} per batch, ${IN_FLIGHT} in flight, acks=all\n`);
  console.log('| measurement | result | goal | note |');
  console.log('|---|---|---|---|');
  const fmt = (r: number) => `${(r / 1e3).toFixed(0)} k records/s`;
  console.log(`| produce, idempotence off | ${fmt(plain)} | | runs: ${rates.plain.map(fmt).join(', ')} |`);
  console.log(
    `| produce, idempotence on | ${fmt(idem)} | >= 95% of off | ${((idem / plain) * 100).toFixed(1)}% of off; runs: ${rates.idempotent.map(fmt).join(', ')} |`,
  );
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
