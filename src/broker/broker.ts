// Broker: wires configuration, metadata, storage and the network layer together, and owns start
// and stop. `startBroker()` is the in-process entry point for tests and embedding; `samsa start`
// calls it. A single node is a one-node KRaft cluster: broker and controller in one process.
//
// Start order: bind the listeners (their ports is part of this broker's registration), replay the
// metadata log and register, open the partition logs (recovery), make the hosted partitions match
// the metadata image, then serve requests. Stop: stop serving, flush and checkpoint the logs
// (clean shutdown marker), close the metadata log.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ConsumerGroupConfig, ConsumerTopicMetadata } from '../coordinator/group/consumer-groups.js';
import { GroupCoordinator } from '../coordinator/group/coordinator.js';
import { TransactionCoordinator } from '../coordinator/transaction/coordinator.js';
import {
  ProducerIdAllocationError,
  ProducerIdManager,
} from '../coordinator/transaction/producer-id-manager.js';
import { envLogLevel, type Logger, type LogLevel, resolveLogger } from '../logging/logger.js';
import type { TopicLogConfig } from '../metadata/configs.js';
import { staticBrokerConfigsFrom } from '../metadata/configs.js';
import { type Controller, type ControllerResult, SecurityProtocol } from '../metadata/controller.js';
import type { BrokerEndpoint, MetadataChange, MetadataImage, TopicImage } from '../metadata/image.js';
import { MetadataManager } from '../metadata/manager.js';
import { FileMetadataLog, metadataLogPath } from '../metadata/metadata-log.js';
import { electSelf } from '../metadata/quorum-state.js';
import { GROUP_METADATA_TOPIC_NAME, TRANSACTION_STATE_TOPIC_NAME } from '../metadata/topic-name.js';
import { ErrorCode, errorByCode } from '../protocol/errors.js';
import { ZERO_UUID } from '../protocol/message.js';
import { type LogConfig, logConfigFromTopicConfigs } from '../storage/config.js';
import { lockLogDirs } from '../storage/log-dir-lock.js';
import { LogManager } from '../storage/log-manager.js';
import { type Clock, type NodeTime, SYSTEM_TIME } from '../util/clock.js';
import { ApiRegistry } from './api-handler.js';
import { BrokerConfig, loggableConfigs, parseListener } from './config.js';
import { FetchSessionCache } from './fetch-session.js';
import { registerHandlers } from './handlers/index.js';
import type { BrokerHttp } from './http-listener.js';
import { BrokerMetrics } from './metrics.js';
import { SocketServer } from './network/socket-server.js';
import { type SslListenerSettings, sslListenerSettings } from './network/ssl.js';
import { loadOffsetsTopic, OffsetsTopicStore } from './offsets-topic.js';
import { ReplicaManager } from './replica-manager.js';
import type { BrokerServices } from './services.js';
import { createOwnedTempDir, sweepStaleTempDirs } from './temp-dirs.js';
import { LocalTxnMarkerWriter, loadTransactionTopic, TransactionTopicStore } from './transaction-topic.js';

export interface StartBrokerOptions {
  /** Config values by Kafka name (listeners, log.dirs, ...), as a server.properties would give. */
  config?: Record<string, string> | BrokerConfig;
  /** The raw properties the config came from, for DescribeConfigs of names Samsa does not model. */
  rawConfig?: ReadonlyMap<string, string>;
  /**
   * Where the broker logs: a Logger (Samsa's minimal interface; a pino logger is one), or a level
   * ('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent') for Samsa's own logger on
   * stderr (pretty on a terminal, JSON lines otherwise). Default: SAMSA_LOG_LEVEL if set, else
   * 'warn' for startBroker() (an embedded broker is quiet) and 'info' for Broker.start().
   */
  logger?: Logger | LogLevel;
  /**
   * The node's clock and timers (src/util/clock.ts), shared by every module of the broker.
   * Default: the real ones; tests and simulations pass a SimulatedTime.
   */
  time?: NodeTime;
}

/** A listener as served: its name, protocol, and the address and port it is bound to. */
export interface BoundListener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly securityProtocol: string;
}

/**
 * The endpoints this broker registers, one per listener clients may use, as Kafka's
 * effectiveAdvertisedBrokerListeners: advertised.listeners when set (a port 0 there is the bound
 * port of that listener), else every listener with its bound port (a wildcard host advertised as
 * 127.0.0.1); controller listeners are not advertised to clients.
 */
