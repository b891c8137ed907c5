// Config values as Kafka's ConfigDef handles them: the types, the parsing of a string value
// (server.properties, AlterConfigs) into its typed form, the validators (Range, ValidString,
// ValidList, ...) and the formatting back to the string a Java broker reports. No I/O; used by
// the registry (registry.ts), the broker's BrokerConfig, metadata's config resolution and storage.
//
// Parsed values: int/short/double as number, long as bigint (Long.MAX_VALUE is a common "never"
// sentinel and must survive exactly), boolean, string, list as string[], or null ("unset").

export type ConfigKind =
  | 'boolean'
  | 'string'
  | 'int'
  | 'short'
  | 'long'
  | 'double'
  | 'list'
  | 'class'
  | 'password';
export type ParsedValue = number | bigint | boolean | string | readonly string[] | null;

/** DescribeConfigsResponse.ConfigType ids. */
export const ConfigType = {
  UNKNOWN: 0,
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9,
} as const;

export function configTypeId(kind: ConfigKind | undefined): number {
  switch (kind) {
    case 'boolean':
      return ConfigType.BOOLEAN;
    case 'string':
      return ConfigType.STRING;
    case 'int':
      return ConfigType.INT;
    case 'short':
      return ConfigType.SHORT;
    case 'long':
      return ConfigType.LONG;
    case 'double':
      return ConfigType.DOUBLE;
    case 'list':
      return ConfigType.LIST;
    case 'class':
      return ConfigType.CLASS;
    case 'password':
      return ConfigType.PASSWORD;
    default:
      return ConfigType.UNKNOWN;
  }
}

export const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;
const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

/**
 * A validator returns why a parsed value is invalid (Kafka's ConfigException reason), or null. Its
 * `doc` is the "Valid Values" column of Kafka's config tables ("[1,...]", "[compact, delete]").
 */
export interface Validator {
  (value: ParsedValue): string | null;
  readonly doc: string;
}

function validator(doc: string, check: (value: ParsedValue) => string | null): Validator {
  return Object.assign(check, { doc });
}

function num(v: ParsedValue): number | bigint {
  return typeof v === 'bigint' ? v : (v as number);
}

/** Range.atLeast. */
export function atLeast(min: number | bigint): Validator {
  return validator(`[${min},...]`, (v) =>
    v !== null && num(v) < min ? `Value must be at least ${min}` : null,
  );
}

/** Range.between. */
export function between(min: number | bigint, max: number | bigint): Validator {
  const show = (x: number | bigint) => (typeof x === 'number' && !Number.isInteger(x) ? String(x) : `${x}`);
  return validator(`[${show(min)},...,${show(max)}]`, (v) => {
    if (v === null) return null;
    const n = num(v);
    if (typeof n === 'number' && Number.isNaN(n)) return `Value must be at least ${min}`;
    if (n < min) return `Value must be at least ${min}`;
    if (n > max) return `Value must be no more than ${max}`;
    return null;
  });
}

/** ValidString.in: one of the given strings (case-sensitive, as in Kafka). */
export function validString(...allowed: string[]): Validator {
  return validator(`[${allowed.join(', ')}]`, (v) =>
    v !== null && !allowed.includes(v as string) ? `String must be one of: ${allowed.join(', ')}` : null,
  );
}

/** ValidList.in: every item one of the given strings. */
export function validList(...allowed: string[]): Validator {
  return validator(`[${allowed.join(', ')}]`, (v) => {
    if (v === null) return null;
    for (const s of v as readonly string[]) {
      if (!allowed.includes(s)) return `String must be one of: ${allowed.join(', ')}`;
    }
    return null;
  });
}

/** A validator of Samsa's own (or one of Kafka's without a generic shape). */
export function custom(doc: string, check: (value: ParsedValue) => string | null): Validator {
  return validator(doc, check);
}

export type ParseResult = { ok: true; value: ParsedValue } | { ok: false; error: string };

/** What parseConfigValue needs of a definition. */
export interface ParseableDef {
  readonly name: string;
  readonly type: ConfigKind;
  readonly validator?: Validator;
}

const INTEGER = /^[+-]?\d+$/;
const DOUBLE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/;

/** ConfigException's message. */
function invalid(name: string, raw: string, reason: string): ParseResult {
  return { ok: false, error: `Invalid value ${raw} for configuration ${name}: ${reason}` };
}

/** Parses a string value as Kafka does (trimmed; lists split on commas), then validates it. */
export function parseConfigValue(def: ParseableDef, raw: string): ParseResult {
  const s = raw.trim();
  let value: ParsedValue;
  switch (def.type) {
    case 'boolean': {
      const l = s.toLowerCase();
      if (l !== 'true' && l !== 'false')
        return invalid(def.name, raw, 'Expected value to be either true or false');
      value = l === 'true';
      break;
    }
    case 'int':
    case 'short': {
      if (!INTEGER.test(s)) return invalid(def.name, raw, `Not a number of type ${def.type.toUpperCase()}`);
      const n = Number(s);
      const [lo, hi] = def.type === 'int' ? [INT_MIN, INT_MAX] : [-32768, 32767];
      if (n < lo || n > hi) return invalid(def.name, raw, `Not a number of type ${def.type.toUpperCase()}`);
      value = n;
      break;
    }
    case 'long': {
      if (!INTEGER.test(s)) return invalid(def.name, raw, 'Not a number of type LONG');
      const n = BigInt(s);
      if (n < LONG_MIN || n > LONG_MAX) return invalid(def.name, raw, 'Not a number of type LONG');
      value = n;
      break;
    }
    case 'double': {
      let n: number;
      if (DOUBLE.test(s)) n = Number.parseFloat(s);
      else if (/^[+-]?Infinity$/.test(s)) n = s.startsWith('-') ? -Infinity : Infinity;
      else return invalid(def.name, raw, 'Not a number of type DOUBLE');
      value = n;
      break;
    }
    case 'list':
      value = s === '' ? [] : s.split(/\s*,\s*/);
      break;
    default:
      value = s;
  }
  const reason = def.validator?.(value);
  if (reason) return invalid(def.name, raw, reason);
  return { ok: true, value };
}

/** Java's Double.toString, which is how a Kafka broker renders DOUBLE configs ("0.5", "1.0"). */
export function javaDoubleToString(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [m, e] = x.toExponential().split('e');
  return `${m.includes('.') ? m : `${m}.0`}E${Number(e)}`;
}

/** ConfigDef.convertToString: the form DescribeConfigs reports. */
export function formatConfigValue(type: ConfigKind, value: ParsedValue): string | null {
  if (value === null) return null;
  if (type === 'double') return javaDoubleToString(value as number);
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** How a broker synonym's value converts to the topic config's unit. */
export type SynonymUnit = 'same' | 'minutes' | 'hours';

const MINUTE = 60_000n;
const HOUR = 3_600_000n;

/** A parsed value converted from a broker synonym's unit to the topic config's (hours → ms, ...). */
export function convertSynonymValue(value: ParsedValue, unit: SynonymUnit): ParsedValue {
  if (unit === 'same' || value === null) return value;
  const n = BigInt(value as number | bigint);
  return unit === 'hours' ? n * HOUR : n * MINUTE;
}

/** The same conversion on a string value (CreateTopics reports the raw synonym value converted). */
export function convertSynonymString(v: string, unit: SynonymUnit): string {
  const s = v.trim();
  if (unit === 'same' || !/^[+-]?\d+$/.test(s)) return v;
  return (BigInt(s) * (unit === 'hours' ? HOUR : MINUTE)).toString();
}
