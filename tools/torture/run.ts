// One torture run end to end: the harness, the checker over the history it wrote, the report.

import { type CheckOptions, check } from './checker.js';
import { Torture, type TortureOptions, type TortureResult } from './harness.js';
import { readHistory } from './history.js';
import { type RunInfo, writeReport } from './report.js';

export async function runTorture(
  options: TortureOptions,
  checkOptions: CheckOptions = {},
): Promise<TortureResult & { check: NonNullable<TortureResult['check']>; table: string }> {
  const torture = new Torture(options);
  // Ctrl-C ends the faults early; the run still quiesces, reads back, checks and reports.
  const onSigint = () => {
    options.log?.('SIGINT: ending the faults early');
    torture.stopEarly();
  };
  process.on('SIGINT', onSigint);
  let result: TortureResult;
  try {
    result = await torture.run();
  } finally {
    process.off('SIGINT', onSigint);
  }
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
