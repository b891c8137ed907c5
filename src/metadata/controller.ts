// Controller: the logic of Kafka's QuorumController for Samsa's single-node combined broker and
// controller (ReplicationControlManager, ConfigurationControlManager, ClusterControlManager,
// FeatureControlManager, ProducerIdControlManager), as a plain class with no I/O.
//
// Every operation reads the current MetadataImage and returns { records, response } without
// applying anything: the records are applied by replay once the metadata log has them durable,
// and only then is the response sent. Invariant for callers: run operations one at a time
// (compute → append → replay → next), as MetadataManager does; an operation computed against a
// stale image could, for example, create the same topic twice.

import type { BrokerConfig } from '../config/broker-config.js';
import { parseListener } from '../config/listeners.js';
import { BROKER_CONFIGS, type ConfigKeyDef, TOPIC_CONFIGS } from '../config/registry.js';
import { ErrorCode } from '../protocol/errors.js';
import type {
  AllocateProducerIdsResponse,
  AlterConfigsRequest,
  AlterConfigsResponse,
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
} from '../protocol/generated/index.js';
import { ZERO_UUID } from '../protocol/message.js';
import { type Clock, SYSTEM_TIME } from '../util/clock.js';
import {
  type ApiError,
  ConfigResolver,
  type StaticBrokerConfigs,
  staticBrokerConfigsFrom,
  type TopicLogConfig,
} from './configs.js';
import type { BrokerEndpoint, MetadataImage } from './image.js';
import {
  type ApiMessageAndVersion,
  ConfigResourceType,
  configRecord,
  featureLevelRecord,
  partitionRecord,
  producerIdsRecord,
  randomTopicId,
  registerBrokerRecord,
  removeTopicRecord,
  topicRecord,
} from './records.js';
import {
  GROUP_METADATA_TOPIC_NAME,
  isInternalTopic,
  TRANSACTION_STATE_TOPIC_NAME,
  topicNameError,
} from './topic-name.js';

/** What an operation produces: records to make durable and replay, and the response to send after. */
export interface ControllerResult<T> {
  readonly records: readonly ApiMessageAndVersion[];
  readonly response: T;
}

/** Kafka's limit on partitions created by one CreateTopics (ReplicationControlManager). */
export const MAX_PARTITIONS_PER_REQUEST = 10_000;

/** Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

/** The metadata.version Samsa finalizes on a new cluster: 4.1-IV1 (27), the 4.1 protocol it speaks. */
export const DEFAULT_METADATA_VERSION = 27;
/** Lowest metadata.version Kafka 4.x accepts (3.3-IV3). */
export const MIN_METADATA_VERSION = 7;

/** IncrementalAlterConfigs operations (AlterConfigOp.OpType). */
export const AlterConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

/** Kafka's SecurityProtocol ids, as RegisterBrokerRecord endpoints carry them. */
export const SecurityProtocol: Readonly<Record<string, number>> = {
  PLAINTEXT: 0,
  SSL: 1,
  SASL_PLAINTEXT: 2,
  SASL_SSL: 3,
};

/** Broker endpoints from listener strings ("PLAINTEXT://host:port"); the listener name is the protocol. */
export function endpointsFromListeners(listeners: readonly string[]): BrokerEndpoint[] {
  return listeners.map((l) => {
    const { name, host, port } = parseListener(l);
    return { name, host, port, securityProtocol: SecurityProtocol[name] ?? 0 };
  });
}

export interface ControllerOptions {
  readonly image: MetadataImage;
  /** This node's id (node.id): the broker whose dynamic configs and registration it manages. */
  readonly nodeId: number;
  /** num.partitions, default.replication.factor, delete.topic.enable, offsets.topic.num.partitions. */
  readonly config: BrokerConfig;
  /** Static broker configs (server.properties); by default those `config` says were set. */
  readonly staticConfigs?: StaticBrokerConfigs;
  /** The node's clock; reserved for broker sessions and timeouts. */
  readonly time?: Clock;
  /** Topic and incarnation ids; injectable for deterministic tests. */
  readonly randomUuid?: () => string;
}

export interface BootstrapOptions {
  /** This broker's advertised endpoints. */
  readonly endpoints: readonly BrokerEndpoint[];
  readonly rack?: string | null;
  /** Finalized feature levels for a new cluster; metadata.version defaults to DEFAULT_METADATA_VERSION. */
  readonly features?: Readonly<Record<string, number>>;
  /** Log directory ids (uuids) of this broker, if it assigns them. */
  readonly logDirs?: readonly string[];
}

interface TopicError {
  code: number;
  message: string | null;
}

const err = (code: number, message: string | null): TopicError => ({ code, message });

type CreatableTopic = CreateTopicsRequest.CreatableTopic;

export class Controller {
  readonly image: MetadataImage;
  readonly nodeId: number;
  private readonly config: BrokerConfig;
  private readonly staticConfigs: StaticBrokerConfigs;
  readonly time: Clock;
  private readonly randomUuid: () => string;

  constructor(opts: ControllerOptions) {
    this.image = opts.image;
    this.nodeId = opts.nodeId;
    this.config = opts.config;
    this.staticConfigs = opts.staticConfigs ?? staticBrokerConfigsFrom(opts.config);
    this.time = opts.time ?? SYSTEM_TIME;
    this.randomUuid = opts.randomUuid ?? (() => randomTopicId());
  }

