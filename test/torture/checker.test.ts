// The history checker on hand-made histories: one per anomaly it must report (with the offending
// records), and the look-alikes Kafka permits, which it must not report.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AnomalyKind, check } from '../../tools/torture/checker.js';
import { type Op, type ProducerKind, type Rec, readHistory } from '../../tools/torture/history.js';

let clock = 0;
const at = () => ++clock;

/** A send's invoke and completion. */
function send(
  process: string,
  seq: number,
  [topic, partition]: [string, number],
  type: 'ok' | 'info' | 'fail',
  offset?: number,
  producer: ProducerKind = 'idempotent',
): Op[] {
  const value = `${process}-${seq}`;
  const base = { process, f: 'send' as const, id: seq, topic, partition, value, producer };
  return [
    { ...base, time: at(), type: 'invoke', seq },
    { ...base, time: at(), type, ...(offset !== undefined ? { offset } : {}) },
  ];
}

function poll(process: string, reads: Rec[], isolation: Op['isolation'] = 'read_uncommitted'): Op {
  return { time: at(), process, type: 'ok', f: 'poll', isolation, reads };
}

function assign(process: string): Op {
  return { time: at(), process, type: 'ok', f: 'assign', partitions: [] };
}

function txn(
  process: string,
  id: number,
  type: 'ok' | 'fail' | 'info',
  reads: Rec[],
  writes: Rec[],
  group = 'g',
): Op {
  return { time: at(), process, type, f: 'txn', id, group, reads, writes };
}

function final(
  reads: Rec[],
  ends: Record<string, number>,
  isolation: Op['isolation'] = 'read_uncommitted',
): Op {
  return { time: at(), process: `final-${isolation}`, type: 'ok', f: 'final', isolation, reads, ends };
}

function only(result: ReturnType<typeof check>, kind: AnomalyKind, n = 1) {
  const others = Object.entries(result.counts).filter(([k, c]) => k !== kind && c > 0);
  expect(others).toEqual([]);
  expect(result.counts[kind]).toBe(n);
  expect(result.valid).toBe(false);
  return result.anomalies.filter((a) => a.kind === kind);
}

const Q0: [string, number] = ['queue', 0];

describe('checker: a history without anomalies', () => {
  it('is valid and counts what it checked', () => {
    const h = [
      ...send('p', 0, Q0, 'ok', 0),
      ...send('p', 1, Q0, 'ok', 1),
      ...send('p', 2, Q0, 'info'),
      poll('c', [
        ['queue', 0, 0, 'p-0'],
        ['queue', 0, 1, 'p-1'],
      ]),
      final(
        [
          ['queue', 0, 0, 'p-0'],
          ['queue', 0, 1, 'p-1'],
        ],
        { 'queue/0': 2 },
      ),
    ];
    const r = check(h);
    expect(r.valid).toBe(true);
    expect(r.anomalies).toEqual([]);
    expect(r.stats).toMatchObject({
      sends: 3,
      acknowledged: 2,
      acknowledgedChecked: 2,
      indeterminate: 1,
      polls: 1,
      finalReads: 1,
    });
  });

  it('does not require an indeterminate send, nor one no read went past', () => {
    const h = [
      ...send('p', 0, Q0, 'info'),
      ...send('p', 1, Q0, 'ok', 1),
      poll('c', [['queue', 0, 0, 'p-0']]),
    ];
    const r = check(h);
    expect(r.valid).toBe(true);
    expect(r.stats.acknowledgedChecked).toBe(0);
  });
});

