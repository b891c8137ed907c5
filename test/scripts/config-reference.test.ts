// The committed docs/CONFIGURATION.md must be exactly what scripts/config-reference.ts renders
// from the config registry, so that the reference cannot drift from the code.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from '../../scripts/config-reference.js';
import { BROKER_CONFIGS, TOPIC_CONFIG_DEFS } from '../../src/config/registry.js';

const root = resolve(import.meta.dirname, '../..');

describe('config-reference', () => {
  it('committed docs/CONFIGURATION.md matches the registry', () => {
    expect(
      readFileSync(resolve(root, 'docs/CONFIGURATION.md'), 'utf8'),
      'docs/CONFIGURATION.md differs: run npm run docs:config',
    ).toBe(renderConfigReference());
  });

  it('has a section for every config, and the Kafka default of every one that differs', () => {
    const text = renderConfigReference();
    for (const d of [...TOPIC_CONFIG_DEFS, ...BROKER_CONFIGS.values()]) {
      expect(text).toContain(`\n### ${d.name}\n`);
    }
    expect(text).toContain("- Kafka's default: `9223372036854775807`");
    expect(text).toMatch(/\| \[flush\.messages\]\(#flushmessages\) \| `1` \| `9223372036854775807` \|/);
  });
});
