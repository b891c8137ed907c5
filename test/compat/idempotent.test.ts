// Idempotent producers of real clients against Samsa, where exactly-once is at stake:
// - librdkafka (confluent-kafka-python, enable.idempotence=True) produces 100,000 records through a
//   proxy that cuts the connection after the broker answered a Produce and before the client read
//   the answer (test/helpers/cutting-proxy.ts): every record must be in the log exactly once, in
//   order per partition, at the offset its delivery report gave.
// - kafkajs (idempotent: true) and @platformatic/kafka (idempotent: true) through the same kind
//   of proxy.
// - librdkafka across kill -9 of the broker and restarts, through a proxy that holds every answer
//   a while (so that each kill finds appended batches whose answers the client never got): no
//   record twice, none lost, every acknowledged record at its offset.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProduceAcks, Producer } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  ApiKey,
  DescribeProducersRequest,
  DescribeProducersResponse,
} from '../../src/protocol/generated/index.js';
import {
  BrokerProcess,
  buildBroker,
  killChild,
  removeBrokerBuild,
  stopAllBrokers,
} from '../helpers/broker-process.js';
import { CuttingProxy } from '../helpers/cutting-proxy.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';
import { hasConfluentKafka, PYTHON, requireClient, until } from '../helpers/tools.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'samsa-eos-'));
  dirs.push(d);
  return d;
}

const children: ChildProcess[] = [];

afterAll(async () => {
  await Promise.all(children.map((c) => killChild(c)));
  await stopAllBrokers();
  removeBrokerBuild();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A broker that advertises the proxy, so clients reach it only through the proxy. */
async function brokerBehind(proxy: CuttingProxy): Promise<Broker> {
  const broker = await startBroker({
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0',
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}`,
      'log.dirs': tempDir(),
    },
    logger: pino({ level: 'silent' }),
  });
  proxy.target = broker.port;
  return broker;
}

interface Ack {
  partition: number;
  offset: bigint;
  value: string;
}

interface RunningProducer {
  acks: Ack[];
  errors: string[];
  /** Resolves with the producer's last line ("done <unflushed>") once it exits. */
  done: Promise<string>;
  exited(): boolean;
}

/** test/compat/python/idempotent_producer.py, its delivery reports collected as they arrive. */
function pythonProducer(
  bootstrap: string,
  topic: string,
  partitions: number,
  count: number,
): RunningProducer {
  const child = spawn(
    PYTHON,
    [
      join(import.meta.dirname, 'python', 'idempotent_producer.py'),
      bootstrap,
      topic,
      String(partitions),
      String(count),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const acks: Ack[] = [];
  const errors: string[] = [];
  let last = '';
  let exited = false;
  let partial = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const f = line.split(' ');
      if (f[0] === 'ack') acks.push({ partition: Number(f[1]), offset: BigInt(f[2]), value: f[3] });
      else if (f[0] === 'err') errors.push(line);
      else if (f[0] === 'done') last = line;
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      exited = true;
      if (code === 0) resolve(last);
      else reject(new Error(`producer exited with ${code ?? signal}: ${stderr.slice(-2000)}`));
    });
  });
  done.catch(() => {});
  return { acks, errors, done, exited: () => exited };
}

/**
 * Reads every partition back and checks exactly-once: partition p holds the values i = p mod n
 * in increasing order (no record twice, none reordered), all `count` values are there once, and
 * every acknowledgement names the offset of its record.
 */
async function checkExactlyOnce(
  port: number,
  topic: string,
  partitions: number,
  count: number,
  acks: readonly Ack[],
): Promise<void> {
  const rpc = await KafkaRpc.connect(port);
  try {
    const seen = new Set<number>();
    const at = new Map<string, string>();
    for (let p = 0; p < partitions; p++) {
      const read = await rpc.readPartition(topic, p);
      let prev = -1;
      for (const r of read.records) {
        const i = Number(r.value);
        if (i % partitions !== p) expect.fail(`partition ${p} holds ${i}`);
        if (i <= prev) expect.fail(`partition ${p}: ${i} at offset ${r.offset} after ${prev}`);
        prev = i;
        seen.add(i);
        at.set(`${p}:${r.offset}`, r.value!);
      }
    }
    expect(seen.size).toBe(count);
    const wrong = acks.filter((a) => at.get(`${a.partition}:${a.offset}`) !== a.value);
    expect(wrong.slice(0, 5), `${wrong.length} acknowledgements name another offset`).toEqual([]);
  } finally {
    rpc.close();
  }
}

describe.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))(
  'librdkafka idempotent producer',
  () => {
    it('writes 100,000 records exactly once while connections are cut after Produce answers', async () => {
      // Every 9th Produce answer is dropped with its connection (the retry of the batch in it, and
      // of the batches behind it, must be recognised as duplicates).
      const proxy = await CuttingProxy.start({ cutProduceResponse: (n) => n % 9 === 4 });
      const broker = await brokerBehind(proxy);
      try {
        const rpc = await KafkaRpc.connect(broker.port);
        expect((await rpc.createTopic('eos', 3)).errorCode).toBe(ErrorCode.NONE);
        rpc.close();
        const count = 100_000;
        const producer = pythonProducer(`127.0.0.1:${proxy.port}`, 'eos', 3, count);
        expect(await producer.done).toBe('done 0');
        expect(producer.errors).toEqual([]);
        expect(producer.acks.length).toBe(count);
        expect(proxy.cuts).toBeGreaterThanOrEqual(10);
        await checkExactlyOnce(broker.port, 'eos', 3, count, producer.acks);
      } finally {
        await broker.stop();
        await proxy.close();
      }
    }, 300_000);

    describe('across kill -9', () => {
      beforeAll(async () => {
        await buildBroker();
      }, 180_000);

      it('never writes a record twice when the broker is killed and restarted mid-stream', async () => {
        const proxy = await CuttingProxy.start({ cutProduceResponse: () => false, responseDelayMs: 100 });
        let b = await BrokerProcess.start({
          dataDir: tempDir(),
          overrides: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` },
        });
        proxy.target = b.port;
        try {
          const rpc = await KafkaRpc.connect(b.port);
          expect((await rpc.createTopic('eos-kill', 3)).errorCode).toBe(ErrorCode.NONE);
          rpc.close();
          const count = 150_000;
          const producer = pythonProducer(`127.0.0.1:${proxy.port}`, 'eos-kill', 3, count);
          for (const threshold of [20_000, 70_000]) {
            await until(
              () => producer.acks.length >= threshold || producer.exited(),
              `${threshold} acknowledgements`,
              120_000,
            );
            if (producer.exited()) await producer.done;
            expect(producer.exited(), 'the producer ended early').toBe(false);
            await b.kill();
            b = await b.restart();
          }
          expect(await producer.done).toBe('done 0');
          expect(producer.errors).toEqual([]);
          await checkExactlyOnce(b.port, 'eos-kill', 3, count, producer.acks);
          await b.stop();
        } finally {
          await proxy.close();
        }
      }, 300_000);
    });
  },
);

