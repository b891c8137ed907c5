// `samsa perf produce` and `samsa perf consume`: Kafka's kafka-producer-perf-test and
// kafka-consumer-perf-test on Samsa's client.
//
// produce: --num-records records of --record-size bytes (random uppercase letters, one payload
// reused, as Kafka's tool does) sent in send() calls of up to 1000 records, at most --throughput
// records/s (-1: no cap). Latency is per record, from the send() call that carried it to its
// acknowledgement (the client's per-record callback, SendRequest.onRecord). Every
// --reporting-interval ms a progress line (the window's records/s, MB/s, avg and max latency), then
// a summary with the percentiles. Latencies are kept for at most about a million records (every
// n-th record beyond that, as Kafka samples), so percentiles of longer runs are from that sample.
//
// consume: reads --num-records records from the beginning of every partition (or as a member of
// --group, from its committed offsets or the beginning), stopping after --timeout ms without one;
// prints the MB and records read, their rates, the group join time and the fetch time (the whole
// run minus the join), as Kafka's tool does. Fewer records than asked within the timeout is exit 1.
//
// MB is 1024 * 1024 bytes (Kafka's perf tools); bytes are key plus value.

import { type Command, InvalidArgumentError, Option } from 'commander';
import type * as Client from '../client/index.js';
import type { CompressionName } from '../protocol/compression/types.js';
import { type CliIO, plural, table, toJson } from './output.js';

const MB = 1024 * 1024;
const SEND_CHUNK = 1000;
/** send() calls outstanding at once: enough to keep the producer's pipeline full. */
const MAX_OUTSTANDING = 32;
const MAX_SAMPLES = 1_000_000;

export interface PerfProduceOptions {
  topic: string;
  numRecords: number;
  recordSize: number;
  throughput: number;
  acks: string;
  compression: CompressionName;
  lingerMs?: number;
  batchSize?: number;
  keySize?: number;
  reportingInterval: number;
}

