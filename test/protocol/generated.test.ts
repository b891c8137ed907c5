// Every generated message, at every version: random messages round-trip byte-exactly, and
// hostile bytes only ever raise DecodeError.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as generated from '../../src/protocol/generated/index.js';
import type { MessageCodec } from '../../src/protocol/message.js';
import { DecodeError } from '../../src/protocol/primitives/reader.js';
import { messageArb } from './arbitrary.js';

type AnyCodec = MessageCodec<unknown>;

const codecs = (Object.values(generated) as unknown[]).filter(
  (x): x is AnyCodec => typeof x === 'object' && x !== null && 'encode' in x && 'fields' in x,
);

function versions(c: AnyCodec): number[] {
  const out: number[] = [];
  for (let v = c.validVersions.min; v <= c.validVersions.max; v++) out.push(v);
  return out;
}

const RUNS = Number(process.env.PROPERTY_RUNS ?? 25);

describe('generated codecs', () => {
  it('cover every API key 0..87 and the other schema families', () => {
    const keys = new Set(generated.apis.map((a) => a.apiKey));
    for (let k = 0; k <= 87; k++) expect(keys.has(k), `api key ${k}`).toBe(true);
    expect(codecs.length).toBeGreaterThanOrEqual(240);
    for (const name of [
      'RequestHeader',
      'ResponseHeader',
      'TopicRecord',
      'OffsetCommitValue',
      'TransactionLogValue',
      'QuorumStateData',
    ]) {
      expect(
        codecs.some((c) => c.name === name),
        name,
      ).toBe(true);
    }
  });

  describe.each(codecs.map((c) => [c.name, c] as const))('%s', (_name, codec) => {
    it.each(versions(codec))('v%i round-trips random messages byte-exactly', (v) => {
      fc.assert(
        fc.property(messageArb(codec, v), (m) => {
          const bytes = codec.encode(m, v);
          const decoded = codec.decode(bytes, v);
          expect(decoded).toEqual(m);
          expect(codec.encode(decoded, v).equals(bytes)).toBe(true);
        }),
        { numRuns: RUNS },
      );
    });

    it('raises only DecodeError on truncated or random bytes', () => {
      const v = codec.validVersions.max;
      fc.assert(
        fc.property(messageArb(codec, v), fc.nat(), fc.uint8Array({ maxLength: 64 }), (m, cut, junk) => {
          const bytes = codec.encode(m, v);
          const expectDecodeErrorOrValue = (b: Buffer) => {
            try {
              codec.decode(b, v);
            } catch (e) {
              expect(e).toBeInstanceOf(DecodeError);
            }
          };
          if (bytes.length > 0) {
            const truncated = bytes.subarray(0, cut % bytes.length);
            expect(() => codec.decode(truncated, v)).toThrow(DecodeError);
          }
          expectDecodeErrorOrValue(Buffer.from(junk));
          // Trailing garbage after a complete message is an error, not silently ignored.
          expect(() => codec.decode(Buffer.concat([bytes, Buffer.from([0])]), v)).toThrow(DecodeError);
        }),
        { numRuns: RUNS },
      );
    });
  });
});
