// The network layer against bad frames and pipelined requests. Each bad input states what it
// gets: an answer, or a closed connection; the broker keeps serving others either way.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { decodeResponseHeader, encodeRequest } from '../../src/protocol/frame.js';
import { ApiKey, ApiVersionsRequest, ApiVersionsResponse } from '../../src/protocol/generated/index.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: Broker;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samsa-net-'));
  broker = await startBroker({
    config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir, 'socket.request.max.bytes': '1048576' },
    logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

function apiVersionsRequest(version: number, correlationId: number): Buffer {
  const body = { clientSoftwareName: 'samsa-test', clientSoftwareVersion: '1.0' };
  return Buffer.concat(
    encodeRequest(
      { apiKey: ApiKey.ApiVersions, apiVersion: version, correlationId, clientId: 't' },
      ApiVersionsRequest,
      body,
    ),
  );
}

function parseApiVersions(frame: Buffer, version: number) {
  const { header, body } = decodeResponseHeader(frame, ApiKey.ApiVersions, version);
  return { correlationId: header.correlationId, body: ApiVersionsResponse.decode(body, version) };
}

const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

describe('network layer', () => {
  it('answers pipelined requests in order, including a frame split across writes', async () => {
    const c = await RawClient.connect(broker.port);
    const frames = [0, 1, 2, 3, 4].map((v) => apiVersionsRequest(v, 100 + v));
    const all = Buffer.concat(frames);
    c.send(all.subarray(0, 7), all.subarray(7, 40), all.subarray(40));
    for (let v = 0; v <= 4; v++) {
      const { correlationId, body } = parseApiVersions((await c.next())!, v);
      expect(correlationId).toBe(100 + v);
      expect(body.errorCode).toBe(0);
      expect(body.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions)).toMatchObject({
        minVersion: 0,
        maxVersion: 4,
      });
    }
    c.close();
  });

  it('answers a too-new ApiVersions with v0, UNSUPPORTED_VERSION and the served versions', async () => {
    const c = await RawClient.connect(broker.port);
    const req = apiVersionsRequest(4, 9);
    req.writeInt16BE(99, 6); // api version 99
    c.send(req);
    const { correlationId, body } = parseApiVersions((await c.next())!, 0);
    expect(correlationId).toBe(9);
    expect(body.errorCode).toBe(35);
    expect(body.apiKeys.length).toBeGreaterThan(0);
    c.close();
  });

  it('answers a malformed client software name with INVALID_REQUEST', async () => {
    const c = await RawClient.connect(broker.port);
    const body = { clientSoftwareName: '-bad name-', clientSoftwareVersion: '1' };
    c.send(
      ...encodeRequest(
        { apiKey: 18, apiVersion: 3, correlationId: 1, clientId: null },
        ApiVersionsRequest,
        body,
      ),
    );
    expect(parseApiVersions((await c.next())!, 3).body.errorCode).toBe(42);
    c.close();
  });

  const closes: [string, Buffer][] = [
    ['a negative size prefix', int32(-5)],
    ['a 2 GiB size prefix', int32(0x7fffffff)],
    ['a size above socket.request.max.bytes', int32(1048577)],
    ['an unknown API key', Buffer.concat([int32(10), Buffer.from('7fff0000000000010000', 'hex')])],
    [
      'an unsupported version of a non-ApiVersions API',
      Buffer.concat([int32(10), Buffer.from('00037fff000000010000', 'hex')]),
    ],
    ['a header cut short', Buffer.concat([int32(3), Buffer.from('001200', 'hex')])],
    [
      'a body that does not decode',
      Buffer.concat([int32(12), Buffer.from('00120003000000010000', 'hex'), Buffer.from('7f7f', 'hex')]),
    ],
  ];
  it.each(closes)('closes the connection on %s, and keeps serving others', async (_what, bytes) => {
    const c = await RawClient.connect(broker.port);
    c.send(bytes);
    expect(await c.waitClosed()).toBe(true);
    const ok = await RawClient.connect(broker.port);
    ok.send(apiVersionsRequest(3, 1));
    expect(parseApiVersions((await ok.next())!, 3).body.errorCode).toBe(0);
    ok.close();
  });

  it('waits for the rest of a truncated frame instead of failing', async () => {
    const c = await RawClient.connect(broker.port);
    const req = apiVersionsRequest(3, 5);
    c.send(req.subarray(0, req.length - 3));
    await new Promise((r) => setTimeout(r, 100));
    expect(c.closed).toBe(false);
    c.send(req.subarray(req.length - 3));
    expect(parseApiVersions((await c.next())!, 3).correlationId).toBe(5);
    c.close();
  });

  it('keeps the same cluster id across restarts of a data directory', async () => {
    // The data directory is locked while its broker runs: stop it first (afterAll stops the
    // restarted one).
    const clusterId = broker.services.clusterId;
    await broker.stop();
    broker = await startBroker({
      config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir },
      logger: pino({ level: 'silent' }),
    });
    expect(broker.services.clusterId).toBe(clusterId);
    expect(broker.services.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('idle connections', () => {
  it('are closed after connections.max.idle.ms without traffic', async () => {
    const idle = await startBroker({
      config: { 'connections.max.idle.ms': '300' },
      logger: pino({ level: 'silent' }),
    });
    try {
      const c = await RawClient.connect(idle.port);
      c.send(apiVersionsRequest(3, 1));
      expect(await c.next()).not.toBeNull();
      expect(await c.waitClosed(10_000)).toBe(true);
    } finally {
      await idle.stop();
    }
  });
});
