// Broker: wires configuration, storage and the network layer together, and owns start and stop.
// `startBroker()` is the in-process entry point for tests and embedding; `samsa start` calls it.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Logger, pino } from 'pino';
import { ApiRegistry } from './api-handler.js';
import { BrokerConfig, parseListener } from './config.js';
import { apiVersionsHandler } from './handlers/18-api-versions.js';
import { SocketServer } from './network/socket-server.js';
import type { BrokerServices } from './services.js';

export interface StartBrokerOptions {
  /** Config values by Kafka name (listeners, log.dirs, ...), as a server.properties would give. */
  config?: Record<string, string> | BrokerConfig;
  logger?: Logger;
}

/** A Kafka-style cluster id: 16 random bytes in base64url, 22 characters. */
function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Reads or creates meta.properties in the first log dir (Kafka's KRaft v1 format), which pins the
 * cluster id and node id of the data directory across restarts.
 */
function loadMetaProperties(dir: string, nodeId: number): { clusterId: string } {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'meta.properties');
  if (existsSync(path)) {
    const props = new Map(
      readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.includes('=') && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()] as const),
    );
    const clusterId = props.get('cluster.id');
    if (!clusterId) throw new Error(`${path} has no cluster.id`);
    if (props.get('node.id') !== String(nodeId)) {
      throw new Error(`${path} belongs to node ${props.get('node.id')}, but node.id is ${nodeId}`);
    }
    return { clusterId };
  }
  const clusterId = newClusterId();
  const text = `#\n#${new Date().toString()}\nversion=1\ncluster.id=${clusterId}\nnode.id=${nodeId}\ndirectory.id=${newClusterId()}\n`;
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
  return { clusterId };
}

export class Broker {
  private constructor(
    readonly config: BrokerConfig,
    readonly services: BrokerServices,
    private readonly server: SocketServer<BrokerServices>,
    readonly host: string,
    readonly port: number,
    readonly log: Logger,
  ) {}

  /** "host:port" for clients' bootstrap.servers. */
  get bootstrap(): string {
    return `${this.host}:${this.port}`;
  }

  static async start(options: StartBrokerOptions = {}): Promise<Broker> {
    const startedAt = performance.now();
    const config =
      options.config instanceof BrokerConfig ? options.config : new BrokerConfig(options.config ?? {});
    const log = options.logger ?? pino({ name: 'samsa', level: process.env.SAMSA_LOG_LEVEL ?? 'info' });
    const nodeId = config.int('node.id');
    const dataDir = resolve(config.list('log.dirs')[0] ?? './samsa-data');
    const { clusterId } = loadMetaProperties(dataDir, nodeId);
    const registry = new ApiRegistry<BrokerServices>();
    registry.register(apiVersionsHandler);
    const services: BrokerServices = { config, registry, nodeId, clusterId };
    const listener = parseListener(config.list('listeners')[0] ?? 'PLAINTEXT://127.0.0.1:9092');
    const server = new SocketServer(
      registry,
      services,
      {
        maxRequestBytes: config.int('socket.request.max.bytes'),
        maxInFlight: config.int('queued.max.requests'),
        idleTimeoutMs: config.int('connections.max.idle.ms'),
      },
      log,
    );
    const host = listener.host === '' ? '0.0.0.0' : listener.host;
    const port = await server.listen(host, listener.port);
    const broker = new Broker(
      config,
      services,
      server,
      listener.host === '' ? '127.0.0.1' : listener.host,
      port,
      log,
    );
    log.info(
      {
        listener: `${listener.name}://${host}:${port}`,
        clusterId,
        nodeId,
        dataDir,
        startMs: Math.round(performance.now() - startedAt),
      },
      `Samsa broker listening on ${host}:${port}`,
    );
    return broker;
  }

  async stop(): Promise<void> {
    await this.server.close();
    this.log.info('Samsa broker stopped');
  }
}

export function startBroker(options?: StartBrokerOptions): Promise<Broker> {
  return Broker.start(options);
}
