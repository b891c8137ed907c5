// HttpServer: the broker's one HTTP listener (http.listeners), on node:http. It routes by path to
// handlers mounted on it: the broker mounts /metrics and /health/*; the web console and its JSON
// API mount / and /api/ the same way. A mount is an exact path or, ending in "/", a prefix; the
// longest match wins.
//
// What a client sends cannot hurt the broker: a request node's parser refuses (bad syntax, headers
// over 16 KiB) gets 400 and a closed socket, a handler that throws or rejects answers 500 (logged)
// and never reaches the process, and slow clients are cut off (headers within 10 s, the whole
// request within 30 s).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logging/logger.js';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** An http.listeners entry parsed: "http://host:port" (an empty host binds every interface). */
export interface HttpListener {
  host: string;
  port: number;
}

/** Parses one http.listeners entry; throws for anything but http://host:port. */
export function parseHttpListener(s: string): HttpListener {
  const m = /^http:\/\/(\[[^\]]*\]|[^:/]*):(\d{1,5})\/?$/.exec(s.trim());
  if (!m || Number(m[2]) > 65535) throw new Error(`http listener "${s}" is not http://host:port`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** Answers with a body of text (or JSON when `body` is an object). HEAD gets the headers only. */
export function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: string | object,
  contentType?: string,
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type =
    contentType ??
    (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8');
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(req.method === 'HEAD' ? undefined : text);
}

/** A handler for GET (and HEAD) only: other methods get 405, as a read-only endpoint should. */
export function getOnly(handler: HttpHandler): HttpHandler {
  return (req, res) => {
    if (req.method === 'GET' || req.method === 'HEAD') return handler(req, res);
    res.setHeader('allow', 'GET, HEAD');
    send(req, res, 405, 'method not allowed\n');
  };
}

interface Mount {
  path: string;
  prefix: boolean;
  handler: HttpHandler;
}

export class HttpServer {
  private server: Server | null = null;
  private readonly mounts: Mount[] = [];

  constructor(private readonly log: Logger) {}

  /** Serves `path` (exactly; or every path under it when it ends in "/") with `handler`. */
  mount(path: string, handler: HttpHandler): void {
    if (!path.startsWith('/')) throw new Error(`mount path ${path} must start with /`);
    if (this.mounts.some((m) => m.path === path)) throw new Error(`${path} is mounted already`);
    this.mounts.push({ path, prefix: path.endsWith('/'), handler });
    // Longest first, so that /api/ wins over / for /api/topics.
    this.mounts.sort((a, b) => b.path.length - a.path.length);
  }

  /** Listens on host:port (port 0 picks one); resolves to the bound port, rejects on EADDRINUSE. */
  async listen(host: string, port: number): Promise<number> {
    const server = createServer({ maxHeaderSize: 16384 }, (req, res) => this.route(req, res));
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      // A request the parser refused: 400 when the socket can still take it, then close.
      if (err.code !== 'ECONNRESET' && socket.writable && !socket.writableEnded) {
        socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      }
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host === '' ? undefined : host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Errors after the bind (none expected: sockets' errors go to clientError) are logged only.
    server.on('error', (err) => this.log.warn({ err }, 'HTTP listener error'));
    this.server = server;
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const mount = this.mounts.find((m) => (m.prefix ? path.startsWith(m.path) : path === m.path));
    if (!mount) {
      send(req, res, 404, 'not found\n');
      return;
    }
    const failed = (err: unknown) => {
      this.log.error({ err, path }, 'HTTP handler failed');
      if (!res.headersSent) send(req, res, 500, 'internal error\n');
      else res.destroy();
    };
    try {
      const r = mount.handler(req, res);
      if (r instanceof Promise) r.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  /** Stops listening and closes every connection, idle or not. */
  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
