// Exactly-once with confluent-kafka-python (librdkafka): a consume-transform-produce loop copies
// 100,000 records in transactions that also commit its consumer offsets, while the broker is
// killed with SIGKILL and restarted twice; a third of the transactions are aborted on purpose.
// A read_committed reader must then see every input exactly once, in order per partition, and
// nothing of an aborted transaction; a read_uncommitted reader sees the aborted records too.
// The scripts are in python/transactions.py.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess, buildBroker, removeBrokerBuild, stopAllBrokers } from '../helpers/broker-process.js';
import { hasConfluentKafka, PYTHON, requireClient, run as runCommand, until } from '../helpers/tools.js';

const SCRIPT = join(import.meta.dirname, 'python', 'transactions.py');
const COUNT = 100_000;
const PARTITIONS = 3;

// biome-ignore lint/suspicious/noExplicitAny: the scripts' JSON output
async function run(args: string[]): Promise<any> {
  const r = await runCommand(PYTHON, [SCRIPT, ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** Parses "<input>:<attempt>" values. */
function parse(values: string[]): { input: number; attempt: number }[] {
  return values.map((v) => {
    const [input, attempt] = v.split(':').map(Number);
    return { input, attempt };
  });
}

describe.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))(
  'exactly-once copy with confluent-kafka-python across two SIGKILLs',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-eos-'));

    beforeAll(async () => {
      await buildBroker();
    }, 180_000);

    afterAll(async () => {
      await stopAllBrokers();
      removeBrokerBuild();
      rmSync(dir, { recursive: true, force: true });
    });

    it('read_committed sees every input once and in order; aborted records only read_uncommitted', async () => {
      const overrides = { 'group.initial.rebalance.delay.ms': '0' };
      let broker = await BrokerProcess.start({ dataDir: dir, overrides });
      const setup = await run([
        'setup',
        broker.bootstrap,
        'eos-in',
        'eos-out',
        String(COUNT),
        String(PARTITIONS),
      ]);
      expect(setup.errors).toEqual([]);

      // The copy loop runs in the background; its "progress N" lines say how many input records
      // its committed transactions cover.
      const copy = spawn(
        PYTHON,
        [SCRIPT, 'copy', broker.bootstrap, 'eos-in', 'eos-out', 'eos-group', 'eos-txn', String(COUNT)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let progress = 0;
      let stdout = '';
      let stderr = '';
      let exitCode: number | null = null;
      copy.stdout.on('data', (d: Buffer) => (stdout += d));
      copy.stderr.on('data', (d: Buffer) => {
        stderr += d;
        for (const m of String(d).matchAll(/progress (\d+)/g)) progress = Math.max(progress, Number(m[1]));
      });
      const exited = new Promise<void>((resolve) =>
        copy.on('close', (code) => {
          exitCode = code ?? -1;
          resolve();
        }),
      );

      for (const at of [30_000, 65_000]) {
        await until(() => progress >= at || exitCode !== null, `copy progress ${at}`, 300_000);
        expect(exitCode, stderr.slice(-2000)).toBeNull();
        await broker.kill();
        broker = await broker.restart();
      }
      await exited;
      expect(exitCode, stderr.slice(-2000)).toBe(0);
      const result = JSON.parse(stdout);
      expect(result.timed_out, JSON.stringify(result.log)).toBe(false);
      expect(result.aborted_attempts.length).toBeGreaterThan(0);
      const aborted = new Set<number>(result.aborted_attempts);

      const committed = await run([
        'verify',
        broker.bootstrap,
        'eos-out',
        String(COUNT),
        String(PARTITIONS),
        'read_committed',
      ]);
      expect(committed.eof).toBe(true);
      for (let p = 0; p < PARTITIONS; p++) {
        const records = parse(committed.seen[String(p)]);
        // Exactly the inputs of partition p, each once, in input order.
        const expected: number[] = [];
        for (let i = p; i < COUNT; i += PARTITIONS) expected.push(i);
        expect(records.map((r) => r.input)).toEqual(expected);
        expect(records.filter((r) => aborted.has(r.attempt))).toEqual([]);
      }

      const uncommitted = await run([
        'verify',
        broker.bootstrap,
        'eos-out',
        String(COUNT),
        String(PARTITIONS),
        'read_uncommitted',
      ]);
      const attemptsSeen = new Set<number>();
      let total = 0;
      for (let p = 0; p < PARTITIONS; p++) {
        for (const r of parse(uncommitted.seen[String(p)])) attemptsSeen.add(r.attempt);
        total += uncommitted.seen[String(p)].length;
      }
      for (const a of aborted) expect(attemptsSeen.has(a), `aborted attempt ${a}`).toBe(true);
      expect(total).toBeGreaterThan(COUNT);
      await broker.stop();
    }, 900_000);
  },
);
