// fast-check arbitraries for any generated Kafka message at any version, built from the schema
// the generator records beside each codec. A field absent from the version gets its default, so
// that the message is one that version can carry.

import fc from 'fast-check';
import {
  type FieldSchema,
  inRange,
  type MessageCodec,
  type TaggedField,
} from '../../src/protocol/message.js';

type Obj = Record<string, unknown>;

const INT_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

function scalar(type: string): fc.Arbitrary<unknown> {
  const r = INT_RANGES[type];
  if (r) return fc.integer({ min: r[0], max: r[1] });
  switch (type) {
    case 'bool':
      return fc.boolean();
    case 'int64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'float64':
      return fc.double();
    case 'string':
      return fc.string({ unit: 'binary', maxLength: 12 });
    case 'bytes':
    case 'records':
      return fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a));
    case 'uuid':
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a).toString('base64url'));
    default:
      throw new Error(`unknown scalar type ${type}`);
  }
}

function fieldDefault(f: FieldSchema): unknown {
  if ('default' in f) {
    const d = f.default;
    return Array.isArray(d) ? [] : d;
  }
  return structDefault(f.fields ?? []);
}

function structDefault(fields: readonly FieldSchema[]): Obj {
  const o: Obj = {};
  for (const f of fields) o[f.name] = fieldDefault(f);
  return o;
}

function isPresent(f: FieldSchema, v: number, flexible: boolean): boolean {
  if (f.taggedVersions) return flexible && inRange(f.taggedVersions, v);
  return inRange(f.versions, v);
}

/** Unknown tagged fields: tags above any known one, ascending, as a writer would emit them. */
function unknownTagged(fields: readonly FieldSchema[]): fc.Arbitrary<TaggedField[] | undefined> {
  const base = Math.max(-1, ...fields.map((f) => f.tag ?? -1)) + 1;
  return fc.option(
    fc
      .uniqueArray(fc.integer({ min: base, max: base + 50 }), { minLength: 1, maxLength: 3 })
      .chain((tags) =>
        fc.tuple(
          ...[...tags]
            .sort((a, b) => a - b)
            .map((tag) => fc.uint8Array({ maxLength: 8 }).map((d) => ({ tag, data: Buffer.from(d) }))),
        ),
      ),
    { nil: undefined, freq: 3 },
  );
}

function structArb(
  fields: readonly FieldSchema[],
  v: number,
  flexible: boolean,
  depth: number,
): fc.Arbitrary<Obj> {
  const rec: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of fields) {
    rec[f.name] = isPresent(f, v, flexible) ? fieldArb(f, v, flexible, depth) : fc.constant(fieldDefault(f));
  }
  if (flexible) rec._unknownTaggedFields = unknownTagged(fields);
  return fc.record(rec) as fc.Arbitrary<Obj>;
}

function fieldArb(f: FieldSchema, v: number, flexible: boolean, depth: number): fc.Arbitrary<unknown> {
  const isArray = f.type.startsWith('[]');
  let arb: fc.Arbitrary<unknown>;
  if (f.fields) {
    const s = structArb(f.fields, v, flexible, depth + 1);
    arb = isArray ? fc.array(s, { maxLength: depth > 2 ? 1 : 3 }) : s;
  } else if (isArray) {
    arb = fc.array(scalar(f.type.slice(2)), { maxLength: 4 });
  } else arb = scalar(f.type);
  if (inRange(f.nullableVersions, v)) arb = fc.option(arb, { nil: null, freq: 4 });
  return arb;
}

export function messageArb<T>(codec: MessageCodec<T>, version: number): fc.Arbitrary<T> {
  return structArb(codec.fields, version, codec.isFlexible(version), 0) as fc.Arbitrary<T>;
}
