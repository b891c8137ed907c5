// gzip (Kafka compression type 1) over Node's built-in zlib.
//
// The cap is zlib's maxOutputLength: inflation stops and throws as soon as the output would pass
// it, so a bomb never allocates more than the cap. Concatenated gzip members are decoded as one
// stream, as Java's GZIPInputStream does.

import { constants } from 'node:buffer';
import { createRequire } from 'node:module';
import { CompressionError } from './types.js';

// zlib loads on first use, like the native codecs (native.ts): a broker that never sees a gzip
// batch starts without it.
const require = createRequire(import.meta.url);
let zlibModule: typeof import('node:zlib') | undefined;
const zlib = () => (zlibModule ??= require('node:zlib') as typeof import('node:zlib'));

/** Java's GZIPOutputStream uses Deflater.DEFAULT_COMPRESSION, i.e. level 6. */
export const GZIP_DEFAULT_LEVEL = 6;

export function gzipCompress(data: Buffer, level = GZIP_DEFAULT_LEVEL): Buffer {
  return zlib().gzipSync(data, { level });
}

export function gzipDecompress(data: Buffer, maxBytes: number): Buffer {
  try {
    // maxOutputLength must lie in [1, buffer.constants.MAX_LENGTH]; a cap of 0 is then enforced
    // by the length check below.
    const maxOutputLength = Math.min(Math.max(1, maxBytes), constants.MAX_LENGTH);
    const out = zlib().gunzipSync(data, { maxOutputLength });
    if (out.length > maxBytes) throw limitError(maxBytes);
    return out;
  } catch (e) {
    if (e instanceof CompressionError) throw e;
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw limitError(maxBytes);
    throw new CompressionError('gzip', 'corrupt', (e as Error).message, { cause: e });
  }
}

function limitError(maxBytes: number): CompressionError {
  return new CompressionError('gzip', 'limit', `output exceeds the limit of ${maxBytes} bytes`);
}
