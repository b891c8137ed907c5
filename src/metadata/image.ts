// MetadataImage: the cluster metadata as the metadata log's records build it: topics (by name and
// by id) with their partitions, configs (topic, broker and other resources), registered brokers,
// finalized features, the producer-id block, and ACLs.
//
// One owner, mutated only by replay(record): the image never changes for any other reason, so
// replaying the same records always yields the same image (the restart guarantee). Readers get
// read-only views; they must not keep a view across an await if they need a consistent picture.

import type { AccessControlEntryRecord } from '../protocol/generated/index.js';
import {
  type ApiMessageAndVersion,
  ConfigResourceType,
  configRecord,
  featureLevelRecord,
  producerIdsRecord,
  registerBrokerRecord,
  topicRecord,
} from './records.js';
import { hasCollisionChars, unifyCollisionChars } from './topic-name.js';

/** A partition's registration (Kafka's PartitionRegistration). */
export interface PartitionRegistration {
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly removingReplicas: readonly number[];
  readonly addingReplicas: readonly number[];
  /** The leader's broker id, or -1 when there is none. */
  readonly leader: number;
  readonly leaderRecoveryState: number;
  readonly leaderEpoch: number;
  /** Bumped on every change to the partition. */
  readonly partitionEpoch: number;
  readonly directories: readonly string[];
  readonly eligibleLeaderReplicas: readonly number[];
  readonly lastKnownElr: readonly number[];
}

export interface TopicImage {
  readonly name: string;
  readonly id: string;
  /** Partitions by id; ids are 0..n-1 once the topic's creation records are all replayed. */
  readonly partitions: ReadonlyMap<number, PartitionRegistration>;
}

export interface BrokerEndpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly securityProtocol: number;
}

export interface BrokerRegistration {
  readonly brokerId: number;
  readonly incarnationId: string;
  readonly brokerEpoch: bigint;
  readonly endpoints: readonly BrokerEndpoint[];
  readonly features: ReadonlyMap<string, { readonly min: number; readonly max: number }>;
  readonly rack: string | null;
  readonly fenced: boolean;
  readonly inControlledShutdown: boolean;
  readonly logDirs: readonly string[];
}

export interface ProducerIdsState {
  /** The first producer id of the next block the controller hands out. */
  readonly nextProducerId: bigint;
  readonly brokerId: number;
  readonly brokerEpoch: bigint;
}

/** What one replayed record changed, for whoever reacts to metadata (the log manager, caches). */
export type MetadataChange =
  | { readonly kind: 'topic-created'; readonly topic: TopicImage }
  | {
      readonly kind: 'partition-changed';
      readonly topic: TopicImage;
      readonly partitionId: number;
      readonly partition: PartitionRegistration;
      /** True for a PartitionRecord of a partition the topic did not have. */
      readonly created: boolean;
    }
  /** `topic` is the topic as it was just before its removal (with its partitions). */
  | { readonly kind: 'topic-removed'; readonly topic: TopicImage }
  | {
      readonly kind: 'config-changed';
      readonly resourceType: number;
      readonly resourceName: string;
      readonly name: string;
      readonly value: string | null;
    }
  | {
      readonly kind: 'broker-changed';
      readonly brokerId: number;
      readonly registration: BrokerRegistration | null;
    }
  | { readonly kind: 'feature-changed'; readonly name: string; readonly level: number }
  | { readonly kind: 'producer-ids-changed'; readonly state: ProducerIdsState }
  | { readonly kind: 'acl-changed'; readonly id: string }
  | { readonly kind: 'none' };

/** A record the image cannot apply: the log is inconsistent (or written by a buggy controller). */
export class MetadataReplayError extends Error {
  override name = 'MetadataReplayError';
}

interface MutableTopic {
  readonly name: string;
  readonly id: string;
  readonly partitions: Map<number, PartitionRegistration>;
}

const NONE: MetadataChange = { kind: 'none' };
const NO_LEADER_CHANGE = -2;

export class MetadataImage {
  private readonly byName = new Map<string, MutableTopic>();
  private readonly byId = new Map<string, MutableTopic>();
  /** unifyCollisionChars(name) → names of existing topics with '.' or '_'. */
  private readonly collisions = new Map<string, Set<string>>();
  /** resourceType → resourceName → config name → value. */
  private readonly configData = new Map<number, Map<string, Map<string, string>>>();
  private readonly brokerData = new Map<number, BrokerRegistration>();
  private readonly featureData = new Map<string, number>();
  private readonly aclData = new Map<string, AccessControlEntryRecord>();
  private producerIdData: ProducerIdsState | null = null;
  private recordCount = 0;

  /** The number of records replayed so far. */
  get recordsReplayed(): number {
    return this.recordCount;
  }

  // ---- readers ----

