// Consumer groups with confluent-kafka-python (librdkafka): members sharing a topic while others
// join and leave, committed offsets across a SIGKILL of the broker, static membership (KIP-345).
// The scripts are in python/groups.py; each prints what it saw as JSON and this checks it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { BrokerProcess, buildBroker, removeBrokerBuild, stopAllBrokers } from '../helpers/broker-process.js';
import { hasConfluentKafka, PYTHON, requireClient, run as runCommand } from '../helpers/tools.js';

// biome-ignore lint/suspicious/noExplicitAny: the scripts' JSON output
async function run(mode: string, args: string[]): Promise<any> {
  const r = await runCommand(PYTHON, [join(import.meta.dirname, 'python', 'groups.py'), mode, ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))(
  'confluent-kafka-python consumer groups',
  () => {
    let broker: Broker;

    beforeAll(async () => {
      broker = await startBroker({
        config: { 'group.initial.rebalance.delay.ms': '1000' },
        logger: pino({ level: 'silent' }),
      });
    });

    afterAll(async () => {
      await broker?.stop();
    });

    it.each(['range', 'cooperative-sticky'])(
      'three members share 60,000 records while members join and leave (%s): each processed once',
      async (assignor) => {
        const out = await run('share', [
          broker.bootstrap,
          `share-${assignor}`,
          `share-group-${assignor}`,
          assignor,
        ]);
        expect(out.errors).toEqual([]);
        expect(out.duplicates).toEqual([]);
        expect(out.processed).toBe(60_000);
        expect(out.distinct_values_ok).toBe(true);
        // Every member did part of the work, the one that left included.
        for (const m of ['a', 'b', 'c', 'd']) expect(out.per_member[m], m).toBeGreaterThan(0);
        // The group's committed offsets are the partitions' ends.
        expect(out.committed).toEqual(out.ends);
        expect(out.ends.reduce((n: number, [, end]: number[]) => n + end, 0)).toBe(60_000);
      },
      240_000,
    );

    it('a static member restarting within its session timeout causes no rebalance', async () => {
      const out = await run('static', [broker.bootstrap, 'static', 'static-group']);
      // a saw nothing after b's restart: no revoke, no new assignment.
      expect(out.a_events_after).toEqual([]);
      expect(out.b_before.length).toBeGreaterThan(0);
      expect(out.b_after).toEqual(out.b_before);
    }, 120_000);
  },
);

describe.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))(
  'committed offsets across kill -9',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-groups-kill-'));

    beforeAll(async () => {
      await buildBroker();
    }, 180_000);

    afterAll(async () => {
      await stopAllBrokers();
      removeBrokerBuild();
      rmSync(dir, { recursive: true, force: true });
    });

    it('offsets a commit acknowledged survive SIGKILL; a restarted consumer resumes from them', async () => {
      const overrides = { 'group.initial.rebalance.delay.ms': '0' };
      let broker = await BrokerProcess.start({ dataDir: dir, overrides });
      const committed = await run('commit', [broker.bootstrap, 'resume', 'resume-group', '600']);
      expect(committed.consumed).toBe(600);
      const acked: number[][] = committed.acked;
      const ackedTotal = acked.reduce((n, [, o]) => n + o, 0);
      expect(ackedTotal).toBe(600);

      await broker.kill();
      broker = await broker.restart();
      const resumed = await run('resume', [
        broker.bootstrap,
        'resume',
        'resume-group',
        String(1000 - ackedTotal),
      ]);
      // librdkafka reports a partition without a committed offset as -1001 (OFFSET_INVALID).
      const ackedOf = (p: number) => acked.find(([q]) => q === p)?.[1];
      expect(resumed.committed).toEqual([0, 1, 2].map((p) => [p, ackedOf(p) ?? -1001]));
      // The consumer starts each partition exactly at its committed offset, or at the beginning
      // where nothing was committed (partitions consumed to their end have nothing left to give).
      for (const [p, first] of resumed.first as number[][]) expect(first).toBe(ackedOf(p) ?? 0);
      expect(resumed.consumed).toBe(1000 - ackedTotal);
      await broker.stop();
    }, 180_000);
  },
);
