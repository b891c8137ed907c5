// The log directory lock (storage/log-dir-lock.ts): a second broker on the same log dirs refuses
// to start, with one line naming the holder and a non-zero exit; the lock goes with its holder
// (kill -9 included) and with a clean stop. Two REAL processes (the built CLI, as
// test/helpers/broker-process.ts runs it), plus startBroker() in this process.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker } from '../../src/broker/broker.js';
import { LogDirLockedError, lockLogDirs } from '../../src/storage/log-dir-lock.js';
import { BrokerProcess, buildBroker, removeBrokerBuild, stopAllBrokers } from '../helpers/broker-process.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'samsa-lock-'));
  dirs.push(d);
  return d;
}

let main: string;

beforeAll(async () => {
  main = await buildBroker();
}, 180_000);

afterAll(async () => {
  await stopAllBrokers();
  removeBrokerBuild();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs `samsa start` on the given log dirs to its exit (a refused start exits on its own). */
function startExpectingExit(
  logDirs: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [main, 'start', '--listeners', 'PLAINTEXT://127.0.0.1:0', '--log-dirs', logDirs],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SAMSA_LOG_LEVEL: 'info' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the second broker did not exit:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('log dir lock, two processes', () => {
  it('refuses a second broker on the same log dir with one line naming the holder', async () => {
    const dir = tempDir();
    const first = await BrokerProcess.start({ dataDir: dir });
    const rpc = await KafkaRpc.connect(first.port);
    expect((await rpc.createTopic('locked', 1)).errorCode).toBe(0);
    rpc.close();

    const second = await startExpectingExit(dir);
    expect(second.code).not.toBe(0);
    expect(second.code).not.toBeNull();
    const lines = second.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `samsa: log dir ${dir} is locked by another broker (pid ${first.pid}); stop it first, or give this broker other log.dirs`,
    );
    // The first broker is untouched and still serving.
    expect(first.alive).toBe(true);
    const again = await KafkaRpc.connect(first.port);
    const md = await again.metadata(['locked']);
    expect(md.topics[0].errorCode).toBe(0);
    again.close();
  });

  it('refuses when any one of several log dirs is held', async () => {
    const a = tempDir();
    const b = tempDir();
    const first = await BrokerProcess.start({ dataDir: b });
    // The second broker's first dir is free, its second is the running broker's.
    const second = await startExpectingExit(`${a},${b}`);
    expect(second.code).not.toBe(0);
    expect(second.stderr.trim()).toBe(
      `samsa: log dir ${b} is locked by another broker (pid ${first.pid}); stop it first, or give this broker other log.dirs`,
    );
    // It let go of the dir it had locked before giving up.
    const free = await lockLogDirs([a]);
    free.release();
  });

  it('a new broker starts after kill -9 of the holder, and its data is there', async () => {
    const dir = tempDir();
    const first = await BrokerProcess.start({ dataDir: dir });
    const rpc = await KafkaRpc.connect(first.port);
    expect((await rpc.createTopic('survives', 1)).errorCode).toBe(0);
    const ack = await rpc.produce('survives', 0, [{ value: Buffer.from('acked') }]);
    expect(ack.errorCode).toBe(0);
    rpc.close();
    await first.kill();

    const next = await first.restart();
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(`pid=${next.pid}\n`);
    const rpc2 = await KafkaRpc.connect(next.port);
    const read = await rpc2.readPartition('survives', 0);
    expect(read.records.map((r) => r.value?.toString())).toEqual(['acked']);
    rpc2.close();
    await next.stop();
  });

  it('a clean stop releases the lock', async () => {
    const dir = tempDir();
    const first = await BrokerProcess.start({ dataDir: dir });
    const exit = await first.stop();
    expect(exit.code).toBe(0);
    // Emptied at release, so nobody reads a dead holder's pid from it.
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe('');
    const next = await BrokerProcess.start({ dataDir: dir });
    expect(next.alive).toBe(true);
    await next.stop();
  });
});

describe('log dir lock, in this process', () => {
  it('startBroker() locks: a second one on the same dir is refused until the first stops', async () => {
    const dir = tempDir();
    const first = await startBroker({ config: { 'log.dirs': dir } });
    const refused = await startBroker({ config: { 'log.dirs': dir } }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(LogDirLockedError);
    expect((refused as LogDirLockedError).holderPid).toBe(process.pid);
    expect((refused as LogDirLockedError).dir).toBe(dir);
    await first.stop();
    const second = await startBroker({ config: { 'log.dirs': dir } });
    await second.stop();
  });

  it('a start that fails after locking lets go of the lock', async () => {
    const dir = tempDir();
    const first = await startBroker({ config: { 'log.dirs': dir } });
    await first.stop();
    // meta.properties says node 1: a start as node 2 fails once the dir is locked...
    await expect(startBroker({ config: { 'log.dirs': dir, 'node.id': '2' } })).rejects.toThrow(
      /belongs to node 1/,
    );
    // ...and so does one with an advertised listener that does not parse, after binding.
    await expect(
      startBroker({ config: { 'log.dirs': dir, 'advertised.listeners': 'not a listener' } }),
    ).rejects.toThrow();
    // Neither kept the lock.
    const again = await startBroker({ config: { 'log.dirs': dir } });
    await again.stop();
  });

  it('flock(1) and perl take the same kernel lock (each refuses while the other holds it)', async () => {
    const dir = tempDir();
    for (const [first, second] of [
      ['flock', 'perl'],
      ['perl', 'flock'],
    ] as const) {
      const held = await lockLogDirs([dir], undefined, [first]);
      expect(held.dirs).toEqual([dir]);
      const refused = await lockLogDirs([dir], undefined, [second]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(LogDirLockedError);
      expect((refused as LogDirLockedError).holderPid).toBe(process.pid);
      held.release();
      const again = await lockLogDirs([dir], undefined, [second]);
      again.release();
    }
  });

  it('without any lock tool, uses the dirs unlocked and says so', async () => {
    const dir = tempDir();
    const path = process.env.PATH;
    const warnings: string[] = [];
    process.env.PATH = join(dir, 'no-tools-here');
    try {
      const locks = await lockLogDirs([dir], (m) => warnings.push(m));
      expect(locks.dirs).toEqual([]);
      expect(locks.unlocked).toEqual([dir]);
      locks.release();
    } finally {
      process.env.PATH = path;
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(`^log dir ${dir} is used without a lock: neither flock\\(1\\) nor perl`),
    );
  });

  it('lockLogDirs releases what it took when a later dir is held', async () => {
    const a = tempDir();
    const b = tempDir();
    const holder = await lockLogDirs([b]);
    await expect(lockLogDirs([a, b])).rejects.toBeInstanceOf(LogDirLockedError);
    const again = await lockLogDirs([a]);
    again.release();
    holder.release();
    // Released twice is harmless.
    holder.release();
    const both = await lockLogDirs([a, b, a]);
    expect(both.dirs).toEqual([a, b]);
    both.release();
  });
});
