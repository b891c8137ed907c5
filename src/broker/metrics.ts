// The broker's own counters, as plain numbers that the request path bumps: Kafka's
// BrokerTopicMetrics (per topic), RequestMetrics (per API) and the socket server's per-listener
// counts. Nothing here allocates per record or loads a metrics library; gauges (partitions, log
// sizes, groups by state ...) are not kept here at all but computed when /metrics is scraped
// (broker/prometheus.ts, loaded on the first scrape).
//
// A broker has a BrokerMetrics only while its HTTP listener is on (http.listeners): without one
// nothing can read the counters, and every hook is a `metrics?.` that costs a null check.

import { LatencyHistogram, REQUEST_TIME_BUCKETS_MS } from '../metrics/histogram.js';
import { ErrorCode } from '../protocol/errors.js';

/** Kafka's BrokerTopicMetrics for one topic (the *PerSec meters' counts). */
export class TopicStats {
  messagesIn = 0;
  bytesIn = 0;
  /** Records sent to fetchers (a Samsa addition: Kafka meters bytes out only). */
  messagesOut = 0;
  bytesOut = 0;
  totalProduceRequests = 0;
  failedProduceRequests = 0;
  totalFetchRequests = 0;
  failedFetchRequests = 0;
}

/**
 * Fetch errors that are the client's position or view being stale, not a failure of the broker:
 * Kafka's ReplicaManager.readFromLog answers these without marking FailedFetchRequestsPerSec.
 */
const EXPECTED_FETCH_ERRORS = new Set<number>([
  ErrorCode.NONE,
  ErrorCode.OFFSET_OUT_OF_RANGE,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
]);

/** Records in a fetched record set: v2 batches carry their count; each v0/v1 entry is one. */
export function countRecords(records: Buffer): number {
  let n = 0;
  let pos = 0;
  while (pos + 17 <= records.length) {
    const size = records.readInt32BE(pos + 8);
    const magic = records[pos + 16];
    if (magic >= 2) {
      if (pos + 61 > records.length) break;
      n += records.readInt32BE(pos + 57);
    } else n++;
    if (size <= 0) break;
    pos += 12 + size;
  }
  return n;
}

export class BrokerTopicStats {
  readonly byTopic = new Map<string, TopicStats>();

  topic(name: string): TopicStats {
    let t = this.byTopic.get(name);
    if (!t) {
      t = new TopicStats();
      this.byTopic.set(name, t);
    }
    return t;
  }

  /** One partition's append of a Produce (or a coordinator's write): Kafka's appendToLocalLog. */
  produced(topic: string, messages: number, bytes: number, failed: boolean): void {
    const t = this.topic(topic);
    t.totalProduceRequests++;
    if (failed) {
      t.failedProduceRequests++;
      return;
    }
    t.messagesIn += messages;
    t.bytesIn += bytes;
  }

  /** One partition of a Fetch response. */
  fetched(topic: string | undefined, errorCode: number, records: Buffer | null): void {
    if (topic === undefined) return;
    const t = this.topic(topic);
    t.totalFetchRequests++;
    if (!EXPECTED_FETCH_ERRORS.has(errorCode)) t.failedFetchRequests++;
    if (records && records.length > 0) {
      t.bytesOut += records.length;
      t.messagesOut += countRecords(records);
    }
  }

  /** A deleted topic's metrics go with it, as Kafka's BrokerTopicStats.removeMetrics. */
  remove(topic: string): void {
    this.byTopic.delete(topic);
  }
}

/** Timings of one request, taken by the connection (performance.now() values, in ms). */
export interface RequestTiming {
  apiKey: number;
  apiVersion: number;
  /** The frame was complete (its last bytes read). */
  receivedMs: number;
  /** The handler was called. */
  startMs: number;
  /** The handler returned (its synchronous part: what it did before its first await). */
  localDoneMs: number;
  /** The response was ready to send (encoded). */
  readyMs: number;
  /** The response was written to the socket (it waits for the responses before it). */
  writtenMs: number;
}

