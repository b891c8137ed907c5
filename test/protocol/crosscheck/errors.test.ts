// The error table (src/protocol/errors.ts) against the tables of kafkajs (codes -1..87, with
// pre-2.6 names for a few) and @platformatic/kafka (codes -1..127, generated from Kafka's docs).

import { createRequire } from 'node:module';
import { protocolErrors } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { ERRORS, errorByCode } from '../../../src/protocol/errors.js';

const require = createRequire(import.meta.url);

interface KafkajsErrorCode {
  type: string;
  code: number;
  retriable: boolean;
}

/** Older names kafkajs still uses for codes Kafka renamed. */
const KAFKAJS_OLD_NAMES: Readonly<Record<number, string>> = {
  [-1]: 'UNKNOWN',
  6: 'NOT_LEADER_FOR_PARTITION',
  14: 'GROUP_LOAD_IN_PROGRESS',
  15: 'GROUP_COORDINATOR_NOT_AVAILABLE',
  16: 'NOT_COORDINATOR_FOR_GROUP',
};

describe('error table vs kafkajs', () => {
  const { errorCodes } = require('kafkajs/src/protocol/error.js') as { errorCodes: KafkajsErrorCode[] };

  it('agrees on every code kafkajs knows: name (modulo renames) and retriability', () => {
    expect(errorCodes.length).toBeGreaterThan(80);
    for (const e of errorCodes) {
      const ours = errorByCode(e.code);
      expect(ours.name, `code ${e.code}`).not.toBe('UNKNOWN');
      expect(KAFKAJS_OLD_NAMES[e.code] ?? ours.name, `name of ${e.code}`).toBe(e.type);
      expect(ours.retriable, `retriable of ${e.code} ${e.type}`).toBe(e.retriable);
    }
  });
});

describe('error table vs @platformatic/kafka', () => {
  it('agrees on every code platformatic knows: name, retriability, message', () => {
    const theirs = Object.values(protocolErrors);
    expect(theirs.length).toBeGreaterThan(120);
    for (const e of theirs) {
      const ours = errorByCode(e.code);
      expect(ours.name, `code ${e.code}`).toBe(e.id);
      expect(ours.retriable, `retriable of ${e.id}`).toBe(e.canRetry);
      if (e.code !== 0) expect(ours.message, `message of ${e.id}`).toBe(e.message);
    }
  });

  it('leaves no code of ours between theirs unknown to them (ours only extends past their max)', () => {
    const theirCodes = new Set(Object.values(protocolErrors).map((e) => e.code));
    const theirMax = Math.max(...theirCodes);
    expect(ERRORS.filter((e) => e.code <= theirMax && !theirCodes.has(e.code))).toEqual([]);
  });
});
