// The `samsa` command's global behaviour: --version, global options in every subcommand's help,
// one-line usage errors pointing at the command's --help, NO_COLOR, singular/plural, no topic
// created as a side effect (perf without --create), cluster config get|set, and failing fast on an
// unreachable bootstrap (refused port, unknown *.invalid host) with --connect-timeout. The
// process-level parts run the built CLI as a real process; the rest in-process via main(argv, io).

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { main } from '../../src/cli/commands.js';
import { Admin } from '../../src/client/index.js';
import { buildBroker, removeBrokerBuild } from '../helpers/broker-process.js';

/** util-linux's `script`, to run the CLI on a pseudo-terminal. */
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const ROOT = join(import.meta.dirname, '..', '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let broker: Broker;
let brokers: string;
let admin: Admin;
let refused: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function samsa(
  args: string[],
  opts: { env?: Record<string, string>; tty?: boolean; withBrokers?: boolean } = {},
): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await main([...(opts.withBrokers === false ? [] : ['-b', brokers]), ...args], {
    stdout: { write: (s: string) => (stdout += s), isTTY: opts.tty },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([]),
    env: opts.env ?? {},
  });
  return { code, stdout, stderr };
}

/** Runs the built CLI as a process. */
async function proc(args: string[], env: Record<string, string> = {}): Promise<Result & { ms: number }> {
  const cli = await buildBroker();
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [cli, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started }));
  });
}

