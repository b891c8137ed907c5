// kafkajs as an independent encoder/decoder of record batches and legacy message sets, with its
// codec slots filled by pure-JS/wasm implementations written here (none share code with ours):
// snappy = xerial framing around snappyjs (what kafkajs-snappy does), lz4 = lz4js,
// zstd = zstd-codec (wasm), gzip = kafkajs's own (zlib).

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// biome-ignore-start lint/suspicious/noExplicitAny: kafkajs internals are untyped CommonJS.
const kafkajs: any = require('kafkajs');
const snappyjs: any = require('snappyjs');
const lz4js: any = require('lz4js');
const { ZstdCodec }: any = require('zstd-codec');
export const Long: any = require('kafkajs/src/utils/long');
export const KafkajsDecoder: any = require('kafkajs/src/protocol/decoder');
export const kafkajsRecordBatch: any = require('kafkajs/src/protocol/recordBatch/v0').RecordBatch;
export const kafkajsRecord: any = require('kafkajs/src/protocol/recordBatch/record/v0');
export const kafkajsDecodeBatch: (
  decoder: any,
) => Promise<any> = require('kafkajs/src/protocol/recordBatch/v0/decoder');
export const kafkajsMessageSet: any = require('kafkajs/src/protocol/messageSet');
export const kafkajsDecodeMessageSet: (
  decoder: any,
  size?: number,
) => Promise<any[]> = require('kafkajs/src/protocol/messageSet/decoder');
// biome-ignore-end lint/suspicious/noExplicitAny: end of the untyped section

const XERIAL_HEADER = Buffer.from('82534e41505059000000000100000001', 'hex');

function xerialCompress(data: Buffer): Buffer {
  const parts = [XERIAL_HEADER];
  for (let off = 0; off < data.length; off += 32 * 1024) {
    const block = Buffer.from(snappyjs.compress(data.subarray(off, off + 32 * 1024)));
    const len = Buffer.alloc(4);
    len.writeInt32BE(block.length);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

function xerialDecompress(data: Buffer): Buffer {
  if (!data.subarray(0, 8).equals(XERIAL_HEADER.subarray(0, 8)))
    return Buffer.from(snappyjs.uncompress(data));
  const parts: Buffer[] = [];
  let pos = 16;
  while (pos < data.length) {
    const len = data.readInt32BE(pos);
    parts.push(Buffer.from(snappyjs.uncompress(data.subarray(pos + 4, pos + 4 + len))));
    pos += 4 + len;
  }
  return Buffer.concat(parts);
}

interface ZstdApi {
  Simple: new () => { compress(d: Uint8Array, level?: number): Uint8Array };
  Streaming: new () => { decompress(d: Uint8Array): Uint8Array };
}

let installed: Promise<void> | undefined;

/** Registers the codecs in kafkajs's CompressionCodecs (once per test file). */
export function installKafkajsCodecs(): Promise<void> {
  installed ??= (async () => {
    const zstd: ZstdApi = await new Promise((resolve) => ZstdCodec.run(resolve));
    const { CompressionCodecs, CompressionTypes } = kafkajs;
    const codec = (compress: (b: Buffer) => Buffer, decompress: (b: Buffer) => Buffer) => () => ({
      compress: async (encoder: { buffer: Buffer }) => compress(encoder.buffer),
      decompress: async (buffer: Buffer) => decompress(buffer),
    });
    CompressionCodecs[CompressionTypes.Snappy] = codec(xerialCompress, xerialDecompress);
    CompressionCodecs[CompressionTypes.LZ4] = codec(
      (b) => Buffer.from(lz4js.compress(b)),
      (b) => Buffer.from(lz4js.decompress(b)),
    );
    CompressionCodecs[CompressionTypes.ZSTD] = codec(
      (b) => Buffer.from(new zstd.Simple().compress(b, 3)),
      (b) => Buffer.from(new zstd.Streaming().decompress(b)),
    );
  })();
  return installed;
}

export interface KafkajsRecordInput {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
  timestamp: number;
}

/** A v2 batch written by kafkajs (as its producer does, produce v3+). */
export async function kafkajsEncodeBatch(
  records: KafkajsRecordInput[],
  opts: { compression: number; baseOffset?: bigint; transactional?: boolean; producerId?: bigint },
): Promise<Buffer> {
  await installKafkajsCodecs();
  const firstTimestamp = records.length > 0 ? records[0].timestamp : Date.now();
  const maxTimestamp = records.reduce((m, r) => Math.max(m, r.timestamp), -1);
  const encoded = records.map((r, i) =>
    kafkajsRecord({
      offsetDelta: i,
      timestampDelta: r.timestamp - firstTimestamp,
      key: r.key,
      value: r.value,
      headers: r.headers,
    }),
  );
  const batch = await kafkajsRecordBatch({
    compression: opts.compression,
    records: encoded,
    firstOffset: Long.fromString(String(opts.baseOffset ?? 0n)),
    firstTimestamp,
    maxTimestamp,
    lastOffsetDelta: records.length - 1,
    transactional: opts.transactional ?? false,
    producerId: Long.fromString(String(opts.producerId ?? -1n)),
    producerEpoch: 0,
    firstSequence: 0,
  });
  return Buffer.from(batch.buffer);
}

/** kafkajs's reading of one v2 batch. */
// biome-ignore lint/suspicious/noExplicitAny: kafkajs's decoded batch is untyped.
export async function kafkajsDecodeRecordBatch(batch: Buffer): Promise<any> {
  await installKafkajsCodecs();
  return kafkajsDecodeBatch(new KafkajsDecoder(batch));
}

/** Compresses what a kafkajs Encoder holds with kafkajs's codec for `type`. */
export async function kafkajsCompress(type: number, encoder: { buffer: Buffer }): Promise<Buffer> {
  await installKafkajsCodecs();
  return kafkajs.CompressionCodecs[type]().compress(encoder);
}
