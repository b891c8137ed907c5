// A real crash: a child process (fixtures/crash-writer.ts, compiled with the project's tsc) appends
// with waitDurable and prints every offset acknowledged as durable; the test SIGKILLs it
// mid-stream, reopens the log and checks that every printed offset is there, in order, without
// gaps. Two rounds on the same directory (the second starts on a recovered log). In page-cache
// mode acknowledgements need no fsync, yet must survive a process crash (the page cache does).

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectContiguous, openLog, readAll, tempDir } from './helpers.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
let buildDir = '';
let script = '';

beforeAll(async () => {
  buildDir = await mkdtemp(join(tmpdir(), 'samsa-crash-build-'));
  const fixture = join(repo, 'test/storage/fixtures/crash-writer.ts');
  const tsconfig = {
    extends: join(repo, 'tsconfig.json'),
    compilerOptions: {
      outDir: join(buildDir, 'out'),
      rootDir: repo,
      noEmit: false,
      declaration: false,
      sourceMap: false,
      typeRoots: [join(repo, 'node_modules/@types')],
    },
    include: [],
    files: [fixture],
  };
  await writeFile(join(buildDir, 'tsconfig.json'), JSON.stringify(tsconfig));
  // ESM output, and the project's node_modules for the native packages (crc32, codecs).
  await writeFile(join(buildDir, 'package.json'), '{"type":"module"}');
  await symlink(join(repo, 'node_modules'), join(buildDir, 'node_modules'));
  await mkdir(join(buildDir, 'out'));
  const tsc = join(repo, 'node_modules/typescript/bin/tsc');
  // Type errors elsewhere in the tree must not stop the emit this test needs.
  await promisify(execFile)(process.execPath, [tsc, '-p', join(buildDir, 'tsconfig.json')]).catch(() => {});
  script = join(buildDir, 'out/test/storage/fixtures/crash-writer.js');
}, 120_000);

afterAll(async () => {
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
});

/** Runs the writer until it has acknowledged at least `minAcks` appends, then SIGKILLs it. */
async function runAndKill(dir: string, minAcks: number, mode: string): Promise<number[]> {
  const child: ChildProcess = spawn(process.execPath, [script, dir, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acked: number[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (/^\d+$/.test(l)) acked.push(Number(l));
      if (acked.length >= minAcks && child.exitCode === null && !child.killed) {
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`writer exited with ${code}: ${stderr}`));
    });
  });
  return acked;
}

describe.each(['durable', 'page-cache'])('kill -9 while appending (%s)', (mode) => {
  it('every offset acknowledged as durable survives, in order, without gaps', async () => {
    const dir = join(await tempDir(), 'crash-0');
    let lastAcked = -1;
    for (let round = 0; round < 2; round++) {
      const acked = await runAndKill(dir, 3000, mode);
      expect(acked.length).toBeGreaterThanOrEqual(3000);
      // Acknowledgements come in offset order.
      for (let i = 1; i < acked.length; i++) expect(acked[i]).toBeGreaterThan(acked[i - 1]);
      expect(acked[0]).toBeGreaterThan(lastAcked);
      lastAcked = acked[acked.length - 1];

      const log = await openLog(dir);
      expect(Number(log.logEndOffset)).toBeGreaterThan(lastAcked);
      const records = await readAll(log);
      // Offsets 0..LEO-1, each record's value naming its own offset: nothing lost or reordered.
      expectContiguous(records, 0, Number(log.logEndOffset));
      expect(log.numberOfSegments).toBeGreaterThan(1);
      await log.close();
    }
  });
});
