// `samsa group reset-offsets` (dry run unless --execute; kafka-consumer-groups' scenarios, range
// checks and partition selection; no topic created by naming it) and `samsa group delete-offsets`
// (OffsetDelete and Kafka's errors), run in-process through main(argv, io); offsets reset by samsa
// are then read by confluent-kafka-python's consumer of that group.

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { Admin, Consumer, Producer } from '../../src/client/index.js';
import { runCli } from '../helpers/samsa-cli.js';
import { hasConfluentKafka, PYTHON, requireClient, run } from '../helpers/tools.js';

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

async function ok(args: string[]): Promise<Result> {
  const r = await samsa(args);
  expect(r.stderr.startsWith('samsa:') ? r.stderr : '', args.join(' ')).toBe('');
  expect(r.code).toBe(0);
  return r;
}

async function produce(topic: string, partition: number, values: string[], timestamp?: number) {
  const producer = new Producer({ brokers, lingerMs: 0 });
  try {
    await producer.send({ topic, messages: values.map((value) => ({ value, partition, timestamp })) });
  } finally {
    await producer.close();
  }
}

/** The group's committed offsets as "topic-partition=offset". */
async function committed(group: string): Promise<string[]> {
  return (await admin.listConsumerGroupOffsets(group)).map((o) => `${o.topic}-${o.partition}=${o.offset}`);
}

async function commit(group: string, offsets: [string, number, number][]) {
  await admin.alterConsumerGroupOffsets(
    group,
    offsets.map(([topic, partition, offset]) => ({ topic, partition, offset })),
  );
}