/** Kafka's RequestMetrics of one API: request counts by version, errors by code, the time histograms. */
export class ApiRequestStats {
  /** Requests by version. */
  readonly requests: number[] = [];
  /** Error codes found in responses (NONE included, as Kafka counts), by code. */
  readonly errors = new Map<number, number>();
  readonly totalTime = new LatencyHistogram(REQUEST_TIME_BUCKETS_MS);
  readonly queueTime = new LatencyHistogram(REQUEST_TIME_BUCKETS_MS);
  readonly localTime = new LatencyHistogram(REQUEST_TIME_BUCKETS_MS);
  readonly remoteTime = new LatencyHistogram(REQUEST_TIME_BUCKETS_MS);
  readonly responseQueueTime = new LatencyHistogram(REQUEST_TIME_BUCKETS_MS);
  readonly responseSendTime = new LatencyHistogram(REQUEST_TIME_BUCKETS_MS);
}

/**
 * Adds the error codes of a response to `errors`: the top-level errorCode and those of the
 * objects in its arrays (topics, partitions, ...), at most three levels deep: where every
 * response keeps them. Reads fields only; allocates nothing.
 */
function countErrors(errors: Map<number, number>, value: unknown, depth: number): void {
  if (typeof value !== 'object' || value === null) return;
  const o = value as Record<string, unknown>;
  const code = o.errorCode;
  if (typeof code === 'number') errors.set(code, (errors.get(code) ?? 0) + 1);
  if (depth === 0) return;
  for (const key in o) {
    const v = o[key];
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) countErrors(errors, v[i], depth - 1);
  }
}

export class RequestStats {
  /** By API key. */
  readonly byApi: (ApiRequestStats | undefined)[] = [];

  api(apiKey: number): ApiRequestStats {
    let s = this.byApi[apiKey];
    if (!s) {
      s = new ApiRequestStats();
      this.byApi[apiKey] = s;
    }
    return s;
  }

  /** A request was handed to its handler. */
  received(apiKey: number, apiVersion: number): void {
    const r = this.api(apiKey).requests;
    r[apiVersion] = (r[apiVersion] ?? 0) + 1;
  }

  /** A handler answered with `response` (NO_RESPONSE and failures have none). */
  answered(apiKey: number, response: unknown): void {
    countErrors(this.api(apiKey).errors, response, 3);
  }

  /**
   * The response left (the socket took its bytes), or, for a request without a response
   * (acks=0), its turn came. Kafka's split: queue (waiting to be handled), local (the handler's
   * own work), remote (what it awaited: an fsync, a long poll, a metadata write), response queue
   * (waiting behind earlier responses of the connection), send.
   */
  completed(t: RequestTiming, sentMs: number): void {
    const s = this.api(t.apiKey);
    s.queueTime.observe(t.startMs - t.receivedMs);
    s.localTime.observe(t.localDoneMs - t.startMs);
    s.remoteTime.observe(t.readyMs - t.localDoneMs);
    s.responseQueueTime.observe(t.writtenMs - t.readyMs);
    s.responseSendTime.observe(sentMs - t.writtenMs);
    s.totalTime.observe(sentMs - t.receivedMs);
  }
}

/** The socket server's counts for one listener (Kafka's socket-server-metrics). */
export class ListenerStats {
  connectionsAccepted = 0;
  connectionsClosed = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Connections open now; set by the socket server. */
  connectionCount: () => number = () => 0;

  constructor(readonly listener: string) {}
}

/** What a Connection records (null when the broker keeps no metrics). */
export interface ConnectionMetrics {
  readonly requests: RequestStats;
  readonly network: ListenerStats;
}

export class BrokerMetrics implements ConnectionMetrics {
  readonly topics = new BrokerTopicStats();
  readonly requests = new RequestStats();
  readonly network: ListenerStats;

  constructor(listener: string) {
    this.network = new ListenerStats(listener);
  }
}