function advertisedEndpoints(config: BrokerConfig, bound: readonly BoundListener[]): BrokerEndpoint[] {
  const controllers = new Set(config.list('controller.listener.names').map((n) => n.toUpperCase()));
  const byName = new Map(bound.map((l) => [l.name.toUpperCase(), l]));
  const advertised = config.list('advertised.listeners');
  const entries =
    advertised.length > 0
      ? advertised.map((text) => {
          const a = parseListener(text);
          const l = byName.get(a.name.toUpperCase());
          return { name: a.name, host: a.host, port: a.port === 0 && l ? l.port : a.port, listener: l };
        })
      : bound.map((l) => ({
          name: l.name,
          host: l.host === '' || l.host === '0.0.0.0' ? '127.0.0.1' : l.host,
          port: l.port,
          listener: l,
        }));
  const out = entries
    .filter((e) => !controllers.has(e.name.toUpperCase()))
    .map((e) => ({
      name: e.name,
      host: e.host,
      port: e.port,
      securityProtocol: SecurityProtocol[e.listener?.securityProtocol ?? 'PLAINTEXT'] ?? 0,
    }));
  // A node whose listeners are all controller listeners still answers on them.
  return out.length > 0
    ? out
    : entries.map((e) => ({ name: e.name, host: e.host, port: e.port, securityProtocol: 0 }));
}

/** A Kafka-style id: 16 random bytes in base64url, 22 characters. */
function newId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Requests one connection may have in progress at once. Kafka works on one per connection; a few
 * let one producer's pipelined requests share an fsync, and the cap bounds the responses a client
 * that never reads can make the broker hold (up to this many fetch responses).
 */
const MAX_IN_FLIGHT_PER_CONNECTION = 16;

/**
 * The storage view of a topic's effective config (storage's LOG_CONFIG_FIELDS says which topic
 * config feeds which field). flush.messages defaults to 1, Samsa's fsync before every ack; any
 * larger value selects page-cache mode, Long.MAX_VALUE (Kafka's own default, "never by count")
 * included. flush.ms at its default, Long.MAX_VALUE, is no timed flush; a set value selects
 * page-cache mode too.
 */
export function toLogConfig(c: TopicLogConfig): Partial<LogConfig> {
  return logConfigFromTopicConfigs(c.values);
}

/**
 * Logs the configuration a broker starts with: the names Samsa does not know, once, in one warn
 * line (as Kafka's "supplied but are not used" warning), and the values that differ from the
 * defaults in one info line, passwords redacted.
 */
function logStartupConfig(config: BrokerConfig, log: Logger): void {
  if (config.unknown.length > 0) {
    log.warn(
      { unused: config.unknown },
      `These configurations '[${config.unknown.join(', ')}]' were supplied but are not used by Samsa`,
    );
  }
  log.info(
    { config: loggableConfigs(config.nonDefault()) },
    'Broker config (values that differ from the defaults)',
  );
}

/**
 * Reads or creates meta.properties in the first log dir (Kafka's KRaft v1 format), which pins the
 * cluster id and node id of the data directory across restarts.
 */
function loadMetaProperties(
  dir: string,
  nodeId: number,
  time: Clock,
): { clusterId: string; directoryId: string } {
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
    // A file written before directory ids (KIP-858) has none: Kafka's "unassigned" zero uuid.
    return { clusterId, directoryId: props.get('directory.id') ?? ZERO_UUID };
  }
  const clusterId = newId();
  const directoryId = newId();
  const text = `#\n#${new Date(time.now()).toString()}\nversion=1\ncluster.id=${clusterId}\nnode.id=${nodeId}\ndirectory.id=${directoryId}\n`;
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
  return { clusterId, directoryId };
}

export class Broker {
  private readonly topicConfigs = new Map<string, TopicLogConfig>();
  private reconciling: Promise<void> = Promise.resolve();
  /** The HTTP listener (/metrics, /health), when http.listeners names one and it could bind. */
  http: BrokerHttp | null = null;

  private constructor(
    readonly config: BrokerConfig,
    readonly services: BrokerServices,
    private readonly servers: readonly SocketServer<BrokerServices>[],
    readonly host: string,
    readonly port: number,
    readonly log: Logger,
    /** Every listener served, with the port it is bound to (the first is host:port). */
    readonly listeners: readonly BoundListener[],
  ) {}

