// kcat (librdkafka, from Debian) against an in-process Samsa broker: metadata, and 100,000
// messages with keys and headers in each codec produced and consumed back byte-exact.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { hasKcat, requireClient } from '../helpers/tools.js';

const COUNT = 100_000;

function kcat(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', reject);
    p.on('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    p.stdin.end(input ?? '');
  });
}

describe.skipIf(!requireClient('kcat', hasKcat))('kcat', () => {
  let broker: Broker;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samsa-kcat-'));
    broker = await startBroker({
      config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': join(dir, 'data'), 'num.partitions': '3' },
      logger: pino({ level: 'silent' }),
    });
  });

  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists metadata (kcat -L -J)', async () => {
    await kcat(['-b', broker.bootstrap, '-P', '-t', 'listed'], 'hello\n');
    const r = await kcat(['-b', broker.bootstrap, '-L', '-J']);
    expect(r.code, r.stderr).toBe(0);
    const md = JSON.parse(r.stdout);
    expect(md.brokers).toEqual([{ id: 1, name: `${broker.bootstrap}` }]);
    const topic = md.topics.find((t: { topic: string }) => t.topic === 'listed');
    expect(topic.partitions).toHaveLength(3);
    for (const p of topic.partitions)
      expect(p).toMatchObject({ leader: 1, replicas: [{ id: 1 }], isrs: [{ id: 1 }] });
  });

  it.each(['none', 'gzip', 'snappy', 'lz4', 'zstd'])(
    `produces and consumes ${COUNT} keyed messages with headers byte-exact (compression %s)`,
    async (codec) => {
      const topic = `kcat-${codec}`;
      const lines: string[] = [];
      for (let i = 0; i < COUNT; i++) lines.push(`key-${i % 1000}\tvalue-${i}-${'x'.repeat(i % 50)}`);
      const file = join(dir, `${topic}.txt`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      const produced = await kcat([
        '-b',
        broker.bootstrap,
        '-P',
        '-t',
        topic,
        '-p',
        '0',
        '-K',
        '\t',
        '-l',
        file,
        '-H',
        'source=kcat',
        '-H',
        `codec=${codec}`,
        '-X',
        `compression.codec=${codec}`,
        '-X',
        'linger.ms=5',
      ]);
      expect(produced.code, produced.stderr).toBe(0);
      const consumed = await kcat([
        '-b',
        broker.bootstrap,
        '-C',
        '-t',
        topic,
        '-p',
        '0',
        '-o',
        'beginning',
        '-e',
        '-q',
        '-f',
        '%o\t%k\t%s\t%h\n',
      ]);
      expect(consumed.code, consumed.stderr).toBe(0);
      const got = consumed.stdout.split('\n').filter((l) => l !== '');
      expect(got).toHaveLength(COUNT);
      for (let i = 0; i < COUNT; i++) {
        const expected = `${i}\t${lines[i]}\tsource=kcat,codec=${codec}`;
        if (got[i] !== expected) expect(got[i]).toBe(expected);
      }
    },
  );
});
