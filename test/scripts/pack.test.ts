// What `npm pack` ships, and that the tarball works in another project: installed there (from
// npm's cache, offline, as `npm install ./samsa-0.1.0.tgz` would), 'samsa', 'samsa/client' and 'samsa/protocol' import and type-check, a
// script starts a broker and round-trips a record, and the `samsa` bin runs.
//
// The package is built into a staging copy (the sources compiled and bundled as `npm run build`
// does, by the broker-process helper), not into the worktree's dist/, which another test or
// session may be building at the same moment; `npm pack --ignore-scripts` then packs the copy.

import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBroker, removeBrokerBuild } from '../helpers/broker-process.js';
import { until } from '../helpers/tools.js';

const ROOT = join(import.meta.dirname, '..', '..');
let work: string;
let packedFiles: string[];
let project: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await exec(cmd, args, cwd);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'samsa-pack-test-'));
  const staging = join(work, 'package');
  mkdirSync(staging);
  for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin']) {
    cpSync(join(ROOT, f), join(staging, f), { recursive: true });
  }
  const compiled = dirname(dirname(await buildBroker())); // <out>/cli/bin.cjs -> <out>
  cpSync(compiled, join(staging, 'dist'), { recursive: true });
  // A source map, as `npm run build` writes beside each file: the package must leave it out.
  writeFileSync(join(staging, 'dist', 'src', 'index.js.map'), '{}');
  const packed = JSON.parse(
    await ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], staging),
  ) as { filename: string; files: { path: string }[] }[];
  packedFiles = packed[0].files.map((f) => f.path);

  project = join(work, 'app');
  mkdirSync(project);
  const tgz = `file:../${packed[0].filename}`;
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: { samsa: tgz } }),
  );
  // Offline: npm takes each dependency's tarball from its cache, filled by this checkout's
  // `npm ci`. That cache holds tarballs, not the registry's package documents a resolution needs,
  // so the app gets a lockfile: this checkout's, cut to the packages samsa needs at run time
  // (neither dev nor dev-optional), plus samsa itself from the tarball.
  const rootLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
  };
  const packages: Record<string, unknown> = {
    '': { name: 'app', dependencies: { samsa: tgz } },
    'node_modules/samsa': {
      version: pkg.version,
      resolved: tgz,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [path, entry] of Object.entries(rootLock.packages)) {
    if (path !== '' && !entry.dev && !entry.devOptional) packages[path] = entry;
  }
  writeFileSync(
    join(project, 'package-lock.json'),
    JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }),
  );
  await ok('npm', ['ci', '--offline', '--no-audit', '--no-fund'], project);
}, 300_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  removeBrokerBuild();
});

describe('npm pack', () => {
  it('ships the compiled package, the bin, README and LICENSE; no sources, tests or source maps', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'CHANGELOG.md',
        'package.json',
        'bin/samsa.cjs',
        'dist/cli/bin.cjs',
        'dist/cli/samsa.cjs',
        'dist/src/index.js',
        'dist/src/index.d.ts',
        'dist/src/client/index.js',
        'dist/src/protocol/index.js',
      ]),
    );
    expect(packedFiles.filter((f) => f.endsWith('.map'))).toEqual([]);
    // The CLI runs from its bundle (dist/cli); its unbundled modules are not shipped.
    expect(packedFiles.filter((f) => f.startsWith('dist/src/cli/'))).toEqual([]);
    expect(
      packedFiles.filter(
        (f) => /^(src|test|scripts|bench)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')),
      ),
    ).toEqual([]);
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(
      /Apache License\s+Version 2\.0, January 2004/,
    );
  });
});

