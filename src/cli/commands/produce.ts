// `samsa produce`: records from stdin or a file, cut at a delimiter (kcat's -D, a newline by
// default), or one record per file. Streams: each chunk read is handed to the producer at once (so
// `tail -f log | samsa produce t` sends a line within linger.ms of its arrival), and reading stops
// while too much is unacknowledged (memory stays bounded for any input size). Keys and values are
// bytes: never decoded as UTF-8, optionally given in base64 or hex.

import { createReadStream, fstatSync, readFileSync, statSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Producer, ProducerRecord } from '../../client/index.js';
import { COMPRESSION_NAMES, type CompressionName } from '../../protocol/compression/types.js';
import { type CliIO, toJson } from '../output.js';
import { decodeField, ENCODINGS, type Encoding, unescapeBytes } from '../record-format.js';
import { DelimitedSplitter, splitKey } from '../record-input.js';
import {
  type CliContext,
  CliError,
  clientOptions,
  globals,
  intArg,
  loadClient,
  UsageError,
} from '../shared.js';

/**
 * Unacknowledged input the command lets the producer hold before it stops reading: enough for
 * four 1 MB batches in flight. Larger limits cost CPU without adding throughput: records that
 * stay unacknowledged across young-generation collections are promoted and collected the
 * expensive way (16 MB / 200,000 records took 2.1 s of CPU for 100 MB of 100-byte lines, this
 * 1.6 s; measured while the producer still kept a record object per unacknowledged record, which
 * it no longer does).
 */
const MAX_IN_FLIGHT_BYTES = 4 << 20;
const MAX_IN_FLIGHT_RECORDS = 40_000;
/** max.request.size: no record can be larger (the delimiter search gives up past it). */
const MAX_REQUEST_SIZE = 1_048_576;

interface ProduceOptions {
  file?: string;
  filePerRecord?: string[];
  delimiter?: string;
  keySeparator?: string;
  key?: string;
  header: [string, string | null][];
  null?: boolean;
  keyFormat: Encoding;
  valueFormat: Encoding;
  compression: CompressionName;
  partition?: number;
  acks: string;
  lingerMs: number;
}

