// One TCP connection to one broker (Kafka's KafkaChannel + the per-node part of NetworkClient).
//
// Owns: the socket, correlation ids, the requests in flight, their timeouts, and the API versions
// negotiated with ApiVersions right after connecting. Requests are pipelined: each gets the next
// correlation id and is written at once; a broker answers in request order, and the answer is
// matched by its id. A request that times out closes the connection (later answers on it can no
// longer be trusted to line up, which is why Kafka's NetworkClient disconnects too); every other
// request in flight then fails with KafkaConnectionError, which callers treat as retriable.
// A connection is used once: after it closes, the cluster opens a new one (see cluster.ts).

import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions as TlsConnectionOptions, connect as tlsConnect } from 'node:tls';
import { ErrorCode } from '../protocol/errors.js';
import { decodeResponseHeader, encodeRequest } from '../protocol/frame.js';
import { ApiKey } from '../protocol/generated/api-keys.js';
import { ApiVersionsRequest } from '../protocol/generated/messages/ApiVersionsRequest.js';
import { ApiVersionsResponse } from '../protocol/generated/messages/ApiVersionsResponse.js';
import type { Api } from './apis.js';
import { abortReason, KafkaConnectionError, KafkaError, KafkaTimeoutError } from './errors.js';
import type { Logger } from './logger.js';

/** What the client was built to speak, per API: the codec's range without an unstable latest. */
export function clientVersionRange(api: Api<unknown, unknown>): { min: number; max: number } {
  const v = api.request.validVersions;
  return { min: v.min, max: api.request.latestVersionUnstable ? v.max - 1 : v.max };
}

/** node:tls connect options for an SSL connection (host and port come from the broker). */
export type SslOptions = Omit<TlsConnectionOptions, 'host' | 'port' | 'socket' | 'path'>;

export interface ConnectionOptions {
  /** TLS (security.protocol=SSL): true for the defaults, or node:tls options. */
  ssl?: boolean | SslOptions;
  host: string;
  port: number;
  /** The broker's node id, or -1 for a bootstrap address (used in messages only). */
  nodeId: number;
  clientId: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** Largest response frame accepted (guards against a corrupt size prefix). */
  maxResponseBytes?: number;
  logger: Logger;
  signal?: AbortSignal;
  softwareName?: string;
  softwareVersion?: string;
}

export interface RequestOptions {
  /** Overrides request.timeout.ms (long-polling fetches add their max wait). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Produce with acks=0: the broker sends no answer; resolves once written. */
  noResponse?: boolean;
  /** Caps the version (e.g. to keep a field that later versions dropped). */
  maxVersion?: number;
}

interface Pending {
  apiKey: number;
  version: number;
  decode: (body: Buffer) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
  /** Set when the caller aborted: the answer is read and dropped. */
  abandoned: boolean;
  cleanup?: () => void;
}

/** Reassembles size-prefixed frames from the byte stream. */
class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) return;
        const size = this.take(4).readInt32BE(0);
        if (size < 0 || size > this.maxBytes) throw new Error(`response size ${size} out of range`);
        this.need = size;
      }
      if (this.buffered < this.need) return;
      const frame = this.take(this.need);
      this.need = -1;
      onFrame(frame);
    }
  }

  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

export class BrokerConnection {
  readonly address: string;
  /** The broker's version range per API key, from ApiVersions. */
  private brokerVersions = new Map<number, { min: number; max: number }>();
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 0;
  private closedError: Error | null = null;
  private readonly closeListeners: ((err: Error) => void)[] = [];
  private readonly reader: FrameReader;

  private constructor(
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.address = `${options.host}:${options.port}`;
    this.reader = new FrameReader(options.maxResponseBytes ?? 0x7fffffff);
    socket.setNoDelay(true);
    // An idle connection never keeps the process alive: a script that is done with its clients (a
    // consumer loop broken out of, a client never closed) exits. Work in progress still does:
    // every request waiting for its response holds its timeout timer, and pending writes count.
    socket.unref();
    socket.on('data', (chunk: Buffer) => {
      try {
        this.reader.push(chunk, (f) => this.onFrame(f));
      } catch (err) {
        this.destroy(new KafkaConnectionError(this.address, `bad response: ${(err as Error).message}`));
      }
    });
    socket.on('error', (err) =>
      this.destroy(new KafkaConnectionError(this.address, err.message, { cause: err })),
    );
    socket.on('close', () => this.destroy(new KafkaConnectionError(this.address, 'connection closed')));
  }

