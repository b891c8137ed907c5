// Loads the native codec packages and reports which implementation each codec runs on.
//
// The packages are napi-rs builds whose loaders silently fall back to a WASI/wasm build when the
// platform .node file is missing. That would still work, only several times slower, so a missing
// native build must be visible: compressionBackends() finds, for each package, the .node module
// in the CommonJS cache whose exports are the very functions we call. createRequire (not `import`)
// is used so that the modules go through that cache and load synchronously.
//
// Each package loads on first use (a broker that never sees a zstd batch never loads zstd): the
// four together take tens of milliseconds to load, a large share of the broker's start time.

import { createRequire } from 'node:module';
import { type CompressionName, CompressionType } from './types.js';

const require = createRequire(import.meta.url);

/** A package required the first time it is asked for. */
function lazy<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= require(name) as T;
    return loaded;
  };
}

export const snappyNative = lazy<typeof import('snappy')>('snappy');
export const lz4Native = lazy<typeof import('lz4-napi')>('lz4-napi');
export const zstdNative = lazy<typeof import('@toondepauw/node-zstd')>('@toondepauw/node-zstd');
const xxhashNative = lazy<typeof import('@node-rs/xxhash')>('@node-rs/xxhash');

/** XXH32, which the LZ4 frame format uses for its header checksum byte. */
export function xxhash32(buf: Uint8Array, seed = 0): number {
  return xxhashNative().xxh32(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), seed);
}

export interface CompressionBackend {
  type: CompressionType;
  name: CompressionName;
  /** The npm package (or 'node:zlib' for gzip). */
  package: string;
  /** True when the codec runs native code (a .node binding, or zlib inside Node). */
  native: boolean;
  /** Path of the loaded .node binding; for gzip, the zlib version built into Node. */
  binding: string | null;
}

/**
 * Path of the loaded .node module that exports `fn` (identity, not name: a wasm fallback would
 * export a different function object), or null when the function does not come from one.
 */
export function nativeBindingOf(fn: unknown): string | null {
  for (const [path, mod] of Object.entries(require.cache)) {
    if (!path.endsWith('.node') || mod === undefined) continue;
    const exports = mod.exports as Record<string, unknown> | undefined;
    if (exports === undefined || exports === null) continue;
    for (const key of Object.keys(exports)) {
      if (exports[key] === fn) return path;
    }
  }
  return null;
}

function backend(type: CompressionType, name: CompressionName, pkg: string, fn: unknown): CompressionBackend {
  const binding = nativeBindingOf(fn);
  return { type, name, package: pkg, native: binding !== null, binding };
}

/** What each codec is running on; `native: false` for any codec means a slow fallback loaded. */
export function compressionBackends(): CompressionBackend[] {
  return [
    { type: CompressionType.None, name: 'none', package: '', native: true, binding: null },
    {
      type: CompressionType.Gzip,
      name: 'gzip',
      package: 'node:zlib',
      native: true,
      binding: `zlib ${process.versions.zlib}`,
    },
    backend(CompressionType.Snappy, 'snappy', 'snappy', snappyNative().uncompressSync),
    backend(CompressionType.Lz4, 'lz4', 'lz4-napi', lz4Native().decompressFrameSync),
    backend(CompressionType.Zstd, 'zstd', '@toondepauw/node-zstd', zstdNative().Decoder),
  ];
}