  topics(): IterableIterator<TopicImage> {
    return this.byName.values();
  }

  get topicCount(): number {
    return this.byName.size;
  }

  topic(name: string): TopicImage | undefined {
    return this.byName.get(name);
  }

  topicById(id: string): TopicImage | undefined {
    return this.byId.get(id);
  }

  partition(topic: string, partitionId: number): PartitionRegistration | undefined {
    return this.byName.get(topic)?.partitions.get(partitionId);
  }

  /** The existing topic that `name` collides with ('.' vs '_'), other than `name` itself. */
  collidingTopic(name: string): string | undefined {
    if (!hasCollisionChars(name)) return undefined;
    for (const other of this.collisions.get(unifyCollisionChars(name)) ?? []) {
      if (other !== name) return other;
    }
    return undefined;
  }

  /** The configs set on one resource (ConfigRecords), e.g. configs(TOPIC, 'orders'). */
  configs(resourceType: number, resourceName: string): ReadonlyMap<string, string> {
    return this.configData.get(resourceType)?.get(resourceName) ?? EMPTY_MAP;
  }

  /** The dynamic topic configs (overrides) of a topic. */
  topicConfigs(topic: string): ReadonlyMap<string, string> {
    return this.configs(ConfigResourceType.TOPIC, topic);
  }

  /** Names of the resources of one type that have configs. */
  configResources(resourceType: number): IterableIterator<string> {
    return (this.configData.get(resourceType) ?? new Map<string, Map<string, string>>()).keys();
  }

  brokers(): IterableIterator<BrokerRegistration> {
    return this.brokerData.values();
  }

  broker(id: number): BrokerRegistration | undefined {
    return this.brokerData.get(id);
  }

  /** Brokers that may host replicas: registered, not fenced, not shutting down. */
  usableBrokers(): BrokerRegistration[] {
    return [...this.brokerData.values()]
      .filter((b) => !b.fenced && !b.inControlledShutdown)
      .sort((a, b) => a.brokerId - b.brokerId);
  }

  /** Finalized feature levels, e.g. features.get('metadata.version'). */
  get features(): ReadonlyMap<string, number> {
    return this.featureData;
  }

  get producerIds(): ProducerIdsState | null {
    return this.producerIdData;
  }

  get acls(): ReadonlyMap<string, AccessControlEntryRecord> {
    return this.aclData;
  }

  // ---- replay ----

  /** Applies one record. Throws MetadataReplayError if the record contradicts the image. */
  replay(r: ApiMessageAndVersion): MetadataChange {
    const change = this.apply(r);
    this.recordCount++;
    return change;
  }

