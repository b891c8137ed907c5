// Codec benchmark: a Produce request carrying 1 MiB of 100-byte records, encoded and decoded,
// and CRC32C throughput; each beside a baseline measured in the same run (memcpy of the same
// bytes; a pure-JS CRC32C) because these machines are noisy.
//
//   npm run bench:codec            (prints a Markdown table for BENCHMARKS.md)

import { cpus } from 'node:os';
import { CompressionType } from '../src/protocol/compression/types.js';
import { ProduceRequest } from '../src/protocol/generated/index.js';
import {
  checksumBackend,
  crc32c,
  decodeRecordBatch,
  encodeRecordBatch,
} from '../src/protocol/records/index.js';

const RECORD_BYTES = 100;
const TOTAL = 1 << 20;
const COUNT = Math.floor(TOTAL / RECORD_BYTES);

const value = Buffer.alloc(RECORD_BYTES - 10, 'v');
const records = Array.from({ length: COUNT }, (_, i) => ({
  key: Buffer.from(`key-${String(i).padStart(6, '0')}`),
  value,
  timestamp: 1_700_000_000_000 + i,
}));

/** Runs fn until about `ms` has passed (after a warm-up) and returns calls per second. */
function rate(fn: () => void, ms = 1500): number {
  const warm = performance.now();
  while (performance.now() - warm < 300) fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    fn();
    n++;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

// A table-driven CRC32C in plain JavaScript: the baseline the native package must beat.
const TABLE = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  TABLE[i] = c;
}
function crc32cJs(buf: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < buf.length; i++) c = TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const rows: [string, string, string][] = [];
const mb = (perSec: number, bytes: number) => `${((perSec * bytes) / 1e6).toFixed(0)} MB/s`;
const recs = (perSec: number) => `${((perSec * COUNT) / 1e6).toFixed(2)} M records/s`;

// Baseline: copying the request's bytes once.
const sample = encodeRecordBatch(records);
const copyTarget = Buffer.allocUnsafe(sample.length);
const copyRate = rate(() => sample.copy(copyTarget));
rows.push(['baseline: memcpy of the 1 MiB batch', mb(copyRate, sample.length), '']);

for (const [name, compression] of [
  ['none', CompressionType.None],
  ['lz4', CompressionType.Lz4],
  ['zstd', CompressionType.Zstd],
] as const) {
  const batch = encodeRecordBatch(records, { compression });
  const request: ProduceRequest = {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [{ name: 'bench', partitionData: [{ index: 0, records: batch }] }],
  };
  const encoded = ProduceRequest.encode(request, 9);
  const build = rate(() => encodeRecordBatch(records, { compression }));
  rows.push([`build batch (${name})`, recs(build), mb(build, COUNT * RECORD_BYTES)]);
  const enc = rate(() => ProduceRequest.encode(request, 9));
  rows.push([`encode Produce v9 request (${name})`, `${enc.toFixed(0)} requests/s`, mb(enc, encoded.length)]);
  const dec = rate(() => {
    const r = ProduceRequest.decode(encoded, 9);
    decodeRecordBatch(r.topicData[0].partitionData[0].records!, { maxUncompressedBytes: 64 << 20 });
  });
  rows.push([`decode Produce v9 request + records (${name})`, recs(dec), mb(dec, encoded.length)]);
}

const crcNative = rate(() => crc32c(sample));
const crcJs = rate(() => crc32cJs(sample), 1000);
rows.push([
  `CRC32C, ${checksumBackend().package} (native: ${checksumBackend().native})`,
  mb(crcNative, sample.length),
  '',
]);
rows.push(['baseline: CRC32C in plain JavaScript', mb(crcJs, sample.length), '']);

console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, node ${process.version}, ${new Date().toISOString()}`,
);
console.log(
  `workload: Produce request with ${COUNT} records of ${RECORD_BYTES} bytes (${sample.length} bytes uncompressed batch)\n`,
);
console.log('| measurement | rate | bytes |');
console.log('|---|---|---|');
for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
