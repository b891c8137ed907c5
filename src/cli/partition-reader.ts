// The fetch loop of `samsa consume` without a group: Fetch requests for assigned partitions, and
// a walk over each fetched record batch that prints records straight from its bytes.
//
// Why not the client's Consumer: it decodes every record into objects (a record, a header list,
// a Buffer for key and value, a bigint offset), which is right for applications but made the
// CLI spend most of its time allocating and collecting them (3x kcat's CPU for the same output).
// Here one RecordCursor is filled per record and handed to the printer: nothing is allocated per
// record unless the output needs headers or JSON.
//
// What it does as the Consumer's Fetcher does: one Fetch in flight per leader, each partition
// fetched one response ahead of the one being printed (so the broker works while this prints),
// metadata refreshed on leader errors and failed requests, OFFSET_OUT_OF_RANGE reset to the log
// start (if before it) or end, control batches skipped, read_uncommitted (as the command always
// was). Not done: CRC checks (librdkafka's default, check.crcs=false, as kcat runs), sessions.

import { FetchApi } from '../client/apis.js';
import type { Cluster } from '../client/cluster.js';
import { KafkaError } from '../client/errors.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, listOffsets } from '../client/list-offsets.js';
import { decompress } from '../protocol/compression/index.js';
import { ErrorCode } from '../protocol/errors.js';
import type { FetchRequest } from '../protocol/generated/messages/FetchRequest.js';
import type { FetchResponse } from '../protocol/generated/messages/FetchResponse.js';
import { ZERO_UUID } from '../protocol/message.js';
import { decodeRecordSet } from '../protocol/records/index.js';
import type { RecordView } from './record-format.js';

const RECORD_BATCH_OVERHEAD = 61;
const LOG_OVERHEAD = 12;
const MAGIC_OFFSET = 16;
const ATTRIBUTES_OFFSET = 21;
const LAST_OFFSET_DELTA_OFFSET = 23;
const BASE_TIMESTAMP_OFFSET = 27;
const MAX_TIMESTAMP_OFFSET = 35;
const RECORDS_COUNT_OFFSET = 57;
const COMPRESSION_MASK = 0x07;
const LOG_APPEND_TIME_FLAG = 0x08;
const CONTROL_FLAG = 0x20;

const RETRIABLE = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.OFFSET_NOT_AVAILABLE,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
]);

function corrupt(what: string): KafkaError {
  return new KafkaError(ErrorCode.CORRUPT_MESSAGE, what);
}

// ---- the record walk: varints read at `pos` (module state: no object per read) ----

let pos = 0;

function varint(b: Buffer): number {
  let v = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = b[pos++];
    v |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80 && shift < 35);
  return (v >>> 1) ^ -(v & 1);
}

/** A zigzag varlong as a number (exact up to 2^53, which timestamps stay within). */
function varlong(b: Buffer): number {
  let v = 0;
  let mul = 1;
  let byte: number;
  do {
    byte = b[pos++];
    v += (byte & 0x7f) * mul;
    mul *= 128;
  } while (byte & 0x80 && mul < 2 ** 70);
  return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
}

/** One record at a time, reused: what the printer reads. */
export class RecordCursor implements RecordView {
  topic = '';
  partition = 0;
  offset = 0;
  timestamp = 0;
  timestampType = 'CreateTime';
  keyBuf: Buffer | null = null;
  keyStart = 0;
  keyEnd = 0;
  valueBuf: Buffer | null = null;
  valueStart = 0;
  valueEnd = 0;
  /** Where the record's header count is, in hBuf; decoded on demand. */
  hBuf: Buffer | null = null;
  hPos = 0;
  /** Headers of a record decoded the slow way (legacy formats). */
  decodedHeaders: { key: string; value: Buffer | null }[] | null = null;

  headers(): { key: string; value: Buffer | null }[] {
    if (this.decodedHeaders !== null) return this.decodedHeaders;
    const b = this.hBuf as Buffer;
    const saved = pos;
    pos = this.hPos;
    const n = varint(b);
    const out: { key: string; value: Buffer | null }[] = [];
    for (let i = 0; i < n; i++) {
      const kl = varint(b);
      const key = b.toString('utf8', pos, pos + kl);
      pos += kl;
      const vl = varint(b);
      out.push({ key, value: vl < 0 ? null : b.subarray(pos, pos + vl) });
      if (vl > 0) pos += vl;
    }
    pos = saved;
    return out;
  }
}

interface PartitionState {
  topic: string;
  partition: number;
  /** Where the next Fetch starts (past what is fetched, buffered or not). */
  fetchOffset: bigint;
  /** -e: stop before this offset; null: read on. */
  end: bigint | null;
  /** Fetched responses not printed yet (at most two: one printed from, one ahead). */
  buffered: number;
  inFlight: boolean;
  /** No fetch before this time (after an error). */
  backoffUntil: number;
  /** Reached `end`: fetched no more. */
  done: boolean;
}

