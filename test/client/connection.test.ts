// The network core: ApiVersions negotiation, pipelining, request timeouts, AbortSignal, and the
// cluster's reconnects with backoff; against a scripted fake broker and the real one.

import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { MetadataApi, ProduceApi } from '../../src/client/apis.js';
import { Cluster } from '../../src/client/cluster.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { KafkaConnectionError, KafkaError, KafkaTimeoutError } from '../../src/client/errors.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { encodeResponse } from '../../src/protocol/frame.js';
import { ApiVersionsResponse } from '../../src/protocol/generated/messages/ApiVersionsResponse.js';
import { brokerBehindProxy, testBroker } from './helpers.js';

/** Answers ApiVersions (only v0-2 understood, like an old broker) and nothing else. */
async function fakeBroker(
  apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[],
): Promise<{ server: Server; port: number; seen: number[] }> {
  const seen: number[] = [];
  const server = createServer((s: Socket) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
        buf = buf.subarray(4 + frame.length);
        const apiKey = frame.readInt16BE(0);
        const version = frame.readInt16BE(2);
        const correlationId = frame.readInt32BE(4);
        seen.push(apiKey * 100 + version);
        if (apiKey !== 18) continue; // never answered
        const body = { ...ApiVersionsResponse.default(), apiKeys };
        if (version > 2) {
          // What Kafka does for a version it does not know: a v0 answer with UNSUPPORTED_VERSION.
          for (const c of encodeResponse(18, 0, correlationId, ApiVersionsResponse, {
            ...body,
            errorCode: ErrorCode.UNSUPPORTED_VERSION,
          }))
            s.write(c);
        } else {
          for (const c of encodeResponse(18, version, correlationId, ApiVersionsResponse, body)) s.write(c);
        }
      }
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { server, port: typeof a === 'object' && a ? a.port : 0, seen };
}

const opts = (port: number) => ({
  host: '127.0.0.1',
  port,
  nodeId: -1,
  clientId: 'test',
  connectTimeoutMs: 2000,
  requestTimeoutMs: 300,
  logger: { debug() {}, info() {}, warn() {}, error() {} },
});

describe('BrokerConnection', () => {
  it('retries ApiVersions at the broker version and picks the highest common version per API', async () => {
    const fake = await fakeBroker([
      { apiKey: 18, minVersion: 0, maxVersion: 2 },
      { apiKey: 3, minVersion: 1, maxVersion: 7 },
      { apiKey: 0, minVersion: 3, maxVersion: 99 },
    ]);
    try {
      const conn = await BrokerConnection.connect(opts(fake.port));
      expect(fake.seen).toEqual([1804, 1802]);
      expect(conn.version(MetadataApi)).toBe(7);
      expect(conn.version(ProduceApi)).toBe(11); // the client's own maximum
      expect(conn.supports(MetadataApi)).toBe(true);
      expect(() => conn.version({ ...MetadataApi, apiKey: 19 })).toThrow(KafkaError);
      conn.destroy();
    } finally {
      fake.server.close();
    }
  });

  it('times out a request (closing the connection) and honours AbortSignal', async () => {
    const fake = await fakeBroker([
      { apiKey: 18, minVersion: 0, maxVersion: 2 },
      { apiKey: 3, minVersion: 0, maxVersion: 12 },
    ]);
    try {
      const conn = await BrokerConnection.connect(opts(fake.port));
      const ac = new AbortController();
      const aborted = conn.send(MetadataApi, MetadataApi.request.default(), {
        signal: ac.signal,
        timeoutMs: 10_000,
      });
      const reason = new Error('stop');
      ac.abort(reason);
      await expect(aborted).rejects.toBe(reason);
      expect(conn.closed).toBe(false);
      const other = conn.send(MetadataApi, MetadataApi.request.default(), { timeoutMs: 10_000 });
      const timed = conn.send(MetadataApi, MetadataApi.request.default());
      await expect(timed).rejects.toBeInstanceOf(KafkaTimeoutError);
      // The other request on the connection fails as a (retriable) disconnection.
      await expect(other).rejects.toBeInstanceOf(KafkaConnectionError);
      expect(conn.closed).toBe(true);
    } finally {
      fake.server.close();
    }
  });
});

describe('Cluster', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await testBroker({ 'num.partitions': '2' });
  });
  afterAll(async () => broker?.stop());

  it('bootstraps from a list with a dead address, pipelines requests, caches metadata', async () => {
    const c = new Cluster({ brokers: ['127.0.0.1:1', broker.bootstrap], reconnectBackoffMs: 10 });
    const [t] = await c.waitForTopics(['auto-created'], 10_000);
    expect(t.partitions.map((p) => p.leader)).toEqual([1, 1]);
    expect(c.brokers().map((b) => b.nodeId)).toEqual([1]);
    const conn = await c.connection(1);
    const many = await Promise.all(
      Array.from({ length: 50 }, () =>
        conn.send(MetadataApi, { ...MetadataApi.request.default(), topics: [] }),
      ),
    );
    expect(many.every((m) => m.brokers.length === 1)).toBe(true);
    await c.close();
  });

  it('reconnects with backoff after the connection is cut', async () => {
    const { broker: b, proxy } = await brokerBehindProxy();
    try {
      const c = new Cluster({
        brokers: proxy.bootstrap,
        reconnectBackoffMs: 20,
        reconnectBackoffMaxMs: 100,
        requestTimeoutMs: 1000,
      });
      await c.refreshMetadata();
      proxy.refuse = true;
      proxy.cutAll();
      await expect(c.fetchMetadata([], false)).rejects.toBeInstanceOf(KafkaConnectionError);
      proxy.refuse = false;
      const acceptedBefore = proxy.accepted;
      const md = await c.sendAny(MetadataApi, { ...MetadataApi.request.default(), topics: [] });
      expect(md.brokers).toHaveLength(1);
      expect(proxy.accepted).toBeGreaterThan(acceptedBefore);
      await c.close();
    } finally {
      await proxy.close();
      await b.stop();
    }
  });
});
