// The torture harness (issue 16): starts N Samsa nodes as real processes on 127.0.0.1 (each with
// its own data dir, on its own small tmpfs where the machine allows, and its own TCP proxy),
// creates the workload's topics, runs client processes (confluent-kafka-python and Samsa's own
// client) that record every operation into one history file, injects faults on a seeded schedule
// and heals them (restarting every node a fault stopped), then stops the writers, makes a final
// read of every partition, and checks the history (checker.ts). Report files: report.ts.
//
// Nodes are a parameter; today Samsa is a single node, so each node is a cluster of its own and
// the clients use node 1 (faults pick any node). The cluster work adds inter-node links (one proxy
// per link) and replication-aware workloads.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Admin } from '../../src/client/index.js';
import type { CheckResult } from './checker.js';
import type { Op } from './history.js';
import { PartitionProxy } from './proxy.js';

export const FAULTS = ['kill', 'pause', 'lose-unsynced', 'disk-full', 'partition'] as const;
export type Fault = (typeof FAULTS)[number];

export interface TortureOptions {
  /** Where the history, data dirs and reports go (created). */
  outDir: string;
  seed: number;
  durationMs: number;
  faults: Fault[];
  nodes?: number;
  /** The broker's CLI entry point (bin/samsa.cjs, or a test build's bundled cli/bin.cjs). */
  brokerMain: string;
  /** Directory holding the compiled worker.js and fsync-journal.js. */
  compiledDir: string;
  /** Debian's Python with confluent_kafka. */
  python?: string;
  /** Records a second per producer. Default 40. */
  rate?: number;
  /** Pause between faults, ms: [min, max). Default [1500, 3500). */
  quietMs?: [number, number];
  /** tmpfs size per node for the disk-full fault, MiB. Default 64. */
  diskMiB?: number;
  /** The deliberately broken storage (fsync-journal.ts): fsyncs resolve this long before they run. */
  ackBeforeFsyncMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface FaultRecord {
  fault: Fault;
  node: number;
  start: number;
  end: number;
  detail: string;
}

export interface TortureResult {
  historyPath: string;
  faults: FaultRecord[];
  /** Broker exits the harness did not cause (each is a finding), with their stderr tail. */
  brokerCrashes: { node: number; time: number; exit: string; stderr: string }[];
  clientRestarts: number;
  /** Restarts after a fault left partition logs offline (disk-full): an availability finding. */
  offlineRestarts: number;
  startedAt: number;
  endedAt: number;
  diskMode: 'tmpfs' | 'directory';
  check?: CheckResult;
}

/** mulberry32: a small seeded PRNG, so that a seed names one fault schedule. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** The history file: one writer (this process), lines from every client and the nemesis. */
class History {
  private readonly fd: number;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }
  /** A line from a client: kept only if it is a whole JSON object (a killed writer tears lines). */
  line(text: string): void {
    let op: Op;
    try {
      op = JSON.parse(text) as Op;
    } catch {
      return;
    }
    if (typeof op !== 'object' || op === null || typeof op.process !== 'string') return;
    this.add(op);
  }
  add(op: Op): void {
    writeSync(this.fd, `${JSON.stringify(op)}\n`);
  }
  close(): void {
    closeSync(this.fd);
  }
}

class Node {
  child: ChildProcess | null = null;
  exited: Promise<string> = Promise.resolve('not started');
  port = 0;
  stderr = '';
  /** Set while the harness itself stops the process (so the exit is no crash). */
  expectingExit = false;
  paused = false;
  /** Each .log file's length at the last start: durable as far as this incarnation knows. */
  baseline = new Map<string, number>();
  /** Partition logs the broker reported offline (an I/O failure) since it started. */
  offlineLogs: string[] = [];
  journalOffset = 0;

  constructor(
    readonly id: number,
    readonly root: string,
    readonly diskDir: string,
    readonly dataDir: string,
    readonly journal: string,
    readonly proxy: PartitionProxy,
  ) {}

  get alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }
}

