// Debian's Go clients older than Kafka 2.1 against an in-process Samsa broker, built in GOPATH
// mode from Debian's packages (GO111MODULE=off, GOPATH=/usr/share/gocode: no module downloads).
// Sarama 1.22 (go/sarama/main.go) and segmentio kafka-go 0.2 (go/kafkago/main.go): admin, produce
// in each codec with magic 1 message sets, group consume with commits and resume.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { requireClient, run } from '../helpers/tools.js';

const GOPATH = '/usr/share/gocode';
const hasGo = existsSync('/usr/bin/go');
const hasSarama = hasGo && existsSync(join(GOPATH, 'src/github.com/Shopify/sarama'));
const hasKafkaGo = hasGo && existsSync(join(GOPATH, 'src/github.com/segmentio/kafka-go'));

/** Builds go/<name>/main.go in GOPATH mode (Debian's packages, no module downloads). */
async function buildGo(name: string, outDir: string): Promise<string> {
  const bin = join(outDir, name);
  // go reads GO111MODULE etc. from the environment; run() passes process.env on.
  Object.assign(process.env, {
    GO111MODULE: 'off',
    GOPATH,
    GOFLAGS: '',
    GOCACHE: process.env.GOCACHE ?? join(tmpdir(), 'samsa-go-cache'),
  });
  const build = await run('go', ['build', '-o', bin, join(import.meta.dirname, 'go', name, 'main.go')]);
  expect(build.code, build.stderr).toBe(0);
  return bin;
}

describe.skipIf(!requireClient('sarama', hasSarama))('Sarama 1.22 (Go, Kafka 0.10.2 / 0.11 protocol)', () => {
  let broker: Broker;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samsa-legacy-go-'));
    broker = await startBroker({
      config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': join(dir, 'data') },
      logger: pino({ level: 'silent' }),
    });
  });

  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('admin, produce in each codec, group consume with commits and resume', async () => {
    const bin = await buildGo('sarama', dir);
    const r = await run(bin, [broker.bootstrap, 'sarama']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({
      'retention.ms': '3600000',
      consumed: 40,
      match: true,
      resumed: ['after-0', 'after-1', 'after-2'],
      committed: 43,
    });
  }, 300_000);
});

describe.skipIf(!requireClient('kafka-go', hasKafkaGo))(
  'segmentio kafka-go 0.2 (Go, fixed old versions)',
  () => {
    let broker: Broker;
    let dir: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'samsa-legacy-kafkago-'));
      broker = await startBroker({
        config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': join(dir, 'data') },
        logger: pino({ level: 'silent' }),
      });
    });

    afterAll(async () => {
      await broker?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('creates a topic, produces in each codec, consumes as a group with commits and resumes', async () => {
      const bin = await buildGo('kafkago', dir);
      const r = await run(bin, [broker.bootstrap, 'kafkago']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        partitions: 1,
        consumed: 40,
        match: true,
        resumed: ['after-0', 'after-1', 'after-2'],
      });
    }, 300_000);
  },
);
