// The history checker: a pure function from a history (history.ts) to the anomalies in it, each
// with the records that show it. Modelled on Jepsen's Kafka queue checker (jepsen.tests.kafka) and
// its Elle-style transactional analysis, for what a Kafka log promises:
//
//   lost-write           an acknowledged record never read, although a read went past its offset
//                        (or the final read of the partition, which covers every offset, lacks it)
//   duplicate            a record of an idempotent or transactional producer at two offsets
//   reorder              records of one idempotent producer to one partition at offsets out of
//                        the order it sent them in
//   offset-changed       two different records at one offset (across reads and acknowledgements)
//   nonmonotonic-poll    a consumer got an offset at or below one it already had, with no
//                        rebalance, assign or seek (an "assign" op) in between
//   poll-skip            a consumer jumped over an offset holding a record it should have seen
//   aborted-read         a read_committed consumer saw a record of an aborted transaction
//   committed-invisible  a record of a committed transaction that read_committed readers never
//                        saw, although they read past its offset
//   duplicate-copy       one input record consumed by two committed transactions of one group
//                        (exactly-once read-process-write broken)
//   G1a                  a transaction read a record of an aborted transaction (aborted read)
//   G1b                  a reader saw part of a committed transaction's records in a partition and
//                        skipped another of them it read past (intermediate read)
//   G1c                  a cycle of write-write and write-read dependencies between committed
//                        transactions, with at least one write-read edge (circular information flow)
//   G0                   a cycle of write-write dependencies alone (write cycle). Kafka's protocol
//                        allows it between concurrent transactions (their records interleave in a
//                        partition; Jepsen's Redpanda analysis, 2022), so it is counted under
//                        `allowed` unless `g0IsAnomaly` is set.
// Write-write order is log order: T1 -> T2 when a record of T1 directly precedes one of T2 in a
// partition; write-read: T1 -> T2 when T2 read a record T1 wrote.
//
// Indeterminate outcomes are treated as Jepsen treats them: a send that timed out ("info") may or
// may not be in the log and is never required; a transaction of unknown outcome counts as
// committed once a read_committed read saw one of its records, and as neither otherwise.

import { type Isolation, type Op, type OpType, type ProducerKind, type Rec, tpKey } from './history.js';

export const ANOMALY_KINDS = [
  'lost-write',
  'duplicate',
  'reorder',
  'offset-changed',
  'nonmonotonic-poll',
  'poll-skip',
  'aborted-read',
  'committed-invisible',
  'duplicate-copy',
  'G0',
  'G1a',
  'G1b',
  'G1c',
] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface Anomaly {
  kind: AnomalyKind;
  message: string;
  /** The offending records and operations (shape per kind; JSON-serialisable). */
  details: Record<string, unknown>;
}

export interface CheckOptions {
  /** Report write cycles (G0) as anomalies instead of counting them as allowed. */
  g0IsAnomaly?: boolean;
  /** At most this many anomalies of one kind are listed (all are counted). Default 50. */
  maxListed?: number;
}

export interface CheckStats {
  sends: number;
  acknowledged: number;
  /** Acknowledged records whose presence a read could prove or refute (a read went past them). */
  acknowledgedChecked: number;
  indeterminate: number;
  polls: number;
  /** Records handed to consumers, counting each read (polls, transactions' reads, final reads). */
  recordsRead: number;
  txnsCommitted: number;
  txnsAborted: number;
  txnsUnknown: number;
  finalReads: number;
}

export interface CheckResult {
  valid: boolean;
  anomalies: Anomaly[];
  counts: Record<AnomalyKind, number>;
  /** Behaviour Kafka permits that the checker saw: write cycles, duplicates of plain producers. */
  allowed: { G0: number; plainDuplicates: number };
  stats: CheckStats;
}

type WriterKind = ProducerKind | 'txn';

