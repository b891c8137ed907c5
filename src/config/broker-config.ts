// A broker's static configuration: server.properties text and command-line overrides, parsed and
// validated against the registry (registry.ts) as Kafka's KafkaConfig does at start. Names the
// registry does not know are kept aside (Kafka logs and ignores them, so an existing
// server.properties loads unchanged) for the one "supplied but not used" warning.

import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import { type ListenerSettings, type ResolvedListener, resolveListeners } from './listeners.js';
import { BROKER_CONFIGS, type BrokerConfigDef } from './registry.js';
import { formatConfigValue, type ParsedValue, parseConfigValue } from './values.js';

/** A broker config value as BrokerConfig hands it out: longs as numbers (exact below 2^53). */
export type ConfigValue = number | boolean | string | string[] | null;

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

function toConfigValue(v: ParsedValue): ConfigValue {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return [...(v as readonly string[])];
  return v as ConfigValue;
}

/** The redacted form of a password's value in logs (Kafka's Password.toString). */
export const HIDDEN = '[hidden]';

/**
 * `values` as one loggable object, by name: each value in the string form Kafka reports, and a
 * password config's value replaced by [hidden].
 */
export function loggableConfigs(
  values: Iterable<readonly [string, ParsedValue]>,
  defs: ReadonlyMap<string, Pick<BrokerConfigDef, 'type'>> = BROKER_CONFIGS,
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [name, v] of values) {
    // listener.name.<listener>.<config> is redacted as <config> is.
    const def = defs.get(name) ?? defs.get(splitListenerPrefix(name)?.config ?? '');
    if (!def) continue;
    out[name] = def.type === 'password' ? HIDDEN : formatConfigValue(def.type, v);
  }
  return out;
}

/**
 * Splits Kafka's per-listener form of a config, listener.name.<listener>.<config>, into the
 * listener name (lower-case, as Kafka's ListenerName.configPrefix writes it) and the config name.
 */
export function splitListenerPrefix(name: string): { listener: string; config: string } | null {
  const m = /^listener\.name\.([^.]+)\.(.+)$/.exec(name);
  return m ? { listener: m[1].toLowerCase(), config: m[2] } : null;
}

function sameValue(a: ParsedValue, b: ParsedValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

export class BrokerConfig {
  private readonly values = new Map<string, ParsedValue>();
  /** listener.name.<listener>.<config> values, by lower-case listener name then config name. */
  private readonly listenerValues = new Map<string, Map<string, ParsedValue>>();
  /** Names set by the user (file, override or startBroker's config) but unknown to Samsa. */
  readonly unknown: string[] = [];

  /** Throws ConfigError (Kafka's message) on the first value that does not parse or validate. */
  constructor(settings: Map<string, string> | Record<string, string> = {}) {
    const entries = settings instanceof Map ? [...settings] : Object.entries(settings);
    for (const [name, raw] of entries) {
      const def = BROKER_CONFIGS.get(name);
      const prefixed = def ? null : splitListenerPrefix(name);
      const base = prefixed ? BROKER_CONFIGS.get(prefixed.config) : undefined;
      if (prefixed && base && prefixed.config.startsWith('ssl.')) {
        // A listener's own value, validated as the config it overrides (Kafka's ListenerName
        // prefix; only the SSL configs are read per listener so far).
        const p = parseConfigValue({ ...base, name }, raw);
        if (!p.ok) throw new ConfigError(p.error);
        const m = this.listenerValues.get(prefixed.listener) ?? new Map<string, ParsedValue>();
        this.listenerValues.set(prefixed.listener, m);
        m.set(prefixed.config, p.value);
        continue;
      }
      if (!def) {
        if (!this.unknown.includes(name)) this.unknown.push(name);
        continue;
      }
      const p = parseConfigValue(def, raw);
      if (!p.ok) throw new ConfigError(p.error);
      this.values.set(name, p.value);
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

  /** The configs the user set, parsed (longs as exact bigints), in the order they were given. */
  setValues(): IterableIterator<[string, ParsedValue]> {
    return this.values.entries();
  }

  /** The parsed value (longs as bigint), the user's or the registry's default. */
  parsed(name: string): ParsedValue {
    const def = BROKER_CONFIGS.get(name);
    if (!def) throw new Error(`unknown broker config ${name}`);
    return this.values.has(name) ? (this.values.get(name) as ParsedValue) : def.default;
  }

  /**
   * A config's value for one listener: listener.name.<listener>.<name> when set, else the
   * broker-wide value (Kafka's listener-prefixed configs, as KafkaConfig.valuesWithPrefixOverride).
   */
  forListener(listener: string, name: string): ConfigValue {
    const own = this.listenerValues.get(listener.toLowerCase());
    if (own?.has(name)) return toConfigValue(own.get(name) as ParsedValue);
    return this.get(name);
  }

  get(name: string): ConfigValue {
    return toConfigValue(this.parsed(name));
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

  /** The set configs whose value differs from the default, for the start-up log line. */
  nonDefault(): [string, ParsedValue][] {
    return [...this.values].filter(([name, v]) => !sameValue(v, BROKER_CONFIGS.get(name)!.default));
  }

  /** The listeners with their security protocols; throws ConfigError for one Samsa cannot serve. */
  resolveListeners(): ResolvedListener[] {
    const settings: ListenerSettings = {
      listeners: this.list('listeners'),
      advertisedListeners: this.list('advertised.listeners'),
      securityProtocolMap: this.string('listener.security.protocol.map'),
      controllerListenerNames: this.list('controller.listener.names'),
    };
    return resolveListeners(settings);
  }
}
