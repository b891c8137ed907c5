// Node clients against the same Samsa broker (a child process), in one run: Samsa's own client
// (samsa/client), kafkajs and @platformatic/kafka, with the same settings as far as each allows.
//
//   npm run bench:clients
//
// Produce: RECORDS records of 100 bytes to one partition, acks=all, sent as SEND_SIZE-record
// send() calls with up to IN_FLIGHT calls outstanding (kafkajs and @platformatic/kafka batch per
// send call; Samsa's producer batches in its accumulator: linger.ms 0 and batch.size 128 KiB make
// its batches a send call each, as theirs; a second Samsa run keeps linger.ms 5 and batch.size
// 1 MiB). Idempotence is each client's default
// (on for Samsa, off for kafkajs and @platformatic/kafka). Consume: the same records read back from
// offset 0 by each client's group-less path where it has one. The baseline beside them is raw
// loopback TCP in the same run. The producers take turns BENCH_ROUNDS times (default 3), and so do
// the consumers (alternating which goes first); each figure is the median.

import { mkdtempSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Consumer as PltConsumer, Producer as PltProducer, ProduceAcks } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { Admin, Consumer, Producer } from '../src/client/index.js';
import type { SenderStats } from '../src/client/sender.js';
import { loopbackTcp } from './baseline.js';
import { root, startBroker } from './samsa-process.js';

const RECORDS = 300_000;
const SEND_SIZE = 1000;
const IN_FLIGHT = 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const work = mkdtempSync(join(process.env.BENCH_DIR ?? root, '.bench-clients-'));
const value = Buffer.alloc(100, 'v');
const rows: string[][] = [];
const row = (...cells: (string | number)[]) => rows.push(cells.map(String));

/** Runs `send(i)` for i = 0, SEND_SIZE, ... with at most IN_FLIGHT outstanding; returns records/s. */
async function pump(send: (from: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < RECORDS) {
        const from = next;
        next += SEND_SIZE;
        await send(from);
      }
    }),
  );
  return RECORDS / ((performance.now() - start) / 1000);
}

const batch = () => Array.from({ length: SEND_SIZE }, () => ({ value }));

