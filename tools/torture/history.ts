// The history of a torture run: one JSON object per line, one line per step of a client operation
// (Jepsen's invoke / ok / fail / info), written by the client workers (workers/*.py, worker.ts)
// and by the harness itself (faults, as process "nemesis").
//
// Operation kinds (`f`):
//   send    one record. invoke: topic, partition, value, seq (the producer's counter, in send
//           order). ok: plus offset (acknowledged with acks=all). fail: definitely not written.
//           info: unknown (timed out, connection lost, client killed).
//   poll    ok: reads [[topic, partition, offset, value], ...] in the order the consumer got them.
//   assign  the consumer's position was (re)set: a rebalance, an assign or a seek; the checker
//           restarts its per-consumer monotonicity from here. ok: partitions.
//   txn     a read-process-write transaction of a copier. invoke: group. ok (committed) / fail
//           (aborted) / info (unknown): reads (consumed, read_committed) and writes
//           [[topic, partition, offset, value], ...] (offset null if never acknowledged).
//   final   the harness's last read of every partition from the log start to its end offset:
//           ok: reads, isolation, ends ({"topic/partition": end offset}).
//   fault   the nemesis: info at the start (fault, node) and ok when healed (fault, node, detail).
//   crash   a client process exited unexpectedly (info); its unfinished operations are info.
// Every line has time (ms since the epoch; all processes share the machine's clock), process and
// type. Values are unique across the run: "<process>-<seq>" for producers, "<txn>:<input>" for
// copies, so a value names the one operation that wrote it.

import { readFileSync } from 'node:fs';

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';
export type Isolation = 'read_committed' | 'read_uncommitted';
/** [topic, partition, offset, value]; offset null for a write never acknowledged. */
export type Rec = [string, number, number | null, string];

/** How a producer writes: plain (no idempotence: order and no duplicates not promised), idempotent. */
export type ProducerKind = 'plain' | 'idempotent';

export interface Op {
  time: number;
  process: string;
  type: OpType;
  f: 'send' | 'poll' | 'assign' | 'txn' | 'final' | 'fault' | 'crash' | 'log';
  /** Pairs an invoke with its completion within a process. */
  id?: number;
  topic?: string;
  partition?: number;
  value?: string;
  seq?: number;
  offset?: number;
  producer?: ProducerKind;
  isolation?: Isolation;
  reads?: Rec[];
  writes?: Rec[];
  /** The copier's consumer group (txn ops): exactly-once is per group. */
  group?: string;
  ends?: Record<string, number>;
  fault?: string;
  node?: number;
  partitions?: [string, number][];
  error?: string;
  detail?: string;
}

/** Parses a history file; a torn last line (a writer killed mid-line) is skipped. */
export function readHistory(path: string): Op[] {
  const ops: Op[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      ops.push(JSON.parse(line) as Op);
    } catch {
      // A line cut by SIGKILL carries nothing the checker could rely on.
    }
  }
  return ops;
}

export function tpKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
