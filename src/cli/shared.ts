// What every `samsa` client command shares: loading the client on demand, global options,
// argument parsers, one-line error messages, and the context a command group is built with.

import { type Command, InvalidArgumentError } from 'commander';
import type * as Client from '../client/index.js';
import type { Admin, TopicPartition } from '../client/index.js';
import type { CliIO } from './output.js';

// `samsa start` must not load the client and the client commands must not load the broker: each
// is loaded when a command needs it (module loading is most of the broker's start time).
let client: typeof Client | undefined;
export async function loadClient(): Promise<typeof Client> {
  client ??= await import('../client/index.js');
  return client;
}

/** A Kafka error from the client (with that name, when given). */
export function isKafkaError(err: unknown, name?: string): err is Client.KafkaError {
  return (
    client !== undefined && err instanceof client.KafkaError && (name === undefined || err.name === name)
  );
}

/** The key a topic-partition goes by in maps (as the client's own). */
export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

/** A usage error: the message says what to do. */
export class UsageError extends Error {}

/** A failure that is not a misuse of the command (a missing topic, bad input data): one line, no help hint. */
export class CliError extends Error {}

export interface GlobalOptions {
  brokers: string;
  json?: boolean;
  requestTimeout: number;
  /** How long to keep trying while no broker answers (socket.connection.setup.timeout.ms). */
  connectTimeout: number;
}

/** What a command group is built with: the streams, and whether stdout is a terminal. */
export interface CliContext {
  io: CliIO;
  out: (s: string) => void;
  colour: boolean;
}

/** Set once `samsa start` has a broker running: the process must then stay up. */
export const state = { brokerRunning: false };

export function collectPair(value: string, previous: string[]): string[] {
  if (!value.includes('=')) throw new InvalidArgumentError(`expected name=value, got "${value}"`);
  return [...previous, value];
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function intArg(name: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

/**
 * A point in time as kafka-consumer-groups' --to-datetime takes it: 'YYYY-MM-DDTHH:mm:SS.sss',
 * optionally with a zone ('Z', '+01:00'); without one, the local time zone, as Kafka. Seconds and
 * milliseconds may be left out. Returns ms since the epoch.
 */
export function parseDateTime(value: string): number {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(value);
  if (!m)
    throw new InvalidArgumentError(
      `expected a date-time like 2026-01-31T13:45:00.000 (optionally with Z or +01:00), got "${value}"`,
    );
  const [, y, mo, d, h, mi, sec = '0', ms = '0', zone] = m;
  const fields = [
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(sec),
    Number(ms.padEnd(3, '0')),
  ] as const;
  let t: number;
  if (zone === undefined) t = new Date(...fields).getTime();
  else {
    t = Date.UTC(...fields);
    if (zone !== 'Z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    }
  }
  const check = new Date(Date.UTC(...fields));
  if (
    Number.isNaN(t) ||
    check.getUTCMonth() !== fields[1] ||
    check.getUTCDate() !== fields[2] ||
    fields[3] > 23 ||
    fields[4] > 59 ||
    fields[5] > 59
  )
    throw new InvalidArgumentError(`not a valid date-time: "${value}"`);
  return t;
}

/**
 * An ISO-8601 duration as Java's Duration.parse (kafka-consumer-groups' --by-duration):
 * 'PnDTnHnMn.nS', e.g. P1D, PT30M, P1DT2H, PT0.5S. Returns milliseconds.
 */
export function parseDuration(value: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?$/i.exec(value);
  if (!m || value.toUpperCase() === 'P' || /T$/i.test(value))
    throw new InvalidArgumentError(
      `expected an ISO-8601 duration like PT30M, P1D or P1DT2H30M, got "${value}"`,
    );
  const [, d = '0', h = '0', mi = '0', s = '0'] = m;
  return Math.round(((Number(d) * 24 + Number(h)) * 60 + Number(mi)) * 60_000 + Number(s) * 1000);
}

/** A time given as ms since the epoch or as a date-time (see parseDateTime). */
export function parseTime(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  return parseDateTime(value);
}

/** "0,1,3": partition numbers. */
export function parsePartitions(value: string, what = 'partition list'): number[] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p)))
    throw new InvalidArgumentError(`${what} must be partition numbers separated by commas, got "${value}"`);
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

export function pairs(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of list) out[p.slice(0, p.indexOf('='))] = p.slice(p.indexOf('=') + 1);
  return out;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export function clientOptions(g: GlobalOptions) {
  return {
    brokers: g.brokers,
    clientId: 'samsa-cli',
    requestTimeoutMs: g.requestTimeout,
    connectTimeoutMs: Math.min(g.requestTimeout, g.connectTimeout ?? 5_000),
  };
}

export async function withAdmin<T>(g: GlobalOptions, fn: (admin: Admin) => Promise<T>): Promise<T> {
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
  context: { topic?: string; group?: string; command?: string; path?: string } = {},
): string {
  if (err instanceof UsageError || err instanceof CliError || err instanceof InvalidArgumentError)
    return err.message;
  if (client !== undefined && err instanceof client.BrokersUnreachableError) {
    const why = err.cause instanceof Error ? err.cause.message : err.message;
    return `cannot reach the cluster at ${g.brokers}: no broker answered within ${err.connectTimeoutMs} ms (${why}); is a broker running? set -b/--brokers or SAMSA_BROKERS`;
  }
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
      case 'TOPIC_DELETION_DISABLED':
        // The broker's message says why: an internal topic, or delete.topic.enable=false.
        return `cannot delete topic '${t}': ${err.details?.[0]?.error.message ?? err.message}`;
      case 'INVALID_PARTITIONS':
        return `invalid partition count: ${err.message}`;
      case 'INVALID_REPLICATION_FACTOR':
        return `invalid replication factor: ${err.message}; it cannot exceed the number of brokers (see \`samsa cluster info\`)`;
      case 'INVALID_CONFIG':
        return `invalid config: ${err.message}`;
      case 'GROUP_ID_NOT_FOUND':
        return `group '${grp}' does not exist; see \`samsa group list\``;
      case 'GROUP_SUBSCRIBED_TO_TOPIC':
        return `group '${grp}' still subscribes to that topic; its offsets there can be deleted once its consumers no longer subscribe to it`;
      case 'OFFSET_OUT_OF_RANGE':
        if (context.command === 'delete-records')
          return `${firstDetail(err)}; records can be deleted only up to the high watermark (--offset end deletes them all)`;
        return `${err.name}: ${err.message}`;
      case 'NON_EMPTY_GROUP':
      case 'UNKNOWN_MEMBER_ID':
        return `group '${grp}' has active members; stop its consumers first`;
      default:
        if (context.path === 'samsa cluster config set')
          return `cannot change broker configs (${err.name}): ${firstDetail(err)}`;
        return `${err.name}: ${err.message}`;
    }
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The message of a call's first failure (a partition's or resource's), else the error's own. */
function firstDetail(err: Client.KafkaError): string {
  const d = err.details?.[0];
  if (!d) return err.message;
  const where = d.partition !== undefined ? `${d.topic}-${d.partition}: ` : '';
  return `${where}${d.error.message}`;
}

export async function readAll(input: CliIO['stdin']): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input as AsyncIterable<Buffer | string>)
    chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

export function sortTp<T extends TopicPartition>(a: T, b: T): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

/** "[#####-----] 500/1000 records  12345 rec/s". */
export function progressLine(done: number, total: number, startedMs: number, now = Date.now()): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const rate = Math.round(done / Math.max((now - startedMs) / 1000, 0.001));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} records  ${rate} rec/s`;
}
