// Down-conversion for Fetch v0-3 (clients before Kafka 0.11, served with
// samsa.legacy.protocol.enable): the v2 batches a partition read returned become magic 0 (Fetch
// v0/v1) or magic 1 (Fetch v2/v3) message sets, batch by batch (protocol/records/convert.ts).
//
// Memory stays bounded as with Kafka's LazyDownConversionRecords (KIP-283): the read itself is
// bounded by the partition's max bytes, each stored batch is decoded and converted on its own and
// dropped before the next, and the converted set stops once it would exceed the larger of the
// bytes read and the first converted batch (at least one batch always goes out, as KIP-74 wants;
// what is left out is fetched by the client's next request from the offset after the last message
// it got). Kafka sends the cut-off message partially; Samsa leaves it out whole, which old clients
// treat alike (a trailing partial message is ignored).

import { CompressionType } from '../protocol/compression/types.js';
import { ATTRIBUTES_OFFSET, downConvertBatch, MAGIC_V2, splitRecordSet } from '../protocol/records/index.js';

export type DownConversion =
  | { ok: true; records: Buffer; convertedBatches: number }
  /** A zstd batch: magic 0/1 has no zstd (Kafka answers UNSUPPORTED_COMPRESSION_TYPE). */
  | { ok: false; zstd: true };

/** The magic a Fetch version reads: 0 for v0/v1, 1 for v2/v3 (null from v4: v2 batches as stored). */
export function fetchMagic(fetchVersion: number): 0 | 1 | null {
  if (fetchVersion >= 4) return null;
  return fetchVersion <= 1 ? 0 : 1;
}

/**
 * Converts the parts of a log read (whole v2 batches, as PartitionLog.read returns them) to
 * `toMagic`, leaving out records below `firstOffset` (the fetch offset, which may fall inside the
 * first batch).
 */
export function downConvertRead(
  parts: readonly Buffer[],
  toMagic: 0 | 1,
  firstOffset: bigint,
  maxUncompressedBytes: number,
): DownConversion {
  const entries = parts.flatMap((p) => splitRecordSet(p).entries);
  // Checked before converting anything, as Kafka checks the whole read.
  for (const e of entries) {
    if (e.magic === MAGIC_V2 && (e.bytes.readInt16BE(ATTRIBUTES_OFFSET) & 0x07) === CompressionType.Zstd) {
      return { ok: false, zstd: true };
    }
  }
  const readBytes = parts.reduce((n, p) => n + p.length, 0);
  const out: Buffer[] = [];
  let size = 0;
  let limit = readBytes;
  for (const e of entries) {
    // A legacy entry (never in Samsa's own logs) of a lower or equal magic passes as it is.
    const converted =
      e.magic <= toMagic
        ? e.bytes
        : e.magic === MAGIC_V2
          ? downConvertBatch(e.bytes, toMagic, { firstOffset, maxUncompressedBytes })
          : null;
    if (converted === null) continue;
    if (out.length === 0) limit = Math.max(limit, converted.length);
    else if (size + converted.length > limit) break;
    out.push(converted);
    size += converted.length;
  }
  return {
    ok: true,
    records: out.length === 1 ? out[0] : Buffer.concat(out, size),
    convertedBatches: out.length,
  };
}
