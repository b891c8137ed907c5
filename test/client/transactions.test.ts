// The transactional producer and the read_committed consumer against an in-process broker: commit
// and abort, what each isolation level sees, consume-transform-produce with
// sendOffsetsToTransaction, fencing by a second producer with the same transactional id, the state
// machine's errors, and interop both ways (a confluent-kafka-python read_committed consumer reading
// a Samsa producer's transactions; the Samsa consumer reading a kafkajs producer's).

import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { Admin } from '../../src/client/admin.js';
import { AddPartitionsToTxnApi } from '../../src/client/apis.js';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer.js';
import { tpKey } from '../../src/client/consumer-protocol.js';
import {
  KafkaError,
  ProducerFencedError,
  TransactionAbortableError,
  TransactionAbortedError,
  TransactionFatalError,
  TransactionStateError,
} from '../../src/client/errors.js';
import { Producer } from '../../src/client/producer.js';
import { hasConfluentKafka, requireClient } from '../helpers/tools.js';
import { captureLogger, python, testBroker } from './helpers.js';

/** Reads a topic's partitions from the start until `quietMs` pass without records. */
async function readAll(
  bootstrap: string,
  topic: string,
  partitions: number,
  isolationLevel: 'read_committed' | 'read_uncommitted',
  quietMs = 700,
): Promise<ConsumerRecord[]> {
  const c = new Consumer({ brokers: bootstrap, isolationLevel, autoOffsetReset: 'earliest' });
  c.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  const out: ConsumerRecord[] = [];
  let last = Date.now();
  const deadline = Date.now() + 30_000;
  while (Date.now() - last < quietMs && Date.now() < deadline) {
    const got = await c.poll({ timeoutMs: 200 });
    if (got.length > 0) last = Date.now();
    out.push(...got);
  }
  const positions = Array.from({ length: partitions }, (_, partition) => c.position({ topic, partition }));
  await c.close();
  return Object.assign(out, { positions });
}

const values = (rs: ConsumerRecord[]) => rs.map((r) => r.value?.toString()).sort();

