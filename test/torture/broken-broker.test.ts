// The checker must catch a broker that acknowledges what is not durable (issue 16): the same
// harness, with the storage layer of the lost-unsynced-writes fault (tools/torture/fsync-journal.ts)
// made to resolve each fsync of a segment 300 ms before it runs, so produce requests are
// acknowledged before their records are on disk. After a SIGKILL the harness drops what no fsync
// covered; acknowledged records go with it, and the checker must report them as lost.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeRun } from '../../tools/torture/harness.js';
import { runTorture } from '../../tools/torture/run.js';
import { removeBrokerBuild } from '../helpers/broker-process.js';
import { hasConfluentKafka, PYTHON, requireClient } from '../helpers/tools.js';
import { buildForTorture } from './run-helpers.js';

describe.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))(
  'torture run, broken broker',
  () => {
    const outDir = mkdtempSync(join(tmpdir(), 'samsa-torture-broken-'));
    afterAll(() => {
      removeBrokerBuild();
      if (process.env.SAMSA_KEEP_TORTURE !== '1') removeRun(outDir);
    });

    it('reports the acknowledged records a broker acking before its fsync lost', async () => {
      const { brokerMain, compiledDir } = await buildForTorture();
      const result = await runTorture({
        outDir,
        seed: 4,
        durationMs: 20_000,
        faults: ['lose-unsynced'],
        quietMs: [1000, 2500],
        brokerMain,
        compiledDir,
        python: PYTHON,
        ackBeforeFsyncMs: 300,
      });
      expect(result.faults.length, result.table).toBeGreaterThan(0);
      expect(result.check.valid, result.table).toBe(false);
      expect(result.check.counts['lost-write'], result.table).toBeGreaterThan(0);
      const lost = result.check.anomalies.find((a) => a.kind === 'lost-write')!;
      // The offending record is named: its value, partition and acknowledged offset.
      expect(lost.details).toMatchObject({
        value: expect.any(String),
        partition: expect.any(String),
        offset: expect.any(Number),
      });
    }, 240_000);
  },
);
