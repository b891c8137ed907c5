// The client's view of the cluster (Kafka's Metadata + NetworkClient's node bookkeeping): the
// bootstrap list, the brokers and topics from Metadata responses, one connection per broker
// (opened on demand, reopened with exponential backoff after a failure), and coordinator lookups.
//
// Metadata is refreshed on demand (a client that meets NOT_LEADER_OR_FOLLOWER or
// UNKNOWN_TOPIC_OR_PARTITION calls requestUpdate()) and every metadata.max.age.ms. Concurrent
// refreshes share one request. Only topics some user registered interest in are asked for, as
// Kafka's producer does, unless a caller needs every topic (pattern subscriptions, admin).

import { ErrorCode } from '../protocol/errors.js';
import type { MetadataResponse } from '../protocol/generated/messages/MetadataResponse.js';
import { ZERO_UUID } from '../protocol/message.js';
import { type Api, FindCoordinatorApi, MetadataApi } from './apis.js';
import type { SslOptions } from './connection.js';
import { BrokerConnection, type RequestOptions } from './connection.js';
import { abortReason, BrokersUnreachableError, KafkaConnectionError, KafkaError } from './errors.js';
import { defaultLogger, type Logger } from './logger.js';

export interface ClusterOptions {
  /** Bootstrap brokers: 'host:port' strings, or one comma-separated string. */
  brokers: string | readonly string[];
  clientId?: string;
  /** request.timeout.ms (Kafka's default 30000). */
  requestTimeoutMs?: number;
  /**
   * socket.connection.setup.timeout.ms (Kafka's default 10000): how long one connection attempt
   * may take, and how long the client keeps trying while no broker has ever answered (every
   * bootstrap refusing, unknown or silent) before operations fail with BrokersUnreachableError.
   */
  connectTimeoutMs?: number;
  /** reconnect.backoff.ms / reconnect.backoff.max.ms (Kafka: 50 / 1000). */
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  /** metadata.max.age.ms (Kafka's default 300000). */
  metadataMaxAgeMs?: number;
  /** retry.backoff.ms (Kafka's default 100): the pause before retrying a failed request. */
  retryBackoffMs?: number;
  /** allow.auto.create.topics for metadata requests (Kafka's default true). */
  allowAutoTopicCreation?: boolean;
  /**
   * TLS to the brokers (security.protocol=SSL), as kafkajs' `ssl` option: true for the system's
   * trusted CAs and host name checks, or node:tls connect options (ca, cert, key, passphrase,
   * rejectUnauthorized, servername, ...).
   */
  ssl?: boolean | SslOptions;
  logger?: Logger;
}

export interface BrokerNode {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionMetadata {
  partition: number;
  /** -1 when the partition has no leader right now. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  errorCode: number;
}

export interface TopicMetadata {
  name: string;
  topicId: string;
  isInternal: boolean;
  errorCode: number;
  /** Indexed by partition number. */
  partitions: PartitionMetadata[];
}

export const CoordinatorType = { Group: 0, Transaction: 1 } as const;

function parseBrokers(brokers: string | readonly string[]): { host: string; port: number }[] {
  const list = typeof brokers === 'string' ? brokers.split(',') : brokers;
  const out = list
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const i = s.lastIndexOf(':');
      const host = i < 0 ? s : s.slice(0, i).replace(/^\[(.*)\]$/, '$1');
      const port = i < 0 ? 9092 : Number(s.slice(i + 1));
      if (!Number.isInteger(port) || port <= 0 || port > 65535)
        throw new TypeError(`invalid broker address ${s}`);
      return { host, port };
    });
  if (out.length === 0) throw new TypeError('no bootstrap brokers given');
  return out;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(t);
      reject(abortReason(signal as AbortSignal));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface NodeState {
  connection: Promise<BrokerConnection> | null;
  failures: number;
  /** Not before this time (ms since epoch) may a new connection be tried. */
  nextAttemptAt: number;
}

export class Cluster {
  readonly clientId: string;
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
  readonly retryBackoffMs: number;
  private readonly connectTimeoutMs: number;
  private readonly ssl: boolean | SslOptions | undefined;
  private readonly reconnectBackoffMs: number;
  private readonly reconnectBackoffMaxMs: number;
  private readonly metadataMaxAgeMs: number;
  private readonly allowAutoTopicCreation: boolean;
  private readonly bootstrap: { host: string; port: number }[];

