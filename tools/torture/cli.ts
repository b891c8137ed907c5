// `npm run torture -- [options]`: one torture run (see docs/RELIABILITY.md).
//
//   --seed N            the fault schedule's seed (default: the time)
//   --duration S        seconds of faults and load (default 60)
//   --faults LIST       comma-separated: kill,pause,lose-unsynced,disk-full,partition (default all)
//   --nodes N           Samsa nodes (default 1)
//   --out DIR           output directory (default torture-runs/<seed>-<date>)
//   --rate N            records a second per producer (default 40)
//   --broken-ack-ms N   run the deliberately broken storage (fsync acknowledged N ms early)
//   --check HISTORY     only check an existing history file and print the verdict
// Exit status: 0 when the history is valid, 1 when the checker found anomalies.

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { check } from './checker.js';
import { FAULTS, type Fault } from './harness.js';
import { readHistory } from './history.js';
import { runTorture } from './run.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      duration: { type: 'string', default: '60' },
      faults: { type: 'string', default: FAULTS.join(',') },
      nodes: { type: 'string', default: '1' },
      out: { type: 'string' },
      rate: { type: 'string', default: '40' },
      'broken-ack-ms': { type: 'string' },
      check: { type: 'string' },
    },
  });
  if (values.check) {
    const result = check(readHistory(values.check));
    process.stdout.write(
      `${JSON.stringify({ valid: result.valid, counts: result.counts, stats: result.stats, allowed: result.allowed }, null, 2)}\n`,
    );
    for (const a of result.anomalies) process.stdout.write(`${a.kind}: ${a.message}\n`);
    return result.valid ? 0 : 1;
  }
  const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 1_000_000;
  const faults = values.faults.split(',').filter((f) => f !== '') as Fault[];
  for (const f of faults)
    if (!FAULTS.includes(f)) throw new Error(`unknown fault ${f} (known: ${FAULTS.join(', ')})`);
  const outDir =
    values.out ?? join(ROOT, 'torture-runs', `${seed}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const result = await runTorture({
    outDir,
    seed,
    durationMs: Number(values.duration) * 1000,
    faults,
    nodes: Number(values.nodes),
    rate: Number(values.rate),
    brokerMain: join(ROOT, 'bin', 'samsa.cjs'),
    compiledDir: import.meta.dirname,
    ...(values['broken-ack-ms'] ? { ackBeforeFsyncMs: Number(values['broken-ack-ms']) } : {}),
    log: (line) => process.stderr.write(`[torture] ${line}\n`),
  });
  process.stdout.write(result.table);
  process.stdout.write(`history, summary and timeline in ${outDir}\n`);
  for (const a of result.check.anomalies.slice(0, 20)) process.stdout.write(`${a.kind}: ${a.message}\n`);
  return result.check.valid ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
    process.exit(2);
  },
);
