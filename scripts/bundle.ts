// Bundles the compiled CLI (dist/src/cli/main.js) into dist/cli/samsa.cjs and its chunks, and
// src/cli/bin.ts into dist/cli/bin.cjs, which bin/samsa.cjs runs (it loads the others through
// V8's code cache); then runs the broker once so that the cache is warm for the first real start.
//
// Why: `samsa start` must answer within 200 ms of its spawn (issue 3). Loading ~200 separate ES
// and CommonJS modules (resolution, a file read and a compile each) took more than half of that;
// one bundle with a chunk per lazily loaded part (each request handler, the client) takes less,
// and CommonJS because Node 20 can give a code cache to a vm.Script but not to an ES module. The
// native packages stay outside the bundle (their loaders pick the binary for the platform), and
// so do Node's built-ins. The tests that spawn a broker process (test/helpers/broker-process.ts)
// bundle their own build the same way, so the crash and restart tests run what ships.
//
//   node dist/scripts/bundle.js        (part of `npm run build`)

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Plugin, rolldown } from 'rolldown';

const NATIVE = ['@node-rs/crc32', '@node-rs/xxhash', 'snappy', 'lz4-napi', '@toondepauw/node-zstd'];

/**
 * Built-ins that dependencies require when their module loads but use only on paths a broker
 * never takes at start: pino's sonic-boom and thread-stream call assert on misuse. Each is
 * required on first use instead, through a proxy: about 1 ms of start each on this machine (issue
 * 3's 200 ms goal). Not child_process (commander's): net's listen loads it anyway, via cluster;
 * nor worker_threads, which pino destructures as it loads.
 */
const LAZY_BUILTINS = new Set(['assert']);

function lazyBuiltins(): Plugin {
  const names = [...LAZY_BUILTINS].join('|');
  const requireCall = new RegExp(`require\\((['"])(?:node:)?(${names})\\1\\)`, 'g');
  const lazyId = '\0lazy-builtin:';
  return {
    name: 'samsa-lazy-builtins',
    // rolldown settles `node:` ids before any resolveId hook sees them, so the calls themselves are
    // renamed (in dependencies only: Samsa's own code says what it needs where it needs it).
    transform(code, id) {
      if (!id.includes('/node_modules/')) return null;
      const renamed = code.replace(
        requireCall,
        (_, _q, name: string) => `require("samsa-lazy-builtin:${name}")`,
      );
      return renamed === code ? null : renamed;
    },
    resolveId(source) {
      return source.startsWith('samsa-lazy-builtin:')
        ? { id: `${lazyId}${source.slice('samsa-lazy-builtin:'.length)}`, moduleSideEffects: false }
        : null;
    },
    load(id) {
      if (!id.startsWith(lazyId)) return null;
      const name = id.slice(lazyId.length);
      // A function target so that a callable module (assert) stays callable.
      return `let real;
const load = () => (real ??= require("node:${name}"));
module.exports = new Proxy(function () {}, {
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
  apply: (_, self, args) => Reflect.apply(load(), self, args),
  construct: (_, args) => Reflect.construct(load(), args),
});
`;
    },
  };
}

/**
 * Bundles `<compiled>/src/cli/main.js` into `<compiled>/cli/` and `<compiled>/src/cli/bin.js`
 * into `<compiled>/cli/bin.cjs`; returns the path of the entry to run, that bin.cjs.
 */
export async function bundleCli(compiled: string): Promise<string> {
  const out = join(compiled, 'cli');
  rmSync(out, { recursive: true, force: true });
  const bundle = await rolldown({
    input: { samsa: join(compiled, 'src/cli/main.js') },
    platform: 'node',
    external: (id) => id.startsWith('node:') || NATIVE.some((n) => id === n || id.startsWith(`${n}/`)),
    plugins: [lazyBuiltins()],
    logLevel: 'warn',
  });
  try {
    const { output } = await bundle.write({
      dir: out,
      format: 'cjs',
      entryFileNames: '[name].cjs',
      chunkFileNames: '[name]-[hash].cjs',
      // Smaller and ASCII-only source reads and compiles faster (an ASCII file is read as latin1
      // into a one-byte string): no comments, non-ASCII escaped. Names and lines stay as they are.
      comments: false,
      minify: { compress: false, mangle: false, codegen: { removeWhitespace: false, asciiOnly: true } },
    });
    // bin.ts reads the chunks as latin1, which is only right for ASCII.
    for (const chunk of output) {
      const text = chunk.type === 'chunk' ? chunk.code : String(chunk.source);
      const at = text.search(/[^\p{ASCII}]/u);
      if (at >= 0) throw new Error(`${chunk.fileName}: non-ASCII at ${at}: ${text.slice(at - 40, at + 40)}`);
    }
  } finally {
    await bundle.close();
  }
  // The loader on its own: nothing in it may go through itself.
  const bin = await rolldown({
    input: { bin: join(compiled, 'src/cli/bin.js') },
    platform: 'node',
    external: (id) => id.startsWith('node:'),
    logLevel: 'warn',
  });
  try {
    await bin.write({ dir: out, format: 'cjs', entryFileNames: '[name].cjs', comments: false });
  } finally {
    await bin.close();
  }
  return join(out, 'bin.cjs');
}

/** Starts the bundled broker on a scratch directory and stops it cleanly: bin.ts caches the code. */
export async function warmCodeCache(entry: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-warm-'));
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        // The HTTP listener on a free port: its code is cached too, and 9644 may be taken.
        [
          entry,
          'start',
          '--listeners',
          'PLAINTEXT://127.0.0.1:0',
          '--log-dirs',
          dir,
          '-o',
          'http.listeners=http://127.0.0.1:0',
        ],
        { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SAMSA_LOG_LEVEL: 'info' } },
      );
      // A broker that never says it listens must not hang `npm ci`.
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        if (out.includes('listening')) child.kill('SIGTERM');
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (code === 0 || signal === 'SIGTERM') resolve();
        else reject(new Error(`warm-up broker exited with ${code ?? signal}`));
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const entry = await bundleCli(join(dirname(fileURLToPath(import.meta.url)), '../..', 'dist'));
  // The cache only speeds the start up (the first clean stop writes it otherwise): a failed
  // warm-up is reported, not fatal to the build.
  await warmCodeCache(entry).catch((e: unknown) => {
    console.warn(`bundle: the code cache was not warmed: ${(e as Error).message}`);
  });
}
