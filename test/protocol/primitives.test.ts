import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, Reader } from '../../src/protocol/primitives/reader.js';
import { EncodeError, Writer } from '../../src/protocol/primitives/writer.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

describe('varints', () => {
  it('encode unsigned varints as Kafka does', () => {
    for (const [v, bytes] of [
      [0, '00'],
      [127, '7f'],
      [128, '8001'],
      [300, 'ac02'],
      [0xffffffff, 'ffffffff0f'],
    ] as const) {
      const w = new Writer();
      w.unsignedVarint(v);
      expect(w.finish().toString('hex')).toBe(bytes);
      expect(new Reader(hex(bytes)).unsignedVarint()).toBe(v);
    }
  });

  it('zigzag-encode signed varints and varlongs', () => {
    const w = new Writer();
    w.varint(-1);
    w.varint(1);
    w.varlong(-(2n ** 63n));
    expect(w.finish().toString('hex')).toBe(`0102${'ff'.repeat(9)}01`);
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        (a, b) => {
          const w2 = new Writer();
          w2.varint(a);
          w2.varlong(b);
          w2.varlongNumber(a * 1000);
          const r = new Reader(w2.finish());
          expect(r.varint()).toBe(a);
          expect(r.varlong()).toBe(b);
          expect(r.varlongNumber()).toBe(a * 1000);
          r.expectEnd('test');
        },
      ),
    );
  });

  it('rejects overlong and truncated varints', () => {
    expect(() => new Reader(hex('ffffffff1f')).unsignedVarint()).toThrow(DecodeError);
    expect(() => new Reader(hex('ffffffffff01')).unsignedVarint()).toThrow(DecodeError);
    expect(() => new Reader(hex('80')).unsignedVarint()).toThrow(DecodeError);
    expect(() => new Reader(hex('ff'.repeat(10) + '01')).varlong()).toThrow(DecodeError);
    expect(() => new Writer().unsignedVarint(-1)).toThrow(EncodeError);
  });
});

describe('lengths from the wire are checked before allocation', () => {
  it('refuses array counts beyond the bytes left', () => {
    expect(() => new Reader(hex('7fffffff')).arrayLength(false)).toThrow(/exceeds/);
    expect(() => new Reader(hex('80808080 08')).compactArrayLength(false)).toThrow(DecodeError);
    expect(() => new Reader(hex('ffffffff')).arrayLength(false)).toThrow(DecodeError);
    expect(new Reader(hex('ffffffff')).arrayLength(true)).toBe(-1);
    expect(() => new Reader(hex('fffffffe')).arrayLength(true)).toThrow(DecodeError);
  });

  it('refuses string and bytes lengths beyond the bytes left, and negative ones', () => {
    expect(() => new Reader(hex('7fff 6162')).string()).toThrow(/truncated/);
    expect(() => new Reader(hex('ffff')).string()).toThrow(DecodeError);
    expect(new Reader(hex('ffff')).nullableString()).toBeNull();
    expect(() => new Reader(hex('fffe')).nullableString()).toThrow(DecodeError);
    expect(() => new Reader(hex('7fffffff')).bytes()).toThrow(DecodeError);
    expect(() => new Reader(hex('80000000')).nullableBytes()).toThrow(DecodeError);
    expect(() => new Reader(hex('00')).compactString()).toThrow(DecodeError);
    expect(new Reader(hex('00')).compactNullableString()).toBeNull();
  });
});

describe('Writer', () => {
  it('writes large byte fields by reference and small ones by copy', () => {
    const big = Buffer.alloc(10_000, 7);
    const w = new Writer(16);
    const setSize = w.reserveInt32();
    w.string('hello');
    w.bytes(big);
    w.int16(5);
    setSize(w.length - 4);
    const chunks = w.finishChunks();
    expect(chunks).toContain(big);
    const all = Buffer.concat(chunks);
    const r = new Reader(all);
    expect(r.int32()).toBe(all.length - 4);
    expect(r.string()).toBe('hello');
    expect(r.bytes().equals(big)).toBe(true);
    expect(r.int16()).toBe(5);
  });

  it('grows past its initial size without losing bytes', () => {
    const w = new Writer(1);
    for (let i = 0; i < 1000; i++) w.int32(i);
    const r = new Reader(w.finish());
    for (let i = 0; i < 1000; i++) expect(r.int32()).toBe(i);
  });

  it('round-trips uuids as Kafka renders them and rejects malformed ones', () => {
    const w = new Writer();
    w.uuid('AAAAAAAAAAAAAAAAAAAAAA');
    w.uuid('_____________________w');
    const r = new Reader(w.finish());
    expect(r.uuid()).toBe('AAAAAAAAAAAAAAAAAAAAAA');
    expect(r.uuid()).toBe('_____________________w');
    expect(() => new Writer().uuid('short')).toThrow(EncodeError);
  });

  it('refuses strings too long for an int16 length', () => {
    expect(() => new Writer().string('x'.repeat(40_000))).toThrow(EncodeError);
  });
});
