// README's TypeScript examples type-check under strict, against the package's entry points
// ('samsa', 'samsa/client', 'samsa/protocol' mapped to src/), each block as its own ES module.
// An example that drifts from the API (a renamed option, a missing argument) fails here.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = join(ROOT, 'node_modules', '.cache', `samsa-readme-${process.pid}`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ```ts blocks of a Markdown text. */
function typeScriptBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

describe('README', () => {
  it('its TypeScript examples type-check under strict', async () => {
    const blocks = typeScriptBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const files = blocks.map((code, i) => {
      const name = `example-${i + 1}.mts`;
      writeFileSync(join(dir, name), code);
      return name;
    });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2023',
          lib: ['ES2023'],
          types: ['node'],
          noEmit: true,
          skipLibCheck: true,
          paths: {
            samsa: [join(ROOT, 'src', 'index.ts')],
            'samsa/client': [join(ROOT, 'src', 'client', 'index.ts')],
            'samsa/protocol': [join(ROOT, 'src', 'protocol', 'index.ts')],
          },
        },
        files,
      }),
    );
    const out = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
      const tsc = spawn(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'tsconfig.json')], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      tsc.stdout.on('data', (d: Buffer) => (text += d));
      tsc.stderr.on('data', (d: Buffer) => (text += d));
      tsc.on('error', reject);
      tsc.on('close', (code) => resolve({ code, text }));
    });
    expect(out.text).toBe('');
    expect(out.code).toBe(0);
  });

  it('finds the blocks of a Markdown text', () => {
    expect(typeScriptBlocks('a\n```ts\nconst x = 1;\n```\n```sh\nls\n```\n```ts\nlet y;\n```\n')).toEqual([
      'const x = 1;\n',
      'let y;\n',
    ]);
  });
});
