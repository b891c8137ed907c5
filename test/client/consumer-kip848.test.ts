// Samsa's Consumer with groupProtocol: 'consumer' (KIP-848) against an in-process broker: members
// join and leave a multi-partition topic while a producer writes; every record is processed exactly
// once across the members (commits at revocation, the next owner resumes at the committed offset).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { Admin } from '../../src/client/admin.js';
import { Consumer } from '../../src/client/consumer.js';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { until } from '../helpers/tools.js';
import { testBroker } from './helpers.js';

const GROUP_CONFIG = {
  'group.consumer.min.heartbeat.interval.ms': '100',
  'group.consumer.heartbeat.interval.ms': '200',
  'group.consumer.min.session.timeout.ms': '3000',
  'group.consumer.session.timeout.ms': '6000',
};

describe('Consumer with groupProtocol consumer (KIP-848)', () => {
  let broker: Broker;
  let admin: Admin;

  beforeAll(async () => {
    broker = await testBroker(GROUP_CONFIG);
    admin = new Admin({ brokers: broker.bootstrap });
  });
  afterAll(async () => {
    await admin?.close();
    await broker?.stop();
  });

  it('members join and leave under produce load: no record skipped, none processed twice', async () => {
    const topic = 'kip848-load';
    const partitions = 12;
    await admin.createTopics([{ name: topic, numPartitions: partitions }]);
    const producer = new Producer({ brokers: broker.bootstrap, lingerMs: 5 });
    // processed[partition] = offsets in processing order, over all members.
    const processed = Array.from({ length: partitions }, () => [] as bigint[]);
    const produced = Array.from({ length: partitions }, () => 0n);
    let producing = true;
    const produceLoop = (async () => {
      let i = 0;
      while (producing) {
        const messages = [];
        for (let k = 0; k < 50; k++, i++)
          messages.push({ partition: i % partitions, value: Buffer.from(`v${i}`) });
        for (const r of await producer.send({ topic, messages })) {
          if (r.offset + 1n > produced[r.partition]) produced[r.partition] = r.offset + 1n;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const members = new Map<string, { consumer: Consumer; stop: boolean; loop: Promise<void> }>();
    const start = (name: string) => {
      const consumer = new Consumer({
        brokers: broker.bootstrap,
        groupId: 'kip848-g',
        groupProtocol: 'consumer',
        autoOffsetReset: 'earliest',
        clientId: name,
      });
      consumer.subscribe({ topics: [topic] });
      const m = { consumer, stop: false, loop: Promise.resolve() };
      m.loop = (async () => {
        while (!m.stop) {
          // Everything poll() returns is processed before the next poll, where revocations (and
          // their commit of the positions) happen.
          for (const r of await consumer.poll({ timeoutMs: 200 })) processed[r.partition].push(r.offset);
        }
      })();
      members.set(name, m);
    };
    const stop = async (name: string) => {
      const m = members.get(name)!;
      m.stop = true;
      await m.loop;
      await m.consumer.close();
      members.delete(name);
    };

    start('a');
    start('b');
    await until(() => processed.every((p) => p.length > 0), 'every partition consumed', 30_000);
    start('c');
    await new Promise((r) => setTimeout(r, 1500));
    await stop('a');
    start('d');
    await new Promise((r) => setTimeout(r, 1500));
    producing = false;
    await produceLoop;
    await producer.close();
    await until(
      () => processed.every((p, i) => p.length > 0 && p[p.length - 1] + 1n >= produced[i]),
      'every produced record consumed',
      60_000,
    );
    for (const name of [...members.keys()]) await stop(name);

    for (let p = 0; p < partitions; p++) {
      const offsets = processed[p];
      const expected = Array.from({ length: Number(produced[p]) }, (_, i) => BigInt(i));
      expect(offsets, `partition ${p}`).toEqual(expected);
    }
  }, 120_000);

  it('a single member gets every partition, commits with its member epoch, and leaves on close', async () => {
    const topic = 'kip848-single';
    await admin.createTopics([{ name: topic, numPartitions: 3 }]);
    const producer = new Producer({ brokers: broker.bootstrap });
    await producer.send({
      topic,
      messages: Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: Buffer.from(`${i}`) })),
    });
    await producer.close();
    const c = new Consumer({
      brokers: broker.bootstrap,
      groupId: 'kip848-single',
      groupProtocol: 'consumer',
      groupRemoteAssignor: 'range',
      autoOffsetReset: 'earliest',
      enableAutoCommit: false,
    });
    c.subscribe({ topics: [topic] });
    let n = 0;
    const deadline = Date.now() + 30_000;
    while (n < 30 && Date.now() < deadline) n += (await c.poll({ timeoutMs: 500 })).length;
    expect(n).toBe(30);
    expect(c.assignment().length).toBe(3);
    expect(c.groupMetadata?.generationId).toBeGreaterThan(0);
    // The admin client (and so `samsa group list/describe`) reports a consumer-type group.
    const listed = (await admin.listGroups()).find((g) => g.groupId === 'kip848-single');
    expect(listed).toMatchObject({ type: 'consumer', protocolType: 'consumer', state: 'Stable' });
    const [desc] = await admin.describeGroups(['kip848-single']);
    expect(desc).toMatchObject({ type: 'consumer', state: 'Stable', protocol: 'range' });
    expect(desc.members).toHaveLength(1);
    expect(desc.members[0].subscription).toEqual([topic]);
    expect(desc.members[0].assignment?.map((tp) => `${tp.topic}-${tp.partition}`).sort()).toEqual([
      `${topic}-0`,
      `${topic}-1`,
      `${topic}-2`,
    ]);
    await c.commit();
    const committed = await c.committed([0, 1, 2].map((partition) => ({ topic, partition })));
    expect([...committed.values()].map((o) => o?.offset)).toEqual([10n, 10n, 10n]);
    await c.close();
  }, 60_000);
});

describe('KIP-848 errors seen by the consumer', () => {
  it('a second live member with the same group.instance.id fails its poll with UNRELEASED_INSTANCE_ID', async () => {
    const broker = await testBroker(GROUP_CONFIG);
    const admin = new Admin({ brokers: broker.bootstrap });
    const make = () =>
      new Consumer({
        brokers: broker.bootstrap,
        groupId: 'kip848-static',
        groupProtocol: 'consumer',
        groupInstanceId: 'same-instance',
      });
    const first = make();
    const second = make();
    try {
      await admin.createTopics([{ name: 'kip848-static', numPartitions: 1 }]);
      first.subscribe({ topics: ['kip848-static'] });
      const deadline = Date.now() + 30_000;
      while (first.assignment().length < 1 && Date.now() < deadline) await first.poll({ timeoutMs: 200 });
      expect(first.assignment()).toHaveLength(1);
      second.subscribe({ topics: ['kip848-static'] });
      await expect(second.poll({ timeoutMs: 5000 })).rejects.toMatchObject({
        code: ErrorCode.UNRELEASED_INSTANCE_ID,
      });
      expect(second.assignment()).toEqual([]);
    } finally {
      await second.close().catch(() => {});
      await first.close();
      await admin.close();
      await broker.stop();
    }
  }, 60_000);
});

describe('KIP-848 groups across a broker restart', () => {
  it('the group comes back with its members, epochs and assignments (replayed from __consumer_offsets)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-kip848-restart-'));
    // A session long enough that the static member, once it left with epoch -2, is still there.
    const config = { ...GROUP_CONFIG, 'group.consumer.session.timeout.ms': '60000', 'log.dirs': dir };
    let broker = await testBroker(config);
    let admin = new Admin({ brokers: broker.bootstrap });
    try {
      await admin.createTopics([{ name: 'kip848-restart', numPartitions: 2 }]);
      const consumer = new Consumer({
        brokers: broker.bootstrap,
        groupId: 'kip848-restart',
        groupProtocol: 'consumer',
        groupInstanceId: 'static-1',
        autoOffsetReset: 'earliest',
      });
      consumer.subscribe({ topics: ['kip848-restart'] });
      const deadline = Date.now() + 30_000;
      while (consumer.assignment().length < 2 && Date.now() < deadline)
        await consumer.poll({ timeoutMs: 200 });
      expect(consumer.assignment()).toHaveLength(2);
      // A static member leaves with epoch -2: the group keeps it, with its assignment.
      await consumer.close();
      const [before] = await admin.describeGroups(['kip848-restart']);
      expect(before.type).toBe('consumer');
      expect(before.members).toHaveLength(1);
      expect(before.members[0].assignment).toHaveLength(2);
      await admin.close();
      await broker.stop();

      broker = await testBroker(config);
      admin = new Admin({ brokers: broker.bootstrap });
      const [after] = await admin.describeGroups(['kip848-restart']);
      expect(after).toEqual(before);
    } finally {
      await admin.close();
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
