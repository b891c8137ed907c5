// `samsa consume`: read records (by assignment or as a group member) and print them.

import type { Command } from 'commander';
import type { ConsumerRecord, TopicPartition } from '../../client/index.js';
import { toJson } from '../output.js';
import {
  type CliContext,
  clientOptions,
  collect,
  globals,
  intArg,
  loadClient,
  sortTp,
  tpKey,
  UsageError,
} from '../shared.js';

export interface PrintOptions {
  format: string;
  printKey?: boolean;
  printOffset?: boolean;
  printHeaders?: boolean;
}

function str(b: Buffer | null): string {
  return b === null ? '' : b.toString('utf8');
}

export function formatRecord(r: ConsumerRecord, o: PrintOptions): string {
  const headers = r.headers.map((h) => `${h.key}=${str(h.value)}`).join(',');
  if (o.format === 'json') {
    return toJson({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      key: r.key === null ? null : str(r.key),
      value: r.value === null ? null : str(r.value),
      headers: Object.fromEntries(r.headers.map((h) => [h.key, h.value === null ? null : str(h.value)])),
    });
  }
  if (o.format === 'text') {
    const parts: string[] = [];
    if (o.printOffset) parts.push(`${r.partition}:${r.offset}`);
    if (o.printHeaders) parts.push(headers);
    if (o.printKey) parts.push(str(r.key));
    parts.push(str(r.value));
    return parts.join('\t');
  }
  return o.format.replace(/%[kvoptTh%]|\\[nt]/g, (m) => {
    switch (m) {
      case '%k':
        return str(r.key);
      case '%v':
        return str(r.value);
      case '%o':
        return String(r.offset);
      case '%p':
        return String(r.partition);
      case '%t':
        return r.topic;
      case '%T':
        return String(r.timestamp);
      case '%h':
        return headers;
      case '%%':
        return '%';
      case '\\n':
        return '\n';
      default:
        return '\t';
    }
  });
}

export function addConsumeCommand(program: Command, ctx: CliContext): void {
  const { io, out } = ctx;
  program
    .command('consume <topic>')
    .description('read records and print them')
    .option('--from <where>', 'beginning, end or an offset (without a group: default end)')
    .option(
      '--from-timestamp <ms>',
      'start at the first record at or after this time (ms since epoch)',
      intArg('--from-timestamp'),
    )
    .option('-g, --group <group>', 'consume as a member of this group (commits offsets)')
    .option('-P, --partition <n>', 'read only this partition (not with --group)', collect, [])
    .option('-n, --count <n>', 'stop after this many records', intArg('--count', 1))
    .option('--timeout <ms>', 'stop after this long without a record', intArg('--timeout', 1))
    .option('--format <format>', "text, json, or a template such as '%k %v %o %p %T %t %h'", 'text')
    .option('--print-key', 'print the key (text format)')
    .option('--print-offset', 'print partition:offset (text format)')
    .option('--print-headers', 'print the headers (text format)')
    .action(
      async (
        topicName: string,
        o: PrintOptions & {
          from?: string;
          fromTimestamp?: number;
          group?: string;
          partition: string[];
          count?: number;
          timeout?: number;
        },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const from = o.from;
        if (from !== undefined && from !== 'beginning' && from !== 'end' && !/^\d+$/.test(from))
          throw new UsageError(`--from must be beginning, end or an offset, not '${from}'`);
        if (from !== undefined && o.fromTimestamp !== undefined)
          throw new UsageError('give --from or --from-timestamp, not both');
        if (o.group && o.partition.length > 0)
          throw new UsageError('--partition cannot be used with --group');
        if (o.group && from !== undefined && /^\d+$/.test(from))
          throw new UsageError(
            '--from OFFSET needs no group; reset a group with `samsa group reset-offsets`',
          );
        const format = g.json ? 'json' : o.format;
        const consumer = new (await loadClient()).Consumer({
          ...clientOptions(g),
          groupId: o.group,
          autoOffsetReset: from === 'beginning' ? 'earliest' : 'latest',
          enableAutoCommit: o.group !== undefined,
          allowAutoTopicCreation: false,
        });
        const ac = new AbortController();
        const onSignal = () => ac.abort();
        process.once('SIGINT', onSignal);
        let seen = 0;
        try {
          if (o.group) {
            consumer.subscribe({
              topics: [topicName],
              listener:
                o.fromTimestamp !== undefined
                  ? {
                      onPartitionsAssigned: (tps) => consumer.seekToTimestamp(o.fromTimestamp as number, tps),
                    }
                  : undefined,
            });
          } else {
            const [meta] = await consumer.cluster.waitForTopics([topicName], g.requestTimeout);
            let tps: TopicPartition[] = meta.partitions.map((p) => ({
              topic: topicName,
              partition: p.partition,
            }));
            if (o.partition.length > 0) {
              const wanted = new Set(o.partition.map(Number));
              tps = tps.filter((tp) => wanted.has(tp.partition));
              if (tps.length !== wanted.size)
                throw new UsageError(
                  `topic '${topicName}' has no partition ${[...wanted].filter((p) => !tps.some((t) => t.partition === p)).join(',')}`,
                );
            }
            tps.sort(sortTp);
            let offsets: Map<string, bigint>;
            if (o.fromTimestamp !== undefined) {
              const found = await consumer.offsetsForTimes(
                tps.map((tp) => ({ ...tp, timestamp: o.fromTimestamp as number })),
              );
              const ends = await consumer.endOffsets(tps);
              offsets = new Map(
                tps.map((tp) => {
                  const f = found.get(tpKey(tp))?.offset ?? -1n;
                  return [tpKey(tp), f >= 0n ? f : (ends.get(tpKey(tp)) as bigint)];
                }),
              );
            } else if (from === 'beginning') offsets = await consumer.beginningOffsets(tps);
            else if (from === undefined || from === 'end') offsets = await consumer.endOffsets(tps);
            else offsets = new Map(tps.map((tp) => [tpKey(tp), BigInt(from)]));
            consumer.assign(tps.map((tp) => ({ ...tp, offset: offsets.get(tpKey(tp)) as bigint })));
          }
          let lastRecordAt = Date.now();
          while (!ac.signal.aborted && (o.count === undefined || seen < o.count)) {
            const wait =
              o.timeout === undefined
                ? 1000
                : Math.max(1, Math.min(1000, lastRecordAt + o.timeout - Date.now()));
            let records: ConsumerRecord[];
            try {
              records = await consumer.poll({
                timeoutMs: wait,
                signal: ac.signal,
                maxRecords: o.count === undefined ? undefined : o.count - seen,
              });
            } catch (err) {
              if (ac.signal.aborted) break;
              throw err;
            }
            for (const r of records) out(`${formatRecord(r, { ...o, format })}\n`);
            seen += records.length;
            if (records.length > 0) lastRecordAt = Date.now();
            else if (o.timeout !== undefined && Date.now() - lastRecordAt >= o.timeout) break;
          }
          if (o.group) await consumer.commit().catch(() => {});
        } finally {
          process.removeListener('SIGINT', onSignal);
          await consumer.close().catch(() => {});
        }
        if (!g.json) io.stderr.write(`consumed ${seen} records\n`);
      },
    );
}
