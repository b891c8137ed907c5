// One torture run end to end: the harness, the checker over the history it wrote, the report.

import { type CheckOptions, check } from './checker.js';
import { Torture, type TortureOptions, type TortureResult } from './harness.js';
import { readHistory } from './history.js';
import { type RunInfo, writeReport } from './report.js';

export async function runTorture(
  options: TortureOptions,
  checkOptions: CheckOptions = {},
): Promise<TortureResult & { check: NonNullable<TortureResult['check']>; table: string }> {
  const result = await new Torture(options).run();
  const ops = readHistory(result.historyPath);
  const verdict = check(ops, checkOptions);
  const info: RunInfo = {
    seed: options.seed,
    durationMs: options.durationMs,
    nodes: options.nodes ?? 1,
    faults: options.faults,
    ...(options.ackBeforeFsyncMs
      ? { broken: `fsync acknowledged ${options.ackBeforeFsyncMs} ms before it runs` }
      : {}),
  };
  const table = writeReport(options.outDir, info, result, verdict, ops);
  return { ...result, check: verdict, table };
}
