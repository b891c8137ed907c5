// The committed src/protocol/generated/ must be exactly what the generator makes from Kafka's
// schemas. The schemas are not in the repository (docs/ARCHITECTURE.md says how to fetch them):
// SAMSA_KAFKA_SCHEMAS names their folder, else ../shared/kafka-protocol beside the clone (where CI
// lays them); the test is skipped when there is neither.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateProtocol, stripComments } from '../../scripts/generate-protocol.js';

const root = resolve(import.meta.dirname, '../..');
const schemas = resolve(root, process.env.SAMSA_KAFKA_SCHEMAS ?? '../shared/kafka-protocol');
const generatedDir = join(root, 'src/protocol/generated');

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [relative(generatedDir, join(dir, e.name))],
  );
}

describe('generate-protocol', () => {
  it.skipIf(!existsSync(schemas))(
    'committed output matches the schemas (SAMSA_KAFKA_SCHEMAS or ../shared/kafka-protocol)',
    () => {
      const expected = generateProtocol(schemas);
      const committed = listFiles(generatedDir).sort();
      expect(committed).toEqual([...expected.keys()].sort());
      for (const [rel, content] of expected) {
        expect(
          readFileSync(join(generatedDir, rel), 'utf8'),
          `${rel} differs: run npm run generate -- ${schemas}`,
        ).toBe(content);
      }
    },
  );

  it('strips // comments outside strings only', () => {
    const text = '{ "a": "http://x", // note\n "b": 1 }';
    expect(JSON.parse(stripComments(text))).toEqual({ a: 'http://x', b: 1 });
  });
});