  /** Opens the socket and negotiates API versions; rejects with KafkaConnectionError on failure. */
  static async connect(options: ConnectionOptions): Promise<BrokerConnection> {
    const address = `${options.host}:${options.port}`;
    const socket = await new Promise<Socket>((resolve, reject) => {
      if (options.signal?.aborted) return reject(abortReason(options.signal));
      const ssl = options.ssl;
      // SNI carries a host name only, never an IP address (RFC 6066); the certificate is still
      // checked against the address (its IP SANs).
      const s = ssl
        ? tlsConnect({
            host: options.host,
            port: options.port,
            ...(isIP(options.host) === 0 ? { servername: options.host } : {}),
            ...(ssl === true ? {} : ssl),
          })
        : netConnect({ host: options.host, port: options.port });
      const fail = (err: unknown) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        s.destroy();
        reject(err);
      };
      const onAbort = () => fail(abortReason(options.signal as AbortSignal));
      const timer = setTimeout(
        () =>
          fail(new KafkaConnectionError(address, `connect timed out after ${options.connectTimeoutMs} ms`)),
        options.connectTimeoutMs,
      );
      options.signal?.addEventListener('abort', onAbort, { once: true });
      s.once('error', (err) => fail(new KafkaConnectionError(address, err.message, { cause: err })));
      // On TLS the connection is usable once the handshake is done (and the broker's certificate
      // verified); a failed handshake is an 'error' like a refused connection.
      s.once(ssl ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        s.removeAllListeners('error');
        resolve(s);
      });
    });
    const conn = new BrokerConnection(socket, options);
    try {
      await conn.negotiateVersions();
    } catch (err) {
      conn.destroy(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    return conn;
  }

  get nodeId(): number {
    return this.options.nodeId;
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  onClose(listener: (err: Error) => void): void {
    if (this.closedError) listener(this.closedError);
    else this.closeListeners.push(listener);
  }

  /** Whether the broker serves this API at a version the client speaks. */
  supports(api: Api<unknown, unknown>): boolean {
    return this.negotiated(api) >= 0;
  }

  /** The version a request for this API will use: the highest both sides speak. Throws if none. */
  version(api: Api<unknown, unknown>, maxVersion?: number): number {
    const v = this.negotiated(api, maxVersion);
    if (v < 0) {
      throw new KafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `${this.address} does not support ${api.name} at any version this client speaks`,
      );
    }
    return v;
  }

  private negotiated(api: Api<unknown, unknown>, maxVersion?: number): number {
    const broker = this.brokerVersions.get(api.apiKey);
    if (!broker) return -1;
    const mine = clientVersionRange(api);
    const max = Math.min(broker.max, mine.max, maxVersion ?? Number.MAX_SAFE_INTEGER);
    return max >= Math.max(broker.min, mine.min) ? max : -1;
  }

  /**
   * Sends one request and resolves to the decoded response. `body` may be a function of the version
   * chosen, for requests whose shape differs between versions.
   */
  send<Req, Resp>(
    api: Api<Req, Resp>,
    body: Req | ((version: number) => Req),
    opts: RequestOptions = {},
  ): Promise<Resp> {
    let version: number;
    try {
      version = this.version(api as Api<unknown, unknown>, opts.maxVersion);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.sendAt(api, version, body, opts);
  }

  private sendAt<Req, Resp>(
    api: Api<Req, Resp>,
    version: number,
    body: Req | ((version: number) => Req),
    opts: RequestOptions,
  ): Promise<Resp> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (opts.signal?.aborted) return Promise.reject(abortReason(opts.signal));
    const msg = typeof body === 'function' ? (body as (v: number) => Req)(version) : body;
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff;
    let chunks: Buffer[];
    try {
      chunks = encodeRequest(
        { apiKey: api.apiKey, apiVersion: version, correlationId, clientId: this.options.clientId },
        api.request,
        msg,
      );
    } catch (err) {
      return Promise.reject(err);
    }
    if (opts.noResponse) {
      return new Promise<Resp>((resolve, reject) => {
        this.write(chunks, (err) => (err ? reject(this.writeFailed(err)) : resolve(undefined as Resp)));
      });
    }
    return new Promise<Resp>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? this.options.requestTimeoutMs;
      const p: Pending = {
        apiKey: api.apiKey,
        version,
        decode: (b) => api.response.decode(b, version),
        resolve: resolve as (v: unknown) => void,
        reject,
        abandoned: false,
        timer: setTimeout(() => {
          const err = new KafkaTimeoutError(
            `${api.name} to ${this.address} got no response within ${timeoutMs} ms`,
          );
          this.pending.delete(correlationId);
          p.cleanup?.();
          reject(err);
          // The answer may still come; responses after it would then be misread, so start over.
          this.destroy(
            new KafkaConnectionError(this.address, `closed after a ${api.name} request timed out`),
          );
        }, timeoutMs),
      };
      if (opts.signal) {
        const signal = opts.signal;
        const onAbort = () => {
          // Keep the slot so that the answer is consumed in order, but let the caller go.
          p.abandoned = true;
          p.reject(abortReason(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        p.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.pending.set(correlationId, p);
      this.write(chunks, (err) => {
        if (err) this.destroy(this.writeFailed(err));
      });
    });
  }

  /** A failed write means a broken connection: retriable, like any other disconnection. */
  private writeFailed(err: Error): KafkaConnectionError {
    const e = new KafkaConnectionError(this.address, `write failed: ${err.message}`, { cause: err });
    this.destroy(e);
    return e;
  }

  private write(chunks: Buffer[], done: (err?: Error) => void): void {
    if (chunks.length === 1) {
      this.socket.write(chunks[0], (err) => done(err ?? undefined));
      return;
    }
    this.socket.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.socket.write(chunks[i]);
    this.socket.write(chunks[chunks.length - 1], (err) => done(err ?? undefined));
    this.socket.uncork();
  }

  private onFrame(frame: Buffer): void {
    if (frame.length < 4) throw new Error('response shorter than its header');
    const correlationId = frame.readInt32BE(0);
    const p = this.pending.get(correlationId);
    if (!p) throw new Error(`response with unknown correlation id ${correlationId}`);
    this.pending.delete(correlationId);
    clearTimeout(p.timer);
    p.cleanup?.();
    if (p.abandoned) return;
    try {
      const { body } = decodeResponseHeader(frame, p.apiKey, p.version);
      p.resolve(p.decode(body));
    } catch (err) {
      p.reject(err);
    }
  }

  /**
   * ApiVersions, as Kafka's clients do it: ask at the newest version; a broker that does not speak
   * it answers at v0 with UNSUPPORTED_VERSION and its own range for ApiVersions, and we ask again.
   */
  private async negotiateVersions(): Promise<void> {
    const api = {
      apiKey: ApiKey.ApiVersions,
      name: 'ApiVersions',
      request: ApiVersionsRequest,
      response: {
        ...ApiVersionsResponse,
        // An UNSUPPORTED_VERSION answer is always in v0 form, whatever version was asked.
        decode(buf: Buffer, version: number) {
          try {
            const r = ApiVersionsResponse.decode(buf, version);
            if (r.errorCode !== ErrorCode.UNSUPPORTED_VERSION || version === 0) return r;
          } catch {}
          return ApiVersionsResponse.decode(buf, 0);
        },
      },
    } as Api<ApiVersionsRequest, ApiVersionsResponse>;
    let version = clientVersionRange(api as Api<unknown, unknown>).max;
    for (let attempt = 0; attempt < 3; attempt++) {
      const resp = await this.sendAt(
        api,
        version,
        {
          clientSoftwareName: this.options.softwareName ?? 'samsa-client',
          clientSoftwareVersion: this.options.softwareVersion ?? '0.1.0',
        },
        {},
      );
      if (resp.errorCode === ErrorCode.NONE) {
        for (const k of resp.apiKeys)
          this.brokerVersions.set(k.apiKey, { min: k.minVersion, max: k.maxVersion });
        return;
      }
      if (resp.errorCode !== ErrorCode.UNSUPPORTED_VERSION) throw new KafkaError(resp.errorCode);
      const theirs = resp.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions);
      const next = theirs ? Math.min(theirs.maxVersion, version - 1) : 0;
      if (next < 0 || next === version) break;
      version = next;
    }
    throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, `${this.address}: no common ApiVersions version`);
  }

  /** Closes the connection; requests in flight fail with `err` (a KafkaConnectionError by default). */
  destroy(err: Error = new KafkaConnectionError(this.address, 'connection closed by the client')): void {
    if (this.closedError) return;
    this.closedError = err;
    this.socket.destroy();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.cleanup?.();
      if (!p.abandoned) p.reject(err);
    }
    for (const l of this.closeListeners.splice(0)) l(err);
  }
}
