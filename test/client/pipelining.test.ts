// Several batches of one partition in flight at once (max.in.flight.requests.per.connection, 5 by
// default) and what keeps them in order:
// - against the real broker behind a proxy that holds every answer a while (so the pipeline fills)
//   and cuts the connection right after the broker appended a batch, in the middle of the
//   pipeline: nothing lost, nothing written twice, order kept, offsets as send() reported;
// - against a scripted broker (a stub Cluster with Kafka's sequence checks), deterministically:
//   OUT_OF_ORDER_SEQUENCE_NUMBER for batches that overtook a failed one (retried in order, no epoch
//   bump), a gap on the broker (epoch bumped once, sequences renumbered from 0), UNKNOWN_PRODUCER_ID
//   (KIP-360 epoch bump), and max.in.flight=1 without idempotence (one batch at a time).

import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import type { Cluster } from '../../src/client/cluster.js';
import { Consumer } from '../../src/client/consumer.js';
import { KafkaConnectionError } from '../../src/client/errors.js';
import { ProducerIdManager } from '../../src/client/idempotence.js';
import { Producer } from '../../src/client/producer.js';
import {
  RecordAccumulator,
  type RecordMetadata,
  type RecordSink,
} from '../../src/client/record-accumulator.js';
import { Sender } from '../../src/client/sender.js';
import { CompressionType } from '../../src/protocol/compression/types.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { ProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import type { ProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import {
  BASE_SEQUENCE_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
} from '../../src/protocol/records/constants.js';
import { decodeRecordBatch } from '../../src/protocol/records/decode.js';
import { CuttingProxy } from '../helpers/cutting-proxy.js';

