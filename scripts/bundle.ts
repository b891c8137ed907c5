// Bundles the compiled CLI (dist/src/cli/main.js) into dist/cli/, which bin/samsa.js runs.
//
// Why: `samsa start` must answer within 200 ms of its spawn (issue 3). Loading ~200 separate ES
// and CommonJS modules (resolution, a file read and a compile each) took more than half of that;
// one bundle with a chunk per lazily loaded part (each request handler, the client) takes about
// 30% less from spawn to the first answer. The native packages stay outside the bundle (their
// loaders pick the binary for the platform), and so do Node's built-ins. The tests that spawn a
// broker process (test/helpers/broker-process.ts) bundle their own build the same way, so the
// crash and restart tests run what ships.
//
//   node dist/scripts/bundle.js        (part of `npm run build`)

import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const NATIVE = ['@node-rs/crc32', '@node-rs/xxhash', 'snappy', 'lz4-napi', '@toondepauw/node-zstd'];

/** Bundles `<compiled>/src/cli/main.js` into `<compiled>/cli/samsa.js` (and chunks); returns that path. */
export async function bundleCli(compiled: string): Promise<string> {
  const out = join(compiled, 'cli');
  rmSync(out, { recursive: true, force: true });
  const bundle = await rolldown({
    input: { samsa: join(compiled, 'src/cli/main.js') },
    platform: 'node',
    external: (id) => id.startsWith('node:') || NATIVE.some((n) => id === n || id.startsWith(`${n}/`)),
    logLevel: 'warn',
  });
  try {
    await bundle.write({
      dir: out,
      format: 'esm',
      entryFileNames: '[name].js',
      chunkFileNames: '[name]-[hash].js',
    });
  } finally {
    await bundle.close();
  }
  return join(out, 'samsa.js');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundleCli(join(dirname(fileURLToPath(import.meta.url)), '../..', 'dist'));
}