interface Txn {
  process: string;
  id: number | undefined;
  group: string;
  status: OpType;
  reads: Rec[];
  writes: Rec[];
  /** Committed, or of unknown outcome but seen by a read_committed reader. */
  committed: boolean;
  index: number;
}

interface Write {
  value: string;
  topic: string;
  partition: number;
  process: string;
  seq: number | undefined;
  kind: WriterKind;
  status: OpType;
  offset: number | null;
  txn: Txn | null;
}

interface Observation {
  process: string;
  /** Index of the op in the history. */
  op: number;
  isolation: Isolation;
  source: 'poll' | 'txn' | 'final';
  tp: string;
  offset: number;
  value: string;
}

class Findings {
  readonly anomalies: Anomaly[] = [];
  readonly counts = Object.fromEntries(ANOMALY_KINDS.map((k) => [k, 0])) as Record<AnomalyKind, number>;
  constructor(private readonly maxListed: number) {}

  add(kind: AnomalyKind, message: string, details: Record<string, unknown>): void {
    this.counts[kind]++;
    if (this.counts[kind] <= this.maxListed) this.anomalies.push({ kind, message, details });
  }
}

function getOrInit<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}

function mapOfSets<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  getOrInit(m, k, () => new Set<V>()).add(v);
}

export function check(history: readonly Op[], options: CheckOptions = {}): CheckResult {
  const findings = new Findings(options.maxListed ?? 50);
  const stats: CheckStats = {
    sends: 0,
    acknowledged: 0,
    acknowledgedChecked: 0,
    indeterminate: 0,
    polls: 0,
    recordsRead: 0,
    txnsCommitted: 0,
    txnsAborted: 0,
    txnsUnknown: 0,
    finalReads: 0,
  };

  // ---- writes: every record some client tried to write, with what became of it ----
  const writes = new Map<string, Write>();
  const txns: Txn[] = [];
  history.forEach((op, index) => {
    if (op.f === 'send' && op.value !== undefined) {
      let w = writes.get(op.value);
      if (!w) {
        w = {
          value: op.value,
          topic: op.topic ?? '',
          partition: op.partition ?? -1,
          process: op.process,
          seq: op.seq,
          kind: op.producer ?? 'plain',
          status: 'invoke',
          offset: null,
          txn: null,
        };
        writes.set(op.value, w);
        stats.sends++;
      }
      if (op.type === 'ok') {
        w.status = 'ok';
        if (op.offset !== undefined) w.offset = op.offset;
      } else if (op.type !== 'invoke' && w.status !== 'ok') {
        w.status = op.type;
      }
    } else if (op.f === 'txn' && op.type !== 'invoke') {
      const t: Txn = {
        process: op.process,
        id: op.id,
        group: op.group ?? op.process,
        status: op.type,
        reads: op.reads ?? [],
        writes: op.writes ?? [],
        committed: op.type === 'ok',
        index,
      };
      txns.push(t);
      for (const [topic, partition, offset, value] of t.writes) {
        writes.set(value, {
          value,
          topic,
          partition,
          process: op.process,
          seq: undefined,
          kind: 'txn',
          status: op.type,
          offset,
          txn: t,
        });
      }
    }
  });

  // ---- observations: every record some consumer was handed ----
  const observations: Observation[] = [];
  const finalEnds: Record<Isolation, Map<string, number>> = {
    read_committed: new Map(),
    read_uncommitted: new Map(),
  };
  history.forEach((op, index) => {
    if (op.type !== 'ok' && !(op.f === 'txn' && op.type !== 'invoke')) return;
    let source: Observation['source'];
    let isolation: Isolation;
    if (op.f === 'poll') {
      source = 'poll';
      isolation = op.isolation ?? 'read_uncommitted';
      stats.polls++;
    } else if (op.f === 'txn') {
      // A copier's consumer reads read_committed, whatever became of the transaction.
      source = 'txn';
      isolation = 'read_committed';
    } else if (op.f === 'final') {
      source = 'final';
      isolation = op.isolation ?? 'read_uncommitted';
      stats.finalReads++;
      for (const [tp, end] of Object.entries(op.ends ?? {})) {
        finalEnds[isolation].set(tp, Math.max(finalEnds[isolation].get(tp) ?? 0, end));
      }
    } else {
      return;
    }
    for (const [topic, partition, offset, value] of op.reads ?? []) {
      if (offset === null) continue;
      observations.push({
        process: op.process,
        op: index,
        isolation,
        source,
        tp: tpKey(topic, partition),
        offset,
        value,
      });
    }
  });
  stats.recordsRead = observations.length;

  // A transaction of unknown outcome whose record a read_committed reader saw did commit.
  for (const o of observations) {
    const w = writes.get(o.value);
    if (o.isolation === 'read_committed' && w?.txn && w.txn.status === 'info') w.txn.committed = true;
  }
  for (const t of txns) {
    if (t.status === 'fail') stats.txnsAborted++;
    else if (t.committed) stats.txnsCommitted++;
    else stats.txnsUnknown++;
  }
  const aborted = (w: Write | undefined) => w?.txn?.status === 'fail';
  /** Whether a read_committed reader must see the record once it reads past its offset. */
  const mustBeVisibleCommitted = (w: Write | undefined) =>
    w !== undefined && (w.txn === null || w.txn.committed);

  // Per partition: offset -> value -> where it was seen; value -> offsets.
  const atOffset = new Map<string, Map<number, Map<string, string>>>();
  const offsetsOf = new Map<string, Set<number>>();
  const note = (tp: string, offset: number, value: string, where: string) => {
    const byOffset = getOrInit(atOffset, tp, () => new Map());
    const values = getOrInit(byOffset, offset, () => new Map());
    if (!values.has(value)) values.set(value, where);
    mapOfSets(offsetsOf, value, offset);
  };
  for (const w of writes.values()) {
    if (w.offset !== null && (w.status === 'ok' || w.kind === 'txn')) {
      note(tpKey(w.topic, w.partition), w.offset, w.value, `acknowledged to ${w.process}`);
    }
  }
  const maxRead: Record<Isolation, Map<string, number>> = {
    read_committed: new Map(),
    read_uncommitted: new Map(),
  };
  const readValues: Record<Isolation | 'final_read_committed' | 'final_read_uncommitted', Set<string>> = {
    read_committed: new Set(),
    read_uncommitted: new Set(),
    final_read_committed: new Set(),
    final_read_uncommitted: new Set(),
  };
  for (const o of observations) {
    note(o.tp, o.offset, o.value, `read by ${o.process} (op ${o.op})`);
    const m = maxRead[o.isolation];
    m.set(o.tp, Math.max(m.get(o.tp) ?? -1, o.offset));
    readValues[o.isolation].add(o.value);
    if (o.source === 'final') readValues[`final_${o.isolation}`].add(o.value);
  }
  const readAnywhere = (v: string) => readValues.read_committed.has(v) || readValues.read_uncommitted.has(v);
  const maxAnyRead = (tp: string) =>
    Math.max(maxRead.read_committed.get(tp) ?? -1, maxRead.read_uncommitted.get(tp) ?? -1);

  // ---- offsets that change meaning ----
  for (const [tp, byOffset] of atOffset) {
    for (const [offset, values] of byOffset) {
      if (values.size > 1) {
        findings.add('offset-changed', `${tp} offset ${offset} holds ${values.size} different records`, {
          partition: tp,
          offset,
          records: Object.fromEntries(values),
        });
      }
    }
  }

  // ---- duplicates ----
  let plainDuplicates = 0;
  for (const [value, offsets] of offsetsOf) {
    if (offsets.size < 2) continue;
    const w = writes.get(value);
    if (w?.kind === 'plain') {
      plainDuplicates++;
      continue;
    }
    findings.add('duplicate', `${value} is at ${offsets.size} offsets`, {
      value,
      writer: w?.process ?? null,
      producer: w?.kind ?? 'unknown',
      partition: w ? tpKey(w.topic, w.partition) : null,
      offsets: [...offsets].sort((a, b) => a - b),
    });
  }

  // ---- lost writes and committed-but-invisible records ----
  for (const w of writes.values()) {
    const tp = tpKey(w.topic, w.partition);
    if (w.kind !== 'txn') {
      if (w.status === 'ok') stats.acknowledged++;
      else if (w.status === 'info' || w.status === 'invoke') stats.indeterminate++;
      if (w.status !== 'ok' || w.offset === null) continue;
      const finalEnd = finalEnds.read_uncommitted.get(tp) ?? finalEnds.read_committed.get(tp) ?? -1;
      const readPast = maxAnyRead(tp) > w.offset;
      const finalCovers = finalEnd > w.offset;
      if (readPast || finalCovers) stats.acknowledgedChecked++;
      const inFinal =
        readValues.final_read_uncommitted.has(w.value) || readValues.final_read_committed.has(w.value);
      if (readPast && !readAnywhere(w.value)) {
        findings.add('lost-write', `${w.value} acknowledged at ${tp} offset ${w.offset}, never read`, {
          value: w.value,
          writer: w.process,
          partition: tp,
          offset: w.offset,
          highestOffsetRead: maxAnyRead(tp),
          atThatOffset: Object.fromEntries(atOffset.get(tp)?.get(w.offset) ?? []),
        });
      } else if (finalCovers && !inFinal) {
        findings.add(
          'lost-write',
          `${w.value} acknowledged at ${tp} offset ${w.offset}, missing from the final read`,
          {
            value: w.value,
            writer: w.process,
            partition: tp,
            offset: w.offset,
            finalEnd,
            readBefore: readAnywhere(w.value),
            atThatOffset: Object.fromEntries(atOffset.get(tp)?.get(w.offset) ?? []),
          },
        );
      }
    } else if (w.txn?.committed && w.txn.status === 'ok') {
      const finalEnd = finalEnds.read_committed.get(tp) ?? -1;
      const readPast = w.offset !== null && (maxRead.read_committed.get(tp) ?? -1) > w.offset;
      const finalCovers = finalEnd >= 0 && (w.offset === null || finalEnd > w.offset);
      const seen = readValues.read_committed.has(w.value);
      if ((readPast && !seen) || (finalCovers && !readValues.final_read_committed.has(w.value))) {
        findings.add(
          'committed-invisible',
          `${w.value} of a committed transaction of ${w.txn.process} at ${tp} offset ${w.offset}, not read_committed-visible`,
          {
            value: w.value,
            txn: { process: w.txn.process, id: w.txn.id, op: w.txn.index },
            partition: tp,
            offset: w.offset,
            highestCommittedRead: maxRead.read_committed.get(tp) ?? -1,
            finalEnd,
            seenBefore: seen,
          },
        );
      }
    }
  }

  // ---- reordering: an idempotent producer's records in a partition follow its send order ----
  const byProducerPartition = new Map<string, { seq: number; offset: number; value: string }[]>();
  for (const w of writes.values()) {
    if (w.kind !== 'idempotent' || w.seq === undefined) continue;
    const tp = tpKey(w.topic, w.partition);
    const offsets = offsetsOf.get(w.value);
    const offset = w.offset ?? (offsets ? Math.min(...offsets) : null);
    if (offset === null) continue;
    const key = `${w.process}\u0000${tp}`;
    const list = getOrInit(byProducerPartition, key, () => []);
    list.push({ seq: w.seq, offset, value: w.value });
  }
  for (const [key, list] of byProducerPartition) {
    list.sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < list.length; i++) {
      if (list[i].offset <= list[i - 1].offset) {
        const [process, tp] = key.split('\u0000');
        findings.add(
          'reorder',
          `${process}: ${list[i].value} sent after ${list[i - 1].value} but at a lower offset`,
          {
            producer: process,
            partition: tp,
            earlier: list[i - 1],
            later: list[i],
          },
        );
      }
    }
  }

  // ---- per consumer: monotonic polls, skips, intermediate reads ----
  // A reader's session is a process between two "assign" ops; within it each partition's offsets
  // must strictly increase, and a jump must only pass offsets the reader may not see.
  const lastOffset = new Map<string, Map<string, number>>();
  const sessionTxnsSeen = new Map<string, Set<Txn>>();
  const visibleTo = (isolation: Isolation, w: Write | undefined) =>
    w !== undefined && (isolation === 'read_uncommitted' || mustBeVisibleCommitted(w));
  history.forEach((op, index) => {
    if (op.f === 'assign' || op.f === 'crash') {
      lastOffset.delete(op.process);
      sessionTxnsSeen.delete(op.process);
      return;
    }
    const isReader = (op.f === 'poll' && op.type === 'ok') || (op.f === 'txn' && op.type !== 'invoke');
    if (!isReader) return;
    const isolation: Isolation = op.f === 'txn' ? 'read_committed' : (op.isolation ?? 'read_uncommitted');
    const last = getOrInit(lastOffset, op.process, () => new Map());
    const seenTxns = getOrInit(sessionTxnsSeen, op.process, () => new Set());
    for (const [topic, partition, offset, value] of op.reads ?? []) {
      if (offset === null) continue;
      const tp = tpKey(topic, partition);
      const prev = last.get(tp);
      if (prev !== undefined && offset <= prev) {
        findings.add('nonmonotonic-poll', `${op.process} read ${tp} offset ${offset} after offset ${prev}`, {
          consumer: op.process,
          op: index,
          partition: tp,
          previous: prev,
          offset,
          value,
        });
      } else if (prev !== undefined && offset > prev + 1) {
        for (let g = prev + 1; g < offset; g++) {
          for (const v of atOffset.get(tp)?.get(g)?.keys() ?? []) {
            const w = writes.get(v);
            if (!visibleTo(isolation, w)) continue;
            const intermediate = w?.txn && seenTxns.has(w.txn);
            findings.add(
              intermediate ? 'G1b' : 'poll-skip',
              `${op.process} jumped from ${tp} offset ${prev} to ${offset}, over ${v} at ${g}` +
                (intermediate ? ', a record of a transaction it read other records of' : ''),
              {
                consumer: op.process,
                op: index,
                partition: tp,
                from: prev,
                to: offset,
                skipped: { offset: g, value: v },
              },
            );
          }
        }
      }
      if (prev === undefined || offset > prev) last.set(tp, offset);
      const w = writes.get(value);
      if (w?.txn) seenTxns.add(w.txn);
    }
  });

  // ---- reads of aborted transactions ----
  for (const o of observations) {
    if (o.isolation !== 'read_committed') continue;
    const w = writes.get(o.value);
    if (!aborted(w)) continue;
    const kind: AnomalyKind = o.source === 'txn' ? 'G1a' : 'aborted-read';
    findings.add(kind, `${o.process} (read_committed) read ${o.value} of an aborted transaction`, {
      reader: o.process,
      op: o.op,
      partition: o.tp,
      offset: o.offset,
      value: o.value,
      writer: { process: w!.txn!.process, id: w!.txn!.id, op: w!.txn!.index },
    });
  }

  // ---- exactly-once copying: one input record, one committed transaction per group ----
  const copiedBy = new Map<string, Txn[]>();
  for (const t of txns) {
    if (t.status !== 'ok') continue;
    for (const [, , , value] of t.reads) {
      const key = `${t.group}\u0000${value}`;
      const list = copiedBy.get(key);
      if (list) list.push(t);
      else copiedBy.set(key, [t]);
    }
  }
  for (const [key, list] of copiedBy) {
    if (list.length < 2) continue;
    const [group, value] = key.split('\u0000');
    findings.add(
      'duplicate-copy',
      `${value} was consumed by ${list.length} committed transactions of group ${group}`,
      {
        group,
        value,
        txns: list.map((t) => ({ process: t.process, id: t.id, op: t.index })),
      },
    );
  }

  // ---- dependency cycles between committed transactions (G0, G1c) ----
  const committed = txns.filter((t) => t.committed);
  const edges = new Map<Txn, Map<Txn, 'ww' | 'wr'>>();
  const addEdge = (a: Txn, b: Txn, kind: 'ww' | 'wr') => {
    if (a === b) return;
    const out = getOrInit(edges, a, () => new Map());
    // A wr edge is the stronger evidence (it makes a cycle G1c); keep it if both exist.
    if (out.get(b) !== 'wr') out.set(b, kind);
  };
  const txnWritesByTp = new Map<string, { offset: number; txn: Txn }[]>();
  for (const t of committed) {
    for (const [topic, partition, offset] of t.writes) {
      if (offset === null) continue;
      const tp = tpKey(topic, partition);
      const list = getOrInit(txnWritesByTp, tp, () => []);
      list.push({ offset, txn: t });
    }
  }
  for (const list of txnWritesByTp.values()) {
    list.sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < list.length; i++) addEdge(list[i - 1].txn, list[i].txn, 'ww');
  }
  for (const t of committed) {
    for (const [, , , value] of t.reads) {
      const w = writes.get(value);
      if (w?.txn?.committed) addEdge(w.txn, t, 'wr');
    }
  }
  let g0 = 0;
  for (const scc of stronglyConnected(committed, (t) => [...(edges.get(t)?.keys() ?? [])])) {
    if (scc.length < 2) continue;
    const members = new Set(scc);
    const cycleEdges: { from: string; to: string; kind: string }[] = [];
    let hasWr = false;
    for (const a of scc) {
      for (const [b, kind] of edges.get(a) ?? []) {
        if (!members.has(b)) continue;
        if (kind === 'wr') hasWr = true;
        cycleEdges.push({ from: `${a.process}#${a.id}`, to: `${b.process}#${b.id}`, kind });
      }
    }
    const details = {
      txns: scc.map((t) => ({ process: t.process, id: t.id, op: t.index })),
      edges: cycleEdges,
    };
    if (hasWr) {
      findings.add(
        'G1c',
        `a cycle of ${scc.length} committed transactions with a write-read dependency`,
        details,
      );
    } else if (options.g0IsAnomaly) {
      findings.add('G0', `a write cycle of ${scc.length} committed transactions`, details);
    } else {
      g0++;
    }
  }

  const valid = Object.values(findings.counts).every((n) => n === 0);
  return {
    valid,
    anomalies: findings.anomalies,
    counts: findings.counts,
    allowed: { G0: g0, plainDuplicates },
    stats,
  };
}

/** Tarjan's strongly connected components, iteratively (histories hold many transactions). */
function stronglyConnected<T>(nodes: readonly T[], next: (n: T) => T[]): T[][] {
  const index = new Map<T, number>();
  const low = new Map<T, number>();
  const onStack = new Set<T>();
  const stack: T[] = [];
  const out: T[][] = [];
  let counter = 0;
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: T; succ: T[]; i: number }[] = [];
    const enter = (n: T) => {
      index.set(n, counter);
      low.set(n, counter);
      counter++;
      stack.push(n);
      onStack.add(n);
      work.push({ node: n, succ: next(n), i: 0 });
    };
    enter(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame.i < frame.succ.length) {
        const s = frame.succ[frame.i++];
        if (!index.has(s)) enter(s);
        else if (onStack.has(s)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(s)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const scc: T[] = [];
        let n: T;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          scc.push(n);
        } while (n !== frame.node);
        out.push(scc);
      }
    }
  }
  return out;
}