  /** "host:port" for clients' bootstrap.servers (the first listener). */
  get bootstrap(): string {
    return `${this.host}:${this.port}`;
  }

  /** "host:port" of the listener with this name (case-insensitive), for clients of that listener. */
  bootstrapOf(listenerName: string): string {
    const l = this.listeners.find((x) => x.name.toUpperCase() === listenerName.toUpperCase());
    if (!l) throw new Error(`no listener named ${listenerName}`);
    return `${this.host}:${l.port}`;
  }

  static async start(options: StartBrokerOptions = {}): Promise<Broker> {
    const time = options.time ?? SYSTEM_TIME;
    const startedAt = time.monotonicNs();
    const config =
      options.config instanceof BrokerConfig ? options.config : new BrokerConfig(options.config ?? {});
    const raw =
      options.rawConfig ??
      (options.config instanceof BrokerConfig ? undefined : new Map(Object.entries(options.config ?? {})));
    // Refused before anything is created: a listener Samsa cannot serve (SASL) or unmapped, and
    // an SSL listener whose key store or trust store cannot be used.
    const resolved = config.resolveListeners();
    const listeners =
      resolved.length > 0
        ? resolved
        : [{ ...parseListener('PLAINTEXT://127.0.0.1:9092'), securityProtocol: 'PLAINTEXT' as const }];
    const sslSettings = new Map<string, SslListenerSettings>();
    for (const l of listeners) {
      if (l.securityProtocol === 'SSL') sslSettings.set(l.name, sslListenerSettings(config, l.name));
    }
    const log = resolveLogger(options.logger, envLogLevel() ?? 'info');
    logStartupConfig(config, log);
    const nodeId = config.int('node.id');
    // No authorizer exists yet: running without the ACLs a named one would enforce is worse than
    // not starting (Kafka too fails to start when it cannot load the class).
    if (config.string('authorizer.class.name') !== '') {
      throw new Error(
        `authorizer.class.name=${config.string('authorizer.class.name')}: Samsa has no authorizer yet; leave it empty`,
      );
    }
    const logDirs = config.list('log.dirs').map((d) => resolve(d));
    const dataDir = logDirs[0] ?? resolve('./samsa-data');
    // Kafka's .lock in every log dir (the metadata dir is the first) before anything in them is
    // read or written: a second broker on the same data stops here. Held until stop().
    const locks = await lockLogDirs([dataDir, ...logDirs], (msg) => log.warn(msg));
    let clusterId: string;
    let quorum: Awaited<ReturnType<typeof electSelf>>;
    try {
      let directoryId: string;
      ({ clusterId, directoryId } = loadMetaProperties(dataDir, nodeId, time));
      quorum = await electSelf(dataDir, nodeId, directoryId);
    } catch (err) {
      locks.release();
      throw err;
    }

    const registry = new ApiRegistry<BrokerServices>(
      config.bool('unstable.api.versions.enable'),
      config.bool('samsa.legacy.protocol.enable'),
    );
    // Counters only while an HTTP listener can expose them (broker/metrics.ts).
    const withHttp = config.list('http.listeners').some((s) => s.trim() !== '');
    const metrics = withHttp ? new BrokerMetrics(listeners[0].name) : null;
    const services = { config, registry, nodeId, clusterId, quorum, time, metrics } as BrokerServices &
      Record<string, unknown>;
    const connectionOptions = {
      maxRequestBytes: config.int('socket.request.max.bytes'),
      maxInFlight: Math.min(config.int('queued.max.requests'), MAX_IN_FLIGHT_PER_CONNECTION),
      idleTimeoutMs: config.int('connections.max.idle.ms'),
      time,
      metrics,
    };
    // One server per listener, each bound before the registration that advertises its port.
    const servers: SocketServer<BrokerServices>[] = [];
    const bound: BoundListener[] = [];
    const closeServers = () => Promise.all(servers.map((s) => s.close()));
    try {
      for (const l of listeners) {
        const server = new SocketServer(registry, services as BrokerServices, connectionOptions, log, {
          name: l.name,
          securityProtocol: l.securityProtocol,
          ...(sslSettings.has(l.name) ? { ssl: sslSettings.get(l.name) } : {}),
        });
        servers.push(server);
        const bindHost = l.host === '' ? '0.0.0.0' : l.host;
        const port = await server.listen(bindHost, l.port);
        bound.push({ name: l.name, host: bindHost, port, securityProtocol: l.securityProtocol });
      }
    } catch (err) {
      await closeServers();
      locks.release();
      throw err;
    }
    const listener = listeners[0];
    const bindHost = bound[0].host;
    const port = bound[0].port;
    const advertisedHost = listener.host === '' || listener.host === '0.0.0.0' ? '127.0.0.1' : listener.host;
    let endpoints: BrokerEndpoint[];
    try {
      endpoints = advertisedEndpoints(config, bound);
    } catch (err) {
      await closeServers();
      locks.release();
      throw err;
    }

    let broker: Broker | undefined;
    const metadataLog = await FileMetadataLog.open(metadataLogPath(dataDir)).catch(async (err: unknown) => {
      await closeServers();
      locks.release();
      throw err;
    });
    const metadata = new MetadataManager({
      log: metadataLog,
      nodeId,
      config,
      staticConfigs: staticBrokerConfigsFrom(config, raw),
      time,
      onChange: (change) => broker?.onMetadataChange(change),
    });
    let http: BrokerHttp | null = null;
    try {
      // Before the replay and the log recovery, so that /health/ready answers 503 meanwhile.
      // Loaded only then: a broker without the listener never loads node's HTTP stack.
      if (metrics)
        http = await (await import('./http-listener.js')).startBrokerHttp({ config, log, metrics, services });
      if (metrics && !http) {
        // The default port was taken: no listener, so no counters either.
        connectionOptions.metrics = null;
        Object.assign(services, { metrics: null });
      }
      await metadata.start({ endpoints });
      const logManager = await LogManager.open({
        logDirs: logDirs.length > 0 ? logDirs : [dataDir],
        topicConfig: (topic) =>
          metadata.image.topic(topic)
            ? toLogConfig(metadata.controller.effectiveTopicConfig(topic))
            : undefined,
        retentionCheckIntervalMs: config.int('log.retention.check.interval.ms'),
        cleanerEnable: config.bool('log.cleaner.enable'),
        cleanerBackoffMs: config.int('log.cleaner.backoff.ms'),
        cleanerDedupeBufferBytes: config.int('log.cleaner.dedupe.buffer.size'),
        cleanerIoBufferBytes: config.int('log.cleaner.io.buffer.size'),
        producerIdExpirationMs: config.int('producer.id.expiration.ms'),
        producerIdExpirationCheckIntervalMs: config.int('producer.id.expiration.check.interval.ms'),
        logger: log,
        time,
      });
      await logManager.startup();
      Object.assign(services, {
        metadata,
        logManager,
        replicaManager: Object.assign(new ReplicaManager(time), {
          topicStats: services.metrics?.topics ?? null,
        }),
        fetchSessions: new FetchSessionCache(1000, time),
        advertisedEndpoints: endpoints,
      });
      broker = new Broker(config, services as BrokerServices, servers, advertisedHost, port, log, bound);
      services.runMetadataOp = (op) => broker!.runMetadataOp(op);
      services.ensureOffsetsTopic = () => broker!.ensureInternalTopic(GROUP_METADATA_TOPIC_NAME);
      services.ensureTransactionTopic = () => broker!.ensureInternalTopic(TRANSACTION_STATE_TOPIC_NAME);
      Object.assign(services, { producerIdManager: newProducerIdManager(services as BrokerServices) });
      await broker.reconcile();
      const groupCoordinator = newGroupCoordinator(config, services as BrokerServices, log);
      Object.assign(services, { groupCoordinator });
      await loadOffsetsTopic(
        groupCoordinator,
        services.replicaManager as ReplicaManager,
        config.int('offsets.topic.num.partitions'),
      );
      const txnMarkerWriter = new LocalTxnMarkerWriter(
        services.replicaManager as ReplicaManager,
        () => groupCoordinator,
      );
      const transactionCoordinator = newTransactionCoordinator(
        config,
        services as BrokerServices,
        groupCoordinator,
        txnMarkerWriter,
        log,
      );
      Object.assign(services, { transactionCoordinator, txnMarkerWriter });
      await loadTransactionTopic(
        transactionCoordinator,
        services.replicaManager as ReplicaManager,
        config.int('transaction.state.log.num.partitions'),
      );
      transactionCoordinator.startup();
      if (config.bool('transaction.partition.verification.enable')) {
        (services.replicaManager as ReplicaManager).transactionVerifier = (
          id,
          pid,
          epoch,
          topic,
          partition,
        ) =>
          transactionCoordinator.verifyPartitionsInTxn(id, pid, epoch, [{ topic, partition }])[0]
            ?.errorCode ?? ErrorCode.INVALID_TXN_STATE;
      }
      registerHandlers(registry);
    } catch (err) {
      await http?.close();
      await closeServers();
      await metadata.close().catch(() => {});
      locks.release();
      throw err;
    }
    broker.onStop(() => locks.release());
    for (const server of servers) server.open();
    broker.http = http;
    if (http) http.phase = 'serving';
    log.info(
      {
        listener: `${listener.name}://${bindHost}:${port}`,
        listeners: bound.map((l) => `${l.name}://${l.host}:${l.port}`),
        clusterId,
        nodeId,
        dataDir,
        partitions: [...broker.services.replicaManager.all()].length,
        httpListener: http?.address,
        startMs: Math.round(Number(time.monotonicNs() - startedAt) / 1e6),
      },
      `Samsa broker listening on ${bindHost}:${port}`,
    );
    return broker;
  }

