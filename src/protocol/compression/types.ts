// Compression type ids and names as Kafka defines them (the low 3 bits of a record batch's
// attributes, the `compression.type` topic config), and the error every codec raises.

import { DecodeError } from '../primitives/reader.js';

/** Kafka's compression type ids (CompressionType.java). 5..7 are unassigned. */
export const CompressionType = {
  None: 0,
  Gzip: 1,
  Snappy: 2,
  Lz4: 3,
  Zstd: 4,
} as const;
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];

/** Names by id, spelled as in Kafka's `compression.type` config. */
export const COMPRESSION_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CompressionName = (typeof COMPRESSION_NAMES)[number];

export function isCompressionType(id: number): id is CompressionType {
  return Number.isInteger(id) && id >= 0 && id < COMPRESSION_NAMES.length;
}

/** The config name of a compression id; unknown ids raise DecodeError (they arrive off the wire). */
export function compressionName(id: number): CompressionName {
  if (!isCompressionType(id)) throw new DecodeError(`unknown compression type id ${id}`);
  return COMPRESSION_NAMES[id];
}

/** The id for a config name ('none', 'gzip', 'snappy', 'lz4', 'zstd'); undefined if unknown. */
export function compressionTypeFromName(name: string): CompressionType | undefined {
  const i = (COMPRESSION_NAMES as readonly string[]).indexOf(name.toLowerCase());
  return i < 0 ? undefined : (i as CompressionType);
}

/**
 * Why decompression was refused:
 * - 'limit': the output would exceed the caller's cap (decided from headers, before decoding);
 * - 'corrupt': the input is not a valid stream for the codec;
 * - 'unsupported': valid but uses a feature Kafka never writes (dictionaries, dependent frames...).
 */
export type CompressionErrorKind = 'limit' | 'corrupt' | 'unsupported';

/**
 * Raised for any refused or failed decompression. It is a DecodeError, so code that maps decode
 * failures to Kafka's CORRUPT_MESSAGE handles it without knowing about codecs.
 */
export class CompressionError extends DecodeError {
  override name = 'CompressionError';
  readonly codec: CompressionName;
  readonly kind: CompressionErrorKind;

  constructor(
    codec: CompressionName,
    kind: CompressionErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${codec}: ${message}`, options);
    this.codec = codec;
    this.kind = kind;
  }
}

/** Raises CompressionError('limit') when `bytes` exceeds `maxBytes`. */
export function checkLimit(codec: CompressionName, bytes: number, maxBytes: number): void {
  if (bytes > maxBytes) {
    throw new CompressionError(
      codec,
      'limit',
      `output of up to ${bytes} bytes exceeds the limit of ${maxBytes}`,
    );
  }
}
