// Turning application values into bytes and back. The default serializer takes Buffers, other
// Uint8Arrays and strings (UTF-8); hooks let a producer or consumer work in its own types.

export type Bytes = Buffer | Uint8Array | string | null | undefined;

export type Serializer<T> = (value: T, topic: string) => Buffer | null;
export type Deserializer<T> = (data: Buffer | null, topic: string) => T;

export function toBuffer(v: Bytes): Buffer | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new TypeError(`cannot serialize a ${typeof v} without a serializer; pass a Buffer or a string`);
}

export const defaultSerializer: Serializer<Bytes> = (v) => toBuffer(v);

/** Header values in, as a record or as a list (which allows repeated keys, as Kafka does). */
export type HeadersInput =
  | Record<string, Bytes>
  | ReadonlyArray<{ key: string; value: Bytes } | readonly [string, Bytes]>;

export function toHeaders(h: HeadersInput | undefined): { key: string; value: Buffer | null }[] {
  if (!h) return [];
  if (Array.isArray(h)) {
    return h.map((e) =>
      Array.isArray(e)
        ? { key: e[0] as string, value: toBuffer(e[1] as Bytes) }
        : { key: e.key, value: toBuffer(e.value) },
    );
  }
  return Object.entries(h as Record<string, Bytes>).map(([key, value]) => ({ key, value: toBuffer(value) }));
}
