// A torture run's report, written beside its history: summary.json (everything), summary.txt (the
// table a person reads first) and timeline.html (one self-contained page: faults as bands and
// throughput per second as lines, in inline SVG, no external assets).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ANOMALY_KINDS, type CheckResult } from './checker.js';
import type { FaultRecord, TortureResult } from './harness.js';
import type { Op } from './history.js';

export interface RunInfo {
  seed: number;
  durationMs: number;
  nodes: number;
  faults: string[];
  broken?: string;
}

export function summaryTable(info: RunInfo, run: TortureResult, check: CheckResult): string {
  const rows: [string, string][] = [];
  const byKind = new Map<string, number>();
  for (const f of run.faults) byKind.set(f.fault, (byKind.get(f.fault) ?? 0) + 1);
  rows.push(['seed', String(info.seed)]);
  rows.push(['nodes', String(info.nodes)]);
  rows.push([
    'duration',
    `${Math.round((run.endedAt - run.startedAt) / 1000)} s (faults for ${info.durationMs / 1000} s)`,
  ]);
  rows.push(['disk', run.diskMode]);
  if (info.broken) rows.push(['broken broker', info.broken]);
  rows.push(['fault cycles', String(run.faults.length)]);
  for (const [k, n] of [...byKind].sort()) rows.push([`  ${k}`, String(n)]);
  rows.push(['broker exits not caused by the harness', String(run.brokerCrashes.length)]);
  rows.push(['restarts for logs left offline by a fault', String(run.offlineRestarts)]);
  rows.push(['client restarts', String(run.clientRestarts)]);
  const s = check.stats;
  rows.push(['sends', String(s.sends)]);
  rows.push(['  acknowledged', String(s.acknowledged)]);
  rows.push(['  acknowledged and checked by a read', String(s.acknowledgedChecked)]);
  rows.push(['  indeterminate', String(s.indeterminate)]);
  rows.push(['polls', String(s.polls)]);
  rows.push(['records read (all reads)', String(s.recordsRead)]);
  rows.push([
    'transactions committed / aborted / unknown',
    `${s.txnsCommitted} / ${s.txnsAborted} / ${s.txnsUnknown}`,
  ]);
  rows.push(['final reads', String(s.finalReads)]);
  rows.push(['anomalies', String(Object.values(check.counts).reduce((a, b) => a + b, 0))]);
  for (const k of ANOMALY_KINDS) if (check.counts[k] > 0) rows.push([`  ${k}`, String(check.counts[k])]);
  rows.push([
    'allowed: write cycles (G0) / plain-producer duplicates',
    `${check.allowed.G0} / ${check.allowed.plainDuplicates}`,
  ]);
  rows.push(['verdict', check.valid ? 'valid' : 'INVALID']);
  const w = Math.max(...rows.map((r) => r[0].length));
  return `${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n`;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const FAULT_COLOURS: Record<string, string> = {
  kill: '#e45756',
  'lose-unsynced': '#b279a2',
  pause: '#f2cf5b',
  'disk-full': '#9d755d',
  partition: '#72b7b2',
};

/** Per second from the start: acknowledged sends, records read, committed transactions. */
function throughput(ops: readonly Op[], t0: number, seconds: number) {
  const acks = new Array<number>(seconds).fill(0);
  const reads = new Array<number>(seconds).fill(0);
  const txns = new Array<number>(seconds).fill(0);
  for (const op of ops) {
    const i = Math.floor((op.time - t0) / 1000);
    if (i < 0 || i >= seconds) continue;
    if (op.f === 'send' && op.type === 'ok') acks[i]++;
    else if (op.f === 'poll' && op.type === 'ok') reads[i] += op.reads?.length ?? 0;
    else if (op.f === 'txn' && op.type === 'ok') txns[i]++;
  }
  return { acks, reads, txns };
}

export function timelineHtml(
  info: RunInfo,
  run: TortureResult,
  check: CheckResult,
  ops: readonly Op[],
): string {
  const t0 = run.startedAt;
  const seconds = Math.max(1, Math.ceil((run.endedAt - t0) / 1000));
  const { acks, reads, txns } = throughput(ops, t0, seconds);
  const width = 1000;
  const height = 260;
  const left = 50;
  const plotW = width - left - 10;
  const plotH = height - 40;
  const peak = Math.max(1, ...acks, ...reads);
  const x = (s: number) => left + (s / seconds) * plotW;
  const y = (v: number) => 10 + plotH - (v / peak) * plotH;
  const line = (series: number[], colour: string) =>
    `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${series.map((v, i) => `${x(i + 0.5).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`;
  const bands = run.faults
    .map((f: FaultRecord) => {
      const a = x((f.start - t0) / 1000);
      const b = Math.max(a + 1, x((f.end - t0) / 1000));
      return `<rect x="${a.toFixed(1)}" y="10" width="${(b - a).toFixed(1)}" height="${plotH}" fill="${FAULT_COLOURS[f.fault] ?? '#999'}" opacity="0.35"><title>${esc(`${f.fault} on node ${f.node}: ${f.detail}`)}</title></rect>`;
    })
    .join('\n');
  const crashes = run.brokerCrashes
    .map((c) => {
      const cx = x((c.time - t0) / 1000);
      return `<line x1="${cx}" x2="${cx}" y1="10" y2="${10 + plotH}" stroke="black" stroke-dasharray="3,2"><title>${esc(`node ${c.node} exited by itself: ${c.exit}`)}</title></line>`;
    })
    .join('\n');
  const ticks: string[] = [];
  const step = Math.max(1, Math.ceil(seconds / 20 / 5) * 5);
  for (let s = 0; s <= seconds; s += step) {
    ticks.push(`<text x="${x(s)}" y="${height - 12}" font-size="10" text-anchor="middle">${s}s</text>`);
  }
  ticks.push(`<text x="${left - 4}" y="14" font-size="10" text-anchor="end">${peak}/s</text>`);
  ticks.push(`<text x="${left - 4}" y="${10 + plotH}" font-size="10" text-anchor="end">0</text>`);
  const legend = [
    ['acknowledged sends/s', '#4c78a8'],
    ['records read/s', '#54a24b'],
    ['committed txns/s (×10)', '#f58518'],
    ...Object.entries(FAULT_COLOURS),
  ]
    .map(
      ([name, colour]) =>
        `<span style="display:inline-block;margin-right:14px"><span style="display:inline-block;width:12px;height:12px;background:${colour};margin-right:4px"></span>${esc(name)}</span>`,
    )
    .join('');
  const anomalies = check.anomalies
    .slice(0, 100)
    .map(
      (a) =>
        `<tr><td>${esc(a.kind)}</td><td>${esc(a.message)}</td><td><code>${esc(JSON.stringify(a.details))}</code></td></tr>`,
    )
    .join('\n');
  const faultRows = run.faults
    .map(
      (f) =>
        `<tr><td>${((f.start - t0) / 1000).toFixed(1)}</td><td>${((f.end - f.start) / 1000).toFixed(1)}</td><td>${esc(f.fault)}</td><td>${f.node}</td><td>${esc(f.detail)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Samsa torture run, seed ${info.seed}</title>
<style>body{font-family:sans-serif;margin:20px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;vertical-align:top}code{font-size:11px}</style>
</head><body>
<h1>Samsa torture run: seed ${info.seed}, ${check.valid ? 'valid' : 'INVALID'}</h1>
<pre>${esc(summaryTable(info, run, check))}</pre>
<h2>Timeline</h2>
<div>${legend}</div>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<rect x="${left}" y="10" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>
${bands}
${line(acks, '#4c78a8')}
${line(reads, '#54a24b')}
${line(
  txns.map((v) => v * 10),
  '#f58518',
)}
${crashes}
${ticks.join('\n')}
</svg>
<h2>Faults</h2>
<table><tr><th>start (s)</th><th>length (s)</th><th>fault</th><th>node</th><th>what happened</th></tr>
${faultRows}
</table>
<h2>Anomalies</h2>
${anomalies ? `<table><tr><th>kind</th><th>what</th><th>records</th></tr>${anomalies}</table>` : '<p>none</p>'}
</body></html>
`;
}

/** Writes summary.json, summary.txt and timeline.html into the run's directory. */
export function writeReport(
  outDir: string,
  info: RunInfo,
  run: TortureResult,
  check: CheckResult,
  ops: readonly Op[],
): string {
  const table = summaryTable(info, run, check);
  writeFileSync(join(outDir, 'summary.txt'), table);
  writeFileSync(
    join(outDir, 'summary.json'),
    `${JSON.stringify({ info, faults: run.faults, brokerCrashes: run.brokerCrashes, clientRestarts: run.clientRestarts, offlineRestarts: run.offlineRestarts, check }, null, 2)}\n`,
  );
  writeFileSync(join(outDir, 'timeline.html'), timelineHtml(info, run, check, ops));
  return table;
}
