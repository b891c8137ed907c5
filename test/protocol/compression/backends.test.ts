// The codecs must run on their native bindings, not on a silently loaded wasm/JS fallback.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { compressionBackends } from '../../../src/protocol/compression/index.js';
import { checksumBackend, crc32, crc32c } from '../../../src/protocol/records/crc.js';

const require = createRequire(import.meta.url);

describe('native backends', () => {
  it('every codec resolved its .node binding', () => {
    const backends = compressionBackends();
    expect(backends.map((b) => b.name)).toEqual(['none', 'gzip', 'snappy', 'lz4', 'zstd']);
    for (const b of backends.filter((x) => x.name === 'snappy' || x.name === 'lz4' || x.name === 'zstd')) {
      expect(b.native, `${b.name} is native`).toBe(true);
      expect(b.binding).toMatch(/\.node$/);
      expect(existsSync(b.binding as string)).toBe(true);
      // The binding is a real native module in the CommonJS cache, not a .wasm/.cjs fallback.
      expect(require.cache[b.binding as string]).toBeDefined();
    }
    const gzip = backends.find((b) => b.name === 'gzip');
    expect(gzip?.binding).toBe(`zlib ${process.versions.zlib}`);
  });

  it('no wasm fallback of any codec package is loaded', () => {
    const loaded = Object.keys(require.cache);
    expect(loaded.filter((p) => /wasi|wasm32/.test(p) && /snappy|lz4|zstd|crc32/.test(p))).toEqual([]);
  });

  it('checksums run natively and compute the standard check values', () => {
    const backend = checksumBackend();
    expect(backend.native).toBe(true);
    expect(backend.binding).toMatch(/crc32.*\.node$/);
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});
