// How `samsa consume` prints records and `samsa produce` reads them, byte for byte: kcat's
// delimiter escapes (-D, -K), kcat's --format codes compiled once into a list of tokens, the
// key/value encodings (raw, base64, hex), and an output buffer that gathers a whole poll's worth
// of records into one stdout write. Keys, values and header values are bytes throughout: nothing
// here decodes them as UTF-8 except the JSON output, which says when it used base64 instead.

import { isUtf8 } from 'node:buffer';
import { CliError, UsageError } from './shared.js';

export type Encoding = 'raw' | 'base64' | 'hex';
export const ENCODINGS: readonly Encoding[] = ['raw', 'base64', 'hex'];

/**
 * kcat's escapes in delimiters and format strings: \n \r \t, \xHH (hex), \NNN (decimal, or octal
 * with a leading 0, as kcat's strtoul base 0), and \ before any other character stands for that
 * character. Everything else is taken as UTF-8 text.
 */
export function unescapeBytes(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\' || i + 1 >= s.length) {
      const cp = s.codePointAt(i) as number;
      if (cp < 0x80) out.push(cp);
      else {
        const ch = String.fromCodePoint(cp);
        for (const b of Buffer.from(ch, 'utf8')) out.push(b);
        i += ch.length - 1;
      }
      continue;
    }
    const e = s[++i];
    if (e === 'n') out.push(10);
    else if (e === 'r') out.push(13);
    else if (e === 't') out.push(9);
    else if (e === 'x') {
      const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 1));
      if (!m) throw new UsageError(`'\\x' must be followed by hex digits in '${s}'`);
      out.push(Number.parseInt(m[0], 16));
      i += m[0].length;
    } else if (e >= '0' && e <= '9') {
      const m = /^[0-9]{1,3}/.exec(s.slice(i)) as RegExpExecArray;
      const n = m[0].length > 1 && m[0][0] === '0' ? Number.parseInt(m[0], 8) : Number.parseInt(m[0], 10);
      if (!(n <= 255)) throw new UsageError(`'\\${m[0]}' is not a byte in '${s}'`);
      out.push(n);
      i += m[0].length - 1;
    } else {
      for (const b of Buffer.from(e, 'utf8')) out.push(b);
    }
  }
  return Buffer.from(out);
}

/** Bytes of a key or value as given on input, in the given encoding. */
export function decodeField(text: Buffer, enc: Encoding, what: string): Buffer {
  if (enc === 'raw') return text;
  const s = text.toString('latin1');
  if (enc === 'hex') {
    if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new CliError(`${what} is not valid hex`);
    return Buffer.from(s, 'hex');
  }
  // Standard and URL-safe alphabets, padding optional (Node accepts both).
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s) || s.replace(/=+$/, '').length % 4 === 1)
    throw new CliError(`${what} is not valid base64`);
  return Buffer.from(s, 'base64');
}

/** Collects output bytes; take() hands them out as one Buffer and starts a new one. */
export class OutputBuffer {
  private buf: Buffer;
  private pos = 0;

