// `samsa group`: list, describe (members, assignment, lag), delete, reset-offsets (dry run unless
// --execute; kafka-consumer-groups' scenarios and range checks), delete-offsets.

import { type Command, InvalidArgumentError } from 'commander';
import type { Admin, TopicDescription, TopicPartition } from '../../client/index.js';
import { keyValues, plural, table, toJson } from '../output.js';
import {
  type CliContext,
  collect,
  globals,
  intArg,
  isKafkaError,
  loadClient,
  parseDateTime,
  parseDuration,
  parsePartitions,
  sortTp,
  tpKey,
  UsageError,
  withAdmin,
} from '../shared.js';

export function addGroupCommands(program: Command, ctx: CliContext): void {
  const { out, colour } = ctx;
  const group = program
    .command('group')
    .description('list, describe and delete consumer groups; reset and delete their offsets');

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
            ['GROUP', 'STATE', 'PROTOCOL-TYPE', 'TYPE'],
            groups.map((x) => [x.groupId, x.state, x.protocolType, x.type || '-']),
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
            type: desc.type,
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
            ['TYPE', desc.type],
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
    .description(
      "plan, or with --execute set, a group's committed offsets (as kafka-consumer-groups --reset-offsets; the group must have no members)",
    )
    .option(
      '-t, --topic <topic[:partitions]>',
      'a topic, or some of its partitions (orders:0,2); repeatable',
      collect,
      [],
    )
    .option('--all-topics', 'every partition the group has committed offsets for')
    .option('--to-earliest', "to the log's start")
    .option('--to-latest', "to the log's end (the high watermark)")
    .option('--to-current', 'to the committed offset (the end where there is none)')
    .option('--to-offset <n>', 'to this offset', intArg('--to-offset'))
    .option('--shift-by <n>', 'move the committed offset by n (negative: back)', signedIntArg('--shift-by'))
    .option(
      '--to-datetime <datetime>',
      'to the first record at or after 2026-01-31T13:45:00.000 (local time, or Z/+01:00)',
      (v: string) => parseDateTime(v),
    )
    .option(
      '--by-duration <duration>',
      'to the first record at or after now minus an ISO-8601 duration (PT30M, P1D)',
      (v: string) => parseDuration(v),
    )
    .option(
      '--to-timestamp <ms>',
      'to the first record at or after this time (ms since the epoch)',
      intArg('--to-timestamp'),
    )
    .option('--dry-run', 'only print the plan (the default)')
    .option('--execute', 'apply the plan')
    .action(async (groupId: string, o: ResetOptions, cmd: Command) => {
      const g = globals(cmd);
      const scenario = resetScenario(o);
      if (o.execute && o.dryRun) throw new UsageError('give --dry-run or --execute, not both');
      if (o.allTopics && o.topic.length > 0) throw new UsageError('give --topic or --all-topics, not both');
      if (!o.allTopics && o.topic.length === 0)
        throw new UsageError('say which partitions: --topic T (or T:0,1; repeatable) or --all-topics');
      const selection = o.topic.map(parseTopicSelection);
      const plan = await withAdmin(g, async (admin) => {
        const plan = await planReset(admin, groupId, o.allTopics ? null : selection, scenario, (line) =>
          ctx.io.stderr.write(`warning: ${line}\n`),
        );
        if (o.execute && plan.length > 0)
          await admin.alterConsumerGroupOffsets(
            groupId,
            plan.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset })),
          );
        return plan;
      });
      const executed = o.execute === true;
      if (g.json)
        out(
          `${toJson({
            group: groupId,
            executed,
            offsets: plan.map((p) => ({
              topic: p.topic,
              partition: p.partition,
              current: p.current,
              offset: p.offset,
            })),
          })}\n`,
        );
      else
        out(
          table(
            ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'],
            plan.map((p) => [p.topic, p.partition, p.current ?? '-', p.offset]),
            colour,
          ),
        );
      ctx.io.stderr.write(
        executed
          ? `reset the offsets of ${plural(plan.length, 'partition')} of group '${groupId}'\n`
          : `dry run: nothing changed; add --execute to reset ${plural(plan.length, 'partition')}\n`,
      );
    });

  group
    .command('delete-offsets <group>')
    .description("delete a group's committed offsets for topics it no longer subscribes to (OffsetDelete)")
    .option(
      '-t, --topic <topic[:partitions]>',
      'a topic, or some of its partitions (orders:0,2); repeatable',
      collect,
      [],
    )
    .action(async (groupId: string, o: { topic: string[] }, cmd: Command) => {
      const g = globals(cmd);
      if (o.topic.length === 0) throw new UsageError('say which offsets: --topic T (or T:0,1; repeatable)');
      const selection = o.topic.map(parseTopicSelection);
      const { KafkaError } = await loadClient();
      const result = await withAdmin(g, async (admin) => {
        const tps = (await selectedPartitions(admin, selection)).sort(sortTp);
        try {
          await admin.deleteConsumerGroupOffsets(groupId, tps);
          return tps.map((tp) => ({ ...tp, error: null as InstanceType<typeof KafkaError> | null }));
        } catch (err) {
          // Per-partition errors (GROUP_SUBSCRIBED_TO_TOPIC...): shown per partition, then exit 1.
          if (!(err instanceof KafkaError) || !err.details) throw err;
          const failed = new Map(err.details.map((d) => [`${d.topic}\u0000${d.partition}`, d.error]));
          return tps.map((tp) => ({ ...tp, error: failed.get(tpKey(tp)) ?? null }));
        }
      });
      if (g.json)
        out(
          `${toJson(result.map((r) => ({ topic: r.topic, partition: r.partition, error: r.error?.name ?? null })))}\n`,
        );
      else
        out(
          table(
            ['TOPIC', 'PARTITION', 'STATUS'],
            result.map((r) => [r.topic, r.partition, r.error ? r.error.name : 'deleted']),
            colour,
          ),
        );
      const failed = result.filter((r) => r.error !== null);
      if (failed.length > 0) throw failed[0].error;
    });
}

