// startBroker(), the in-process broker for tests and embedding: a free port, a temporary data
// directory that stop() removes and that a later startBroker() sweeps when its process died
// without stop(), and group.initial.rebalance.delay.ms at 0 unless given.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { OWNER_FILE, sweepStaleTempDirs } from '../../src/broker/temp-dirs.js';
import { startBroker } from '../../src/index.js';
import { buildBroker, removeBrokerBuild } from '../helpers/broker-process.js';

afterAll(() => removeBrokerBuild());

/** The pid of a process that has exited (a node that did nothing). */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

describe('startBroker (in-process, for tests and embedding)', () => {
  it('listens on a free port with a temporary data directory that stop() removes', async () => {
    const a = await startBroker({ logger: pino({ level: 'silent' }) });
    const b = await startBroker({ logger: pino({ level: 'silent' }) });
    expect(a.port).not.toBe(b.port);
    expect(a.bootstrap).toBe(`127.0.0.1:${a.port}`);
    const dir = a.config.list('log.dirs')[0];
    expect(existsSync(dir)).toBe(true);
    expect(existsSync(join(dirname(dir), OWNER_FILE))).toBe(true);
    await a.stop();
    await b.stop();
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(dirname(dir))).toBe(false);
  });

  it('sets group.initial.rebalance.delay.ms to 0 unless the config gives it (samsa start keeps 3000)', async () => {
    const a = await startBroker({ logger: 'silent' });
    const b = await startBroker({ logger: 'silent', config: { 'group.initial.rebalance.delay.ms': '250' } });
    try {
      expect(a.config.int('group.initial.rebalance.delay.ms')).toBe(0);
      expect(b.config.int('group.initial.rebalance.delay.ms')).toBe(250);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe('stale temporary directories', () => {
  it('removes only marked directories whose owner process is gone', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sweep-test-'));
    try {
      const make = (name: string, owner: unknown) => {
        const dir = join(root, name);
        mkdirSync(join(dir, 'data'), { recursive: true });
        if (owner !== undefined) writeFileSync(join(dir, OWNER_FILE), JSON.stringify(owner));
        return dir;
      };
      const dead = make('samsa-dead', { pid: await deadPid(), startTime: null });
      const alive = make('samsa-alive', { pid: process.pid, startTime: null });
      const unmarked = make('samsa-unmarked', undefined);
      const garbled = make('samsa-garbled', 'not an owner');
      const otherPrefix = make('other-dead', { pid: await deadPid(), startTime: null });
      // A pid now running another process (its start time differs from the recorded one).
      const reused = existsSync('/proc/self/stat')
        ? make('samsa-reused', { pid: process.pid, startTime: '1' })
        : undefined;
      const removed = sweepStaleTempDirs(root);
      expect(removed.sort()).toEqual([dead, reused].filter((d) => d !== undefined).sort());
      for (const kept of [alive, unmarked, garbled, otherPrefix]) expect(existsSync(kept)).toBe(true);
      expect(existsSync(dead)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the next startBroker() removes the directory of a process killed before stop()', async () => {
    const main = await buildBroker();
    const index = join(dirname(main), '..', 'src', 'index.js');
    // A child starts an embedded broker, prints its data directory, and is then SIGKILLed.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { startBroker } = await import(${JSON.stringify(index)});
         const b = await startBroker({ logger: 'silent' });
         console.log(b.config.list('log.dirs')[0]);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const dataDir = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d;
        if (out.includes('\n')) resolve(out.trim());
      });
      child.on('error', reject);
      void exited.then(() => reject(new Error(`child exited before starting: ${out}`)));
    });
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(dataDir)).toBe(true); // left behind: stop() never ran
    const b = await startBroker({ logger: 'silent' });
    await b.stop();
    expect(existsSync(dirname(dataDir))).toBe(false);
  });
});
