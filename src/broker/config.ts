// Broker configuration: Kafka's names, types and defaults, read from a server.properties-style
// file and command-line overrides. Unknown names are kept (Kafka logs and ignores them) so that
// a user's existing server.properties loads unchanged.

import { readFileSync } from 'node:fs';

export type ConfigType = 'int' | 'long' | 'boolean' | 'string' | 'list';
export type ConfigValue = number | boolean | string | string[] | null;

export interface ConfigDef {
  readonly name: string;
  readonly type: ConfigType;
  readonly default: ConfigValue;
  readonly doc: string;
}

const HOUR = 3_600_000;

/** The broker configs Samsa reads, with Kafka's defaults unless noted. */
export const BROKER_CONFIGS: readonly ConfigDef[] = [
  {
    name: 'node.id',
    type: 'int',
    default: 1,
    doc: 'Kafka requires it; Samsa defaults to 1 for a single node.',
  },
  {
    name: 'process.roles',
    type: 'list',
    default: ['broker', 'controller'],
    doc: 'Samsa runs combined mode.',
  },
  {
    name: 'listeners',
    type: 'list',
    default: ['PLAINTEXT://127.0.0.1:9092'],
    doc: 'Samsa binds to loopback by default.',
  },
  { name: 'advertised.listeners', type: 'list', default: null, doc: 'Defaults to listeners.' },
  { name: 'log.dirs', type: 'list', default: ['./samsa-data'], doc: 'Where partitions and metadata live.' },
  {
    name: 'authorizer.class.name',
    type: 'string',
    default: '',
    doc: 'Empty: no authorizer, the ACL APIs answer SECURITY_DISABLED. Samsa has no authorizer yet and refuses to start with one named.',
  },
  { name: 'num.partitions', type: 'int', default: 1, doc: '' },
  { name: 'default.replication.factor', type: 'int', default: 1, doc: '' },
  { name: 'auto.create.topics.enable', type: 'boolean', default: true, doc: '' },
  { name: 'delete.topic.enable', type: 'boolean', default: true, doc: '' },
  { name: 'message.max.bytes', type: 'int', default: 1048588, doc: '' },
  { name: 'socket.request.max.bytes', type: 'int', default: 104857600, doc: '' },
  { name: 'connections.max.idle.ms', type: 'long', default: 600000, doc: '' },
  { name: 'queued.max.requests', type: 'int', default: 500, doc: 'Samsa applies it per connection.' },
  { name: 'log.segment.bytes', type: 'int', default: 1073741824, doc: '' },
  { name: 'log.roll.hours', type: 'int', default: 168, doc: '' },
  { name: 'log.roll.ms', type: 'long', default: null, doc: '' },
  { name: 'log.retention.hours', type: 'int', default: 168, doc: '' },
  { name: 'log.retention.minutes', type: 'int', default: null, doc: '' },
  { name: 'log.retention.ms', type: 'long', default: null, doc: '' },
  { name: 'log.retention.bytes', type: 'long', default: -1, doc: '' },
  { name: 'log.retention.check.interval.ms', type: 'long', default: 300000, doc: '' },
  { name: 'log.index.interval.bytes', type: 'int', default: 4096, doc: '' },
  { name: 'log.index.size.max.bytes', type: 'int', default: 10485760, doc: '' },
  {
    name: 'log.flush.interval.messages',
    type: 'long',
    default: null,
    doc: 'Unset: every ack waits for fsync.',
  },
  { name: 'log.flush.interval.ms', type: 'long', default: null, doc: 'Unset: every ack waits for fsync.' },
  { name: 'log.cleanup.policy', type: 'list', default: ['delete'], doc: '' },
  { name: 'log.message.timestamp.type', type: 'string', default: 'CreateTime', doc: '' },
  { name: 'compression.type', type: 'string', default: 'producer', doc: '' },
  { name: 'offsets.topic.num.partitions', type: 'int', default: 50, doc: '' },
  { name: 'offsets.topic.segment.bytes', type: 'int', default: 104857600, doc: '' },
  { name: 'offsets.retention.minutes', type: 'int', default: 10080, doc: '' },
  { name: 'offsets.retention.check.interval.ms', type: 'long', default: 600000, doc: '' },
  { name: 'offset.metadata.max.bytes', type: 'int', default: 4096, doc: '' },
  { name: 'group.min.session.timeout.ms', type: 'int', default: 6000, doc: '' },
  { name: 'group.max.session.timeout.ms', type: 'int', default: 1800000, doc: '' },
  { name: 'group.initial.rebalance.delay.ms', type: 'int', default: 3000, doc: '' },
  { name: 'group.max.size', type: 'int', default: 2147483647, doc: '' },
  { name: 'log.cleaner.enable', type: 'boolean', default: true, doc: '' },
  { name: 'log.cleaner.backoff.ms', type: 'long', default: 15000, doc: '' },
  { name: 'log.cleaner.dedupe.buffer.size', type: 'long', default: 134217728, doc: '' },
  { name: 'log.cleaner.io.buffer.size', type: 'int', default: 524288, doc: '' },
  { name: 'transaction.state.log.num.partitions', type: 'int', default: 50, doc: '' },
  { name: 'transaction.state.log.segment.bytes', type: 'int', default: 104857600, doc: '' },
  { name: 'transaction.max.timeout.ms', type: 'int', default: 900000, doc: '' },
  { name: 'transactional.id.expiration.ms', type: 'int', default: 604800000, doc: '' },
  {
    name: 'transaction.abort.timed.out.transaction.cleanup.interval.ms',
    type: 'int',
    default: 10000,
    doc: '',
  },
  {
    name: 'transaction.remove.expired.transaction.cleanup.interval.ms',
    type: 'int',
    default: 3600000,
    doc: '',
  },
  {
    name: 'unstable.api.versions.enable',
    type: 'boolean',
    default: false,
    doc: 'Serve API versions Kafka marks unstable (EndTxn v5, KIP-890 part 2).',
  },
  { name: 'transaction.partition.verification.enable', type: 'boolean', default: true, doc: '' },
  { name: 'producer.id.expiration.ms', type: 'int', default: 86400000, doc: '' },
  { name: 'producer.id.expiration.check.interval.ms', type: 'int', default: 600000, doc: '' },
];

