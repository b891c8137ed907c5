// A torture-run client on Samsa's own client library (src/client), run as a child process by the
// harness: it writes the history of every operation it makes as JSON lines on stdout (format in
// history.ts). Runs until SIGTERM (the final read: until done), then exits.
//
//   node worker.js produce BOOTSTRAP PROCESS SPEC RATE        idempotent producer, acks=all
//   node worker.js consume BOOTSTRAP PROCESS SPEC ISOLATION   assign of every partition from 0
//   node worker.js copy BOOTSTRAP PROCESS IN_SPEC OUT_TOPIC GROUP TXN_ID ABORT_EVERY
//                                                            transactional read-process-write
//   node worker.js final BOOTSTRAP PROCESS SPEC ISOLATION     read every partition to its end once
// SPEC is "topic:partitions,topic:partitions". Values and tags as in workers/rdkafka_worker.py.

import {
  Consumer,
  type ConsumerRecord,
  Producer,
  TransactionAbortableError,
  TransactionFatalError,
} from '../../src/client/index.js';
import type { Op, Rec } from './history.js';

type Tp = { topic: string; partition: number };

/** The copier's deliberate aborts (every ABORT_EVERY-th transaction), to have aborted records. */
class AbortOnPurpose extends Error {}

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});
process.on('SIGINT', () => {
  stopping = true;
});

function emit(op: Omit<Op, 'time'>): void {
  process.stdout.write(`${JSON.stringify({ ...op, time: Date.now() })}\n`);
}

