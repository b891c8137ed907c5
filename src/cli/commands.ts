// The `samsa` client commands (topic, produce, consume, group, cluster, perf), built on samsa/client.
// `main(argv, io)` runs one command line against the given streams and resolves to its exit code:
// 0 on success, 1 on a Kafka or usage error (a one-line message on stderr that says what to do).

import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BrokerConfig, parseProperties } from '../broker/config.js';
import type * as Client from '../client/index.js';
import type {
  Admin,
  AlterConfigOp,
  ConsumerRecord,
  OffsetSpec,
  ProducerRecord,
  TopicPartition,
} from '../client/index.js';
import { COMPRESSION_NAMES, type CompressionName } from '../protocol/compression/types.js';
import { type CliIO, keyValues, table, toJson } from './output.js';
import { addPerfCommands } from './perf.js';

// `samsa start` must not load the client and the client commands must not load the broker: each
// is loaded when a command needs it (module loading is most of the broker's start time).
let client: typeof Client | undefined;
async function loadClient(): Promise<typeof Client> {
  client ??= await import('../client/index.js');
  return client;
}

/** A Kafka error from the client (with that name, when given). */
function isKafkaError(err: unknown, name?: string): err is Client.KafkaError {
  return (
    client !== undefined && err instanceof client.KafkaError && (name === undefined || err.name === name)
  );
}

/** The key a topic-partition goes by in maps (as the client's own). */
function tpKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

/** A usage error: the message says what to do. */
export class UsageError extends Error {}

interface GlobalOptions {
  brokers: string;
  json?: boolean;
  requestTimeout: number;
}

/** Set once `samsa start` has a broker running: the process must then stay up. */
export const state = { brokerRunning: false };

