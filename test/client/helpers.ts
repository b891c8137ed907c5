// Shared by the client tests: an in-process broker, kcat and confluent-kafka-python runners, and a
// TCP proxy that can cut every connection through it (injected network failures).

import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import type { Logger } from '../../src/client/logger.js';
import { PYTHON, type RunResult, run } from '../helpers/tools.js';

export async function testBroker(config: Record<string, string> = {}): Promise<Broker> {
  return startBroker({
    logger: pino({ level: 'silent' }),
    config: { 'group.initial.rebalance.delay.ms': '0', ...config },
  });
}

export function kcat(args: string[], input = ''): Promise<RunResult> {
  return run('kcat', args, input);
}

export function python(script: string, args: string[]): Promise<RunResult> {
  return run(PYTHON, [join(import.meta.dirname, 'python', script), ...args]);
}

/** A logger that keeps what was logged, for assertions. */
export function captureLogger(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const log = (level: string) => (obj: object | string, msg?: string) =>
    lines.push({ level, msg: typeof obj === 'string' ? obj : (msg ?? '') });
  return { lines, debug: () => {}, info: log('info'), warn: log('warn'), error: log('error') };
}

/**
 * A TCP proxy in front of the broker. cutAll() destroys every connection through it (both sides),
 * as a network failure would; new connections are accepted afterwards unless refuse is set.
 */
export class ChaosProxy {
  private readonly sockets = new Set<Socket>();
  refuse = false;
  /** Connections accepted so far. */
  accepted = 0;
  /** Bytes forwarded from clients to the broker. */
  bytesUp = 0;
  /** Where connections go; set after start when the broker must advertise the proxy's address. */
  target = { host: '127.0.0.1', port: 0 };
  private constructor(private readonly server: Server) {}

  static async start(target?: { host: string; port: number }): Promise<ChaosProxy> {
    const server = createServer();
    const proxy = new ChaosProxy(server);
    if (target) proxy.target = target;
    server.on('connection', (client) => {
      if (proxy.refuse) {
        client.destroy();
        return;
      }
      proxy.accepted++;
      const upstream = netConnect(proxy.target.port, proxy.target.host);
      proxy.sockets.add(client);
      proxy.sockets.add(upstream);
      client.on('data', (d: Buffer) => {
        proxy.bytesUp += d.length;
      });
      client.pipe(upstream);
      upstream.pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
        proxy.sockets.delete(client);
        proxy.sockets.delete(upstream);
      };
      client.on('error', close);
      upstream.on('error', close);
      client.on('close', close);
      upstream.on('close', close);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return proxy;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  cutAll(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return n;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A broker reachable only through a ChaosProxy: it advertises the proxy's address in metadata. */
export async function brokerBehindProxy(
  config: Record<string, string> = {},
): Promise<{ broker: Broker; proxy: ChaosProxy }> {
  const proxy = await ChaosProxy.start();
  const broker = await testBroker({ ...config, 'advertised.listeners': `PLAINTEXT://${proxy.bootstrap}` });
  proxy.target = brokerAddress(broker);
  return { broker, proxy };
}

export function brokerAddress(b: Broker): { host: string; port: number } {
  const [host, port] = b.bootstrap.split(':');
  return { host, port: Number(port) };
}

/** Splits a byte stream into size-prefixed frames (prefix removed). */
class Frames {
  private buf = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    while (this.buf.length >= 4) {
      const n = this.buf.readInt32BE(0);
      if (this.buf.length < 4 + n) break;
      out.push(this.buf.subarray(4, 4 + n));
      this.buf = this.buf.subarray(4 + n);
    }
    return out;
  }
}

/**
 * A proxy that removes some API keys from the broker's ApiVersions answers, to test a client
 * against a broker that lacks them (as Samsa's broker lacked InitProducerId). The broker must
 * advertise the proxy's address, so it is started by the proxy.
 */
export class ApiHidingProxy {
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  /** Where connections go (the broker, once started with advertised.listeners = the proxy). */
  target = { host: '127.0.0.1', port: 0 };

  /** Starts the proxy and a broker behind it. */
  static async withBroker(
    hidden: number[],
    config: Record<string, string> = {},
  ): Promise<{ proxy: ApiHidingProxy; broker: Broker }> {
    const proxy = await ApiHidingProxy.start(hidden);
    const broker = await testBroker({ ...config, 'advertised.listeners': `PLAINTEXT://${proxy.bootstrap}` });
    proxy.target = brokerAddress(broker);
    return { proxy, broker };
  }

  static async start(hidden: number[]): Promise<ApiHidingProxy> {
    const { ApiVersionsResponse } = await import(
      '../../src/protocol/generated/messages/ApiVersionsResponse.js'
    );
    const { encodeResponse } = await import('../../src/protocol/frame.js');
    const server = createServer();
    const proxy = new ApiHidingProxy(server);
    server.on('connection', (client) => {
      const upstream = netConnect(proxy.target.port, proxy.target.host);
      proxy.sockets.add(client);
      proxy.sockets.add(upstream);
      const apiVersionsRequests = new Map<number, number>();
      const up = new Frames();
      const down = new Frames();
      client.on('data', (d: Buffer) => {
        for (const f of up.push(d)) {
          if (f.readInt16BE(0) === 18) apiVersionsRequests.set(f.readInt32BE(4), f.readInt16BE(2));
          const size = Buffer.alloc(4);
          size.writeInt32BE(f.length);
          upstream.write(Buffer.concat([size, f]));
        }
      });
      upstream.on('data', (d: Buffer) => {
        for (const f of down.push(d)) {
          const correlationId = f.readInt32BE(0);
          const version = apiVersionsRequests.get(correlationId);
          if (version !== undefined) {
            apiVersionsRequests.delete(correlationId);
            const resp = ApiVersionsResponse.decode(f.subarray(4), version);
            resp.apiKeys = resp.apiKeys.filter((k) => !hidden.includes(k.apiKey));
            for (const c of encodeResponse(18, version, correlationId, ApiVersionsResponse, resp))
              client.write(c);
            continue;
          }
          const size = Buffer.alloc(4);
          size.writeInt32BE(f.length);
          client.write(Buffer.concat([size, f]));
        }
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      for (const s of [client, upstream]) {
        s.on('error', close);
        s.on('close', close);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return proxy;
  }

  get bootstrap(): string {
    const a = this.server.address();
    return `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
