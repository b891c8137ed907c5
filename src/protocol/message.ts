// What every generated message module exports: a codec object describing one Kafka message
// (request, response, header, metadata record, coordinator record) across all its versions.
// The generated code supplies read/write/default and the schema; encode/decode add the version
// check and the "whole buffer" rules on top.

import { DecodeError, Reader } from './primitives/reader.js';
import { EncodeError, Writer } from './primitives/writer.js';

/** An inclusive version range; `max` is 32767 for Kafka's open-ended "N+". */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

export const OPEN_ENDED = 0x7fff;

/** A tagged field this code does not know: kept as raw bytes so that a round trip preserves it. */
export interface TaggedField {
  tag: number;
  data: Buffer;
}

/** The schema of one field, as read from Kafka's JSON definitions (used by tests and tools). */
export interface FieldSchema {
  /** camelCase name used in the TypeScript objects. */
  readonly name: string;
  /** Kafka's type: int8..int64, uint16, uint32, float64, bool, string, bytes, records, uuid, []T or a struct name. */
  readonly type: string;
  readonly versions: VersionRange | null;
  readonly nullableVersions: VersionRange | null;
  readonly taggedVersions: VersionRange | null;
  readonly tag: number | null;
  readonly ignorable: boolean;
  /** Set when a field opts out of flexible encoding (the request header's client id). */
  readonly flexibleVersions?: VersionRange | null;
  /** The default value (absent for non-null structs, whose default is their fields' defaults). */
  readonly default?: unknown;
  /** Struct fields, for struct and []struct types. */
  readonly fields?: readonly FieldSchema[];
}

export type MessageType = 'request' | 'response' | 'header' | 'data' | 'metadata';

export interface MessageDefinition<T> {
  readonly name: string;
  readonly type: MessageType;
  /** API key for requests/responses, record type for metadata records. */
  readonly apiKey: number | null;
  readonly validVersions: VersionRange;
  readonly flexibleVersions: VersionRange | null;
  /** The newest version is still being designed upstream: never advertise it. */
  readonly latestVersionUnstable: boolean;
  readonly fields: readonly FieldSchema[];
  write(w: Writer, m: T, version: number): void;
  read(r: Reader, version: number): T;
  /** A message with every field at its default value. */
  default(): T;
}

export interface MessageCodec<T> extends MessageDefinition<T> {
  /** Encodes the message body (no size prefix, no header). */
  encode(m: T, version: number): Buffer;
  /** Decodes a whole message body; trailing bytes are an error. */
  decode(buf: Buffer, version: number): T;
  isFlexible(version: number): boolean;
}

export function inRange(range: VersionRange | null, v: number): boolean {
  return range !== null && v >= range.min && v <= range.max;
}

export function defineMessage<T>(def: MessageDefinition<T>): MessageCodec<T> {
  const { name, validVersions } = def;
  return {
    ...def,
    encode(m: T, version: number): Buffer {
      if (!inRange(validVersions, version)) throw new EncodeError(`${name} has no version ${version}`);
      const w = new Writer();
      def.write(w, m, version);
      return w.finish();
    },
    decode(buf: Buffer, version: number): T {
      if (!inRange(validVersions, version)) throw new DecodeError(`${name} has no version ${version}`);
      const r = new Reader(buf);
      const m = def.read(r, version);
      r.expectEnd(name);
      return m;
    },
    isFlexible(version: number): boolean {
      return inRange(def.flexibleVersions, version);
    },
  };
}

// ---- helpers used by the generated code ----

/** Writes a struct's tagged-field section: known fields and preserved unknown ones, by ascending tag. */
export function writeTaggedFields(
  w: Writer,
  known: TaggedField[] | undefined,
  unknown: readonly TaggedField[] | undefined,
): void {
  let all: readonly TaggedField[];
  if (!unknown || unknown.length === 0) all = known ?? [];
  else if (!known || known.length === 0) all = unknown;
  else all = [...known, ...unknown].sort((a, b) => a.tag - b.tag);
  w.unsignedVarint(all.length);
  for (const f of all) {
    w.unsignedVarint(f.tag);
    w.unsignedVarint(f.data.length);
    w.raw(f.data);
  }
}

/** Encodes one tagged field's value on its own, since its size prefix comes first. */
export function taggedValue(tag: number, write: (w: Writer) => void): TaggedField {
  const w = new Writer(64);
  write(w);
  return { tag, data: w.finish() };
}

/** Reads one known tagged field from its bytes; the field must use exactly the bytes it declared. */
export function readTaggedValue<T>(data: Buffer, what: string, read: (r: Reader) => T): T {
  const r = new Reader(data);
  const v = read(r);
  r.expectEnd(`tagged field ${what}`);
  return v;
}

export function unsupported(message: string, field: string, version: number): EncodeError {
  return new EncodeError(
    `${message}.${field} is set to a non-default value, which version ${version} cannot carry`,
  );
}

export function nonNullable(message: string, field: string, version: number): EncodeError {
  return new EncodeError(`${message}.${field} is null, which version ${version} does not allow`);
}

/** Structural equality for defaults checks of struct-typed tagged fields. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return (
      ka.length === kb.length &&
      ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return false;
}

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

/** Reads an ARRAY / COMPACT_ARRAY; null (length -1) only where the version allows it. */
export function readArray<T>(
  r: Reader,
  compact: boolean,
  nullable: boolean,
  read: (r: Reader) => T,
): T[] | null {
  const n = compact ? r.compactArrayLength(nullable) : r.arrayLength(nullable);
  if (n < 0) return null;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(read(r));
  return out;
}

/**
 * A copy of `m` with every field that `version` does not carry set back to its default, recursively.
 * Handlers build responses for the newest version; this trims them for an older client, where
 * encoding would otherwise refuse the non-ignorable fields that version lacks.
 */
export function fitToVersion<T>(codec: MessageDefinition<T>, m: T, version: number): T {
  const flexible = inRange(codec.flexibleVersions, version);
  return fitStruct(codec.fields, m as Record<string, unknown>, version, flexible) as T;
}

function fieldDefault(f: FieldSchema): unknown {
  if ('default' in f) return Array.isArray(f.default) ? [] : f.default;
  const o: Record<string, unknown> = {};
  for (const c of f.fields ?? []) o[c.name] = fieldDefault(c);
  return o;
}

function fitStruct(
  fields: readonly FieldSchema[],
  m: Record<string, unknown>,
  v: number,
  flexible: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...m };
  for (const f of fields) {
    const present = f.taggedVersions ? flexible && inRange(f.taggedVersions, v) : inRange(f.versions, v);
    const value = m[f.name];
    if (!present) out[f.name] = fieldDefault(f);
    else if (f.fields && value !== null && value !== undefined) {
      out[f.name] = Array.isArray(value)
        ? value.map((e) => fitStruct(f.fields!, e as Record<string, unknown>, v, flexible))
        : fitStruct(f.fields, value as Record<string, unknown>, v, flexible);
    }
  }
  return out;
}
