// What a broker says about its configuration at start, and what it refuses: unknown names in one
// warn line, the non-default values in one info line, and a listener whose security protocol
// Samsa cannot serve (SSL, SASL) refused with one line and a non-zero exit of `samsa start`.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startBroker } from '../../src/broker/broker.js';
import { ConfigError } from '../../src/config/errors.js';
import { BrokerProcess, buildBroker, removeBrokerBuild, stopAllBrokers } from '../helpers/broker-process.js';

const dirs: string[] = [];
/** CLI processes spawned here; one still running at the end (a start that was not refused) is killed. */
const children: ChildProcess[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'samsa-start-config-'));
  dirs.push(d);
  return d;
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await stopAllBrokers();
  removeBrokerBuild();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A pino logger whose lines are kept, parsed. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('startBroker and its configuration', () => {
  it('warns once, in one line, about every unknown name, and logs the non-default values', async () => {
    const { logger, lines } = capturingLogger();
    const b = await startBroker({
      config: { 'zookeeper.connect': 'localhost:2181', 'num.partitions': '3', 'my.custom': 'x' },
      logger,
    });
    await b.stop();
    const warns = lines.filter((l) => l.level === 40);
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({
      unused: ['zookeeper.connect', 'my.custom'],
      msg: "These configurations '[zookeeper.connect, my.custom]' were supplied but are not used by Samsa",
    });
    const info = lines.filter((l) => l.msg === 'Broker config (values that differ from the defaults)');
    expect(info).toHaveLength(1);
    expect(info[0].config).toEqual({
      listeners: 'PLAINTEXT://127.0.0.1:0',
      // startBroker() turns the HTTP listener off unless asked (samsa start's default is on).
      'http.listeners': '',
      'num.partitions': '3',
      // startBroker()'s embedded default, which differs from Kafka's 3000.
      'group.initial.rebalance.delay.ms': '0',
      'log.dirs': b.config.list('log.dirs')[0],
    });
  });

  it('logs no warning when every name is known', async () => {
    const { logger, lines } = capturingLogger();
    const b = await startBroker({ config: { 'log.retention.hours': '1' }, logger });
    await b.stop();
    expect(lines.filter((l) => l.level === 40)).toEqual([]);
  });

  it('refuses an SSL listener without a key store before creating anything', async () => {
    const dir = join(tempDir(), 'data');
    await expect(
      startBroker({
        config: { listeners: 'SSL://127.0.0.1:0', 'log.dirs': dir },
        logger: pino({ level: 'silent' }),
      }),
    ).rejects.toThrow(ConfigError);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('samsa start (the built CLI, as a process)', () => {
  it('exits non-zero with one line naming a SASL listener', async () => {
    const main = await buildBroker();
    const dir = tempDir();
    const child = spawn(
      process.execPath,
      [main, 'start', '--listeners', 'SASL_SSL://127.0.0.1:0', '--log-dirs', join(dir, 'data')],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SAMSA_LOG_LEVEL: 'info' } },
    );
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stderr).toBe(
      'samsa: listeners: listener SASL_SSL://127.0.0.1:0 uses security protocol SASL_SSL, which Samsa does not support yet (only PLAINTEXT, SSL)\n',
    );
    expect(stdout).toBe('');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  }, 120_000);

  it('logs the unknown names of -o overrides in one warn line, never their values', async () => {
    const b = await BrokerProcess.start({
      dataDir: tempDir(),
      overrides: {
        'zookeeper.connect': 'localhost:2181',
        'sasl.jaas.config': 'secret',
        'ssl.keystore.password': 'secret-too',
        'num.partitions': '2',
      },
    });
    await b.stop();
    const warns = b.logs.filter((l) => l.level === 40);
    expect(warns).toHaveLength(1);
    expect(warns[0].unused).toEqual(['zookeeper.connect', 'sasl.jaas.config']);
    const info = b.logs.find((l) => l.msg === 'Broker config (values that differ from the defaults)');
    // A known password (not used without an SSL listener) is logged redacted.
    expect(info?.config).toMatchObject({ 'num.partitions': '2', 'ssl.keystore.password': '[hidden]' });
    // An unknown name's value (a password here) appears nowhere in the log.
    expect(JSON.stringify(b.logs)).not.toContain('secret');
  }, 120_000);
});
