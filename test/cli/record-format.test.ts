// The byte-level pieces of `samsa produce` and `samsa consume`: kcat's escapes and format codes,
// the renderer (sizes, nulls, headers with duplicates), the JSON form of non-UTF-8 bytes, and the
// delimiter splitter across chunk boundaries.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRecord } from '../../src/cli/commands/consume.js';
import {
  compileRenderer,
  decodeField,
  OutputBuffer,
  type PrintableRecord,
  parseFormat,
  unescapeBytes,
  viewOf,
} from '../../src/cli/record-format.js';
import { DelimitedSplitter, splitKey } from '../../src/cli/record-input.js';

const record = (over: Partial<PrintableRecord> = {}): PrintableRecord => ({
  topic: 'orders',
  partition: 2,
  offset: 41n,
  timestamp: 1700000000123,
  timestampType: 'CreateTime',
  key: Buffer.from('k1'),
  value: Buffer.from('hello'),
  headers: [
    { key: 'a', value: Buffer.from('1') },
    { key: 'a', value: Buffer.from('2') },
    { key: 'n', value: null },
  ],
  ...over,
});

function render(fmt: string, r: PrintableRecord, nullString: string | null = null): Buffer {
  const out = new OutputBuffer(16);
  compileRenderer(parseFormat(fmt), {
    keyEncoding: 'raw',
    valueEncoding: 'raw',
    nullString: nullString === null ? null : Buffer.from(nullString),
  })(viewOf(r), out);
  return out.take();
}

describe('kcat escapes', () => {
  it('turns \\n \\r \\t \\xHH, decimal and octal bytes and escaped characters into bytes', () => {
    expect(unescapeBytes('a\\tb\\nc\\r')).toEqual(Buffer.from('a\tb\nc\r'));
    expect(unescapeBytes('\\x00\\xff\\x7')).toEqual(Buffer.from([0, 0xff, 7]));
    expect(unescapeBytes('\\65\\012')).toEqual(Buffer.from('A\n'));
    expect(unescapeBytes('\\\\|\\%')).toEqual(Buffer.from('\\|%'));
    expect(unescapeBytes('é')).toEqual(Buffer.from('é', 'utf8'));
    expect(() => unescapeBytes('\\xg')).toThrow(/hex digits/);
  });
});

describe('kcat format codes', () => {
  it('prints every code, sizes of null as -1, and %R as a big-endian int32', () => {
    expect(render('%t [%p] @%o %T: %k(%K)=%s(%S) {%h} 100%%\\n', record()).toString()).toBe(
      'orders [2] @41 1700000000123: k1(2)=hello(5) {a=1,a=2,n=NULL} 100%\n',
    );
    expect(render('%k|%K|%s|%S', record({ key: null, value: null })).toString()).toBe('|-1||-1');
    expect(render('%k|%s', record({ key: null, value: null }), 'NULL').toString()).toBe('NULL|NULL');
    // An empty (not null) value prints nothing even with a null string: null stays distinct.
    expect(render('%s|%S', record({ value: Buffer.alloc(0) }), 'NULL').toString()).toBe('|0');
    expect(render('%R%s', record())).toEqual(
      Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from('hello')]),
    );
    expect(render('%R', record({ value: null }))).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect(render('%v', record()).toString()).toBe('hello');
  });

  it('rejects unknown codes and a trailing %', () => {
    expect(() => parseFormat('%s %x')).toThrow(/unknown code %x/);
    expect(() => parseFormat('%s %')).toThrow(/lone '%'/);
  });

  it('writes bytes as they are: NUL, invalid UTF-8', () => {
    const value = Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0xc3]);
    expect(render('%s', record({ value }))).toEqual(value);
  });

  it('adds a newline unless the format has one or -D is given', () => {
    expect(formatRecord(record(), { format: '%k=%s' })).toBe('k1=hello\n');
    expect(formatRecord(record(), { format: '%k=%s\\n' })).toBe('k1=hello\n');
    expect(formatRecord(record(), { format: '%s', delimiter: '' })).toBe('hello');
    expect(formatRecord(record(), { format: '%s', delimiter: '\\x00' })).toBe('hello\0');
    expect(formatRecord(record(), { format: 'text', delimiter: ';' })).toBe('hello;');
    expect(
      formatRecord(record(), { format: 'text', printKey: true, printOffset: true, printHeaders: true }),
    ).toBe('2:41\ta=1,a=2,n=NULL\tk1\thello\n');
    expect(formatRecord(record(), { format: '%s', valueFormat: 'hex', keyFormat: 'base64' })).toBe(
      '68656c6c6f\n',
    );
    expect(formatRecord(record(), { format: '%k', keyFormat: 'base64' })).toBe('azE=\n');
  });
});