  private readonly nodes = new Map<number, BrokerNode>();
  private readonly nodeStates = new Map<number, NodeState>();
  private readonly topics = new Map<string, TopicMetadata>();
  private readonly topicNamesById = new Map<string, string>();
  /** Topics whose metadata someone needs; refreshed together. */
  private readonly interest = new Set<string>();
  private wantAllTopics = false;
  private inflightRefresh: Promise<void> | null = null;
  private refreshAgain = false;
  private lastRefreshAt = 0;
  private refreshTimer: NodeJS.Timeout | null = null;
  private readonly coordinators = new Map<string, Promise<number>>();
  private readonly metadataListeners = new Set<() => void>();
  clusterId: string | null = null;
  controllerId = -1;
  private closed = false;
  /** Set once any connection (bootstrap or broker) has been opened: fail-fast applies before. */
  private everConnected = false;
  /** When the first failed connection attempt began, while none has ever succeeded. */
  private unreachableSince: number | null = null;
  private readonly closeController = new AbortController();

  constructor(options: ClusterOptions) {
    this.bootstrap = parseBrokers(options.brokers);
    this.clientId = options.clientId ?? 'samsa';
    this.logger = options.logger ?? defaultLogger;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.ssl = options.ssl;
    this.reconnectBackoffMs = options.reconnectBackoffMs ?? 50;
    this.reconnectBackoffMaxMs = options.reconnectBackoffMaxMs ?? 1000;
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? 300_000;
    this.retryBackoffMs = options.retryBackoffMs ?? 100;
    this.allowAutoTopicCreation = options.allowAutoTopicCreation ?? true;
    // Bootstrap addresses get negative ids until the first metadata names the real brokers.
    this.bootstrap.forEach((b, i) => {
      this.nodes.set(-1 - i, { nodeId: -1 - i, host: b.host, port: b.port, rack: null });
    });
  }

  /** Aborted when the cluster closes: long waits inside clients listen to it. */
  get closeSignal(): AbortSignal {
    return this.closeController.signal;
  }

  // ---- connections ----

  /** The connection to a broker, opened (or reopened after backoff) if needed. */
  async connection(nodeId: number, signal?: AbortSignal): Promise<BrokerConnection> {
    if (this.closed) throw new KafkaConnectionError(`node ${nodeId}`, 'client is closed');
    const node = this.nodes.get(nodeId);
    if (!node) throw new KafkaError(ErrorCode.BROKER_NOT_AVAILABLE, `unknown broker ${nodeId}`);
    let state = this.nodeStates.get(nodeId);
    if (!state) {
      state = { connection: null, failures: 0, nextAttemptAt: 0 };
      this.nodeStates.set(nodeId, state);
    }
    if (state.connection) return state.connection;
    const wait = state.nextAttemptAt - Date.now();
    const st = state;
    let attempt: Promise<BrokerConnection> | undefined;
    attempt = (async () => {
      if (wait > 0) await sleep(wait, this.closeSignal);
      const startedAt = Date.now();
      try {
        const conn = await BrokerConnection.connect({
          host: node.host,
          port: node.port,
          nodeId,
          clientId: this.clientId,
          connectTimeoutMs: this.connectTimeoutMs,
          requestTimeoutMs: this.requestTimeoutMs,
          ...(this.ssl ? { ssl: this.ssl } : {}),
          logger: this.logger,
          signal: this.closeSignal,
        });
        st.failures = 0;
        this.everConnected = true;
        this.unreachableSince = null;
        conn.onClose(() => {
          if (st.connection === attempt) st.connection = null;
        });
        if (this.closed) conn.destroy();
        return conn;
      } catch (err) {
        // Exponential backoff with ±20% jitter, as Kafka's ExponentialBackoff.
        const base = Math.min(this.reconnectBackoffMs * 2 ** st.failures, this.reconnectBackoffMaxMs);
        st.failures++;
        st.nextAttemptAt = Date.now() + base * (0.8 + Math.random() * 0.4);
        if (st.connection === attempt) st.connection = null;
        throw this.unreachable(err, startedAt);
      }
    })();
    state.connection = attempt;
    attempt.catch(() => {}); // failures are reported to the awaiting caller, not as unhandled
    if (signal) {
      return Promise.race([
        attempt,
        new Promise<never>((_, reject) => {
          if (signal.aborted) reject(abortReason(signal));
          signal.addEventListener('abort', () => reject(abortReason(signal)), { once: true });
        }),
      ]);
    }
    return attempt;
  }

