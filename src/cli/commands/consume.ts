// `samsa consume`: read records of one or more topics (or every topic matching a pattern), by
// assignment or as a group member, and print them: as text, JSON, or a kcat --format. The output
// path is bytes: each poll's records are formatted into one buffer and written with one write.

import { once } from 'node:events';
import { type Command, Option } from 'commander';
import type { Consumer, TopicPartition } from '../../client/index.js';
import {
  compileRenderer,
  ENCODINGS,
  type Encoding,
  formatHasNewline,
  OutputBuffer,
  type PrintableRecord,
  parseFormat,
  type RecordView,
  type RenderOptions,
  recordJson,
  type Token,
  unescapeBytes,
  viewOf,
} from '../record-format.js';
import {
  type CliContext,
  CliError,
  clientOptions,
  collect,
  globals,
  intArg,
  isKafkaError,
  loadClient,
  sortTp,
  tpKey,
  UsageError,
} from '../shared.js';

export interface PrintOptions {
  /** text, json, or a kcat format string. */
  format: string;
  printKey?: boolean;
  printOffset?: boolean;
  printHeaders?: boolean;
  /** Printed after each record (kcat -D; escapes allowed); default a newline. */
  delimiter?: string;
  /** kcat -Z: print NULL for null keys and values. */
  printNull?: boolean;
  keyFormat?: Encoding;
  valueFormat?: Encoding;
}

/** A function appending one record to the output, as the print options say. */
export function recordPrinter(o: PrintOptions): (r: RecordView, out: OutputBuffer) => void {
  const render: RenderOptions = {
    keyEncoding: o.keyFormat ?? 'raw',
    valueEncoding: o.valueFormat ?? 'raw',
    nullString: o.printNull ? Buffer.from('NULL') : null,
  };
  const explicitDelimiter = o.delimiter === undefined ? null : unescapeBytes(o.delimiter);
  const delimiter = explicitDelimiter ?? Buffer.from('\n');
  if (o.format === 'json') {
    return (r, out) => {
      out.utf8(recordJson(r, render));
      out.bytes(delimiter);
    };
  }
  let tokens: Token[];
  if (o.format === 'text') {
    const tab = { literal: Buffer.from('\t') };
    tokens = [];
    if (o.printOffset)
      tokens.push({ field: 'partition' }, { literal: Buffer.from(':') }, { field: 'offset' }, tab);
    if (o.printHeaders) tokens.push({ field: 'headers' }, tab);
    if (o.printKey) tokens.push({ field: 'key' }, tab);
    tokens.push({ field: 'value' }, { literal: delimiter });
  } else {
    tokens = parseFormat(o.format);
    // kcat never adds a separator to a format; Samsa adds -D, or a newline when the format has
    // none of its own, so that `--format '%k %s'` prints lines and `-D ''` prints nothing extra.
    if (explicitDelimiter !== null) {
      if (explicitDelimiter.length > 0) tokens.push({ literal: explicitDelimiter });
    } else if (!formatHasNewline(tokens)) tokens.push({ literal: delimiter });
  }
  return compileRenderer(tokens, render);
}

/** One record as the print options say, as a string (for tests and callers printing one). */
export function formatRecord(r: PrintableRecord, o: PrintOptions): string {
  const out = new OutputBuffer(256);
  recordPrinter(o)(viewOf(r), out);
  return out.take().toString('utf8');
}

/** Where --from says to start: beginning, end, an offset, or N before the end (-N). */
type Start =
  | { kind: 'beginning' }
  | { kind: 'end' }
  | { kind: 'offset'; offset: bigint }
  | { kind: 'relative'; back: bigint }
  | { kind: 'timestamp'; ms: number };

