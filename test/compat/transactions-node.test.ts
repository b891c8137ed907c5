// Transactions from kafkajs: records and consumer offsets committed in one transaction, an aborted
// transaction that read_committed consumers never see, fencing by a second producer with the same
// transactional id, and the transaction admin APIs (DescribeTransactions, ListTransactions) on the
// wire.

import { type Admin, Kafka, logLevel, type Producer } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { DescribeTransactionsRequest } from '../../src/protocol/generated/messages/DescribeTransactionsRequest.js';
import { DescribeTransactionsResponse } from '../../src/protocol/generated/messages/DescribeTransactionsResponse.js';
import { ListTransactionsRequest } from '../../src/protocol/generated/messages/ListTransactionsRequest.js';
import { ListTransactionsResponse } from '../../src/protocol/generated/messages/ListTransactionsResponse.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';
import { until } from '../helpers/tools.js';

describe('transactions from kafkajs', () => {
  let broker: Broker;
  let kafka: Kafka;
  let admin: Admin;
  const producers: Producer[] = [];

  beforeAll(async () => {
    broker = await startBroker({
      config: { 'group.initial.rebalance.delay.ms': '0', 'log.cleaner.backoff.ms': '100' },
      logger: pino({ level: 'silent' }),
    });
    kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5 } });
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    for (const p of producers) await p.disconnect().catch(() => {});
    await admin?.disconnect();
    await broker?.stop();
  });

  async function transactional(id: string): Promise<Producer> {
    const p = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
    producers.push(p);
    await p.connect();
    return p;
  }

  /** Everything a read_committed (or read_uncommitted) consumer reads from the topic's start. */
  async function readAll(topic: string, readUncommitted: boolean, expected: number): Promise<string[]> {
    const consumer = kafka.consumer({
      groupId: `reader-${topic}-${readUncommitted}`,
      readUncommitted,
      maxWaitTimeInMs: 200,
    });
    const values: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    await until(() => values.length >= expected, `${expected} records`, 30_000);
    // A little longer, so that records that should not be there would have arrived.
    await new Promise((r) => setTimeout(r, 500));
    await consumer.disconnect();
    return values;
  }

  it('commits records and consumer offsets in one transaction; an aborted one stays invisible', async () => {
    await admin.createTopics({
      topics: [
        { topic: 'txn-out', numPartitions: 2 },
        { topic: 'txn-in', numPartitions: 1 },
      ],
    });
    const producer = await transactional('js-txn');

    const aborted = await producer.transaction();
    await aborted.send({
      topic: 'txn-out',
      messages: [
        { value: 'aborted-1', partition: 0 },
        { value: 'aborted-2', partition: 1 },
      ],
    });
    await aborted.abort();

    const txn = await producer.transaction();
    await txn.send({
      topic: 'txn-out',
      messages: [
        { value: 'committed-1', partition: 0 },
        { value: 'committed-2', partition: 1 },
      ],
    });
    await txn.sendOffsets({
      consumerGroupId: 'js-txn-group',
      topics: [{ topic: 'txn-in', partitions: [{ partition: 0, offset: '42' }] }],
    });
    await txn.commit();

    expect((await readAll('txn-out', false, 2)).sort()).toEqual(['committed-1', 'committed-2']);
    expect((await readAll('txn-out', true, 4)).sort()).toEqual([
      'aborted-1',
      'aborted-2',
      'committed-1',
      'committed-2',
    ]);
    const offsets = await admin.fetchOffsets({ groupId: 'js-txn-group', topics: ['txn-in'] });
    expect(offsets[0].partitions).toEqual([{ partition: 0, offset: '42', metadata: null }]);

    // Each partition holds its two records and the two transactions' markers.
    const ends = await admin.fetchTopicOffsets('txn-out');
    expect(ends.map((e) => Number(e.high))).toEqual([4, 4]);
  }, 60_000);

  it('a second producer with the same transactional id fences the first', async () => {
    await admin.createTopics({ topics: [{ topic: 'txn-fence', numPartitions: 1 }] });
    const first = await transactional('js-fence');
    const open = await first.transaction();
    await open.send({ topic: 'txn-fence', messages: [{ value: 'from-first' }] });
    // The newcomer's InitProducerId bumps the epoch and aborts the first's open transaction.
    const second = await transactional('js-fence');
    const t2 = await second.transaction();
    await t2.send({ topic: 'txn-fence', messages: [{ value: 'from-second' }] });
    await t2.commit();
    await expect(open.commit()).rejects.toThrow(/epoch|fenced/i);
    expect(await readAll('txn-fence', false, 1)).toEqual(['from-second']);
  }, 60_000);

  it('compaction removes aborted records and never lets them stand in for committed ones', async () => {
    await admin.createTopics({
      topics: [
        {
          topic: 'txn-compact',
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.ms', value: '300' },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
          ],
        },
      ],
    });
    const producer = await transactional('js-compact');
    const run = async (messages: { key: string; value: string }[], commit: boolean) => {
      const t = await producer.transaction();
      await t.send({ topic: 'txn-compact', messages: messages.map((m) => ({ ...m, partition: 0 })) });
      await (commit ? t.commit() : t.abort());
    };
    await run(
      [
        { key: 'k1', value: 'v1' },
        { key: 'k2', value: 'v2' },
      ],
      true,
    );
    // The aborted transaction's k1 comes later in the log than the committed one: a cleaner that
    // took it for the latest value would drop v1.
    await run(
      [
        { key: 'k1', value: 'aborted' },
        { key: 'k3', value: 'aborted' },
      ],
      false,
    );
    await run([{ key: 'k2', value: 'v2b' }], true);

    const rpc = await KafkaRpc.connect(broker.port);
    try {
      const data = async () =>
        (await rpc.readPartition('txn-compact', 0)).records
          .filter((r) => r.key !== null && /^(k\d|roll)$/.test(r.key))
          .map((r) => `${r.key}=${r.value}`);
      // Before the clean, everything is in the log: it is all in the active segment, which the
      // cleaner never touches (read before the roll, so that a cleaner quick to follow it cannot race
      // this read).
      expect(await data()).toEqual(['k1=v1', 'k2=v2', 'k1=aborted', 'k3=aborted', 'k2=v2b']);
      await new Promise((r) => setTimeout(r, 500));
      await run([{ key: 'roll', value: 'over' }], true); // rolls the segment: the rest is cleanable
      let after = await data();
      const deadline = Date.now() + 30_000;
      while (after.length > 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        after = await data();
      }
      // Aborted records are gone even for read_uncommitted; k1 keeps its committed value.
      expect(after).toEqual(['k1=v1', 'k2=v2b', 'roll=over']);
    } finally {
      rpc.close();
    }
    expect((await readAll('txn-compact', false, 3)).sort()).toEqual(['over', 'v1', 'v2b']);
  }, 60_000);

  it('DescribeTransactions and ListTransactions show the transactional ids', async () => {
    const client = await KafkaRpc.connect(broker.port);
    try {
      const listed = await client.request(66, 1, ListTransactionsRequest, ListTransactionsResponse, {
        ...ListTransactionsRequest.default(),
        stateFilters: ['CompleteCommit', 'Bogus'],
      });
      expect(listed.errorCode).toBe(ErrorCode.NONE);
      expect(listed.unknownStateFilters).toEqual(['Bogus']);
      expect(listed.transactionStates.map((t) => t.transactionalId).sort()).toEqual([
        'js-compact',
        'js-fence',
        'js-txn',
      ]);
      const described = await client.request(
        65,
        0,
        DescribeTransactionsRequest,
        DescribeTransactionsResponse,
        {
          transactionalIds: ['js-txn', 'nope'],
        },
      );
      expect(described.transactionStates[0]).toMatchObject({
        errorCode: ErrorCode.NONE,
        transactionalId: 'js-txn',
        transactionState: 'CompleteCommit',
        topics: [],
      });
      expect(described.transactionStates[1]).toMatchObject({
        errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
        transactionalId: 'nope',
      });
    } finally {
      client.raw.close();
    }
  }, 30_000);
});
