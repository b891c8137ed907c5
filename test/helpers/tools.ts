// Third-party clients the compat tests drive. A missing client fails the run under CI=true
// (.ci/run installs them) and skips the test elsewhere, saying what to install.

import { spawnSync } from 'node:child_process';

/** Debian's Python: the one that can import Debian's python3-confluent-kafka. */
export const PYTHON = '/usr/bin/python3';

function available(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0;
}

export const hasKcat = available('kcat', ['-V']);
export const hasConfluentKafka = available(PYTHON, ['-c', 'import confluent_kafka']);

/**
 * Throws under CI=true when a client is missing; otherwise reports whether tests may run.
 * Use as `describe.skipIf(!requireClient('kcat', hasKcat))`.
 */
export function requireClient(name: string, present: boolean): boolean {
  if (present) return true;
  const hint = `${name} is not installed (apt-get install ${name === 'kcat' ? 'kcat' : 'python3-confluent-kafka'})`;
  if (process.env.CI === 'true') throw new Error(`${hint}: compat tests cannot run`);
  console.warn(`skipping ${name} compat tests: ${hint}`);
  return false;
}