  /** Runs a controller operation, then brings the hosted partitions in line with the new image. */
  async runMetadataOp<T>(op: (c: Controller) => ControllerResult<T>): Promise<T> {
    const response = await this.services.metadata.submit(op);
    await this.reconcile();
    return response;
  }

  private onMetadataChange(change: MetadataChange): void {
    if (change.kind === 'config-changed') {
      if (change.resourceType === 2) this.topicConfigs.delete(change.resourceName);
      else this.topicConfigs.clear();
    } else if (change.kind === 'topic-removed') {
      this.topicConfigs.delete(change.topic.name);
      this.services.metrics?.topics.remove(change.topic.name);
      // Committed offsets of a deleted topic go with it (Kafka's onPartitionsDeleted).
      const { groupCoordinator } = this.services;
      if (groupCoordinator && change.topic.name !== GROUP_METADATA_TOPIC_NAME) {
        groupCoordinator
          .onTopicsDeleted([change.topic.name])
          .catch((err) =>
            this.log.warn({ err, topic: change.topic.name }, 'removing offsets of a deleted topic failed'),
          );
      }
    }
  }

  private readonly creatingInternalTopics = new Map<string, Promise<void>>();

  /**
   * Creates a coordinator's topic (__consumer_offsets, __transaction_state) when it does not exist
   * yet, once however many lookups ask at the same time, and resolves when its partitions are
   * hosted here.
   */
  ensureInternalTopic(name: string): Promise<void> {
    if (this.services.metadata.image.topic(name)) return this.reconciling;
    let creating = this.creatingInternalTopics.get(name);
    if (!creating) {
      creating = this.runMetadataOp((c) => c.autoCreateTopics([name]))
        .then((res) => {
          const code = res.topics[0]?.errorCode ?? ErrorCode.NONE;
          if (code !== ErrorCode.NONE && code !== ErrorCode.TOPIC_ALREADY_EXISTS) {
            throw new Error(`creating ${name} failed: ${errorByCode(code).name}`);
          }
        })
        .finally(() => this.creatingInternalTopics.delete(name));
      this.creatingInternalTopics.set(name, creating);
    }
    return creating;
  }

