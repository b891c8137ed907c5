// The durability contract of partition-log.ts: acknowledgements after fdatasync, group commit,
// Kafka's page-cache mode (flush.messages / flush.ms), and I/O failures.

import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KafkaStorageError } from '../../src/storage/index.js';
import { clockOf } from '../../src/util/clock.js';
import { batch, expectContiguous, openLog, readAll, tempDir } from './helpers.js';

function fsyncCounter() {
  const events: string[] = [];
  let fsyncs = 0;
  return {
    events,
    get fsyncs() {
      return fsyncs;
    },
    hooks: {
      onFsync: () => {
        fsyncs++;
        events.push('fsync');
      },
    },
  };
}

describe('durability contract', () => {
  it('acknowledges only after the fdatasync, and the high watermark follows', async () => {
    const c = fsyncCounter();
    const log = await openLog(await tempDir(), {}, { hooks: c.hooks });
    const seen: bigint[] = [];
    log.onHighWatermark((h) => seen.push(h));
    const info = log.append(batch(5, 0));
    expect(log.highWatermark).toBe(0n);
    await log.waitDurable(info.lastOffset).then(() => c.events.push('ack'));
    expect(c.events).toEqual(['fsync', 'ack']);
    expect(log.highWatermark).toBe(5n);
    expect(seen).toEqual([5n]);
    // Already durable: resolves at once, no new fsync.
    await log.waitDurable(2n);
    expect(c.fsyncs).toBe(1);
  });

  it('group commit: 1000 concurrent appends share far fewer fsyncs', async () => {
    const c = fsyncCounter();
    const log = await openLog(await tempDir(), {}, { hooks: c.hooks });
    const acks: number[] = [];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) {
      const info = log.append(batch(1, i));
      all.push(log.waitDurable(info.lastOffset).then(() => void acks.push(i)));
    }
    await Promise.all(all);
    expect(acks).toEqual(Array.from({ length: 1000 }, (_, i) => i)); // in offset order
    expect(c.fsyncs).toBeLessThan(10);
    expectContiguous(await readAll(log), 0, 1000);
  });

  it('group commit with producers that each wait for their ack before the next append', async () => {
    const c = fsyncCounter();
    const log = await openLog(await tempDir(), {}, { hooks: c.hooks });
    const producers = 20;
    const perProducer = 50;
    await Promise.all(
      Array.from({ length: producers }, async (_, p) => {
        for (let i = 0; i < perProducer; i++) {
          const info = log.append(batch(1, 0));
          await log.waitDurable(info.lastOffset);
          if (i % 7 === p % 7) await new Promise((r) => setImmediate(r));
        }
      }),
    );
    const appends = producers * perProducer;
    expect(log.logEndOffset).toBe(BigInt(appends));
    expect(c.fsyncs).toBeLessThan(appends / 5);
  });

  it('default mode: writes go on while an fsync runs, and each ack waits for an fsync begun after its write', async () => {
    // At each fdatasync's start, the bytes in the file are what it covers at most. An append
    // acknowledged with its bytes beyond every such size so far was acknowledged before any fsync
    // could have covered it. Appends keep arriving during the fsyncs (the hook appends more), so
    // some are written while one runs: they must wait for the next.
    const dir = await tempDir();
    let log: Awaited<ReturnType<typeof openLog>>;
    let coveredAtMost = 0;
    let fsyncs = 0;
    const ends: number[] = []; // each append's end position in the file
    let fileEnd = 0;
    const pending: Promise<void>[] = [];
    const violations: string[] = [];
    const append = (i: number) => {
      const b = batch(3, i * 3, { valueBytes: 200 });
      const info = log.append(b);
      fileEnd += b.length;
      const end = fileEnd;
      ends.push(end);
      pending.push(
        log.waitDurable(info.lastOffset).then(() => {
          if (end > coveredAtMost) violations.push(`append ${i} acked at ${end} > ${coveredAtMost}`);
        }),
      );
    };
    let next = 0;
    const hooks = {
      onFsync: (path: string) => {
        fsyncs++;
        coveredAtMost = Math.max(coveredAtMost, statSync(path).size);
        for (let k = 0; k < 5 && next < 200; k++) append(next++);
      },
    };
    log = await openLog(dir, {}, { hooks });
    // Each round appends one batch and waits for every ack; the fsyncs append the rest.
    while (next < 200) {
      append(next++);
      await Promise.all(pending);
    }
    // The last fsyncs may have appended after the last wait.
    for (let waited = 0; waited !== pending.length; ) {
      waited = pending.length;
      await Promise.all(pending);
    }
    expect(violations).toEqual([]);
    expect(fsyncs).toBeGreaterThan(1);
    expectContiguous(await readAll(log), 0, 600);
  });

  it('page-cache mode (flush.messages): acks need no fsync; the log fsyncs every N messages', async () => {
    const c = fsyncCounter();
    const dir = await tempDir();
    const log = await openLog(dir, { flushMessages: 100 }, { hooks: c.hooks });
    for (let i = 0; i < 9; i++) await log.waitDurable(log.append(batch(10, i * 10)).lastOffset);
    expect(c.fsyncs).toBe(0);
    expect(log.highWatermark).toBe(90n);
    expect(log.recoveryPoint).toBe(0n);
    // Written to the file (the page cache): a process reopening the directory sees it all.
    const beside = await openLog(dir);
    expectContiguous(await readAll(beside), 0, 90);
    await log.waitDurable(log.append(batch(10, 90)).lastOffset);
    await new Promise((r) => setImmediate(r));
    await log.flush();
    expect(c.fsyncs).toBe(1);
    expect(log.recoveryPoint).toBe(100n);
  });

  it('page-cache mode: appends are written and acknowledged while a flush is in flight', async () => {
    const dir = await tempDir();
    let log: Awaited<ReturnType<typeof openLog>>;
    const acks: { offset: bigint; recoveryPoint: bigint }[] = [];
    let appended = false;
    const hooks = {
      // Before the flush's fdatasync: an append now must not wait for it (it did, holding every
      // acknowledgement for the length of an fsync, the tail of bench:broker's page-cache latency).
      onFsync: () => {
        if (appended) return;
        appended = true;
        const info = log.append(batch(5, 10));
        void log
          .waitDurable(info.lastOffset)
          .then(() => acks.push({ offset: info.lastOffset, recoveryPoint: log.recoveryPoint }));
      },
    };
    log = await openLog(dir, { flushMessages: 10 }, { hooks });
    await log.waitDurable(log.append(batch(10, 0)).lastOffset); // reaches flush.messages: a flush starts
    while (acks.length === 0) await new Promise((r) => setImmediate(r));
    // Acknowledged before the flush ended: the recovery point had not moved yet.
    expect(acks).toEqual([{ offset: 14n, recoveryPoint: 0n }]);
    await log.flush();
    expect(log.recoveryPoint).toBe(15n);
    expectContiguous(await readAll(log), 0, 15);
    await log.close();
    expectContiguous(await readAll(await openLog(dir)), 0, 15);
  });

  it('page-cache mode (flush.ms): the scheduled check fsyncs once flush.ms has passed', async () => {
    const c = fsyncCounter();
    let now = 1_000_000;
    const log = await openLog(
      await tempDir(),
      { flushMs: 1000 },
      { hooks: c.hooks, time: clockOf(() => now) },
    );
    await log.waitDurable(log.append(batch(3, 0)).lastOffset);
    log.flushIfDue(now + 10);
    await new Promise((r) => setTimeout(r, 20));
    expect(c.fsyncs).toBe(0);
    now += 1000;
    log.flushIfDue(now);
    await new Promise((r) => setTimeout(r, 20));
    expect(c.fsyncs).toBe(1);
    expect(log.recoveryPoint).toBe(3n);
  });

  it('flush.messages=1 is Kafka\'s "fsync each message": the default mode', async () => {
    const c = fsyncCounter();
    const log = await openLog(await tempDir(), { flushMessages: 1 }, { hooks: c.hooks });
    await log.waitDurable(log.append(batch(2, 0)).lastOffset);
    expect(c.fsyncs).toBe(1);
  });

  it('a failed fsync takes the log offline: waiters reject, appends throw, nothing is acked', async () => {
    let fail = false;
    const log = await openLog(
      await tempDir(),
      {},
      {
        hooks: {
          onFsync: () => {
            if (fail) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
          },
        },
      },
    );
    await log.waitDurable(log.append(batch(2, 0)).lastOffset);
    fail = true;
    const info = log.append(batch(2, 2));
    const err = await log.waitDurable(info.lastOffset).catch((e) => e);
    expect(err).toBeInstanceOf(KafkaStorageError);
    expect(err.message).toMatch(/EIO/);
    expect(log.highWatermark).toBe(2n);
    expect(log.offlineReason).toBe(err);
    expect(() => log.append(batch(1, 4))).toThrow(KafkaStorageError);
    await expect(log.waitDurable(3n)).rejects.toBeInstanceOf(KafkaStorageError);
  });

  it('waitDurable for an offset never appended is a caller error', async () => {
    const log = await openLog(await tempDir());
    log.append(batch(2, 0));
    await expect(log.waitDurable(5n)).rejects.toThrow(/not appended/);
  });
});