function parseStart(from: string | undefined, fromTimestamp: number | undefined): Start | undefined {
  if (from !== undefined && fromTimestamp !== undefined)
    throw new UsageError('give --from or --from-timestamp, not both');
  if (fromTimestamp !== undefined) return { kind: 'timestamp', ms: fromTimestamp };
  if (from === undefined) return undefined;
  if (from === 'beginning') return { kind: 'beginning' };
  if (from === 'end') return { kind: 'end' };
  if (/^\d+$/.test(from)) return { kind: 'offset', offset: BigInt(from) };
  if (/^-\d+$/.test(from)) return { kind: 'relative', back: -BigInt(from) };
  throw new UsageError(`--from must be beginning, end, an offset or -N (N before the end), not '${from}'`);
}

interface ConsumeOptions extends PrintOptions {
  pattern?: string;
  from?: string;
  fromTimestamp?: number;
  exit?: boolean;
  group?: string;
  partition: string[];
  count?: number;
  timeout?: number;
  quiet?: boolean;
}

/** Kafka's pattern subscription matches whole topic names (Java's Matcher.matches). */
function compilePattern(p: string): RegExp {
  try {
    return new RegExp(`^(?:${p})$`);
  } catch (err) {
    throw new UsageError(`--pattern is not a valid regular expression: ${(err as Error).message}`);
  }
}

/** The offset to start each partition at, for a consumer without a group. */
async function startOffsets(
  consumer: Consumer,
  tps: TopicPartition[],
  start: Start | undefined,
): Promise<Map<string, bigint>> {
  if (start === undefined || start.kind === 'end') return consumer.endOffsets(tps);
  if (start.kind === 'beginning') return consumer.beginningOffsets(tps);
  if (start.kind === 'offset') return new Map(tps.map((tp) => [tpKey(tp), start.offset]));
  if (start.kind === 'relative') {
    // kcat's -o -N: N records before the end of each partition, not before its start.
    const [begins, ends] = await Promise.all([consumer.beginningOffsets(tps), consumer.endOffsets(tps)]);
    return new Map(
      tps.map((tp) => {
        const k = tpKey(tp);
        const first = begins.get(k) as bigint;
        let from = (ends.get(k) as bigint) - start.back;
        if (from < first) from = first;
        return [k, from];
      }),
    );
  }
  const found = await consumer.offsetsForTimes(tps.map((tp) => ({ ...tp, timestamp: start.ms })));
  const ends = await consumer.endOffsets(tps);
  return new Map(
    tps.map((tp) => {
      const f = found.get(tpKey(tp))?.offset ?? -1n;
      return [tpKey(tp), f >= 0n ? f : (ends.get(tpKey(tp)) as bigint)];
    }),
  );
}