  private topicConfig(topic: string): TopicLogConfig {
    let c = this.topicConfigs.get(topic);
    if (!c) {
      c = this.services.metadata.controller.effectiveTopicConfig(topic);
      this.topicConfigs.set(topic, c);
      this.services.logManager.updateTopicConfig(topic, toLogConfig(c));
    }
    return c;
  }

  /**
   * Makes the hosted partitions match the metadata image: opens or creates the log of every
   * partition with a replica here, deletes logs of partitions that are gone (a topic deleted, even
   * while the broker was down). Runs one at a time.
   */
  reconcile(): Promise<void> {
    const run = async () => {
      const { metadata, logManager, replicaManager, nodeId } = this.services;
      const image = metadata.image;
      for (const t of image.topics()) {
        for (const [index, reg] of t.partitions) {
          const existing = replicaManager.get(t.name, index);
          if (existing && existing.topicId === t.id && existing.leaderEpoch === reg.leaderEpoch) continue;
          if (!reg.replicas.includes(nodeId)) continue;
          if (existing && existing.topicId !== t.id) {
            // The name now belongs to a new topic (deleted and re-created between two
            // reconciles): the old topic's log goes first, or the new topic would inherit it.
            replicaManager.remove(t.name, index);
            await logManager.deleteLog(t.name, index);
          }
          const log =
            existing?.topicId === t.id
              ? existing.log
              : await logManager.getOrCreateLog(t.name, index, toLogConfig(this.topicConfig(t.name)), t.id);
          const name = t.name;
          replicaManager.add({
            topic: name,
            topicId: t.id,
            index,
            leaderEpoch: reg.leaderEpoch,
            log,
            config: () => this.topicConfig(name),
          });
        }
      }
      for (const p of [...replicaManager.all()]) {
        const t = image.topic(p.topic);
        if (t?.id === p.topicId && t.partitions.has(p.index)) continue;
        replicaManager.remove(p.topic, p.index);
        await logManager.deleteLog(p.topic, p.index);
      }
      for (const l of logManager.allLogs()) {
        const [topic, index] = [l.topicPartition.topic, l.topicPartition.partition];
        if (!replicaManager.get(topic, index)) await logManager.deleteLog(topic, index);
      }
    };
    this.reconciling = this.reconciling.then(run, run);
    return this.reconciling;
  }

