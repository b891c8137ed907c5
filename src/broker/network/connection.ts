// One client connection: frames in, handlers called in arrival order, responses out in request
// order (clients pipeline many requests on one connection and match answers by position).
//
// What closes the connection, as in Kafka: a size prefix outside 0..socket.request.max.bytes, a
// header or body that does not decode, an unknown API key, an unsupported version of any API
// but ApiVersions (which gets a v0 answer with UNSUPPORTED_VERSION and the versions we serve),
// and a handler that throws. None of these reaches the rest of the broker. Closes caused by what
// the client sent (all of these but a handler's failure, logged as an error) and a refused acks=0
// produce are logged once at info, rate limited per client host (closed-connection-log.ts).
//
// Backpressure: a request is dispatched only while fewer than maxInFlight are unanswered and the
// socket has no unsent bytes past its high-water mark; other frames wait in a backlog and reading
// pauses meanwhile. A client that sends faster than it reads is slowed, and the responses the
// broker holds for one connection are bounded by maxInFlight, whatever the client pipelines.

import type { Socket } from 'node:net';
import type { Logger } from '../../logging/logger.js';
import { decodeRequestHeader, encodeResponse } from '../../protocol/frame.js';
import { ApiKey } from '../../protocol/generated/api-keys.js';
import { ApiVersionsResponse } from '../../protocol/generated/messages/ApiVersionsResponse.js';
import { fitToVersion, type MessageCodec } from '../../protocol/message.js';
import { Reader } from '../../protocol/primitives/reader.js';
import { EncodeError } from '../../protocol/primitives/writer.js';
import { type Cancel, type NodeTime, SYSTEM_TIME } from '../../util/clock.js';
import { type ApiRegistry, CloseConnection, NO_RESPONSE, type RequestContext } from '../api-handler.js';
import type { ConnectionMetrics, RequestTiming } from '../metrics.js';
import type { ClosedConnection, ClosedConnectionLog } from './closed-connection-log.js';
import { FrameSplitter } from './frame-splitter.js';

const UNSUPPORTED_VERSION = 35;
const EMPTY = Buffer.alloc(0);

export interface ConnectionOptions {
  maxRequestBytes: number;
  maxInFlight: number;
  idleTimeoutMs: number;
  /** The closed-connection log's rate limit: one line per client host per this many ms. */
  closedConnectionLogIntervalMs?: number;
  /** The node's clock: connections.max.idle.ms is measured on it. Default: the real one. */
  time?: NodeTime;
  /** Request and byte counters (broker/metrics.ts); absent when the broker keeps no metrics. */
  metrics?: ConnectionMetrics | null;
}

/** Who is on the other end of a connection, and through which listener (Kafka's session). */
export interface ConnectionSession {
  readonly listenerName: string;
  readonly securityProtocol: string;
  /** "User:<name>" from the client certificate on SSL, User:ANONYMOUS otherwise. */
  readonly principal: string;
}

const PLAINTEXT_SESSION: ConnectionSession = {
  listenerName: 'PLAINTEXT',
  securityProtocol: 'PLAINTEXT',
  principal: 'User:ANONYMOUS',
};

interface Slot {
  chunks: Buffer[] | null; // null until the handler answered
  noResponse: boolean;
  /** Set while the broker keeps metrics: the request's timings (broker/metrics.ts). */
  timing: RequestTiming | null;
}