beforeAll(async () => {
  broker = await startBroker({
    logger: pino({ level: 'silent' }),
    config: { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': '1' },
  });
  brokers = `127.0.0.1:${broker.port}`;
  admin = new Admin({ brokers });
  await admin.createTopics([
    { name: 'r1', numPartitions: 2 },
    { name: 'r2', numPartitions: 1 },
  ]);
  await produce('r1', 0, ['a', 'b', 'c', 'd', 'e']);
  await produce('r1', 1, ['f', 'g', 'h']);
  await produce('r2', 0, ['i', 'j']);
});

afterAll(async () => {
  await admin?.close();
  await broker?.stop();
});

describe('samsa group reset-offsets', () => {
  it('prints the plan without changing anything unless --execute is given', async () => {
    await commit('g-dry', [
      ['r1', 0, 2],
      ['r1', 1, 1],
    ]);
    const plan = await ok(['group', 'reset-offsets', 'g-dry', '--topic', 'r1', '--to-earliest']);
    expect(plan.stdout).toBe(
      'TOPIC  PARTITION  CURRENT-OFFSET  NEW-OFFSET\nr1     0          2               0\nr1     1          1               0\n',
    );
    expect(plan.stderr).toBe('dry run: nothing changed; add --execute to reset 2 partitions\n');
    expect(await committed('g-dry')).toEqual(['r1-0=2', 'r1-1=1']);
    // --dry-run says the same explicitly.
    expect(
      (await ok(['group', 'reset-offsets', 'g-dry', '-t', 'r1', '--to-latest', '--dry-run'])).stdout,
    ).toMatch(/^r1\s+0\s+2\s+5$/m);
    expect(await committed('g-dry')).toEqual(['r1-0=2', 'r1-1=1']);

    const done = await ok(['group', 'reset-offsets', 'g-dry', '-t', 'r1', '--to-latest', '--execute']);
    expect(done.stdout).toMatch(/^r1\s+1\s+1\s+3$/m);
    expect(done.stderr).toBe("reset the offsets of 2 partitions of group 'g-dry'\n");
    expect(await committed('g-dry')).toEqual(['r1-0=5', 'r1-1=3']);

    const json = JSON.parse(
      (await ok(['--json', 'group', 'reset-offsets', 'g-dry', '-t', 'r1:1', '--to-offset', '2', '--execute']))
        .stdout,
    );
    expect(json).toEqual({
      group: 'g-dry',
      executed: true,
      offsets: [{ topic: 'r1', partition: 1, current: 3, offset: 2 }],
    });
    expect(await committed('g-dry')).toEqual(['r1-0=5', 'r1-1=2']);
  });

  it('clamps to the log start and end as kafka-consumer-groups does; shift-by moves from the committed offset', async () => {
    await commit('g-shift', [
      ['r1', 0, 3],
      ['r1', 1, 1],
    ]);
    const back = await ok(['group', 'reset-offsets', 'g-shift', '-t', 'r1', '--shift-by', '-2', '--execute']);
    expect(back.stderr).toMatch(/^warning: new offset -1 is before the start of r1-1; it will be 0$/m);
    expect(await committed('g-shift')).toEqual(['r1-0=1', 'r1-1=0']);
    const on = await ok(['group', 'reset-offsets', 'g-shift', '-t', 'r1', '--shift-by', '4', '--execute']);
    expect(on.stderr).toMatch(/^warning: new offset 4 is past the end of r1-1; it will be 3$/m);
    expect(await committed('g-shift')).toEqual(['r1-0=5', 'r1-1=3']);
    await ok(['group', 'reset-offsets', 'g-shift', '-t', 'r1:0', '--to-offset', '99', '--execute']);
    expect(await committed('g-shift')).toEqual(['r1-0=5', 'r1-1=3']);

    // Below the log start (records deleted): the log start.
    await ok(['topic', 'create', 'rc', '-p', '1']);
    await produce('rc', 0, ['1', '2', '3', '4']);
    await admin.deleteRecords([{ topic: 'rc', partition: 0, offset: 2 }]);
    await ok(['group', 'reset-offsets', 'g-shift', '-t', 'rc', '--to-offset', '1', '--execute']);
    expect(await committed('g-shift')).toContain('rc-0=2');

    // Nothing committed to shift from: an error, as Kafka's.
    const none = await samsa(['group', 'reset-offsets', 'g-none', '-t', 'r2', '--shift-by', '1']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      "samsa: cannot shift the offset of r2-0: group 'g-none' has no committed offset there\n",
    );
  });

  it('resets to a date-time or a duration ago, and to the end when no record is that recent', async () => {
    await ok(['topic', 'create', 'rt', '-p', '1']);
    const now = Date.now();
    await produce('rt', 0, ['old'], Date.UTC(2026, 0, 1, 10, 0, 0));
    await produce('rt', 0, ['mid'], Date.UTC(2026, 0, 1, 11, 0, 0));
    await produce('rt', 0, ['recent'], now - 60_000);
    const at = async (args: string[]) =>
      JSON.parse((await ok(['--json', 'group', 'reset-offsets', 'g-time', '-t', 'rt', ...args])).stdout)
        .offsets[0].offset;
    expect(await at(['--to-datetime', '2026-01-01T10:30:00.000Z'])).toBe(1);
    expect(await at(['--to-datetime', '2026-01-01T11:30:00.000+01:00'])).toBe(1);
    expect(await at(['--to-datetime', '2026-01-01T09:00:00Z'])).toBe(0);
    expect(await at(['--to-timestamp', String(Date.UTC(2026, 0, 1, 11, 0, 0))])).toBe(1);
    expect(await at(['--by-duration', 'PT1H'])).toBe(2);
    expect(await at(['--by-duration', 'PT10S'])).toBe(3);
    expect(await at(['--to-datetime', '2099-01-01T00:00:00.000Z'])).toBe(3);

    const bad = await samsa(['group', 'reset-offsets', 'g-time', '-t', 'rt', '--by-duration', '1 hour']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/expected an ISO-8601 duration/);
  });

  it('resets every partition the group has committed with --all-topics', async () => {
    await commit('g-all', [
      ['r1', 1, 2],
      ['r2', 0, 2],
    ]);
    const r = await ok([
      '--json',
      'group',
      'reset-offsets',
      'g-all',
      '--all-topics',
      '--to-earliest',
      '--execute',
    ]);
    expect(JSON.parse(r.stdout).offsets).toEqual([
      { topic: 'r1', partition: 1, current: 2, offset: 0 },
      { topic: 'r2', partition: 0, current: 2, offset: 0 },
    ]);
    expect(await committed('g-all')).toEqual(['r1-1=0', 'r2-0=0']);
  });

  it('refuses an unknown topic or partition without creating anything, and an active group', async () => {
    const unknown = await samsa([
      'group',
      'reset-offsets',
      'g-x',
      '-t',
      'ghost',
      '--to-earliest',
      '--execute',
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("samsa: topic 'ghost' does not exist; see `samsa topic list`\n");
    expect(await admin.listTopics()).not.toContain('ghost');
    expect(await committed('g-x')).toEqual([]);

    const part = await samsa(['group', 'reset-offsets', 'g-x', '-t', 'r1:0,7', '--to-earliest']);
    expect(part.code).toBe(1);
    expect(part.stderr).toBe("samsa: topic 'r1' has no partition 7 (it has 2 partitions)\n");

    const usage = await samsa(['group', 'reset-offsets', 'g-x', '-t', 'r1']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/^samsa: give exactly one of --to-earliest/);
    expect(usage.stderr).toMatch(/\nsee 'samsa group reset-offsets --help'\n$/);
    const nothing = await samsa(['group', 'reset-offsets', 'g-x', '--to-earliest']);
    expect(nothing.stderr).toMatch(/^samsa: say which partitions/);

    const member = new Consumer({ brokers, groupId: 'g-active', autoOffsetReset: 'earliest' });
    try {
      member.subscribe({ topics: ['r2'] });
      while (member.assignment().length === 0) await member.poll({ timeoutMs: 200 });
      const busy = await samsa(['group', 'reset-offsets', 'g-active', '-t', 'r2', '--to-earliest']);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toBe(
        "samsa: offsets can only be reset while group 'g-active' is inactive, but it is Stable; stop its consumers first\n",
      );
    } finally {
      await member.close();
    }
  }, 60_000);

  it.skipIf(!requireClient('confluent-kafka', hasConfluentKafka))(
    'a confluent-kafka-python consumer of the group starts where samsa reset it',
    async () => {
      await ok(['group', 'reset-offsets', 'g-py', '-t', 'r1:0', '--to-offset', '3', '--execute']);
      await ok(['group', 'reset-offsets', 'g-py', '-t', 'r1:1', '--to-offset', '1', '--execute']);
      // auto.offset.reset=latest: without the committed offsets it would read nothing.
      const script = `
import json, sys, time
from confluent_kafka import Consumer
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'g-py', 'auto.offset.reset': 'latest',
              'enable.auto.commit': False})
c.subscribe(['r1'])
out = []
deadline = time.time() + 40
while len(out) < 4 and time.time() < deadline:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    out.append([m.partition(), m.offset(), m.value().decode()])
c.close()
print(json.dumps(sorted(out)))
`;
      const r = await run(PYTHON, ['-c', script, brokers]);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual([
        [0, 3, 'd'],
        [0, 4, 'e'],
        [1, 1, 'g'],
        [1, 2, 'h'],
      ]);
    },
    60_000,
  );
});

describe('samsa group delete-offsets', () => {
  it("deletes an empty group's offsets for a topic or some partitions", async () => {
    await commit('g-del', [
      ['r1', 0, 1],
      ['r1', 1, 1],
      ['r2', 0, 1],
    ]);
    const r = await ok(['group', 'delete-offsets', 'g-del', '--topic', 'r1:1']);
    expect(r.stdout).toBe('TOPIC  PARTITION  STATUS\nr1     1          deleted\n');
    expect(await committed('g-del')).toEqual(['r1-0=1', 'r2-0=1']);
    expect(JSON.parse((await ok(['--json', 'group', 'delete-offsets', 'g-del', '-t', 'r2'])).stdout)).toEqual(
      [{ topic: 'r2', partition: 0, error: null }],
    );
    expect(await committed('g-del')).toEqual(['r1-0=1']);
  });

  it("gives Kafka's errors: a topic the group subscribes to, an unknown group, an unknown topic", async () => {
    const member = new Consumer({ brokers, groupId: 'g-sub', autoOffsetReset: 'earliest' });
    try {
      member.subscribe({ topics: ['r2'] });
      while (member.assignment().length === 0) await member.poll({ timeoutMs: 200 });
      await member.commit();
      const r = await samsa(['group', 'delete-offsets', 'g-sub', '-t', 'r2']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^r2\s+0\s+GROUP_SUBSCRIBED_TO_TOPIC$/m);
      expect(r.stderr).toBe(
        "samsa: group 'g-sub' still subscribes to that topic; its offsets there can be deleted once its consumers no longer subscribe to it\n",
      );
    } finally {
      await member.close();
    }

    const none = await samsa(['group', 'delete-offsets', 'g-never', '-t', 'r2']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe("samsa: group 'g-never' does not exist; see `samsa group list`\n");

    const ghost = await samsa(['group', 'delete-offsets', 'g-del', '-t', 'ghost2']);
    expect(ghost.code).toBe(1);
    expect(ghost.stderr).toBe("samsa: topic 'ghost2' does not exist; see `samsa topic list`\n");
    expect(await admin.listTopics()).not.toContain('ghost2');
  }, 60_000);
});
