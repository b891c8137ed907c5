// Durability across crashes: the broker runs as a child process (test/helpers/broker-process.ts)
// and is killed with SIGKILL while producers write with acks=all. After each restart on the same
// data directory, every acknowledged record must be there at the offset it was acknowledged with,
// every partition must hold offsets 0..HW-1 without a gap, and each producer's records must appear
// in the order it sent them. Unacknowledged records may or may not survive; both are allowed.
//
// Then the recovery of a damaged tail: the active segment's .log is damaged while the broker is
// down (a flipped byte, a torn batch, zeros appended), and the restarted broker must truncate at
// the first bad batch, serve everything before it, and continue at the right offset.
//
// No timing assertions: the producers run until enough acknowledgements have arrived, however
// long that takes, and the kill happens while they are still writing.

import { type ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/errors.js';
import {
  BrokerProcess,
  buildBroker,
  killChild,
  removeBrokerBuild,
  stopAllBrokers,
} from '../helpers/broker-process.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';
import { hasConfluentKafka, PYTHON, requireClient } from '../helpers/tools.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'samsa-durability-'));
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  await buildBroker();
}, 180_000);

/** Every producer started, so that a failed test leaves none running. */
const producers: RunningProducer[] = [];

afterAll(async () => {
  await Promise.all(producers.map((p) => p.stop()));
  await stopAllBrokers();
  removeBrokerBuild();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Polls `cond` until it holds; a generous deadline only guards against a hung test. */
async function until(cond: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Ack {
  partition: number;
  offset: bigint;
  value: string;
}

/** A producer that writes until stopped (by the broker dying); `acks` grows as answers arrive. */
interface RunningProducer {
  acks: Ack[];
  /** Resolves once the producer has ended (every record acknowledged or failed). */
  done: Promise<void>;
  /** Whether it still had records to send when it ended (it was cut off, not finished). */
  cutOff(): boolean;
  stop(): Promise<void>;
}

const TOPIC = 'durable';
const PARTITIONS = 3;

/**
 * librdkafka through confluent-kafka-python (test/helpers/acked_producer.py): acks=all, no
 * retries, one request in flight, every delivery report printed as it arrives.
 */
function pythonProducer(bootstrap: string, prefix: string): RunningProducer {
  const count = 5_000_000;
  const child: ChildProcess = spawn(
    PYTHON,
    [
      join(import.meta.dirname, '..', 'helpers', 'acked_producer.py'),
      bootstrap,
      TOPIC,
      String(PARTITIONS),
      prefix,
      String(count),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const acks: Ack[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const f = line.split(' ');
      if (f[0] === 'ack') acks.push({ partition: Number(f[1]), offset: BigInt(f[2]), value: f[3] });
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0 || signal === 'SIGKILL') resolve();
      else reject(new Error(`producer exited with ${code ?? signal}: ${stderr}`));
    });
  });
  return {
    acks,
    done,
    cutOff: () => acks.length < count,
    stop: () => killChild(child).then(() => undefined),
  };
}

/**
 * A Node producer on one connection with the generated codecs: Produce v9, acks=-1, 10-record
 * batches round-robin over the partitions, up to 16 requests pipelined. It stops at the first
 * failure (the broker dying closes the connection and fails every request in flight).
 */
function rawProducer(port: number, prefix: string, padTo = 0): RunningProducer {
  const acks: Ack[] = [];
  let stopped = false;
  let cut = false;
  let rpc: KafkaRpc | null = null;
  let batchNo = 0;
  let next = 0;
  const done = (async () => {
    rpc = await KafkaRpc.connect(port);
    const c = rpc;
    const window = new Set<Promise<void>>();
    while (!stopped) {
      const partition = batchNo++ % PARTITIONS;
      const values = Array.from({ length: 10 }, () => `${prefix}-${next++}|`.padEnd(padTo, 'x'));
      const p = c
        .produce(
          TOPIC,
          partition,
          values.map((v) => ({ value: Buffer.from(v) })),
        )
        .then(
          (r) => {
            if (r.errorCode !== 0) {
              stopped = true;
              cut = true;
              return;
            }
            values.forEach((value, k) => {
              acks.push({ partition, offset: r.baseOffset + BigInt(k), value });
            });
          },
          () => {
            stopped = true;
            cut = true;
          },
        )
        .finally(() => window.delete(p));
      window.add(p);
      if (window.size >= 16) await Promise.race(window);
    }
    await Promise.all(window);
    c.close();
  })();
  return {
    acks,
    done,
    cutOff: () => cut,
    stop: async () => {
      stopped = true;
      rpc?.close();
      await done.catch(() => {});
    },
  };
}

/** "prefix-i" or "prefix-i|padding" → [prefix, i], for checking one producer's log order. */
function seq(value: string): [string, number] {
  const v = value.split('|')[0];
  const at = v.lastIndexOf('-');
  return [v.slice(0, at), Number(v.slice(at + 1))];
}

/**
 * Reads every partition back and checks: offsets 0..HW-1 with no gap, every acknowledged record at
 * its offset, and each producer's records in the order it produced them.
 */
async function checkAllAcknowledged(port: number, acks: readonly Ack[]): Promise<bigint[]> {
  const rpc = await KafkaRpc.connect(port);
  const hws: bigint[] = [];
  try {
    for (let p = 0; p < PARTITIONS; p++) {
      const read = await rpc.readPartition(TOPIC, p);
      expect(read.logStartOffset).toBe(0n);
      expect(BigInt(read.records.length)).toBe(read.highWatermark);
      read.records.forEach((r, i) => {
        if (r.offset !== BigInt(i))
          expect.fail(`partition ${p}: offset ${r.offset} at position ${i} (a gap)`);
      });
      const byOffset = new Map(read.records.map((r) => [r.offset, r.value]));
      const mine = acks.filter((a) => a.partition === p);
      const missing = mine.filter((a) => byOffset.get(a.offset) !== a.value);
      expect(missing.slice(0, 5), `${missing.length} acknowledged records of partition ${p} lost`).toEqual(
        [],
      );
      // Per producer (prefix), the log holds its records in increasing sequence.
      const last = new Map<string, number>();
      for (const r of read.records) {
        const [producer, i] = seq(r.value!);
        const prev = last.get(producer);
        if (prev !== undefined && i <= prev)
          expect.fail(`partition ${p}: ${r.value} after ${producer}-${prev}`);
        last.set(producer, i);
      }
      hws.push(read.highWatermark);
    }
  } finally {
    rpc.close();
  }
  return hws;
}

type ProducerKind = 'librdkafka' | 'raw';
const variants: {
  name: string;
  kind: ProducerKind;
  topicConfigs: Record<string, string>;
  run: boolean;
  padTo?: number;
  /** Acknowledgements to wait for before each kill. */
  killAfter?: number;
}[] = [
  {
    name: 'librdkafka (confluent-kafka-python), acks=all, fsync before ack',
    kind: 'librdkafka',
    topicConfigs: {},
    run: requireClient('confluent-kafka-python', hasConfluentKafka),
  },
  {
    name: 'a pipelining Node producer, acks=all, fsync before ack',
    kind: 'raw',
    topicConfigs: {},
    run: true,
  },
  {
    // Page-cache mode survives a process crash (not a machine crash): acks follow the write.
    name: 'a pipelining Node producer, acks=all, page-cache mode (flush.messages set)',
    kind: 'raw',
    topicConfigs: { 'flush.messages': '100000' },
    run: true,
  },
  {
    // 1 KB records into 1 MiB segments: the kill lands a few segments in, recovery spans rolls.
    name: 'a pipelining Node producer, acks=all, segments rolling during the stream',
    kind: 'raw',
    topicConfigs: { 'segment.bytes': '1048576' },
    run: true,
    padTo: 1000,
    // At least 2 x 6000 x 1 KB / 3 partitions = 4 MB per partition: four segments or more.
    killAfter: 6000,
  },
];

describe('durability: acknowledged records survive SIGKILL of the broker', () => {
  for (const v of variants) {
    it.skipIf(!v.run)(
      v.name,
      async () => {
        const dataDir = tempDir();
        let broker = await BrokerProcess.start({ dataDir });
        const admin = await KafkaRpc.connect(broker.port);
        expect((await admin.createTopic(TOPIC, PARTITIONS, v.topicConfigs)).errorCode).toBe(0);
        admin.close();

        const acked: Ack[] = [];
        for (let round = 1; round <= 2; round++) {
          const producer =
            v.kind === 'librdkafka'
              ? pythonProducer(broker.bootstrap, `r${round}`)
              : rawProducer(broker.port, `r${round}`, v.padTo);
          producers.push(producer);
          // Kill while the producer is mid-stream: once it has a good number of acks in hand.
          const killAfter = v.killAfter ?? 3000;
          await until(
            () => producer.acks.length >= killAfter,
            `${killAfter} acknowledgements in round ${round}`,
          );
          await broker.kill();
          await producer.done;
          expect(producer.cutOff()).toBe(true);
          acked.push(...producer.acks);

          broker = await broker.restart();
          const hws = await checkAllAcknowledged(broker.port, acked);
          // SIGKILL leaves no clean-shutdown marker: the logs were recovered, not trusted.
          expect(broker.logsMatching(/loaded partition logs/)[0]?.cleanShutdown).toEqual([]);

          // New appends continue exactly at each partition's high watermark.
          const rpc = await KafkaRpc.connect(broker.port);
          for (let p = 0; p < PARTITIONS; p++) {
            const r = await rpc.produce(TOPIC, p, [{ value: Buffer.from(`after${round}-${p}`) }]);
            expect(r.errorCode).toBe(0);
            expect(r.baseOffset).toBe(hws[p]);
            acked.push({ partition: p, offset: hws[p], value: `after${round}-${p}` });
          }
          rpc.close();
        }
        await checkAllAcknowledged(broker.port, acked);
        if (v.padTo) {
          expect(
            readdirSync(join(dataDir, `${TOPIC}-0`)).filter((f) => f.endsWith('.log')).length,
          ).toBeGreaterThan(2);
        }
        await broker.stop();
      },
      600_000,
    );
  }
});

// ---- damaged tails ----

/** (position, size) of every batch in a .log file, by walking the batch headers. */
function batchPositions(file: string): { position: number; size: number }[] {
  const bytes = readFileSync(file);
  const out: { position: number; size: number }[] = [];
  let pos = 0;
  while (pos + 12 <= bytes.length) {
    const size = 12 + bytes.readInt32BE(pos + 8);
    out.push({ position: pos, size });
    pos += size;
  }
  expect(pos).toBe(bytes.length);
  return out;
}

const BATCHES = 20;
const PER_BATCH = 5;
const SEGMENT = '00000000000000000000.log';

/** A broker with topic "ct" holding 20 batches of 5 records (offsets 0..99), then stopped. */
async function damagedLogFixture(stopWith: 'kill' | 'stop'): Promise<{ broker: BrokerProcess; log: string }> {
  const broker = await BrokerProcess.start({ dataDir: tempDir() });
  const rpc = await KafkaRpc.connect(broker.port);
  expect((await rpc.createTopic('ct', 1)).errorCode).toBe(0);
  for (let b = 0; b < BATCHES; b++) {
    const r = await rpc.produce(
      'ct',
      0,
      Array.from({ length: PER_BATCH }, (_, k) => ({
        key: Buffer.from(`k${b}`),
        value: Buffer.from(`b${b}-${k}`),
      })),
    );
    expect(r.errorCode).toBe(0);
    expect(r.baseOffset).toBe(BigInt(b * PER_BATCH));
  }
  rpc.close();
  const exit = stopWith === 'kill' ? await broker.kill() : await broker.stop();
  if (stopWith === 'stop') expect(exit.code).toBe(0);
  const log = join(broker.dataDir, 'ct-0', SEGMENT);
  expect(batchPositions(log)).toHaveLength(BATCHES);
  return { broker, log };
}

interface Damage {
  name: string;
  stopWith: 'kill' | 'stop';
  damage: (log: string, batches: { position: number; size: number }[]) => void;
  /** Records expected to survive (offsets 0..n-1). */
  survivors: number;
  /** The size of the .log after recovery. */
  validBytes: (batches: { position: number; size: number }[]) => number;
}

function flipByte(file: string, at: number): void {
  const bytes = readFileSync(file);
  bytes[at] ^= 0x5a;
  writeFileSync(file, bytes);
}

const damages: Damage[] = [
  {
    name: 'a flipped byte in the last batch (CRC mismatch) after kill -9',
    stopWith: 'kill',
    damage: (log, b) => flipByte(log, b[BATCHES - 1].position + b[BATCHES - 1].size - 3),
    survivors: (BATCHES - 1) * PER_BATCH,
    validBytes: (b) => b[BATCHES - 1].position,
  },
  {
    name: 'a flipped byte in a middle batch: everything from it on is cut, after kill -9',
    stopWith: 'kill',
    damage: (log, b) => flipByte(log, b[10].position + b[10].size - 3),
    survivors: 10 * PER_BATCH,
    validBytes: (b) => b[10].position,
  },
  {
    name: 'a torn last batch (half written) after kill -9',
    stopWith: 'kill',
    damage: (log, b) => truncateSync(log, b[BATCHES - 1].position + Math.floor(b[BATCHES - 1].size / 2)),
    survivors: (BATCHES - 1) * PER_BATCH,
    validBytes: (b) => b[BATCHES - 1].position,
  },
  {
    name: 'zeros after the last batch (unwritten blocks) after kill -9',
    stopWith: 'kill',
    damage: (log) => appendFileSync(log, Buffer.alloc(4096)),
    survivors: BATCHES * PER_BATCH,
    validBytes: (b) => b[BATCHES - 1].position + b[BATCHES - 1].size,
  },
  {
    name: 'garbage appended after a clean stop',
    stopWith: 'stop',
    damage: (log) => appendFileSync(log, Buffer.alloc(100, 0xab)),
    survivors: BATCHES * PER_BATCH,
    validBytes: (b) => b[BATCHES - 1].position + b[BATCHES - 1].size,
  },
];

describe('recovery of a damaged segment tail', () => {
  it.each(damages)('$name', async (d) => {
    const { broker: stopped, log } = await damagedLogFixture(d.stopWith);
    const batches = batchPositions(log);
    d.damage(log, batches);

    const broker = await stopped.restart();
    expect(statSync(log).size).toBe(d.validBytes(batches));
    const rpc = await KafkaRpc.connect(broker.port);
    const read = await rpc.readPartition('ct', 0);
    expect(read.highWatermark).toBe(BigInt(d.survivors));
    expect(read.records.map((r) => r.offset)).toEqual(
      Array.from({ length: d.survivors }, (_, i) => BigInt(i)),
    );
    expect(read.records.map((r) => r.value)).toEqual(
      Array.from({ length: d.survivors }, (_, i) => `b${Math.floor(i / PER_BATCH)}-${i % PER_BATCH}`),
    );
    if (d.survivors < BATCHES * PER_BATCH) {
      expect(broker.logsMatching(/truncated a torn or corrupt segment tail/).length).toBe(1);
    }
    // Produces continue at the first offset after what survived, and are read back.
    const r = await rpc.produce('ct', 0, [{ value: Buffer.from('after') }, { value: Buffer.from('after2') }]);
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.baseOffset).toBe(BigInt(d.survivors));
    const tail = await rpc.readPartition('ct', 0, BigInt(d.survivors));
    expect(tail.records.map((x) => [x.offset, x.value])).toEqual([
      [BigInt(d.survivors), 'after'],
      [BigInt(d.survivors + 1), 'after2'],
    ]);
    rpc.close();
    await broker.stop();
  });

  it('rescans after kill -9 even when the previous shutdown was clean (the marker is consumed at start)', async () => {
    const { broker: stopped, log } = await damagedLogFixture('stop');
    let broker = await stopped.restart();
    const rpc = await KafkaRpc.connect(broker.port);
    const r = await rpc.produce('ct', 0, [{ value: Buffer.from('late') }]);
    expect(r.baseOffset).toBe(BigInt(BATCHES * PER_BATCH));
    rpc.close();
    await broker.kill();
    const batches = batchPositions(log);
    expect(batches).toHaveLength(BATCHES + 1);
    const last = batches[BATCHES];
    flipByte(log, last.position + last.size - 2);

    broker = await broker.restart();
    expect(statSync(log).size).toBe(last.position);
    const rpc2 = await KafkaRpc.connect(broker.port);
    const read = await rpc2.readPartition('ct', 0);
    expect(read.highWatermark).toBe(BigInt(BATCHES * PER_BATCH));
    rpc2.close();
    await broker.stop();
  });
});
