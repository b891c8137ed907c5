// Every `samsa` client command run end to end against an in-process broker, through the CLI's
// main(argv, io), checking its output and exit code; plus kcat reading what `samsa produce` wrote.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { main } from '../../src/cli/commands.js';
import { Consumer } from '../../src/client/index.js';
import { buildBroker, removeBrokerBuild } from '../helpers/broker-process.js';
import { hasKcat, requireClient, run } from '../helpers/tools.js';

let broker: Broker;
let brokers: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function samsa(args: string[], input = ''): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await main(['-b', brokers, '--request-timeout', '10000', ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([Buffer.from(input)]),
    env: {},
  });
  return { code, stdout, stderr };
}

async function ok(args: string[], input = ''): Promise<string> {
  const r = await samsa(args, input);
  expect(r.stderr.includes('samsa:') ? r.stderr : '', args.join(' ')).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  broker = await startBroker({
    logger: pino({ level: 'silent' }),
    config: { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': '1' },
  });
  brokers = `127.0.0.1:${broker.port}`;
});

afterAll(async () => {
  await broker?.stop();
});

describe('samsa topic', () => {
  it('creates, lists, describes, alters, grows and deletes a topic', async () => {
    expect(await ok(['topic', 'create', 't1', '-p', '3', '-r', '1', '-c', 'retention.ms=1000000'])).toBe(
      'created topic t1\n',
    );

    const again = await samsa(['topic', 'create', 't1', '-p', '3']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe("samsa: topic 't1' already exists; use --if-not-exists to ignore this\n");
    expect(await ok(['topic', 'create', 't1', '--if-not-exists'])).toBe('topic t1 already exists\n');

    const list = await ok(['topic', 'list']);
    expect(list.split('\n')[0]).toMatch(/^NAME\s+PARTITIONS\s+REPLICAS$/);
    expect(list).toMatch(/^t1\s+3\s+1$/m);
    expect(JSON.parse(await ok(['--json', 'topic', 'list']))).toContainEqual({
      name: 't1',
      partitions: 3,
      replicas: 1,
    });

    const desc = await ok(['topic', 'describe', 't1']);
    expect(desc).toMatch(/^PARTITIONS: 3$/m);
    expect(desc).toMatch(/^PARTITION\s+LEADER\s+REPLICAS\s+ISR\s+LOG-START\s+HIGH-WATERMARK\s+LSO\s+SIZE$/m);
    expect(desc).toMatch(
      new RegExp(
        `^2\\s+${broker.config.int('node.id')}\\s+${broker.config.int('node.id')}\\s+${broker.config.int('node.id')}\\s+0\\s+0\\s+0\\s+0$`,
        'm',
      ),
    );
    expect(desc).toMatch(/^retention\.ms\s+1000000$/m);

    expect(
      await ok([
        'topic',
        'alter-config',
        't1',
        '--set',
        'cleanup.policy=compact',
        '--delete',
        'retention.ms',
      ]),
    ).toBe('altered 2 configs of topic t1\n');
    const json = JSON.parse(await ok(['--json', 'topic', 'describe', 't1']));
    expect(json.configs).toEqual({ 'cleanup.policy': 'compact' });
    expect(json.partitions).toHaveLength(3);

    expect(await ok(['topic', 'add-partitions', 't1', '-n', '5'])).toBe('topic t1 now has 5 partitions\n');
    expect(JSON.parse(await ok(['--json', 'topic', 'describe', 't1'])).partitions).toHaveLength(5);
    const shrink = await samsa(['topic', 'add-partitions', 't1', '-n', '2']);
    expect(shrink.code).toBe(1);
    expect(shrink.stderr).toMatch(/^samsa: invalid partition count/);

    expect(await ok(['topic', 'delete', 't1'])).toBe('deleted topic t1\n');
    const gone = await samsa(['topic', 'delete', 't1']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^samsa: topic 't1' does not exist/);
    expect(await ok(['topic', 'delete', 't1', '--if-exists'])).toBe('topic t1 does not exist\n');
  });

  it('reports usage errors with exit code 1 and gives --help with exit code 0', async () => {
    const bad = await samsa(['topic', 'create', 'x', '-p', 'many']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--partitions must be an integer/);
    const none = await samsa(['topic', 'alter-config', 'x']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/nothing to change/);
    const help = await samsa(['topic', 'create', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: samsa topic create/);
  });
});

describe('samsa perf', () => {
  it('perf produce: progress lines, a summary with latency percentiles, and the records in the log', async () => {
    await ok(['topic', 'create', 'perf1', '-p', '2']);
    const out = await ok([
      'perf',
      'produce',
      '--topic',
      'perf1',
      '--num-records',
      '5000',
      '--record-size',
      '100',
      '--linger-ms',
      '1',
      '--batch-size',
      '8192',
      '--reporting-interval',
      '1',
    ]);
    const lines = out.trim().split('\n');
    // Progress lines, then the summary (Kafka's format).
    const progress = lines.slice(0, -1);
    expect(progress.length).toBeGreaterThan(0);
    for (const l of progress)
      expect(l).toMatch(
        /^\d+ records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency\.$/,
      );
    expect(progress.reduce((n, l) => n + Number(l.split(' ')[0]), 0)).toBeLessThanOrEqual(5000);
    expect(lines.at(-1)).toMatch(
      /^5000 records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, [\d.]+ ms 50th, [\d.]+ ms 95th, [\d.]+ ms 99th, [\d.]+ ms 99\.9th\.$/,
    );
    const desc = JSON.parse(await ok(['--json', 'topic', 'describe', 'perf1']));
    expect(desc.partitions).toHaveLength(2);
    // Every record is in the log, each value record-size bytes.
    const consumed = JSON.parse(
      await ok([
        '--json',
        'perf',
        'consume',
        '--topic',
        'perf1',
        '--num-records',
        '5000',
        '--timeout',
        '5000',
      ]),
    );
    expect(consumed).toMatchObject({ topic: 'perf1', records: 5000, bytes: 500_000 });
  });

  it('perf produce --json: a machine-readable summary on stdout, progress on stderr; keys, acks and compression', async () => {
    const r = await samsa([
      '--json',
      'perf',
      'produce',
      '-t',
      'perf2',
      '--create',
      '-n',
      '3000',
      '-s',
      '50',
      '--key-size',
      '8',
      '--acks',
      '1',
      '-z',
      'lz4',
      '--throughput',
      '20000',
      '--reporting-interval',
      '50',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ topic: 'perf2', records: 3000, failed: 0, bytes: 3000 * 58 });
    for (const k of [
      'recordsPerSec',
      'mbPerSec',
      'avgLatencyMs',
      'maxLatencyMs',
      'p50LatencyMs',
      'p95LatencyMs',
      'p99LatencyMs',
      'p999LatencyMs',
      'elapsedMs',
    ])
      expect(typeof s[k], k).toBe('number');
    expect(s.p50LatencyMs).toBeLessThanOrEqual(s.p99LatencyMs);
    expect(s.p99LatencyMs).toBeLessThanOrEqual(s.maxLatencyMs);
    expect(r.stderr).toMatch(/records sent, .* records\/sec/);
    // Read back: the keys were 8 bytes each.
    const c = await ok(['perf', 'consume', '-t', 'perf2', '-n', '3000', '--timeout', '5000']);
    const [head, row] = c.trim().split('\n');
    expect(head.split(/\s+/)).toEqual([
      'START',
      'END',
      'MB',
      'MB/SEC',
      'RECORDS',
      'RECORDS/SEC',
      'REBALANCE-MS',
      'FETCH-MS',
      'FETCH-MB/SEC',
      'FETCH-RECORDS/SEC',
    ]);
    expect(row.split(/\s+/)[4]).toBe('3000');
  });

  it('perf consume with a group commits its position; too few records within --timeout is exit 1', async () => {
    await ok(['perf', 'produce', '-t', 'perf3', '--create', '-n', '400', '-s', '10']);
    const s = JSON.parse(await ok(['--json', 'perf', 'consume', '-t', 'perf3', '-n', '400', '-g', 'perf-g']));
    expect(s).toMatchObject({ records: 400, bytes: 4000 });
    expect(typeof s.rebalanceTimeMs).toBe('number');
    expect(typeof s.fetchTimeMs).toBe('number');
    const lag = JSON.parse(await ok(['--json', 'group', 'describe', 'perf-g']));
    expect(lag.offsets).toEqual([expect.objectContaining({ topic: 'perf3', committed: 400, lag: 0 })]);
    const short = await samsa(['--json', 'perf', 'consume', '-t', 'perf3', '-n', '500', '--timeout', '300']);
    expect(short.code).toBe(1);
    expect(JSON.parse(short.stdout)).toMatchObject({ records: 400 });
    expect(short.stderr).toMatch(/^samsa: only 400 of 500 records within --timeout 300 ms/);
  });

  it('perf: usage errors and --help', async () => {
    const missing = await samsa(['perf', 'produce', '--topic', 'x', '--num-records', '10']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--record-size/);
    const bad = await samsa(['perf', 'produce', '-t', 'x', '-n', '10', '-s', '10', '--throughput', '0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--throughput must be/);
    const help = await samsa(['perf', 'produce', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: samsa perf produce/);
    expect(help.stdout).toMatch(/--throughput/);
    expect((await samsa(['perf', 'consume', '--help'])).stdout).toMatch(/Usage: samsa perf consume/);
  });
});

describe('samsa produce and consume', () => {
  it('produces lines with keys and headers and consumes them in every format', async () => {
    await ok(['topic', 'create', 'pc', '-p', '1']);
    const input = 'k1:v1\nk2:v2\nk3:v3\n';
    expect(await ok(['produce', 'pc', '-k', ':', '-H', 'h1=x', '-z', 'gzip'], input)).toBe(
      'wrote 3 records to pc\n',
    );

    expect(await ok(['consume', 'pc', '--from', 'beginning', '-n', '3'])).toBe('v1\nv2\nv3\n');
    expect(
      await ok([
        'consume',
        'pc',
        '--from',
        'beginning',
        '-n',
        '2',
        '--print-key',
        '--print-offset',
        '--print-headers',
      ]),
    ).toBe('0:0\th1=x\tk1\tv1\n0:1\th1=x\tk2\tv2\n');
    expect(await ok(['consume', 'pc', '--from', '1', '-n', '2', '--format', '%k=%v@%p/%o'])).toBe(
      'k2=v2@0/1\nk3=v3@0/2\n',
    );
    const json = (await ok(['--json', 'consume', 'pc', '--from', 'beginning', '-n', '1'])).trim();
    expect(JSON.parse(json)).toMatchObject({
      topic: 'pc',
      partition: 0,
      offset: 0,
      key: 'k1',
      value: 'v1',
      headers: [{ key: 'h1', value: 'x' }],
    });
    // From the end there is nothing to read: the timeout ends the command.
    expect(await ok(['consume', 'pc', '--from', 'end', '--timeout', '300'])).toBe('');
    // From a timestamp in the future: nothing; from 0: everything.
    expect(
      await ok(['consume', 'pc', '--from-timestamp', String(Date.now() + 3_600_000), '--timeout', '300']),
    ).toBe('');
    expect(await ok(['consume', 'pc', '--from-timestamp', '0', '-n', '3'])).toBe('v1\nv2\nv3\n');
  });

  it('writes to a chosen partition and fails with a clear message for a missing topic', async () => {
    await ok(['topic', 'create', 'pp', '-p', '3']);
    expect(await ok(['--json', 'produce', 'pp', '-p', '2'], 'a\nb\n')).toBe('{"topic":"pp","records":2}\n');
    expect(
      await ok(['consume', 'pp', '-P', '2', '--from', 'beginning', '-n', '2', '--format', '%p %v']),
    ).toBe('2 a\n2 b\n');
    const missing = await samsa(['consume', 'nope', '--timeout', '200', '--request-timeout', '1500']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("samsa: topic 'nope' does not exist; see `samsa topic list`\n");
  });

  it.skipIf(!requireClient('kcat', hasKcat))('records from samsa produce read back by kcat', async () => {
    await ok(['topic', 'create', 'kc', '-p', '1']);
    await ok(['produce', 'kc', '-k', '\t'], 'a\tone\nb\ttwo\nc\tthree\n');
    const r = await run('kcat', [
      '-b',
      brokers,
      '-C',
      '-t',
      'kc',
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%k %s\n',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('a one\nb two\nc three\n');
  });
});

describe('samsa group', () => {
  it('consumes in a group, then lists, describes, resets and deletes it', async () => {
    await ok(['topic', 'create', 'gt', '-p', '2']);
    await ok(['produce', 'gt', '-p', '0'], 'a\nb\nc\n');
    await ok(['produce', 'gt', '-p', '1'], 'd\n');
    const got = await ok([
      'consume',
      'gt',
      '-g',
      'g1',
      '--from',
      'beginning',
      '-n',
      '4',
      '--format',
      '%p:%v',
    ]);
    expect(got.trim().split('\n').sort()).toEqual(['0:a', '0:b', '0:c', '1:d']);

    const list = await ok(['group', 'list']);
    expect(list).toMatch(/^GROUP\s+STATE\s+PROTOCOL-TYPE\s+TYPE$/m);
    expect(list).toMatch(/^g1\s+Empty\s+consumer\s+classic$/m);

    let desc = await ok(['group', 'describe', 'g1']);
    expect(desc).toMatch(/^TYPE:\s+classic$/m);
    expect(desc).toMatch(/^STATE:\s+Empty$/m);
    expect(desc).toMatch(/^gt\s+0\s+3\s+3\s+0\s+-$/m);
    expect(desc).toMatch(/^gt\s+1\s+1\s+1\s+0\s+-$/m);

    // A dry run unless --execute (kafka-consumer-groups' default is to change nothing too).
    expect(await ok(['group', 'reset-offsets', 'g1', '--topic', 'gt', '--to-earliest', '--execute'])).toMatch(
      /^gt\s+0\s+3\s+0$/m,
    );
    desc = await ok(['group', 'describe', 'g1']);
    expect(desc).toMatch(/^gt\s+0\s+0\s+3\s+3\s+-$/m);
    const json = JSON.parse(
      await ok(['--json', 'group', 'reset-offsets', 'g1', '--topic', 'gt', '--to-offset', '1', '--execute']),
    );
    expect(json.offsets).toEqual([
      { topic: 'gt', partition: 0, current: 0, offset: 1 },
      { topic: 'gt', partition: 1, current: 0, offset: 1 },
    ]);
    expect(await ok(['consume', 'gt', '-g', 'g1', '-n', '2', '--format', '%p:%v'])).toBe('0:b\n0:c\n');

    const usage = await samsa(['group', 'reset-offsets', 'g1', '--topic', 'gt']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/exactly one of --to-earliest/);

    expect(await ok(['group', 'delete', 'g1'])).toBe('deleted group g1\n');
    expect(await ok(['group', 'list'])).not.toMatch(/^g1\s/m);
  });

  it('describes a group with an active member: its assignment and lag', async () => {
    await ok(['topic', 'create', 'ga', '-p', '2']);
    await ok(['produce', 'ga', '-p', '0'], 'x\ny\n');
    const member = new Consumer({
      brokers,
      groupId: 'g2',
      autoOffsetReset: 'earliest',
      enableAutoCommit: false,
    });
    try {
      member.subscribe({ topics: ['ga'] });
      const deadline = Date.now() + 15_000;
      while (member.assignment().length < 2 && Date.now() < deadline)
        await member.poll({ timeoutMs: 200, maxRecords: 1 });
      await member.commit([{ topic: 'ga', partition: 0, offset: 1 }]);
      const desc = JSON.parse(await ok(['--json', 'group', 'describe', 'g2']));
      expect(desc.state).toBe('Stable');
      expect(desc.members).toHaveLength(1);
      expect(desc.members[0].assignment).toEqual([
        { topic: 'ga', partition: 0 },
        { topic: 'ga', partition: 1 },
      ]);
      expect(desc.offsets[0]).toMatchObject({ topic: 'ga', partition: 0, committed: 1, end: 2, lag: 1 });
      const busy = await samsa(['group', 'delete', 'g2']);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toBe("samsa: group 'g2' has active members; stop its consumers first\n");
    } finally {
      await member.close();
    }
  });
});

describe('samsa cluster', () => {
  it('shows the cluster id, controller and brokers', async () => {
    const info = await ok(['cluster', 'info']);
    expect(info).toMatch(/^CLUSTER:\s+\S+$/m);
    expect(info).toMatch(
      new RegExp(`^${broker.config.int('node.id')}\\s+127\\.0\\.0\\.1\\s+${broker.port}\\s+-$`, 'm'),
    );
    const json = JSON.parse(await ok(['--json', 'cluster', 'info']));
    expect(json.brokers).toEqual([
      { nodeId: broker.config.int('node.id'), host: '127.0.0.1', port: broker.port, rack: null },
    ]);
  });

  it('says how to point at a cluster when none answers', async () => {
    // The later -b and --request-timeout override the helper's.
    const r = await samsa(['-b', '127.0.0.1:1', '--request-timeout', '1500', 'cluster', 'info']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^samsa: .*(-b\/--brokers|SAMSA_BROKERS)/);
  });
});

describe('samsa as a process', () => {
  it('runs the compiled command: stdin in, output and exit codes out, and the process ends', async () => {
    const cli = await buildBroker();
    const env = { ...process.env, SAMSA_BROKERS: brokers };
    const sh = (args: string[], input = '') =>
      new Promise<Result>((resolve, reject) => {
        const p = spawn(process.execPath, [cli, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d));
        p.stderr.on('data', (d: Buffer) => (stderr += d));
        p.on('error', reject);
        p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
        p.stdin.end(input);
      });
    expect(await sh(['topic', 'create', 'proc', '-p', '1'])).toEqual({
      code: 0,
      stdout: 'created topic proc\n',
      stderr: '',
    });
    expect((await sh(['produce', 'proc', '-k', '='], 'a=1\nb=2\n')).stdout).toBe('wrote 2 records to proc\n');
    const got = await sh(['consume', 'proc', '--from', 'beginning', '-n', '2', '--format', '%k %v']);
    expect(got).toEqual({ code: 0, stdout: 'a 1\nb 2\n', stderr: 'consumed 2 records\n' });
    const dup = await sh(['topic', 'create', 'proc']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already exists; use --if-not-exists/);
    const unknown = await sh(['frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
  }, 60_000);
});

afterAll(() => removeBrokerBuild());

describe('samsa produce from a file', () => {
  it('reads the file and shows a progress bar with the rate on a terminal', async () => {
    await ok(['topic', 'create', 'pf', '-p', '2']);
    const dir = mkdtempSync(join(tmpdir(), 'samsa-cli-'));
    try {
      const file = join(dir, 'in.txt');
      writeFileSync(file, Array.from({ length: 25_000 }, (_, i) => `line${i}`).join('\n'));
      let stderr = '';
      let stdout = '';
      const code = await main(['-b', brokers, 'produce', 'pf', '-f', file, '-z', 'lz4'], {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s), isTTY: true },
        stdin: Readable.from([]),
        env: {},
      });
      expect(code).toBe(0);
      expect(stdout).toBe('wrote 25000 records to pf\n');
      expect(stderr).toMatch(/\r\[#{30}\] 0\.2\/0\.2 MB {2}25000 records {2}\d+ rec\/s\n$/);
      const all = await ok(['consume', 'pf', '--from', 'beginning', '-n', '25000', '--format', '%v']);
      expect(new Set(all.trim().split('\n')).size).toBe(25_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