const DEFS = new Map(BROKER_CONFIGS.map((d) => [d.name, d]));

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseValue(def: ConfigDef, raw: string): ConfigValue {
  const s = raw.trim();
  switch (def.type) {
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(s)) throw new ConfigError(`${def.name}: "${raw}" is not an integer`);
      const n = Number(s);
      if (def.type === 'int' && (n < -(2 ** 31) || n > 2 ** 31 - 1))
        throw new ConfigError(`${def.name}: ${s} is out of int range`);
      return n;
    }
    case 'boolean':
      if (s !== 'true' && s !== 'false') throw new ConfigError(`${def.name}: "${raw}" is not true or false`);
      return s === 'true';
    case 'list':
      return s === '' ? [] : s.split(',').map((x) => x.trim());
    default:
      return s;
  }
}

/** Parses Java .properties text: key=value or key: value, # and ! comments, \ line continuation. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i].trim();
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m) out.set(m[1], m[2]);
    else out.set(line, '');
  }
  return out;
}

export class BrokerConfig {
  private readonly values = new Map<string, ConfigValue>();
  /** Names set by the user (file or override) but unknown to Samsa. */
  readonly unknown: string[] = [];

  constructor(settings: Map<string, string> | Record<string, string> = {}) {
    const entries = settings instanceof Map ? [...settings] : Object.entries(settings);
    for (const [name, raw] of entries) {
      const def = DEFS.get(name);
      if (!def) {
        this.unknown.push(name);
        continue;
      }
      this.values.set(name, parseValue(def, raw));
    }
  }

  static fromFile(path: string, overrides: Record<string, string> = {}): BrokerConfig {
    const props = parseProperties(readFileSync(path, 'utf8'));
    for (const [k, v] of Object.entries(overrides)) props.set(k, v);
    return new BrokerConfig(props);
  }

  /** Whether the user set this config (a "static broker config" source in DescribeConfigs). */
  isSet(name: string): boolean {
    return this.values.has(name);
  }

  get(name: string): ConfigValue {
    const def = DEFS.get(name);
    if (!def) throw new Error(`unknown broker config ${name}`);
    return this.values.has(name) ? (this.values.get(name) as ConfigValue) : def.default;
  }

  int(name: string): number {
    return this.get(name) as number;
  }

  bool(name: string): boolean {
    return this.get(name) as boolean;
  }

  string(name: string): string {
    return this.get(name) as string;
  }

  list(name: string): string[] {
    return (this.get(name) as string[] | null) ?? [];
  }

  /** log.retention.ms, else minutes, else hours, as Kafka resolves it; -1 keeps forever. */
  get retentionMs(): number {
    const ms = this.get('log.retention.ms');
    if (ms !== null) return ms as number;
    const min = this.get('log.retention.minutes');
    if (min !== null) return (min as number) * 60_000;
    return this.int('log.retention.hours') * HOUR;
  }

  /** log.roll.ms, else log.roll.hours. */
  get segmentMs(): number {
    const ms = this.get('log.roll.ms');
    return ms !== null ? (ms as number) : this.int('log.roll.hours') * HOUR;
  }
}

export interface Listener {
  name: string;
  host: string;
  port: number;
}

/** Parses "PLAINTEXT://host:port" (an empty host means all interfaces, as in Kafka). */
export function parseListener(s: string): Listener {
  const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(s.trim());
  if (!m) throw new ConfigError(`listener "${s}" is not NAME://HOST:PORT`);
  const host = m[2].replace(/^\[|\]$/g, '');
  return { name: m[1], host, port: Number(m[3]) };
}