  /**
   * A failed connection attempt's error, or BrokersUnreachableError once no broker has answered
   * for connectTimeoutMs since the first failed attempt (and none ever did). Callers retry
   * KafkaConnectionError until the request timeout; without this, a wrong bootstrap address would
   * hang every operation for request.timeout.ms (or max.block.ms). Only before any success: a
   * broker lost later is a transient failure that retries may outlast. The window is not reset,
   * so that later operations on a cluster never reached fail after one more attempt.
   */
  private unreachable(err: unknown, startedAt: number): unknown {
    if (this.everConnected || this.closed || !(err instanceof KafkaConnectionError)) return err;
    this.unreachableSince ??= startedAt;
    if (Date.now() - this.unreachableSince < this.connectTimeoutMs) return err;
    const list = this.bootstrap.map((b) => `${b.host}:${b.port}`).join(',');
    return new BrokersUnreachableError(
      `no broker reachable at ${list} within ${this.connectTimeoutMs} ms (last error: ${err.message})`,
      this.connectTimeoutMs,
      { cause: err },
    );
  }

  /** Sends to one broker. Connection failures reject with KafkaConnectionError (retriable). */
  async send<Req, Resp>(
    nodeId: number,
    api: Api<Req, Resp>,
    body: Req | ((version: number) => Req),
    opts?: RequestOptions,
  ): Promise<Resp> {
    const conn = await this.connection(nodeId, opts?.signal);
    return conn.send(api, body, opts);
  }

  /**
   * The broker with the fewest requests in flight among those connected, else one not known to be
   * failing (Kafka's leastLoadedNode). Bootstrap addresses are used only until brokers are known.
   */
  leastLoadedNode(): number {
    const candidates = [...this.nodes.keys()].filter((id) => id >= 0 || !this.hasRealBrokers());
    let best = -1;
    let bestLoad = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (const id of candidates) {
      const st = this.nodeStates.get(id);
      let load: number;
      if (st?.connection)
        load = 0.5; // connected or connecting: preferred
      else if (st && st.nextAttemptAt > now)
        load = 1e6 + st.nextAttemptAt - now; // backing off
      else load = 1;
      if (load < bestLoad || (load === bestLoad && Math.random() < 0.5)) {
        best = id;
        bestLoad = load;
      }
    }
    return best;
  }

  private hasRealBrokers(): boolean {
    for (const id of this.nodes.keys()) if (id >= 0) return true;
    return false;
  }

  /** Sends to any broker, retrying on connection failures until the request timeout. */
  async sendAny<Req, Resp>(
    api: Api<Req, Resp>,
    body: Req | ((version: number) => Req),
    opts?: RequestOptions,
  ): Promise<Resp> {
    const deadline = Date.now() + (opts?.timeoutMs ?? this.requestTimeoutMs);
    for (;;) {
      const node = this.leastLoadedNode();
      try {
        return await this.send(node, api, body, opts);
      } catch (err) {
        if (!(err instanceof KafkaConnectionError) || Date.now() >= deadline || this.closed) throw err;
        await sleep(this.retryBackoffMs, opts?.signal);
      }
    }
  }

  /** Whether the broker behind any open connection serves `api` (after connecting to one). */
  async supports(api: Api<unknown, unknown>): Promise<boolean> {
    const conn = await this.connection(this.leastLoadedNode());
    return conn.supports(api);
  }

  // ---- metadata ----

  broker(nodeId: number): BrokerNode | undefined {
    return nodeId >= 0 ? this.nodes.get(nodeId) : undefined;
  }

  brokers(): BrokerNode[] {
    return [...this.nodes.values()].filter((n) => n.nodeId >= 0);
  }

  topic(name: string): TopicMetadata | undefined {
    return this.topics.get(name);
  }

  topicNameById(topicId: string): string | undefined {
    return this.topicNamesById.get(topicId);
  }

  knownTopics(): string[] {
    return [...this.topics.keys()];
  }

  /** Registers topics to keep metadata for. Returns true if any was new. */
  addInterest(topics: Iterable<string>): boolean {
    let added = false;
    for (const t of topics) {
      if (!this.interest.has(t)) {
        this.interest.add(t);
        added = true;
      }
    }
    return added;
  }

  /** Keep metadata of every topic (pattern subscriptions). */
  setWantAllTopics(all: boolean): void {
    this.wantAllTopics = all;
  }

  onMetadataUpdate(listener: () => void): () => void {
    this.metadataListeners.add(listener);
    return () => this.metadataListeners.delete(listener);
  }