describe('kafkajs idempotent producer', () => {
  it('writes every record once through a proxy that cuts connections after Produce answers', async () => {
    const proxy = await CuttingProxy.start({ cutProduceResponse: (n) => n % 5 === 2 });
    const broker = await brokerBehind(proxy);
    const kafka = new Kafka({
      clientId: 'samsa-eos',
      brokers: [`127.0.0.1:${proxy.port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 20, initialRetryTime: 20, maxRetryTime: 200 },
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    try {
      const rpc = await KafkaRpc.connect(broker.port);
      expect((await rpc.createTopic('eos-js', 2)).errorCode).toBe(ErrorCode.NONE);
      await producer.connect();
      const sends = 40;
      const perSend = 50;
      for (let s = 0; s < sends; s++) {
        await producer.send({
          topic: 'eos-js',
          messages: Array.from({ length: perSend }, (_, k) => {
            const i = s * perSend + k;
            return { partition: i % 2, value: String(i) };
          }),
        });
      }
      expect(proxy.cuts).toBeGreaterThanOrEqual(5);
      await checkExactlyOnce(broker.port, 'eos-js', 2, sends * perSend, []);
      // One producer per partition, its last sequence that of its last record.
      const res = await rpc.request(
        ApiKey.DescribeProducers,
        0,
        DescribeProducersRequest,
        DescribeProducersResponse,
        {
          topics: [{ name: 'eos-js', partitionIndexes: [0, 1] }],
        },
      );
      for (const p of res.topics[0].partitions) {
        expect(p.activeProducers).toHaveLength(1);
        expect(p.activeProducers[0]).toMatchObject({
          producerEpoch: 0,
          lastSequence: (sends * perSend) / 2 - 1,
        });
      }
      rpc.close();
    } finally {
      await producer.disconnect().catch(() => {});
      await broker.stop();
      await proxy.close();
    }
  }, 120_000);
});

describe('@platformatic/kafka idempotent producer', () => {
  it('writes every record once through a proxy that cuts connections after Produce answers', async () => {
    const proxy = await CuttingProxy.start({ cutProduceResponse: (n) => n % 6 === 3 });
    const broker = await brokerBehind(proxy);
    const producer = new Producer({
      clientId: 'samsa-eos-plt',
      bootstrapBrokers: [`127.0.0.1:${proxy.port}`],
      idempotent: true,
      retries: 20,
      retryDelay: 20,
    });
    try {
      const rpc = await KafkaRpc.connect(broker.port);
      expect((await rpc.createTopic('eos-plt', 2)).errorCode).toBe(ErrorCode.NONE);
      const sends = 40;
      const perSend = 50;
      for (let s = 0; s < sends; s++) {
        await producer.send({
          acks: ProduceAcks.ALL,
          messages: Array.from({ length: perSend }, (_, k) => {
            const i = s * perSend + k;
            return { topic: 'eos-plt', partition: i % 2, value: Buffer.from(String(i)) };
          }),
        });
      }
      expect(proxy.cuts).toBeGreaterThanOrEqual(5);
      await checkExactlyOnce(broker.port, 'eos-plt', 2, sends * perSend, []);
      rpc.close();
    } finally {
      await producer.close().catch(() => {});
      await broker.stop();
      await proxy.close();
    }
  }, 120_000);
});
