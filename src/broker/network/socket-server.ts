// SocketServer: accepts TCP connections on one listener and hands each to a Connection.
// It owns the set of open connections so that shutdown can close them all.

import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../logging/logger.js';
import type { ApiRegistry } from '../api-handler.js';
import { ClosedConnectionLog } from './closed-connection-log.js';
import { Connection, type ConnectionOptions } from './connection.js';

export class SocketServer<Services> {
  private server: Server | null = null;
  private readonly connections = new Set<Connection<Services>>();
  private nextId = 1;
  /** Sockets accepted before open(): held paused, since the broker is still starting. */
  private held: Socket[] | null = [];
  /** Connections closed for what their client sent, logged at info, rate limited per host. */
  private readonly closedLog: ClosedConnectionLog;

  constructor(
    private readonly registry: ApiRegistry<Services>,
    private readonly services: Services,
    private readonly options: ConnectionOptions,
    private readonly log: Logger,
  ) {
    this.closedLog = new ClosedConnectionLog(log, options.closedConnectionLogIntervalMs, options.time);
    if (options.metrics) options.metrics.network.connectionCount = () => this.connections.size;
  }

  /** Listens on host:port (port 0 picks a free one); resolves to the bound port. */
  listen(host: string, port: number): Promise<number> {
    // Bound before the broker is ready (its registration needs the port a port-0 listener got);
    // connections arriving early wait, paused, until open().
    const server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => {
      if (this.held) this.held.push(socket);
      else this.accept(socket);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  /** Starts serving requests, including on connections that arrived while starting. */
  open(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const socket of held) if (!socket.destroyed) this.accept(socket);
  }

  private accept(socket: Socket): void {
    const c = new Connection(
      this.nextId++,
      socket,
      this.registry,
      this.services,
      this.options,
      this.log,
      (closed) => {
        if (this.connections.delete(closed) && this.options.metrics)
          this.options.metrics.network.connectionsClosed++;
      },
      this.closedLog,
    );
    this.connections.add(c);
    this.log.debug(
      { client: `${socket.remoteAddress}:${socket.remotePort}`, connectionId: c.id },
      'connection opened',
    );
    if (this.options.metrics) this.options.metrics.network.connectionsAccepted++;
    socket.resume();
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops accepting, closes every connection, and resolves once the listener is closed. */
  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const c of [...this.connections]) c.close();
    for (const socket of this.held ?? []) socket.destroy();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
