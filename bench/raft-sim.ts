// KRaft simulation throughput and soundness: runs many seeded quorum simulations
// (src/raft/sim/simulation.ts), alternating 3 and 5 voters, and prints how many ran, which failed
// (with the line that replays each), and seeds per second.
//
//   npm run bench:raft-sim                          10,000 seeds from seed 1
//   npm run bench:raft-sim -- --seeds 2000 --from 50000
//   npm run bench:raft-sim -- --seed 123 --nodes 5 --trace    replay one seed with its event trace

import { cpus } from 'node:os';
import { runSimulation, type SimulationResult } from '../src/raft/sim/simulation.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const single = arg('seed');
if (single !== undefined) {
  const nodes = Number(arg('nodes') ?? 3);
  const trace = process.argv.includes('--trace');
  const r = runSimulation({ seed: Number(single), nodes, recordTrace: trace });
  if (trace) for (const line of r.trace ?? []) console.log(line);
  const { trace: _t, ...summary } = r;
  console.log(JSON.stringify(summary));
  process.exit(r.ok ? 0 : 1);
}

const count = Number(arg('seeds') ?? 10_000);
const from = Number(arg('from') ?? 1);
const failures: { result: SimulationResult; nodes: number }[] = [];
let events = 0;
let committed = 0;
let simulatedMs = 0;
const start = performance.now();
for (let i = 0; i < count; i++) {
  const seed = from + i;
  const nodes = i % 2 === 0 ? 3 : 5;
  const r = runSimulation({ seed, nodes });
  events += r.events;
  committed += r.committed;
  simulatedMs += r.simulatedMs;
  if (!r.ok) failures.push({ result: r, nodes });
}
const seconds = (performance.now() - start) / 1000;

console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), node ${process.version}, ${new Date().toISOString()}`,
);
console.log(`seeds: ${count} (${from}..${from + count - 1}, alternating 3 and 5 voters)`);
console.log(`failures: ${failures.length}`);
for (const f of failures.slice(0, 20)) {
  console.log(`  seed ${f.result.seed} nodes ${f.nodes}: ${f.result.violation}`);
  console.log(`    replay: npm run bench:raft-sim -- --seed ${f.result.seed} --nodes ${f.nodes} --trace`);
}
console.log(`time: ${seconds.toFixed(1)} s, ${(count / seconds).toFixed(1)} seeds/s`);
console.log(
  `per seed: ${(events / count).toFixed(0)} events, ${(committed / count).toFixed(0)} offsets committed, ${(simulatedMs / count / 1000).toFixed(1)} s simulated`,
);
process.exit(failures.length === 0 ? 0 : 1);