describe('the installed tarball', () => {
  it("imports 'samsa', 'samsa/client' and 'samsa/protocol', starts a broker and round-trips a record", async () => {
    const script = `
      import { startBroker, BrokerConfig } from 'samsa';
      import { Admin, Consumer, Producer } from 'samsa/client';
      import { ApiKey, ErrorCode } from 'samsa/protocol';
      import * as root from 'samsa';
      const broker = await startBroker();
      const brokers = broker.bootstrap;
      const admin = new Admin({ brokers });
      await admin.createTopics([{ name: 'packed', numPartitions: 1 }]);
      const producer = new Producer({ brokers });
      await producer.send({ topic: 'packed', messages: [{ value: 'from the tarball' }] });
      await producer.close();
      const consumer = new Consumer({ brokers });
      consumer.assign([{ topic: 'packed', partition: 0 }]);
      consumer.seekToBeginning();
      let value;
      for await (const r of consumer.records()) { value = r.value.toString(); break; }
      await consumer.close();
      await admin.close();
      await broker.stop();
      console.log(JSON.stringify({
        value,
        metadataKey: ApiKey.Metadata,
        none: ErrorCode.NONE,
        config: typeof BrokerConfig,
        rootHasCodec: 'ApiVersionsRequest' in root,
      }));
    `;
    writeFileSync(join(project, 'main.mjs'), script);
    const out = JSON.parse(await ok(process.execPath, ['main.mjs'], project));
    expect(out).toEqual({
      value: 'from the tarball',
      metadataKey: 3,
      none: 0,
      config: 'function',
      rootHasCodec: false,
    });
  });

  it('type-checks a TypeScript file against the installed types (strict, NodeNext)', async () => {
    writeFileSync(
      join(project, 'check.ts'),
      `import { type Logger, type StartBrokerOptions, startBroker } from 'samsa';
       import { Admin, type ProducerOptions } from 'samsa/client';
       import { ApiKey } from 'samsa/protocol';
       const logger: Logger | 'warn' = 'warn';
       const options: StartBrokerOptions = { logger, config: { 'num.partitions': '3' } };
       const producerOptions: ProducerOptions = { brokers: 'localhost:9092' };
       export async function f(): Promise<number> {
         const b = await startBroker(options);
         await new Admin({ brokers: b.bootstrap }).close();
         await b.stop();
         return ApiKey.Produce + producerOptions.brokers.length;
       }
      `,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2023',
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        files: ['check.ts'],
      }),
    );
    const r = await exec(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], project);
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.code).toBe(0);
  });

  it('installs the samsa bin', async () => {
    const bin = join(project, 'node_modules', '.bin', 'samsa');
    expect(existsSync(bin)).toBe(true);
    expect(await ok(bin, ['start', '--help'], project)).toContain('--log-format');
  });

  it('`npx samsa start`: SIGTERM to npx stops the broker (not left running with parent 1)', async () => {
    const child = spawn(
      'npx',
      ['samsa', 'start', '--listeners', 'PLAINTEXT://127.0.0.1:0', '--log-dirs', 'data'],
      {
        cwd: project,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, npm_lifecycle_event: undefined, SAMSA_LOG_LEVEL: 'info' },
      },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d));
    const brokerPid = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        const m = /"pid":(\d+)[^\n]*listening/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      void exited.then(() => reject(new Error(`npx exited before the broker listened:\n${out}`)));
      setTimeout(
        () => reject(new Error(`no listening line from npx samsa start in 60 s:\n${out}`)),
        60_000,
      ).unref();
    }).catch((err: unknown) => {
      child.kill('SIGTERM'); // npm passes it to its shell; a broker that starts later has no npm to watch
      throw err;
    });
    expect(brokerPid).not.toBe(child.pid);
    child.kill('SIGTERM');
    await exited;
    const gone = () => {
      try {
        process.kill(brokerPid, 0);
        return false;
      } catch {
        return true;
      }
    };
    await until(gone, `broker ${brokerPid} to exit`, 60_000).catch((err: Error) => {
      let status = 'gone';
      try {
        status = readFileSync(`/proc/${brokerPid}/status`, 'utf8').split('\n').slice(0, 8).join('; ');
      } catch {}
      process.kill(brokerPid, 'SIGKILL');
      throw new Error(`${err.message} (${status}):\n${out}`);
    });
  }, 180_000);
});