/** -H name=value, or -H name for a header with a null value (as kcat); repeats are kept. */
function collectHeader(value: string, previous: [string, string | null][]): [string, string | null][] {
  const i = value.indexOf('=');
  if (i === 0 || value === '') throw new InvalidArgumentError(`expected name=value or name, got "${value}"`);
  return [...previous, i < 0 ? [value, null] : [value.slice(0, i), value.slice(i + 1)]];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function stdinIsFile(): boolean {
  try {
    return fstatSync(0).isFile();
  } catch {
    return false;
  }
}

/** "[#####-----] 1.2/3.4 MB  25000 records  12345 rec/s" for a file being read. */
function fileProgress(doneBytes: number, totalBytes: number, records: number, startedMs: number): string {
  const width = 30;
  const filled = totalBytes > 0 ? Math.min(width, Math.round((doneBytes / totalBytes) * width)) : width;
  const rate = Math.round(records / Math.max((Date.now() - startedMs) / 1000, 0.001));
  const mb = (n: number) => (n / 1048576).toFixed(1);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${mb(doneBytes)}/${mb(totalBytes)} MB  ${plural(records, 'record')}  ${rate} rec/s`;
}

/**
 * Hands records to the producer a chunk at a time without waiting for each acknowledgement, and
 * waits while more than the in-flight limits are unacknowledged. The first failure stops it.
 */
class Pipeline {
  private readonly inFlight = new Set<Promise<void>>();
  private bytes = 0;
  private records = 0;
  delivered = 0;
  failure: unknown = null;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async send(messages: ProducerRecord[], bytes: number): Promise<void> {
    if (this.failure !== null) throw this.failure;
    const n = messages.length;
    const p: Promise<void> = this.producer
      // Only failures matter here: no per-record metadata (an object and a bigint offset each).
      .send({ topic: this.topic, messages, metadata: false })
      .then(
        () => {
          this.delivered += n;
        },
        (err: unknown) => {
          this.failure ??= err;
        },
      )
      .finally(() => {
        this.bytes -= bytes;
        this.records -= n;
        this.inFlight.delete(p);
      });
    this.inFlight.add(p);
    this.bytes += bytes;
    this.records += n;
    while (
      (this.bytes > MAX_IN_FLIGHT_BYTES || this.records > MAX_IN_FLIGHT_RECORDS) &&
      this.failure === null
    )
      await Promise.race(this.inFlight);
    if (this.failure !== null) throw this.failure;
  }

  async finish(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure !== null) throw this.failure;
  }
}

export function addProduceCommand(program: Command, ctx: CliContext): void {
  const { io, out } = ctx;
  program
    .command('produce <topic>')
    .description(
      'write records: one per line (or per -D delimiter) from stdin or a file, or one per file; sent as the input arrives',
    )
    .option('-f, --file <file>', 'read records from this file instead of stdin (as kcat -l)')
    .option(
      '--file-per-record <files...>',
      "each file is one record's value, sent whole (as kcat -P with file arguments)",
    )
    .option(
      '-D, --delimiter <delim>',
      'the record delimiter: text with \\n \\r \\t \\xHH escapes (kcat -D)',
      '\\n',
    )
    .option(
      '-k, --key-separator <sep>',
      'split each record at the first SEP into key and value (kcat -K; escapes as -D)',
    )
    .option('--key <key>', 'a fixed key for records without one of their own (kcat -k)')
    .option(
      '-H, --header <name=value>',
      'a header on every record; repeatable, repeats kept; "name" alone: a null value',
      collectHeader,
      [],
    )
    .option('-Z, --null', 'send an empty value (or an empty key before -k) as null: a tombstone (kcat -Z)')
    .addOption(
      new Option('--key-format <format>', 'how keys are given: raw bytes, base64 or hex')
        .choices([...ENCODINGS])
        .default('raw'),
    )
    .addOption(
      new Option('--value-format <format>', 'how values are given: raw bytes, base64 or hex')
        .choices([...ENCODINGS])
        .default('raw'),
    )
    .addOption(
      new Option('-z, --compression <codec>', 'compression codec')
        .choices([...COMPRESSION_NAMES])
        .default('none'),
    )
    .option(
      '-p, --partition <n>',
      'write to this partition (else the partitioner picks)',
      intArg('--partition'),
    )
    .addOption(new Option('--acks <acks>', 'acks').choices(['0', '1', '-1', 'all']).default('all'))
    .option(
      '--linger-ms <ms>',
      'linger.ms: how long a record may wait for others to batch with',
      intArg('--linger-ms'),
      5,
    )
    .action(async (topicName: string, o: ProduceOptions, cmd: Command) => {
      const g = globals(cmd);
      if (o.file !== undefined && o.filePerRecord !== undefined)
        throw new UsageError('give -f/--file or --file-per-record, not both');
      const delimiter = unescapeBytes(o.delimiter ?? '\\n');
      if (delimiter.length === 0) throw new UsageError('the record delimiter (-D) must not be empty');
      const keySeparator = o.keySeparator === undefined ? null : unescapeBytes(o.keySeparator);
      if (keySeparator !== null && keySeparator.length === 0)
        throw new UsageError('the key separator (-k) must not be empty');
      const fixedKey = o.key === undefined ? null : decodeField(Buffer.from(o.key), o.keyFormat, '--key');
      const headers = o.header.map(([k, v]) => ({ key: k, value: v === null ? null : Buffer.from(v) }));
      const nullEmpty = o.null === true;

      const producer = new (await loadClient()).Producer({
        ...clientOptions(g),
        compression: o.compression,
        acks: o.acks === 'all' ? -1 : (Number(o.acks) as 0 | 1 | -1),
        idempotent: o.acks === 'all' || o.acks === '-1',
        allowAutoTopicCreation: false,
        maxBlockMs: g.requestTimeout,
        lingerMs: o.lingerMs,
        // Bigger batches than Kafka's 16 KB default (librdkafka, as kcat uses it, batches up to
        // 1 MB): a pipe of small lines then costs fewer requests.
        batchSize: 1_000_000,
        maxRequestSize: MAX_REQUEST_SIZE,
      });
      const ac = new AbortController();
      let input: CliIO['stdin'] | null = null;
      // Ctrl-C: stop reading (a read waiting on a terminal or `tail -f` ends too), deliver what
      // was read, then report, as kcat does.
      const onSignal = () => {
        ac.abort();
        (input as { destroy?: () => void } | null)?.destroy?.();
      };
      process.once('SIGINT', onSignal);
      const pipeline = new Pipeline(producer, topicName);
      let records = 0;
      try {
        // The topic must exist (never created by this command) and have the partition asked for.
        const [meta] = await producer.cluster.waitForTopics([topicName], g.requestTimeout);
        const count = meta.partitions.length;
        if (o.partition !== undefined && o.partition >= count)
          throw new CliError(
            `topic '${topicName}' has no partition ${o.partition}: it has ${plural(count, 'partition')} (0${count > 1 ? `-${count - 1}` : ''})`,
          );
        const partition = o.partition;
        let lineNo = 0;
        const toRecord = (raw: Buffer): ProducerRecord => {
          lineNo++;
          let key: Buffer | null = null;
          let value: Buffer | null = raw;
          if (keySeparator !== null) {
            const kv = splitKey(raw, keySeparator);
            key = kv.key;
            value = kv.value;
          }
          if (key !== null && o.keyFormat !== 'raw')
            key = decodeField(key, o.keyFormat, `record ${lineNo}: the key`);
          if (o.valueFormat !== 'raw')
            value = decodeField(value, o.valueFormat, `record ${lineNo}: the value`);
          if (nullEmpty) {
            if (value.length === 0) value = null;
            if (key !== null && key.length === 0) key = null;
          }
          if (key === null) key = fixedKey;
          return { key, value, headers: headers.length > 0 ? headers : undefined, partition };
        };

        if (o.filePerRecord !== undefined) {
          for (const file of o.filePerRecord) {
            if (ac.signal.aborted) break;
            const record = toRecord(readFileSync(file));
            await pipeline.send([record], (record.value?.length ?? 0) + 64);
            records++;
          }
        } else {
          const splitter = new DelimitedSplitter(delimiter, MAX_REQUEST_SIZE);
          input =
            o.file !== undefined
              ? createReadStream(o.file, { highWaterMark: 1 << 20 })
              : io.stdin === process.stdin && stdinIsFile()
                ? // A file redirected to stdin (`< file`): read it in 1 MB chunks, not 64 KB.
                  createReadStream('', { fd: 0, highWaterMark: 1 << 20, autoClose: false })
                : io.stdin;
          const progress = o.file !== undefined && io.stderr.isTTY === true;
          const total = progress ? statSync(o.file as string).size : 0;
          let readBytes = 0;
          let lastProgressAt = 0;
          const started = Date.now();
          const sendAll = async (raws: Buffer[]) => {
            if (raws.length === 0) return;
            const batch = new Array<ProducerRecord>(raws.length);
            let bytes = 0;
            for (let i = 0; i < raws.length; i++) {
              batch[i] = toRecord(raws[i]);
              bytes += raws[i].length + 32;
            }
            await pipeline.send(batch, bytes);
            records += raws.length;
          };
          try {
            for await (const c of input as AsyncIterable<Buffer | string>) {
              const chunk = typeof c === 'string' ? Buffer.from(c) : c;
              await sendAll(splitter.push(chunk));
              if (progress) {
                readBytes += chunk.length;
                if (Date.now() - lastProgressAt >= 100) {
                  lastProgressAt = Date.now();
                  io.stderr.write(`\r${fileProgress(readBytes, total, records, started)}`);
                }
              }
              if (ac.signal.aborted) break;
            }
          } catch (err) {
            // The input destroyed by Ctrl-C ends the loop with a premature-close error.
            if (!ac.signal.aborted) throw err;
          }
          const last = splitter.end();
          if (last !== null && !ac.signal.aborted) await sendAll([last]);
          if (progress) io.stderr.write(`\r${fileProgress(total, total, records, started)}\n`);
        }
        await pipeline.finish();
      } catch (err) {
        // Let what was handed over settle before reporting (an error is then about this record,
        // and the records before it were written or failed on their own).
        await pipeline.finish().catch(() => {});
        throw err;
      } finally {
        process.removeListener('SIGINT', onSignal);
        await producer.close({ timeoutMs: 5000 }).catch(() => {});
      }
      out(
        g.json
          ? `${toJson({ topic: topicName, records })}\n`
          : `wrote ${plural(records, 'record')} to ${topicName}\n`,
      );
    });
}