describe('checker: lost writes', () => {
  it('reports an acknowledged record a read went past without seeing', () => {
    const h = [
      ...send('p', 0, Q0, 'ok', 0),
      ...send('p', 1, Q0, 'ok', 1),
      ...send('p', 2, Q0, 'ok', 2),
      poll('c', [
        ['queue', 0, 0, 'p-0'],
        ['queue', 0, 2, 'p-2'],
      ]),
    ];
    const r = check(h);
    // The consumer's jump over offset 1 is reported as a skip too; the loss is the point here.
    expect(r.counts['lost-write']).toBe(1);
    const [lost] = r.anomalies.filter((a) => a.kind === 'lost-write');
    expect(lost.details).toMatchObject({
      value: 'p-1',
      partition: 'queue/0',
      offset: 1,
      highestOffsetRead: 2,
    });
  });

  it('reports a record read once but missing from the final read that covers its offset', () => {
    const h = [
      ...send('p', 0, Q0, 'ok', 0),
      poll('c', [['queue', 0, 0, 'p-0']]),
      final([], { 'queue/0': 1 }),
    ];
    const [lost] = only(check(h), 'lost-write');
    expect(lost.details).toMatchObject({ value: 'p-0', offset: 0, finalEnd: 1, readBefore: true });
  });
});

describe('checker: duplicates', () => {
  it('reports an idempotent record at two offsets', () => {
    const h = [
      ...send('p', 0, Q0, 'ok', 0),
      poll('c', [
        ['queue', 0, 0, 'p-0'],
        ['queue', 0, 1, 'p-0'],
      ]),
    ];
    const [dup] = only(check(h), 'duplicate');
    expect(dup.details).toMatchObject({ value: 'p-0', offsets: [0, 1], producer: 'idempotent' });
  });

  it('counts a plain producer duplicate as allowed', () => {
    const h = [
      ...send('p', 0, Q0, 'ok', 1, 'plain'),
      poll('c', [
        ['queue', 0, 0, 'p-0'],
        ['queue', 0, 1, 'p-0'],
      ]),
    ];
    const r = check(h);
    expect(r.valid).toBe(true);
    expect(r.allowed.plainDuplicates).toBe(1);
  });
});

describe('checker: order and meaning of offsets', () => {
  it('reports records of an idempotent producer out of its send order', () => {
    const h = [...send('p', 0, Q0, 'ok', 5), ...send('p', 1, Q0, 'ok', 4)];
    const [re] = only(check(h), 'reorder');
    expect(re.details).toMatchObject({
      producer: 'p',
      earlier: { value: 'p-0', offset: 5 },
      later: { value: 'p-1', offset: 4 },
    });
  });

  it('does not hold a plain producer to its send order', () => {
    expect(check([...send('p', 0, Q0, 'ok', 5, 'plain'), ...send('p', 1, Q0, 'ok', 4, 'plain')]).valid).toBe(
      true,
    );
  });

  it('reports two records at one offset (an acknowledgement and a read)', () => {
    const h = [
      ...send('p', 0, Q0, 'ok', 0),
      ...send('q', 0, Q0, 'info'),
      poll('c', [['queue', 0, 0, 'q-0']]),
    ];
    const r = check(h);
    expect(r.counts['offset-changed']).toBe(1);
    const [changed] = r.anomalies.filter((a) => a.kind === 'offset-changed');
    expect(Object.keys(changed.details.records as object).sort()).toEqual(['p-0', 'q-0']);
  });
});

describe('checker: polls', () => {
  const sends = [...send('p', 0, Q0, 'ok', 0), ...send('p', 1, Q0, 'ok', 1), ...send('p', 2, Q0, 'ok', 2)];
  const r0: Rec = ['queue', 0, 0, 'p-0'];
  const r1: Rec = ['queue', 0, 1, 'p-1'];
  const r2: Rec = ['queue', 0, 2, 'p-2'];

  it('reports a consumer going back without an assign', () => {
    const [bad] = only(check([...sends, poll('c', [r0, r1, r2]), poll('c', [r1])]), 'nonmonotonic-poll');
    expect(bad.details).toMatchObject({ consumer: 'c', previous: 2, offset: 1 });
  });

  it('lets a consumer go back after an assign (rebalance, seek)', () => {
    expect(check([...sends, poll('c', [r0, r1, r2]), assign('c'), poll('c', [r1, r2])]).valid).toBe(true);
  });

  it('reports a consumer skipping a record it should have seen', () => {
    const [skip] = only(
      check([...sends, poll('c', [r0, r1, r2]), poll('d', [r0]), poll('d', [r2])]),
      'poll-skip',
    );
    expect(skip.details).toMatchObject({
      consumer: 'd',
      from: 0,
      to: 2,
      skipped: { offset: 1, value: 'p-1' },
    });
  });
});

