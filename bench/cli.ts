// `samsa produce` and `samsa consume` beside kcat, as a user runs them, in one run against one
// Samsa broker (a child process):
//
//   npm run bench:cli
//
// Produce: a 100 MB file of 100-byte lines (1,000,000 records) piped into `kcat -P -t T` and
// `samsa produce T` (each into a topic of its own, one partition, both with acks=all; Samsa's
// producer is idempotent, librdkafka's is not by default). Consume: `kcat -C -e -o beginning -q`
// and `samsa consume --from beginning -e -q` read the same topic (the one kcat wrote) to
// /dev/null. The raw baselines beside them move the same file through the same kind of pipe with
// `cat`. kcat and samsa take turns BENCH_ROUNDS times (default 3), alternating which goes first;
// each figure is the median, with the client's own CPU (user + system, from /usr/bin/time) and
// the broker's CPU during the run. Before the rounds, one check that both consumers print the
// same bytes.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, root, startBroker } from './samsa-process.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const RECORD_BYTES = 100; // with its newline
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const work = mkdtempSync(join(process.env.BENCH_DIR ?? root, '.bench-cli-'));
const samsaBin = join(root, 'bin/samsa.cjs');
const hasTime = spawnSync('/usr/bin/time', ['-f', '%e', 'true']).status === 0;

interface Run {
  wallS: number;
  cpuS: number;
  brokerCpuS: number;
}

/** Runs a command with stdin/stdout from files; wall and CPU seconds of the command itself. */
async function timed(
  cmd: string,
  args: string[],
  stdin: string,
  stdout: string,
  brokerPid: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Run> {
  const timeFile = join(work, 'time.out');
  const inFd = openSync(stdin, 'r');
  const outFd = openSync(stdout, 'w');
  const broker0 = cpuSeconds(brokerPid);
  const t0 = performance.now();
  const child = spawn(
    hasTime ? '/usr/bin/time' : cmd,
    hasTime ? ['-f', '%U %S', '-o', timeFile, cmd, ...args] : args,
    {
      stdio: [inFd, outFd, 'pipe'],
      env,
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const wallS = (performance.now() - t0) / 1000;
  closeSync(inFd);
  closeSync(outFd);
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`);
  const [u, s] = hasTime ? readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number) : [Number.NaN, 0];
  return { wallS, cpuS: u + s, brokerCpuS: cpuSeconds(brokerPid) - broker0 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const broker = await startBroker(join(work, 'data'));
  const brokers = `127.0.0.1:${broker.port}`;
  const env = { ...process.env, SAMSA_BROKERS: brokers };
  const samsa = (args: string[]) => {
    const r = spawnSync(process.execPath, [samsaBin, ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`samsa ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  try {
    const input = join(work, 'input.txt');
    const line = Buffer.concat([Buffer.alloc(RECORD_BYTES - 1, 'x'), Buffer.from('\n')]);
    writeFileSync(input, Buffer.concat(Array.from({ length: RECORDS }, () => line)));
    const mb = (RECORDS * RECORD_BYTES) / 1e6;
    const devNull = '/dev/null';

    const results = new Map<string, Run[]>();
    const add = (name: string, r: Run) => results.set(name, [...(results.get(name) ?? []), r]);

    for (let round = 0; round < ROUNDS; round++) {
      // Baselines: the same bytes through a pipe (produce) and out of a file (consume).
      add(
        'baseline: cat file, piped through cat',
        await timed('sh', ['-c', 'cat | cat'], input, devNull, broker.pid),
      );
      const kt = `kcat-${round}`;
      const st = `samsa-${round}`;
      samsa(['topic', 'create', kt, '-p', '1']);
      samsa(['topic', 'create', st, '-p', '1']);
      const producers: [string, () => Promise<Run>][] = [
        [
          'produce: kcat -P',
          () => timed('kcat', ['-b', brokers, '-P', '-t', kt], input, devNull, broker.pid),
        ],
        [
          'produce: samsa produce',
          () => timed(process.execPath, [samsaBin, 'produce', st], input, devNull, broker.pid, env),
        ],
      ];
      if (round % 2 === 1) producers.reverse();
      for (const [name, run] of producers) add(name, await run());

      if (round === 0) {
        // Both consumers print the same bytes (kcat's default output is the value and a newline).
        const hash = (cmd: string, args: string[], e = process.env) =>
          createHash('sha256')
            .update(spawnSync(cmd, args, { env: e, maxBuffer: 1 << 30 }).stdout)
            .digest('hex');
        const k = hash('kcat', ['-b', brokers, '-C', '-t', kt, '-e', '-o', 'beginning', '-q']);
        const s = hash(process.execPath, [samsaBin, 'consume', kt, '--from', 'beginning', '-e', '-q'], env);
        const f = createHash('sha256').update(readFileSync(input)).digest('hex');
        console.log(`consumer output identical to each other: ${k === s}; to the input file: ${s === f}`);
      }
      add('baseline: cat file > /dev/null', await timed('cat', [], input, devNull, broker.pid));
      const consumers: [string, () => Promise<Run>][] = [
        [
          'consume: kcat -C -e -o beginning -q',
          () =>
            timed(
              'kcat',
              ['-b', brokers, '-C', '-t', kt, '-e', '-o', 'beginning', '-q'],
              devNull,
              devNull,
              broker.pid,
            ),
        ],
        [
          'consume: samsa consume --from beginning -e -q',
          () =>
            timed(
              process.execPath,
              [samsaBin, 'consume', kt, '--from', 'beginning', '-e', '-q'],
              devNull,
              devNull,
              broker.pid,
              env,
            ),
        ],
      ];
      if (round % 2 === 1) consumers.reverse();
      for (const [name, run] of consumers) add(name, await run());
      samsa(['topic', 'delete', kt]);
      samsa(['topic', 'delete', st]);
    }

    const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
    console.log(
      `\n${RECORDS} records of ${RECORD_BYTES} B (${mb} MB), median of ${ROUNDS} rounds; CPU: the command's user+system, and the broker's during it`,
    );
    console.log('| measurement | wall s | MB/s | records/s | CPU s | broker CPU s | walls of the rounds |');
    console.log('|---|---|---|---|---|---|---|');
    for (const [name, runs] of results) {
      const w = median(runs.map((r) => r.wallS));
      console.log(
        `| ${name} | ${fmt(w)} | ${fmt(mb / w, 0)} | ${name.startsWith('baseline') ? '' : `${Math.round(RECORDS / w / 1000)} k`} | ${fmt(median(runs.map((r) => r.cpuS)))} | ${name.startsWith('baseline') ? '' : fmt(median(runs.map((r) => r.brokerCpuS)))} | ${runs.map((r) => fmt(r.wallS)).join(', ')} |`,
      );
    }
    const kcatV =
      spawnSync('kcat', ['-V'], { encoding: 'utf8' })
        .stdout.split('\n')
        .find((l) => l.startsWith('Version')) ?? '';
    console.log(
      `\nmachine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, node ${process.version}, kcat ${kcatV.replace(/^Version /, '').replace(/ \(.*/, '')}, ${new Date().toISOString()}`,
    );
  } finally {
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
