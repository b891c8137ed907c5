// `samsa consume` end to end against an in-process broker: several topics and a pattern, with and
// without a group; --from -N and -e; kcat's format codes on bytes that are not UTF-8 (compressed
// batches too); JSON; and as a real process, `| head -1` ending it quietly. Interop with kcat in
// both directions: what one writes the other reads byte for byte (NUL, invalid UTF-8, null
// values, repeated headers).

import { spawn } from 'node:child_process';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { Producer } from '../../src/client/index.js';
import { buildBroker, removeBrokerBuild } from '../helpers/broker-process.js';
import { finished, runCli, spawnCli } from '../helpers/samsa-cli.js';
import { hasKcat, requireClient } from '../helpers/tools.js';

let broker: Broker;
let brokers: string;

beforeAll(async () => {
  broker = await startBroker({
    logger: pino({ level: 'silent' }),
    config: { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': '1' },
  });
  brokers = `127.0.0.1:${broker.port}`;
});

afterAll(async () => {
  removeBrokerBuild();
  await broker?.stop();
});

async function ok(args: string[], input: Buffer | string | (Buffer | string)[] = []): Promise<Buffer> {
  const r = await runCli(brokers, args, input);
  expect(r.stderr.includes('samsa:') ? r.stderr : '', args.join(' ')).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

const lines = (b: Buffer) =>
  b
    .toString()
    .split('\n')
    .filter((l) => l !== '');

describe('samsa consume', () => {
  it('reads several topics, or every topic a pattern matches whole, to their end with -e', async () => {
    await ok(['topic', 'create', 'orders-a', '-p', '2']);
    await ok(['topic', 'create', 'orders-b', '-p', '1']);
    await ok(['topic', 'create', 'xorders-c', '-p', '1']);
    await ok(['produce', 'orders-a', '-p', '0'], 'a0\na1\n');
    await ok(['produce', 'orders-a', '-p', '1'], 'a2\n');
    await ok(['produce', 'orders-b'], 'b0\n');
    await ok(['produce', 'xorders-c'], 'c0\n');

    const two = await ok([
      'consume',
      'orders-a',
      'orders-b',
      '--from',
      'beginning',
      '-e',
      '--format',
      '%t/%p/%o:%s',
    ]);
    expect(lines(two).sort()).toEqual([
      'orders-a/0/0:a0',
      'orders-a/0/1:a1',
      'orders-a/1/0:a2',
      'orders-b/0/0:b0',
    ]);

    const pattern = await ok([
      'consume',
      '--pattern',
      'orders-.*',
      '--from',
      'beginning',
      '-e',
      '--format',
      '%s',
    ]);
    expect(lines(pattern).sort()).toEqual(['a0', 'a1', 'a2', 'b0']);

    // As a group member: the same records, and -e ends it once the assignment is read.
    const group = await ok([
      'consume',
      '--pattern',
      'orders-.*',
      '-g',
      'pattern-group',
      '--from',
      'beginning',
      '-e',
      '--format',
      '%s',
    ]);
    expect(lines(group).sort()).toEqual(['a0', 'a1', 'a2', 'b0']);

    const none = await runCli(brokers, ['consume', '--pattern', 'nothing-.*', '-e']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe("samsa: no topic matches --pattern 'nothing-.*'; see `samsa topic list`\n");
    const missing = await runCli(brokers, [
      'consume',
      'orders-a',
      'gone-1',
      'gone-2',
      '--request-timeout',
      '1500',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("samsa: topics 'gone-1', 'gone-2' do not exist; see `samsa topic list`\n");
    const both = await runCli(brokers, ['consume', 'orders-a', '--pattern', 'x']);
    expect(both.stderr).toBe("samsa: give topics or --pattern, not both\nsee 'samsa consume --help'\n");
  });

  it('--from -N starts N records before the end of each partition, not before its start', async () => {
    await ok(['topic', 'create', 'tail', '-p', '2']);
    await ok(['produce', 'tail', '-p', '0'], 'p0-0\np0-1\np0-2\np0-3\n');
    await ok(['produce', 'tail', '-p', '1'], 'p1-0\n');
    expect(lines(await ok(['consume', 'tail', '--from', '-2', '-e', '--format', '%s'])).sort()).toEqual([
      'p0-2',
      'p0-3',
      'p1-0',
    ]);
    expect(lines(await ok(['consume', 'tail', '--from', '-10', '-e', '-P', '0', '--format', '%s']))).toEqual([
      'p0-0',
      'p0-1',
      'p0-2',
      'p0-3',
    ]);
    // From the end with -e: nothing to read, and it ends at once.
    expect((await ok(['consume', 'tail', '--from', 'end', '-e'])).length).toBe(0);
    const bad = await runCli(brokers, ['consume', 'tail', '--from', 'soon']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^samsa: --from must be beginning, end, an offset or -N/);
  });

  it('prints bytes as they are through every format code, from compressed batches too', async () => {
    await ok(['topic', 'create', 'codes', '-p', '1']);
    const value = Buffer.from([0x00, 0xff, 0xc3, 0x28, 0x0a]);
    const producer = new Producer({ brokers, compression: 'lz4' });
    try {
      await producer.send({
        topic: 'codes',
        messages: [
          {
            key: Buffer.from([0xfe]),
            value,
            headers: [
              ['h', 'x'],
              ['h', 'y'],
              ['n', null],
            ],
            timestamp: 1700000000000,
          },
          { key: null, value: null, timestamp: 1700000000001 },
        ],
      });
    } finally {
      await producer.close();
    }
    const out = await ok([
      'consume',
      'codes',
      '--from',
      'beginning',
      '-e',
      '--format',
      '%t %p %o %T [%k|%K] [%S] {%h} %R%s\\n',
    ]);
    expect(out).toEqual(
      Buffer.concat([
        Buffer.from('codes 0 0 1700000000000 ['),
        Buffer.from([0xfe]),
        Buffer.from('|1] [5] {h=x,h=y,n=NULL} '),
        Buffer.from([0, 0, 0, 5]),
        value,
        Buffer.from('\ncodes 0 1 1700000000001 [|-1] [-1] {} '),
        Buffer.from([0xff, 0xff, 0xff, 0xff]),
        Buffer.from('\n'),
      ]),
    );
    // -Z: null printed as NULL; --value-format hex; -D between records.
    expect(
      (
        await ok(['consume', 'codes', '--from', 'beginning', '-e', '-Z', '--value-format', 'hex', '-D', ';'])
      ).toString(),
    ).toBe('00ffc3280a;NULL;');
    const json = lines(await ok(['--json', 'consume', 'codes', '--from', 'beginning', '-e'])).map((l) =>
      JSON.parse(l),
    );
    expect(json[0]).toMatchObject({
      key: '/g==',
      keyEncoding: 'base64',
      value: value.toString('base64'),
      valueEncoding: 'base64',
      headers: [
        { key: 'h', value: 'x' },
        { key: 'h', value: 'y' },
        { key: 'n', value: null },
      ],
    });
    expect(json[1]).toMatchObject({ key: null, value: null, headers: [] });
    // The same bytes through a group member (the library consumer's path).
    const viaGroup = await ok([
      'consume',
      'codes',
      '-g',
      'codes-g',
      '--from',
      'beginning',
      '-n',
      '2',
      '--format',
      '%k|%s|%h\\n',
    ]);
    expect(viaGroup).toEqual(
      Buffer.concat([Buffer.from([0xfe]), Buffer.from('|'), value, Buffer.from('|h=x,h=y,n=NULL\n||\n')]),
    );
  });

  it('an offset past the end is reset to the end (OFFSET_OUT_OF_RANGE), then reads what comes', async () => {
    await ok(['topic', 'create', 'reset', '-p', '1']);
    await ok(['produce', 'reset'], 'old\n');
    const reading = runCli(brokers, ['consume', 'reset', '--from', '1000', '-n', '1', '--format', '%o:%s']);
    // Produced until the reader, reset to the end, sees one (a record before its reset is missed).
    let got: Awaited<typeof reading> | null = null;
    void reading.then((r) => {
      got = r;
    });
    for (let i = 0; i < 300 && got === null; i++) {
      await ok(['produce', 'reset'], 'new\n');
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await reading;
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/^[1-9]\d*:new\n$/);
  });

  it('refuses an unknown format code in one line, with the usage hint', async () => {
    const r = await runCli(brokers, ['consume', 'codes', '--format', '%s %Q']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "samsa: --format: unknown code %Q; the codes are %s %S %R %k %K %t %p %o %T %h and %%\nsee 'samsa consume --help'\n",
    );
  });
});

describe('samsa consume as a process', () => {
  it('ends quietly with exit code 0 when piped into head -1', async () => {
    await ok(['topic', 'create', 'many', '-p', '1']);
    // More than a pipe holds (64 KB), so that writes go on after head has left.
    const input = Array.from({ length: 5000 }, (_, i) => `record-${i}-${'x'.repeat(80)}`).join('\n');
    await ok(['produce', 'many'], input);
    const cli = await buildBroker();
    const consumer = spawnCli(cli, brokers, ['consume', 'many', '--from', 'beginning']);
    const head = spawn('head', ['-1'], { stdio: [consumer.stdout, 'pipe', 'pipe'] });
    // head holds the read end alone: when it leaves, the consumer's next write meets EPIPE.
    consumer.stdout?.destroy();
    let stderr = '';
    consumer.stderr?.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => consumer.on('exit', (code) => resolve(code)));
    // Without -e the command reads on forever: only the closed pipe can end it.
    const guard = setTimeout(() => consumer.kill('SIGKILL'), 60_000);
    const [code, h] = await Promise.all([exited, finished(head)]);
    clearTimeout(guard);
    expect(h.stdout.toString()).toBe(`record-0-${'x'.repeat(80)}\n`);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 90_000);
});

describe.skipIf(!requireClient('kcat', hasKcat))('samsa and kcat', () => {
  const kcat = (args: string[], input?: Buffer) =>
    new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve, reject) => {
      const p = spawn('kcat', ['-b', brokers, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      const r = finished(p);
      p.stdin.end(input);
      r.then(resolve, reject);
    });
  const FORMAT = '%K:%k|%S:%s|%h\\n';

  it('kcat reads what samsa produce wrote, byte for byte', async () => {
    await ok(['topic', 'create', 'to-kcat', '-p', '1']);
    const key = Buffer.from([0x00, 0xff]);
    const value = Buffer.from([0xc3, 0x28, 0x00, 0x09]);
    await ok(
      ['produce', 'to-kcat', '-k', '\\t', '-Z', '-H', 'a=1', '-H', 'a=2'],
      [Buffer.concat([key, Buffer.from('\t'), value, Buffer.from('\n')]), Buffer.from('tomb\t\n')],
    );
    const r = await kcat(['-C', '-t', 'to-kcat', '-o', 'beginning', '-e', '-q', '-f', FORMAT]);
    expect(r.code).toBe(0);
    expect(r.stdout).toEqual(
      Buffer.concat([
        Buffer.from('2:'),
        key,
        Buffer.from('|4:'),
        value,
        Buffer.from('|a=1,a=2\n4:tomb|-1:|a=1,a=2\n'),
      ]),
    );
    // And samsa prints the same bytes with the same format.
    expect(await ok(['consume', 'to-kcat', '--from', 'beginning', '-e', '--format', FORMAT])).toEqual(
      r.stdout,
    );
  });

  it('samsa consume reads what kcat produced, byte for byte', async () => {
    await ok(['topic', 'create', 'from-kcat', '-p', '1']);
    const key = Buffer.from([0x01, 0xfe]);
    const value = Buffer.from([0x00, 0xc0, 0x80]);
    const input = Buffer.concat([key, Buffer.from('='), value, Buffer.from('\n'), Buffer.from('gone=\n')]);
    const p = await kcat(['-P', '-t', 'from-kcat', '-K', '=', '-Z', '-H', 'h=1', '-H', 'h=2'], input);
    expect(p.code).toBe(0);
    const got = await ok(['consume', 'from-kcat', '--from', 'beginning', '-e', '--format', FORMAT]);
    expect(got).toEqual(
      Buffer.concat([
        Buffer.from('2:'),
        key,
        Buffer.from('|3:'),
        value,
        Buffer.from('|h=1,h=2\n4:gone|-1:|h=1,h=2\n'),
      ]),
    );
    const k = await kcat(['-C', '-t', 'from-kcat', '-o', 'beginning', '-e', '-q', '-f', FORMAT]);
    expect(got).toEqual(k.stdout);
  });
});