export function addConsumeCommand(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  program
    .command('consume [topics...]')
    .description('read records of these topics (or of every topic matching --pattern) and print them')
    .option('--pattern <regex>', 'every topic whose whole name matches (internal topics excluded)')
    .option(
      '--from <where>',
      'beginning, end, an offset, or -N: N records before the end of each partition (kcat -o); without a group the default is end',
    )
    .option(
      '--from-timestamp <ms>',
      'start at the first record at or after this time (ms since epoch)',
      intArg('--from-timestamp'),
    )
    .option('-e, --exit', 'exit once every partition is read to the end it had at the start (kcat -e)')
    .option('-g, --group <group>', 'consume as a member of this group (commits offsets)')
    .option('-P, --partition <n>', 'read only this partition (not with --group); repeatable', collect, [])
    .option('-n, --count <n>', 'stop after this many records', intArg('--count', 1))
    .option('--timeout <ms>', 'stop after this long without a record', intArg('--timeout', 1))
    .option(
      '--format <format>',
      "text, json, or kcat's format codes: %s value, %S value size, %R value size (int32 BE), %k key, %K key size, %t topic, %p partition, %o offset, %T timestamp, %h headers, %% (escapes \\n \\t \\xHH)",
      'text',
    )
    .option('--print-key', 'print the key (text format)')
    .option('--print-offset', 'print partition:offset (text format)')
    .option('--print-headers', 'print the headers (text format)')
    .option('-D, --delimiter <delim>', 'printed after each record (kcat -D; default a newline)')
    .option('-Z, --print-null', 'print NULL for a null key or value (kcat -Z); else nothing')
    .addOption(
      new Option('--key-format <format>', 'print keys as raw bytes, base64 or hex')
        .choices([...ENCODINGS])
        .default('raw'),
    )
    .addOption(
      new Option('--value-format <format>', 'print values as raw bytes, base64 or hex')
        .choices([...ENCODINGS])
        .default('raw'),
    )
    .option('-q, --quiet', 'no summary line on stderr')
    .action(async (topicArgs: string[], o: ConsumeOptions, cmd: Command) => {
      const g = globals(cmd);
      const start = parseStart(o.from, o.fromTimestamp);
      if (topicArgs.length === 0 && o.pattern === undefined)
        throw new UsageError('give one or more topics, or --pattern');
      if (topicArgs.length > 0 && o.pattern !== undefined)
        throw new UsageError('give topics or --pattern, not both');
      const pattern = o.pattern === undefined ? undefined : compilePattern(o.pattern);
      if (o.group && o.partition.length > 0) throw new UsageError('--partition cannot be used with --group');
      if (o.group && (start?.kind === 'offset' || start?.kind === 'relative'))
        throw new UsageError(
          '--from OFFSET or -N needs no group; reset a group with `samsa group reset-offsets`',
        );
      const print = recordPrinter({ ...o, format: g.json ? 'json' : o.format });

      const consumer = new (await loadClient()).Consumer({
        ...clientOptions(g),
        groupId: o.group,
        autoOffsetReset: start?.kind === 'beginning' ? 'earliest' : 'latest',
        enableAutoCommit: o.group !== undefined,
        allowAutoTopicCreation: false,
        // Larger polls and fetches than a library default: the CLI's whole job is moving records
        // to stdout, and each poll's records become one write.
        maxPollRecords: 20_000,
        maxPartitionFetchBytes: 4 << 20,
      });
      const ac = new AbortController();
      const onSignal = () => ac.abort();
      process.once('SIGINT', onSignal);
      // -e: the end offset of each partition when it was assigned; reached once position >= it.
      const ends = new Map<string, bigint>();
      const done = new Set<string>();
      let seen = 0;
      const out = new OutputBuffer();
      const emit = (r: RecordView) => print(r, out);
      /** Prints what one poll brings (at most `limit`); resolves to how many. */
      let pollOnce: (timeoutMs: number, limit: number) => Promise<number>;
      /** -e: every partition read to its end. */
      let atEnd: () => boolean;
      let reader: import('../partition-reader.js').PartitionReader | null = null;
      try {
        if (o.group) {
          const listener = {
            onPartitionsAssigned: async (tps: TopicPartition[]) => {
              if (start?.kind === 'timestamp') await consumer.seekToTimestamp(start.ms, tps);
              if (o.exit && tps.length > 0)
                for (const [k, v] of await consumer.endOffsets(tps)) ends.set(k, v);
            },
          };
          consumer.subscribe(pattern ? { pattern, listener } : { topics: topicArgs, listener });
          pollOnce = async (timeoutMs, limit) => {
            const records = await consumer.poll({
              timeoutMs,
              signal: ac.signal,
              maxRecords: Number.isFinite(limit) ? limit : undefined,
            });
            for (let i = 0; i < records.length; i++) emit(viewOf(records[i]));
            return records.length;
          };
          atEnd = () => {
            const assigned = consumer.assignment();
            if (assigned.length === 0) return false; // not a member yet
            let all = true;
            for (const tp of assigned) {
              const k = tpKey(tp);
              if (done.has(k)) continue;
              const end = ends.get(k);
              const position = consumer.position(tp);
              if (end === undefined || position === null || position < end) all = false;
              else {
                // Stop fetching it: what arrives after the end seen at assignment is not printed.
                done.add(k);
                consumer.pause([tp]);
              }
            }
            return all;
          };
        } else {
          let topics = topicArgs;
          if (pattern) {
            consumer.cluster.setWantAllTopics(true);
            await consumer.cluster.refreshMetadata(ac.signal);
            topics = consumer.cluster
              .knownTopics()
              .filter((t) => pattern.test(t) && consumer.cluster.topic(t)?.isInternal !== true)
              .sort();
            if (topics.length === 0)
              throw new CliError(`no topic matches --pattern '${o.pattern}'; see \`samsa topic list\``);
          }
          const metas = await consumer.cluster.waitForTopics(topics, g.requestTimeout).catch((err) => {
            // Name the topics that are missing (the error names one; context knows only the first).
            const missing = topics.filter((t) => !consumer.cluster.topic(t)?.partitions.length);
            if (missing.length > 1 && isKafkaError(err, 'UNKNOWN_TOPIC_OR_PARTITION'))
              throw new CliError(`topics '${missing.join("', '")}' do not exist; see \`samsa topic list\``);
            if (missing.length === 1 && isKafkaError(err, 'UNKNOWN_TOPIC_OR_PARTITION'))
              throw new CliError(`topic '${missing[0]}' does not exist; see \`samsa topic list\``);
            throw err;
          });
          let tps: TopicPartition[] = metas.flatMap((m) =>
            m.partitions.map((p) => ({ topic: m.name, partition: p.partition })),
          );
          if (o.partition.length > 0) {
            const wanted = new Set(o.partition.map(Number));
            tps = tps.filter((tp) => wanted.has(tp.partition));
            const missing = [...wanted].filter((p) => !tps.some((t) => t.partition === p));
            if (missing.length > 0)
              throw new CliError(`topic '${topics.join(',')}' has no partition ${missing.join(',')}`);
          }
          tps.sort(sortTp);
          const offsets = await startOffsets(consumer, tps, start);
          if (o.exit) for (const [k, v] of await consumer.endOffsets(tps)) ends.set(k, v);
          const { PartitionReader } = await import('../partition-reader.js');
          const r = new PartitionReader(
            consumer.cluster,
            tps.map((tp) => ({
              ...tp,
              offset: offsets.get(tpKey(tp)) as bigint,
              end: o.exit ? ends.get(tpKey(tp)) : undefined,
            })),
            { maxWaitMs: 500, maxBytes: 52_428_800, maxPartitionBytes: 4 << 20 },
          );
          reader = r;
          pollOnce = (timeoutMs, limit) => r.poll(timeoutMs, emit, limit, ac.signal);
          atEnd = () => r.finished;
        }

        let lastRecordAt = Date.now();
        while (!ac.signal.aborted && (o.count === undefined || seen < o.count)) {
          if (o.exit && atEnd()) break;
          const wait =
            o.timeout === undefined
              ? 1000
              : Math.max(1, Math.min(1000, lastRecordAt + o.timeout - Date.now()));
          let n: number;
          try {
            n = await pollOnce(
              o.exit ? Math.min(wait, 100) : wait,
              o.count === undefined ? Number.POSITIVE_INFINITY : o.count - seen,
            );
          } catch (err) {
            if (ac.signal.aborted) break;
            throw err;
          }
          if (n > 0) {
            seen += n;
            lastRecordAt = Date.now();
            // One write per poll; wait for a slow reader (a pipe that is full) before the next.
            if (io.stdout.write(out.take()) === false) await drained(io.stdout);
          } else if (o.timeout !== undefined && Date.now() - lastRecordAt >= o.timeout) break;
        }
        if (o.group) await consumer.commit().catch(() => {});
      } finally {
        process.removeListener('SIGINT', onSignal);
        reader?.close();
        await consumer.close().catch(() => {});
      }
      if (!g.json && !o.quiet) io.stderr.write(`consumed ${seen} record${seen === 1 ? '' : 's'}\n`);
    });
}

/** Resolves once a stream that refused a write ('false') has drained (or at once if it cannot say). */
function drained(stream: unknown): Promise<unknown> {
  const s = stream as { once?: unknown; writableNeedDrain?: boolean };
  if (typeof s.once !== 'function' || s.writableNeedDrain === false) return Promise.resolve();
  return once(stream as NodeJS.EventEmitter, 'drain');
}
