// The broker's HTTP listener (http.listeners): health endpoints through the broker's life, the
// port clash rules, routing, and requests that node's HTTP parser refuses.

import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Logger, pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker, startBroker } from '../../src/broker/broker.js';
import { BrokerConfig } from '../../src/broker/config.js';
import { startBrokerHttp } from '../../src/broker/http-listener.js';
import { BrokerMetrics } from '../../src/broker/metrics.js';
import { HttpServer, parseHttpListener } from '../../src/http/server.js';
import { ApiVersionsRequest, ApiVersionsResponse } from '../../src/protocol/generated/index.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';

/** One ApiVersions round trip: the Kafka listener still answers. */
async function kafkaAnswers(port: number): Promise<number> {
  const rpc = await KafkaRpc.connect(port);
  try {
    const r = await rpc.request(18, 3, ApiVersionsRequest, ApiVersionsResponse, {
      ...ApiVersionsRequest.default(),
      clientSoftwareName: 'test',
      clientSoftwareVersion: '1',
    });
    return r.errorCode;
  } finally {
    rpc.close();
  }
}

const silent = () => pino({ level: 'silent' });

/** Collects what a broker logs, as parsed JSON lines. */
function capture(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger: Logger = pino(
    { level: 'info' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { logger, lines };
}

async function get(url: string, method = 'GET'): Promise<{ status: number; body: string; type: string }> {
  const r = await fetch(url, { method });
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') ?? '' };
}

/** Sends raw bytes to host:port and resolves with everything the server sent before closing. */
function raw(port: number, bytes: string | Buffer, endAfter = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(bytes);
      if (endAfter) s.end();
    });
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve(out) : reject(err)));
    s.on('close', () => resolve(out));
  });
}

function listenOn(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

describe('http.listeners parsing', () => {
  it('takes http://host:port and refuses anything else at config time', () => {
    expect(parseHttpListener('http://127.0.0.1:9644')).toEqual({ host: '127.0.0.1', port: 9644 });
    expect(parseHttpListener('http://:9644')).toEqual({ host: '', port: 9644 });
    expect(parseHttpListener('http://[::1]:80/')).toEqual({ host: '::1', port: 80 });
    expect(() => parseHttpListener('https://127.0.0.1:9644')).toThrow(/not http/);
    expect(() => parseHttpListener('http://127.0.0.1:99999')).toThrow(/not http/);
    expect(() => new BrokerConfig({ 'http.listeners': 'https://127.0.0.1:1' })).toThrow(/http.listeners/);
    expect(() => new BrokerConfig({ 'http.listeners': 'http://a:1,http://b:2' })).toThrow(
      /one HTTP listener/,
    );
    expect(new BrokerConfig({ 'http.listeners': '' }).list('http.listeners')).toEqual([]);
    expect(new BrokerConfig().list('http.listeners')).toEqual(['http://127.0.0.1:9644']);
  });
});

describe('the broker without an HTTP listener', () => {
  it('startBroker() has none and keeps no metrics unless asked', async () => {
    const b = await startBroker({ logger: silent() });
    try {
      expect(b.http).toBeNull();
      expect(b.services.metrics).toBeNull();
      expect(b.services.replicaManager.topicStats).toBeNull();
    } finally {
      await b.stop();
    }
  });
});

describe('health endpoints', () => {
  it('/health/ready follows the broker phase: 503 starting, 200 serving, 503 stopping', async () => {
    const config = new BrokerConfig({ 'http.listeners': 'http://127.0.0.1:0' });
    const http = await startBrokerHttp({
      config,
      log: silent(),
      metrics: new BrokerMetrics('PLAINTEXT'),
      services: {},
    });
    expect(http).not.toBeNull();
    const base = http!.address;
    try {
      expect(await get(`${base}/health/live`)).toMatchObject({ status: 200, body: '{"status":"live"}' });
      expect(await get(`${base}/health/ready`)).toMatchObject({ status: 503, body: '{"status":"starting"}' });
      http!.phase = 'serving';
      expect(await get(`${base}/health/ready`)).toMatchObject({ status: 200, body: '{"status":"ready"}' });
      http!.phase = 'stopping';
      expect(await get(`${base}/health/ready`)).toMatchObject({ status: 503, body: '{"status":"stopping"}' });
      // HEAD answers the status without a body.
      const head = await get(`${base}/health/live`, 'HEAD');
      expect(head).toMatchObject({ status: 200, body: '' });
    } finally {
      await http!.close();
    }
  });

  it('a started broker is live and ready; once stopped nothing listens', async () => {
    const b = await startBroker({ config: { 'http.listeners': 'http://127.0.0.1:0' }, logger: silent() });
    const base = b.http!.address;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await get(`${base}/health/live`)).toMatchObject({ status: 200 });
    expect(await get(`${base}/health/ready`)).toMatchObject({ status: 200, body: '{"status":"ready"}' });
    expect(b.http!.phase).toBe('serving');
    await b.stop();
    expect(b.http!.phase).toBe('stopping');
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  });
});