  /** Config resolution against the current image (effective topic configs, validation, describe). */
  get configs(): ConfigResolver {
    return new ConfigResolver(this.image, this.staticConfigs, this.nodeId);
  }

  /** A topic's effective config (topic override → broker config → default), for the storage layer. */
  effectiveTopicConfig(topic: string): TopicLogConfig {
    return this.configs.effectiveTopicConfig(topic);
  }

  // ---- bootstrap and broker registration ----

  /**
   * What a starting node needs: on a new cluster the finalized features (metadata.version first),
   * and a RegisterBrokerRecord for this node when it is not registered or its endpoints or rack
   * changed. Samsa registers the broker unfenced: it is its own controller and has nothing to
   * catch up on. Returns the broker epoch in force afterwards.
   */
  bootstrap(opts: BootstrapOptions): ControllerResult<{ brokerEpoch: bigint }> {
    const records: ApiMessageAndVersion[] = [];
    const features = { 'metadata.version': DEFAULT_METADATA_VERSION, ...opts.features };
    if (!this.image.features.has('metadata.version')) {
      records.push(featureLevelRecord('metadata.version', features['metadata.version']));
      for (const [name, level] of Object.entries(features)) {
        if (name !== 'metadata.version' && level > 0) records.push(featureLevelRecord(name, level));
      }
    }
    const existing = this.image.broker(this.nodeId);
    const rack = opts.rack ?? null;
    const logDirs = [...(opts.logDirs ?? [])];
    const same =
      existing !== undefined &&
      !existing.fenced &&
      !existing.inControlledShutdown &&
      existing.rack === rack &&
      existing.endpoints.length === opts.endpoints.length &&
      existing.endpoints.every((e, i) => {
        const o = opts.endpoints[i];
        return (
          e.name === o.name &&
          e.host === o.host &&
          e.port === o.port &&
          e.securityProtocol === o.securityProtocol
        );
      }) &&
      existing.logDirs.length === logDirs.length &&
      existing.logDirs.every((d, i) => d === logDirs[i]);
    if (same) return { records, response: { brokerEpoch: existing.brokerEpoch } };
    const brokerEpoch = (existing?.brokerEpoch ?? 0n) + 1n;
    records.push(
      registerBrokerRecord({
        brokerId: this.nodeId,
        isMigratingZkBroker: false,
        incarnationId: this.randomUuid(),
        brokerEpoch,
        endPoints: opts.endpoints.map((e) => ({
          name: e.name,
          host: e.host,
          port: e.port,
          securityProtocol: e.securityProtocol,
        })),
        features: [
          {
            name: 'metadata.version',
            minSupportedVersion: MIN_METADATA_VERSION,
            maxSupportedVersion: Math.max(DEFAULT_METADATA_VERSION, features['metadata.version']),
          },
        ],
        rack,
        fenced: false,
        inControlledShutdown: false,
        logDirs,
      }),
    );
    return { records, response: { brokerEpoch } };
  }

  // ---- CreateTopics ----

