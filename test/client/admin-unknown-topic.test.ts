// The admin client on a topic that does not exist: listOffsets, deleteRecords and
// resetConsumerGroupOffsets fail at once with UNKNOWN_TOPIC_OR_PARTITION, as Kafka's Admin does,
// rather than waiting for the topic until the request timeout (set far longer here, so a wait
// would fail the test), and never create it (auto.create.topics.enable stays on at the broker).

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { Admin, KafkaError } from '../../src/client/index.js';

let broker: Broker;
let admin: Admin;

beforeAll(async () => {
  broker = await startBroker({ logger: pino({ level: 'silent' }) });
  admin = new Admin({ brokers: `127.0.0.1:${broker.port}`, requestTimeoutMs: 120_000 });
});

afterAll(async () => {
  await admin?.close();
  await broker?.stop();
});

describe('Admin calls on an unknown topic', () => {
  it('fail with UNKNOWN_TOPIC_OR_PARTITION and create nothing', async () => {
    const calls: [string, () => Promise<unknown>][] = [
      ['listOffsets', () => admin.listOffsets([{ topic: 'u1', partition: 0 }], 'latest')],
      ['deleteRecords', () => admin.deleteRecords([{ topic: 'u2', partition: 0, offset: 0 }])],
      ['resetConsumerGroupOffsets', () => admin.resetConsumerGroupOffsets('g', 'u3', 'earliest')],
    ];
    for (const [name, call] of calls) {
      const started = Date.now();
      const err = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(KafkaError);
      expect((err as KafkaError).name, name).toBe('UNKNOWN_TOPIC_OR_PARTITION');
      // Loose: far below the two-minute request timeout.
      expect(Date.now() - started, name).toBeLessThan(20_000);
    }
    expect(await admin.listTopics()).toEqual([]);
  }, 90_000);
});
