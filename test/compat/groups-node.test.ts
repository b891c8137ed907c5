// Consumer groups from Node clients and kcat: kafkajs's consumer.run with a second member joining
// (a rebalance) and its group admin calls, @platformatic/kafka's group stream, and kcat's balanced
// consumer (kcat -G), which commits and resumes.

import { MessagesStreamModes, Consumer as PltConsumer } from '@platformatic/kafka';
import { type Admin, type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { hasKcat, requireClient, run, until } from '../helpers/tools.js';

const kcat = (args: string[], input?: string) => run('kcat', args, input);

describe('consumer groups from Node clients and kcat', () => {
  let broker: Broker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    broker = await startBroker({
      config: { 'group.initial.rebalance.delay.ms': '500' },
      logger: pino({ level: 'silent' }),
    });
    kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5 } });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
  });

  afterAll(async () => {
    for (const c of consumers) await c.disconnect().catch(() => {});
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.stop();
  });

  async function produce(topic: string, from: number, count: number, partitions: number): Promise<void> {
    for (let i = from; i < from + count; i += 500) {
      const n = Math.min(500, from + count - i);
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: n }, (_, k) => ({
          key: `k${i + k}`,
          value: `v${i + k}`,
          partition: (i + k) % partitions,
        })),
      });
    }
  }

  it('kafkajs: consumer.run shares a topic with a member that joins later; group admin calls', async () => {
    await admin.createTopics({ topics: [{ topic: 'js-group', numPartitions: 4 }] });
    await produce('js-group', 0, 2000, 4);
    const seen = new Map<string, string[]>();
    const assigned = new Map<string, Set<number>>();
    const start = async (name: string) => {
      // A short fetch wait: kafkajs heartbeats (and so learns of a rebalance) between fetches.
      const c = kafka.consumer({
        groupId: 'js-grp',
        sessionTimeout: 10_000,
        heartbeatInterval: 500,
        maxWaitTimeInMs: 200,
      });
      consumers.push(c);
      c.on(c.events.GROUP_JOIN, (e) => {
        assigned.set(name, new Set(e.payload.memberAssignment['js-group'] ?? []));
      });
      await c.connect();
      await c.subscribe({ topic: 'js-group', fromBeginning: true });
      await c.run({
        eachMessage: async ({ message }) => {
          const v = message.value!.toString();
          seen.set(v, [...(seen.get(v) ?? []), name]);
        },
      });
      return c;
    };
    await start('first');
    await until(() => seen.size >= 500, 'the first member to consume');
    await start('second');
    // The second member's join rebalances the group: both end up with two partitions each.
    await until(
      () => (assigned.get('second')?.size ?? 0) === 2 && (assigned.get('first')?.size ?? 0) === 2,
      'a rebalance that splits the partitions',
    );
    await produce('js-group', 2000, 2000, 4);
    await until(() => seen.size === 4000, 'every record');
    const first = assigned.get('first')!;
    const second = assigned.get('second')!;
    expect([...first, ...second].sort()).toEqual([0, 1, 2, 3]);
    // After the rebalance the records of the later wave went to the member that owned their partition.
    for (let i = 2000; i < 4000; i++) {
      const who = seen.get(`v${i}`)!;
      expect(who.at(-1)).toBe(first.has(i % 4) ? 'first' : 'second');
    }

    // The group as the admin API sees it.
    const { groups } = await admin.listGroups();
    expect(groups).toContainEqual({ groupId: 'js-grp', protocolType: 'consumer' });
    const described = await admin.describeGroups(['js-grp']);
    expect(described.groups[0]).toMatchObject({
      groupId: 'js-grp',
      state: 'Stable',
      protocolType: 'consumer',
    });
    expect(described.groups[0].members).toHaveLength(2);
    for (const c of consumers.splice(0)) await c.disconnect();
    // Leaving members committed what they consumed: the committed offsets are the ends.
    const offsets = await admin.fetchOffsets({ groupId: 'js-grp', topics: ['js-group'] });
    expect(offsets[0].partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
      [0, '1000'],
      [1, '1000'],
      [2, '1000'],
      [3, '1000'],
    ]);
    // An empty group can be reset and deleted.
    await admin.resetOffsets({ groupId: 'js-grp', topic: 'js-group', earliest: true });
    const reset = await admin.fetchOffsets({ groupId: 'js-grp', topics: ['js-group'] });
    // kafkajs commits the logical offset -2 (earliest), which its consumer resolves when it starts.
    expect(reset[0].partitions.map((p) => p.offset)).toEqual(['-2', '-2', '-2', '-2']);
    await admin.deleteGroups(['js-grp']);
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain('js-grp');
  }, 120_000);

  it('@platformatic/kafka: a group stream consumes and commits', async () => {
    await admin.createTopics({ topics: [{ topic: 'plt-group', numPartitions: 3 }] });
    await produce('plt-group', 0, 300, 3);
    const consumer = new PltConsumer({
      clientId: 'plt-group-consumer',
      groupId: 'plt-grp',
      bootstrapBrokers: [broker.bootstrap],
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    });
    try {
      const stream = await consumer.consume({
        topics: ['plt-group'],
        mode: MessagesStreamModes.EARLIEST,
        autocommit: false,
      });
      const values: string[] = [];
      for await (const message of stream) {
        values.push(Buffer.from(message.value as Buffer).toString());
        await message.commit();
        if (values.length === 300) break;
      }
      await stream.close();
      expect(values.sort()).toEqual(Array.from({ length: 300 }, (_, i) => `v${i}`).sort());
    } finally {
      await consumer.close(true);
    }
    const offsets = await admin.fetchOffsets({ groupId: 'plt-grp', topics: ['plt-group'] });
    expect(offsets[0].partitions.map((p) => p.offset)).toEqual(['100', '100', '100']);
  }, 60_000);

  it.skipIf(!requireClient('kcat', hasKcat))(
    'kcat -G: a balanced consumer commits, and the next one resumes after it',
    async () => {
      await admin.createTopics({ topics: [{ topic: 'kcat-group', numPartitions: 4 }] });
      await produce('kcat-group', 0, 2000, 4);
      // No -o: with -G it would seek every assigned partition; the group's committed offsets (or
      // auto.offset.reset where none) decide where each member starts.
      const base = [
        '-b',
        broker.bootstrap,
        '-G',
        'kcat-grp',
        '-X',
        'auto.offset.reset=earliest',
        '-e',
        '-f',
        '%s\n',
      ];
      const first = await kcat([...base, '-X', 'auto.commit.interval.ms=100', 'kcat-group']);
      expect(first.code, first.stderr).toBe(0);
      const firstValues = first.stdout.trim().split('\n');
      expect(firstValues.sort()).toEqual(Array.from({ length: 2000 }, (_, i) => `v${i}`).sort());
      await produce('kcat-group', 2000, 1000, 4);
      // The group's committed offsets make the next member start where the first stopped.
      const second = await kcat([...base, 'kcat-group']);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout.trim().split('\n').sort()).toEqual(
        Array.from({ length: 1000 }, (_, i) => `v${2000 + i}`).sort(),
      );
    },
    60_000,
  );
});