describe('routing and bad requests', () => {
  let broker: Broker;
  let base: string;
  let port: number;

  beforeAll(async () => {
    broker = await startBroker({ config: { 'http.listeners': 'http://127.0.0.1:0' }, logger: silent() });
    base = broker.http!.address;
    port = Number(base.slice(base.lastIndexOf(':') + 1));
  });
  afterAll(() => broker?.stop());

  it('answers 404 for an unknown path and 405 for a method other than GET/HEAD', async () => {
    expect(await get(`${base}/nope`)).toMatchObject({ status: 404 });
    expect(await get(`${base}/metrics/extra`)).toMatchObject({ status: 404 });
    const post = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    // A query string does not change the route.
    expect(await get(`${base}/health/live?verbose=1`)).toMatchObject({ status: 200 });
  });

  it('refuses malformed requests with 400 and keeps serving HTTP and Kafka', async () => {
    expect(await raw(port, 'GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw(port, 'GET / HTTP/9.9\r\n\r\n')).toMatch(/^HTTP\/1\.1 (400|505)/);
    expect(
      await raw(port, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    ).toMatch(/^HTTP\/1\.1 (400|431)/);
    expect(await raw(port, 'GET /health/live HTTP/1.1\r\nContent-Length: -1\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 400/,
    );
    expect(await raw(port, Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10]))).toMatch(/^HTTP\/1\.1 400/);
    // Half a request, then the client half-closes: node answers 400 to the early end.
    expect(await raw(port, 'GET /metrics HTTP/1.1\r\nHost:', true)).toMatch(/^HTTP\/1\.1 400/);
    // The Kafka port's bytes sent to the HTTP port, and HTTP sent to the Kafka port.
    expect(await raw(port, Buffer.from([0, 0, 0, 10, 0, 18, 0, 3, 0, 0, 0, 1, 0, 0]))).toMatch(
      /^HTTP\/1\.1 400/,
    );
    await raw(broker.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n', true);

    expect(await get(`${base}/health/ready`)).toMatchObject({ status: 200 });
    expect((await get(`${base}/metrics`)).status).toBe(200);
    expect(await kafkaAnswers(broker.port)).toBe(0);
  });

  it('a mounted handler that throws or rejects answers 500 and the server goes on', async () => {
    const server = new HttpServer(silent());
    server.mount('/throws', () => {
      throw new Error('boom');
    });
    server.mount('/rejects', async () => {
      throw new Error('boom');
    });
    server.mount('/api/', (_req, res) => void res.end('api'));
    server.mount('/', (_req, res) => void res.end('root'));
    const p = await server.listen('127.0.0.1', 0);
    try {
      expect(await get(`http://127.0.0.1:${p}/throws`)).toMatchObject({ status: 500 });
      expect(await get(`http://127.0.0.1:${p}/rejects`)).toMatchObject({ status: 500 });
      // Prefix mounts: the longest wins, as the console's / and /api/ will need.
      expect(await get(`http://127.0.0.1:${p}/api/topics`)).toMatchObject({ status: 200, body: 'api' });
      expect(await get(`http://127.0.0.1:${p}/index.html`)).toMatchObject({ status: 200, body: 'root' });
      expect(() => server.mount('/api/', () => {})).toThrow(/mounted already/);
    } finally {
      await server.close();
    }
  });
});

describe('port clashes', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'samsa-http-clash-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an explicitly configured port that is taken stops the start, and releases the data dir', async () => {
    const blocker = (await listenOn(0))!;
    const taken = (blocker.address() as AddressInfo).port;
    try {
      const config = { 'http.listeners': `http://127.0.0.1:${taken}`, 'log.dirs': join(dir, 'explicit') };
      await expect(startBroker({ config, logger: silent() })).rejects.toThrow(
        new RegExp(`http.listeners: cannot listen on http://127.0.0.1:${taken}`),
      );
      // Nothing was left behind: the same data dir starts once the port is free.
      const b = await startBroker({
        config: { ...config, 'http.listeners': 'http://127.0.0.1:0' },
        logger: silent(),
      });
      await b.stop();
    } finally {
      blocker.close();
    }
  });

  it('a clash on the default port (9644) is a warning: the broker runs without the listener', async () => {
    // Whoever holds 9644 (this test, or another broker on the machine), the default port is taken.
    const blocker = await listenOn(9644);
    const probe = await listenOn(9644);
    expect(probe).toBeNull();
    const { logger, lines } = capture();
    const b = await Broker.start({
      config: new BrokerConfig({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': join(dir, 'default') }),
      logger,
    });
    try {
      expect(b.http).toBeNull();
      expect(b.services.metrics).toBeNull();
      const warning = lines.find((l) => l.level === 40 && /HTTP port 9644 is in use/.test(String(l.msg)));
      expect(warning).toBeDefined();
      expect(await kafkaAnswers(b.port)).toBe(0);
    } finally {
      await b.stop();
      blocker?.close();
    }
  });
});