interface Chunk {
  state: PartitionState;
  records: Buffer;
  /** The fetch offset of this response: records before it (in its first batch) are skipped. */
  from: bigint;
}

export interface ReaderOptions {
  maxWaitMs: number;
  maxBytes: number;
  maxPartitionBytes: number;
}

export class PartitionReader {
  private readonly parts: PartitionState[];
  private readonly inFlightNodes = new Set<number>();
  private readonly ready: Chunk[] = [];
  private failure: unknown = null;
  private wake: (() => void) | null = null;
  private closed = false;
  private readonly cursor = new RecordCursor();

  constructor(
    private readonly cluster: Cluster,
    partitions: { topic: string; partition: number; offset: bigint; end?: bigint }[],
    private readonly options: ReaderOptions,
  ) {
    this.parts = partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      fetchOffset: p.offset,
      end: p.end ?? null,
      buffered: 0,
      inFlight: false,
      backoffUntil: 0,
      done: p.end !== undefined && p.offset >= p.end,
    }));
  }

  /** Every partition read to its end (only with ends given). */
  get finished(): boolean {
    return this.ready.length === 0 && this.parts.every((p) => p.done);
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Sends a Fetch to each leader with fetchable partitions and none in flight. */
  private sendFetches(): void {
    if (this.closed) return;
    const now = Date.now();
    const byNode = new Map<number, PartitionState[]>();
    let needMetadata = false;
    for (const s of this.parts) {
      if (s.done || s.inFlight || s.buffered > 1 || s.backoffUntil > now) continue;
      const leader = this.cluster.leaderFor(s.topic, s.partition);
      if (leader < 0 || !this.cluster.broker(leader)) {
        needMetadata = true;
        continue;
      }
      if (this.inFlightNodes.has(leader)) continue;
      let l = byNode.get(leader);
      if (!l) {
        l = [];
        byNode.set(leader, l);
      }
      l.push(s);
    }
    if (needMetadata) this.cluster.requestUpdate();
    for (const [node, states] of byNode) this.fetchFrom(node, states);
  }

  private fetchFrom(node: number, states: PartitionState[]): void {
    this.inFlightNodes.add(node);
    const sent = states.map((s) => ({ s, offset: s.fetchOffset }));
    for (const s of states) s.inFlight = true;
    const byTopic = new Map<string, typeof sent>();
    for (const x of sent) {
      let l = byTopic.get(x.s.topic);
      if (!l) {
        l = [];
        byTopic.set(x.s.topic, l);
      }
      l.push(x);
    }
    const ids = new Map<string, string>();
    let allIds = true;
    for (const topic of byTopic.keys()) {
      const id = this.cluster.topic(topic)?.topicId ?? ZERO_UUID;
      if (id === ZERO_UUID) allIds = false;
      ids.set(topic, id);
    }
    const { maxWaitMs, maxBytes, maxPartitionBytes } = this.options;
    const build = (v: number): FetchRequest => ({
      clusterId: null,
      replicaId: -1,
      replicaState: { replicaId: -1, replicaEpoch: -1n },
      maxWaitMs,
      minBytes: 1,
      maxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...byTopic].map(([topic, xs]) => ({
        topic: v >= 13 ? '' : topic,
        topicId: v >= 13 ? (ids.get(topic) as string) : ZERO_UUID,
        partitions: xs.map((x) => ({
          partition: x.s.partition,
          currentLeaderEpoch: -1,
          fetchOffset: x.offset,
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes: maxPartitionBytes,
          replicaDirectoryId: ZERO_UUID,
        })),
      })),
      forgottenTopicsData: [],
      rackId: '',
    });
    this.cluster
      .send(node, FetchApi, build, {
        timeoutMs: this.cluster.requestTimeoutMs + maxWaitMs,
        maxVersion: allIds ? undefined : 12,
      })
      .then(
        (resp) => this.onResponse(resp, byTopic, ids),
        () => {
          // A failed request: find the leaders again, and retry after a pause.
          const until = Date.now() + this.cluster.retryBackoffMs;
          for (const s of states) s.backoffUntil = until;
          if (!this.closed) this.cluster.requestUpdate();
        },
      )
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        for (const s of states) s.inFlight = false;
        this.inFlightNodes.delete(node);
        // Fetch ahead at once: the broker reads the next response while this one is printed.
        this.sendFetches();
        this.notify();
      });
  }

  private onResponse(
    resp: FetchResponse,
    sent: Map<string, { s: PartitionState; offset: bigint }[]>,
    ids: Map<string, string>,
  ): void {
    if (this.closed) return;
    if (resp.errorCode !== ErrorCode.NONE) {
      if (!new KafkaError(resp.errorCode).retriable) throw new KafkaError(resp.errorCode, 'fetch');
      this.cluster.requestUpdate();
      return;
    }
    const nameById = new Map([...ids].map(([name, id]) => [id, name]));
    for (const t of resp.responses) {
      const topic = t.topic !== '' ? t.topic : nameById.get(t.topicId);
      if (!topic) continue;
      for (const p of t.partitions) {
        const x = sent.get(topic)?.find((y) => y.s.partition === p.partitionIndex);
        if (!x) continue;
        const s = x.s;
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          s.backoffUntil = Number.POSITIVE_INFINITY; // until the reset below
          void this.resetOutOfRange(s, x.offset);
          continue;
        }
        if (p.errorCode !== ErrorCode.NONE) {
          if (!RETRIABLE.has(p.errorCode) && !new KafkaError(p.errorCode).retriable)
            throw new KafkaError(p.errorCode, `fetching ${topic}-${p.partitionIndex}`);
          s.backoffUntil = Date.now() + this.cluster.retryBackoffMs;
          this.cluster.requestUpdate();
          continue;
        }
        const records = p.records;
        if (!records || records.length === 0) continue;
        const next = nextOffset(records);
        if (next <= s.fetchOffset) continue;
        s.fetchOffset = next;
        if (s.end !== null && next >= s.end) s.done = true;
        s.buffered++;
        this.ready.push({ state: s, records, from: x.offset });
      }
    }
  }

  /** Kafka's auto.offset.reset for a position off the log: the start if before it, else the end. */
  private async resetOutOfRange(s: PartitionState, offset: bigint): Promise<void> {
    const tp = { topic: s.topic, partition: s.partition };
    try {
      const [first, last] = await Promise.all([
        listOffsets(this.cluster, [{ ...tp, timestamp: EARLIEST_TIMESTAMP }]),
        listOffsets(this.cluster, [{ ...tp, timestamp: LATEST_TIMESTAMP }]),
      ]);
      const start = [...first.values()][0]?.offset ?? offset;
      const end = [...last.values()][0]?.offset ?? offset;
      if (s.fetchOffset === offset) s.fetchOffset = offset < start ? start : end;
      if (s.end !== null && s.fetchOffset >= s.end) s.done = true;
      s.backoffUntil = 0;
    } catch {
      s.backoffUntil = Date.now() + this.cluster.retryBackoffMs;
      void this.resetOutOfRange(s, offset);
      return;
    }
    this.sendFetches();
    this.notify();
  }

  /**
   * Waits up to timeoutMs for fetched records and hands each (in offset order per partition) to
   * `emit`, at most `limit` of them; resolves to how many it handed out. The cursor passed to
   * emit is reused for the next record.
   */
  async poll(
    timeoutMs: number,
    emit: (r: RecordCursor) => void,
    limit = Number.POSITIVE_INFINITY,
    signal?: AbortSignal,
  ): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.failure !== null) throw this.failure;
      this.sendFetches();
      if (this.ready.length > 0) {
        let n = 0;
        while (this.ready.length > 0 && n < limit) {
          const c = this.ready.shift() as Chunk;
          c.state.buffered--;
          n += this.walk(c, emit, limit - n);
        }
        this.sendFetches();
        return n;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closed || signal?.aborted || this.finished) return 0;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          signal?.removeEventListener('abort', done);
          if (this.wake === done) this.wake = null;
          resolve();
        };
        // Also wakes for a backoff that ends while nothing is in flight.
        const t = setTimeout(done, Math.min(left, this.cluster.retryBackoffMs));
        signal?.addEventListener('abort', done, { once: true });
        this.wake = done;
      });
    }
  }

  /** Prints the records of one fetched response. */
  private walk(c: Chunk, emit: (r: RecordCursor) => void, limit: number): number {
    const buf = c.records;
    const s = c.state;
    const cur = this.cursor;
    cur.topic = s.topic;
    cur.partition = s.partition;
    const from = c.from;
    const end = s.end;
    let n = 0;
    let at = 0;
    while (at + LOG_OVERHEAD <= buf.length && n < limit) {
      const size = buf.readInt32BE(at + 8);
      const batchEnd = at + LOG_OVERHEAD + size;
      if (batchEnd > buf.length) break; // a partial batch at the end of a response
      const magic = buf[at + MAGIC_OFFSET];
      if (magic !== 2) {
        n += this.walkLegacy(c, buf.subarray(at, batchEnd), emit, limit - n);
        at = batchEnd;
        continue;
      }
      if (size < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD)
        throw corrupt(`${s.topic}-${s.partition}: short batch`);
      const attributes = buf.readInt16BE(at + ATTRIBUTES_OFFSET);
      const baseOffset = buf.readBigInt64BE(at);
      const lastOffset = baseOffset + BigInt(buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET));
      const count = buf.readInt32BE(at + RECORDS_COUNT_OFFSET);
      if ((attributes & CONTROL_FLAG) !== 0 || lastOffset < from || count === 0) {
        at = batchEnd;
        continue;
      }
      const logAppend = (attributes & LOG_APPEND_TIME_FLAG) !== 0;
      const baseTimestamp = Number(buf.readBigInt64BE(at + BASE_TIMESTAMP_OFFSET));
      const maxTimestamp = Number(buf.readBigInt64BE(at + MAX_TIMESTAMP_OFFSET));
      cur.timestampType = logAppend ? 'LogAppendTime' : 'CreateTime';
      let rb = buf;
      let rpos = at + RECORD_BATCH_OVERHEAD;
      let rend = batchEnd;
      const compression = attributes & COMPRESSION_MASK;
      if (compression !== 0) {
        rb = decompress(compression, buf.subarray(at + RECORD_BATCH_OVERHEAD, batchEnd), 0x7fffffff);
        rpos = 0;
        rend = rb.length;
      }
      // Offsets as numbers: exact below 2^53, far beyond any log.
      const base = Number(baseOffset);
      const skipBelow = Number(from);
      const stopAt = end === null ? Number.POSITIVE_INFINITY : Number(end);
      pos = rpos;
      for (let i = 0; i < count; i++) {
        const length = varint(rb);
        const recordEnd = pos + length;
        if (length < 6 || recordEnd > rend) throw corrupt(`${s.topic}-${s.partition}: bad record length`);
        pos++; // attributes
        const tsDelta = varlong(rb);
        const offset = base + varint(rb);
        const kl = varint(rb);
        const keyStart = pos;
        const keyEnd = kl > 0 ? keyStart + kl : keyStart;
        pos = keyEnd;
        const vl = varint(rb);
        const valueStart = pos;
        const valueEnd = vl > 0 ? valueStart + vl : valueStart;
        pos = valueEnd;
        if (pos > recordEnd) throw corrupt(`${s.topic}-${s.partition}: record fields overrun it`);
        if (offset >= skipBelow && offset < stopAt) {
          cur.offset = offset;
          cur.timestamp = logAppend ? maxTimestamp : baseTimestamp + tsDelta;
          cur.keyBuf = kl < 0 ? null : rb;
          cur.keyStart = keyStart;
          cur.keyEnd = keyEnd;
          cur.valueBuf = vl < 0 ? null : rb;
          cur.valueStart = valueStart;
          cur.valueEnd = valueEnd;
          cur.hBuf = rb;
          cur.hPos = pos;
          cur.decodedHeaders = null;
          const saved = pos;
          emit(cur);
          pos = saved;
          if (++n >= limit) break;
        }
        pos = recordEnd;
      }
      at = batchEnd;
    }
    return n;
  }

  /** Magic 0/1 message sets, through the protocol's decoder (rare: only old producers write them). */
  private walkLegacy(c: Chunk, bytes: Buffer, emit: (r: RecordCursor) => void, limit: number): number {
    const cur = this.cursor;
    const end = c.state.end;
    let n = 0;
    for (const b of decodeRecordSet(bytes, { maxUncompressedBytes: 0x7fffffff, verifyCrc: false }).batches) {
      for (const r of b.records) {
        const offset = b.baseOffset + BigInt(r.offsetDelta);
        if (offset < c.from || (end !== null && offset >= end)) continue;
        cur.offset = Number(offset);
        cur.timestamp = r.timestamp;
        cur.timestampType = b.magic === 0 ? 'NoTimestampType' : 'CreateTime';
        cur.keyBuf = r.key;
        cur.keyStart = 0;
        cur.keyEnd = r.key === null ? 0 : r.key.length;
        cur.valueBuf = r.value;
        cur.valueStart = 0;
        cur.valueEnd = r.value === null ? 0 : r.value.length;
        cur.decodedHeaders = r.headers;
        emit(cur);
        if (++n >= limit) return n;
      }
    }
    return n;
  }
}

/** The offset after the last complete batch of a Fetch response's records (no record decoded). */
function nextOffset(buf: Buffer): bigint {
  let at = 0;
  let next = -1n;
  while (at + LOG_OVERHEAD <= buf.length) {
    const size = buf.readInt32BE(at + 8);
    if (size <= 0 || at + LOG_OVERHEAD + size > buf.length) break;
    const offset = buf.readBigInt64BE(at);
    // A v2 batch starts at its base offset; a legacy entry (or compressed wrapper) is at its last.
    next =
      buf[at + MAGIC_OFFSET] === 2
        ? offset + BigInt(buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET)) + 1n
        : offset + 1n;
    at += LOG_OVERHEAD + size;
  }
  return next;
}
