// SocketServer: accepts TCP connections on one listener and hands each to a Connection.
// It owns the set of open connections so that shutdown can close them all. On an SSL listener
// each socket first completes a TLS handshake (bounded by connections.max.idle.ms); one that
// fails (a plaintext client, garbage, no certificate where one is required) is closed and
// logged in the closed-connection log, and never becomes a Connection.

import { createServer, type Server, type Socket } from 'node:net';
import { type TLSSocket, Server as TlsServer } from 'node:tls';
import type { Logger } from '../../logging/logger.js';
import type { ApiRegistry } from '../api-handler.js';
import { ClosedConnectionLog } from './closed-connection-log.js';
import { Connection, type ConnectionOptions } from './connection.js';
import { ANONYMOUS_PRINCIPAL, type SslListenerSettings, sslPrincipal } from './ssl.js';

/** The listener a SocketServer serves. */
export interface ListenerInfo {
  /** The listener name as configured (PLAINTEXT, SSL, CLIENT, ...). */
  readonly name: string;
  readonly securityProtocol: string;
  /** Set for an SSL listener. */
  readonly ssl?: SslListenerSettings;
}

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
    readonly listener: ListenerInfo = { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT' },
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
    if (this.listener.ssl) this.handshake(socket, this.listener.ssl);
    else this.serve(socket, ANONYMOUS_PRINCIPAL);
  }

  /** Raw sockets in their TLS handshake, closed with the listener. */
  private readonly handshaking = new Set<Socket>();
  /**
   * The TLS side of an SSL listener: a tls.Server that never listens itself, handed each raw
   * socket once serving starts (so held sockets keep working as on PLAINTEXT). Its handshake
   * checks the client certificate (requestCert / rejectUnauthorized), which a bare TLSSocket
   * does not.
   */
  private tlsServer: TlsServer | null = null;

  private handshake(raw: Socket, ssl: SslListenerSettings): void {
    if (!this.tlsServer) this.tlsServer = this.newTlsServer(ssl);
    this.handshaking.add(raw);
    raw.once('close', () => this.handshaking.delete(raw));
    this.tlsServer.emit('connection', raw);
    raw.resume();
  }

  private newTlsServer(ssl: SslListenerSettings): TlsServer {
    const idle = this.options.idleTimeoutMs;
    const server = new TlsServer({
      ...ssl.contextOptions,
      requestCert: ssl.clientAuth !== 'none',
      // "requested": a client may come without a certificate, but one it presents must verify
      // (checked on 'secureConnection', as Java's wantClientAuth does).
      rejectUnauthorized: ssl.clientAuth === 'required',
      // A client that opens a connection and never completes the handshake holds nothing past
      // connections.max.idle.ms.
      ...(idle > 0 ? { handshakeTimeout: idle } : {}),
    });
    const fail = (socket: Socket, reason: string) => {
      // A socket the client already closed no longer knows its address.
      const host = socket.remoteAddress ?? 'unknown';
      const client = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'unknown';
      this.closedLog.record({ host, client, reason });
      this.log.debug({ client, reason }, 'connection closed');
      socket.destroy();
    };
    server.on('tlsClientError', (err: Error, tls: TLSSocket) =>
      fail(tls, `TLS handshake failed: ${err.message.trim()}`),
    );
    server.on('secureConnection', (tls: TLSSocket) => {
      if (ssl.clientAuth === 'requested' && !tls.authorized && tls.getPeerX509Certificate()) {
        fail(tls, `TLS handshake failed: client certificate not trusted (${tls.authorizationError})`);
        return;
      }
      const principal = sslPrincipal(tls, ssl.principalMapper);
      if (principal === null) {
        fail(tls, 'no ssl.principal.mapping.rules rule applies to the client certificate');
        return;
      }
      this.serve(tls, principal);
    });
    return server;
  }

  private serve(socket: Socket, principal: string): void {
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
      { listenerName: this.listener.name, securityProtocol: this.listener.securityProtocol, principal },
    );
    this.connections.add(c);
    this.log.debug(
      {
        client: `${socket.remoteAddress}:${socket.remotePort}`,
        connectionId: c.id,
        listener: this.listener.name,
        principal,
      },
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
    for (const socket of this.handshaking) socket.destroy();
    this.handshaking.clear();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