  private readonly stopHooks: (() => void)[] = [];

  /** Runs after stop() has closed everything (removing a temporary data directory). */
  onStop(hook: () => void): void {
    this.stopHooks.push(hook);
  }

  async stop(): Promise<void> {
    if (this.http) this.http.phase = 'stopping';
    await Promise.all(this.servers.map((s) => s.close()));
    this.services.transactionCoordinator.shutdown();
    this.services.groupCoordinator.shutdown();
    await this.services.logManager.close();
    await this.services.metadata.close();
    await this.http?.close();
    for (const hook of this.stopHooks) hook();
    this.log.info('Samsa broker stopped');
  }
}

/**
 * Producer ids in blocks from the controller (AllocateProducerIds as this broker, at its current
 * registration epoch), each block durable in the metadata log before it is used.
 */
function newProducerIdManager(services: BrokerServices): ProducerIdManager {
  return new ProducerIdManager(async () => {
    const { metadata, nodeId } = services;
    const brokerEpoch = metadata.image.broker(nodeId)?.brokerEpoch ?? -1n;
    const res = await services.runMetadataOp((c) => c.allocateProducerIds(nodeId, brokerEpoch));
    if (res.errorCode !== ErrorCode.NONE) {
      throw new ProducerIdAllocationError(
        res.errorCode,
        `producer id block refused: ${errorByCode(res.errorCode).name}`,
      );
    }
    return { start: res.producerIdStart, length: res.producerIdLen };
  });
}

/** The group coordinator, configured from the broker's group.* and offsets.* settings. */
function newGroupCoordinator(config: BrokerConfig, services: BrokerServices, log: Logger): GroupCoordinator {
  const image = (): MetadataImage => services.metadata.image;
  return new GroupCoordinator({
    config: {
      numPartitions: config.int('offsets.topic.num.partitions'),
      groupMinSessionTimeoutMs: config.int('group.min.session.timeout.ms'),
      groupMaxSessionTimeoutMs: config.int('group.max.session.timeout.ms'),
      groupInitialRebalanceDelayMs: config.int('group.initial.rebalance.delay.ms'),
      groupMaxSize: config.int('group.max.size'),
      offsetMetadataMaxBytes: config.int('offset.metadata.max.bytes'),
      offsetsRetentionMs: config.int('offsets.retention.minutes') * 60_000,
      offsetsRetentionCheckIntervalMs: config.int('offsets.retention.check.interval.ms'),
      consumerGroup: consumerGroupConfig(config),
    },
    time: services.time,
    store: new OffsetsTopicStore(services.replicaManager),
    topics: {
      partitionExists: (topic, partition) => image().topic(topic)?.partitions.has(partition) ?? false,
      topic: (name) => topicMetadata(image().topic(name)),
      topicById: (id) => topicMetadata(image().topicById(id)),
      topicNames: () => [...image().topics()].map((t) => t.name),
    },
    logger: log.child({ component: 'group-coordinator' }),
  });
}

