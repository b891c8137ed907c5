// Fetch's long poll (max_wait_ms / min_bytes) against an in-process broker, with raw requests.
//
// Regression: the wait used to measure new bytes by the log's size taken after the first read. A
// batch that became durable while that read ran had its wake-up fire before the fetch waited, and
// was already in the size: the fetch slept max_wait_ms and answered empty. bench:broker's
// end-to-end p99 sat near librdkafka's fetch.wait.max.ms (100 ms) because of it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import type { FetchResponse } from '../../src/protocol/generated/index.js';
import { decodeRecordSet, encodeRecordBatch } from '../../src/protocol/records/index.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';

let broker: Broker;
let dir: string;
let rpc: KafkaRpc;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samsa-longpoll-'));
  broker = await startBroker({
    config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir },
    logger: pino({ level: 'silent' }),
  });
  rpc = await KafkaRpc.connect(broker.port);
});

afterAll(async () => {
  rpc?.close();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const record = (value: string) => ({ value: Buffer.from(value), timestamp: Date.now() });

function valuesOf(p: FetchResponse.PartitionData): string[] {
  if (!p.records || p.records.length === 0) return [];
  const { batches } = decodeRecordSet(p.records, { maxUncompressedBytes: 1 << 20 });
  return batches.flatMap((b) => b.records.map((r) => r.value!.toString()));
}

describe('Fetch long poll', () => {
  it('a batch made readable while the fetch reads is not missed (woken before the wait began)', async () => {
    expect((await rpc.createTopic('lp-during', 1)).errorCode).toBe(0);
    const { replicaManager } = broker.services;
    const partition = replicaManager.get('lp-during', 0)!;
    const log = partition.log;
    const read = log.read.bind(log);
    let first = true;
    // The first read finds nothing; before it returns, a batch is appended and becomes durable,
    // so its wake-up fires while the fetch is not waiting yet.
    const spy = vi.spyOn(log, 'read').mockImplementation(async (...args: Parameters<typeof log.read>) => {
      const result = await read(...args);
      if (first) {
        first = false;
        const r = replicaManager.append(partition, encodeRecordBatch([record('during')]));
        await r.durable;
      }
      return result;
    });
    try {
      const f = await rpc.fetchOnce('lp-during', 0, 0n, 1 << 20, 0, { maxWaitMs: 3000, minBytes: 1 });
      // The size-based measure slept the 3 s and answered empty here.
      expect(valuesOf(f)).toEqual(['during']);
    } finally {
      spy.mockRestore();
    }
  });

  it('a fetch pipelined behind a produce answers with the records once they are durable', async () => {
    expect((await rpc.createTopic('lp-pipelined', 1)).errorCode).toBe(0);
    for (let i = 0; i < 5; i++) {
      // Sent back to back: the Produce appends (not yet durable), then the Fetch reads at the
      // old high watermark and waits for that append's fsync.
      const produced = rpc.produce('lp-pipelined', 0, [record(`v${i}`)]);
      const fetched = rpc.fetchOnce('lp-pipelined', 0, BigInt(i), 1 << 20, 0, {
        maxWaitMs: 3000,
        minBytes: 1,
      });
      expect(await produced).toMatchObject({ errorCode: 0, baseOffset: BigInt(i) });
      const f = await fetched;
      expect(f).toMatchObject({ errorCode: 0, highWatermark: BigInt(i + 1) });
      expect(valuesOf(f)).toEqual([`v${i}`]);
    }
  });

  it('waits for min_bytes of readable data, then answers with all of it', async () => {
    expect((await rpc.createTopic('lp-min', 1)).errorCode).toBe(0);
    const producer = await KafkaRpc.connect(broker.port);
    try {
      const value = 'x'.repeat(1000);
      // Each batch of one 1000-byte value is a little over 1000 bytes: three are needed.
      let answered = false;
      const pending = rpc
        .fetchOnce('lp-min', 0, 0n, 1 << 20, 0, { maxWaitMs: 10_000, minBytes: 2500 })
        .then((f) => {
          answered = true;
          return f;
        });
      for (let i = 0; i < 2; i++)
        expect((await producer.produce('lp-min', 0, [record(value)])).errorCode).toBe(0);
      // Two durable batches (about 2,140 bytes) are below min_bytes: still waiting.
      await new Promise((r) => setTimeout(r, 300));
      expect(answered).toBe(false);
      expect((await producer.produce('lp-min', 0, [record(value)])).errorCode).toBe(0);
      expect(valuesOf(await pending)).toEqual([value, value, value]);
    } finally {
      producer.close();
    }
  });
});
