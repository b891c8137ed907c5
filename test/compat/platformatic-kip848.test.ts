// @platformatic/kafka's Consumer with groupProtocol: 'consumer' (KIP-848, ConsumerGroupHeartbeat)
// against an in-process Samsa broker: third-party proof of the broker's consumer group protocol.
// Two members share a topic (the broker's uniform assignor splits it), every record is read once,
// and the group is listed as a "consumer" group.

import {
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  Consumer as PltConsumer,
} from '@platformatic/kafka';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { Admin } from '../../src/client/admin.js';
import { Producer } from '../../src/client/producer.js';
import { until } from '../helpers/tools.js';

describe('@platformatic/kafka with the KIP-848 consumer group protocol', () => {
  let broker: Broker;
  let admin: Admin;

  beforeAll(async () => {
    broker = await startBroker({
      config: {
        'group.consumer.min.heartbeat.interval.ms': '100',
        'group.consumer.heartbeat.interval.ms': '300',
        'group.consumer.min.session.timeout.ms': '3000',
        'group.consumer.session.timeout.ms': '10000',
      },
      logger: pino({ level: 'silent' }),
    });
    admin = new Admin({ brokers: broker.bootstrap });
  });
  afterAll(async () => {
    await admin?.close();
    await broker?.stop();
  });

  it('two members split a topic and read every record once', async () => {
    const topic = 'plt-kip848';
    await admin.createTopics([{ name: topic, numPartitions: 4 }]);
    const producer = new Producer({ brokers: broker.bootstrap });
    await producer.send({
      topic,
      messages: Array.from({ length: 400 }, (_, i) => ({ partition: i % 4, value: Buffer.from(`v${i}`) })),
    });
    await producer.close();

    const seen = new Map<string, string[]>();
    const members: PltConsumer[] = [];
    const streams: Array<{ close(): Promise<void> }> = [];
    const start = async (name: string) => {
      const consumer = new PltConsumer({
        clientId: name,
        groupId: 'plt-kip848-grp',
        groupProtocol: 'consumer',
        bootstrapBrokers: [broker.bootstrap],
      });
      members.push(consumer);
      const values: string[] = [];
      seen.set(name, values);
      const stream = await consumer.consume({
        topics: [topic],
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
        autocommit: true,
      });
      streams.push(stream);
      stream.on('data', (message: { value: Buffer }) => values.push(Buffer.from(message.value).toString()));
      return consumer;
    };
    try {
      const a = await start('plt-a');
      await until(
        () => a.assignments !== null && (a.assignments?.length ?? 0) > 0,
        'first member assigned',
        30_000,
      );
      const b = await start('plt-b');
      // The broker moves half of the partitions to the second member (revoked by the first first).
      const owned = (c: PltConsumer) =>
        (c.assignments ?? []).reduce(
          (n: number, tp: { partitions: number[] }) => n + tp.partitions.length,
          0,
        );
      await until(() => owned(a) === 2 && owned(b) === 2, 'two partitions each', 30_000);
      await until(
        () => [...seen.values()].reduce((n, v) => n + v.length, 0) >= 400,
        'every record read',
        30_000,
      );
      const all = [...seen.values()].flat();
      expect(new Set(all).size).toBe(400);
      const listed = (await admin.listGroups()).find((g) => g.groupId === 'plt-kip848-grp');
      expect(listed).toMatchObject({ type: 'consumer', protocolType: 'consumer' });
      const [desc] = await admin.describeGroups(['plt-kip848-grp']);
      expect(desc.type).toBe('consumer');
      expect(desc.members.map((m) => m.clientId).sort()).toEqual(['plt-a', 'plt-b']);
    } finally {
      for (const s of streams) await s.close().catch(() => {});
      for (const m of members) {
        try {
          await m.close(true);
        } catch {
          // already closed
        }
      }
    }
  }, 90_000);
});