  private apply(r: ApiMessageAndVersion): MetadataChange {
    switch (r.type) {
      case 2: {
        const { name, topicId } = r.message;
        if (this.byName.has(name)) throw new MetadataReplayError(`TopicRecord for existing topic ${name}`);
        if (this.byId.has(topicId))
          throw new MetadataReplayError(`TopicRecord for existing topic id ${topicId}`);
        const topic: MutableTopic = { name, id: topicId, partitions: new Map() };
        this.byName.set(name, topic);
        this.byId.set(topicId, topic);
        if (hasCollisionChars(name)) {
          const key = unifyCollisionChars(name);
          const set = this.collisions.get(key) ?? new Set<string>();
          this.collisions.set(key, set);
          set.add(name);
        }
        return { kind: 'topic-created', topic };
      }
      case 3: {
        const m = r.message;
        const topic = this.byId.get(m.topicId);
        if (!topic) throw new MetadataReplayError(`PartitionRecord for unknown topic id ${m.topicId}`);
        const created = !topic.partitions.has(m.partitionId);
        const partition: PartitionRegistration = {
          replicas: m.replicas,
          isr: m.isr,
          removingReplicas: m.removingReplicas,
          addingReplicas: m.addingReplicas,
          leader: m.leader,
          leaderRecoveryState: m.leaderRecoveryState,
          leaderEpoch: m.leaderEpoch,
          partitionEpoch: m.partitionEpoch,
          directories: m.directories,
          eligibleLeaderReplicas: m.eligibleLeaderReplicas ?? [],
          lastKnownElr: m.lastKnownElr ?? [],
        };
        topic.partitions.set(m.partitionId, partition);
        return { kind: 'partition-changed', topic, partitionId: m.partitionId, partition, created };
      }
      case 5: {
        const m = r.message;
        const topic = this.byId.get(m.topicId);
        const old = topic?.partitions.get(m.partitionId);
        if (!topic || !old) {
          throw new MetadataReplayError(
            `PartitionChangeRecord for unknown partition ${m.topicId}-${m.partitionId}`,
          );
        }
        // PartitionRegistration.merge: the leader epoch moves only when the leader field is set.
        const leaderChanged = m.leader !== NO_LEADER_CHANGE;
        const partition: PartitionRegistration = {
          replicas: m.replicas ?? old.replicas,
          isr: m.isr ?? old.isr,
          removingReplicas: m.removingReplicas ?? old.removingReplicas,
          addingReplicas: m.addingReplicas ?? old.addingReplicas,
          leader: leaderChanged ? m.leader : old.leader,
          leaderRecoveryState: m.leaderRecoveryState === -1 ? old.leaderRecoveryState : m.leaderRecoveryState,
          leaderEpoch: leaderChanged ? old.leaderEpoch + 1 : old.leaderEpoch,
          partitionEpoch: old.partitionEpoch + 1,
          directories: m.directories ?? old.directories,
          eligibleLeaderReplicas: m.eligibleLeaderReplicas ?? old.eligibleLeaderReplicas,
          lastKnownElr: m.lastKnownElr ?? old.lastKnownElr,
        };
        topic.partitions.set(m.partitionId, partition);
        return { kind: 'partition-changed', topic, partitionId: m.partitionId, partition, created: false };
      }
      case 9: {
        const topic = this.byId.get(r.message.topicId);
        if (!topic)
          throw new MetadataReplayError(`RemoveTopicRecord for unknown topic id ${r.message.topicId}`);
        this.byId.delete(topic.id);
        this.byName.delete(topic.name);
        if (hasCollisionChars(topic.name)) {
          const key = unifyCollisionChars(topic.name);
          const set = this.collisions.get(key);
          set?.delete(topic.name);
          if (set?.size === 0) this.collisions.delete(key);
        }
        // As Kafka's ConfigurationControlManager.deleteTopicConfigs: the topic's configs go with it.
        this.configData.get(ConfigResourceType.TOPIC)?.delete(topic.name);
        return { kind: 'topic-removed', topic };
      }
      case 4: {
        const { resourceType, resourceName, name, value } = r.message;
        const byName = this.configData.get(resourceType) ?? new Map<string, Map<string, string>>();
        this.configData.set(resourceType, byName);
        const configs = byName.get(resourceName) ?? new Map<string, string>();
        if (value === null) configs.delete(name);
        else configs.set(name, value);
        if (configs.size > 0) byName.set(resourceName, configs);
        else byName.delete(resourceName);
        return { kind: 'config-changed', resourceType, resourceName, name, value };
      }
      case 0: {
        const m = r.message;
        const registration: BrokerRegistration = {
          brokerId: m.brokerId,
          incarnationId: m.incarnationId,
          brokerEpoch: m.brokerEpoch,
          endpoints: m.endPoints.map((e) => ({
            name: e.name,
            host: e.host,
            port: e.port,
            securityProtocol: e.securityProtocol,
          })),
          features: new Map(
            m.features.map((f) => [f.name, { min: f.minSupportedVersion, max: f.maxSupportedVersion }]),
          ),
          rack: m.rack,
          fenced: m.fenced,
          inControlledShutdown: m.inControlledShutdown,
          logDirs: m.logDirs,
        };
        this.brokerData.set(m.brokerId, registration);
        return { kind: 'broker-changed', brokerId: m.brokerId, registration };
      }
      case 1: {
        const { brokerId, brokerEpoch } = r.message;
        const b = this.brokerData.get(brokerId);
        if (!b || b.brokerEpoch !== brokerEpoch) return NONE;
        this.brokerData.delete(brokerId);
        return { kind: 'broker-changed', brokerId, registration: null };
      }
      case 7:
      case 8:
        return this.updateBroker(r.message.id, r.message.epoch, { fenced: r.type === 7 });
      case 17: {
        const m = r.message;
        const update: { fenced?: boolean; inControlledShutdown?: boolean; logDirs?: readonly string[] } = {};
        if (m.fenced === 1) update.fenced = true;
        else if (m.fenced === -1) update.fenced = false;
        if (m.inControlledShutdown === 1) update.inControlledShutdown = true;
        if (m.logDirs.length > 0) update.logDirs = m.logDirs;
        return this.updateBroker(m.brokerId, m.brokerEpoch, update);
      }
      case 12: {
        const { name, featureLevel } = r.message;
        if (featureLevel === 0) this.featureData.delete(name);
        else this.featureData.set(name, featureLevel);
        return { kind: 'feature-changed', name, level: featureLevel };
      }
      case 15: {
        const { nextProducerId, brokerId, brokerEpoch } = r.message;
        if (this.producerIdData && nextProducerId <= this.producerIdData.nextProducerId) {
          throw new MetadataReplayError(
            `ProducerIdsRecord moves the next producer id back from ${this.producerIdData.nextProducerId} to ${nextProducerId}`,
          );
        }
        this.producerIdData = { nextProducerId, brokerId, brokerEpoch };
        return { kind: 'producer-ids-changed', state: this.producerIdData };
      }
      case 18:
        this.aclData.set(r.message.id, r.message);
        return { kind: 'acl-changed', id: r.message.id };
      case 19:
        this.aclData.delete(r.message.id);
        return { kind: 'acl-changed', id: r.message.id };
      default:
        // NoOpRecord, controller registrations, quotas, SCRAM, delegation tokens, ZK migration and
        // transaction markers: nothing in Samsa's image depends on them yet.
        return NONE;
    }
  }