/**
 * What survives a power loss of each segment file: its length at the broker's start (`baseline`),
 * raised by every completed fsync and cut by every truncation the fsync journal recorded since
 * (fsync-journal.ts). A file in neither (created since, never fsynced) keeps nothing.
 */
export function durableLengths(baseline: ReadonlyMap<string, number>, journal: string): Map<string, number> {
  const durable = new Map(baseline);
  for (const line of journal.split('\n')) {
    const [what, path, n] = line.split('\t');
    if (path === undefined || n === undefined) continue;
    const len = Number(n);
    // Completed fsyncs add up (one that began earlier may end later: max); a truncation cuts.
    if (what === 'sync') durable.set(path, Math.max(len, durable.get(path) ?? 0));
    else if (what === 'truncate') durable.set(path, Math.min(len, durable.get(path) ?? len));
  }
  return durable;
}

/**
 * Every .log file under a data dir: the partitions' segments (one level of directories) and the
 * metadata log (samsa-metadata.log, at the top), which the fsync journal follows as well.
 */
function segmentFiles(dataDir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dataDir)) return out;
  for (const d of readdirSync(dataDir, { withFileTypes: true })) {
    if (d.isFile() && d.name.endsWith('.log')) out.push(join(dataDir, d.name));
    if (!d.isDirectory()) continue;
    for (const f of readdirSync(join(dataDir, d.name))) {
      if (f.endsWith('.log')) out.push(join(dataDir, d.name, f));
    }
  }
  return out;
}

export class Torture {
  private readonly history: History;
  private readonly nodes: Node[] = [];
  private readonly random: () => number;
  private readonly clients = new Set<{ child: ChildProcess; name: string; stopping: boolean }>();
  private readonly faults: FaultRecord[] = [];
  private readonly brokerCrashes: TortureResult['brokerCrashes'] = [];
  private clientRestarts = 0;
  private offlineRestarts = 0;
  private diskMode: 'tmpfs' | 'directory' = 'directory';
  private running = true;
  private stopRequested = false;
  private readonly log: (line: string) => void;
  private readonly python: string;

  constructor(private readonly opts: TortureOptions) {
    mkdirSync(opts.outDir, { recursive: true });
    this.history = new History(join(opts.outDir, 'history.jsonl'));
    this.random = prng(opts.seed);
    this.log = opts.log ?? (() => {});
    this.python = opts.python ?? '/usr/bin/python3';
  }

