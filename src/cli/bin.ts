// What bin/samsa.cjs runs: the CLI as scripts/bundle.ts bundles it (samsa.cjs and its chunks),
// compiled through V8's code cache. This file is bundled too, as dist/cli/bin.cjs beside them,
// and runs from there (CommonJS: Node then never starts its ES module loader).
//
// Why: `samsa start` must answer within 200 ms of its spawn (issue 3), and Node 20 has no compile
// cache of its own (module.enableCompileCache arrives in Node 22). Each bundled file is compiled
// here with vm.Script and the cached data of an earlier run (`<file>.v8cache`), which skips
// parsing and compiling what that run compiled. V8 rejects a cache made by another V8 or for
// other source, and the file is then compiled as usual. A cache that was missing or rejected is
// written again (atomically, best effort: a read-only install just runs uncached) a second after
// its file loaded, with every function compiled by then: the start path, and the first requests.
// Not at the exit of a long run: V8 drops the bytecode of functions unused for a while (bytecode
// flushing), so such a cache lacks what a start compiles, and starts from it took 235 ms against
// 195 ms. A process that exits sooner writes them at exit. `npm run build` does one such run.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const cliDir = dirname(fileURLToPath(import.meta.url));

type CompiledModule = { exports: unknown; filename: string };
const extensions = (
  Module as unknown as { _extensions: Record<string, (m: CompiledModule, f: string) => void> }
)._extensions;
/** Caches still to write: missing or rejected at load. */
const stale = new Set<{ file: string; script: vm.Script }>();
const WRITE_DELAY_MS = 1000;

function writeCache(entry: { file: string; script: vm.Script }): void {
  stale.delete(entry);
  try {
    const tmp = `${entry.file}.${process.pid}.tmp`;
    writeFileSync(tmp, entry.script.createCachedData());
    renameSync(tmp, entry.file);
  } catch {
    // best effort (read-only install, full disk): the next start compiles as usual
  }
}

const plain = extensions['.cjs'] ?? extensions['.js'];
extensions['.cjs'] = (module, filename) => {
  if (!filename.startsWith(cliDir + sep)) {
    plain(module, filename);
    return;
  }
  const cacheFile = `${filename}.v8cache`;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // no cache yet: compiled as usual, and cached soon after
  }
  // latin1: the bundle is ASCII (scripts/bundle.ts checks), and a one-byte read is the cheaper.
  const script = new vm.Script(Module.wrap(readFileSync(filename, 'latin1')), { filename, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    const entry = { file: cacheFile, script };
    stale.add(entry);
    setTimeout(() => writeCache(entry), WRITE_DELAY_MS).unref();
  }
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(filename), module, filename, dirname(filename));
};

process.once('exit', () => {
  for (const entry of [...stale]) writeCache(entry);
});

createRequire(import.meta.url)(join(cliDir, 'samsa.cjs'));
