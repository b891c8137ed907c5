// `samsa topic`: create, list (with a filter), describe (with each partition's offsets and size),
// delete, alter-config, add-partitions, delete-records (alias trim-prefix).

import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Admin, AlterConfigOp, TopicDescription } from '../../client/index.js';
import { keyValues, plural, table, toJson } from '../output.js';
import {
  type CliContext,
  collect,
  collectPair,
  globals,
  intArg,
  isKafkaError,
  loadClient,
  pairs,
  parsePartitions,
  parseTime,
  UsageError,
  withAdmin,
} from '../shared.js';

export function addTopicCommands(program: Command, ctx: CliContext): void {
  const { out, colour } = ctx;
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
    .command('list [filter]')
    .description('list topics; a filter keeps the names that contain it or match it as a regular expression')
    .option('-i, --internal', 'include internal topics')
    .action(async (filter: string | undefined, o: { internal?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const matches = nameFilter(filter);
      const rows = await withAdmin(g, async (admin) => {
        const names = (await admin.listTopics({ listInternal: o.internal })).filter(matches).sort();
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
    .description(
      'partitions (leader, replicas, ISR, log start, high watermark, last stable offset, size) and the configs that are not default',
    )
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const { desc, configs, offsets } = await withAdmin(g, async (admin) => {
        const [desc] = await admin.describeTopics([name]);
        const all = await admin.describeConfigs([
          { type: (await loadClient()).ConfigResourceType.Topic, name },
        ]);
        const configs = (all.get(name) ?? [])
          .filter((c) => !c.isDefault)
          .map((c) => ({ name: c.name, value: c.isSensitive ? '******' : c.value }))
          .sort((a, b) => (a.name < b.name ? -1 : 1));
        return { desc, configs, offsets: await partitionOffsets(admin, desc) };
      });
      const partitions = [...desc.partitions]
        .sort((a, b) => a.partition - b.partition)
        .map((p) => ({ ...p, ...offsets.get(p.partition) }));
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
              logStartOffset: p.logStart ?? null,
              highWatermark: p.highWatermark ?? null,
              lastStableOffset: p.lastStable ?? null,
              size: p.size ?? null,
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
      const dash = (v: unknown) => (v === undefined || v === null ? '-' : v);
      out(
        table(
          ['PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'LOG-START', 'HIGH-WATERMARK', 'LSO', 'SIZE'],
          partitions.map((p) => [
            p.partition,
            p.leader,
            p.replicas.join(','),
            p.isr.join(','),
            dash(p.logStart),
            dash(p.highWatermark),
            dash(p.lastStable),
            dash(p.size),
          ]),
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
          : `altered ${plural(ops.length, 'config')} of topic ${name}\n`,
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
          : `topic ${name} now has ${plural(o.num, 'partition')}\n`,
      );
    });

  topic
    .command('delete-records <name>')
    .alias('trim-prefix')
    .description(
      "delete the records before an offset or a time (DeleteRecords): each partition's log start moves up to it",
    )
    .option(
      '-o, --offset <offset>',
      "delete the records before this offset ('end': every record, up to the high watermark)",
    )
    .option(
      '--before <time>',
      'delete the records older than this time (ms since the epoch, or 2026-01-31T13:45:00.000[Z])',
      (v: string) => parseTime(v),
    )
    .option('-p, --partitions <list>', 'only these partitions, e.g. 0,2 (default: all)', (v: string) =>
      parsePartitions(v, '--partitions'),
    )
    .action(
      async (name: string, o: { offset?: string; before?: number; partitions?: number[] }, cmd: Command) => {
        const g = globals(cmd);
        if ((o.offset === undefined) === (o.before === undefined))
          throw new UsageError('give exactly one of --offset N (or end) and --before TIME');
        let offset: bigint | undefined;
        if (o.offset !== undefined) {
          if (o.offset === 'end') offset = -1n;
          else if (/^\d+$/.test(o.offset)) offset = BigInt(o.offset);
          else throw new InvalidArgumentError(`--offset must be an offset >= 0 or 'end', got "${o.offset}"`);
        }
        const result = await withAdmin(g, async (admin) => {
          const [desc] = await admin.describeTopics([name]);
          const all = desc.partitions.map((p) => p.partition);
          const chosen = o.partitions ?? all;
          const missing = chosen.filter((p) => !all.includes(p));
          if (missing.length > 0)
            throw new Error(
              `topic '${name}' has no partition ${missing.join(', ')} (it has ${plural(all.length, 'partition')})`,
            );
          const tps = chosen.map((partition) => ({ topic: name, partition }));
          let targets: Map<number, bigint>;
          if (offset !== undefined) targets = new Map(chosen.map((p) => [p, offset]));
          else {
            // The first record at or after the time; none (every record is older): all of them.
            const found = await admin.listOffsets(tps, { timestamp: o.before as number });
            targets = new Map(
              chosen.map((p) => {
                const at = found.get(`${name}\u0000${p}`)?.offset ?? -1n;
                return [p, at >= 0n ? at : -1n];
              }),
            );
          }
          const low = await admin.deleteRecords(
            chosen.map((partition) => ({
              topic: name,
              partition,
              offset: targets.get(partition) as bigint,
            })),
          );
          return chosen.map((partition) => ({
            topic: name,
            partition,
            logStartOffset: low.get(`${name}\u0000${partition}`) as bigint,
          }));
        });
        if (g.json) out(`${toJson(result)}\n`);
        else {
          out(
            table(
              ['TOPIC', 'PARTITION', 'LOG-START'],
              result.map((r) => [r.topic, r.partition, r.logStartOffset]),
              colour,
            ),
          );
        }
      },
    );
}

/** A topic-list filter: contains the text, or matches it as a regular expression. */
function nameFilter(filter: string | undefined): (name: string) => boolean {
  if (filter === undefined || filter === '') return () => true;
  let re: RegExp | null = null;
  try {
    re = new RegExp(filter);
  } catch {
    // not a regular expression: a plain substring
  }
  return (name) => name.includes(filter) || re?.test(name) === true;
}

interface PartitionOffsets {
  logStart?: bigint;
  highWatermark?: bigint;
  lastStable?: bigint;
  size?: bigint;
}

/**
 * Each partition's log start and high watermark (ListOffsets earliest and latest), last stable
 * offset (latest with read_committed) and size on its leader (DescribeLogDirs). What cannot be
 * learnt (no leader, an offline log dir) is left out rather than failing the whole description.
 */
async function partitionOffsets(
  admin: Admin,
  desc: TopicDescription,
): Promise<Map<number, PartitionOffsets>> {
  const out = new Map<number, PartitionOffsets>(desc.partitions.map((p) => [p.partition, {}]));
  const tps = desc.partitions
    .filter((p) => p.leader >= 0)
    .map((p) => ({ topic: desc.name, partition: p.partition }));
  if (tps.length === 0) return out;
  const key = (p: number) => `${desc.name}\u0000${p}`;
  const [start, end, stable, dirs] = await Promise.all([
    admin.listOffsets(tps, 'earliest').catch(() => null),
    admin.listOffsets(tps, 'latest').catch(() => null),
    admin.listOffsets(tps, 'latest', { isolationLevel: 'read_committed' }).catch(() => null),
    admin
      .describeLogDirs([...new Set(desc.partitions.map((p) => p.leader).filter((l) => l >= 0))])
      .catch(() => null),
  ]);
  for (const p of desc.partitions) {
    const o = out.get(p.partition) as PartitionOffsets;
    o.logStart = start?.get(key(p.partition))?.offset;
    o.highWatermark = end?.get(key(p.partition))?.offset;
    o.lastStable = stable?.get(key(p.partition))?.offset;
    for (const dir of dirs?.get(p.leader) ?? []) {
      const found = dir.partitions.find((x) => x.topic === desc.name && x.partition === p.partition);
      if (found) o.size = (o.size ?? 0n) + found.size;
    }
  }
  return out;
}