describe('checker: transactions', () => {
  const input: Rec = ['in', 0, 0, 'p-0'];

  it('reports a read_committed consumer reading an aborted record, not a read_uncommitted one', () => {
    const aborted = txn('t', 1, 'fail', [input], [['out', 0, 3, 't.1:p-0']]);
    const [bad] = only(
      check([aborted, poll('c', [['out', 0, 3, 't.1:p-0']], 'read_committed')]),
      'aborted-read',
    );
    expect(bad.details).toMatchObject({ reader: 'c', value: 't.1:p-0', writer: { process: 't', id: 1 } });
    expect(check([aborted, poll('c', [['out', 0, 3, 't.1:p-0']], 'read_uncommitted')]).valid).toBe(true);
  });

  it('reports a committed record read_committed readers went past without seeing', () => {
    const committed = txn('t', 1, 'ok', [input], [['out', 0, 3, 't.1:p-0']]);
    const h = [
      committed,
      txn('u', 1, 'ok', [], [['out', 0, 2, 'u.1:x']]),
      txn('u', 2, 'ok', [], [['out', 0, 4, 'u.2:x']]),
      poll('c', [['out', 0, 2, 'u.1:x']], 'read_committed'),
      poll('d', [['out', 0, 4, 'u.2:x']], 'read_committed'),
    ];
    const [bad] = only(check(h), 'committed-invisible');
    expect(bad.details).toMatchObject({ value: 't.1:p-0', offset: 3, txn: { process: 't', id: 1 } });
  });

  it('reports a committed record missing from the final read_committed read', () => {
    const h = [
      txn('t', 1, 'ok', [input], [['out', 0, 0, 't.1:p-0']]),
      final([], { 'out/0': 2 }, 'read_committed'),
    ];
    only(check(h), 'committed-invisible');
  });

  it('reports one input consumed by two committed transactions of a group (exactly-once broken)', () => {
    const h = [
      txn('t', 1, 'ok', [input], [['out', 0, 0, 't.1:p-0']]),
      assign('t'),
      txn('t#1', 1, 'ok', [input], [['out', 0, 1, 't#1.1:p-0']]),
    ];
    const [dup] = only(check(h), 'duplicate-copy');
    expect(dup.details).toMatchObject({ group: 'g', value: 'p-0' });
    // Another group copying the same input is no duplicate.
    const other = [
      txn('t', 1, 'ok', [input], [['out', 0, 0, 't.1:p-0']], 'a'),
      txn('u', 1, 'ok', [input], [['out', 0, 1, 'u.1:p-0']], 'b'),
    ];
    expect(check(other).valid).toBe(true);
  });

  it('G1a: a committed transaction read a record of an aborted one', () => {
    const h = [
      txn('t', 1, 'fail', [input], [['mid', 0, 0, 't.1:p-0']]),
      txn('u', 1, 'ok', [['mid', 0, 0, 't.1:p-0']], [['out', 0, 0, 'u.1:t.1:p-0']]),
    ];
    const [g1a] = only(check(h), 'G1a');
    expect(g1a.details).toMatchObject({ reader: 'u', value: 't.1:p-0', writer: { process: 't', id: 1 } });
  });

  it('G1b: a reader saw part of a committed transaction and skipped the rest', () => {
    const h = [
      txn(
        't',
        1,
        'ok',
        [input],
        [
          ['out', 0, 5, 't.1:a'],
          ['out', 0, 6, 't.1:b'],
        ],
      ),
      txn('u', 1, 'ok', [], [['out', 0, 7, 'u.1:c']]),
      poll('c', [['out', 0, 5, 't.1:a']], 'read_committed'),
      poll('c', [['out', 0, 7, 'u.1:c']], 'read_committed'),
    ];
    const r = check(h);
    expect(r.counts.G1b).toBe(1);
    const [g1b] = r.anomalies.filter((a) => a.kind === 'G1b');
    expect(g1b.details).toMatchObject({ consumer: 'c', skipped: { offset: 6, value: 't.1:b' } });
    // The record was never read by anyone: it is invisible as well.
    expect(r.counts['committed-invisible']).toBe(1);
  });

  it('a read_committed reader may skip aborted records and markers', () => {
    const h = [
      txn('t', 1, 'ok', [], [['out', 0, 0, 't.1:a']]),
      txn('t', 2, 'fail', [], [['out', 0, 2, 't.2:b']]),
      txn('t', 3, 'ok', [], [['out', 0, 4, 't.3:c']]),
      poll('c', [['out', 0, 0, 't.1:a']], 'read_committed'),
      poll('c', [['out', 0, 4, 't.3:c']], 'read_committed'),
      poll('d', [['out', 0, 2, 't.2:b']], 'read_uncommitted'),
    ];
    expect(check(h).valid).toBe(true);
  });

  it('G1c: a cycle of write-read and write-write dependencies', () => {
    // T1 wrote a (mid/0); T2 read a, so T1 -wr-> T2. In out/0 T2's record precedes T1's: T2 -ww-> T1.
    const h = [
      txn(
        'T1',
        1,
        'ok',
        [],
        [
          ['mid', 0, 0, 'T1.1:a'],
          ['out', 0, 1, 'T1.1:z'],
        ],
      ),
      txn('T2', 1, 'ok', [['mid', 0, 0, 'T1.1:a']], [['out', 0, 0, 'T2.1:y']]),
    ];
    const [g1c] = only(check(h), 'G1c');
    expect((g1c.details.edges as { kind: string }[]).map((e) => e.kind).sort()).toEqual(['wr', 'ww']);
  });

  it('G0: a write cycle is counted as allowed, or reported when asked', () => {
    const h = [
      txn(
        'T1',
        1,
        'ok',
        [],
        [
          ['out', 0, 0, 'T1.1:a'],
          ['out', 1, 1, 'T1.1:b'],
        ],
      ),
      txn(
        'T2',
        1,
        'ok',
        [],
        [
          ['out', 0, 1, 'T2.1:a'],
          ['out', 1, 0, 'T2.1:b'],
        ],
      ),
    ];
    const r = check(h);
    expect(r.valid).toBe(true);
    expect(r.allowed.G0).toBe(1);
    only(check(h, { g0IsAnomaly: true }), 'G0');
  });

  it('a transaction of unknown outcome counts as committed once a read_committed reader saw it', () => {
    const h = [
      txn('t', 1, 'info', [input], [['out', 0, 0, 't.1:p-0']]),
      poll('c', [['out', 0, 0, 't.1:p-0']], 'read_committed'),
    ];
    const r = check(h);
    expect(r.valid).toBe(true);
    expect(r.stats).toMatchObject({ txnsCommitted: 1, txnsUnknown: 0 });
    expect(check([txn('t', 1, 'info', [input], [['out', 0, 0, 't.1:p-0']])]).stats.txnsUnknown).toBe(1);
  });
});

describe('readHistory', () => {
  it('skips a torn last line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-history-'));
    try {
      const path = join(dir, 'history.jsonl');
      writeFileSync(path, `${JSON.stringify(poll('c', []))}\n{"time":1,"proc`);
      expect(readHistory(path)).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