  constructor(private readonly initialSize = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  bytes(b: Uint8Array): void {
    this.range(b, 0, b.length);
  }

  /** b[start, end). */
  range(b: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    if (n < 48) {
      // A byte loop beats copy()'s call overhead for short fields (delimiters, small values).
      const buf = this.buf;
      let p = this.pos;
      for (let i = start; i < end; i++) buf[p++] = b[i];
      this.pos = p;
    } else {
      // Buffer#copy takes the range itself: no view object per field.
      Buffer.prototype.copy.call(b, this.buf, this.pos, start, end);
      this.pos += n;
    }
  }

  /** Text known to be ASCII (numbers, encodings); one byte per character. */
  ascii(s: string): void {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  utf8(s: string): void {
    this.ensure(Buffer.byteLength(s));
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  int32be(n: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(n, this.pos);
    this.pos += 4;
  }

  /** The bytes gathered so far; the buffer starts empty again (the Buffer handed out is not reused). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(Math.max(this.initialSize, this.pos));
    this.pos = 0;
    return out;
  }
}

/**
 * What a format prints a record from. Key and value are byte ranges of a buffer, so that a
 * reader walking a fetched record batch can print records without a Buffer (or any object) per
 * record: it fills one view and reuses it. keyBuf/valueBuf null means a null key/value. Headers
 * are decoded only when asked for.
 */
export interface RecordView {
  topic: string;
  partition: number;
  offset: bigint | number;
  timestamp: number;
  timestampType?: string;
  keyBuf: Buffer | null;
  keyStart: number;
  keyEnd: number;
  valueBuf: Buffer | null;
  valueStart: number;
  valueEnd: number;
  headers(): readonly { key: string; value: Buffer | null }[];
}

/** A record with Buffers (a ConsumerRecord fits). */
export interface PrintableRecord {
  topic: string;
  partition: number;
  offset: bigint | number;
  timestamp: number;
  timestampType?: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: readonly { key: string; value: Buffer | null }[];
}

/** A view of a record that has its key and value as Buffers. */
export function viewOf(r: PrintableRecord): RecordView {
  const headers = r.headers;
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    timestampType: r.timestampType,
    keyBuf: r.key,
    keyStart: 0,
    keyEnd: r.key?.length ?? 0,
    valueBuf: r.value,
    valueStart: 0,
    valueEnd: r.value?.length ?? 0,
    headers: () => headers,
  };
}

type Field =
  | 'key'
  | 'keyLen'
  | 'value'
  | 'valueLen'
  | 'valueLenBinary'
  | 'topic'
  | 'partition'
  | 'offset'
  | 'timestamp'
  | 'headers';
export type Token = { literal: Buffer } | { field: Field };

const CODES: Record<string, Field> = {
  s: 'value',
  v: 'value', // Samsa's earlier name for %s, kept
  S: 'valueLen',
  R: 'valueLenBinary',
  k: 'key',
  K: 'keyLen',
  t: 'topic',
  p: 'partition',
  o: 'offset',
  T: 'timestamp',
  h: 'headers',
};

/**
 * Compiles a kcat format string (kcat's -f): %s value, %S value size (-1 for null), %R value size
 * as a big-endian int32, %k key, %K key size (-1 for null), %t topic, %p partition, %o offset,
 * %T timestamp (ms), %h headers (n=v, comma-separated, every header in order, duplicates too),
 * %% a percent sign; escapes as in unescapeBytes in the text between them. Unknown codes and a
 * trailing % are errors, as in kcat.
 */
export function parseFormat(fmt: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < fmt.length) {
    const pct = fmt.indexOf('%', i);
    const end = pct < 0 ? fmt.length : pct;
    if (end > i) tokens.push({ literal: unescapeBytes(fmt.slice(i, end)) });
    if (pct < 0) break;
    const code = fmt[pct + 1];
    if (code === undefined)
      throw new UsageError(`--format ends with a lone '%' (write %% for a percent sign)`);
    if (code === '%') tokens.push({ literal: Buffer.from('%') });
    else {
      const field = CODES[code];
      if (!field)
        throw new UsageError(
          `--format: unknown code %${code}; the codes are %s %S %R %k %K %t %p %o %T %h and %%`,
        );
      tokens.push({ field });
    }
    i = pct + 2;
  }
  // Adjacent literals (e.g. around %%) as one.
  const merged: Token[] = [];
  for (const t of tokens) {
    const last = merged[merged.length - 1];
    if (last && 'literal' in last && 'literal' in t)
      merged[merged.length - 1] = { literal: Buffer.concat([last.literal, t.literal]) };
    else merged.push(t);
  }
  return merged;
}

export function formatHasNewline(tokens: readonly Token[]): boolean {
  return tokens.some((t) => 'literal' in t && t.literal.includes(10));
}

export interface RenderOptions {
  keyEncoding: Encoding;
  valueEncoding: Encoding;
  /** Printed for a null key or value (kcat's -Z: "NULL"); null prints nothing. */
  nullString: Buffer | null;
}

const NULL_HEADER = Buffer.from('NULL');
const COMMA = Buffer.from(',');
const EQUALS = Buffer.from('=');

function writeField(
  out: OutputBuffer,
  b: Buffer | null,
  start: number,
  end: number,
  enc: Encoding,
  nullString: Buffer | null,
): void {
  if (b === null) {
    if (nullString !== null) out.bytes(nullString);
  } else if (enc === 'raw') out.range(b, start, end);
  else out.ascii(b.toString(enc, start, end));
}

function writeHeaders(out: OutputBuffer, headers: ReturnType<RecordView['headers']>): void {
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    if (i > 0) out.bytes(COMMA);
    out.utf8(h.key);
    out.bytes(EQUALS);
    // As kcat: a null header value prints NULL (with or without -Z).
    out.bytes(h.value ?? NULL_HEADER);
  }
}

/** A function that appends one record, formatted by `tokens`, to an OutputBuffer. */
export function compileRenderer(
  tokens: readonly Token[],
  o: RenderOptions,
): (r: RecordView, out: OutputBuffer) => void {
  const { keyEncoding, valueEncoding, nullString } = o;
  // The common shapes get a loop-free function: the output path runs once per record.
  if (
    tokens.length === 2 &&
    'field' in tokens[0] &&
    tokens[0].field === 'value' &&
    'literal' in tokens[1] &&
    valueEncoding === 'raw'
  ) {
    const delim = tokens[1].literal;
    return (r, out) => {
      const v = r.valueBuf;
      if (v !== null) out.range(v, r.valueStart, r.valueEnd);
      else if (nullString !== null) out.bytes(nullString);
      out.bytes(delim);
    };
  }
  const list = tokens.map((t) => ('literal' in t ? t.literal : t.field));
  return (r, out) => {
    for (let i = 0; i < list.length; i++) {
      const t = list[i];
      if (typeof t !== 'string') {
        out.bytes(t);
        continue;
      }
      switch (t) {
        case 'value':
          writeField(out, r.valueBuf, r.valueStart, r.valueEnd, valueEncoding, nullString);
          break;
        case 'key':
          writeField(out, r.keyBuf, r.keyStart, r.keyEnd, keyEncoding, nullString);
          break;
        case 'valueLen':
          out.ascii(String(r.valueBuf === null ? -1 : r.valueEnd - r.valueStart));
          break;
        case 'keyLen':
          out.ascii(String(r.keyBuf === null ? -1 : r.keyEnd - r.keyStart));
          break;
        case 'valueLenBinary':
          out.int32be(r.valueBuf === null ? -1 : r.valueEnd - r.valueStart);
          break;
        case 'topic':
          out.utf8(r.topic);
          break;
        case 'partition':
          out.ascii(String(r.partition));
          break;
        case 'offset':
          out.ascii(String(r.offset));
          break;
        case 'timestamp':
          out.ascii(String(r.timestamp));
          break;
        case 'headers':
          writeHeaders(out, r.headers());
          break;
      }
    }
  };
}

/**
 * A JSON field for bytes: the UTF-8 text when the encoding is raw and the bytes are valid UTF-8,
 * else base64 (or hex when asked), with the encoding named beside it.
 */
function jsonBytes(
  obj: Record<string, unknown>,
  name: string,
  b: Buffer | null,
  enc: Encoding,
  encodingField: string,
): void {
  if (b === null) {
    obj[name] = null;
    return;
  }
  if (enc === 'raw' && isUtf8(b)) {
    obj[name] = b.toString('utf8');
    return;
  }
  const used = enc === 'hex' ? 'hex' : 'base64';
  obj[name] = b.toString(used);
  obj[encodingField] = used;
}

/**
 * One record as a JSON object: topic, partition, offset, timestamp, timestampType, key, value
 * (null for null), headers as a list of {key, value} in record order (duplicates kept); a
 * keyEncoding / valueEncoding field (and a per-header valueEncoding) says "base64" or "hex" when
 * the bytes are given so.
 */
export function recordJson(r: RecordView, o: RenderOptions): string {
  const obj: Record<string, unknown> = {
    topic: r.topic,
    partition: r.partition,
    offset:
      typeof r.offset === 'number' || r.offset <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(r.offset)
        : String(r.offset),
    timestamp: r.timestamp,
  };
  if (r.timestampType !== undefined) obj.timestampType = r.timestampType;
  jsonBytes(obj, 'key', r.keyBuf?.subarray(r.keyStart, r.keyEnd) ?? null, o.keyEncoding, 'keyEncoding');
  jsonBytes(
    obj,
    'value',
    r.valueBuf?.subarray(r.valueStart, r.valueEnd) ?? null,
    o.valueEncoding,
    'valueEncoding',
  );
  obj.headers = r.headers().map((h) => {
    const e: Record<string, unknown> = { key: h.key };
    jsonBytes(e, 'value', h.value, 'raw', 'valueEncoding');
    return e;
  });
  return JSON.stringify(obj);
}
