// `samsa topic`: create, list, describe, delete, alter-config, add-partitions.

import type { Command } from 'commander';
import type { AlterConfigOp } from '../../client/index.js';
import { keyValues, table, toJson } from '../output.js';
import {
  type CliContext,
  collect,
  collectPair,
  globals,
  intArg,
  isKafkaError,
  loadClient,
  pairs,
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
}
