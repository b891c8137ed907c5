// The broker's plain counters (broker/metrics.ts, metrics/histogram.ts): histogram buckets, the
// record count of a fetched record set, error codes found in responses, BrokerTopicMetrics rules.

import { describe, expect, it } from 'vitest';
import { BrokerTopicStats, countRecords, RequestStats } from '../../src/broker/metrics.js';
import { LatencyHistogram } from '../../src/metrics/histogram.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { encodeRecordBatch } from '../../src/protocol/records/encode.js';

const value = (s: string) => ({ value: Buffer.from(s) });

/** A v0 message set entry: offset, size, crc, magic 0, attributes, key -1, value. */
function legacyEntry(v: string): Buffer {
  const body = Buffer.concat([
    Buffer.from([0, 0, 0, 0, 0, 0]), // crc (not checked here), magic 0, attributes 0
    Buffer.from([0xff, 0xff, 0xff, 0xff]), // null key
    Buffer.alloc(4),
    Buffer.from(v),
  ]);
  body.writeInt32BE(v.length, 10);
  const head = Buffer.alloc(12);
  head.writeInt32BE(body.length, 8);
  return Buffer.concat([head, body]);
}

describe('LatencyHistogram', () => {
  it('puts a value in the first bucket whose bound it does not exceed; cumulative ends at count', () => {
    const h = new LatencyHistogram([1, 10, 100]);
    for (const v of [0, 1, 1.5, 10, 99, 100, 101, 5000]) h.observe(v);
    expect([...h.counts]).toEqual([2, 2, 2, 2]);
    expect(h.cumulative()).toEqual([2, 4, 6, 8]);
    expect(h.count).toBe(8);
    expect(h.sum).toBeCloseTo(5312.5);
  });
});

describe('countRecords', () => {
  it('adds up the record counts of v2 batches, and counts v0/v1 entries one each', () => {
    const a = encodeRecordBatch([value('a'), value('b'), value('c')]);
    const b = encodeRecordBatch([value('d')]);
    expect(countRecords(Buffer.concat([a, b]))).toBe(4);
    expect(countRecords(Buffer.concat([legacyEntry('x'), legacyEntry('y')]))).toBe(2);
    expect(countRecords(Buffer.alloc(0))).toBe(0);
  });

  it('stops at a partial batch at the end (Kafka sends one when max bytes cut it)', () => {
    const a = encodeRecordBatch([value('a'), value('b')]);
    const b = encodeRecordBatch([value('c')]);
    expect(countRecords(Buffer.concat([a, b.subarray(0, 30)]))).toBe(2);
    expect(countRecords(Buffer.concat([a, b.subarray(0, 60)]))).toBe(2);
  });
});

describe('RequestStats', () => {
  it('counts requests by version and the error codes of a response at every level', () => {
    const s = new RequestStats();
    s.received(0, 9);
    s.received(0, 9);
    s.received(0, 11);
    expect(s.api(0).requests[9]).toBe(2);
    expect(s.api(0).requests[11]).toBe(1);
    s.answered(0, {
      responses: [
        {
          name: 't',
          partitionResponses: [{ errorCode: 0 }, { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }],
        },
        { name: 'u', partitionResponses: [{ errorCode: 0, recordErrors: [] }] },
      ],
      throttleTimeMs: 0,
    });
    s.answered(18, { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: [{ apiKey: 0 }] });
    expect(Object.fromEntries(s.api(0).errors)).toEqual({ 0: 2, [ErrorCode.NOT_LEADER_OR_FOLLOWER]: 1 });
    expect(Object.fromEntries(s.api(18).errors)).toEqual({ [ErrorCode.UNSUPPORTED_VERSION]: 1 });
  });

  it("splits a request's time into Kafka's parts", () => {
    const s = new RequestStats();
    s.completed(
      {
        apiKey: 1,
        apiVersion: 12,
        receivedMs: 100,
        startMs: 101,
        localDoneMs: 103,
        readyMs: 203,
        writtenMs: 204,
      },
      204.5,
    );
    const f = s.api(1);
    expect([f.queueTime.sum, f.localTime.sum, f.remoteTime.sum, f.responseQueueTime.sum]).toEqual([
      1, 2, 100, 1,
    ]);
    expect(f.responseSendTime.sum).toBeCloseTo(0.5);
    expect(f.totalTime.sum).toBeCloseTo(104.5);
  });
});

describe('BrokerTopicStats', () => {
  it('counts appends and refusals, and fetch failures other than a stale position or view', () => {
    const t = new BrokerTopicStats();
    t.produced('a', 3, 120, false);
    t.produced('a', 0, 0, true);
    t.fetched('a', ErrorCode.NONE, encodeRecordBatch([value('x'), value('y')]));
    t.fetched('a', ErrorCode.OFFSET_OUT_OF_RANGE, null);
    t.fetched('a', ErrorCode.KAFKA_STORAGE_ERROR, null);
    t.fetched(undefined, ErrorCode.NONE, null); // a topic id no longer known: nothing to count
    expect({ ...t.topic('a') }).toMatchObject({
      messagesIn: 3,
      bytesIn: 120,
      totalProduceRequests: 2,
      failedProduceRequests: 1,
      messagesOut: 2,
      totalFetchRequests: 3,
      failedFetchRequests: 1,
    });
    t.remove('a');
    expect(t.byTopic.has('a')).toBe(false);
  });
});
