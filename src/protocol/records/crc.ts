// The two checksums of Kafka's record formats, from @node-rs/crc32 (SIMD, native):
// CRC-32C (Castagnoli) for v2 record batches, plain CRC-32 (IEEE) for magic 0/1 messages.

import { createRequire } from 'node:module';
import { nativeBindingOf } from '../compression/native.js';

const require = createRequire(import.meta.url);
const crcNative = require('@node-rs/crc32') as typeof import('@node-rs/crc32');

/** CRC-32C of `data`, as an unsigned 32-bit number. */
export const crc32c: (data: Uint8Array) => number = crcNative.crc32c;

/** CRC-32 (IEEE, java.util.zip.CRC32) of `data`, as an unsigned 32-bit number. */
export const crc32: (data: Uint8Array) => number = crcNative.crc32;

/** Path of the native binding the checksums run on, or null if a fallback loaded. */
export function checksumBackend(): { package: string; native: boolean; binding: string | null } {
  const binding = nativeBindingOf(crcNative.crc32c);
  return { package: '@node-rs/crc32', native: binding !== null, binding };
}