  private between(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo));
  }

  private nemesis(type: Op['type'], fault: string, node: number, detail?: string): void {
    this.history.add({
      time: Date.now(),
      process: 'nemesis',
      type,
      f: 'fault',
      fault,
      node,
      ...(detail ? { detail } : {}),
    });
  }

  // ---- nodes ----

  private async setUpNode(id: number): Promise<Node> {
    const root = join(this.opts.outDir, `node-${id}`);
    const diskDir = join(root, 'disk');
    mkdirSync(diskDir, { recursive: true });
    if (this.opts.faults.includes('disk-full')) {
      // A small tmpfs of its own, so that filling it fills only this node's disk.
      const r = spawnSync('mount', [
        '-t',
        'tmpfs',
        '-o',
        `size=${this.opts.diskMiB ?? 64}m`,
        'tmpfs',
        diskDir,
      ]);
      if (r.status === 0) this.diskMode = 'tmpfs';
      else throw new Error(`disk-full needs a tmpfs per node (mount as root): ${r.stderr}`);
    }
    const dataDir = join(diskDir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const proxy = await PartitionProxy.start();
    const node = new Node(
      id,
      root,
      realpathSync(diskDir),
      realpathSync(dataDir),
      join(root, 'fsync-journal'),
      proxy,
    );
    node.port = await freePort();
    proxy.target = node.port;
    closeSync(openSync(node.journal, 'a'));
    return node;
  }

  private async startNode(node: Node): Promise<void> {
    node.baseline.clear();
    for (const f of segmentFiles(node.dataDir)) node.baseline.set(f, statSync(f).size);
    node.journalOffset = statSync(node.journal).size;
    const args = [
      '--import',
      join(this.opts.compiledDir, 'fsync-journal.js'),
      this.opts.brokerMain,
      'start',
      '--listeners',
      `PLAINTEXT://127.0.0.1:${node.port}`,
      '--log-dirs',
      node.dataDir,
    ];
    const overrides: Record<string, string> = {
      'node.id': String(node.id),
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${node.proxy.port}`,
      'offsets.topic.num.partitions': '4',
      'transaction.state.log.num.partitions': '4',
      'group.initial.rebalance.delay.ms': '0',
      'log.segment.bytes': String(1024 * 1024),
    };
    for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
    const child = spawn(process.execPath, args, {
      cwd: node.root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        SAMSA_LOG_LEVEL: 'info',
        SAMSA_TORTURE_FSYNC_JOURNAL: node.journal,
        ...(this.opts.ackBeforeFsyncMs
          ? { SAMSA_TORTURE_ACK_BEFORE_FSYNC_MS: String(this.opts.ackBeforeFsyncMs) }
          : {}),
      },
    });
    node.child = child;
    node.stderr = '';
    node.offlineLogs = [];
    node.expectingExit = false;
    node.paused = false;
    child.stderr!.on('data', (d: Buffer) => {
      node.stderr = (node.stderr + d.toString('utf8')).slice(-4000);
    });
    // The broker's log (JSON lines, warn and above): logs it took offline after an I/O failure.
    let partial = '';
    const brokerLog = openSync(join(node.root, 'broker.log'), 'a');
    child.on('exit', () => closeSync(brokerLog));
    child.stdout!.on('data', (d: Buffer) => {
      // Kept beside the history for a post-mortem.
      writeSync(brokerLog, d);
      partial += d.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line.includes('offline')) continue;
        try {
          const entry = JSON.parse(line) as { msg?: string; dir?: string };
          if (entry.msg === 'log is offline after an I/O failure') node.offlineLogs.push(entry.dir ?? '?');
        } catch {
          // not a log line
        }
      }
    });
    node.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        const how = signal ?? `code ${code}`;
        if (!node.expectingExit && this.running) {
          this.brokerCrashes.push({ node: node.id, time: Date.now(), exit: how, stderr: node.stderr });
          this.history.add({
            time: Date.now(),
            process: `node-${node.id}`,
            type: 'info',
            f: 'crash',
            detail: how,
          });
          this.log(`node ${node.id} exited by itself (${how}): ${node.stderr.slice(-500)}`);
        }
        resolve(how);
      });
    });
    try {
      await this.waitReady(node);
    } catch (e) {
      if (!node.alive) throw e;
      // Running but not answering: a finding. Its data dir is kept as it is now for a post-mortem,
      // then it is killed and started again so that the run goes on.
      const copy = join(node.root, `hung-${Date.now()}`);
      spawnSync('cp', ['-a', node.dataDir, copy]);
      this.brokerCrashes.push({
        node: node.id,
        time: Date.now(),
        exit: `hung (data dir copied to ${copy})`,
        stderr: node.stderr,
      });
      this.history.add({
        time: Date.now(),
        process: `node-${node.id}`,
        type: 'info',
        f: 'crash',
        detail: `did not answer: ${String(e)}`,
      });
      this.log(`node ${node.id} started but did not answer; data dir copied to ${copy}; restarting it`);
      await this.killNode(node);
      await this.startNode(node);
    }
  }

  /** Until the node answers a metadata request through its own port (not the proxy). */
  private async waitReady(node: Node, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!node.alive) throw new Error(`node ${node.id} exited while starting: ${node.stderr}`);
      const admin = new Admin({
        brokers: `127.0.0.1:${node.port}`,
        requestTimeoutMs: 3000,
        clientId: 'torture-ready',
      });
      try {
        // Bounded, so that the deadline below is kept even if a request never completes.
        await admin.listTopics({ signal: AbortSignal.timeout(5000) });
        return;
      } catch {
        await sleep(100);
      } finally {
        await admin.close().catch(() => {});
      }
    }
    throw new Error(`node ${node.id} did not answer in ${timeoutMs} ms: ${node.stderr}`);
  }

  private async killNode(node: Node): Promise<void> {
    node.expectingExit = true;
    if (node.paused) node.child?.kill('SIGCONT');
    node.child?.kill('SIGKILL');
    await node.exited;
  }

  /** SIGTERM (the clean shutdown), SIGKILL if it takes more than 30 s; then start again. */
  private async restartCleanly(node: Node): Promise<void> {
    node.expectingExit = true;
    node.child?.kill('SIGTERM');
    const timer = setTimeout(() => node.child?.kill('SIGKILL'), 30_000);
    await node.exited;
    clearTimeout(timer);
    await this.startNode(node);
  }

  /** After a SIGKILL: cut every segment file back to what an fsync made durable (fsync-journal.ts). */
  private loseUnsyncedWrites(node: Node): string {
    const durable = durableLengths(
      node.baseline,
      readFileSync(node.journal, 'utf8').slice(node.journalOffset),
    );
    let files = 0;
    let bytes = 0;
    for (const f of segmentFiles(node.dataDir)) {
      const size = statSync(f).size;
      const keep = durable.get(f) ?? 0;
      if (size > keep) {
        truncateSync(f, keep);
        files++;
        bytes += size - keep;
      }
    }
    return `${bytes} unsynced bytes dropped from ${files} segment files`;
  }

  // ---- faults ----

  private async runFault(fault: Fault, node: Node): Promise<string> {
    switch (fault) {
      case 'kill': {
        await this.killNode(node);
        await sleep(this.between(100, 1000));
        await this.startNode(node);
        return 'SIGKILL, restarted';
      }
      case 'lose-unsynced': {
        await this.killNode(node);
        const detail = this.loseUnsyncedWrites(node);
        await this.startNode(node);
        return `SIGKILL, ${detail}, restarted`;
      }
      case 'pause': {
        // Longer than the clients' session timeouts (6 s): group members are expired meanwhile.
        const ms = this.between(6500, 8500);
        node.paused = true;
        node.child?.kill('SIGSTOP');
        await sleep(ms);
        node.child?.kill('SIGCONT');
        node.paused = false;
        return `SIGSTOP for ${ms} ms`;
      }
      case 'partition': {
        const ms = this.between(3000, 8000);
        node.proxy.partition();
        await sleep(ms);
        node.proxy.heal();
        return `clients cut off for ${ms} ms`;
      }
      case 'disk-full': {
        const ms = this.between(2000, 5000);
        const filler = join(node.diskDir, 'filler');
        const fd = openSync(filler, 'w');
        let filled = 0;
        try {
          const chunk = Buffer.alloc(1 << 20);
          for (let size = chunk.length; size >= 512; ) {
            try {
              filled += writeSync(fd, chunk, 0, size);
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
              size >>= 1;
            }
          }
        } finally {
          closeSync(fd);
        }
        await sleep(ms);
        unlinkSync(filler);
        let detail = `disk full (${filled} bytes of filler) for ${ms} ms`;
        if (node.offlineLogs.length > 0) {
          // A log whose write or fsync failed stays offline until the broker restarts (Kafka
          // halts a broker whose last log dir failed; its supervisor restarts it): restart it as
          // a supervisor would, cleanly, and say so.
          detail += `; ${node.offlineLogs.length} logs offline (${[...new Set(node.offlineLogs.map((d) => d.split('/').pop()))].join(' ')}), broker restarted`;
          this.offlineRestarts++;
          await this.restartCleanly(node);
        }
        return detail;
      }
    }
  }

  /** Ends the faults early (Ctrl-C): the run still quiesces, reads everything back and checks. */
  stopEarly(): void {
    this.stopRequested = true;
  }

  private async nemesisLoop(until: number): Promise<void> {
    const [qMin, qMax] = this.opts.quietMs ?? [1500, 3500];
    while (Date.now() < until && !this.stopRequested) {
      await sleep(this.between(qMin, qMax));
      if (Date.now() >= until || this.stopRequested) break;
      const fault = this.opts.faults[Math.floor(this.random() * this.opts.faults.length)];
      const node = this.nodes[Math.floor(this.random() * this.nodes.length)];
      const start = Date.now();
      this.nemesis('info', fault, node.id);
      this.log(`fault ${this.faults.length + 1}: ${fault} on node ${node.id}`);
      const detail = await this.runFault(fault, node);
      // Whatever the fault did, the node serves again before the next one (a crash it caused is
      // recorded by the exit handler and restarted here).
      if (!node.alive) await this.startNode(node);
      else await this.waitReady(node);
      const end = Date.now();
      this.nemesis('ok', fault, node.id, detail);
      this.faults.push({ fault, node: node.id, start, end, detail });
    }
  }

  // ---- clients ----

  private spawnClient(name: string, make: (incarnation: string) => { cmd: string; args: string[] }): void {
    let n = 0;
    const launch = () => {
      const incarnation = n === 0 ? name : `${name}#${n}`;
      n++;
      const { cmd, args } = make(incarnation);
      const child = spawn(cmd, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, SAMSA_LOG_LEVEL: 'error' },
      });
      const entry = { child, name: incarnation, stopping: false };
      this.clients.add(entry);
      let partial = '';
      child.stdout!.on('data', (d: Buffer) => {
        partial += d.toString('utf8');
        const lines = partial.split('\n');
        partial = lines.pop()!;
        for (const l of lines) this.history.line(l);
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString('utf8')).slice(-2000);
      });
      child.on('exit', (code, signal) => {
        this.clients.delete(entry);
        if (entry.stopping || !this.running) return;
        this.history.add({
          time: Date.now(),
          process: incarnation,
          type: 'info',
          f: 'crash',
          detail: `${signal ?? `code ${code}`}: ${stderr.slice(-300)}`,
        });
        this.clientRestarts++;
        setTimeout(() => {
          if (this.running) launch();
        }, 1000);
      });
    };
    launch();
  }

  private startWorkload(bootstrap: string): void {
    const rate = String(this.opts.rate ?? 40);
    const py = join(import.meta.dirname, 'workers', 'rdkafka_worker.py');
    const pyWorker = existsSync(py)
      ? py
      : join(this.opts.compiledDir, '..', '..', '..', 'tools', 'torture', 'workers', 'rdkafka_worker.py');
    const python = (args: string[]) => ({ cmd: this.python, args: [pyWorker, ...args] });
    const node = (args: string[]) => ({
      cmd: process.execPath,
      args: [join(this.opts.compiledDir, 'worker.js'), ...args],
    });
    this.spawnClient('py-plain', (p) => python(['produce', bootstrap, p, 'plain', 'queue:4', rate]));
    this.spawnClient('py-idem', (p) => python(['produce', bootstrap, p, 'idempotent', 'queue:4', rate]));
    this.spawnClient('node-idem', (p) => node(['produce', bootstrap, p, 'queue:4,txn-in:2', rate]));
    this.spawnClient('py-group', (p) =>
      python(['consume', bootstrap, p, 'queue:4', 'g-queue', 'read_uncommitted']),
    );
    this.spawnClient('py-committed', (p) =>
      python(['consume', bootstrap, p, 'txn-mid:2,txn-out:2', '-', 'read_committed']),
    );
    this.spawnClient('node-assign', (p) =>
      node(['consume', bootstrap, p, 'queue:4,txn-in:2,txn-mid:2,txn-out:2', 'read_committed']),
    );
    this.spawnClient('py-copier', (p) =>
      python(['copy', bootstrap, p, 'txn-in:2', 'txn-mid', 'copy-a', 'copier-a', '5']),
    );
    this.spawnClient('node-copier', (p) =>
      node(['copy', bootstrap, p, 'txn-mid:2', 'txn-out', 'copy-b', 'copier-b', '4']),
    );
  }

  private async stopClients(filter: (name: string) => boolean, graceMs: number): Promise<void> {
    const stopping = [...this.clients].filter((c) => filter(c.name));
    await Promise.all(
      stopping.map(
        (c) =>
          new Promise<void>((resolve) => {
            c.stopping = true;
            if (c.child.exitCode !== null || c.child.signalCode !== null) return resolve();
            const timer = setTimeout(() => c.child.kill('SIGKILL'), graceMs);
            c.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.child.kill('SIGTERM');
          }),
      ),
    );
  }

  private async finalRead(bootstrap: string, isolation: string): Promise<void> {
    const child = spawn(
      process.execPath,
      [
        join(this.opts.compiledDir, 'worker.js'),
        'final',
        bootstrap,
        `final-${isolation}`,
        'queue:4,txn-in:2,txn-mid:2,txn-out:2',
        isolation,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    await new Promise<void>((resolve) => child.on('exit', () => resolve()));
    for (const l of out.split('\n')) if (l.trim() !== '') this.history.line(l);
  }

  // ---- the run ----

  async run(): Promise<TortureResult> {
    const startedAt = Date.now();
    try {
      for (let i = 1; i <= (this.opts.nodes ?? 1); i++) this.nodes.push(await this.setUpNode(i));
      for (const n of this.nodes) await this.startNode(n);
      const bootstrap = `127.0.0.1:${this.nodes[0].proxy.port}`;
      const admin = new Admin({ brokers: bootstrap, clientId: 'torture-setup' });
      try {
        await admin.createTopics(
          [
            { name: 'queue', numPartitions: 4 },
            { name: 'txn-in', numPartitions: 2 },
            { name: 'txn-mid', numPartitions: 2 },
            { name: 'txn-out', numPartitions: 2 },
          ].map((t) => ({ ...t, replicationFactor: 1, configs: { 'segment.bytes': String(1024 * 1024) } })),
        );
      } finally {
        await admin.close();
      }
      this.log(`nodes up, topics created; workload for ${this.opts.durationMs} ms, seed ${this.opts.seed}`);
      this.startWorkload(bootstrap);
      await this.nemesisLoop(Date.now() + this.opts.durationMs);
      // Quiesce: writers stop, readers catch up, then the final reads.
      for (const n of this.nodes) if (!n.alive) await this.startNode(n);
      this.log('stopping producers');
      await this.stopClients((n) => /-(plain|idem)/.test(n), 25_000);
      await sleep(5000);
      this.log('stopping consumers and copiers');
      await this.stopClients(() => true, 25_000);
      this.running = false;
      this.log('final reads');
      await this.finalRead(bootstrap, 'read_uncommitted');
      await this.finalRead(bootstrap, 'read_committed');
    } finally {
      this.running = false;
      await this.stopClients(() => true, 5000);
      for (const n of this.nodes) {
        if (n.alive) {
          n.expectingExit = true;
          if (n.paused) n.child?.kill('SIGCONT');
          n.child?.kill('SIGTERM');
          const timer = setTimeout(() => n.child?.kill('SIGKILL'), 20_000);
          await n.exited;
          clearTimeout(timer);
        }
        await n.proxy.close();
        if (this.diskMode === 'tmpfs') {
          // Keep the data for a post-mortem: copy it out of the tmpfs before unmounting.
          spawnSync('cp', ['-a', n.dataDir, join(n.root, 'data')]);
          spawnSync('umount', [n.diskDir]);
        }
      }
      this.history.close();
    }
    return {
      historyPath: this.history.path,
      faults: this.faults,
      brokerCrashes: this.brokerCrashes,
      clientRestarts: this.clientRestarts,
      offlineRestarts: this.offlineRestarts,
      startedAt,
      endedAt: Date.now(),
      diskMode: this.diskMode,
    };
  }
}

/** Removes a run's output directory (its tmpfs mounts must be gone: run() unmounts them). */
export function removeRun(outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
}