function collectPair(value: string, previous: string[]): string[] {
  if (!value.includes('=')) throw new InvalidArgumentError(`expected name=value, got "${value}"`);
  return [...previous, value];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function intArg(name: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

function pairs(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of list) out[p.slice(0, p.indexOf('='))] = p.slice(p.indexOf('=') + 1);
  return out;
}

function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

function clientOptions(g: GlobalOptions) {
  return {
    brokers: g.brokers,
    clientId: 'samsa-cli',
    requestTimeoutMs: g.requestTimeout,
    connectTimeoutMs: Math.min(g.requestTimeout, 10_000),
  };
}

async function withAdmin<T>(g: GlobalOptions, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new (await loadClient()).Admin(clientOptions(g));
  try {
    return await fn(admin);
  } finally {
    await admin.close().catch(() => {});
  }
}

/** Turns a client error into one line that says what went wrong and what to do. */
export function describeError(
  err: unknown,
  g: { brokers?: string },
  context: { topic?: string; group?: string; command?: string } = {},
): string {
  if (err instanceof UsageError || err instanceof InvalidArgumentError) return err.message;
  if (
    client !== undefined &&
    (err instanceof client.KafkaConnectionError ||
      (err instanceof client.KafkaTimeoutError && /connect|metadata/i.test(err.message)))
  )
    return `cannot reach the cluster at ${g.brokers} (${err.message}); is a broker running? set -b/--brokers or SAMSA_BROKERS`;
  if (isKafkaError(err)) {
    const t = context.topic;
    const grp = context.group;
    switch (err.name) {
      case 'TOPIC_ALREADY_EXISTS':
        return `topic '${t}' already exists; use --if-not-exists to ignore this`;
      case 'UNKNOWN_TOPIC_OR_PARTITION':
      case 'UNKNOWN_TOPIC_ID':
        return `topic '${t}' does not exist; see \`samsa topic list\`${context.command === 'delete' ? ' (or use --if-exists)' : ''}`;
      case 'INVALID_PARTITIONS':
        return `invalid partition count: ${err.message}`;
      case 'INVALID_REPLICATION_FACTOR':
        return `invalid replication factor: ${err.message}; it cannot exceed the number of brokers (see \`samsa cluster info\`)`;
      case 'INVALID_CONFIG':
        return `invalid config: ${err.message}`;
      case 'GROUP_ID_NOT_FOUND':
        return `group '${grp}' does not exist; see \`samsa group list\``;
      case 'NON_EMPTY_GROUP':
      case 'UNKNOWN_MEMBER_ID':
        return `group '${grp}' has active members; stop its consumers first`;
      default:
        return `${err.name}: ${err.message}`;
    }
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

async function readAll(input: CliIO['stdin']): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input as AsyncIterable<Buffer | string>)
    chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

function sortTp<T extends TopicPartition>(a: T, b: T): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

/** "[#####-----] 500/1000 records  12345 rec/s". */
export function progressLine(done: number, total: number, startedMs: number, now = Date.now()): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const rate = Math.round(done / Math.max((now - startedMs) / 1000, 0.001));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} records  ${rate} rec/s`;
}

// ---- consume output ----

interface PrintOptions {
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

// ---- the program ----

export function buildProgram(io: CliIO): Command {
  const env = io.env ?? process.env;
  const colour = io.stdout.isTTY === true;
  const out = (s: string) => io.stdout.write(s);
  const program = new Command('samsa')
    .description('Apache Kafka, rebuilt in TypeScript')
    .option(
      '-b, --brokers <list>',
      'bootstrap brokers, host:port[,host:port] (env SAMSA_BROKERS)',
      env.SAMSA_BROKERS || '127.0.0.1:9092',
    )
    .option('--json', 'machine-readable output')
    .addOption(
      new Option('--request-timeout <ms>', 'how long a request may take')
        .default(30_000)
        .argParser(intArg('--request-timeout', 1)),
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  // ---- start ----
  program
    .command('start')
    .description('start a broker (a one-node KRaft cluster: broker and controller in one process)')
    .option('-c, --config <file>', 'a server.properties file (Kafka config names)')
    .option('--listeners <list>', 'e.g. PLAINTEXT://127.0.0.1:9092')
    .option('--log-dirs <dirs>', 'data directories (default ./samsa-data)')
    .option('--node-id <n>', 'node.id')
    .option('-o, --override <name=value>', 'set any broker config; repeatable', collectPair, [])
    .action(
      async (opts: {
        config?: string;
        listeners?: string;
        logDirs?: string;
        nodeId?: string;
        override: string[];
      }) => {
        const settings = opts.config
          ? parseProperties(readFileSync(opts.config, 'utf8'))
          : new Map<string, string>();
        if (opts.listeners) settings.set('listeners', opts.listeners);
        if (opts.logDirs) settings.set('log.dirs', opts.logDirs);
        if (opts.nodeId) settings.set('node.id', opts.nodeId);
        for (const o of opts.override) settings.set(o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1));
        const { Broker } = await import('../broker/broker.js');
        const broker = await Broker.start({ config: new BrokerConfig(settings), rawConfig: settings });
        state.brokerRunning = true;
        let stopping = false;
        const stop = async (signal: string) => {
          if (stopping) return;
          stopping = true;
          broker.log.info({ signal }, 'shutting down');
          await broker.stop();
          process.exit(0);
        };
        process.on('SIGINT', () => void stop('SIGINT'));
        process.on('SIGTERM', () => void stop('SIGTERM'));
      },
    );

  // ---- topic ----
  const topic = program.command('topic').description('create, list, describe, delete and change topics');

  topic
    .command('create <name>')
    .description('create a topic')
    .option('-p, --partitions <n>', 'partition count (broker default if absent)', intArg('--partitions', 1))
    .option(
      '-r, --replication <n>',
      'replication factor (broker default if absent)',
      intArg('--replication', 1),
    )
    .option('-c, --config <key=value>', 'a topic config; repeatable', collectPair, [])
    .option('--if-not-exists', 'succeed if the topic exists already')
    .action(
      async (
        name: string,
        o: { partitions?: number; replication?: number; config: string[]; ifNotExists?: boolean },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        let created = true;
        await withAdmin(g, async (admin) => {
          try {
            await admin.createTopics([
              {
                name,
                numPartitions: o.partitions,
                replicationFactor: o.replication,
                configs: pairs(o.config),
              },
            ]);
          } catch (err) {
            if (!(o.ifNotExists && isKafkaError(err, 'TOPIC_ALREADY_EXISTS'))) throw err;
            created = false;
          }
        });
        out(
          g.json
            ? `${toJson({ topic: name, created })}\n`
            : created
              ? `created topic ${name}\n`
              : `topic ${name} already exists\n`,
        );
      },
    );

  topic
    .command('list')
    .description('list topics')
    .option('-i, --internal', 'include internal topics')
    .action(async (o: { internal?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const rows = await withAdmin(g, async (admin) => {
        const names = (await admin.listTopics({ listInternal: o.internal })).sort();
        if (names.length === 0) return [];
        const descs = await admin.describeTopics(names);
        return descs
          .map((d) => ({
            name: d.name,
            partitions: d.partitions.length,
            replicas: d.partitions[0]?.replicas.length ?? 0,
          }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      });
      if (g.json) out(`${toJson(rows)}\n`);
      else
        out(
          table(
            ['NAME', 'PARTITIONS', 'REPLICAS'],
            rows.map((r) => [r.name, r.partitions, r.replicas]),
            colour,
          ),
        );
    });

  topic
    .command('describe <name>')
    .description('partitions (leader, replicas, ISR) and the configs that are not default')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const { desc, configs } = await withAdmin(g, async (admin) => {
        const [desc] = await admin.describeTopics([name]);
        const all = await admin.describeConfigs([
          { type: (await loadClient()).ConfigResourceType.Topic, name },
        ]);
        const configs = (all.get(name) ?? [])
          .filter((c) => !c.isDefault)
          .map((c) => ({ name: c.name, value: c.isSensitive ? '******' : c.value }))
          .sort((a, b) => (a.name < b.name ? -1 : 1));
        return { desc, configs };
      });
      const partitions = [...desc.partitions].sort((a, b) => a.partition - b.partition);
      if (g.json) {
        out(
          `${toJson({
            name: desc.name,
            topicId: desc.topicId,
            internal: desc.isInternal,
            partitions: partitions.map((p) => ({
              partition: p.partition,
              leader: p.leader,
              replicas: p.replicas,
              isr: p.isr,
            })),
            configs: Object.fromEntries(configs.map((c) => [c.name, c.value])),
          })}\n`,
        );
        return;
      }
      out(
        keyValues(
          [
            ['NAME', desc.name],
            ['ID', desc.topicId],
            ['INTERNAL', desc.isInternal],
            ['PARTITIONS', partitions.length],
          ],
          colour,
        ),
      );
      out('\n');
      out(
        table(
          ['PARTITION', 'LEADER', 'REPLICAS', 'ISR'],
          partitions.map((p) => [p.partition, p.leader, p.replicas.join(','), p.isr.join(',')]),
          colour,
        ),
      );
      out('\n');
      if (configs.length === 0) out('(no configs set; all defaults)\n');
      else
        out(
          table(
            ['CONFIG', 'VALUE'],
            configs.map((c) => [c.name, c.value]),
            colour,
          ),
        );
    });

  topic
    .command('delete <name>')
    .description('delete a topic')
    .option('--if-exists', 'succeed if the topic does not exist')
    .action(async (name: string, o: { ifExists?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      let deleted = true;
      await withAdmin(g, async (admin) => {
        try {
          await admin.deleteTopics([name]);
        } catch (err) {
          if (!(o.ifExists && isKafkaError(err, 'UNKNOWN_TOPIC_OR_PARTITION'))) throw err;
          deleted = false;
        }
      });
      out(
        g.json
          ? `${toJson({ topic: name, deleted })}\n`
          : deleted
            ? `deleted topic ${name}\n`
            : `topic ${name} does not exist\n`,
      );
    });

  topic
    .command('alter-config <name>')
    .description('set or remove topic configs')
    .option('-s, --set <key=value>', 'set a config; repeatable', collectPair, [])
    .option('-d, --delete <key>', 'remove a config (back to the default); repeatable', collect, [])
    .action(async (name: string, o: { set: string[]; delete: string[] }, cmd: Command) => {
      const g = globals(cmd);
      const ops: AlterConfigOp[] = [
        ...Object.entries(pairs(o.set)).map(([k, v]) => ({ name: k, op: 'set' as const, value: v })),
        ...o.delete.map((k) => ({ name: k, op: 'delete' as const })),
      ];
      if (ops.length === 0)
        throw new UsageError('nothing to change; give --set key=value and/or --delete key');
      const { ConfigResourceType } = await loadClient();
      await withAdmin(g, (admin) =>
        admin.incrementalAlterConfigs([{ type: ConfigResourceType.Topic, name, ops }]),
      );
      out(
        g.json
          ? `${toJson({ topic: name, set: pairs(o.set), deleted: o.delete })}\n`
          : `altered ${ops.length} config(s) of topic ${name}\n`,
      );
    });

  topic
    .command('add-partitions <name>')
    .description('raise the partition count of a topic')
    .requiredOption('-n, --num <count>', 'the new total partition count', intArg('--num', 1))
    .action(async (name: string, o: { num: number }, cmd: Command) => {
      const g = globals(cmd);
      await withAdmin(g, (admin) => admin.createPartitions([{ topic: name, count: o.num }]));
      out(
        g.json
          ? `${toJson({ topic: name, partitions: o.num })}\n`
          : `topic ${name} now has ${o.num} partitions\n`,
      );
    });

  // ---- produce ----
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

  // ---- consume ----
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

  // ---- group ----
  const group = program
    .command('group')
    .description('list, describe, delete consumer groups and reset their offsets');

  group
    .command('list')
    .description('list groups')
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const groups = await withAdmin(g, (admin) => admin.listGroups());
      groups.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
      if (g.json)
        out(
          `${toJson(groups.map((x) => ({ group: x.groupId, state: x.state, protocolType: x.protocolType, type: x.type })))}\n`,
        );
      else
        out(
          table(
            ['GROUP', 'STATE', 'PROTOCOL-TYPE'],
            groups.map((x) => [x.groupId, x.state, x.protocolType]),
            colour,
          ),
        );
    });

  group
    .command('describe <group>')
    .description('members, their assignment, and committed offset and lag per partition')
    .action(async (groupId: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const { desc, lag } = await withAdmin(g, async (admin) => {
        const [desc] = await admin.describeGroups([groupId]);
        const lag = desc.state === 'Dead' ? [] : await admin.consumerGroupLag(groupId);
        return { desc, lag };
      });
      if (desc.state === 'Dead')
        throw new (await loadClient()).KafkaError(69, `group ${groupId} does not exist`);
      const owner = new Map<string, string>();
      for (const m of desc.members) for (const tp of m.assignment ?? []) owner.set(tpKey(tp), m.memberId);
      lag.sort(sortTp);
      if (g.json) {
        out(
          `${toJson({
            group: desc.groupId,
            state: desc.state,
            protocol: desc.protocol,
            members: desc.members.map((m) => ({
              memberId: m.memberId,
              clientId: m.clientId,
              host: m.clientHost,
              assignment: (m.assignment ?? []).slice().sort(sortTp),
            })),
            offsets: lag.map((l) => ({
              topic: l.topic,
              partition: l.partition,
              committed: l.committed,
              end: l.end,
              lag: l.lag,
              memberId: owner.get(tpKey(l)) ?? null,
            })),
          })}\n`,
        );
        return;
      }
      out(
        keyValues(
          [
            ['GROUP', desc.groupId],
            ['STATE', desc.state],
            ['PROTOCOL', desc.protocol || '-'],
            ['MEMBERS', desc.members.length],
          ],
          colour,
        ),
      );
      out('\n');
      if (desc.members.length > 0) {
        out(
          table(
            ['MEMBER', 'CLIENT', 'HOST', 'ASSIGNMENT'],
            desc.members.map((m) => [
              m.memberId,
              m.clientId,
              m.clientHost,
              (m.assignment ?? [])
                .slice()
                .sort(sortTp)
                .map((tp) => `${tp.topic}-${tp.partition}`)
                .join(','),
            ]),
            colour,
          ),
        );
        out('\n');
      }
      if (lag.length === 0) out('(no committed offsets)\n');
      else
        out(
          table(
            ['TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG', 'MEMBER'],
            lag.map((l) => [l.topic, l.partition, l.committed, l.end, l.lag, owner.get(tpKey(l)) ?? '-']),
            colour,
          ),
        );
    });

  group
    .command('delete <group>')
    .description('delete a group (it must have no members)')
    .action(async (groupId: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      await withAdmin(g, (admin) => admin.deleteGroups([groupId]));
      out(g.json ? `${toJson({ group: groupId, deleted: true })}\n` : `deleted group ${groupId}\n`);
    });

  group
    .command('reset-offsets <group>')
    .description("set a group's committed offsets for a topic (the group must have no members)")
    .requiredOption('-t, --topic <topic>', 'the topic')
    .option('--to-earliest', 'to the first offset')
    .option('--to-latest', 'to the log end')
    .option('--to-offset <n>', 'to this offset', intArg('--to-offset'))
    .option('--to-timestamp <ms>', 'to the first record at or after this time', intArg('--to-timestamp'))
    .action(
      async (
        groupId: string,
        o: {
          topic: string;
          toEarliest?: boolean;
          toLatest?: boolean;
          toOffset?: number;
          toTimestamp?: number;
        },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const specs: OffsetSpec[] = [];
        if (o.toEarliest) specs.push('earliest');
        if (o.toLatest) specs.push('latest');
        if (o.toOffset !== undefined) specs.push({ offset: o.toOffset });
        if (o.toTimestamp !== undefined) specs.push({ timestamp: o.toTimestamp });
        if (specs.length !== 1)
          throw new UsageError(
            'give exactly one of --to-earliest, --to-latest, --to-offset N, --to-timestamp MS',
          );
        const result = await withAdmin(g, (admin) =>
          admin.resetConsumerGroupOffsets(groupId, o.topic, specs[0]),
        );
        result.sort(sortTp);
        if (g.json)
          out(
            `${toJson(result.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset })))}\n`,
          );
        else
          out(
            table(
              ['TOPIC', 'PARTITION', 'NEW-OFFSET'],
              result.map((r) => [r.topic, r.partition, r.offset]),
              colour,
            ),
          );
      },
    );

  // ---- cluster ----
  program
    .command('cluster')
    .description('the cluster')
    .command('info')
    .description('cluster id, controller and brokers')
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const info = await withAdmin(g, (admin) => admin.describeCluster());
      const brokers = [...info.brokers].sort((a, b) => a.nodeId - b.nodeId);
      if (g.json) {
        out(`${toJson({ clusterId: info.clusterId, controller: info.controllerId, brokers })}\n`);
        return;
      }
      out(
        keyValues(
          [
            ['CLUSTER', info.clusterId],
            ['CONTROLLER', info.controllerId],
          ],
          colour,
        ),
      );
      out('\n');
      out(
        table(
          ['ID', 'HOST', 'PORT', 'RACK'],
          brokers.map((b) => [b.nodeId, b.host, b.port, b.rack ?? '-']),
          colour,
        ),
      );
    });

  // ---- perf ----
  addPerfCommands(program, {
    io,
    colour,
    loadClient,
    intArg,
    compressionNames: COMPRESSION_NAMES,
    clientOptions: (cmd) => {
      const g = globals(cmd);
      return { opts: { ...clientOptions(g), maxBlockMs: g.requestTimeout }, json: g.json === true };
    },
  });

  return program;
}

/** Runs one command line (argv without node and script); resolves to the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const program = buildProgram(io);
  let context: { topic?: string; group?: string; command?: string } = {};
  program.hook('preAction', (_root, action) => {
    const arg = action.args[0];
    const path = [];
    for (let c: Command | null = action; c; c = c.parent) path.unshift(c.name());
    if (path.includes('group')) context = { group: arg, topic: action.opts().topic, command: action.name() };
    else context = { topic: arg ?? action.opts().topic, command: action.name() };
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    io.stderr.write(`samsa: ${describeError(err, program.opts(), context)}\n`);
    return 1;
  }
}
