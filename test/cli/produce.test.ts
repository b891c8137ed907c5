// `samsa produce` end to end against an in-process broker: bytes in, the same bytes in the log
// (keys and values with NUL and invalid UTF-8, base64/hex input, -D, -Z tombstones, one record per
// file, duplicate and null headers), partition and topic checks, and as a real process: records
// sent while stdin is still open (streaming), and memory bounded for an input larger than it.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { Admin, Consumer, type ConsumerRecord } from '../../src/client/index.js';
import { buildBroker, removeBrokerBuild } from '../helpers/broker-process.js';
import { finished, runCli, spawnCli } from '../helpers/samsa-cli.js';
import { until } from '../helpers/tools.js';

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

async function ok(args: string[], input: Buffer | string | (Buffer | string)[] = []): Promise<string> {
  const r = await runCli(brokers, args, input);
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.toString();
}

/** Every record of a topic, read with the library's consumer. */
async function readAll(topic: string, n: number): Promise<ConsumerRecord[]> {
  const c = new Consumer({ brokers, autoOffsetReset: 'earliest' });
  try {
    const [meta] = await c.cluster.waitForTopics([topic], 10_000);
    c.assign(meta.partitions.map((p) => ({ topic, partition: p.partition, offset: 0 })));
    const got: ConsumerRecord[] = [];
    const deadline = Date.now() + 30_000;
    while (got.length < n && Date.now() < deadline) got.push(...(await c.poll({ timeoutMs: 500 })));
    return got;
  } finally {
    await c.close();
  }
}