  private updateBroker(
    brokerId: number,
    epoch: bigint,
    update: { fenced?: boolean; inControlledShutdown?: boolean; logDirs?: readonly string[] },
  ): MetadataChange {
    const b = this.brokerData.get(brokerId);
    if (!b) throw new MetadataReplayError(`registration change for unknown broker ${brokerId}`);
    if (b.brokerEpoch !== epoch) {
      throw new MetadataReplayError(
        `registration change for broker ${brokerId} epoch ${epoch}, not ${b.brokerEpoch}`,
      );
    }
    const registration: BrokerRegistration = { ...b, ...update };
    this.brokerData.set(brokerId, registration);
    return { kind: 'broker-changed', brokerId, registration };
  }

  // ---- snapshot ----

  /**
   * The shortest list of records that rebuilds this image from empty: features, brokers, producer
   * ids, then per topic its TopicRecord, ConfigRecords and PartitionRecords, then other configs and
   * ACLs. Replaying it yields an equal image (apart from recordsReplayed). Used to compact the
   * metadata log and to compare images in tests.
   */
  toRecords(): ApiMessageAndVersion[] {
    const out: ApiMessageAndVersion[] = [];
    // metadata.version first, as in Kafka's bootstrap records; then the others by name.
    const rank = (n: string) => (n === 'metadata.version' ? `0${n}` : `1${n}`);
    for (const [name, level] of [...this.featureData].sort(([a], [b]) => (rank(a) < rank(b) ? -1 : 1))) {
      out.push(featureLevelRecord(name, level));
    }
    for (const b of [...this.brokerData.values()].sort((x, y) => x.brokerId - y.brokerId)) {
      out.push(
        registerBrokerRecord({
          brokerId: b.brokerId,
          isMigratingZkBroker: false,
          incarnationId: b.incarnationId,
          brokerEpoch: b.brokerEpoch,
          endPoints: b.endpoints.map((e) => ({ ...e })),
          features: [...b.features].map(([name, v]) => ({
            name,
            minSupportedVersion: v.min,
            maxSupportedVersion: v.max,
          })),
          rack: b.rack,
          fenced: b.fenced,
          inControlledShutdown: b.inControlledShutdown,
          logDirs: [...b.logDirs],
        }),
      );
    }
    if (this.producerIdData) {
      const p = this.producerIdData;
      out.push(producerIdsRecord(p.brokerId, p.brokerEpoch, p.nextProducerId));
    }
    for (const topic of this.byName.values()) {
      out.push(topicRecord(topic.name, topic.id));
      for (const [k, v] of this.topicConfigs(topic.name))
        out.push(configRecord(ConfigResourceType.TOPIC, topic.name, k, v));
      for (const [id, p] of [...topic.partitions].sort(([a], [b]) => a - b)) {
        const message = {
          partitionId: id,
          topicId: topic.id,
          replicas: [...p.replicas],
          isr: [...p.isr],
          removingReplicas: [...p.removingReplicas],
          addingReplicas: [...p.addingReplicas],
          leader: p.leader,
          leaderRecoveryState: p.leaderRecoveryState,
          leaderEpoch: p.leaderEpoch,
          partitionEpoch: p.partitionEpoch,
          directories: [...p.directories],
          eligibleLeaderReplicas: p.eligibleLeaderReplicas.length > 0 ? [...p.eligibleLeaderReplicas] : null,
          lastKnownElr: p.lastKnownElr.length > 0 ? [...p.lastKnownElr] : null,
        };
        // The lowest record version that carries every field that is set.
        const version =
          message.eligibleLeaderReplicas || message.lastKnownElr ? 2 : message.directories.length > 0 ? 1 : 0;
        out.push({ type: 3, version, message });
      }
    }
    for (const [type, byName] of this.configData) {
      for (const [resourceName, configs] of byName) {
        if (type === ConfigResourceType.TOPIC && this.byName.has(resourceName)) continue;
        for (const [k, v] of configs) out.push(configRecord(type, resourceName, k, v));
      }
    }
    for (const acl of this.aclData.values()) out.push({ type: 18, version: 0, message: acl });
    return out;
  }
}

const EMPTY_MAP: ReadonlyMap<string, string> = new Map();
