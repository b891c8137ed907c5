// Topic-level compression.type (Kafka's BrokerCompressionType): unless it is "producer", every
// batch is stored in the topic's codec, re-encoded when the producer used another one. Records,
// timestamps, headers and the producer fields (id, epoch, base sequence, transactional flag) carry
// over; the CRC is recomputed by the encoder. Compression levels come from the topic config.

import { CompressionType, compressionTypeFromName } from '../protocol/compression/types.js';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordBatchHeader,
  TimestampType,
} from '../protocol/records/index.js';

/** The codec a topic stores, or null to keep what the producer sent. */
export function targetCompression(topicCompressionType: string): CompressionType | null {
  if (topicCompressionType === 'producer') return null;
  if (topicCompressionType === 'uncompressed') return CompressionType.None;
  return compressionTypeFromName(topicCompressionType) ?? null;
}

export interface Levels {
  gzip: number;
  zstd: number;
}

/** Re-encodes a validated batch in `target`, or returns it unchanged when it already uses it. */
export function recompress(
  batch: Buffer,
  header: RecordBatchHeader,
  target: CompressionType,
  levels: Levels,
  maxUncompressedBytes: number,
): Buffer {
  if (header.compression === target) return batch;
  const decoded = decodeRecordBatch(batch, { maxUncompressedBytes, verifyCrc: false });
  const level =
    target === CompressionType.Gzip ? levels.gzip : target === CompressionType.Zstd ? levels.zstd : undefined;
  return encodeRecordBatch(
    decoded.records.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers,
      timestamp: r.timestamp,
      offsetDelta: r.offsetDelta,
    })),
    {
      compression: target,
      compressionLevel: level,
      partitionLeaderEpoch: header.partitionLeaderEpoch,
      timestampType:
        header.timestampType === TimestampType.LogAppendTime
          ? TimestampType.LogAppendTime
          : TimestampType.CreateTime,
      logAppendTime:
        header.timestampType === TimestampType.LogAppendTime ? Number(header.maxTimestamp) : undefined,
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
      isTransactional: header.isTransactional,
      lastOffsetDelta: header.lastOffsetDelta,
    },
  );
}