/**
 * kafka-consumer-groups' reset plan: each partition's committed offset and the new one. The group
 * must be inactive (Kafka refuses otherwise, dry run included); `selection` null means every
 * partition the group has committed (--all-topics). An offset outside the log is moved to its
 * nearer end (Kafka's checkOffsetsRange), with a warning.
 */
async function planReset(
  admin: Admin,
  groupId: string,
  selection: { topic: string; partitions: number[] | null }[] | null,
  scenario: Scenario,
  warn: (line: string) => void,
): Promise<(TopicPartition & { current: bigint | null; offset: bigint })[]> {
  const [desc] = await admin.describeGroups([groupId]);
  // As Kafka: offsets are only reset while no consumer could overwrite them.
  if (desc.state !== 'Empty' && desc.state !== 'Dead')
    throw new Error(
      `offsets can only be reset while group '${groupId}' is inactive, but it is ${desc.state}; stop its consumers first`,
    );
  const committed = new Map((await admin.listConsumerGroupOffsets(groupId)).map((c) => [tpKey(c), c.offset]));
  const tps = !selection
    ? [...committed.keys()].map((k) => {
        const [topic, p] = k.split('\u0000');
        return { topic, partition: Number(p) };
      })
    : await selectedPartitions(admin, selection);
  if (tps.length === 0) return [];
  const [starts, ends] = await Promise.all([
    admin.listOffsets(tps, 'earliest'),
    admin.listOffsets(tps, 'latest'),
  ]);
  let byTime: Map<string, { offset: bigint }> | null = null;
  if (scenario.kind === 'time') byTime = await admin.listOffsets(tps, { timestamp: scenario.at() });
  return tps.sort(sortTp).map((tp) => {
    const k = tpKey(tp);
    const start = starts.get(k)?.offset ?? 0n;
    const end = ends.get(k)?.offset ?? 0n;
    const current = committed.get(k) ?? null;
    let want: bigint;
    switch (scenario.kind) {
      case 'earliest':
        want = start;
        break;
      case 'latest':
        want = end;
        break;
      case 'current':
        want = current ?? end;
        break;
      case 'offset':
        want = scenario.offset;
        break;
      case 'shift':
        if (current === null)
          throw new Error(
            `cannot shift the offset of ${tp.topic}-${tp.partition}: group '${groupId}' has no committed offset there`,
          );
        want = current + scenario.by;
        break;
      case 'time': {
        // No record at or after the time: the log's end, as Kafka.
        const at = byTime?.get(k)?.offset ?? -1n;
        want = at >= 0n ? at : end;
        break;
      }
    }
    // Kafka's checkOffsetsRange: an offset outside the log is moved to its nearer end.
    let offset = want;
    if (want > end) {
      warn(`new offset ${want} is past the end of ${tp.topic}-${tp.partition}; it will be ${end}`);
      offset = end;
    } else if (want < start) {
      warn(`new offset ${want} is before the start of ${tp.topic}-${tp.partition}; it will be ${start}`);
      offset = start;
    }
    return { ...tp, current, offset };
  });
}

