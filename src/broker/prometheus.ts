// The broker's /metrics in Prometheus' text format, through prom-client. Loaded on the first
// scrape (prom-client and its default metrics cost tens of milliseconds and ~10 MB to load, which
// a broker that nobody scrapes should not pay at start).
//
// Names: Kafka's JMX metrics as Prometheus' JMX exporter maps them (its example Kafka config,
// lowercased: kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec,topic=t becomes
// kafka_server_brokertopicmetrics_messagesin_total{topic="t"}; a *TimeMs histogram keeps its
// unit, milliseconds, as Kafka names it). Where Kafka has no metric (messages out, transactions by
// state) the name follows the same family.
//
// Nothing is counted here. Counters read the plain numbers the request path bumps
// (broker/metrics.ts, storage/log-flush-stats.ts) and gauges are computed from the broker's state
// in their collect callbacks, when a scrape asks.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { LatencyHistogram } from '../metrics/histogram.js';
import { errorByCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/api-keys.js';
import { LOG_FLUSH_STATS } from '../storage/log-flush-stats.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { BrokerMetrics } from './metrics.js';
import type { BrokerServices } from './services.js';

/** What the exposition reads: the counters, and the broker's parts once start has built them. */
export interface MetricsSource {
  readonly metrics: BrokerMetrics;
  /** The services as start has assembled them so far (coordinators appear late). */
  readonly services: Partial<BrokerServices>;
}

const API_NAMES: string[] = [];
for (const [name, key] of Object.entries(ApiKey)) API_NAMES[key] = name;

type Labels = Record<string, string>;

/**
 * A histogram whose buckets are counted elsewhere (LatencyHistogram, bumped on the request path
 * without prom-client): at scrape time it reports those counts, in prom-client's own export
 * shape, so the text format is still prom-client's.
 */
class CountedHistogram extends Histogram<string> {
  constructor(
    private readonly metricName: string,
    private readonly metricHelp: string,
    labelNames: string[],
    private readonly source: () => Iterable<[Labels, LatencyHistogram]>,
  ) {
    super({ name: metricName, help: metricHelp, labelNames, registers: [] });
  }

  private values(): { labels: Labels; value: number; metricName: string }[] {
    const out: { labels: Labels; value: number; metricName: string }[] = [];
    for (const [labels, h] of this.source()) {
      if (h.count === 0) continue;
      const cumulative = h.cumulative();
      for (let i = 0; i < h.bounds.length; i++) {
        out.push({
          labels: { ...labels, le: String(h.bounds[i]) },
          value: cumulative[i],
          metricName: `${this.metricName}_bucket`,
        });
      }
      out.push({
        labels: { ...labels, le: '+Inf' },
        value: h.count,
        metricName: `${this.metricName}_bucket`,
      });
      out.push({ labels, value: h.sum, metricName: `${this.metricName}_sum` });
      out.push({ labels, value: h.count, metricName: `${this.metricName}_count` });
    }
    return out;
  }

  override async get(): Promise<Awaited<ReturnType<Histogram<string>['get']>>> {
    return {
      name: this.metricName,
      help: this.metricHelp,
      type: 'histogram' as never,
      aggregator: 'sum',
      values: this.values(),
    } as unknown as Awaited<ReturnType<Histogram<string>['get']>>;
  }

  /** What prom-client's registry calls for the text format (labels already merged here). */
  async getForPromString(): Promise<Awaited<ReturnType<Histogram<string>['get']>>> {
    return this.get();
  }
}

/** The labels of each hosted partition, one object kept per partition (see PartitionGauge). */
const partitionLabels = new WeakMap<object, Labels>();

function labelsOf(p: { topic: string; index: number }): Labels {
  let l = partitionLabels.get(p);
  if (!l) {
    l = { topic: p.topic, partition: String(p.index) };
    partitionLabels.set(p, l);
  }
  return l;
}

/**
 * A gauge per partition, read at scrape time. With 10,000 partitions it is 10,000 series per
 * family, so it skips prom-client's per-set label hashing and hands the registry each partition's
 * labels as the same object every scrape (prom-client's sharedLabels, whose formatted text the
 * registry caches per object): a scrape then formats only the values.
 */
class PartitionGauge extends Gauge<string> {
  constructor(
    private readonly metricName: string,
    private readonly metricHelp: string,
    private readonly partitions: () => Iterable<{ topic: string; index: number; log: PartitionLog }>,
    private readonly read: (log: PartitionLog) => number,
  ) {
    super({ name: metricName, help: metricHelp, labelNames: ['topic', 'partition'], registers: [] });
  }

  override async get(): Promise<Awaited<ReturnType<Gauge<string>['get']>>> {
    const values: { value: number; labels: Labels; sharedLabels: Labels }[] = [];
    const none: Labels = {};
    for (const p of this.partitions()) {
      values.push({ value: this.read(p.log), labels: none, sharedLabels: labelsOf(p) });
    }
    return {
      name: this.metricName,
      help: this.metricHelp,
      type: 'gauge' as never,
      aggregator: 'sum',
      values,
    } as unknown as Awaited<ReturnType<Gauge<string>['get']>>;
  }
}

/** The broker's registry: Kafka's families plus prom-client's default process and Node.js metrics. */
export function createBrokerRegistry(source: MetricsSource): Registry {
  const registry = new Registry();
  // Process CPU and RSS, heap, event-loop lag (nodejs_eventloop_lag_*), GC pauses
  // (nodejs_gc_duration_seconds): observed from now on.
  collectDefaultMetrics({ register: registry });
  const { metrics } = source;
  const registers = [registry];

  // ---- BrokerTopicMetrics, per topic ----
  const topicCounter = (name: string, help: string, read: (t: import('./metrics.js').TopicStats) => number) =>
    new Counter({
      name: `kafka_server_brokertopicmetrics_${name}_total`,
      help,
      labelNames: ['topic'],
      registers,
      collect() {
        this.reset();
        for (const [topic, t] of metrics.topics.byTopic) this.inc({ topic }, read(t));
      },
    });
  topicCounter('messagesin', 'Records appended (MessagesInPerSec).', (t) => t.messagesIn);
  topicCounter('bytesin', 'Record batch bytes appended (BytesInPerSec).', (t) => t.bytesIn);
  topicCounter('bytesout', 'Record bytes sent to fetchers (BytesOutPerSec).', (t) => t.bytesOut);
  topicCounter(
    'messagesout',
    'Records sent to fetchers (Samsa; Kafka meters bytes out only).',
    (t) => t.messagesOut,
  );
  topicCounter(
    'totalproducerequests',
    'Partition appends requested (TotalProduceRequestsPerSec).',
    (t) => t.totalProduceRequests,
  );
  topicCounter(
    'failedproducerequests',
    'Partition appends refused (FailedProduceRequestsPerSec).',
    (t) => t.failedProduceRequests,
  );
  topicCounter(
    'totalfetchrequests',
    'Partition reads of Fetch requests (TotalFetchRequestsPerSec).',
    (t) => t.totalFetchRequests,
  );
  topicCounter(
    'failedfetchrequests',
    'Partition reads that failed (FailedFetchRequestsPerSec).',
    (t) => t.failedFetchRequests,
  );

  // ---- RequestMetrics, per API ----
  const apis = () =>
    metrics.requests.byApi.flatMap((s, key) => (s ? [[API_NAMES[key] ?? String(key), s] as const] : []));
  new Counter({
    name: 'kafka_network_requestmetrics_requests_total',
    help: 'Requests received, by API and version (RequestsPerSec).',
    labelNames: ['request', 'version'],
    registers,
    collect() {
      this.reset();
      for (const [request, s] of apis()) {
        s.requests.forEach((n, version) => {
          if (n) this.inc({ request, version: String(version) }, n);
        });
      }
    },
  });
  new Counter({
    name: 'kafka_network_requestmetrics_errors_total',
    help: 'Error codes in responses, NONE included, by API and error (ErrorsPerSec).',
    labelNames: ['request', 'error'],
    registers,
    collect() {
      this.reset();
      for (const [request, s] of apis()) {
        for (const [code, n] of s.errors) this.inc({ request, error: errorByCode(code).name }, n);
      }
    },
  });
  const times = [
    ['totaltimems', 'totalTime', 'Time from the request read to its response sent (TotalTimeMs).'],
    ['requestqueuetimems', 'queueTime', 'Time a request waited before its handler ran (RequestQueueTimeMs).'],
    ['localtimems', 'localTime', "The handler's own work, up to its first wait (LocalTimeMs)."],
    [
      'remotetimems',
      'remoteTime',
      'Time the handler waited: fsync, long poll, metadata write (RemoteTimeMs).',
    ],
    [
      'responsequeuetimems',
      'responseQueueTime',
      'Time a response waited behind earlier ones (ResponseQueueTimeMs).',
    ],
    [
      'responsesendtimems',
      'responseSendTime',
      'Time to hand the response to the socket (ResponseSendTimeMs).',
    ],
  ] as const;
  for (const [name, field, help] of times) {
    registry.registerMetric(
      new CountedHistogram(`kafka_network_requestmetrics_${name}`, `${help} Milliseconds.`, ['request'], () =>
        apis().map(([request, s]) => [{ request }, s[field]] as [Labels, LatencyHistogram]),
      ),
    );
  }

  // ---- partitions (ReplicaManager, controller) ----
  const image = () => source.services.metadata?.image;
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  const hosted = () => (source.services.replicaManager ? [...source.services.replicaManager.all()] : []);
  gauge(
    'kafka_server_replicamanager_partitioncount',
    'Partitions hosted by this broker.',
    () => hosted().length,
  );
  gauge('kafka_server_replicamanager_leadercount', 'Partitions this broker leads.', () => {
    const img = image();
    const self = source.services.nodeId;
    if (!img) return 0;
    let n = 0;
    for (const t of img.topics()) for (const p of t.partitions.values()) if (p.leader === self) n++;
    return n;
  });
  // From the metadata image, so that replication sets them by changing ISRs and leaders.
  const partitionsWhere = (
    test: (p: { isr: readonly number[]; replicas: readonly number[]; leader: number }) => boolean,
  ) => {
    const img = image();
    if (!img) return 0;
    let n = 0;
    for (const t of img.topics()) for (const p of t.partitions.values()) if (test(p)) n++;
    return n;
  };
  gauge(
    'kafka_server_replicamanager_underreplicatedpartitions',
    'Partitions whose ISR is smaller than their replicas.',
    () => partitionsWhere((p) => p.leader >= 0 && p.isr.length < p.replicas.length),
  );
  gauge('kafka_controller_kafkacontroller_offlinepartitionscount', 'Partitions without a leader.', () =>
    partitionsWhere((p) => p.leader < 0),
  );
  gauge(
    'kafka_controller_kafkacontroller_activecontrollercount',
    'Whether this node is the active controller.',
    () => (image() ? 1 : 0),
  );
  gauge('kafka_controller_kafkacontroller_globaltopiccount', 'Topics in the cluster.', () => {
    const img = image();
    return img ? [...img.topics()].length : 0;
  });
  gauge('kafka_controller_kafkacontroller_globalpartitioncount', 'Partitions in the cluster.', () =>
    partitionsWhere(() => true),
  );

  // ---- logs, per partition ----
  const perPartition = (name: string, help: string, read: (log: PartitionLog) => number) =>
    registry.registerMetric(
      new PartitionGauge(name, help, () => source.services.replicaManager?.all() ?? [], read),
    );
  perPartition('kafka_log_log_size', "Bytes of the partition's log segments (Size).", (log) => log.size);
  perPartition(
    'kafka_log_log_numlogsegments',
    "Segments of the partition's log (NumLogSegments).",
    (log) => log.numberOfSegments,
  );
  registry.registerMetric(
    new CountedHistogram(
      'kafka_log_logflushstats_logflushrateandtimems',
      'Time of each log flush (fdatasync of the segments written since the last), milliseconds (LogFlushRateAndTimeMs).',
      [],
      () => [[{}, LOG_FLUSH_STATS]],
    ),
  );

  // ---- group coordinator (Kafka's group-coordinator-metrics) ----
  new Gauge({
    name: 'kafka_server_group_coordinator_metrics_classic_group_count',
    help: 'Classic groups by state.',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      const counts = source.services.groupCoordinator?.groupCountsByState() ?? new Map<string, number>();
      for (const state of ['PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty']) {
        this.set({ state }, counts.get(state) ?? 0);
      }
    },
  });
  new Counter({
    name: 'kafka_server_group_coordinator_metrics_classic_group_rebalance_count',
    help: 'Rebalances of classic groups started.',
    registers,
    collect() {
      this.reset();
      this.inc(source.services.groupCoordinator?.stats.rebalances ?? 0);
    },
  });
  new Counter({
    name: 'kafka_server_group_coordinator_metrics_offset_commit_count',
    help: 'Offsets committed (one per partition of an OffsetCommit).',
    registers,
    collect() {
      this.reset();
      this.inc(source.services.groupCoordinator?.stats.offsetCommits ?? 0);
    },
  });

  // ---- transaction coordinator ----
  new Gauge({
    name: 'kafka_server_transaction_coordinator_metrics_transaction_count',
    help: 'Transactional ids by the state of their transaction.',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      const counts =
        source.services.transactionCoordinator?.transactionCountsByState() ?? new Map<string, number>();
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });

  // ---- network (socket-server-metrics, per listener) ----
  const net = metrics.network;
  const listenerMetric = (kind: 'counter' | 'gauge', name: string, help: string, read: () => number) => {
    const config = {
      name: `kafka_server_socket_server_metrics_${name}`,
      help,
      labelNames: ['listener'],
      registers,
    };
    if (kind === 'gauge') {
      new Gauge({
        ...config,
        collect() {
          this.set({ listener: net.listener }, read());
        },
      });
    } else {
      new Counter({
        ...config,
        collect() {
          this.reset();
          this.inc({ listener: net.listener }, read());
        },
      });
    }
  };
  listenerMetric('gauge', 'connection_count', 'Open client connections.', () => net.connectionCount());
  listenerMetric(
    'counter',
    'connection_creation_total',
    'Connections accepted.',
    () => net.connectionsAccepted,
  );
  listenerMetric('counter', 'connection_close_total', 'Connections closed.', () => net.connectionsClosed);
  listenerMetric('counter', 'incoming_byte_total', 'Bytes read from clients.', () => net.bytesIn);
  listenerMetric('counter', 'outgoing_byte_total', 'Response bytes written to clients.', () => net.bytesOut);
  return registry;
}