describe('JSON output', () => {
  it('keeps duplicate headers, gives non-UTF-8 bytes in base64 and says so, and null as null', () => {
    const json = JSON.parse(
      formatRecord(record({ key: null, value: Buffer.from([0xff, 0x00]) }), { format: 'json' }),
    );
    expect(json).toEqual({
      topic: 'orders',
      partition: 2,
      offset: 41,
      timestamp: 1700000000123,
      timestampType: 'CreateTime',
      key: null,
      value: '/wA=',
      valueEncoding: 'base64',
      headers: [
        { key: 'a', value: '1' },
        { key: 'a', value: '2' },
        { key: 'n', value: null },
      ],
    });
    const text = JSON.parse(formatRecord(record(), { format: 'json' }));
    expect(text.value).toBe('hello');
    expect(text.valueEncoding).toBeUndefined();
    const asked = JSON.parse(
      formatRecord(record(), { format: 'json', valueFormat: 'hex', keyFormat: 'base64' }),
    );
    expect(asked).toMatchObject({
      key: 'azE=',
      keyEncoding: 'base64',
      value: '68656c6c6f',
      valueEncoding: 'hex',
    });
  });
});

describe('reading records', () => {
  it('splits at a multi-byte delimiter that straddles chunks, keeping the bytes exact', () => {
    const s = new DelimitedSplitter(Buffer.from('||'), 1000);
    const got: string[] = [];
    for (const c of ['a|', '|b\0|', '|', '|c', '||', 'd'])
      for (const r of s.push(Buffer.from(c))) got.push(r.toString('latin1'));
    // "a||b\0|||c||d": the first "||" wins, as kcat's search does.
    expect(got).toEqual(['a', 'b\0', '|c']);
    expect(s.end()?.toString()).toBe('d');
    expect(s.end()).toBeNull();
  });

  it('cuts any input into the same records however it is chunked (only the spanning record is copied)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a.map((b) => 97 + (b % 3)))),
        fc.constantFrom('a', 'ab', 'aab', 'bab'),
        fc.array(fc.nat(200), { maxLength: 8 }),
        (input, delim, cuts) => {
          // What kcat gives: the whole input searched left to right for the delimiter.
          const d = Buffer.from(delim);
          const expected: string[] = [];
          let from = 0;
          for (let i = input.indexOf(d); i >= 0; i = input.indexOf(d, from)) {
            expected.push(input.subarray(from, i).toString());
            from = i + d.length;
          }
          if (from < input.length) expected.push(input.subarray(from).toString());
          const s = new DelimitedSplitter(d, 1000);
          const got: string[] = [];
          const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((x, y) => x - y);
          let prev = 0;
          for (const p of [...points, input.length]) {
            for (const r of s.push(input.subarray(prev, p))) got.push(r.toString());
            prev = p;
          }
          const last = s.end();
          if (last !== null) got.push(last.toString());
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a record longer than the limit instead of buffering it', () => {
    const s = new DelimitedSplitter(Buffer.from('\n'), 8);
    expect(s.push(Buffer.from('short\nabc'))).toEqual([Buffer.from('short')]);
    expect(() => s.push(Buffer.from('defghi'))).toThrow(/longer than 8 bytes/);
  });

  it('splits key and value at the first separator; decodes base64 and hex, refusing bad input', () => {
    expect(splitKey(Buffer.from('k:v:w'), Buffer.from(':'))).toEqual({
      key: Buffer.from('k'),
      value: Buffer.from('v:w'),
    });
    expect(splitKey(Buffer.from('v'), Buffer.from(':'))).toEqual({ key: null, value: Buffer.from('v') });
    expect(decodeField(Buffer.from('00ff'), 'hex', 'v')).toEqual(Buffer.from([0, 0xff]));
    expect(decodeField(Buffer.from('AP8='), 'base64', 'v')).toEqual(Buffer.from([0, 0xff]));
    expect(() => decodeField(Buffer.from('0g'), 'hex', 'the value')).toThrow(/the value is not valid hex/);
    expect(() => decodeField(Buffer.from('a b'), 'base64', 'v')).toThrow(/not valid base64/);
  });
});