  /** Starts the periodic refresh (metadata.max.age.ms); the timer does not keep Node alive. */
  startPeriodicRefresh(): void {
    if (this.refreshTimer || this.closed) return;
    this.refreshTimer = setInterval(
      () => {
        if (Date.now() - this.lastRefreshAt >= this.metadataMaxAgeMs * 0.9) {
          this.refreshMetadata().catch((err) =>
            this.logger.debug({ err }, 'periodic metadata refresh failed'),
          );
        }
      },
      Math.max(100, Math.min(this.metadataMaxAgeMs, 60_000) / 2),
    );
    this.refreshTimer.unref();
  }

  /**
   * Refreshes metadata for the topics of interest (or every topic). Callers arriving during a
   * refresh get one more refresh after it, so that what they learnt is not missed.
   */
  refreshMetadata(signal?: AbortSignal): Promise<void> {
    if (this.inflightRefresh) {
      this.refreshAgain = true;
      return this.inflightRefresh;
    }
    const run = async () => {
      try {
        do {
          this.refreshAgain = false;
          const topics = this.wantAllTopics ? null : [...this.interest];
          await this.fetchMetadata(topics, this.allowAutoTopicCreation, signal);
        } while (this.refreshAgain);
      } finally {
        this.inflightRefresh = null;
      }
    };
    this.inflightRefresh = run();
    return this.inflightRefresh;
  }

  /** Alias kept for readers who know Kafka's Metadata.requestUpdate(): refresh soon, do not wait. */
  requestUpdate(): void {
    this.refreshMetadata().catch((err) => this.logger.debug({ err }, 'metadata refresh failed'));
  }

  /**
   * One Metadata request (null = every topic) whose answer is merged into the cache and returned.
   * Admin calls use it directly to describe topics without registering interest.
   */
  async fetchMetadata(
    topics: readonly string[] | null,
    allowAutoTopicCreation = false,
    signal?: AbortSignal,
  ): Promise<MetadataResponse> {
    const resp = await this.sendAny(
      MetadataApi,
      (v) => ({
        ...MetadataApi.request.default(),
        // v0 has no way to say "all topics" other than an empty list.
        topics:
          topics === null ? (v === 0 ? [] : null) : topics.map((name) => ({ topicId: ZERO_UUID, name })),
        allowAutoTopicCreation: v >= 4 ? allowAutoTopicCreation : true,
      }),
      { signal },
    );
    this.applyMetadata(resp, topics === null);
    return resp;
  }

  private applyMetadata(resp: MetadataResponse, allTopics: boolean): void {
    if (resp.brokers.length > 0) {
      for (const id of [...this.nodes.keys()]) {
        if (!resp.brokers.some((b) => b.nodeId === id)) {
          // Bootstrap entries and brokers that left: drop them, closing their connections.
          this.nodes.delete(id);
          const st = this.nodeStates.get(id);
          this.nodeStates.delete(id);
          st?.connection?.then((c) => c.destroy()).catch(() => {});
        }
      }
      for (const b of resp.brokers) {
        const old = this.nodes.get(b.nodeId);
        if (old && (old.host !== b.host || old.port !== b.port)) {
          const st = this.nodeStates.get(b.nodeId);
          this.nodeStates.delete(b.nodeId);
          st?.connection?.then((c) => c.destroy()).catch(() => {});
        }
        this.nodes.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
      }
    }
    this.clusterId = resp.clusterId;
    this.controllerId = resp.controllerId;
    const seen = new Set<string>();
    for (const t of resp.topics) {
      if (t.name === null) continue;
      seen.add(t.name);
      if (t.errorCode !== ErrorCode.NONE && t.partitions.length === 0) {
        // Unknown topic (or not yet created): forget what we knew, keep the error for callers.
        const old = this.topics.get(t.name);
        if (old) this.topicNamesById.delete(old.topicId);
        this.topics.set(t.name, {
          name: t.name,
          topicId: t.topicId,
          isInternal: t.isInternal,
          errorCode: t.errorCode,
          partitions: [],
        });
        continue;
      }
      const partitions: PartitionMetadata[] = [];
      for (const p of t.partitions) {
        partitions[p.partitionIndex] = {
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offlineReplicas: p.offlineReplicas,
          errorCode: p.errorCode,
        };
      }
      this.topics.set(t.name, {
        name: t.name,
        topicId: t.topicId,
        isInternal: t.isInternal,
        errorCode: t.errorCode,
        partitions,
      });
      if (t.topicId !== ZERO_UUID) this.topicNamesById.set(t.topicId, t.name);
    }
    if (allTopics) {
      for (const name of [...this.topics.keys()]) if (!seen.has(name)) this.topics.delete(name);
    }
    this.lastRefreshAt = Date.now();
    for (const l of this.metadataListeners) l();
  }

