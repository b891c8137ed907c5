// Kafka's record compression: one entry point over the per-codec files (gzip.ts, snappy.ts,
// lz4.ts, zstd.ts). Sans-IO and synchronous; every decompression takes a cap on its output that
// is enforced before the output is allocated.

import { DecodeError } from '../primitives/reader.js';
import { EncodeError } from '../primitives/writer.js';
import { gzipCompress, gzipDecompress } from './gzip.js';
import { lz4Compress, lz4Decompress } from './lz4.js';
import { snappyCompress, snappyDecompress } from './snappy.js';
import { CompressionType, checkLimit } from './types.js';
import { zstdCompress, zstdDecompress } from './zstd.js';

export { GZIP_DEFAULT_LEVEL } from './gzip.js';
export { repairLegacyLz4HeaderChecksum } from './lz4.js';
export { type CompressionBackend, compressionBackends } from './native.js';
export { isXerialFramed, snappyCompressRaw } from './snappy.js';
export {
  COMPRESSION_NAMES,
  CompressionError,
  type CompressionErrorKind,
  type CompressionName,
  CompressionType,
  compressionName,
  compressionTypeFromName,
  isCompressionType,
} from './types.js';
export { ZSTD_DEFAULT_LEVEL, zstdOutputBound } from './zstd.js';

/**
 * Compresses `data` as a record batch's records section. `level` applies to gzip and zstd
 * (Kafka's compression.gzip.level / compression.zstd.level); snappy and lz4 have no levels here.
 * Type None returns `data` itself.
 */
export function compress(type: CompressionType, data: Buffer, level?: number): Buffer {
  switch (type) {
    case CompressionType.None:
      return data;
    case CompressionType.Gzip:
      return gzipCompress(data, level);
    case CompressionType.Snappy:
      return snappyCompress(data);
    case CompressionType.Lz4:
      return lz4Compress(data);
    case CompressionType.Zstd:
      return zstdCompress(data, level);
    default:
      throw new EncodeError(`unknown compression type ${type as number}`);
  }
}

/**
 * Decompresses `data`, refusing with CompressionError('limit') when the output could exceed
 * `maxBytes`, decided from the stream's headers before the output is allocated. Corrupt input
 * raises CompressionError('corrupt'); an unknown type id raises DecodeError. Type None returns
 * `data` itself (still subject to the cap).
 */
export function decompress(type: number, data: Buffer, maxBytes: number): Buffer {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`invalid maxBytes ${maxBytes}`);
  switch (type) {
    case CompressionType.None:
      checkLimit('none', data.length, maxBytes);
      return data;
    case CompressionType.Gzip:
      return gzipDecompress(data, maxBytes);
    case CompressionType.Snappy:
      return snappyDecompress(data, maxBytes);
    case CompressionType.Lz4:
      return lz4Decompress(data, maxBytes);
    case CompressionType.Zstd:
      return zstdDecompress(data, maxBytes);
    default:
      throw new DecodeError(`unknown compression type id ${type}`);
  }
}