export class Connection<Services> {
  private readonly splitter: FrameSplitter;
  private readonly pending: Slot[] = [];
  /** Frames received but not yet dispatched: held while the connection is at its limits. */
  private readonly backlog: Buffer[] = [];
  /** When each backlog frame was complete (this.monotonicMs()), kept only with metrics. */
  private readonly backlogAt: number[] = [];
  private readonly metrics: ConnectionMetrics | null;
  private dispatching = false;
  /** A handler file is loading (first use of its API): frames wait in the backlog meanwhile. */
  private loadingHandler = false;
  private closed = false;
  private paused = false;
  private readonly address: string;
  /** Whether a trace line goes out per request: checked once, so a quiet broker builds no fields. */
  private readonly traceRequests: boolean;
  private readonly time: NodeTime;
  /** When the connection last read or wrote: connections.max.idle.ms counts from here. */
  private lastActivityMs: number;
  private cancelIdleCheck: Cancel = () => {};

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly registry: ApiRegistry<Services>,
    private readonly services: Services,
    private readonly options: ConnectionOptions,
    private readonly log: Logger,
    private readonly onClose: (c: Connection<Services>) => void,
    private readonly closedLog?: ClosedConnectionLog,
    readonly session: ConnectionSession = PLAINTEXT_SESSION,
  ) {
    this.splitter = new FrameSplitter(options.maxRequestBytes);
    this.address = `${socket.remoteAddress}:${socket.remotePort}`;
    this.traceRequests = log.isLevelEnabled?.('trace') ?? true;
    this.metrics = options.metrics ?? null;
    socket.setNoDelay(true);
    this.time = options.time ?? SYSTEM_TIME;
    this.lastActivityMs = this.time.now();
    // As Kafka's idle expiry: a negative connections.max.idle.ms never expires (0 as Node's 0).
    if (options.idleTimeoutMs > 0) this.armIdleCheck(options.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('closed by the client'));
  }

  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelIdleCheck();
    this.log.debug(
      { client: this.address, connectionId: this.id, reason: reason ?? 'closed by the broker' },
      'connection closed',
    );
    this.socket.destroy();
    this.onClose(this);
  }

  /** The node's monotonic clock in ms, for the request-time metrics. */
  private monotonicMs(): number {
    return Number(this.time.monotonicNs()) / 1e6;
  }

  /** Closes the connection once it has neither read nor written for connections.max.idle.ms. */
  private armIdleCheck(delayMs: number): void {
    this.cancelIdleCheck = this.time.schedule(delayMs, () => {
      if (this.closed) return;
      const idleMs = this.time.now() - this.lastActivityMs;
      if (idleMs >= this.options.idleTimeoutMs) this.close('idle for connections.max.idle.ms');
      else this.armIdleCheck(this.options.idleTimeoutMs - idleMs);
    });
  }

  /**
   * Closes the connection because of what the client sent, saying so in the closed-connection log
   * (with what the request header told, when it decoded).
   */
  private closeForClient(
    reason: string,
    request?: Pick<ClosedConnection, 'clientId' | 'apiKey' | 'apiVersion'>,
  ): void {
    if (this.closed) return;
    this.closedLog?.record({
      host: this.socket.remoteAddress ?? 'unknown',
      client: this.address,
      reason,
      ...request,
    });
    this.close(reason);
  }

  private onData(chunk: Buffer): void {
    this.lastActivityMs = this.time.now();
    const metrics = this.metrics;
    if (metrics) metrics.network.bytesIn += chunk.length;
    try {
      for (const frame of this.splitter.push(chunk)) {
        this.backlog.push(frame);
        if (metrics) this.backlogAt.push(this.monotonicMs());
      }
    } catch (err) {
      this.closeForClient((err as Error).message);
      return;
    }
    this.dispatchBacklog();
  }

  /**
   * Dispatches held frames while the connection has room: fewer than maxInFlight requests
   * unanswered and no unsent response bytes past the socket's high-water mark. So a client that
   * pipelines and never reads makes the broker build at most maxInFlight responses, not one per
   * request it sent.
   */
  private dispatchBacklog(): void {
    // A handler that answers at once calls back into here through flush(); the outer loop goes on.
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      while (this.backlog.length > 0 && !this.closed && !this.loadingHandler && !this.full()) {
        this.dispatch(this.backlog.shift()!, this.metrics ? this.backlogAt.shift()! : 0);
      }
    } finally {
      this.dispatching = false;
    }
    this.maybePause();
  }

  private full(): boolean {
    return this.pending.length >= this.options.maxInFlight || this.socket.writableNeedDrain;
  }

  private dispatch(frame: Buffer, receivedMs: number): void {
    let parsed: ReturnType<typeof decodeRequestHeader>;
    try {
      parsed = decodeRequestHeader(frame);
    } catch (err) {
      // The api key and version are the frame's first four bytes, even when the rest is garbage.
      this.closeForClient(
        `bad request header: ${(err as Error).message}`,
        frame.length >= 4 ? { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2) } : undefined,
      );
      return;
    }
    const { header } = parsed;
    const apiKey = header.requestApiKey;
    const version = header.requestApiVersion;
    const about = { clientId: header.clientId, apiKey, apiVersion: version };
    const served = this.registry.versionRange(apiKey);
    if (!served) {
      this.closeForClient(`unknown api key ${apiKey}`, about);
      return;
    }
    if (version < served.minVersion || version > served.maxVersion) {
      if (apiKey === ApiKey.ApiVersions) this.answerUnsupportedApiVersions(header.correlationId);
      else
        this.closeForClient(
          `unsupported version ${version} (this broker serves ${served.minVersion} to ${served.maxVersion})`,
          about,
        );
      return;
    }
    const handler = this.registry.get(apiKey);
    if (!handler) {
      this.loadHandlerThenDispatch(apiKey, frame, receivedMs);
      return;
    }
    let request: unknown;
    try {
      // Read, not decode: like Kafka's parser, bytes left after a complete request body are
      // ignored (@platformatic/kafka sends one extra byte in Metadata v11, for example).
      request = handler.request.read(new Reader(parsed.body), version);
    } catch (err) {
      this.closeForClient(`undecodable request: ${(err as Error).message}`, about);
      return;
    }
    if (this.traceRequests) {
      this.log.trace(
        {
          client: this.address,
          clientId: header.clientId,
          api: handler.request.name.replace(/Request$/, ''),
          version,
          correlationId: header.correlationId,
        },
        'request',
      );
    }
    const ctx: RequestContext = {
      header,
      apiVersion: version,
      clientId: header.clientId,
      clientAddress: this.address,
      connectionId: this.id,
      listenerName: this.session.listenerName,
      principal: this.session.principal,
    };
    const timing: RequestTiming | null = this.metrics
      ? { apiKey, apiVersion: version, receivedMs, startMs: 0, localDoneMs: 0, readyMs: 0, writtenMs: 0 }
      : null;
    const slot: Slot = { chunks: null, noResponse: false, timing };
    this.pending.push(slot);
    this.metrics?.requests.received(apiKey, version);
    const fail = (err: unknown) => {
      if (err instanceof CloseConnection) {
        this.closeForClient(err.message, about);
        return;
      }
      this.log.error({ err, api: handler.request.name, version, client: this.address }, 'request failed');
      this.close('handler failed');
    };
    // Encoding can fail too (a response field this version cannot carry): that closes this
    // connection like a handler error, and never escapes as an unhandled rejection.
    const answer = (response: unknown) => {
      if (timing) {
        timing.readyMs = this.monotonicMs();
        if (timing.localDoneMs === 0) timing.localDoneMs = timing.readyMs;
        this.metrics?.requests.answered(apiKey, response);
      }
      try {
        if (response === NO_RESPONSE) slot.noResponse = true;
        else slot.chunks = this.encode(apiKey, version, header.correlationId, handler.response, response);
      } catch (err) {
        fail(err);
        return;
      }
      this.scheduleFlush();
    };
    try {
      if (timing) timing.startMs = this.monotonicMs();
      const result = handler.handle(request, ctx, this.services);
      if (timing) timing.localDoneMs = this.monotonicMs();
      if (result instanceof Promise) result.then(answer, fail);
      else answer(result);
    } catch (err) {
      fail(err);
    }
  }

  /**
   * First request for an API: its handler file loads, and this frame and every later one wait in
   * the backlog until it has, so that requests still start in arrival order.
   */
  private loadHandlerThenDispatch(apiKey: number, frame: Buffer, receivedMs: number): void {
    this.loadingHandler = true;
    this.backlog.unshift(frame);
    if (this.metrics) this.backlogAt.unshift(receivedMs);
    this.maybePause();
    this.registry.load(apiKey).then(
      () => {
        this.loadingHandler = false;
        this.dispatchBacklog();
      },
      (err: unknown) => {
        this.log.error({ err, apiKey }, 'loading the request handler failed');
        this.close('handler failed');
      },
    );
  }

  /**
   * Encodes a response; one built with fields its version lacks (handlers build for the newest
   * version) is trimmed to that version and encoded again.
   */
  private encode<T>(
    apiKey: number,
    version: number,
    correlationId: number,
    codec: MessageCodec<T>,
    body: T,
  ): Buffer[] {
    try {
      return encodeResponse(apiKey, version, correlationId, codec, body);
    } catch (err) {
      if (!(err instanceof EncodeError)) throw err;
      return encodeResponse(apiKey, version, correlationId, codec, fitToVersion(codec, body, version));
    }
  }

  /** Kafka answers a too-new ApiVersions with v0 and UNSUPPORTED_VERSION, listing what it serves. */
  private answerUnsupportedApiVersions(correlationId: number): void {
    const body = {
      ...ApiVersionsResponse.default(),
      errorCode: UNSUPPORTED_VERSION,
      apiKeys: this.registry.versions(),
    };
    this.pending.push({
      chunks: encodeResponse(ApiKey.ApiVersions, 0, correlationId, ApiVersionsResponse, body),
      noResponse: false,
      timing: null,
    });
    this.flush();
  }

  private flushScheduled = false;

  /**
   * Flushes once the current burst of microtasks is done: answers completed by one event (one
   * fsync acknowledging many appends, say) then leave in one writev instead of one write each.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes every answered response at the head of the queue, in request order. */
  private flush(): void {
    if (this.closed) return;
    let corked = false;
    while (this.pending.length > 0) {
      const head = this.pending[0];
      if (!head.noResponse && head.chunks === null) break;
      this.pending.shift();
      if (head.chunks) {
        if (!corked) {
          this.socket.cork();
          corked = true;
          this.lastActivityMs = this.time.now();
        }
        for (const c of head.chunks) this.socket.write(c);
      }
      if (head.timing) this.written(head.timing, head.chunks);
    }
    if (corked) this.socket.uncork();
    this.maybePause();
    this.maybeResume();
  }

  /**
   * Metrics of a response being written: its bytes, and its timings once the socket took them (a
   * request without a response is complete at its turn).
   */
  private written(timing: RequestTiming, chunks: Buffer[] | null): void {
    const metrics = this.metrics!;
    timing.writtenMs = this.monotonicMs();
    if (!chunks) {
      metrics.requests.completed(timing, timing.writtenMs);
      return;
    }
    for (const c of chunks) metrics.network.bytesOut += c.length;
    // The write callback runs once this response's last bytes are handed to the kernel.
    this.socket.write(EMPTY, () => metrics.requests.completed(timing, this.monotonicMs()));
  }

  /** Reading pauses while frames wait in the backlog or the connection is full. */
  private maybePause(): void {
    if (this.paused || this.closed) return;
    if (this.backlog.length > 0 || this.full()) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private maybeResume(): void {
    if (this.closed) return;
    if (this.backlog.length > 0 && !this.full()) this.dispatchBacklog();
    if (this.paused && this.backlog.length === 0 && !this.full()) {
      this.paused = false;
      this.socket.resume();
    }
  }
}
