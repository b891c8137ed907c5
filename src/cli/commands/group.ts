// `samsa group`: list, describe (members, assignment, lag), delete, reset-offsets.

import type { Command } from 'commander';
import type { OffsetSpec } from '../../client/index.js';
import { keyValues, table, toJson } from '../output.js';
import {
  type CliContext,
  globals,
  intArg,
  loadClient,
  sortTp,
  tpKey,
  UsageError,
  withAdmin,
} from '../shared.js';

export function addGroupCommands(program: Command, ctx: CliContext): void {
  const { out, colour } = ctx;
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
}