export function parseSpec(spec: string): Tp[] {
  const out: Tp[] = [];
  for (const part of spec.split(',')) {
    const at = part.lastIndexOf(':');
    const n = Number(part.slice(at + 1));
    for (let p = 0; p < n; p++) out.push({ topic: part.slice(0, at), partition: p });
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rec = (r: ConsumerRecord<Buffer | null, Buffer | null>): Rec => [
  r.topic,
  r.partition,
  Number(r.offset),
  r.value?.toString('utf8') ?? '',
];
const common = (bootstrap: string, clientId: string) => ({
  brokers: bootstrap,
  clientId,
  requestTimeoutMs: 10_000,
});

async function produce(bootstrap: string, processName: string, spec: string, rate: number): Promise<void> {
  const tps = parseSpec(spec);
  const producer = new Producer({
    ...common(bootstrap, processName),
    acks: 'all',
    idempotent: true,
    lingerMs: 5,
    deliveryTimeoutMs: 15_000,
  });
  const interval = 1000 / rate;
  let next = Date.now();
  const pending = new Set<Promise<void>>();
  for (let seq = 0; !stopping; seq++) {
    const { topic, partition } = tps[seq % tps.length];
    const value = `${processName}-${seq}`;
    const base = {
      process: processName,
      f: 'send',
      id: seq,
      topic,
      partition,
      value,
      producer: 'idempotent',
    } as const;
    emit({ ...base, type: 'invoke', seq });
    const p = producer.send({ topic, messages: [{ value: Buffer.from(value), partition }] }).then(
      ([m]) => emit({ ...base, type: 'ok', offset: Number(m.offset) }),
      // A failed send may still have been appended (a lost answer): indeterminate.
      (err: unknown) => emit({ ...base, type: 'info', error: String(err) }),
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
    next += interval;
    await sleep(Math.max(0, next - Date.now()));
  }
  await Promise.race([Promise.all(pending), sleep(20_000)]);
  await producer.close({ timeoutMs: 5_000 }).catch(() => {});
}

async function consume(
  bootstrap: string,
  processName: string,
  spec: string,
  isolation: string,
): Promise<void> {
  const tps = parseSpec(spec);
  const consumer = new Consumer({
    ...common(bootstrap, processName),
    isolationLevel: isolation === 'read_committed' ? 'read_committed' : 'read_uncommitted',
    autoOffsetReset: 'earliest',
  });
  consumer.assign(tps.map((tp) => ({ ...tp, offset: 0 })));
  let id = 0;
  emit({
    process: processName,
    type: 'ok',
    f: 'assign',
    id: id++,
    partitions: tps.map((t) => [t.topic, t.partition]),
  });
  while (!stopping) {
    let records: ConsumerRecord<Buffer | null, Buffer | null>[];
    try {
      records = await consumer.poll({ timeoutMs: 500, maxRecords: 500 });
    } catch (err) {
      emit({ process: processName, type: 'info', f: 'log', error: String(err) });
      await sleep(200);
      continue;
    }
    if (records.length === 0) continue;
    const opId = id++;
    emit({ process: processName, type: 'invoke', f: 'poll', id: opId });
    emit({
      process: processName,
      type: 'ok',
      f: 'poll',
      id: opId,
      isolation: isolation as Op['isolation'],
      reads: records.map(rec),
    });
  }
  await consumer.close().catch(() => {});
}

async function copy(
  bootstrap: string,
  processName: string,
  inSpec: string,
  outTopic: string,
  group: string,
  txnId: string,
  abortEvery: number,
): Promise<void> {
  let id = 0;
  const assignOp = (partitions: Tp[], detail?: string) =>
    emit({
      process: processName,
      type: 'ok',
      f: 'assign',
      id: id++,
      partitions: partitions.map((t) => [t.topic, t.partition]),
      ...(detail ? { detail } : {}),
    });
  const consumer = new Consumer({
    ...common(bootstrap, processName),
    groupId: group,
    isolationLevel: 'read_committed',
    enableAutoCommit: false,
    autoOffsetReset: 'earliest',
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 1_000,
  });
  consumer.subscribe({
    topics: [...new Set(parseSpec(inSpec).map((t) => t.topic))],
    listener: {
      onPartitionsAssigned: (p) => assignOp(p),
      onPartitionsRevoked: () => assignOp([], 'revoked'),
    },
  });
  const producer = new Producer({
    ...common(bootstrap, processName),
    transactionalId: txnId,
    transactionTimeoutMs: 20_000,
    lingerMs: 5,
  });
  for (;;) {
    try {
      await producer.initTransactions();
      break;
    } catch (err) {
      if (err instanceof TransactionFatalError || stopping) throw err;
      await sleep(500);
    }
  }
  const rewind = async () => {
    // Back to the committed offsets: what an aborted transaction read is read again.
    while (!stopping) {
      try {
        const tps = consumer.assignment();
        const committed = await consumer.committed(tps);
        for (const tp of tps)
          consumer.seek(tp, committed.get(`${tp.topic}\u0000${tp.partition}`)?.offset ?? 0n);
        break;
      } catch {
        await sleep(500);
      }
    }
    assignOp([], 'rewound to the committed offsets');
  };
  let n = 0;
  while (!stopping) {
    let records: ConsumerRecord<Buffer | null, Buffer | null>[];
    try {
      records = await consumer.poll({ timeoutMs: 500, maxRecords: 200 });
    } catch (err) {
      emit({ process: processName, type: 'info', f: 'log', error: String(err) });
      await sleep(200);
      continue;
    }
    if (records.length === 0) continue;
    n++;
    const opId = id++;
    const tag = `${processName}.${n}`;
    const reads = records.map(rec);
    const writes: Rec[] = reads.map(([, partition, , value]) => [
      outTopic,
      partition,
      null,
      `${tag}:${value}`,
    ]);
    emit({ process: processName, type: 'invoke', f: 'txn', id: opId, group });
    let outcome: 'ok' | 'fail' | 'info' = 'info';
    let error: string | undefined;
    const onPurpose = abortEvery > 0 && n % abortEvery === 0;
    try {
      producer.beginTransaction();
      const sent = producer.send({
        topic: outTopic,
        messages: writes.map(([, partition, , value]) => ({ value: Buffer.from(value), partition })),
        onRecord: (i, err, m) => {
          if (err === null && m) writes[i][2] = Number(m.offset);
        },
      });
      try {
        if (onPurpose) {
          await sent;
          throw new AbortOnPurpose('aborted on purpose');
        }
        const offsets = new Map<string, Tp & { offset: bigint }>();
        for (const r of records) {
          offsets.set(`${r.topic}/${r.partition}`, {
            topic: r.topic,
            partition: r.partition,
            offset: r.offset + 1n,
          });
        }
        await producer.sendOffsetsToTransaction([...offsets.values()], consumer.groupMetadata!);
        for (;;) {
          try {
            await producer.commitTransaction();
            break;
          } catch (err) {
            // A timed-out commit is finished by calling it again; anything else is decided below.
            if (err instanceof TransactionAbortableError || err instanceof TransactionFatalError || stopping)
              throw err;
            await sleep(200);
          }
        }
        outcome = 'ok';
      } catch (err) {
        if (!(err instanceof TransactionAbortableError || err instanceof AbortOnPurpose)) throw err;
        error = err.message;
        await sent.catch(() => {});
        for (;;) {
          try {
            await producer.abortTransaction();
            outcome = 'fail';
            break;
          } catch (e) {
            if (e instanceof TransactionFatalError || stopping) throw e;
            await sleep(200);
          }
        }
      }
    } catch (err) {
      error = String(err);
      outcome = 'info';
    }
    emit({
      process: processName,
      type: outcome,
      f: 'txn',
      id: opId,
      group,
      reads,
      writes,
      ...(error ? { error } : {}),
    });
    // After the transaction's own line: its reads came before the rewind.
    if (outcome === 'fail') await rewind();
    if (outcome === 'info') {
      // Fenced or lost: this process is done; the harness starts a new one in its place.
      process.exitCode = 3;
      break;
    }
  }
  await producer.close({ timeoutMs: 5_000 }).catch(() => {});
  await consumer.close().catch(() => {});
}

/** Reads every partition from its start to its end offset as of now, once; one "final" op. */
async function finalRead(
  bootstrap: string,
  processName: string,
  spec: string,
  isolation: string,
): Promise<void> {
  const tps = parseSpec(spec);
  const consumer = new Consumer({
    ...common(bootstrap, processName),
    isolationLevel: isolation === 'read_committed' ? 'read_committed' : 'read_uncommitted',
    autoOffsetReset: 'earliest',
  });
  emit({ process: processName, type: 'invoke', f: 'final', id: 0, isolation: isolation as Op['isolation'] });
  let ends: Map<string, bigint> | null = null;
  while (!ends) {
    try {
      ends = await consumer.endOffsets(tps);
    } catch {
      await sleep(500);
    }
  }
  const endOf = (tp: Tp) => ends.get(`${tp.topic}\u0000${tp.partition}`) ?? 0n;
  consumer.assign(tps.map((tp) => ({ ...tp, offset: 0 })));
  const reads: Rec[] = [];
  const deadline = Date.now() + 120_000;
  while (tps.some((tp) => (consumer.position(tp) ?? 0n) < endOf(tp)) && Date.now() < deadline) {
    try {
      for (const r of await consumer.poll({ timeoutMs: 500, maxRecords: 5000 })) reads.push(rec(r));
    } catch {
      await sleep(200);
    }
  }
  const complete = tps.every((tp) => (consumer.position(tp) ?? 0n) >= endOf(tp));
  const endsOut: Record<string, number> = {};
  for (const tp of tps) endsOut[`${tp.topic}/${tp.partition}`] = Number(endOf(tp));
  emit({
    process: processName,
    type: complete ? 'ok' : 'info',
    f: 'final',
    id: 0,
    isolation: isolation as Op['isolation'],
    reads,
    ends: endsOut,
  });
  await consumer.close().catch(() => {});
}

async function main(argv: string[]): Promise<void> {
  const [mode, bootstrap, processName, ...rest] = argv;
  if (mode === 'produce') await produce(bootstrap, processName, rest[0], Number(rest[1]));
  else if (mode === 'consume') await consume(bootstrap, processName, rest[0], rest[1]);
  else if (mode === 'copy')
    await copy(bootstrap, processName, rest[0], rest[1], rest[2], rest[3], Number(rest[4]));
  else if (mode === 'final') await finalRead(bootstrap, processName, rest[0], rest[1]);
  else throw new Error(`unknown mode ${mode}`);
}

/** Exits once stdout is flushed: a pipe is written asynchronously, and exit() would cut it. */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

main(process.argv.slice(2)).then(
  () => exitAfterFlush(Number(process.exitCode ?? 0)),
  (err: unknown) => {
    process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
    exitAfterFlush(2);
  },
);