function topicMetadata(t: TopicImage | undefined): ConsumerTopicMetadata | undefined {
  return t && { id: t.id, name: t.name, numPartitions: t.partitions.size };
}

/** group.consumer.*: Kafka refuses to start when a value is outside its min/max. */
function consumerGroupConfig(config: BrokerConfig): ConsumerGroupConfig {
  const within = (name: string, min: string, max: string): number => {
    const v = config.int(name);
    if (v < config.int(min) || v > config.int(max)) {
      throw new Error(
        `${name} (${v}) must be between ${min} (${config.int(min)}) and ${max} (${config.int(max)})`,
      );
    }
    return v;
  };
  return {
    sessionTimeoutMs: within(
      'group.consumer.session.timeout.ms',
      'group.consumer.min.session.timeout.ms',
      'group.consumer.max.session.timeout.ms',
    ),
    heartbeatIntervalMs: within(
      'group.consumer.heartbeat.interval.ms',
      'group.consumer.min.heartbeat.interval.ms',
      'group.consumer.max.heartbeat.interval.ms',
    ),
    maxSize: config.int('group.consumer.max.size'),
    assignors: config.list('group.consumer.assignors'),
  };
}

/** The transaction coordinator, configured from the broker's transaction.* settings. */
function newTransactionCoordinator(
  config: BrokerConfig,
  services: BrokerServices,
  groupCoordinator: GroupCoordinator,
  markers: LocalTxnMarkerWriter,
  log: Logger,
): TransactionCoordinator {
  return new TransactionCoordinator({
    time: services.time,
    store: new TransactionTopicStore(services.replicaManager),
    markers,
    generateProducerId: () => services.producerIdManager.generate(),
    numPartitions: config.int('transaction.state.log.num.partitions'),
    transactionMaxTimeoutMs: config.int('transaction.max.timeout.ms'),
    transactionalIdExpirationMs: config.int('transactional.id.expiration.ms'),
    abortTimedOutTransactionCleanupIntervalMs: config.int(
      'transaction.abort.timed.out.transaction.cleanup.interval.ms',
    ),
    removeExpiredTransactionalIdsIntervalMs: config.int(
      'transaction.remove.expired.transaction.cleanup.interval.ms',
    ),
    groupPartitionFor: (groupId) => groupCoordinator.partitionFor(groupId),
    // The next transaction of an id waits for the previous one's markers rather than answering
    // CONCURRENT_TRANSACTIONS (the client's retry would cost it a backoff each time).
    completionWaitMs: 5000,
    logger: log.child({ component: 'transaction-coordinator' }),
  });
}

/**
 * Starts a broker in this process, for tests and embedding. Unlike `samsa start`:
 * - it listens on a free port (127.0.0.1:0), with no HTTP listener unless http.listeners is given;
 * - unless log.dirs is given, it keeps its data in a fresh temporary directory that stop()
 *   removes; one left by a process that died without stop() is removed by the next
 *   startBroker() of any process (./temp-dirs.ts);
 * - group.initial.rebalance.delay.ms defaults to 0 (Kafka's 3000 makes every test's first
 *   consumer group wait 3 s); a value given in `config` is kept;
 * - it logs warnings and errors only, unless `logger` or SAMSA_LOG_LEVEL says otherwise.
 * A BrokerConfig instance is used as it is (none of these defaults apply but the logger's).
 */
export async function startBroker(options: StartBrokerOptions = {}): Promise<Broker> {
  const logger = resolveLogger(options.logger, envLogLevel() ?? 'warn');
  if (options.config instanceof BrokerConfig) return Broker.start({ ...options, logger });
  const config: Record<string, string> = {
    listeners: 'PLAINTEXT://127.0.0.1:0',
    'group.initial.rebalance.delay.ms': '0',
    'http.listeners': '',
    ...options.config,
  };
  let temp: string | undefined;
  if (config['log.dirs'] === undefined) {
    sweepStaleTempDirs();
    const owned = createOwnedTempDir();
    temp = owned.dir;
    config['log.dirs'] = owned.dataDir;
  }
  try {
    const broker = await Broker.start({ ...options, config, logger });
    if (temp) broker.onStop(() => rmSync(temp, { recursive: true, force: true }));
    return broker;
  } catch (err) {
    if (temp) rmSync(temp, { recursive: true, force: true });
    throw err;
  }
}
