// `samsa produce`: records from stdin or a file, one per line.

import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { ProducerRecord } from '../../client/index.js';
import { COMPRESSION_NAMES, type CompressionName } from '../../protocol/compression/types.js';
import { toJson } from '../output.js';
import {
  type CliContext,
  clientOptions,
  collectPair,
  globals,
  intArg,
  loadClient,
  pairs,
  progressLine,
  readAll,
} from '../shared.js';

export function addProduceCommand(program: Command, ctx: CliContext): void {
  const { io, out } = ctx;
  program
    .command('produce <topic>')
    .description('write records: one per line from stdin or a file')
    .option('-f, --file <file>', 'read lines from this file instead of stdin')
    .option('-k, --key-separator <sep>', 'split each line at the first SEP into key and value')
    .option('-H, --header <key=value>', 'a header on every record; repeatable', collectPair, [])
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
    .action(
      async (
        topicName: string,
        o: {
          file?: string;
          keySeparator?: string;
          header: string[];
          compression: CompressionName;
          partition?: number;
          acks: string;
        },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const text = o.file ? readFileSync(o.file, 'utf8') : await readAll(io.stdin);
        const lines = text.split(/\r?\n/);
        if (lines.at(-1) === '') lines.pop();
        const headers = pairs(o.header);
        const records: ProducerRecord[] = lines.map((line) => {
          let key: string | undefined;
          let value = line;
          if (o.keySeparator !== undefined) {
            const i = line.indexOf(o.keySeparator);
            if (i >= 0) {
              key = line.slice(0, i);
              value = line.slice(i + o.keySeparator.length);
            }
          }
          return { key, value, headers: o.header.length ? headers : undefined, partition: o.partition };
        });
        const producer = new (await loadClient()).Producer({
          ...clientOptions(g),
          compression: o.compression,
          acks: o.acks === 'all' ? -1 : (Number(o.acks) as 0 | 1 | -1),
          idempotent: o.acks === 'all' || o.acks === '-1',
          allowAutoTopicCreation: false,
          maxBlockMs: g.requestTimeout,
        });
        try {
          // A progress bar with the rate, for files on a terminal.
          const progress = o.file !== undefined && io.stderr.isTTY === true && records.length > 0;
          const started = Date.now();
          for (let i = 0; i < records.length; i += 10_000) {
            await producer.send({ topic: topicName, messages: records.slice(i, i + 10_000) });
            if (progress)
              io.stderr.write(
                `\r${progressLine(Math.min(i + 10_000, records.length), records.length, started)}`,
              );
          }
          if (progress) io.stderr.write('\n');
        } finally {
          await producer.close({ timeoutMs: 5000 }).catch(() => {});
        }
        out(
          g.json
            ? `${toJson({ topic: topicName, records: records.length })}\n`
            : `wrote ${records.length} records to ${topicName}\n`,
        );
      },
    );
}
