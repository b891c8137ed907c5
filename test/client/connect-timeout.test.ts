// Fail fast on an unreachable bootstrap: with every bootstrap address refusing (a closed port) or
// unknown (a *.invalid host, RFC 6761), Admin, Producer and Consumer give up after connectTimeoutMs
// with BrokersUnreachableError, instead of retrying until request.timeout.ms / max.block.ms (set
// far longer here, so that a test that waited for them would fail). Durations are checked only
// loosely (no timing claims on a shared machine).

import { createServer } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { Admin, BrokersUnreachableError, Consumer, Producer } from '../../src/client/index.js';

/** A port that refuses connections: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const LONG = 120_000;
let refused: string;

beforeAll(async () => {
  refused = `127.0.0.1:${await closedPort()}`;
});

async function failsFast(op: () => Promise<unknown>): Promise<BrokersUnreachableError> {
  const started = Date.now();
  const err = await op().then(
    () => {
      throw new Error('expected the operation to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BrokersUnreachableError);
  // Loose: far below the 120 s request timeout, whatever the machine's load.
  expect(Date.now() - started).toBeLessThan(20_000);
  return err as BrokersUnreachableError;
}

describe('an unreachable bootstrap fails after the connect timeout', () => {
  for (const [what, address] of [
    ['refused', () => refused],
    ['unknown host', () => 'no-such-broker.invalid:9092'],
  ] as const) {
    it(`Admin, ${what}`, async () => {
      const admin = new Admin({ brokers: address(), connectTimeoutMs: 1000, requestTimeoutMs: LONG });
      try {
        const err = await failsFast(() => admin.listTopics());
        expect(err.message).toContain(`no broker reachable at ${address()} within 1000 ms`);
        expect(err.retriable).toBe(false);
        expect(err.name).toBe('NETWORK_EXCEPTION');
        // Calls that go to the controller or a coordinator give up too.
        await failsFast(() => admin.createTopics([{ name: 'x' }]));
        await failsFast(() => admin.describeGroups(['g']));
      } finally {
        await admin.close();
      }
    }, 60_000);

    it(`Producer, ${what}`, async () => {
      const producer = new Producer({
        brokers: address(),
        connectTimeoutMs: 1000,
        requestTimeoutMs: LONG,
        maxBlockMs: LONG,
      });
      try {
        await failsFast(() => producer.send({ topic: 't', messages: [{ value: 'v' }] }));
      } finally {
        await producer.close();
      }
    }, 60_000);

    it(`Consumer in a group, ${what}`, async () => {
      const consumer = new Consumer({
        brokers: address(),
        groupId: 'g',
        connectTimeoutMs: 1000,
        requestTimeoutMs: LONG,
      });
      try {
        consumer.subscribe({ topics: ['t'] });
        await failsFast(() => consumer.poll({ timeoutMs: LONG }));
      } finally {
        await consumer.close();
      }
    }, 60_000);

    it(`Consumer with assigned partitions, ${what}`, async () => {
      const consumer = new Consumer({ brokers: address(), connectTimeoutMs: 1000, requestTimeoutMs: LONG });
      try {
        consumer.assign([{ topic: 't', partition: 0 }]);
        await failsFast(() => consumer.poll({ timeoutMs: LONG }));
      } finally {
        await consumer.close();
      }
    }, 60_000);
  }
});

describe('a reachable cluster is not affected', () => {
  let broker: Broker;
  afterAll(async () => {
    await broker?.stop();
  });

  it('connects as before', async () => {
    broker = await startBroker({ logger: pino({ level: 'silent' }) });
    const admin = new Admin({ brokers: `127.0.0.1:${broker.port}`, connectTimeoutMs: 1000 });
    try {
      expect(await admin.listTopics()).toEqual([]);
    } finally {
      await admin.close();
    }
  }, 60_000);
});