describe('samsa produce', () => {
  it('keeps keys and values byte for byte: NUL, invalid UTF-8, \\r, and a multi-byte -D', async () => {
    await ok(['topic', 'create', 'bin', '-p', '1']);
    const k1 = Buffer.from([0x00, 0xff, 0x41]);
    const v1 = Buffer.from([0xc3, 0x28, 0x00, 0x0d, 0x0a, 0xfe]); // invalid UTF-8, NUL, \r\n inside
    const v2 = Buffer.from('plain');
    const sep = Buffer.from('=>');
    const delim = Buffer.from('\u0000\u0001');
    const input = Buffer.concat([k1, sep, v1, delim, v2, delim]);
    // Fed in 3-byte chunks: the delimiter and the key separator straddle chunk boundaries.
    const chunks: Buffer[] = [];
    for (let i = 0; i < input.length; i += 3) chunks.push(input.subarray(i, i + 3));
    expect(await ok(['produce', 'bin', '-D', '\\x00\\x01', '-k', '=>'], chunks)).toBe(
      'wrote 2 records to bin\n',
    );
    const got = await readAll('bin', 2);
    expect(got.map((r) => [r.key, r.value])).toEqual([
      [k1, v1],
      [null, v2],
    ]);
  });

  it('takes keys and values in base64 or hex, and refuses input that is neither', async () => {
    await ok(['topic', 'create', 'enc', '-p', '1']);
    await ok(['produce', 'enc', '-k', ' ', '--key-format', 'hex', '--value-format', 'base64'], '00ff AP8=\n');
    const [r] = await readAll('enc', 1);
    expect(r.key).toEqual(Buffer.from([0, 0xff]));
    expect(r.value).toEqual(Buffer.from([0, 0xff]));
    const bad = await runCli(brokers, ['produce', 'enc', '--value-format', 'hex'], 'abc\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('samsa: record 1: the value is not valid hex\n');
  });

  it('-Z sends empty values (and keys) as null: tombstones; without it they are empty', async () => {
    await ok(['topic', 'create', 'tomb', '-p', '1']);
    await ok(['produce', 'tomb', '-k', ':', '-Z'], 'k1:\n:v2\n\nk4:v4\n');
    await ok(['produce', 'tomb', '-k', ':'], 'k5:\n');
    const got = await readAll('tomb', 5);
    expect(got.map((r) => [r.key?.toString() ?? null, r.value?.toString() ?? null])).toEqual([
      ['k1', null],
      [null, 'v2'],
      [null, null],
      ['k4', 'v4'],
      ['k5', ''],
    ]);
  });

  it('sends each --file-per-record file whole as one value, with a fixed --key', async () => {
    await ok(['topic', 'create', 'files', '-p', '1']);
    const dir = mkdtempSync(join(tmpdir(), 'samsa-produce-'));
    try {
      const a = Buffer.from('line 1\nline 2\n\0\xff', 'latin1');
      const b = Buffer.from([1, 2, 3]);
      writeFileSync(join(dir, 'a'), a);
      writeFileSync(join(dir, 'b'), b);
      expect(
        await ok(['produce', 'files', '--key', 'doc', '--file-per-record', join(dir, 'a'), join(dir, 'b')]),
      ).toBe('wrote 2 records to files\n');
      const got = await readAll('files', 2);
      expect(got.map((r) => [r.key?.toString(), r.value])).toEqual([
        ['doc', a],
        ['doc', b],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps repeated headers in order, and -H name alone is a null value', async () => {
    await ok(['topic', 'create', 'hdr', '-p', '1']);
    await ok(['produce', 'hdr', '-H', 'a=1', '-H', 'a=2', '-H', 'n', '-H', 'e='], 'x\n');
    const [r] = await readAll('hdr', 1);
    expect(r.headers.map((h) => [h.key, h.value?.toString() ?? null])).toEqual([
      ['a', '1'],
      ['a', '2'],
      ['n', null],
      ['e', ''],
    ]);
  });

  it('-p beyond the partitions says so in one line; a missing topic is never created', async () => {
    await ok(['topic', 'create', 'three', '-p', '3']);
    const p = await runCli(brokers, ['produce', 'three', '-p', '99'], 'x\n');
    expect(p.code).toBe(1);
    expect(p.stderr).toBe("samsa: topic 'three' has no partition 99: it has 3 partitions (0-2)\n");
    const missing = await runCli(brokers, ['produce', 'never-made', '--request-timeout', '1500'], 'x\n');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("samsa: topic 'never-made' does not exist; see `samsa topic list`\n");
    const admin = new Admin({ brokers });
    try {
      expect(await admin.listTopics()).not.toContain('never-made');
    } finally {
      await admin.close();
    }
  });

  it('reports the progress of a file on a terminal by bytes and records', async () => {
    await ok(['topic', 'create', 'pf', '-p', '2']);
    const dir = mkdtempSync(join(tmpdir(), 'samsa-produce-'));
    try {
      const file = join(dir, 'in.txt');
      writeFileSync(file, Array.from({ length: 25_000 }, (_, i) => `line${i}`).join('\n'));
      let stderr = '';
      const { main } = await import('../../src/cli/commands.js');
      const code = await main(['-b', brokers, 'produce', 'pf', '-f', file, '-z', 'lz4'], {
        stdout: { write: () => true },
        stderr: { write: (s: string | Uint8Array) => (stderr += String(s)), isTTY: true },
        stdin: [],
        env: {},
      } as never);
      expect(code).toBe(0);
      expect(stderr).toMatch(/\r\[#{30}\] 0\.2\/0\.2 MB {2}25000 records {2}\d+ rec\/s\n$/);
      expect(new Set((await readAll('pf', 25_000)).map((r) => r.value?.toString())).size).toBe(25_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('samsa produce as a process', () => {
  it('streams: a line is sent while stdin stays open (tail -f | samsa produce)', async () => {
    await ok(['topic', 'create', 'stream', '-p', '1']);
    const cli = await buildBroker();
    const child = spawnCli(cli, brokers, ['produce', 'stream']);
    const result = finished(child);
    const c = new Consumer({ brokers });
    const seen: string[] = [];
    let stop = false;
    const pump = (async () => {
      while (!stop) for (const r of await c.poll({ timeoutMs: 200 })) seen.push(String(r.value));
    })();
    try {
      c.assign([{ topic: 'stream', partition: 0, offset: 0 }]);
      child.stdin?.write('first\n');
      // No EOF yet: the record must arrive anyway, and the command is still reading.
      await until(() => seen.includes('first'), 'the first line while stdin is open', 60_000);
      expect(child.exitCode).toBeNull();
      child.stdin?.end('second\n');
      const r = await result;
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe('wrote 2 records to stream\n');
      await until(() => seen.includes('second'), 'the second line', 60_000);
      expect(seen).toEqual(['first', 'second']);
    } finally {
      stop = true;
      await pump;
      await c.close();
    }
  }, 90_000);

  it('reads a file redirected to stdin (< file), to the last line without a newline', async () => {
    await ok(['topic', 'create', 'redirected', '-p', '1']);
    const dir = mkdtempSync(join(tmpdir(), 'samsa-produce-'));
    try {
      const file = join(dir, 'in');
      writeFileSync(file, 'one\ntwo\nthree');
      const cli = await buildBroker();
      const fd = openSync(file, 'r');
      const child = spawn(process.execPath, [cli, 'produce', 'redirected'], {
        env: { ...process.env, SAMSA_BROKERS: brokers },
        stdio: [fd, 'pipe', 'pipe'],
      });
      closeSync(fd);
      const r = await finished(child);
      expect(r.stderr).toBe('');
      expect(r.stdout.toString()).toBe('wrote 3 records to redirected\n');
      expect((await readAll('redirected', 3)).map((x) => String(x.value))).toEqual(['one', 'two', 'three']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('Ctrl-C while waiting for input delivers what was read and reports it', async () => {
    await ok(['topic', 'create', 'interrupted', '-p', '1']);
    const cli = await buildBroker();
    const child = spawnCli(cli, brokers, ['produce', 'interrupted']);
    const result = finished(child);
    const c = new Consumer({ brokers });
    c.assign([{ topic: 'interrupted', partition: 0, offset: 0 }]);
    try {
      child.stdin?.write('only\n');
      const seen: string[] = [];
      for (let i = 0; i < 120 && seen.length === 0; i++)
        for (const r of await c.poll({ timeoutMs: 500 })) seen.push(String(r.value));
      expect(seen).toEqual(['only']);
      // stdin stays open: only the signal can end the read.
      child.kill('SIGINT');
      const r = await result;
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe('wrote 1 record to interrupted\n');
    } finally {
      await c.close();
    }
  }, 90_000);

  it('holds a bounded amount of memory for an input larger than it', async () => {
    await ok(['topic', 'create', 'big', '-p', '2']);
    const cli = await buildBroker();
    const child = spawn(process.execPath, ['--max-old-space-size=64', cli, 'produce', 'big'], {
      env: { ...process.env, SAMSA_BROKERS: brokers },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const result = finished(child);
    let peak = 0;
    const watch = setInterval(() => {
      try {
        const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) * 1024);
      } catch {
        // gone
      }
    }, 50);
    // 200 MB of 1000-byte lines, written as fast as the command reads them.
    const line = Buffer.concat([Buffer.alloc(999, 'y'), Buffer.from('\n')]);
    const chunk = Buffer.concat(Array.from({ length: 1000 }, () => line));
    const stdin = child.stdin as NodeJS.WritableStream;
    const total = 200;
    for (let i = 0; i < total; i++) if (!stdin.write(chunk)) await once(stdin, 'drain');
    stdin.end();
    const r = await result;
    clearInterval(watch);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe(`wrote ${total * 1000} records to big\n`);
    // Reading everything first would take more than the input itself.
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(total * chunk.length);
  }, 180_000);
});