interface ResetOptions {
  topic: string[];
  allTopics?: boolean;
  toEarliest?: boolean;
  toLatest?: boolean;
  toCurrent?: boolean;
  toOffset?: number;
  shiftBy?: number;
  toDatetime?: number;
  byDuration?: number;
  toTimestamp?: number;
  dryRun?: boolean;
  execute?: boolean;
}

type Scenario =
  | { kind: 'earliest' | 'latest' | 'current' }
  | { kind: 'offset'; offset: bigint }
  | { kind: 'shift'; by: bigint }
  | { kind: 'time'; at: () => number };

function resetScenario(o: ResetOptions): Scenario {
  const given: Scenario[] = [];
  if (o.toEarliest) given.push({ kind: 'earliest' });
  if (o.toLatest) given.push({ kind: 'latest' });
  if (o.toCurrent) given.push({ kind: 'current' });
  if (o.toOffset !== undefined) given.push({ kind: 'offset', offset: BigInt(o.toOffset) });
  if (o.shiftBy !== undefined) given.push({ kind: 'shift', by: BigInt(o.shiftBy) });
  if (o.toDatetime !== undefined) {
    const at = o.toDatetime;
    given.push({ kind: 'time', at: () => at });
  }
  if (o.byDuration !== undefined) {
    const d = o.byDuration;
    // From the time of the request, as Kafka's (now - duration).
    given.push({ kind: 'time', at: () => Date.now() - d });
  }
  if (o.toTimestamp !== undefined) {
    const at = o.toTimestamp;
    given.push({ kind: 'time', at: () => at });
  }
  if (given.length !== 1)
    throw new UsageError(
      'give exactly one of --to-earliest, --to-latest, --to-current, --to-offset N, --shift-by N, --to-datetime T, --by-duration D, --to-timestamp MS',
    );
  return given[0];
}

/** "orders" or "orders:0,2" (kafka-consumer-groups' --topic). */
function parseTopicSelection(value: string): { topic: string; partitions: number[] | null } {
  const i = value.lastIndexOf(':');
  if (i < 0) return { topic: value, partitions: null };
  return { topic: value.slice(0, i), partitions: parsePartitions(value.slice(i + 1), `--topic ${value}`) };
}

/**
 * The partitions a selection names, checked against the topics' metadata: a topic that does not
 * exist or a partition it does not have is an error (never created: the admin's Metadata requests
 * do not auto-create).
 */
async function selectedPartitions(
  admin: Admin,
  selection: { topic: string; partitions: number[] | null }[],
): Promise<TopicPartition[]> {
  const out = new Map<string, TopicPartition>();
  for (const sel of selection) {
    let desc: TopicDescription;
    try {
      [desc] = await admin.describeTopics([sel.topic]);
    } catch (err) {
      if (isKafkaError(err, 'UNKNOWN_TOPIC_OR_PARTITION'))
        throw new Error(`topic '${sel.topic}' does not exist; see \`samsa topic list\``);
      throw err;
    }
    const all = desc.partitions.map((p) => p.partition);
    const missing = (sel.partitions ?? []).filter((p) => !all.includes(p));
    if (missing.length > 0)
      throw new Error(
        `topic '${sel.topic}' has no partition ${missing.join(', ')} (it has ${plural(all.length, 'partition')})`,
      );
    for (const partition of sel.partitions ?? all)
      out.set(tpKey({ topic: sel.topic, partition }), { topic: sel.topic, partition });
  }
  return [...out.values()];
}

function signedIntArg(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
    return n;
  };
}