describe('pipelined batches against the broker, with cuts in the middle of the pipeline', () => {
  let broker: Broker | undefined;
  let proxy: CuttingProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await broker?.stop();
    broker = undefined;
    proxy = undefined;
  });

  async function start(cut: (n: number) => boolean): Promise<string> {
    proxy = await CuttingProxy.start({ cutProduceResponse: cut, responseDelayMs: 15 });
    broker = await startBroker({
      logger: pino({ level: 'silent' }),
      config: {
        listeners: 'PLAINTEXT://127.0.0.1:0',
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}`,
        'num.partitions': '2',
      },
    });
    proxy.target = broker.port;
    return `127.0.0.1:${proxy.port}`;
  }

  async function readBack(bootstrap: string, topic: string): Promise<Map<number, number[]>> {
    const consumer = new Consumer({ brokers: bootstrap, autoOffsetReset: 'earliest' });
    consumer.assign([0, 1].map((partition) => ({ topic, partition })));
    const ends = await consumer.endOffsets(consumer.assignment());
    const total = [...ends.values()].reduce((a, b) => a + b, 0n);
    const out = new Map<number, number[]>([
      [0, []],
      [1, []],
    ]);
    let read = 0n;
    while (read < total) {
      for (const r of await consumer.poll({ timeoutMs: 2000 })) {
        read++;
        out.get(r.partition)?.push(Number(r.value?.toString()));
      }
    }
    await consumer.close();
    return out;
  }

  it('idempotent: no loss, no duplicate, order and offsets kept', async () => {
    // Cut after the 6th, 15th and 27th Produce answers: the broker appended those batches, and the
    // requests behind them on the connection lose their answers too.
    const cuts = new Set([6, 15, 27]);
    const bootstrap = await start((n) => cuts.has(n));
    const producer = new Producer({
      brokers: bootstrap,
      lingerMs: 0,
      batchSize: 1024,
      retryBackoffMs: 10,
      requestTimeoutMs: 5000,
    });
    const COUNT = 3000;
    const sends: Promise<RecordMetadata[]>[] = [];
    for (let i = 0; i < COUNT; i += 100) {
      sends.push(
        producer.send({
          topic: 'pipe',
          messages: Array.from({ length: 100 }, (_, j) => ({
            value: String(i + j),
            partition: (i + j) % 2,
          })),
        }),
      );
    }
    const meta = (await Promise.all(sends)).flat();
    const stats = { ...producer.senderStats };
    expect(producer.isIdempotent).toBe(true);
    await producer.close();
    expect(proxy?.cuts).toBe(3);
    // The pipeline was used, within its bound, and batches were resent.
    expect(stats.maxPartitionInFlight).toBeGreaterThan(1);
    expect(stats.maxPartitionInFlight).toBeLessThanOrEqual(5);
    expect(stats.retries).toBeGreaterThan(0);
    expect(stats.epochBumps).toBe(0);

    const log = await readBack(bootstrap, 'pipe');
    for (const [partition, values] of log) {
      // Exactly the records sent to the partition, once each, in send order.
      const expected = Array.from({ length: COUNT / 2 }, (_, k) => 2 * k + partition);
      expect(values).toEqual(expected);
    }
    // Every offset send() reported is where the record is.
    for (let i = 0; i < COUNT; i++) {
      expect(meta[i].partition).toBe(i % 2);
      expect(meta[i].offset).toBe(BigInt(Math.floor(i / 2)));
    }
  }, 60_000);

  it('without idempotence and max.in.flight=1: one batch per partition at a time, order kept', async () => {
    const cuts = new Set([5, 12]);
    const bootstrap = await start((n) => cuts.has(n));
    const producer = new Producer({
      brokers: bootstrap,
      lingerMs: 0,
      batchSize: 1024,
      retryBackoffMs: 10,
      idempotent: false,
      maxInFlightRequestsPerConnection: 1,
    });
    const COUNT = 1000;
    await Promise.all(
      Array.from({ length: COUNT / 100 }, (_, s) =>
        producer.send({
          topic: 'pipe1',
          messages: Array.from({ length: 100 }, (_, j) => ({
            value: String(s * 100 + j),
            partition: (s * 100 + j) % 2,
          })),
        }),
      ),
    );
    const stats = { ...producer.senderStats };
    await producer.close();
    expect(stats.maxPartitionInFlight).toBe(1);
    const log = await readBack(bootstrap, 'pipe1');
    for (const [, values] of log) {
      // A resend may repeat a batch the broker had appended, never reorder.
      const firsts = values.filter((v, i) => values.indexOf(v) === i);
      expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
      expect(firsts).toHaveLength(COUNT / 2);
    }
  }, 60_000);
});

// ---- a scripted broker ----

interface Appended {
  producerId: bigint;
  epoch: number;
  firstSeq: number;
  count: number;
  values: string[];
}

type Fault =
  | { kind: 'none' }
  /** Refuse the batch with this error, append nothing. */
  | { kind: 'error'; code: number }
  /** Append, then lose the answer and every answer still pending (a cut connection). */
  | { kind: 'cut' };

/**
 * One partition's log with Kafka's sequence checks (per producer id: an epoch; within it, the next
 * sequence must follow the last; a new epoch starts at 0; the last 5 batches are recognised as
 * duplicates), behind a stub Cluster. Requests are answered in order after `delayMs`, so several
 * are in flight; `fault(n)` scripts the n-th Produce request (from 1).
 */
class ScriptedBroker {
  readonly log: string[] = [];
  readonly batches: Appended[] = [];
  requests = 0;
  maxPending = 0;
  private pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private chain: Promise<void> = Promise.resolve();
  private dead = false;
  private readonly state = new Map<bigint, { epoch: number; lastSeq: number; recent: Appended[] }>();

  constructor(
    private readonly fault: (n: number, seq: number) => Fault,
    private readonly delayMs = 5,
  ) {}

  /** Forgets the last appended batch (an unclean leader change truncated it). */
  truncateLast(): void {
    const b = this.batches.pop() as Appended;
    this.log.splice(this.log.length - b.count, b.count);
    const s = this.state.get(b.producerId);
    if (s) {
      s.recent.pop();
      s.lastSeq = b.firstSeq - 1;
    }
  }

  /** Forgets every producer (the state expired). */
  forgetProducers(): void {
    this.state.clear();
  }

  cluster(): Cluster {
    const logger = { debug() {}, info() {}, warn() {}, error() {} };
    const stub = {
      clientId: 'test',
      requestTimeoutMs: 5000,
      retryBackoffMs: 5,
      logger,
      leaderFor: () => 1,
      broker: () => ({ nodeId: 1 }),
      requestUpdate: () => {},
      supports: async () => true,
      sendAny: async () => ({ errorCode: 0, producerId: 42n, producerEpoch: 0 }),
      send: (_node: number, _api: unknown, req: ProduceRequest) => this.produce(req),
    };
    return stub as unknown as Cluster;
  }

  private produce(req: ProduceRequest): Promise<ProduceResponse> {
    // Requests written after a cut, before the client noticed it, go down with the connection.
    if (this.dead) return Promise.reject(new KafkaConnectionError('scripted', 'connection closed'));
    const n = ++this.requests;
    const part = req.topicData[0].partitionData[0];
    const buf = part.records as Buffer;
    const seq = buf.readInt32BE(BASE_SEQUENCE_OFFSET);
    const f = this.fault(n, seq);
    let code = ErrorCode.NONE as number;
    let baseOffset = -1n;
    if (f.kind === 'error') code = f.code;
    else {
      const r = this.append(buf);
      code = r.code;
      baseOffset = r.baseOffset;
    }
    const response: ProduceResponse = {
      throttleTimeMs: 0,
      responses: [
        {
          name: req.topicData[0].name,
          partitionResponses: [
            {
              index: part.index,
              errorCode: code,
              baseOffset,
              logAppendTimeMs: -1n,
              logStartOffset: 0n,
              recordErrors: [],
              errorMessage: null,
              currentLeader: { leaderId: -1, leaderEpoch: -1 },
            },
          ],
        },
      ],
      nodeEndpoints: [],
    };
    return new Promise((resolve, reject) => {
      const entry = { resolve: () => resolve(response), reject };
      this.pending.push(entry);
      this.maxPending = Math.max(this.maxPending, this.pending.length);
      if (f.kind === 'cut') {
        // This answer and every one still pending are lost with the connection.
        for (const p of this.pending.splice(0)) p.reject(new KafkaConnectionError('scripted', 'cut'));
        this.dead = true;
        setImmediate(() => {
          this.dead = false;
        });
        return;
      }
      // Answered in order, each delayMs after the one before.
      this.chain = this.chain
        .then(() => new Promise((r) => setTimeout(r, this.delayMs)))
        .then(() => {
          const i = this.pending.indexOf(entry);
          if (i < 0) return;
          this.pending.splice(i, 1);
          entry.resolve();
        });
    });
  }

  private append(buf: Buffer): { code: number; baseOffset: bigint } {
    const producerId = buf.readBigInt64BE(PRODUCER_ID_OFFSET);
    const epoch = buf.readInt16BE(PRODUCER_EPOCH_OFFSET);
    const firstSeq = buf.readInt32BE(BASE_SEQUENCE_OFFSET);
    const count = buf.readInt32BE(RECORDS_COUNT_OFFSET);
    let s = producerId < 0n ? { epoch, lastSeq: firstSeq - 1, recent: [] } : this.state.get(producerId);
    if (s) {
      if (epoch < s.epoch) return { code: ErrorCode.INVALID_PRODUCER_EPOCH, baseOffset: -1n };
      if (epoch === s.epoch) {
        const dup = s.recent.find((b) => b.firstSeq === firstSeq && b.count === count);
        if (dup) return { code: ErrorCode.NONE, baseOffset: BigInt(this.offsetOf(dup)) };
        if (firstSeq !== s.lastSeq + 1)
          return { code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, baseOffset: -1n };
      } else if (firstSeq !== 0) return { code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, baseOffset: -1n };
    } else {
      s = { epoch, lastSeq: -1, recent: [] };
      this.state.set(producerId, s);
    }
    if (epoch !== s.epoch) s.recent = [];
    s.epoch = epoch;
    s.lastSeq = firstSeq + count - 1;
    const decoded = decodeRecordBatch(buf, { maxUncompressedBytes: 1 << 20 });
    const values = decoded.records.map((r) => r.value?.toString() as string);
    const b: Appended = { producerId, epoch, firstSeq, count, values };
    s.recent.push(b);
    if (s.recent.length > 5) s.recent.shift();
    const baseOffset = this.log.length;
    this.batches.push(b);
    this.log.push(...values);
    return { code: ErrorCode.NONE, baseOffset: BigInt(baseOffset) };
  }

  private offsetOf(b: Appended): number {
    let o = 0;
    for (const x of this.batches) {
      if (x === b) return o;
      o += x.count;
    }
    return -1;
  }
}

/** A Sender and accumulator over the scripted broker; `send` appends records of one partition. */
function harness(broker: ScriptedBroker, opts: { idempotent?: boolean; maxInFlight?: number } = {}) {
  const cluster = broker.cluster();
  const accumulator = new RecordAccumulator(270);
  const idempotence = new ProducerIdManager(cluster, false, opts.idempotent ?? true);
  const sender = new Sender(cluster, accumulator, idempotence, {
    acks: -1,
    lingerMs: 0,
    maxRequestSize: 1 << 20,
    maxInFlightPerConnection: opts.maxInFlight ?? 5,
    retries: 0x7fffffff,
    retryBackoffMs: 5,
    retryBackoffMaxMs: 20,
    deliveryTimeoutMs: 10_000,
    requestTimeoutMs: 5000,
    compression: CompressionType.None,
  });
  const acked: { value: string; offset: bigint }[] = [];
  const errors: unknown[] = [];
  const q = accumulator.queue('t', 0);
  let outstanding = 0;
  let idle: (() => void) | null = null;
  const sink = (value: string): RecordSink => ({
    delivered: (_i, m) => {
      acked.push({ value, offset: m.offset });
      if (--outstanding === 0) idle?.();
    },
    failed: (_i, e) => {
      errors.push(e);
      if (--outstanding === 0) idle?.();
    },
  });
  return {
    sender,
    idempotence,
    acked,
    errors,
    /** Appends `count` records of about 100 bytes (two per 270-byte batch). */
    send(from: number, count: number) {
      for (let i = from; i < from + count; i++) {
        const value = String(i).padStart(80, '0');
        outstanding++;
        if (
          accumulator.append(q, { value: Buffer.from(value), timestamp: 0 }, 101, sink(value), 0, Date.now())
        )
          sender.wakeup();
      }
      sender.wakeup();
    },
    drained(): Promise<void> {
      if (outstanding === 0) return Promise.resolve();
      return new Promise((r) => {
        idle = r;
      });
    },
  };
}

const values = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => String(from + i).padStart(80, '0'));

describe('pipelining against a scripted broker', () => {
  it('a refused batch is resent first; the batches that overtook it are refused as out of order and follow', async () => {
    // The 2nd request (sequence 1) is refused with a retriable error while requests 3-5 are in
    // flight behind it: the broker refuses those as OUT_OF_ORDER_SEQUENCE_NUMBER.
    const broker = new ScriptedBroker((n) =>
      n === 2 ? { kind: 'error', code: ErrorCode.NOT_ENOUGH_REPLICAS } : { kind: 'none' },
    );
    const h = harness(broker);
    h.send(0, 20);
    await h.drained();
    h.sender.stop();
    expect(h.errors).toEqual([]);
    expect(broker.log).toEqual(values(0, 20));
    expect(h.acked.map((a) => a.offset)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i)));
    expect(broker.maxPending).toBeGreaterThan(1);
    expect(h.sender.stats.maxPartitionInFlight).toBeLessThanOrEqual(5);
    expect(h.sender.stats.epochBumps).toBe(0);
    expect(h.sender.stats.retries).toBeGreaterThan(0);
  });

  it('a cut connection in the middle of the pipeline: resent in order, duplicates recognised', async () => {
    const broker = new ScriptedBroker((n) => (n === 3 || n === 9 ? { kind: 'cut' } : { kind: 'none' }));
    const h = harness(broker);
    h.send(0, 30);
    await h.drained();
    h.sender.stop();
    expect(h.errors).toEqual([]);
    expect(broker.log).toEqual(values(0, 30));
    expect(h.acked.map((a) => a.offset).sort((a, b) => Number(a - b))).toEqual(
      Array.from({ length: 30 }, (_, i) => BigInt(i)),
    );
    expect(h.sender.stats.epochBumps).toBe(0);
  });

  it('a gap on the broker (the next sequence refused): one epoch bump, sequences start over at 0', async () => {
    let truncated = false;
    // Before the 4th request, the broker loses the last batch it appended (unclean leader change).
    const broker: ScriptedBroker = new ScriptedBroker((n) => {
      if (n === 4 && !truncated) {
        truncated = true;
        broker.truncateLast();
      }
      return { kind: 'none' };
    });
    const h = harness(broker);
    h.send(0, 16);
    await h.drained();
    h.sender.stop();
    expect(h.errors).toEqual([]);
    expect(h.sender.stats.epochBumps).toBe(1);
    expect(h.idempotence.producerEpoch).toBe(1);
    // Batches after the bump carry epoch 1 and start at sequence 0.
    const after = broker.batches.filter((b) => b.epoch === 1);
    expect(after[0].firstSeq).toBe(0);
    // Every record after the lost batch is in the log once, in order (the lost batch itself was
    // acknowledged before the truncation, as with acks=1 and an unclean election).
    const lost = values(4, 6);
    expect(broker.log).toEqual(values(0, 16).filter((v) => !lost.includes(v)));
  });

  it('UNKNOWN_PRODUCER_ID: the epoch is bumped and the batch resent from sequence 0 (KIP-360)', async () => {
    const broker = new ScriptedBroker((n) =>
      n === 3 ? { kind: 'error', code: ErrorCode.UNKNOWN_PRODUCER_ID } : { kind: 'none' },
    );
    const h = harness(broker);
    h.send(0, 12);
    await h.drained();
    h.sender.stop();
    expect(h.errors).toEqual([]);
    expect(h.sender.stats.epochBumps).toBe(1);
    expect(broker.log).toEqual(values(0, 12));
    expect(broker.batches.find((b) => b.epoch === 1)?.firstSeq).toBe(0);
  });

  it('max.in.flight=1: one batch at a time', async () => {
    const broker = new ScriptedBroker(() => ({ kind: 'none' }));
    const h = harness(broker, { maxInFlight: 1, idempotent: false });
    h.send(0, 10);
    await h.drained();
    h.sender.stop();
    expect(broker.maxPending).toBe(1);
    expect(broker.log).toEqual(values(0, 10));
  });
});