describe('transactions', () => {
  let broker: Broker;
  let admin: Admin;
  const producers: Producer[] = [];

  beforeAll(async () => {
    broker = await testBroker({ 'num.partitions': '2' });
    admin = new Admin({ brokers: broker.bootstrap });
  });
  afterAll(async () => {
    for (const p of producers) await p.close({ timeoutMs: 2000 }).catch(() => {});
    await admin?.close();
    await broker?.stop();
  });

  function transactional(id: string, options: { transactionTimeoutMs?: number } = {}): Producer {
    const p = new Producer({
      brokers: broker.bootstrap,
      transactionalId: id,
      lingerMs: 1,
      logger: captureLogger(),
      ...options,
    });
    producers.push(p);
    return p;
  }

  it('commits and aborts: read_committed sees the committed records, read_uncommitted all', async () => {
    const topic = 'txn-commit-abort';
    await admin.createTopics([{ name: topic, numPartitions: 2 }]);
    const p = transactional('tx-commit-abort');
    await p.initTransactions();
    expect(p.transactionState).toBe('READY');
    expect(p.producerIdAndEpoch.producerId).toBeGreaterThanOrEqual(0n);

    p.beginTransaction();
    await p.send({ topic, messages: [0, 1, 2, 3].map((i) => ({ value: `c1-${i}`, partition: i % 2 })) });
    await p.commitTransaction();

    p.beginTransaction();
    const aborted = p.send({
      topic,
      messages: [0, 1, 2].map((i) => ({ value: `a-${i}`, partition: i % 2 })),
    });
    await aborted; // sent, then aborted: written to the log, but never visible to read_committed
    await p.abortTransaction();

    p.beginTransaction();
    await p.send({ topic, messages: [{ value: 'c2-0', partition: 0 }] });
    // Aborted before it is sent: the record fails with TransactionAbortedError.
    const unsent = p.send({ topic, messages: [{ value: 'unsent', partition: 1 }] });
    const unsentResult = unsent.then(
      () => null,
      (e) => e,
    );
    await p.abortTransaction();
    expect(await unsentResult).toBeInstanceOf(TransactionAbortedError);

    p.beginTransaction();
    await p.send({
      topic,
      messages: [
        { value: 'c3-0', partition: 0 },
        { value: 'c3-1', partition: 1 },
      ],
    });
    await p.commitTransaction();
    expect(p.transactionState).toBe('READY');

    const committed = await readAll(broker.bootstrap, topic, 2, 'read_committed');
    expect(values(committed)).toEqual(['c1-0', 'c1-1', 'c1-2', 'c1-3', 'c3-0', 'c3-1']);
    // The position moves past the trailing COMMIT marker: the end of each partition.
    const ends = await admin.listOffsets(
      [0, 1].map((partition) => ({ topic, partition })),
      'latest',
    );
    expect((committed as unknown as { positions: bigint[] }).positions).toEqual(
      [0, 1].map((partition) => ends.get(tpKey({ topic, partition }))?.offset),
    );

    const all = await readAll(broker.bootstrap, topic, 2, 'read_uncommitted');
    expect(values(all)).toEqual(
      ['a-0', 'a-1', 'a-2', 'c1-0', 'c1-1', 'c1-2', 'c1-3', 'c2-0', 'c3-0', 'c3-1'].sort(),
    );
  });

  it('adds the partitions of one sender pass in one AddPartitionsToTxn', async () => {
    const topic = 'txn-add-partitions';
    await admin.createTopics([{ name: topic, numPartitions: 4 }]);
    const p = transactional('tx-add-partitions');
    await p.initTransactions();
    const send = vi.spyOn(p.cluster, 'send');
    const adds = () => send.mock.calls.filter((c) => c[1] === AddPartitionsToTxnApi).length;
    p.beginTransaction();
    await p.send({
      topic,
      messages: [0, 1, 2, 3].map((partition) => ({ value: `v${partition}`, partition })),
    });
    expect(adds()).toBe(1);
    // Partitions already in the transaction are not added again.
    await p.send({ topic, messages: [{ value: 'again', partition: 2 }] });
    expect(adds()).toBe(1);
    await p.commitTransaction();
    // A new transaction adds them anew.
    p.beginTransaction();
    await p.send({ topic, messages: [{ value: 'next', partition: 2 }] });
    expect(adds()).toBe(2);
    await p.commitTransaction();
    send.mockRestore();
  });

  it('hides an open transaction from read_committed until it commits', async () => {
    const topic = 'txn-open';
    await admin.createTopics([{ name: topic, numPartitions: 1 }]);
    const p = transactional('tx-open');
    await p.initTransactions();
    p.beginTransaction();
    await p.send({ topic, messages: [{ value: 'pending' }] });
    expect(await readAll(broker.bootstrap, topic, 1, 'read_committed', 400)).toHaveLength(0);
    expect(values(await readAll(broker.bootstrap, topic, 1, 'read_uncommitted', 400))).toEqual(['pending']);
    await p.commitTransaction();
    expect(values(await readAll(broker.bootstrap, topic, 1, 'read_committed', 400))).toEqual(['pending']);
  });

  it('consume-transform-produce: the offsets commit with the transaction, not after an abort', async () => {
    const input = 'txn-ctp-in';
    const output = 'txn-ctp-out';
    const group = 'txn-ctp-group';
    await admin.createTopics([
      { name: input, numPartitions: 1 },
      { name: output, numPartitions: 1 },
    ]);
    const seed = new Producer({ brokers: broker.bootstrap });
    producers.push(seed);
    await seed.send({ topic: input, messages: Array.from({ length: 10 }, (_, i) => ({ value: `in-${i}` })) });

    const consumer = new Consumer({
      brokers: broker.bootstrap,
      groupId: group,
      enableAutoCommit: false,
      autoOffsetReset: 'earliest',
      isolationLevel: 'read_committed',
    });
    consumer.subscribe({ topics: [input] });
    const p = transactional('tx-ctp');
    await p.initTransactions();
    try {
      const got: ConsumerRecord[] = [];
      const deadline = Date.now() + 30_000;
      while (got.length < 10 && Date.now() < deadline) got.push(...(await consumer.poll({ timeoutMs: 500 })));
      expect(got).toHaveLength(10);
      const meta = consumer.groupMetadata;
      expect(meta).not.toBeNull();

      // First attempt: transform the first five, then abort. The group's offset stays uncommitted.
      p.beginTransaction();
      await p.send({ topic: output, messages: got.slice(0, 5).map((r) => ({ value: `out-${r.value}` })) });
      await p.sendOffsetsToTransaction(
        [{ topic: input, partition: 0, offset: got[4].offset + 1n }],
        meta as NonNullable<typeof meta>,
      );
      await p.abortTransaction();
      // Give the abort markers time to land: the offset must still not show.
      await new Promise((r) => setTimeout(r, 300));
      expect(await admin.listConsumerGroupOffsets(group)).toEqual([]);

      // Second attempt: everything, committed.
      p.beginTransaction();
      await p.send({ topic: output, messages: got.map((r) => ({ value: `out-${r.value}` })) });
      await p.sendOffsetsToTransaction(
        [{ topic: input, partition: 0, offset: 10n }],
        meta as NonNullable<typeof meta>,
      );
      const before = await admin.listConsumerGroupOffsets(group);
      expect(before.map((o) => o.offset)).not.toContain(10n);
      await p.commitTransaction();
      // The markers are written after EndTxn answers (as in Kafka): the offset shows up then.
      let after = await admin.listConsumerGroupOffsets(group);
      for (let i = 0; i < 100 && after.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        after = await admin.listConsumerGroupOffsets(group);
      }
      expect(after.map((o) => [o.topic, o.partition, o.offset])).toEqual([[input, 0, 10n]]);
    } finally {
      await consumer.close();
    }
    const out = await readAll(broker.bootstrap, output, 1, 'read_committed');
    expect(out.map((r) => r.value?.toString())).toEqual(Array.from({ length: 10 }, (_, i) => `out-in-${i}`));
  });

  it('a second producer with the same transactional id fences the first (fatal, typed)', async () => {
    const topic = 'txn-fence';
    await admin.createTopics([{ name: topic, numPartitions: 1 }]);
    const first = transactional('tx-fence');
    await first.initTransactions();
    first.beginTransaction();
    await first.send({ topic, messages: [{ value: 'zombie' }] });

    const second = transactional('tx-fence');
    await second.initTransactions(); // aborts the first one's open transaction
    expect(second.producerIdAndEpoch.producerId).toBe(first.producerIdAndEpoch.producerId);
    expect(second.producerIdAndEpoch.producerEpoch).toBeGreaterThan(first.producerIdAndEpoch.producerEpoch);

    const err = await first.commitTransaction().then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(ProducerFencedError);
    expect(err).toBeInstanceOf(TransactionFatalError);
    expect(first.transactionState).toBe('FATAL_ERROR');
    // Fatal: every later call raises it again.
    expect(() => first.beginTransaction()).toThrow(ProducerFencedError);
    await expect(first.send({ topic, messages: [{ value: 'x' }] })).rejects.toBeInstanceOf(
      ProducerFencedError,
    );
    await expect(first.abortTransaction()).rejects.toBeInstanceOf(ProducerFencedError);

    second.beginTransaction();
    await second.send({ topic, messages: [{ value: 'fresh' }] });
    await second.commitTransaction();
    expect(values(await readAll(broker.bootstrap, topic, 1, 'read_committed'))).toEqual(['fresh']);
  });

  it('a fenced producer fails its produce with a fatal error', async () => {
    const topic = 'txn-fence-produce';
    await admin.createTopics([{ name: topic, numPartitions: 1 }]);
    const first = transactional('tx-fence-produce');
    await first.initTransactions();
    first.beginTransaction();
    await first.send({ topic, messages: [{ value: 'one' }] });
    const second = transactional('tx-fence-produce');
    await second.initTransactions();
    const err = await first.send({ topic, messages: [{ value: 'two' }] }).then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(TransactionFatalError);
    expect(first.transactionState).toBe('FATAL_ERROR');
  });

  it('a failed send makes the transaction abortable; after the abort the producer goes on', async () => {
    const topic = 'txn-abortable';
    // The broker refuses batches over 300 bytes: a sequenced batch fails for good.
    await admin.createTopics([{ name: topic, numPartitions: 1, configs: { 'max.message.bytes': '300' } }]);
    const p = transactional('tx-abortable');
    await p.initTransactions();
    const epoch = p.producerIdAndEpoch.producerEpoch;
    p.beginTransaction();
    await p.send({ topic, messages: [{ value: 'ok-1' }] });
    const err = await p.send({ topic, messages: [{ value: Buffer.alloc(1000, 1) }] }).then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).name).toBe('MESSAGE_TOO_LARGE');
    expect(p.transactionState).toBe('ABORTABLE_ERROR');
    await expect(p.send({ topic, messages: [{ value: 'more' }] })).rejects.toBeInstanceOf(
      TransactionAbortableError,
    );
    await expect(p.commitTransaction()).rejects.toBeInstanceOf(TransactionAbortableError);
    await p.abortTransaction();
    // The failed batch had a sequence: the abort bumped the epoch (KIP-360), same producer id.
    expect(p.producerIdAndEpoch.producerEpoch).toBe(epoch + 1);
    p.beginTransaction();
    await p.send({ topic, messages: [{ value: 'ok-2' }, { value: 'ok-3' }] });
    await p.commitTransaction();
    expect(values(await readAll(broker.bootstrap, topic, 1, 'read_committed'))).toEqual(['ok-2', 'ok-3']);

    // A record over max.request.size fails in send() itself: abortable too.
    const small = new Producer({
      brokers: broker.bootstrap,
      transactionalId: 'tx-abortable-local',
      maxRequestSize: 200,
      logger: captureLogger(),
    });
    producers.push(small);
    await small.initTransactions();
    small.beginTransaction();
    await expect(small.send({ topic, messages: [{ value: Buffer.alloc(500) }] })).rejects.toBeInstanceOf(
      KafkaError,
    );
    await expect(small.commitTransaction()).rejects.toBeInstanceOf(TransactionAbortableError);
    await small.abortTransaction();
    expect(small.transactionState).toBe('READY');
  });

  it('close() aborts an open transaction', async () => {
    const topic = 'txn-close';
    await admin.createTopics([{ name: topic, numPartitions: 1 }]);
    const p = transactional('tx-close');
    await p.initTransactions();
    p.beginTransaction();
    await p.send({ topic, messages: [{ value: 'left-open' }] });
    await p.close();
    const next = transactional('tx-close');
    await next.initTransactions();
    next.beginTransaction();
    await next.send({ topic, messages: [{ value: 'after' }] });
    await next.commitTransaction();
    expect(values(await readAll(broker.bootstrap, topic, 1, 'read_committed'))).toEqual(['after']);
    expect(values(await readAll(broker.bootstrap, topic, 1, 'read_uncommitted'))).toEqual([
      'after',
      'left-open',
    ]);
  });

  it('state machine errors are typed', async () => {
    const p = transactional('tx-states');
    expect(() => p.beginTransaction()).toThrow(TransactionStateError);
    await expect(p.send({ topic: 'txn-states', messages: [{ value: 'x' }] })).rejects.toBeInstanceOf(
      TransactionStateError,
    );
    await p.initTransactions();
    await expect(p.initTransactions()).rejects.toBeInstanceOf(TransactionStateError);
    await expect(p.commitTransaction()).rejects.toBeInstanceOf(TransactionStateError);
    await expect(p.abortTransaction()).rejects.toBeInstanceOf(TransactionStateError);
    p.beginTransaction();
    expect(() => p.beginTransaction()).toThrow(TransactionStateError);
    // An empty transaction commits locally.
    await p.commitTransaction();
    expect(p.transactionState).toBe('READY');

    const plain = new Producer({ brokers: broker.bootstrap });
    producers.push(plain);
    expect(() => plain.beginTransaction()).toThrow(TypeError);
    expect(
      () => new Producer({ brokers: broker.bootstrap, transactionalId: 'x', idempotent: false }),
    ).toThrow(TypeError);
    expect(() => new Producer({ brokers: broker.bootstrap, transactionalId: 'x', acks: 1 })).toThrow(
      TypeError,
    );
  });

  it.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))(
    'a confluent-kafka-python read_committed consumer does not see a Samsa producer’s aborted records',
    async () => {
      const topic = 'txn-to-python';
      await admin.createTopics([{ name: topic, numPartitions: 2 }]);
      const p = transactional('tx-to-python');
      await p.initTransactions();
      for (let t = 0; t < 4; t++) {
        p.beginTransaction();
        await p.send({
          topic,
          messages: [0, 1, 2, 3].map((i) => ({ value: `t${t}-${i}`, partition: i % 2 })),
        });
        if (t % 2 === 0) await p.commitTransaction();
        else await p.abortTransaction();
      }
      const read = async (isolation: string) => {
        const r = await python('interop.py', ['committed', broker.bootstrap, topic, isolation]);
        expect(r.code, r.stderr).toBe(0);
        return r.stdout
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l).value as string)
          .sort();
      };
      expect(await read('read_committed')).toEqual(
        ['t0-0', 't0-1', 't0-2', 't0-3', 't2-0', 't2-1', 't2-2', 't2-3'].sort(),
      );
      expect(await read('read_uncommitted')).toHaveLength(16);
    },
  );

  it('the Samsa read_committed consumer does not see a kafkajs producer’s aborted records', async () => {
    const topic = 'txn-from-kafkajs';
    await admin.createTopics([{ name: topic, numPartitions: 2 }]);
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const kp = kafka.producer({ transactionalId: 'tx-kafkajs', idempotent: true, maxInFlightRequests: 1 });
    await kp.connect();
    try {
      for (let t = 0; t < 4; t++) {
        const tx = await kp.transaction();
        await tx.send({
          topic,
          messages: [0, 1, 2, 3].map((i) => ({ value: `k${t}-${i}`, partition: i % 2 })),
        });
        if (t % 2 === 1) await tx.commit();
        else await tx.abort();
      }
    } finally {
      await kp.disconnect();
    }
    expect(values(await readAll(broker.bootstrap, topic, 2, 'read_committed'))).toEqual(
      ['k1-0', 'k1-1', 'k1-2', 'k1-3', 'k3-0', 'k3-1', 'k3-2', 'k3-3'].sort(),
    );
    expect(await readAll(broker.bootstrap, topic, 2, 'read_uncommitted')).toHaveLength(16);
  });
});