async function main(): Promise<void> {
  const tcp = await loopbackTcp(3);
  row('baseline: loopback TCP, 64 KiB writes', `${(tcp.bytesPerSec / 1e6).toFixed(0)} MB/s`, '');
  const b = await startBroker(join(work, 'data'));
  const brokers = `127.0.0.1:${b.port}`;
  const admin = new Admin({ brokers });
  await admin.createTopics([
    { name: 'samsa', numPartitions: 1 },
    { name: 'samsa-1m', numPartitions: 1 },
    { name: 'kafkajs', numPartitions: 1 },
    { name: 'platformatic', numPartitions: 1 },
  ]);
  await admin.close();

  // kafkajs and @platformatic/kafka make one batch of each send() call (1,000 records, about
  // 110 KB) and send it at once. The same for Samsa's accumulator is linger.ms=0 with a batch.size
  // above a call's bytes (128 KiB): each call's records leave as one batch, up to 5 batches in
  // flight. The second Samsa row keeps this benchmark's first setting (linger.ms=5, batch.size=
  // 1 MiB): every outstanding record then fits in one batch, so one batch is in flight whatever the
  // pipelining allows.
  let samsaStats: SenderStats | undefined;
  let samsaBigStats: SenderStats | undefined;
  const samsaRuns: number[] = [];
  const samsaBigRuns: number[] = [];
  const kjsRuns: number[] = [];
  const pltRuns: number[] = [];
  // The clients take turns, ROUNDS times, and each figure is the median of its runs: this 2-core
  // machine is shared, and one run of each measured anywhere in a 2x range.
  for (let round = 0; round < ROUNDS; round++) {
    const samsa = new Producer({ brokers, lingerMs: 0, batchSize: 128 * 1024 });
    samsaRuns.push(await pump(() => samsa.send({ topic: 'samsa', messages: batch() })));
    samsaStats = { ...samsa.senderStats };
    await samsa.close();
    const samsaBig = new Producer({ brokers, lingerMs: 5, batchSize: 1 << 20 });
    samsaBigRuns.push(await pump(() => samsaBig.send({ topic: 'samsa-1m', messages: batch() })));
    samsaBigStats = { ...samsaBig.senderStats };
    await samsaBig.close();

    const kafka = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING });
    const kjs = kafka.producer();
    await kjs.connect();
    kjsRuns.push(await pump(() => kjs.send({ topic: 'kafkajs', acks: -1, messages: batch() })));
    await kjs.disconnect();

    const plt = new PltProducer({ clientId: 'bench', bootstrapBrokers: [brokers] });
    pltRuns.push(
      await pump(() =>
        plt.send({
          acks: ProduceAcks.ALL,
          messages: batch().map((m) => ({ topic: 'platformatic', partition: 0, value: m.value })),
        }),
      ),
    );
    await plt.close();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const samsaRate = median(samsaRuns);
  const samsaBigRate = median(samsaBigRuns);
  const kjsRate = median(kjsRuns);
  const pltRate = median(pltRuns);

  const k = (r: number) => `${(r / 1e3).toFixed(0)} k records/s`;
  const runs = (xs: number[]) => `runs: ${xs.map((x) => `${(x / 1e3).toFixed(0)} k`).join(', ')}`;
  const vs = (r: number) =>
    `${(r / kjsRate).toFixed(2)}x kafkajs, ${(r / pltRate).toFixed(2)}x @platformatic/kafka`;
  const pipe = (st: SenderStats | undefined) =>
    `${st?.requests} requests, up to ${st?.maxPartitionInFlight} batches in flight`;
  row(
    'produce 100 B, acks=all: Samsa client, linger.ms 0, batch.size 128 KiB',
    k(samsaRate),
    `${vs(samsaRate)}; ${pipe(samsaStats)}; ${runs(samsaRuns)}`,
  );
  row(
    'produce 100 B, acks=all: Samsa client, linger.ms 5, batch.size 1 MiB',
    k(samsaBigRate),
    `${vs(samsaBigRate)}; ${pipe(samsaBigStats)}; ${runs(samsaBigRuns)}`,
  );
  row('produce 100 B, acks=all: kafkajs', k(kjsRate), runs(kjsRuns));
  row('produce 100 B, acks=all: @platformatic/kafka', k(pltRate), runs(pltRuns));

  // Consume what Samsa's producer wrote, from offset 0. The two consumers take turns ROUNDS times
  // too (the first read of the data warms the broker's JIT and page cache for whoever comes next).
  const samsaConsumeOnce = async (): Promise<number> => {
    const consumer = new Consumer({ brokers });
    consumer.assign([{ topic: 'samsa', partition: 0, offset: 0n }]);
    let got = 0;
    let start = performance.now();
    for await (const _ of consumer) {
      if (got === 0) start = performance.now();
      if (++got === RECORDS) break;
    }
    const rate = RECORDS / ((performance.now() - start) / 1000);
    await consumer.close();
    return rate;
  };
  const pc = new PltConsumer({ clientId: 'bench', groupId: 'bench-plt', bootstrapBrokers: [brokers] });
  const md = await pc.metadata({ topics: ['samsa'], forceUpdate: true });
  const t = md.topics.get('samsa')!;
  const pltConsumeOnce = async (): Promise<number> => {
    let got = 0;
    const start = performance.now();
    let offset = 0n;
    while (got < RECORDS) {
      const res = await pc.fetch({
        node: t.partitions[0].leader,
        maxWaitTime: 100,
        topics: [
          {
            topicId: t.id,
            partitions: [
              {
                partition: 0,
                fetchOffset: offset,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
                partitionMaxBytes: 1 << 20,
              },
            ],
          },
        ],
      });
      for (const set of res.responses[0].partitions[0].records ?? []) {
        got += set.records.length;
        offset = set.firstOffset + BigInt(set.lastOffsetDelta) + 1n;
      }
    }
    return RECORDS / ((performance.now() - start) / 1000);
  };
  const samsaConsumeRuns: number[] = [];
  const pltConsumeRuns: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate who goes first.
    if (round % 2 === 0) {
      samsaConsumeRuns.push(await samsaConsumeOnce());
      pltConsumeRuns.push(await pltConsumeOnce());
    } else {
      pltConsumeRuns.push(await pltConsumeOnce());
      samsaConsumeRuns.push(await samsaConsumeOnce());
    }
  }
  await pc.close();
  const samsaConsume = median(samsaConsumeRuns);
  const pltConsume = median(pltConsumeRuns);
  row(
    'consume 100 B: Samsa client (async iterator)',
    k(samsaConsume),
    `${(samsaConsume / pltConsume).toFixed(2)}x @platformatic/kafka; ${runs(samsaConsumeRuns)}`,
  );
  row('consume 100 B: @platformatic/kafka (fetch)', k(pltConsume), runs(pltConsumeRuns));
  await b.stop();

  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, node ${process.version}, ${new Date().toISOString()}\n`,
  );
  console.log('| measurement | result | note |');
  console.log('|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