beforeAll(async () => {
  broker = await startBroker({ logger: pino({ level: 'silent' }), config: { 'num.partitions': '1' } });
  brokers = `127.0.0.1:${broker.port}`;
  admin = new Admin({ brokers });
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  refused = `127.0.0.1:${(server.address() as { port: number }).port}`;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterAll(async () => {
  await admin?.close();
  await broker?.stop();
  removeBrokerBuild();
});

describe('global options', () => {
  it('--version prints the package version', async () => {
    expect(await samsa(['--version'], { withBrokers: false })).toEqual({
      code: 0,
      stdout: `${VERSION}\n`,
      stderr: '',
    });
    expect((await samsa(['-V'], { withBrokers: false })).stdout).toBe(`${VERSION}\n`);
  });

  it("every subcommand's help lists the global options", async () => {
    for (const cmd of [
      ['topic', 'describe'],
      ['group', 'reset-offsets'],
      ['cluster', 'config', 'set'],
      ['perf', 'produce'],
    ]) {
      const help = await samsa([...cmd, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Global Options:$/m);
      for (const opt of ['--brokers', '--json', '--request-timeout', '--connect-timeout', '--version'])
        expect(help.stdout, `${cmd.join(' ')} --help: ${opt}`).toContain(opt);
    }
  });

  it('usage errors are one line plus "see \'samsa <cmd> --help\'", not the whole help', async () => {
    const cases: [string[], RegExp, string][] = [
      [['topic', 'create'], /^samsa: missing required argument 'name'$/, 'samsa topic create'],
      [
        ['topic', 'create', 'x', '-p', 'many'],
        /^samsa: .*--partitions must be an integer/,
        'samsa topic create',
      ],
      [['topic', 'frob'], /^samsa: unknown command 'frob'$/, 'samsa topic'],
      [['frob'], /^samsa: unknown command 'frob'$/, 'samsa'],
      [['topic', 'list', '--bogus'], /^samsa: unknown option '--bogus'$/, 'samsa topic list'],
      [['topic', 'alter-config', 'x'], /^samsa: nothing to change/, 'samsa topic alter-config'],
      [['cluster', 'config', 'set'], /^samsa: nothing to change/, 'samsa cluster config set'],
    ];
    for (const [args, first, cmd] of cases) {
      const r = await samsa(args);
      expect(r.code, args.join(' ')).toBe(1);
      const lines = r.stderr.split('\n');
      expect(lines, args.join(' ')).toHaveLength(3); // two lines and the final newline
      expect(lines[0]).toMatch(first);
      expect(lines[1]).toBe(`see '${cmd} --help'`);
      expect(r.stdout).toBe('');
    }
  });

  it('colours tables on a terminal unless NO_COLOR is set (to anything non-empty)', async () => {
    const bold = '\u001b[1m';
    expect((await samsa(['topic', 'list'], { tty: true })).stdout).toContain(bold);
    expect((await samsa(['topic', 'list'], { tty: true, env: { NO_COLOR: '1' } })).stdout).not.toContain(
      bold,
    );
    expect((await samsa(['topic', 'list'], { tty: true, env: { NO_COLOR: 'yes' } })).stdout).not.toContain(
      bold,
    );
    // An empty NO_COLOR does not count (no-color.org).
    expect((await samsa(['topic', 'list'], { tty: true, env: { NO_COLOR: '' } })).stdout).toContain(bold);
    expect((await samsa(['topic', 'list'])).stdout).not.toContain(bold);
  });

  it('says "1 partition" and "2 partitions"', async () => {
    await samsa(['topic', 'create', 'one', '-p', '1']);
    expect((await samsa(['topic', 'add-partitions', 'one', '-n', '1'])).stderr).toMatch(
      /INVALID_PARTITIONS|invalid/,
    );
    expect((await samsa(['topic', 'add-partitions', 'one', '-n', '2'])).stdout).toBe(
      'topic one now has 2 partitions\n',
    );
    expect((await samsa(['topic', 'alter-config', 'one', '-s', 'retention.ms=1000'])).stdout).toBe(
      'altered 1 config of topic one\n',
    );
    const r = await samsa(['topic', 'delete-records', 'one', '--offset', '0', '-p', '0,5']);
    expect(r.stderr).toMatch(/^samsa: topic 'one' has no partition 5 \(it has 2 partitions\)$/m);
  });
});

describe('no topic is created as a side effect', () => {
  it('perf produce and perf consume fail with one line on a missing topic, unless --create', async () => {
    for (const kind of ['produce', 'consume']) {
      const extra = kind === 'produce' ? ['-s', '10'] : ['--timeout', '2000'];
      const r = await samsa(['perf', kind, '-t', `missing-${kind}`, '-n', '5', ...extra]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `samsa: topic 'missing-${kind}' does not exist; add --create (and --partitions N) to create it, or see \`samsa topic create\`\n`,
      );
      expect(await admin.listTopics()).not.toContain(`missing-${kind}`);
    }
    const made = await samsa([
      'perf',
      'produce',
      '-t',
      'made',
      '--create',
      '-p',
      '3',
      '-n',
      '30',
      '-s',
      '10',
    ]);
    expect(made.code).toBe(0);
    const [desc] = await admin.describeTopics(['made']);
    expect(desc.partitions).toHaveLength(3);
    // Already there: --create uses it.
    expect((await samsa(['perf', 'consume', '-t', 'made', '--create', '-n', '30'])).code).toBe(0);
  }, 60_000);

  it('describe, group commands and delete-records leave a missing topic missing', async () => {
    for (const args of [
      ['topic', 'describe', 'ghost'],
      ['topic', 'delete-records', 'ghost', '--offset', '0'],
      ['group', 'reset-offsets', 'g', '-t', 'ghost', '--to-earliest', '--execute'],
      ['group', 'delete-offsets', 'g', '-t', 'ghost'],
    ]) {
      const r = await samsa(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toBe("samsa: topic 'ghost' does not exist; see `samsa topic list`\n");
    }
    expect(await admin.listTopics()).not.toContain('ghost');
  });
});

describe('samsa cluster config', () => {
  it('gets broker configs with their source, and sets and deletes dynamic ones', async () => {
    const id = broker.config.int('node.id');
    const all = JSON.parse((await samsa(['--json', 'cluster', 'config', 'get'])).stdout);
    expect(all.broker).toBe(id);
    expect(all.configs).toContainEqual(
      expect.objectContaining({ name: 'log.retention.ms', source: expect.any(String), readOnly: false }),
    );
    const one = await samsa(['cluster', 'config', 'get', 'num.partitions', 'log.retention.bytes']);
    expect(one.stdout.split('\n')[0]).toMatch(/^NAME\s+VALUE\s+SOURCE\s+DYNAMIC$/);
    expect(one.stdout).toMatch(/^num\.partitions\s+1\s+STATIC_BROKER_CONFIG\s+no$/m);
    expect(one.stdout).toMatch(/^log\.retention\.bytes\s+-1\s+DEFAULT_CONFIG\s+yes$/m);

    expect((await samsa(['cluster', 'config', 'set', 'log.retention.bytes=1048576'])).stdout).toBe(
      'altered 1 broker config cluster-wide\n',
    );
    expect((await samsa(['cluster', 'config', 'get', 'log.retention.bytes'])).stdout).toMatch(
      /^log\.retention\.bytes\s+1048576\s+DYNAMIC_DEFAULT_BROKER_CONFIG\s+yes$/m,
    );
    expect(
      (
        await samsa([
          'cluster',
          'config',
          'set',
          '--broker',
          String(id),
          'log.retention.bytes=2097152',
          'log.segment.bytes=10485760',
        ])
      ).stdout,
    ).toBe(`altered 2 broker configs on broker ${id}\n`);
    const dynamic = await samsa(['cluster', 'config', 'get', '--dynamic']);
    expect(dynamic.stdout).toMatch(/^log\.retention\.bytes\s+2097152\s+DYNAMIC_BROKER_CONFIG\s+yes$/m);
    expect(dynamic.stdout).toMatch(/^log\.segment\.bytes\s+10485760\s+DYNAMIC_BROKER_CONFIG\s+yes$/m);
    expect(dynamic.stdout).not.toMatch(/^num\.partitions/m);

    await samsa([
      'cluster',
      'config',
      'set',
      '--broker',
      String(id),
      '-d',
      'log.retention.bytes',
      '-d',
      'log.segment.bytes',
    ]);
    await samsa(['cluster', 'config', 'set', '-d', 'log.retention.bytes']);
    expect((await samsa(['cluster', 'config', 'get', 'log.retention.bytes'])).stdout).toMatch(
      /^log\.retention\.bytes\s+-1\s+DEFAULT_CONFIG\s+yes$/m,
    );
  });

  it("refuses static configs with Kafka's error, and unknown names", async () => {
    const r = await samsa(['cluster', 'config', 'set', 'num.partitions=3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'samsa: cannot change broker configs (INVALID_REQUEST): Cannot update these configs dynamically: Set(num.partitions)\n',
    );
    const unknown = await samsa(['cluster', 'config', 'get', 'no.such.config']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^samsa: broker \d+ has no config 'no.such.config'/);
  });
});

describe('fail fast on an unreachable bootstrap', () => {
  it('in-process: every kind of command fails with one line naming the cause, within --connect-timeout', async () => {
    for (const args of [
      ['topic', 'list'],
      ['topic', 'create', 'x'],
      ['group', 'list'],
      ['group', 'describe', 'g'],
      ['cluster', 'config', 'get'],
      ['cluster', 'info'],
      ['perf', 'produce', '-t', 'x', '-n', '1', '-s', '1'],
      ['consume', 'x', '-n', '1'],
      ['group', 'reset-offsets', 'g', '-t', 'x', '--to-earliest'],
    ]) {
      const started = Date.now();
      const r = await samsa(
        ['-b', refused, '--connect-timeout', '500', '--request-timeout', '120000', ...args],
        {
          withBrokers: false,
        },
      );
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(
        new RegExp(
          `^samsa: cannot reach the cluster at ${refused}.*ECONNREFUSED.*set -b/--brokers or SAMSA_BROKERS\\n$`,
        ),
      );
      // Loose: far below the two-minute request timeout.
      expect(Date.now() - started).toBeLessThan(20_000);
    }
  }, 180_000);

  it('as a process, by default: a refused port and an unknown host, exit 1 with one line', async () => {
    const r = await proc(['-b', refused, 'topic', 'list']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `samsa: cannot reach the cluster at ${refused}: no broker answered within 5000 ms (${refused}: connect ECONNREFUSED ${refused}); is a broker running? set -b/--brokers or SAMSA_BROKERS\n`,
    );
    expect(r.ms).toBeLessThan(20_000);

    const host = 'no-such-broker.invalid:9092';
    const u = await proc(['group', 'list'], { SAMSA_BROKERS: host });
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(
      new RegExp(
        `^samsa: cannot reach the cluster at ${host}: no broker answered within 5000 ms \\(.*ENOTFOUND.*\\); is a broker running\\?.*\\n$`,
      ),
    );
    expect(u.ms).toBeLessThan(20_000);

    const quick = await proc(['-b', host, '--connect-timeout', '1000', 'cluster', 'info']);
    expect(quick.code).toBe(1);
    expect(quick.stderr).toMatch(/^samsa: cannot reach the cluster at .*\n$/);
  }, 120_000);

  it.skipIf(!hasScript)(
    'as a process: --version, exit codes, and NO_COLOR on a real terminal',
    async () => {
      expect(await proc(['--version']).then(({ ms: _, ...r }) => r)).toEqual({
        code: 0,
        stdout: `${VERSION}\n`,
        stderr: '',
      });
      const usage = await proc(['topic', 'create']);
      expect(usage.code).toBe(1);
      expect(usage.stderr).toBe("samsa: missing required argument 'name'\nsee 'samsa topic create --help'\n");
      const help = await proc(['group', '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/reset-offsets/);

      // A real terminal (util-linux's script gives the command a pty): bold headers, unless NO_COLOR.
      const cli = await buildBroker();
      const onTty = (env: Record<string, string>) =>
        new Promise<string>((resolve, reject) => {
          const p = spawn(
            'script',
            ['-qec', `'${process.execPath}' '${cli}' -b ${brokers} topic list`, '/dev/null'],
            {
              env: { PATH: process.env.PATH ?? '', TERM: 'xterm', ...env },
              stdio: ['ignore', 'pipe', 'pipe'],
            },
          );
          let out = '';
          p.stdout.on('data', (d: Buffer) => (out += d));
          p.on('error', reject);
          p.on('close', () => resolve(out));
        });
      const coloured = await onTty({});
      expect(coloured).toMatch(/NAME/);
      expect(coloured).toContain('\u001b[1m');
      const plain = await onTty({ NO_COLOR: '1' });
      expect(plain).toMatch(/NAME/);
      expect(plain).not.toContain('\u001b[');
    },
    120_000,
  );
});
