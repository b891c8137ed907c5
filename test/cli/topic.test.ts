// `samsa topic` beyond create/alter (cli.test.ts): list with a filter, describe with each
// partition's log start, high watermark, last stable offset and size, delete-records / trim-prefix
// by offset and by time, and that none of them creates a topic by naming it. Run in-process
// through main(argv, io) against an in-process broker.

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { Admin, Producer } from '../../src/client/index.js';
import { runCli } from '../helpers/samsa-cli.js';
import { hasKcat, requireClient, run } from '../helpers/tools.js';

let broker: Broker;
let brokers: string;
let admin: Admin;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function samsa(args: string[]): Promise<Result> {
  const r = await runCli(brokers, args);
  return { ...r, stdout: r.stdout.toString() };
}

async function ok(args: string[]): Promise<string> {
  const r = await samsa(args);
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

async function produce(topic: string, partition: number, values: string[], timestamp?: number) {
  const producer = new Producer({ brokers, lingerMs: 0 });
  try {
    await producer.send({ topic, messages: values.map((value) => ({ value, partition, timestamp })) });
  } finally {
    await producer.close();
  }
}

async function topicExists(name: string): Promise<boolean> {
  return (await admin.listTopics()).includes(name);
}

beforeAll(async () => {
  broker = await startBroker({
    logger: pino({ level: 'silent' }),
    // auto.create.topics.enable stays on (Kafka's default): the tests check the CLI never uses it.
    config: { 'num.partitions': '1' },
  });
  brokers = `127.0.0.1:${broker.port}`;
  admin = new Admin({ brokers });
});

afterAll(async () => {
  await admin?.close();
  await broker?.stop();
});

describe('samsa topic list [filter]', () => {
  it('keeps the names containing the filter, or matching it as a regular expression', async () => {
    for (const t of ['orders-eu', 'orders-us', 'payments', 'xorders'])
      await ok(['topic', 'create', t, '-p', '1']);
    const names = (out: string) =>
      out
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)[0]);
    expect(names(await ok(['topic', 'list', 'orders']))).toEqual(['orders-eu', 'orders-us', 'xorders']);
    expect(names(await ok(['topic', 'list', '^orders-']))).toEqual(['orders-eu', 'orders-us']);
    expect(names(await ok(['topic', 'list', 'u[sx]$']))).toEqual(['orders-us']);
    // Not a valid regular expression: a plain substring.
    expect(names(await ok(['topic', 'list', 'pay(']))).toEqual([]);
    expect((await ok(['topic', 'list', 'nothing-like-this'])).trim()).toBe('NAME  PARTITIONS  REPLICAS');
    expect(JSON.parse(await ok(['--json', 'topic', 'list', 'pay']))).toEqual([
      { name: 'payments', partitions: 1, replicas: 1 },
    ]);
    expect(names(await ok(['topic', 'list', '-i', 'consumer_off']))).toEqual([]);
  });
});

describe('samsa topic describe', () => {
  it('shows log start, high watermark, last stable offset and size per partition', async () => {
    await ok(['topic', 'create', 'd1', '-p', '2']);
    await produce('d1', 0, ['a', 'b', 'c', 'd', 'e']);
    // An open transaction on partition 1: its records are below the high watermark, not the LSO.
    await produce('d1', 1, ['x']);
    const txn = new Producer({ brokers, transactionalId: 'describe-txn', lingerMs: 0 });
    try {
      await txn.initTransactions();
      txn.beginTransaction();
      await txn.send({
        topic: 'd1',
        messages: [
          { value: 'y', partition: 1 },
          { value: 'z', partition: 1 },
        ],
      });
      await admin.deleteRecords([{ topic: 'd1', partition: 0, offset: 2 }]);

      const json = JSON.parse(await ok(['--json', 'topic', 'describe', 'd1']));
      const [p0, p1] = json.partitions;
      expect(p0).toMatchObject({ partition: 0, logStartOffset: 2, highWatermark: 5, lastStableOffset: 5 });
      expect(p1).toMatchObject({ partition: 1, logStartOffset: 0, highWatermark: 3, lastStableOffset: 1 });
      // Sizes are the bytes of the leader's log (record batches): positive, and the same figure
      // DescribeLogDirs gives.
      const dirs = await admin.describeLogDirs();
      const sizeOf = (p: number) =>
        [...dirs.values()]
          .flat()
          .flatMap((d) => d.partitions)
          .filter((x) => x.topic === 'd1' && x.partition === p)
          .reduce((n, x) => n + Number(x.size), 0);
      expect(p0.size).toBeGreaterThan(0);
      expect(p0.size).toBe(sizeOf(0));
      expect(p1.size).toBe(sizeOf(1));

      const text = await ok(['topic', 'describe', 'd1']);
      expect(text).toMatch(
        /^PARTITION\s+LEADER\s+REPLICAS\s+ISR\s+LOG-START\s+HIGH-WATERMARK\s+LSO\s+SIZE$/m,
      );
      expect(text).toMatch(new RegExp(`^0\\s+\\d+\\s+\\d+\\s+\\d+\\s+2\\s+5\\s+5\\s+${sizeOf(0)}$`, 'm'));
      expect(text).toMatch(new RegExp(`^1\\s+\\d+\\s+\\d+\\s+\\d+\\s+0\\s+3\\s+1\\s+${sizeOf(1)}$`, 'm'));

      await txn.commitTransaction();
      // Past the commit marker (which the coordinator may write after answering EndTxn, as
      // Kafka's): the LSO is the high watermark again.
      let after = { lastStableOffset: -1, highWatermark: -2 };
      for (let i = 0; i < 200 && after.lastStableOffset !== after.highWatermark; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 50));
        after = JSON.parse(await ok(['--json', 'topic', 'describe', 'd1'])).partitions[1];
      }
      expect(after).toMatchObject({ lastStableOffset: 4, highWatermark: 4 });
    } finally {
      await txn.close();
    }
  });

  it('does not create a topic it is asked about', async () => {
    const r = await samsa(['topic', 'describe', 'no-such-topic']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("samsa: topic 'no-such-topic' does not exist; see `samsa topic list`\n");
    expect(await topicExists('no-such-topic')).toBe(false);
  });
});