  /**
   * CreateTopics, as ReplicationControlManager.createTopics plus ControllerApis' duplicate check.
   * With validateOnly the response is the same (including a topic id, as Kafka) and no records.
   */
  createTopics(request: CreateTopicsRequest): ControllerResult<CreateTopicsResponse> {
    const topics = request.topics;
    const response: CreateTopicsResponse = { throttleTimeMs: 0, topics: [] };

    // Kafka rejects the whole request when it asks for too many partitions in total.
    let total = 0;
    for (const t of topics) {
      if (t.assignments.length > 0) total += t.assignments.length;
      else if (t.numPartitions === -1) total += this.config.int('num.partitions');
      else if (t.numPartitions > 0) total += t.numPartitions;
    }
    if (total > MAX_PARTITIONS_PER_REQUEST) {
      for (const name of new Set(topics.map((t) => t.name))) {
        response.topics.push(
          errorResult(
            name,
            err(ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'),
          ),
        );
      }
      return { records: [], response };
    }

    const counts = new Map<string, number>();
    for (const t of topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const records: ApiMessageAndVersion[] = [];
    const done = new Set<string>();
    for (const topic of topics) {
      if (done.has(topic.name)) continue;
      done.add(topic.name);
      if ((counts.get(topic.name) ?? 0) > 1) {
        response.topics.push(
          errorResult(topic.name, err(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.')),
        );
        continue;
      }
      const result = this.createTopic(topic, records);
      response.topics.push(result);
    }
    return { records: request.validateOnly ? [] : records, response };
  }

  private createTopic(
    topic: CreatableTopic,
    records: ApiMessageAndVersion[],
  ): CreateTopicsResponse.CreatableTopicResult {
    const name = topic.name;
    const nameError = topicNameError(name);
    if (nameError !== null) return errorResult(name, err(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError));
    const colliding = this.image.collidingTopic(name);
    if (colliding !== undefined) {
      return errorResult(
        name,
        err(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${name}' collides with existing topic: ${colliding}`),
      );
    }
    if (this.image.topic(name)) {
      return errorResult(name, err(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`));
    }

    // Configs: as a map (a repeated name keeps its last value, as Kafka's HashMap does).
    const configs = new Map<string, string | null>();
    for (const c of topic.configs) configs.set(c.name, c.value);
    const configError = this.configs.validateTopicConfigs(configs);
    if (configError) return errorResult(name, configError);
    const creationConfigs = configs as Map<string, string>;

    const placed = this.placeNewTopic(topic);
    if ('code' in placed) return errorResult(name, placed);

    const topicId = this.randomUuid();
    records.push(topicRecord(name, topicId));
    // ConfigRecords go after the TopicRecord and before the PartitionRecords, as in Kafka.
    for (const [k, v] of creationConfigs) records.push(configRecord(ConfigResourceType.TOPIC, name, k, v));
    for (const [partitionId, p] of placed.entries()) {
      records.push(newPartitionRecord(topicId, partitionId, p.replicas, p.isr));
    }
    return {
      name,
      topicId,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topicConfigErrorCode: ErrorCode.NONE,
      numPartitions: placed.length,
      replicationFactor: placed[0].replicas.length,
      configs: this.configs.createTopicConfigs(creationConfigs),
    };
  }

  /** The replicas and ISR of each partition of a new topic, or why it cannot be created. */
  private placeNewTopic(topic: CreatableTopic): { replicas: number[]; isr: number[] }[] | TopicError {
    if (topic.assignments.length > 0) {
      if (topic.replicationFactor !== -1) {
        return err(
          ErrorCode.INVALID_REQUEST,
          'A manual partition assignment was specified, but replication factor was not set to -1.',
        );
      }
      if (topic.numPartitions !== -1) {
        return err(
          ErrorCode.INVALID_REQUEST,
          'A manual partition assignment was specified, but numPartitions was not set to -1.',
        );
      }
      const parts = new Map<number, { replicas: number[]; isr: number[] }>();
      let replicationFactor: number | undefined;
      for (const a of topic.assignments) {
        if (parts.has(a.partitionIndex)) {
          return err(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `Found multiple manual partition assignments for partition ${a.partitionIndex}`,
          );
        }
        const invalid = this.validateManualAssignment(a.brokerIds, replicationFactor);
        if (invalid) return invalid;
        replicationFactor = a.brokerIds.length;
        const isr = a.brokerIds.filter((id) => this.isUsable(id));
        if (isr.length === 0) {
          return err(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `All brokers specified in the manual partition assignment for partition ${a.partitionIndex} are fenced or in controlled shutdown.`,
          );
        }
        parts.set(a.partitionIndex, { replicas: [...a.brokerIds], isr });
      }
      const out: { replicas: number[]; isr: number[] }[] = [];
      for (let i = 0; i < parts.size; i++) {
        const p = parts.get(i);
        if (!p) {
          return err(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            'partitions should be a consecutive 0-based integer sequence',
          );
        }
        out.push(p);
      }
      return out;
    }
    if (topic.replicationFactor < -1 || topic.replicationFactor === 0) {
      return err(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        'Replication factor must be larger than 0, or -1 to use the default value.',
      );
    }
    if (topic.numPartitions < -1 || topic.numPartitions === 0) {
      return err(
        ErrorCode.INVALID_PARTITIONS,
        'Number of partitions was set to an invalid non-positive value.',
      );
    }
    const numPartitions =
      topic.numPartitions === -1 ? this.config.int('num.partitions') : topic.numPartitions;
    const replicationFactor =
      topic.replicationFactor === -1
        ? this.config.int('default.replication.factor')
        : topic.replicationFactor;
    const placement = this.place(0, numPartitions, replicationFactor);
    if (typeof placement === 'string') {
      return err(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Unable to replicate the partition ${replicationFactor} time(s): ${placement}`,
      );
    }
    const out: { replicas: number[]; isr: number[] }[] = [];
    for (const replicas of placement) {
      const isr = replicas.filter((id) => this.isUsable(id));
      if (isr.length === 0) {
        return err(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `Unable to replicate the partition ${replicationFactor} time(s): All brokers are currently fenced or in controlled shutdown.`,
        );
      }
      out.push({ replicas, isr });
    }
    return out;
  }

  /** ReplicationControlManager.validateManualPartitionAssignment. */
  private validateManualAssignment(
    brokerIds: readonly number[],
    replicationFactor: number | undefined,
  ): TopicError | null {
    if (brokerIds.length === 0) {
      return err(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        'The manual partition assignment includes an empty replica list.',
      );
    }
    const sorted = [...brokerIds].sort((a, b) => a - b);
    let prev: number | undefined;
    for (const id of sorted) {
      if (!this.image.broker(id)) {
        return err(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `The manual partition assignment includes broker ${id}, but no such broker is registered.`,
        );
      }
      if (id === prev) {
        return err(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `The manual partition assignment includes the broker ${prev} more than once.`,
        );
      }
      prev = id;
    }
    if (replicationFactor !== undefined && sorted.length !== replicationFactor) {
      return err(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `The manual partition assignment includes a partition with ${sorted.length} replica(s), but this is not consistent with previous partitions, which have ${replicationFactor} replica(s).`,
      );
    }
    return null;
  }

  private isUsable(brokerId: number): boolean {
    const b = this.image.broker(brokerId);
    return b !== undefined && !b.fenced && !b.inControlledShutdown;
  }

  /**
   * Replica placement (a simple stand-in for Kafka's StripedReplicaPlacer, without racks): partition
   * p starts at usable broker (p mod n) and takes the next ones round-robin, so leaders spread
   * evenly; fenced brokers fill in only when there are too few usable ones. Returns Kafka's
   * InvalidReplicationFactorException message when it cannot place.
   */
  private place(
    startPartition: number,
    numPartitions: number,
    replicationFactor: number,
  ): number[][] | string {
    if (replicationFactor <= 0) {
      return `Invalid replication factor ${replicationFactor}: the replication factor must be positive.`;
    }
    const usable = this.image.usableBrokers().map((b) => b.brokerId);
    if (usable.length === 0) return 'All brokers are currently fenced.';
    const others = [...this.image.brokers()]
      .map((b) => b.brokerId)
      .filter((id) => !usable.includes(id))
      .sort((a, b) => a - b);
    const total = usable.length + others.length;
    if (replicationFactor > total) {
      return `The target replication factor of ${replicationFactor} cannot be reached because only ${total} broker(s) are registered.`;
    }
    const out: number[][] = [];
    for (let p = startPartition; p < startPartition + numPartitions; p++) {
      const replicas: number[] = [];
      for (let i = 0; i < Math.min(replicationFactor, usable.length); i++)
        replicas.push(usable[(p + i) % usable.length]);
      for (let i = 0; replicas.length < replicationFactor; i++)
        replicas.push(others[(p + i) % others.length]);
      out.push(replicas);
    }
    return out;
  }

  /**
   * Auto topic creation (Metadata with allow_auto_topic_creation, FindCoordinator): CreateTopics
   * with the broker's defaults. The coordinators' internal topics get Kafka's settings for them
   * (compacted, offsets.topic.segment.bytes / 100 MiB segments, offsets.topic.num.partitions / 50
   * partitions), with a replication factor of at most the usable brokers (Kafka's default of 3
   * cannot be met by one node).
   */
  autoCreateTopics(names: readonly string[]): ControllerResult<CreateTopicsResponse> {
    const usable = Math.max(1, this.image.usableBrokers().length);
    return this.createTopics({
      timeoutMs: 0,
      validateOnly: false,
      topics: names.map((name) => {
        const cfg = (configs: Record<string, string>) =>
          Object.entries(configs).map(([k, value]) => ({ name: k, value }));
        if (name === GROUP_METADATA_TOPIC_NAME) {
          return {
            name,
            numPartitions: this.config.int('offsets.topic.num.partitions'),
            replicationFactor: Math.min(3, usable),
            assignments: [],
            configs: cfg({
              'cleanup.policy': 'compact',
              'compression.type': 'producer',
              'segment.bytes': String(this.config.int('offsets.topic.segment.bytes')),
            }),
          };
        }
        if (name === TRANSACTION_STATE_TOPIC_NAME) {
          const rf = Math.min(3, usable);
          return {
            name,
            numPartitions: this.config.int('transaction.state.log.num.partitions'),
            replicationFactor: rf,
            assignments: [],
            configs: cfg({
              'cleanup.policy': 'compact',
              'min.insync.replicas': String(Math.min(2, rf)),
              'segment.bytes': String(this.config.int('transaction.state.log.segment.bytes')),
              'unclean.leader.election.enable': 'false',
            }),
          };
        }
        return { name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] };
      }),
    });
  }

  // ---- DeleteTopics ----

  /**
   * DeleteTopics by name (all versions) or id (v6), as ControllerApis.deleteTopics: malformed
   * entries and duplicates get INVALID_REQUEST, unknown names UNKNOWN_TOPIC_OR_PARTITION, unknown
   * ids UNKNOWN_TOPIC_ID. Results come in request order (Kafka shuffles them). With
   * delete.topic.enable=false every topic gets TOPIC_DELETION_DISABLED (for requests below v3,
   * Kafka fails the request with INVALID_REQUEST instead: the handler decides), and the internal
   * topics (__consumer_offsets, __transaction_state) always get it.
   */
  deleteTopics(request: DeleteTopicsRequest): ControllerResult<DeleteTopicsResponse> {
    const entries: { name: string | null; topicId: string }[] =
      request.topics.length > 0
        ? request.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
        : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const response: DeleteTopicsResponse = { throttleTimeMs: 0, responses: [] };
    const add = (name: string | null, topicId: string, code: number, message: string | null) =>
      response.responses.push({ name, topicId, errorCode: code, errorMessage: message });

    if (!this.config.bool('delete.topic.enable')) {
      for (const e of entries)
        add(e.name, e.topicId, ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.');
      return { records: [], response };
    }

    const nameCount = new Map<string, number>();
    const idCount = new Map<string, number>();
    for (const e of entries) {
      if (e.name !== null && e.topicId === ZERO_UUID) nameCount.set(e.name, (nameCount.get(e.name) ?? 0) + 1);
      else if (e.name === null && e.topicId !== ZERO_UUID)
        idCount.set(e.topicId, (idCount.get(e.topicId) ?? 0) + 1);
    }
    const records: ApiMessageAndVersion[] = [];
    const deleted = new Set<string>();
    const reported = new Set<string>();
    for (const e of entries) {
      if (e.name === null && e.topicId === ZERO_UUID) {
        add(null, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.');
        continue;
      }
      if (e.name !== null && e.topicId !== ZERO_UUID) {
        add(
          e.name,
          e.topicId,
          ErrorCode.INVALID_REQUEST,
          'You may not specify both topic name and topic id.',
        );
        continue;
      }
      const byName = e.name !== null;
      const key = byName ? `n:${e.name}` : `i:${e.topicId}`;
      if (reported.has(key)) continue;
      reported.add(key);
      if (byName && (nameCount.get(e.name as string) ?? 0) > 1) {
        add(e.name, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.');
        continue;
      }
      if (!byName && (idCount.get(e.topicId) ?? 0) > 1) {
        add(null, e.topicId, ErrorCode.INVALID_REQUEST, 'Duplicate topic id.');
        continue;
      }
      const topic = byName ? this.image.topic(e.name as string) : this.image.topicById(e.topicId);
      if (!topic) {
        if (byName)
          add(
            e.name,
            ZERO_UUID,
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            'This server does not host this topic-partition.',
          );
        else add(null, e.topicId, ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.');
        continue;
      }
      if (deleted.has(topic.id)) {
        add(
          e.name,
          ZERO_UUID,
          ErrorCode.INVALID_REQUEST,
          'The provided topic name maps to an ID that was already supplied.',
        );
        continue;
      }
      if (isInternalTopic(topic.name)) {
        // The coordinators' logs: deleting one loses every group's offsets or every
        // transaction's state. Kafka's own tool refuses it (kafka-topics: "is a kafka internal
        // topic and is not allowed to be marked for deletion") but its broker does not; Samsa
        // refuses at the broker, so that no client can do it either.
        add(
          topic.name,
          topic.id,
          ErrorCode.TOPIC_DELETION_DISABLED,
          `Topic ${topic.name} is a Kafka internal topic and is not allowed to be deleted.`,
        );
        continue;
      }
      deleted.add(topic.id);
      records.push(removeTopicRecord(topic.id));
      add(topic.name, topic.id, ErrorCode.NONE, null);
    }
    return { records, response };
  }

  // ---- CreatePartitions ----

  /** CreatePartitions (increase only), as ReplicationControlManager.createPartitions. */
  createPartitions(request: CreatePartitionsRequest): ControllerResult<CreatePartitionsResponse> {
    const response: CreatePartitionsResponse = { throttleTimeMs: 0, results: [] };
    const counts = new Map<string, number>();
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);

    let additional = 0;
    for (const t of request.topics) {
      const current = this.image.topic(t.name)?.partitions.size ?? 0;
      if (counts.get(t.name) === 1 && current > 0 && t.count > current) additional += t.count - current;
    }
    if (additional > MAX_PARTITIONS_PER_REQUEST) {
      for (const name of counts.keys()) {
        response.results.push({
          name,
          errorCode: ErrorCode.POLICY_VIOLATION,
          errorMessage: 'Excessively large number of partitions per request.',
        });
      }
      return { records: [], response };
    }

    const records: ApiMessageAndVersion[] = [];
    const done = new Set<string>();
    for (const t of request.topics) {
      if (done.has(t.name)) continue;
      done.add(t.name);
      const e =
        (counts.get(t.name) ?? 0) > 1
          ? err(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.')
          : this.createPartitionsOfTopic(t, records);
      response.results.push({
        name: t.name,
        errorCode: e?.code ?? ErrorCode.NONE,
        errorMessage: e?.message ?? null,
      });
    }
    return { records: request.validateOnly ? [] : records, response };
  }

  private createPartitionsOfTopic(
    t: CreatePartitionsRequest.CreatePartitionsTopic,
    records: ApiMessageAndVersion[],
  ): TopicError | null {
    const topic = this.image.topic(t.name);
    if (!topic) return err(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, null);
    const current = topic.partitions.size;
    if (t.count === current)
      return err(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`);
    if (t.count < current) {
      return err(
        ErrorCode.INVALID_PARTITIONS,
        `The topic ${t.name} currently has ${current} partition(s); ${t.count} would not be an increase.`,
      );
    }
    const additional = t.count - current;
    if (t.assignments !== null && t.assignments.length !== additional) {
      return err(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Attempted to add ${additional} additional partition(s), but only ${t.assignments.length} assignment(s) were specified.`,
      );
    }
    const first = topic.partitions.get(0) ?? topic.partitions.values().next().value;
    if (!first)
      return err(
        ErrorCode.UNKNOWN_SERVER_ERROR,
        `Invalid state: topic ${t.name} appears to have no partitions.`,
      );
    const replicationFactor = first.replicas.length;
    const created: { replicas: number[]; isr: number[] }[] = [];
    if (t.assignments !== null) {
      for (let i = 0; i < t.assignments.length; i++) {
        const brokerIds = t.assignments[i].brokerIds;
        const invalid = this.validateManualAssignment(brokerIds, replicationFactor);
        if (invalid) return invalid;
        const isr = brokerIds.filter((id) => this.isUsable(id));
        if (isr.length === 0) {
          return err(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `All brokers specified in the manual partition assignment for partition ${current + i} are fenced or in controlled shutdown.`,
          );
        }
        created.push({ replicas: [...brokerIds], isr });
      }
    } else {
      const placement = this.place(current, additional, replicationFactor);
      if (typeof placement === 'string') return err(ErrorCode.INVALID_REPLICATION_FACTOR, placement);
      // As Kafka: placed partitions start with every replica in the ISR.
      for (const replicas of placement) created.push({ replicas, isr: [...replicas] });
    }
    for (const [i, p] of created.entries())
      records.push(newPartitionRecord(topic.id, current + i, p.replicas, p.isr));
    return null;
  }

  // ---- AlterConfigs / IncrementalAlterConfigs ----

  /**
   * Legacy AlterConfigs: the given configs replace the resource's whole config set (configs not
   * named are deleted). TOPIC and BROKER resources.
   */
  alterConfigs(request: AlterConfigsRequest): ControllerResult<AlterConfigsResponse> {
    const response: AlterConfigsResponse = { throttleTimeMs: 0, responses: [] };
    const records: ApiMessageAndVersion[] = [];
    const dup = duplicates(request.resources);
    for (const r of request.resources) {
      const result = (e: ApiError | null) =>
        response.responses.push({
          errorCode: e?.code ?? ErrorCode.NONE,
          errorMessage: e?.message ?? null,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
        });
      if (dup.has(resourceKey(r))) {
        result({ code: ErrorCode.INVALID_REQUEST, message: 'Duplicate resource.' });
        continue;
      }
      const resourceError = this.checkAlterableResource(r.resourceType, r.resourceName);
      if (resourceError) {
        result(resourceError);
        continue;
      }
      const current = this.image.configs(r.resourceType, r.resourceName);
      const next = new Map<string, string | null>();
      for (const c of r.configs) next.set(c.name, c.value);
      const out: ApiMessageAndVersion[] = [];
      const isBroker = r.resourceType === ConfigResourceType.BROKER;
      for (const [k, v] of next) {
        if (current.get(k) !== v || isBroker) out.push(configRecord(r.resourceType, r.resourceName, k, v));
      }
      for (const k of current.keys()) {
        if (!next.has(k)) out.push(configRecord(r.resourceType, r.resourceName, k, null));
      }
      const e = this.validateConfigChange(r.resourceType, next, isBroker ? next : withoutNulls(next));
      if (e) {
        result(e);
        continue;
      }
      records.push(...out);
      result(null);
    }
    return { records: request.validateOnly ? [] : records, response };
  }

  /**
   * IncrementalAlterConfigs: SET, DELETE, and APPEND / SUBTRACT for LIST configs (starting from the
   * current value, or the default when unset). TOPIC and BROKER resources; a BROKER resource is
   * "<nodeId>" (this broker) or "" (the cluster-wide default), and only Samsa's dynamic broker
   * configs (the log.* defaults of topic configs) may change, as Kafka's DynamicLogConfig.
   */
  incrementalAlterConfigs(
    request: IncrementalAlterConfigsRequest,
  ): ControllerResult<IncrementalAlterConfigsResponse> {
    const response: IncrementalAlterConfigsResponse = { throttleTimeMs: 0, responses: [] };
    const records: ApiMessageAndVersion[] = [];
    const dup = duplicates(request.resources);
    for (const r of request.resources) {
      const result = (e: ApiError | null) =>
        response.responses.push({
          errorCode: e?.code ?? ErrorCode.NONE,
          errorMessage: e?.message ?? null,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
        });
      if (dup.has(resourceKey(r))) {
        result({ code: ErrorCode.INVALID_REQUEST, message: 'Each resource must appear at most once.' });
        continue;
      }
      const names = r.configs.map((c) => c.name);
      if (new Set(names).size !== names.length) {
        result({ code: ErrorCode.INVALID_REQUEST, message: 'Error due to duplicate config keys' });
        continue;
      }
      const nullUpdates = r.configs.filter(
        (c) => c.configOperation !== AlterConfigOp.DELETE && c.value === null,
      );
      if (nullUpdates.length > 0) {
        result({
          code: ErrorCode.INVALID_REQUEST,
          message: `Null value not supported for : ${nullUpdates.map((c) => c.name).join(', ')}`,
        });
        continue;
      }
      const resourceError = this.checkAlterableResource(r.resourceType, r.resourceName);
      if (resourceError) {
        result(resourceError);
        continue;
      }
      const current = this.image.configs(r.resourceType, r.resourceName);
      const isBroker = r.resourceType === ConfigResourceType.BROKER;
      const changes = new Map<string, string | null>();
      let opError: ApiError | null = null;
      for (const c of r.configs) {
        const old = current.get(c.name) ?? null;
        let value: string | null = null;
        switch (c.configOperation) {
          case AlterConfigOp.SET:
            value = c.value;
            break;
          case AlterConfigOp.DELETE:
            value = null;
            break;
          case AlterConfigOp.APPEND:
          case AlterConfigOp.SUBTRACT: {
            if (!isListConfig(r.resourceType, c.name)) {
              opError = {
                code: ErrorCode.INVALID_CONFIG,
                message: `Can't ${c.configOperation === AlterConfigOp.APPEND ? 'APPEND' : 'SUBTRACT'} to key ${c.name} because its type is not LIST.`,
              };
              break;
            }
            const parts = listParts(old ?? defaultString(r.resourceType, c.name));
            for (const v of (c.value as string).split(',')) {
              if (c.configOperation === AlterConfigOp.APPEND) {
                if (!parts.includes(v)) parts.push(v);
              } else {
                const i = parts.indexOf(v);
                if (i >= 0) parts.splice(i, 1);
              }
            }
            value = parts.join(',');
            break;
          }
          default:
            opError = {
              code: ErrorCode.INVALID_REQUEST,
              message: `Unknown alter config operation ${c.configOperation}`,
            };
        }
        if (opError) break;
        if (old !== value || isBroker) changes.set(c.name, value);
      }
      if (opError) {
        result(opError);
        continue;
      }
      // The resource's configs after the change, for validation.
      const after = new Map<string, string | null>(current);
      for (const [k, v] of changes) {
        if (v === null) after.delete(k);
        else after.set(k, v);
      }
      const e = this.validateConfigChange(r.resourceType, changes, after);
      if (e) {
        result(e);
        continue;
      }
      for (const [k, v] of changes) records.push(configRecord(r.resourceType, r.resourceName, k, v));
      result(null);
    }
    return { records: request.validateOnly ? [] : records, response };
  }

  /** Whether configs of this resource may be altered (type supported, topic exists, broker known). */
  private checkAlterableResource(resourceType: number, resourceName: string): ApiError | null {
    switch (resourceType) {
      case ConfigResourceType.TOPIC: {
        if (resourceName === '')
          return { code: ErrorCode.INVALID_REQUEST, message: 'Default topic resources are not allowed.' };
        const nameError = topicNameError(resourceName);
        if (nameError) return { code: ErrorCode.INVALID_TOPIC_EXCEPTION, message: nameError };
        // A missing topic is reported before its configs are looked at (Kafka 2.7+'s order,
        // AdminZkClient.validateTopicConfig; a KRaft controller validates the names first):
        // "no such topic" is the answer that helps, whatever the configs say.
        if (!this.image.topic(resourceName)) {
          return {
            code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            message: `The topic '${resourceName}' does not exist.`,
          };
        }
        return null;
      }
      case ConfigResourceType.BROKER: {
        if (resourceName === '') return null;
        if (!/^-?\d+$/.test(resourceName)) {
          return { code: ErrorCode.INVALID_REQUEST, message: `Invalid broker name ${resourceName}` };
        }
        if (!this.image.broker(Number(resourceName)) && Number(resourceName) !== this.nodeId) {
          return {
            code: ErrorCode.BROKER_ID_NOT_REGISTERED,
            message: `No broker with id ${resourceName} found.`,
          };
        }
        return null;
      }
      case ConfigResourceType.BROKER_LOGGER:
      case ConfigResourceType.CLIENT_METRICS:
      case ConfigResourceType.GROUP:
        return {
          code: ErrorCode.INVALID_REQUEST,
          message: `Samsa does not support altering configs of resource type ${resourceTypeName(resourceType)}.`,
        };
      default:
        return { code: ErrorCode.UNSUPPORTED_VERSION, message: `Unknown resource type ${resourceType}.` };
    }
  }

  /**
   * Validates a config change: `changes` are the records' key/values (null = delete), `after` the
   * resource's whole config set once they are applied.
   */
  private validateConfigChange(
    resourceType: number,
    changes: ReadonlyMap<string, string | null>,
    after: ReadonlyMap<string, string | null>,
  ): ApiError | null {
    if (resourceType === ConfigResourceType.BROKER) return this.configs.validateBrokerConfigChange(changes);
    // The topic's existence was checked first (checkAlterableResource).
    return this.configs.validateTopicConfigs(after);
  }

  // ---- DescribeConfigs ----

  /**
   * DescribeConfigs data, as Kafka's ConfigHelper: for a topic every topic config with its value,
   * source and synonyms; for BROKER "<nodeId>" every broker config, for BROKER "" the cluster-wide
   * dynamic defaults. An empty or null key list means all keys.
   */
  describeConfigs(request: DescribeConfigsRequest): DescribeConfigsResponse {
    const resolver = this.configs;
    const results = request.resources.map((r): DescribeConfigsResponse.DescribeConfigsResult => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      const fail = (code: number, message: string | null) => ({
        ...base,
        errorCode: code,
        errorMessage: message,
        configs: [],
      });
      let configs: DescribeConfigsResponse.DescribeConfigsResourceResult[];
      switch (r.resourceType) {
        case ConfigResourceType.TOPIC: {
          const nameError = topicNameError(r.resourceName);
          if (nameError) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
          if (!this.image.topic(r.resourceName)) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, null);
          configs = resolver.describeTopic(
            r.resourceName,
            request.includeSynonyms,
            request.includeDocumentation,
          );
          break;
        }
        case ConfigResourceType.BROKER: {
          if (r.resourceName !== '') {
            if (!/^-?\d+$/.test(r.resourceName)) {
              return fail(
                ErrorCode.INVALID_REQUEST,
                `Broker id must be an integer, but it is: ${r.resourceName}`,
              );
            }
            if (Number(r.resourceName) !== this.nodeId) {
              return fail(
                ErrorCode.INVALID_REQUEST,
                `Unexpected broker id, expected ${this.nodeId} or empty string, but received ${r.resourceName}`,
              );
            }
          }
          configs = resolver.describeBroker(
            r.resourceName !== '',
            request.includeSynonyms,
            request.includeDocumentation,
          );
          break;
        }
        case ConfigResourceType.BROKER_LOGGER: {
          if (r.resourceName === '') return fail(ErrorCode.INVALID_REQUEST, 'Broker id must not be empty');
          if (r.resourceName !== String(this.nodeId)) {
            return fail(
              ErrorCode.INVALID_REQUEST,
              `Unexpected broker id, expected ${this.nodeId} but received ${r.resourceName}`,
            );
          }
          // Samsa has no log4j loggers to report.
          configs = [];
          break;
        }
        default:
          return fail(
            ErrorCode.INVALID_REQUEST,
            `Unsupported resource type: ${resourceTypeName(r.resourceType)}`,
          );
      }
      const keys = r.configurationKeys;
      if (keys !== null && keys.length > 0) configs = configs.filter((c) => keys.includes(c.name));
      return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
    });
    return { throttleTimeMs: 0, results };
  }

  // ---- producer ids ----

  /**
   * AllocateProducerIds: the next block of PRODUCER_ID_BLOCK_SIZE producer ids for a registered
   * broker (ProducerIdControlManager). The block is the broker's once the record is durable.
   */
  allocateProducerIds(brokerId: number, brokerEpoch: bigint): ControllerResult<AllocateProducerIdsResponse> {
    const fail = (errorCode: number) => ({
      records: [],
      response: { throttleTimeMs: 0, errorCode, producerIdStart: -1n, producerIdLen: 0 },
    });
    const broker = this.image.broker(brokerId);
    if (!broker) return fail(ErrorCode.BROKER_ID_NOT_REGISTERED);
    if (broker.brokerEpoch !== brokerEpoch) return fail(ErrorCode.STALE_BROKER_EPOCH);
    const start = this.image.producerIds?.nextProducerId ?? 0n;
    const size = BigInt(PRODUCER_ID_BLOCK_SIZE);
    if (start > 9223372036854775807n - size) return fail(ErrorCode.UNKNOWN_SERVER_ERROR);
    return {
      records: [producerIdsRecord(brokerId, brokerEpoch, start + size)],
      response: {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        producerIdStart: start,
        producerIdLen: PRODUCER_ID_BLOCK_SIZE,
      },
    };
  }
}

// ---- helpers ----

function errorResult(name: string, e: TopicError): CreateTopicsResponse.CreatableTopicResult {
  return {
    name,
    topicId: ZERO_UUID,
    errorCode: e.code,
    errorMessage: e.message,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: -1,
    replicationFactor: -1,
    configs: [],
  };
}

function newPartitionRecord(
  topicId: string,
  partitionId: number,
  replicas: number[],
  isr: number[],
): ApiMessageAndVersion {
  return partitionRecord({
    partitionId,
    topicId,
    replicas,
    isr,
    removingReplicas: [],
    addingReplicas: [],
    leader: isr[0],
    leaderRecoveryState: 0,
    leaderEpoch: 0,
    partitionEpoch: 0,
    directories: [],
    eligibleLeaderReplicas: null,
    lastKnownElr: null,
  });
}

function resourceKey(r: { resourceType: number; resourceName: string }): string {
  return `${r.resourceType}:${r.resourceName}`;
}

function duplicates(resources: readonly { resourceType: number; resourceName: string }[]): Set<string> {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const r of resources) {
    const k = resourceKey(r);
    if (seen.has(k)) dup.add(k);
    seen.add(k);
  }
  return dup;
}

function withoutNulls(m: ReadonlyMap<string, string | null>): Map<string, string | null> {
  return new Map([...m].filter(([, v]) => v !== null));
}

function resourceTypeName(type: number): string {
  const names: Record<number, string> = {
    2: 'TOPIC',
    4: 'BROKER',
    8: 'BROKER_LOGGER',
    16: 'CLIENT_METRICS',
    32: 'GROUP',
  };
  return names[type] ?? 'UNKNOWN';
}

function configDef(resourceType: number, name: string): ConfigKeyDef | undefined {
  return resourceType === ConfigResourceType.TOPIC ? TOPIC_CONFIGS.get(name) : BROKER_CONFIGS.get(name);
}

/** ConfigSchema.isSplittable: APPEND and SUBTRACT apply to LIST configs only. */
function isListConfig(resourceType: number, name: string): boolean {
  return configDef(resourceType, name)?.type === 'list';
}

function defaultString(resourceType: number, name: string): string | null {
  const def = configDef(resourceType, name);
  return def && Array.isArray(def.default) ? def.default.join(',') : null;
}

/** ConfigurationControlManager.getParts: comma-separated, empty parts dropped. */
function listParts(value: string | null): string[] {
  if (value === null) return [];
  return value.split(',').filter((s) => s !== '');
}
