// Clients older than Kafka 2.1 against an in-process Samsa broker (samsa.legacy.protocol.enable,
// the default): request versions Kafka 4.0 removed, magic 0/1 message sets converted on produce
// and fetch.
//
// - kcat (librdkafka) with api.version.request=false and broker.version.fallback: 0.9.0.0 speaks
//   the 0.9 protocol only (Metadata v0, Produce v1 with magic 0, ListOffsets v0, Fetch v1 with
//   magic 0), which the debug output proves. From a 0.10.0.0 fallback on, librdkafka knows the
//   broker answers ApiVersions and asks anyway, so those runs negotiate; they are checked as round
//   trips all the same.
// - kafka-python (Debian's python3-kafka 2.0.2) with api_version pinned to (0, 10), (0, 11),
//   (1, 0), (2, 0): admin (create topics, describe configs, list groups, delete topics), produce
//   with explicit timestamps, group consume with commits and a resume from them
//   (python/kafka_python_legacy.py).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { hasKafkaPython, hasKcat, PYTHON, requireClient, run } from '../helpers/tools.js';

let broker: Broker;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samsa-legacy-'));
  broker = await startBroker({
    config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': join(dir, 'data'), 'num.partitions': '1' },
    logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const legacy = (v: string) => ['-X', 'api.version.request=false', '-X', `broker.version.fallback=${v}`];

/** Compressible values, so that librdkafka keeps the codec (it sends uncompressed what does not shrink). */
const recordValue = (i: number) => `value-${i}-${'abcdefgh'.repeat(40)}`;

describe.skipIf(!requireClient('kcat', hasKcat))('kcat with an old broker.version.fallback', () => {
  const N = 50;
  const input = Array.from({ length: N }, (_, i) =>
    i % 10 === 9 ? `:${recordValue(i)}` : `k${i}:${recordValue(i)}`,
  ).join('\n');

  for (const fallback of ['0.9.0.0', '0.10.0.0', '0.11.0.0', '1.0.0', '2.0.0']) {
    for (const codec of ['none', 'gzip', 'snappy', 'lz4']) {
      it(`${fallback} ${codec}: produce and consume back keys, values, offsets, timestamps`, async () => {
        const topic = `kcat-${fallback.replaceAll('.', '')}-${codec}`;
        const before = Date.now();
        const p = await run(
          'kcat',
          [
            '-b',
            broker.bootstrap,
            '-P',
            '-t',
            topic,
            '-K:',
            '-z',
            codec,
            ...legacy(fallback),
            '-d',
            'protocol,msg',
          ],
          `${input}\n`,
        );
        expect(p.code, p.stderr).toBe(0);
        expect(p.stderr).not.toMatch(/Delivery failed/);
        const c = await run('kcat', [
          '-b',
          broker.bootstrap,
          '-C',
          '-t',
          topic,
          '-o',
          'beginning',
          '-e',
          '-f',
          '%k|%s|%T|%o\\n',
          ...legacy(fallback),
          '-d',
          'protocol',
        ]);
        expect(c.code, c.stderr).toBe(0);
        const lines = c.stdout.trim().split('\n');
        expect(lines).toHaveLength(N);
        lines.forEach((line, i) => {
          const [k, v, ts, off] = line.split('|');
          expect(k).toBe(i % 10 === 9 ? '' : `k${i}`);
          expect(v).toBe(recordValue(i));
          expect(off).toBe(String(i));
          if (fallback === '0.9.0.0') {
            // Magic 0 has no timestamp.
            expect(Number(ts)).toBeLessThanOrEqual(0);
          } else {
            expect(Number(ts)).toBeGreaterThanOrEqual(before - 1000);
            expect(Number(ts)).toBeLessThanOrEqual(Date.now() + 1000);
          }
        });
        if (fallback === '0.9.0.0') {
          // The 0.9 protocol, nothing newer: magic 0 produced and fetched.
          expect(p.stderr).toMatch(/Sent ProduceRequest \(v1,/);
          // librdkafka's PRODUCE debug line names the codec the message set went out with.
          const sent = codec === 'none' ? 'uncompressed' : codec;
          expect(p.stderr).toMatch(new RegExp(`MsgVersion 0, [^\\n]*${sent}\\)`));
          expect(c.stderr).toMatch(/Sent ListOffsetsRequest \(v0,/);
          expect(c.stderr).toMatch(/Sent FetchRequest \(v1,/);
          expect(`${p.stderr}${c.stderr}`).not.toMatch(/Sent ApiVersionRequest/);
        }
      });
    }
  }

  it('0.9.0.0 reads what a current producer wrote (v2 batches with headers, each codec) down-converted', async () => {
    for (const codec of ['none', 'gzip', 'snappy', 'lz4']) {
      const topic = `kcat-v2-${codec}`;
      const p = await run(
        'kcat',
        ['-b', broker.bootstrap, '-P', '-t', topic, '-K:', '-z', codec, '-H', 'h=v'],
        `${input}\n`,
      );
      expect(p.code, p.stderr).toBe(0);
      const c = await run('kcat', [
        '-b',
        broker.bootstrap,
        '-C',
        '-t',
        topic,
        '-o',
        '5',
        '-e',
        '-f',
        '%k|%s|%o|%h\\n',
        ...legacy('0.9.0.0'),
      ]);
      expect(c.code, c.stderr).toBe(0);
      const lines = c.stdout.trim().split('\n');
      // From offset 5 (inside the first batch: the records before it are left out); headers dropped.
      expect(lines).toHaveLength(N - 5);
      expect(lines[0]).toBe(`k5|${recordValue(5)}|5|`);
    }
  });

  it('0.9.0.0 gets UNSUPPORTED_COMPRESSION_TYPE for a zstd batch (magic 0/1 has no zstd)', async () => {
    const p = await run(
      'kcat',
      ['-b', broker.bootstrap, '-P', '-t', 'kcat-zstd', '-z', 'zstd'],
      `${input}\n`,
    );
    expect(p.code, p.stderr).toBe(0);
    const c = await run('kcat', [
      '-b',
      broker.bootstrap,
      '-C',
      '-t',
      'kcat-zstd',
      '-o',
      'beginning',
      '-e',
      ...legacy('0.9.0.0'),
    ]);
    expect(`${c.stdout}${c.stderr}`).toMatch(/Unsupported compression type/i);
  });
});

describe.skipIf(!requireClient('kafka-python', hasKafkaPython))(
  'kafka-python with api_version pinned',
  () => {
    for (const version of ['0.10', '0.11', '1.0', '2.0']) {
      it(`api_version ${version}: admin, produce, group consume with commits and resume`, async () => {
        const prefix = `kp${version.replace('.', '')}`;
        const r = await run(PYTHON, [
          join(import.meta.dirname, 'python', 'kafka_python_legacy.py'),
          broker.bootstrap,
          version,
          prefix,
        ]);
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout);
        expect(out.topics).toEqual([`${prefix}-data`]);
        expect(out['retention.ms']).toBe('3600000');
        expect(out.codecs).toEqual(expect.arrayContaining(['none', 'gzip']));
        expect(out.consumed).toBe(20 * out.codecs.length);
        expect(out.keys_match).toBe(true);
        expect(out.sizes_match).toBe(true);
        expect(out.timestamps_match).toBe(true);
        expect(out.committed).toEqual({ '0': 10 * out.codecs.length, '1': 10 * out.codecs.length });
        expect(out.resumed_keys).toEqual(['after-0', 'after-1', 'after-2', 'after-3', 'after-4', 'after-5']);
        expect(out.committed_after).toEqual({
          '0': 10 * out.codecs.length + 3,
          '1': 10 * out.codecs.length + 3,
        });
        expect(out.group_listed).toBe(true);
      });
    }
  },
);