describe('samsa topic delete-records / trim-prefix', () => {
  it('deletes the records before an offset, in every partition or those given', async () => {
    await ok(['topic', 'create', 'dr', '-p', '2']);
    await produce('dr', 0, ['a', 'b', 'c', 'd']);
    await produce('dr', 1, ['e', 'f', 'g']);
    expect(await ok(['topic', 'delete-records', 'dr', '--offset', '2', '-p', '1'])).toMatch(
      /^TOPIC\s+PARTITION\s+LOG-START\n^dr\s+1\s+2\n$/m,
    );
    expect(JSON.parse(await ok(['--json', 'topic', 'trim-prefix', 'dr', '--offset', '3']))).toEqual([
      { topic: 'dr', partition: 0, logStartOffset: 3 },
      { topic: 'dr', partition: 1, logStartOffset: 3 },
    ]);
    const ends = await admin.listOffsets(
      [
        { topic: 'dr', partition: 0 },
        { topic: 'dr', partition: 1 },
      ],
      'earliest',
    );
    expect([...ends.values()].map((o) => o.offset)).toEqual([3n, 3n]);
    // 'end': up to the high watermark, every record.
    expect(JSON.parse(await ok(['--json', 'topic', 'delete-records', 'dr', '--offset', 'end']))).toEqual([
      { topic: 'dr', partition: 0, logStartOffset: 4 },
      { topic: 'dr', partition: 1, logStartOffset: 3 },
    ]);
  });

  it('deletes the records older than a time', async () => {
    await ok(['topic', 'create', 'dt', '-p', '1']);
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    await produce('dt', 0, ['old1', 'old2'], t0);
    await produce('dt', 0, ['new1'], t0 + 60_000);
    await produce('dt', 0, ['new2'], t0 + 120_000);
    expect(
      JSON.parse(
        await ok(['--json', 'topic', 'delete-records', 'dt', '--before', '2026-01-01T12:00:30.000Z']),
      ),
    ).toEqual([{ topic: 'dt', partition: 0, logStartOffset: 2 }]);
    expect(
      JSON.parse(await ok(['--json', 'topic', 'delete-records', 'dt', '--before', String(t0 + 120_000)])),
    ).toEqual([{ topic: 'dt', partition: 0, logStartOffset: 3 }]);
    // A time after every record: all of them.
    expect(
      JSON.parse(await ok(['--json', 'topic', 'delete-records', 'dt', '--before', '2030-01-01T00:00:00Z'])),
    ).toEqual([{ topic: 'dt', partition: 0, logStartOffset: 4 }]);
  });

  it.skipIf(!requireClient('kcat', hasKcat))(
    'kcat reading from the beginning starts at the new log start',
    async () => {
      await ok(['topic', 'create', 'dk', '-p', '1']);
      await produce('dk', 0, ['one', 'two', 'three', 'four']);
      await ok(['topic', 'trim-prefix', 'dk', '--offset', '2']);
      const r = await run('kcat', [
        '-b',
        brokers,
        '-C',
        '-t',
        'dk',
        '-o',
        'beginning',
        '-e',
        '-q',
        '-f',
        '%o %s\n',
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('2 three\n3 four\n');
    },
  );

  it('refuses what Kafka refuses, and what it cannot do, in one line', async () => {
    await ok(['topic', 'create', 'dx', '-p', '1']);
    await produce('dx', 0, ['a']);
    const past = await samsa(['topic', 'delete-records', 'dx', '--offset', '5']);
    expect(past.code).toBe(1);
    expect(past.stderr).toMatch(/^samsa: dx-0: .*records can be deleted only up to the high watermark/);
    expect(past.stderr.trim().split('\n')).toHaveLength(1);

    const part = await samsa(['topic', 'delete-records', 'dx', '--offset', '1', '-p', '0,3']);
    expect(part.code).toBe(1);
    expect(part.stderr).toBe("samsa: topic 'dx' has no partition 3 (it has 1 partition)\n");

    const both = await samsa(['topic', 'delete-records', 'dx', '--offset', '1', '--before', '5']);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/^samsa: give exactly one of --offset/);

    const missing = await samsa(['topic', 'delete-records', 'nope', '--offset', '1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("samsa: topic 'nope' does not exist; see `samsa topic list`\n");
    expect(await topicExists('nope')).toBe(false);

    const badTime = await samsa(['topic', 'delete-records', 'dx', '--before', 'yesterday']);
    expect(badTime.code).toBe(1);
    expect(badTime.stderr).toMatch(/expected a date-time like/);
  });
});