export interface ProduceSummary {
  topic: string;
  records: number;
  failed: number;
  bytes: number;
  elapsedMs: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  maxLatencyMs: number;
  p50LatencyMs: number;
  p95LatencyMs: number;
  p99LatencyMs: number;
  p999LatencyMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fixed = (n: number, d = 2) => n.toFixed(d);
/** For JSON: rates and milliseconds to 3 decimals. */
const r3 = (n: number) => Math.round(n * 1000) / 1000;

/** Random uppercase letters (Kafka's perf payload). */
function letters(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = 65 + Math.floor(Math.random() * 26);
  return b;
}

/** The value at quantile q of sorted samples (Kafka's percentiles: index = q * count). */
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export async function perfProduce(
  client: typeof Client,
  clientOpts: Client.ProducerOptions,
  o: PerfProduceOptions,
  io: CliIO,
  json: boolean,
): Promise<ProduceSummary> {
  const acks = o.acks === 'all' ? -1 : (Number(o.acks) as 0 | 1 | -1);
  const producer = new client.Producer({
    ...clientOpts,
    allowAutoTopicCreation: false,
    acks,
    compression: o.compression,
    lingerMs: o.lingerMs,
    batchSize: o.batchSize,
  });
  // Progress lines go with the results on stdout, or to stderr when stdout carries JSON.
  const progress = json ? io.stderr : io.stdout;
  const payload = letters(o.recordSize);
  const recordBytes = o.recordSize + (o.keySize ?? 0);
  const stride = Math.max(1, Math.ceil(o.numRecords / MAX_SAMPLES));
  const samples = new Float64Array(Math.ceil(o.numRecords / stride));
  let sampled = 0;
  let acked = 0;
  let failed = 0;
  let firstError: unknown;
  let latencySum = 0;
  let latencyMax = 0;
  // The current reporting window.
  let wStart = performance.now();
  let wCount = 0;
  let wLatencySum = 0;
  let wLatencyMax = 0;
  const report = (now: number) => {
    const secs = (now - wStart) / 1000;
    progress.write(
      `${wCount} records sent, ${fixed(wCount / secs, 1)} records/sec (${fixed((wCount * recordBytes) / MB / secs)} MB/sec), ${fixed(wCount ? wLatencySum / wCount : 0, 1)} ms avg latency, ${fixed(wLatencyMax, 1)} ms max latency.\n`,
    );
    wStart = now;
    wCount = 0;
    wLatencySum = 0;
    wLatencyMax = 0;
  };

  let outstanding = 0;
  let slot: (() => void) | null = null;
  const start = performance.now();
  try {
    // Metadata first, so that the first send's latency is not the topic lookup.
    await producer.cluster.waitForTopics([o.topic], clientOpts.maxBlockMs ?? 60_000);
    for (let from = 0; from < o.numRecords; from += SEND_CHUNK) {
      const n = Math.min(SEND_CHUNK, o.numRecords - from);
      if (o.throughput > 0) {
        // Kafka's ThroughputThrottler: wait while ahead of the target rate.
        const due = start + (from / o.throughput) * 1000;
        const ahead = due - performance.now();
        if (ahead > 0) await sleep(ahead);
      }
      while (outstanding >= MAX_OUTSTANDING) await new Promise<void>((r) => (slot = r));
      const messages: Client.ProducerRecord[] = new Array(n);
      for (let i = 0; i < n; i++) {
        messages[i] = {
          key: o.keySize
            ? String(from + i)
                .padStart(o.keySize, '0')
                .slice(-o.keySize)
            : undefined,
          value: payload,
        };
      }
      const sentAt = performance.now();
      outstanding++;
      producer
        .send({
          topic: o.topic,
          messages,
          onRecord: (index, err) => {
            const now = performance.now();
            if (err !== null) {
              failed++;
              firstError ??= err;
              return;
            }
            const latency = now - sentAt;
            acked++;
            latencySum += latency;
            if (latency > latencyMax) latencyMax = latency;
            if ((from + index) % stride === 0 && sampled < samples.length) samples[sampled++] = latency;
            wCount++;
            wLatencySum += latency;
            if (latency > wLatencyMax) wLatencyMax = latency;
            if (now - wStart >= o.reportingInterval) report(now);
          },
        })
        .catch(() => {})
        .finally(() => {
          outstanding--;
          const s = slot;
          slot = null;
          s?.();
        });
    }
    while (outstanding > 0) await new Promise<void>((r) => (slot = r));
  } finally {
    await producer.close({ timeoutMs: 5000 }).catch(() => {});
  }
  const elapsedMs = performance.now() - start;
  const sorted = samples.subarray(0, sampled).sort();
  const secs = elapsedMs / 1000;
  const summary: ProduceSummary = {
    topic: o.topic,
    records: acked,
    failed,
    bytes: acked * recordBytes,
    elapsedMs: Math.round(elapsedMs),
    recordsPerSec: r3(acked / secs),
    mbPerSec: r3((acked * recordBytes) / MB / secs),
    avgLatencyMs: r3(acked ? latencySum / acked : 0),
    maxLatencyMs: r3(latencyMax),
    p50LatencyMs: r3(percentile(sorted, 0.5)),
    p95LatencyMs: r3(percentile(sorted, 0.95)),
    p99LatencyMs: r3(percentile(sorted, 0.99)),
    p999LatencyMs: r3(percentile(sorted, 0.999)),
  };
  if (json) io.stdout.write(`${toJson(summary)}\n`);
  else
    io.stdout.write(
      `${acked} records sent, ${fixed(summary.recordsPerSec, 1)} records/sec (${fixed(summary.mbPerSec)} MB/sec), ` +
        `${fixed(summary.avgLatencyMs)} ms avg latency, ${fixed(summary.maxLatencyMs)} ms max latency, ` +
        `${fixed(summary.p50LatencyMs)} ms 50th, ${fixed(summary.p95LatencyMs)} ms 95th, ` +
        `${fixed(summary.p99LatencyMs)} ms 99th, ${fixed(summary.p999LatencyMs)} ms 99.9th.\n`,
    );
  if (failed > 0) {
    const why = firstError instanceof Error ? firstError.message : String(firstError);
    throw new Error(
      `${failed} of ${plural(o.numRecords, 'record')} ${failed === 1 ? 'was' : 'were'} not delivered (first error: ${why})`,
    );
  }
  return summary;
}

export interface PerfConsumeOptions {
  topic: string;
  numRecords: number;
  group?: string;
  timeout: number;
}

export interface ConsumeSummary {
  topic: string;
  startTime: string;
  endTime: string;
  records: number;
  bytes: number;
  mb: number;
  mbPerSec: number;
  recordsPerSec: number;
  rebalanceTimeMs: number;
  fetchTimeMs: number;
  fetchMbPerSec: number;
  fetchRecordsPerSec: number;
}

export async function perfConsume(
  client: typeof Client,
  clientOpts: Client.ConsumerOptions,
  o: PerfConsumeOptions,
  io: CliIO,
  json: boolean,
  colour: boolean,
): Promise<ConsumeSummary> {
  const consumer = new client.Consumer({
    ...clientOpts,
    allowAutoTopicCreation: false,
    groupId: o.group,
    autoOffsetReset: 'earliest',
    enableAutoCommit: o.group !== undefined,
  });
  const startWall = new Date();
  const start = performance.now();
  let joinedAt = start;
  let records = 0;
  let bytes = 0;
  let timedOut = false;
  try {
    if (o.group) {
      let joined = false;
      consumer.subscribe({
        topics: [o.topic],
        listener: {
          onPartitionsAssigned: () => {
            if (!joined) joinedAt = performance.now();
            joined = true;
          },
        },
      });
    } else {
      const [meta] = await consumer.cluster.waitForTopics([o.topic], clientOpts.requestTimeoutMs ?? 30_000);
      const tps = meta.partitions.map((p) => ({ topic: o.topic, partition: p.partition }));
      const offsets = await consumer.beginningOffsets(tps);
      consumer.assign(
        tps.map((tp) => ({ ...tp, offset: offsets.get(`${tp.topic}\u0000${tp.partition}`) ?? 0n })),
      );
      joinedAt = performance.now();
    }
    let last = performance.now();
    while (records < o.numRecords) {
      const wait = Math.max(1, Math.min(1000, last + o.timeout - performance.now()));
      const batch = await consumer.poll({ timeoutMs: wait, maxRecords: o.numRecords - records });
      const now = performance.now();
      if (batch.length > 0) {
        last = now;
        records += batch.length;
        for (const r of batch) bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
      } else if (now - last >= o.timeout) {
        timedOut = true;
        break;
      }
    }
    if (o.group) await consumer.commit().catch(() => {});
  } finally {
    await consumer.close().catch(() => {});
  }
  const end = performance.now();
  const secs = (end - start) / 1000;
  const fetchMs = end - joinedAt;
  const mb = bytes / MB;
  const s: ConsumeSummary = {
    topic: o.topic,
    startTime: startWall.toISOString(),
    endTime: new Date(startWall.getTime() + (end - start)).toISOString(),
    records,
    bytes,
    mb: r3(mb),
    mbPerSec: r3(mb / secs),
    recordsPerSec: r3(records / secs),
    rebalanceTimeMs: Math.round(joinedAt - start),
    fetchTimeMs: Math.round(fetchMs),
    fetchMbPerSec: r3(fetchMs > 0 ? mb / (fetchMs / 1000) : 0),
    fetchRecordsPerSec: r3(fetchMs > 0 ? records / (fetchMs / 1000) : 0),
  };
  if (json) io.stdout.write(`${toJson(s)}\n`);
  else
    io.stdout.write(
      table(
        [
          'START',
          'END',
          'MB',
          'MB/SEC',
          'RECORDS',
          'RECORDS/SEC',
          'REBALANCE-MS',
          'FETCH-MS',
          'FETCH-MB/SEC',
          'FETCH-RECORDS/SEC',
        ],
        [
          [
            s.startTime,
            s.endTime,
            fixed(s.mb, 3),
            fixed(s.mbPerSec, 3),
            s.records,
            fixed(s.recordsPerSec, 1),
            s.rebalanceTimeMs,
            s.fetchTimeMs,
            fixed(s.fetchMbPerSec, 3),
            fixed(s.fetchRecordsPerSec, 1),
          ],
        ],
        colour,
      ),
    );
  if (timedOut)
    throw new Error(
      `only ${records} of ${plural(o.numRecords, 'record')} within --timeout ${o.timeout} ms; is the topic that full?`,
    );
  return s;
}

/** Registers `perf produce` and `perf consume` under `program`. */
/**
 * The perf tools never create a topic by using it (the admin and their clients ask Metadata not
 * to): a missing topic fails with one line, unless --create asks for it, with --partitions.
 */
async function ensureTopic(
  client: typeof Client,
  clientOpts: Client.ClusterOptions,
  topic: string,
  create: { create?: boolean; partitions?: number },
): Promise<void> {
  const admin = new client.Admin(clientOpts);
  try {
    try {
      await admin.describeTopics([topic]);
      return;
    } catch (err) {
      if (!(err instanceof client.KafkaError) || err.name !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
    }
    if (!create.create)
      throw new Error(
        `topic '${topic}' does not exist; add --create (and --partitions N) to create it, or see \`samsa topic create\``,
      );
    try {
      await admin.createTopics([{ name: topic, numPartitions: create.partitions }]);
    } catch (err) {
      // Created meanwhile by someone else: what was asked for exists.
      if (!(err instanceof client.KafkaError) || err.name !== 'TOPIC_ALREADY_EXISTS') throw err;
    }
  } finally {
    await admin.close();
  }
}

export function addPerfCommands(
  program: Command,
  deps: {
    io: CliIO;
    colour: boolean;
    loadClient: () => Promise<typeof Client>;
    clientOptions: (cmd: Command) => { opts: Client.ClusterOptions & { maxBlockMs?: number }; json: boolean };
    intArg: (name: string, min?: number) => (value: string) => number;
    compressionNames: readonly string[];
  },
): void {
  const { io, colour, intArg } = deps;
  const perf = program.command('perf').description('measure produce and consume throughput and latency');

  const throughputArg = (value: string): number => {
    const n = Number(value);
    if (!(n === -1 || (Number.isFinite(n) && n > 0)))
      throw new InvalidArgumentError('--throughput must be records/s above 0, or -1 for no cap');
    return n;
  };

  perf
    .command('produce')
    .description('send records as fast as allowed; print records/s, MB/s and latency percentiles')
    .requiredOption('-t, --topic <topic>', 'the topic')
    .requiredOption('-n, --num-records <n>', 'how many records', intArg('--num-records', 1))
    .requiredOption('-s, --record-size <bytes>', 'value size in bytes', intArg('--record-size', 0))
    .addOption(
      new Option('--throughput <records/s>', 'cap the rate; -1 for no cap')
        .default(-1)
        .argParser(throughputArg),
    )
    .addOption(new Option('--acks <acks>', 'acks').choices(['0', '1', '-1', 'all']).default('all'))
    .addOption(
      new Option('-z, --compression <codec>', 'compression codec')
        .choices([...deps.compressionNames])
        .default('none'),
    )
    .option('--linger-ms <ms>', 'linger.ms (client default 5)', intArg('--linger-ms', 0))
    .option('--batch-size <bytes>', 'batch.size (client default 16384)', intArg('--batch-size', 1))
    .option('--key-size <bytes>', 'give each record a key of this many bytes', intArg('--key-size', 1))
    .addOption(
      new Option('--reporting-interval <ms>', 'progress line interval')
        .default(5000)
        .argParser(intArg('--reporting-interval', 1)),
    )
    .option('--create', 'create the topic if it does not exist (else a missing topic is an error)')
    .option(
      '-p, --partitions <n>',
      'with --create: its partition count (broker default if absent)',
      intArg('--partitions', 1),
    )
    .action(
      async (
        o: Omit<PerfProduceOptions, 'topic'> & { topic: string; create?: boolean; partitions?: number },
        cmd: Command,
      ) => {
        const { opts, json } = deps.clientOptions(cmd);
        const client = await deps.loadClient();
        await ensureTopic(client, opts, o.topic, o);
        await perfProduce(client, opts, o, io, json);
      },
    );

  perf
    .command('consume')
    .description('read records from the beginning; print MB/s, records/s and fetch time')
    .requiredOption('-t, --topic <topic>', 'the topic')
    .requiredOption('-n, --num-records <n>', 'how many records to read', intArg('--num-records', 1))
    .option('-g, --group <group>', 'read as a member of this group (commits offsets)')
    .addOption(
      new Option('--timeout <ms>', 'give up after this long without a record')
        .default(10_000)
        .argParser(intArg('--timeout', 1)),
    )
    .option('--create', 'create the topic if it does not exist (else a missing topic is an error)')
    .option(
      '-p, --partitions <n>',
      'with --create: its partition count (broker default if absent)',
      intArg('--partitions', 1),
    )
    .action(async (o: PerfConsumeOptions & { create?: boolean; partitions?: number }, cmd: Command) => {
      const { opts, json } = deps.clientOptions(cmd);
      const client = await deps.loadClient();
      await ensureTopic(client, opts, o.topic, o);
      await perfConsume(client, opts, o, io, json, colour);
    });
}
