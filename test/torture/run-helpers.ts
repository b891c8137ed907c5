// Shared by the torture runs under vitest: the broker and tools compiled as test/helpers/
// broker-process.ts compiles them (a private build, never dist/), and whether a tmpfs can be
// mounted here (the disk-full fault needs one per node).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildBroker } from '../helpers/broker-process.js';

/** The bundled broker CLI and the directory of the compiled torture tools (worker, fsync journal). */
export async function buildForTorture(): Promise<{ brokerMain: string; compiledDir: string }> {
  const brokerMain = await buildBroker();
  const root = dirname(dirname(brokerMain));
  const compiledDir = join(root, 'tools', 'torture');
  if (!existsSync(join(compiledDir, 'worker.js')))
    throw new Error(`no compiled torture tools in ${compiledDir}`);
  // The build lives under node_modules/, where Node looks for no package scope: without this file
  // the compiled ES modules (worker.js, the --import preload) would load as CommonJS.
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
  return { brokerMain, compiledDir };
}

/** Whether this process may mount a tmpfs (root on Linux). */
export function canMountTmpfs(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-tmpfs-probe-'));
  try {
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]).status !== 0) return false;
    spawnSync('umount', [dir]);
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
