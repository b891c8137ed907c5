// The broker's HTTP listener (http.listeners): /metrics, /health/live and /health/ready, on the
// HttpServer that the web console and its JSON API mount / and /api/ on (src/http/server.ts).
//
// It binds early in start, so that /health/ready answers 503 while the metadata log is replayed
// and the logs recover, then 200 once the broker serves requests, and 503 again from the moment
// stop() begins. A clash on the default port (http.listeners not set, another broker or program
// on 9644) is a warning and the broker runs without the listener; a port set explicitly that is
// taken is an error, as for the Kafka listener.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { ConfigError } from '../config/errors.js';
import { getOnly, HttpServer, parseHttpListener, send } from '../http/server.js';
import type { Logger } from '../logging/logger.js';
import type { BrokerConfig } from './config.js';
import type { BrokerMetrics } from './metrics.js';
import type { BrokerServices } from './services.js';

/** Where the broker is in its life, as /health/ready reports it. */
export type BrokerPhase = 'starting' | 'serving' | 'stopping';

export interface BrokerHttp {
  readonly server: HttpServer;
  /** The counters the request path bumps, read by /metrics. */
  readonly metrics: BrokerMetrics;
  /** "http://host:port" as bound (the real port of a port-0 listener). */
  readonly address: string;
  phase: BrokerPhase;
  close(): Promise<void>;
}

export interface StartHttpOptions {
  config: BrokerConfig;
  log: Logger;
  metrics: BrokerMetrics;
  /** The services as start has assembled them so far. */
  services: Partial<BrokerServices>;
}

/**
 * Binds the HTTP listener and mounts the broker's endpoints; null when none is configured or the
 * default port is taken (logged).
 */
export async function startBrokerHttp(opts: StartHttpOptions): Promise<BrokerHttp | null> {
  const { config, log, metrics, services } = opts;
  const entry = config.list('http.listeners').find((s) => s.trim() !== '');
  if (entry === undefined) return null;
  let listener: ReturnType<typeof parseHttpListener>;
  try {
    listener = parseHttpListener(entry);
  } catch (err) {
    throw new ConfigError(`http.listeners: ${(err as Error).message}`);
  }
  const server = new HttpServer(log);
  const http: BrokerHttp = {
    server,
    metrics,
    address: '',
    phase: 'starting',
    close: () => server.close(),
  };
  server.mount(
    '/health/live',
    getOnly((req, res) => send(req, res, 200, { status: 'live' })),
  );
  server.mount(
    '/health/ready',
    getOnly((req, res) => {
      // Serving means the metadata log was replayed (a single node is its own quorum: caught up
      // once replayed), the logs recovered and every API registered.
      const ready = http.phase === 'serving';
      send(req, res, ready ? 200 : 503, { status: ready ? 'ready' : http.phase });
    }),
  );
  let registry: Promise<Registry> | null = null;
  server.mount(
    '/metrics',
    getOnly(async (req: IncomingMessage, res: ServerResponse) => {
      registry ??= import('./prometheus.js').then((m) => m.createBrokerRegistry({ metrics, services }));
      const r = await registry;
      send(req, res, 200, await r.metrics(), r.contentType);
    }),
  );
  const host = listener.host === '' ? '0.0.0.0' : listener.host;
  let port: number;
  try {
    port = await server.listen(host, listener.port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' && !config.isSet('http.listeners')) {
      log.warn(
        { httpListener: entry },
        `HTTP port ${listener.port} is in use: running without the HTTP listener (/metrics, /health); set http.listeners to choose another`,
      );
      return null;
    }
    throw new ConfigError(`http.listeners: cannot listen on ${entry}: ${(err as Error).message}`);
  }
  (http as { address: string }).address = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return http;
}