  /** Leader of a partition, or -1 if unknown (after which callers request an update). */
  leaderFor(topic: string, partition: number): number {
    return this.topics.get(topic)?.partitions[partition]?.leader ?? -1;
  }

  /**
   * Metadata for `topics`, refreshing until each is known with partitions or the timeout passes
   * (Kafka's producer waitOnMetadata). Topics still unknown are rejected with their error.
   */
  async waitForTopics(
    topics: readonly string[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<TopicMetadata[]> {
    const deadline = Date.now() + timeoutMs;
    if (this.addInterest(topics)) await this.refreshMetadata(signal);
    let backoff = this.retryBackoffMs;
    for (;;) {
      const missing = topics.filter((t) => !(this.topics.get(t)?.partitions.length ?? 0));
      if (missing.length === 0) return topics.map((t) => this.topics.get(t) as TopicMetadata);
      const t = this.topics.get(missing[0]);
      if (t && t.errorCode !== ErrorCode.NONE && !errorRetriableForMetadata(t.errorCode)) {
        throw new KafkaError(t.errorCode, `topic ${missing[0]}`);
      }
      if (Date.now() >= deadline) {
        throw new KafkaError(
          t?.errorCode || ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `topic ${missing[0]} not present in metadata after ${timeoutMs} ms`,
        );
      }
      await sleep(Math.min(backoff, Math.max(0, deadline - Date.now())), signal);
      backoff = Math.min(backoff * 2, 1000);
      await this.refreshMetadata(signal).catch((err) => {
        // Other failures are retried until the deadline; an unreachable cluster is given up on.
        if (err instanceof BrokersUnreachableError) throw err;
      });
    }
  }

  // ---- coordinators ----

  /** The broker coordinating a group or transactional id (FindCoordinator), cached until invalidated. */
  findCoordinator(
    key: string,
    keyType: number = CoordinatorType.Group,
    signal?: AbortSignal,
  ): Promise<number> {
    const cacheKey = `${keyType}:${key}`;
    let p = this.coordinators.get(cacheKey);
    if (!p) {
      p = this.lookupCoordinator(key, keyType, signal);
      this.coordinators.set(cacheKey, p);
      p.catch(() => {
        if (this.coordinators.get(cacheKey) === p) this.coordinators.delete(cacheKey);
      });
    }
    return p;
  }

  invalidateCoordinator(key: string, keyType: number = CoordinatorType.Group): void {
    this.coordinators.delete(`${keyType}:${key}`);
  }

  private async lookupCoordinator(key: string, keyType: number, signal?: AbortSignal): Promise<number> {
    const deadline = Date.now() + this.requestTimeoutMs;
    for (;;) {
      const resp = await this.sendAny(
        FindCoordinatorApi,
        (v) => ({
          ...FindCoordinatorApi.request.default(),
          ...(v >= 4 ? { coordinatorKeys: [key] } : { key }),
          keyType,
        }),
        { signal },
      );
      const c =
        resp.coordinators.length > 0
          ? resp.coordinators[0]
          : {
              nodeId: resp.nodeId,
              host: resp.host,
              port: resp.port,
              errorCode: resp.errorCode,
              errorMessage: resp.errorMessage,
            };
      if (c.errorCode === ErrorCode.NONE) {
        // The coordinator may not be in our metadata yet (a fresh broker list); remember its address.
        if (!this.nodes.has(c.nodeId))
          this.nodes.set(c.nodeId, { nodeId: c.nodeId, host: c.host, port: c.port, rack: null });
        return c.nodeId;
      }
      const err = new KafkaError(c.errorCode, c.errorMessage, undefined);
      if (!err.retriable || Date.now() >= deadline) throw err;
      await sleep(this.retryBackoffMs, signal);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.closeController.abort(new KafkaConnectionError('cluster', 'client is closed'));
    const conns = [...this.nodeStates.values()].map((s) => s.connection).filter((c) => c !== null);
    this.nodeStates.clear();
    await Promise.all(conns.map((c) => c.then((conn) => conn.destroy()).catch(() => {})));
  }
}

/** Metadata topic errors worth waiting out (the topic is being created or its leader elected). */
function errorRetriableForMetadata(code: number): boolean {
  return (
    code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ||
    code === ErrorCode.LEADER_NOT_AVAILABLE ||
    code === ErrorCode.NOT_LEADER_OR_FOLLOWER
  );
}
