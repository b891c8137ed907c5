// `samsa cluster`: cluster id, controller and brokers; broker configs (get, set: Kafka's
// kafka-configs --entity-type brokers).

import type { Command } from 'commander';
import type { AlterConfigOp } from '../../client/index.js';
import { ConfigSource } from '../../protocol/config-source.js';
import { keyValues, plural, table, toJson } from '../output.js';
import {
  type CliContext,
  collect,
  globals,
  intArg,
  loadClient,
  pairs,
  UsageError,
  withAdmin,
} from '../shared.js';

/** Kafka's names for config sources (DescribeConfigs), as kafka-configs prints them. */
const SOURCE_NAMES = new Map<number, string>(Object.entries(ConfigSource).map(([k, v]) => [v, k]));

export function addClusterCommands(program: Command, ctx: CliContext): void {
  const { out, colour } = ctx;
  const cluster = program.command('cluster').description('the cluster: brokers and their configs');
  cluster
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

  const config = cluster.command('config').description('broker configs (dynamic ones can be changed)');

  config
    .command('get [names...]')
    .description("a broker's configs: value, where it comes from, and whether it can be changed")
    .option('--broker <id>', 'the broker (default: the lowest broker id)', intArg('--broker'))
    .option('--dynamic', 'only the configs set dynamically (cluster-wide or for this broker)')
    .action(async (names: string[], o: { broker?: number; dynamic?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const { ConfigResourceType } = await loadClient();
      const { broker, entries } = await withAdmin(g, async (admin) => {
        const broker = o.broker ?? Math.min(...(await admin.describeCluster()).brokers.map((b) => b.nodeId));
        const all = await admin.describeConfigs([
          {
            type: ConfigResourceType.Broker,
            name: String(broker),
            names: names.length > 0 ? names : undefined,
          },
        ]);
        return { broker, entries: all.get(String(broker)) ?? [] };
      });
      // Kafka answers an unknown name with no entry at all: say so rather than print nothing.
      const unknown = names.filter((n) => !entries.some((e) => e.name === n));
      if (unknown.length > 0)
        throw new UsageError(
          `broker ${broker} has no config ${unknown.map((n) => `'${n}'`).join(', ')}; see \`samsa cluster config get\``,
        );
      const rows = entries
        .filter(
          (e) =>
            !o.dynamic ||
            e.source === ConfigSource.DYNAMIC_BROKER_CONFIG ||
            e.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
        )
        .map((e) => ({
          name: e.name,
          value: e.isSensitive ? null : e.value,
          source: SOURCE_NAMES.get(e.source) ?? String(e.source),
          readOnly: e.readOnly,
          sensitive: e.isSensitive,
        }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (g.json) {
        out(`${toJson({ broker, configs: rows })}\n`);
        return;
      }
      out(
        table(
          ['NAME', 'VALUE', 'SOURCE', 'DYNAMIC'],
          rows.map((r) => [
            r.name,
            r.sensitive ? '******' : (r.value ?? '(null)'),
            r.source,
            r.readOnly ? 'no' : 'yes',
          ]),
          colour,
        ),
      );
    });

  config
    .command('set [key=value...]')
    .description(
      'change dynamic broker configs, cluster-wide (the default) or for one broker; static ones are refused',
    )
    .option('--broker <id>', 'only this broker (default: the cluster-wide default)', intArg('--broker'))
    .option(
      '-d, --delete <key>',
      'remove a dynamic setting (back to the static or default value); repeatable',
      collect,
      [],
    )
    .action(async (settings: string[], o: { broker?: number; delete: string[] }, cmd: Command) => {
      const g = globals(cmd);
      const bad = settings.find((p) => !p.includes('='));
      if (bad !== undefined) throw new UsageError(`expected key=value, got "${bad}"`);
      const set = pairs(settings);
      const ops: AlterConfigOp[] = [
        ...Object.entries(set).map(([name, value]) => ({ name, op: 'set' as const, value })),
        ...o.delete.map((name) => ({ name, op: 'delete' as const })),
      ];
      if (ops.length === 0) throw new UsageError('nothing to change; give key=value and/or --delete key');
      const { ConfigResourceType } = await loadClient();
      const resource = o.broker === undefined ? '' : String(o.broker);
      await withAdmin(g, (admin) =>
        admin.incrementalAlterConfigs([{ type: ConfigResourceType.Broker, name: resource, ops }]),
      );
      const where = o.broker === undefined ? 'cluster-wide' : `on broker ${o.broker}`;
      out(
        g.json
          ? `${toJson({ broker: o.broker ?? null, set, deleted: o.delete })}\n`
          : `altered ${plural(ops.length, 'broker config')} ${where}\n`,
      );
    });
}
