import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hasCollisionChars,
  isValidTopicName,
  MAX_TOPIC_NAME_LENGTH,
  topicNameError,
  unifyCollisionChars,
} from '../../src/metadata/topic-name.js';

/** The rule as Kafka's Topic.validate states it, written independently. */
function reference(name: string): boolean {
  if (name.length === 0 || name.length > 249 || name === '.' || name === '..') return false;
  for (const ch of name) {
    const c = ch.codePointAt(0) as number;
    const ok =
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      ch === '.' ||
      ch === '_' ||
      ch === '-';
    if (!ok) return false;
  }
  return true;
}

const legalChar = fc.constantFrom(...'abcXYZ019._-'.split(''));
const anyChar = fc.oneof(legalChar, fc.constantFrom(' ', '/', '\\', ':', '*', 'é', '\u0000', '#', '+'));

describe('topic names', () => {
  it("gives Kafka's messages", () => {
    expect(topicNameError('')).toBe("Topic name is illegal, it can't be empty");
    expect(topicNameError('.')).toBe('Topic name cannot be "." or ".."');
    expect(topicNameError('..')).toBe('Topic name cannot be "." or ".."');
    expect(topicNameError('a'.repeat(250))).toMatch(/can't be longer than 249 characters/);
    expect(topicNameError('a b')).toBe(
      "Topic name \"a b\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'",
    );
    expect(topicNameError('a'.repeat(MAX_TOPIC_NAME_LENGTH))).toBeNull();
    expect(topicNameError('...')).toBeNull();
    expect(topicNameError('__consumer_offsets')).toBeNull();
  });

  it('agrees with the reference rule on arbitrary strings', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: anyChar, maxLength: 300 }),
          fc.string({ unit: legalChar, minLength: 240, maxLength: 260 }),
          fc.constantFrom('', '.', '..', '...'),
          fc.string(),
        ),
        (name) => {
          expect(isValidTopicName(name)).toBe(reference(name));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('detects collisions between "." and "_"', () => {
    expect(hasCollisionChars('a.b')).toBe(true);
    expect(hasCollisionChars('a_b')).toBe(true);
    expect(hasCollisionChars('a-b')).toBe(false);
    expect(unifyCollisionChars('a.b_c.d')).toBe('a_b_c_d');
    fc.assert(
      fc.property(fc.string({ unit: legalChar }), (name) => {
        expect(unifyCollisionChars(name)).toBe(unifyCollisionChars(name.replaceAll('_', '.')));
      }),
    );
  });
});
