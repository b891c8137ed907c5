// The admin client (Kafka's Admin): topics, configs, groups and their offsets, records deletion,
// cluster and log dirs. Each call goes where Kafka sends it: topic and config changes to the
// controller (any broker forwards in KRaft; we prefer the one Metadata names), group calls to the
// group's coordinator, DeleteRecords to partition leaders, ListGroups and DescribeLogDirs to
// every broker. A call that partly fails rejects with a KafkaError whose `details` lists each
// failure; retriable errors (NOT_CONTROLLER, NOT_COORDINATOR, ...) are retried inside.

import { ConfigSource } from '../protocol/config-source.js';
import { ErrorCode } from '../protocol/errors.js';
import type { CreateTopicsRequest } from '../protocol/generated/messages/CreateTopicsRequest.js';
import type { DescribeConfigsResponse } from '../protocol/generated/messages/DescribeConfigsResponse.js';
import { ZERO_UUID } from '../protocol/message.js';
import {
  type Api,
  ConsumerGroupDescribeApi,
  CreatePartitionsApi,
  CreateTopicsApi,
  DeleteGroupsApi,
  DeleteRecordsApi,
  DeleteTopicsApi,
  DescribeClusterApi,
  DescribeConfigsApi,
  DescribeGroupsApi,
  DescribeLogDirsApi,
  IncrementalAlterConfigsApi,
  ListGroupsApi,
  OffsetCommitApi,
  OffsetDeleteApi,
} from './apis.js';
import { Cluster, type ClusterOptions, CoordinatorType, sleep } from './cluster.js';
import type { RequestOptions } from './connection.js';
import { fetchCommitted } from './consumer-coordinator.js';
import {
  decodeAssignment,
  decodeSubscription,
  groupByTopic,
  type TopicPartition,
  tpKey,
} from './consumer-protocol.js';
import { KafkaConnectionError, KafkaError } from './errors.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, listOffsets } from './list-offsets.js';

/** The cluster options (allowAutoTopicCreation is always false for the admin client). */
export type AdminOptions = Omit<ClusterOptions, 'allowAutoTopicCreation'>;

export interface NewTopic {
  name: string;
  /** -1 (or absent): the broker's num.partitions. */
  numPartitions?: number;
  /** -1 (or absent): the broker's default.replication.factor. */
  replicationFactor?: number;
  /** Explicit replica assignment: broker ids per partition index. */
  replicaAssignment?: Record<number, number[]>;
  configs?: Record<string, string>;
}

export interface TopicDescription {
  name: string;
  topicId: string;
  isInternal: boolean;
  partitions: {
    partition: number;
    leader: number;
    leaderEpoch: number;
    replicas: number[];
    isr: number[];
    offlineReplicas: number[];
  }[];
}

/** Kafka's ConfigResource.Type ids. */
export const ConfigResourceType = {
  Topic: 2,
  Broker: 4,
  BrokerLogger: 8,
  ClientMetrics: 16,
  Group: 32,
} as const;
export type ConfigResourceType = (typeof ConfigResourceType)[keyof typeof ConfigResourceType];

export { ConfigSource };

export interface ConfigResource {
  type: ConfigResourceType;
  name: string;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  source: number;
  isSensitive: boolean;
  isDefault: boolean;
  synonyms: { name: string; value: string | null; source: number }[];
}

export type AlterConfigOp =
  | { name: string; op: 'set'; value: string }
  | { name: string; op: 'delete' }
  | { name: string; op: 'append' | 'subtract'; value: string };

const OP_IDS = { set: 0, delete: 1, append: 2, subtract: 3 } as const;

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
  type: string;
}

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** For "consumer" groups: the subscribed topics and assigned partitions, decoded. */
  subscription: string[] | null;
  assignment: TopicPartition[] | null;
}

export interface GroupDescription {
  groupId: string;
  /** 'classic' (JoinGroup/SyncGroup) or 'consumer' (KIP-848, described with ConsumerGroupDescribe). */
  type: 'classic' | 'consumer';
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMemberDescription[];
}

export interface GroupOffset extends TopicPartition {
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
}

export interface PartitionLag extends TopicPartition {
  committed: bigint;
  end: bigint;
  lag: bigint;
}

export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number | bigint } | { offset: bigint | number };

function detailError(
  what: string,
  details: { topic?: string; partition?: number; resource?: string; error: KafkaError }[],
): KafkaError | null {
  if (details.length === 0) return null;
  const first = details[0].error;
  const err = new KafkaError(
    first.code,
    `${what} failed for ${details.map((d) => d.resource ?? (d.partition !== undefined ? `${d.topic}-${d.partition}` : d.topic)).join(', ')}: ${first.message}`,
    { details },
  );
  return err;
}

export class Admin {
  readonly cluster: Cluster;

  constructor(options: AdminOptions) {
    // Kafka's Admin never creates a topic by asking about it: its Metadata requests say so.
    this.cluster = new Cluster({
      ...options,
      clientId: options.clientId ?? 'samsa-admin',
      allowAutoTopicCreation: false,
    });
  }

  /**
   * Sends to the controller (or any broker), retrying connection errors and NOT_CONTROLLER, which
   * Kafka's admin client retries after refreshing metadata.
   */
  private async toController<Req, Resp>(
    api: Api<Req, Resp>,
    body: Req | ((v: number) => Req),
    errorsOf: (r: Resp) => number[],
    opts?: RequestOptions,
  ): Promise<Resp> {
    const deadline = Date.now() + this.cluster.requestTimeoutMs;
    for (;;) {
      if (this.cluster.controllerId < 0)
        await this.cluster.fetchMetadata([], false, opts?.signal).catch(() => {});
      const node = this.cluster.broker(this.cluster.controllerId)
        ? this.cluster.controllerId
        : this.cluster.leastLoadedNode();
      try {
        const resp = await this.cluster.send(node, api, body, opts);
        if (!errorsOf(resp).includes(ErrorCode.NOT_CONTROLLER) || Date.now() >= deadline) return resp;
        await this.cluster.fetchMetadata([], false, opts?.signal).catch(() => {});
      } catch (err) {
        if (!(err instanceof KafkaConnectionError) || Date.now() >= deadline) throw err;
      }
      await sleep(this.cluster.retryBackoffMs, opts?.signal);
    }
  }

  /** Sends to a group's coordinator, rediscovering it after NOT_COORDINATOR and similar. */
  private async toCoordinator<Req, Resp>(
    groupId: string,
    api: Api<Req, Resp>,
    body: Req | ((v: number) => Req),
    errorOf: (r: Resp) => number,
    signal?: AbortSignal,
  ): Promise<Resp> {
    const deadline = Date.now() + this.cluster.requestTimeoutMs;
    for (;;) {
      let code: number;
      try {
        const node = await this.cluster.findCoordinator(groupId, CoordinatorType.Group, signal);
        const resp = await this.cluster.send(node, api, body, { signal });
        code = errorOf(resp);
        if (
          code !== ErrorCode.NOT_COORDINATOR &&
          code !== ErrorCode.COORDINATOR_NOT_AVAILABLE &&
          code !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
        ) {
          return resp;
        }
        if (Date.now() >= deadline) return resp;
      } catch (err) {
        if (!(err instanceof KafkaError) || !err.retriable || Date.now() >= deadline) throw err;
      }
      this.cluster.invalidateCoordinator(groupId, CoordinatorType.Group);
      await sleep(this.cluster.retryBackoffMs, signal);
    }
  }

  /**
   * Fails with UNKNOWN_TOPIC_OR_PARTITION (details per topic) if any topic does not exist, as
   * Kafka's Admin does, instead of waiting for it to appear until the request timeout (the
   * producer's and consumer's waitForTopics, which suits topics being created).
   */
  private async requireTopics(names: string[], signal?: AbortSignal): Promise<void> {
    if (names.length === 0) return;
    const md = await this.cluster.fetchMetadata(names, false, signal);
    const failed: { topic: string; error: KafkaError }[] = [];
    for (const name of names) {
      const code = md.topics.find((t) => t.name === name)?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      // A leader being elected (LEADER_NOT_AVAILABLE...) is waited out by the caller.
      if (
        code === ErrorCode.NONE ||
        (code !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && new KafkaError(code).retriable)
      )
        continue;
      failed.push({ topic: name, error: new KafkaError(code) });
    }
    const err = detailError('Metadata', failed);
    if (err) throw err;
  }

  // ---- topics ----

  async createTopics(
    topics: NewTopic[],
    options: { validateOnly?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    const creatable: CreateTopicsRequest.CreatableTopic[] = topics.map((t) => ({
      name: t.name,
      numPartitions: t.replicaAssignment ? -1 : (t.numPartitions ?? -1),
      replicationFactor: t.replicaAssignment ? -1 : (t.replicationFactor ?? -1),
      assignments: Object.entries(t.replicaAssignment ?? {}).map(([p, brokerIds]) => ({
        partitionIndex: Number(p),
        brokerIds,
      })),
      configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
    }));
    const resp = await this.toController(
      CreateTopicsApi,
      {
        topics: creatable,
        timeoutMs: this.cluster.requestTimeoutMs,
        validateOnly: options.validateOnly ?? false,
      },
      (r) => r.topics.map((t) => t.errorCode),
      { signal: options.signal },
    );
    const failed = resp.topics
      .filter((t) => t.errorCode !== ErrorCode.NONE)
      .map((t) => ({ topic: t.name, error: new KafkaError(t.errorCode, t.errorMessage) }));
    const err = detailError('CreateTopics', failed);
    if (err) throw err;
  }

  async deleteTopics(names: string[], options: { signal?: AbortSignal } = {}): Promise<void> {
    const resp = await this.toController(
      DeleteTopicsApi,
      (v) =>
        v >= 6
          ? {
              topics: names.map((name) => ({ name, topicId: ZERO_UUID })),
              topicNames: [],
              timeoutMs: this.cluster.requestTimeoutMs,
            }
          : { topics: [], topicNames: names, timeoutMs: this.cluster.requestTimeoutMs },
      (r) => r.responses.map((t) => t.errorCode),
      { signal: options.signal },
    );
    const failed = resp.responses
      .filter((t) => t.errorCode !== ErrorCode.NONE)
      .map((t) => ({ topic: t.name ?? t.topicId, error: new KafkaError(t.errorCode, t.errorMessage) }));
    const err = detailError('DeleteTopics', failed);
    if (err) throw err;
  }

  /** Topic names (internal topics such as __consumer_offsets only with listInternal). */
  async listTopics(options: { listInternal?: boolean; signal?: AbortSignal } = {}): Promise<string[]> {
    const md = await this.cluster.fetchMetadata(null, false, options.signal);
    return md.topics
      .filter(
        (t) => t.errorCode === ErrorCode.NONE && t.name !== null && (options.listInternal || !t.isInternal),
      )
      .map((t) => t.name as string)
      .sort();
  }

  async describeTopics(names: string[], options: { signal?: AbortSignal } = {}): Promise<TopicDescription[]> {
    const md = await this.cluster.fetchMetadata(names, false, options.signal);
    const failed: { topic: string; error: KafkaError }[] = [];
    const out: TopicDescription[] = [];
    for (const name of names) {
      const t = md.topics.find((x) => x.name === name);
      if (!t || t.errorCode !== ErrorCode.NONE) {
        failed.push({
          topic: name,
          error: new KafkaError(t?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        });
        continue;
      }
      out.push({
        name,
        topicId: t.topicId,
        isInternal: t.isInternal,
        partitions: [...t.partitions]
          .sort((a, b) => a.partitionIndex - b.partitionIndex)
          .map((p) => ({
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            offlineReplicas: p.offlineReplicas,
          })),
      });
    }
    const err = detailError('DescribeTopics', failed);
    if (err) throw err;
    return out;
  }

  /** Raises each topic's partition count to `count` (partitions cannot be removed). */
  async createPartitions(
    topics: { topic: string; count: number; assignments?: number[][] }[],
    options: { validateOnly?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    const resp = await this.toController(
      CreatePartitionsApi,
      {
        topics: topics.map((t) => ({
          name: t.topic,
          count: t.count,
          assignments: t.assignments ? t.assignments.map((brokerIds) => ({ brokerIds })) : null,
        })),
        timeoutMs: this.cluster.requestTimeoutMs,
        validateOnly: options.validateOnly ?? false,
      },
      (r) => r.results.map((t) => t.errorCode),
      { signal: options.signal },
    );
    const failed = resp.results
      .filter((t) => t.errorCode !== ErrorCode.NONE)
      .map((t) => ({ topic: t.name, error: new KafkaError(t.errorCode, t.errorMessage) }));
    const err = detailError('CreatePartitions', failed);
    if (err) throw err;
  }

  // ---- configs ----

  /** Configs of topics or brokers; `names` limits the keys returned. */
  async describeConfigs(
    resources: (ConfigResource & { names?: string[] })[],
    options: { includeSynonyms?: boolean; includeDocumentation?: boolean; signal?: AbortSignal } = {},
  ): Promise<Map<string, ConfigEntry[]>> {
    // Broker resources go to that broker; the rest to any.
    const groups = new Map<number, typeof resources>();
    for (const r of resources) {
      const node = r.type === ConfigResourceType.Broker && r.name !== '' ? Number(r.name) : -1;
      let l = groups.get(node);
      if (!l) {
        l = [];
        groups.set(node, l);
      }
      l.push(r);
    }
    if (this.cluster.brokers().length === 0) await this.cluster.fetchMetadata([], false, options.signal);
    const results: DescribeConfigsResponse.DescribeConfigsResult[] = [];
    await Promise.all(
      [...groups].map(async ([node, rs]) => {
        const body = (v: number) => ({
          resources: rs.map((r) => ({
            resourceType: r.type,
            resourceName: r.name,
            configurationKeys: r.names ?? null,
          })),
          includeSynonyms: v >= 1 ? (options.includeSynonyms ?? false) : false,
          includeDocumentation: v >= 3 ? (options.includeDocumentation ?? false) : false,
        });
        const resp =
          node >= 0
            ? await this.cluster.send(node, DescribeConfigsApi, body, { signal: options.signal })
            : await this.cluster.sendAny(DescribeConfigsApi, body, { signal: options.signal });
        results.push(...resp.results);
      }),
    );
    const out = new Map<string, ConfigEntry[]>();
    const failed: { resource: string; error: KafkaError }[] = [];
    for (const r of results) {
      if (r.errorCode !== ErrorCode.NONE) {
        failed.push({ resource: r.resourceName, error: new KafkaError(r.errorCode, r.errorMessage) });
        continue;
      }
      out.set(
        r.resourceName,
        r.configs.map((c) => ({
          name: c.name,
          value: c.value,
          readOnly: c.readOnly,
          source: c.configSource,
          isSensitive: c.isSensitive,
          isDefault: c.configSource === ConfigSource.DEFAULT_CONFIG || c.isDefault,
          synonyms: c.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })),
        })),
      );
    }
    const err = detailError('DescribeConfigs', failed);
    if (err) throw err;
    return out;
  }

  async incrementalAlterConfigs(
    changes: (ConfigResource & { ops: AlterConfigOp[] })[],
    options: { validateOnly?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    const resp = await this.toController(
      IncrementalAlterConfigsApi,
      {
        resources: changes.map((c) => ({
          resourceType: c.type,
          resourceName: c.name,
          configs: c.ops.map((o) => ({
            name: o.name,
            configOperation: OP_IDS[o.op],
            value: 'value' in o ? o.value : null,
          })),
        })),
        validateOnly: options.validateOnly ?? false,
      },
      (r) => r.responses.map((x) => x.errorCode),
      { signal: options.signal },
    );
    const failed = resp.responses
      .filter((r) => r.errorCode !== ErrorCode.NONE)
      .map((r) => ({ resource: r.resourceName, error: new KafkaError(r.errorCode, r.errorMessage) }));
    const err = detailError('IncrementalAlterConfigs', failed);
    if (err) throw err;
  }

  // ---- groups ----

  /** Every group on every broker. */
  async listGroups(options: { states?: string[]; signal?: AbortSignal } = {}): Promise<GroupListing[]> {
    if (this.cluster.brokers().length === 0) await this.cluster.fetchMetadata([], false, options.signal);
    const all = await Promise.all(
      this.cluster
        .brokers()
        .map((b) =>
          this.cluster.send(
            b.nodeId,
            ListGroupsApi,
            (v) => ({ statesFilter: v >= 4 ? (options.states ?? []) : [], typesFilter: [] }),
            { signal: options.signal },
          ),
        ),
    );
    const out: GroupListing[] = [];
    for (const r of all) {
      if (r.errorCode !== ErrorCode.NONE) throw new KafkaError(r.errorCode, 'ListGroups');
      for (const g of r.groups)
        out.push({
          groupId: g.groupId,
          protocolType: g.protocolType,
          state: g.groupState,
          type: g.groupType,
        });
    }
    return out.sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
  }

  async describeGroups(
    groupIds: string[],
    options: { signal?: AbortSignal } = {},
  ): Promise<GroupDescription[]> {
    const out = await Promise.all(
      groupIds.map(async (groupId) => {
        const resp = await this.toCoordinator(
          groupId,
          DescribeGroupsApi,
          { groups: [groupId], includeAuthorizedOperations: false },
          (r) => r.groups[0]?.errorCode ?? ErrorCode.NONE,
          options.signal,
        );
        const g = resp.groups[0];
        if (g.errorCode !== ErrorCode.NONE) throw new KafkaError(g.errorCode, `DescribeGroups ${groupId}`);
        // A KIP-848 group is not a classic group: DescribeGroups answers Dead (as Kafka up to v5).
        if (g.groupState === 'Dead') {
          const described = await this.describeConsumerGroup(groupId, options.signal);
          if (described) return described;
        }
        const consumer = g.protocolType === 'consumer';
        return {
          type: 'classic' as const,
          groupId: g.groupId,
          state: g.groupState,
          protocolType: g.protocolType,
          protocol: g.protocolData,
          members: g.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            subscription:
              consumer && m.memberMetadata.length > 0
                ? safe(() => decodeSubscription(m.memberMetadata).topics)
                : null,
            assignment: consumer ? safe(() => decodeAssignment(m.memberAssignment).partitions) : null,
          })),
        };
      }),
    );
    return out;
  }

  /** ConsumerGroupDescribe (KIP-848) of one group; null when it is not a consumer group (or the
   *  broker has no such API). */
  private async describeConsumerGroup(
    groupId: string,
    signal?: AbortSignal,
  ): Promise<GroupDescription | null> {
    if (!(await this.cluster.supports(ConsumerGroupDescribeApi))) return null;
    const resp = await this.toCoordinator(
      groupId,
      ConsumerGroupDescribeApi,
      { groupIds: [groupId], includeAuthorizedOperations: false },
      (r) => r.groups[0]?.errorCode ?? ErrorCode.NONE,
      signal,
    );
    const g = resp.groups[0];
    if (!g || g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) return null;
    if (g.errorCode !== ErrorCode.NONE)
      throw new KafkaError(g.errorCode, g.errorMessage ?? `ConsumerGroupDescribe ${groupId}`);
    return {
      type: 'consumer',
      groupId: g.groupId,
      state: g.groupState,
      protocolType: 'consumer',
      // The server-side assignor plays the part of the classic protocol name.
      protocol: g.assignorName,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.instanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscription: m.subscribedTopicNames,
        assignment: m.assignment.topicPartitions.flatMap((tp) =>
          tp.partitions.map((partition) => ({ topic: tp.topicName, partition })),
        ),
      })),
    };
  }

  async deleteGroups(groupIds: string[], options: { signal?: AbortSignal } = {}): Promise<void> {
    const failed: { resource: string; error: KafkaError }[] = [];
    await Promise.all(
      groupIds.map(async (groupId) => {
        const resp = await this.toCoordinator(
          groupId,
          DeleteGroupsApi,
          { groupsNames: [groupId] },
          (r) => r.results[0]?.errorCode ?? ErrorCode.NONE,
          options.signal,
        );
        const code = resp.results[0]?.errorCode ?? ErrorCode.NONE;
        if (code !== ErrorCode.NONE) failed.push({ resource: groupId, error: new KafkaError(code) });
      }),
    );
    const err = detailError('DeleteGroups', failed);
    if (err) throw err;
  }

  /** Committed offsets of a group (every partition it has committed, unless `partitions` is given). */
  async listConsumerGroupOffsets(
    groupId: string,
    options: { partitions?: TopicPartition[]; signal?: AbortSignal } = {},
  ): Promise<GroupOffset[]> {
    const m = await fetchCommitted(this.cluster, groupId, options.partitions ?? null, options.signal);
    return [...m.values()].sort((a, b) =>
      a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
    );
  }

  /**
   * Sets a group's committed offsets, as kafka-consumer-groups --reset-offsets does: an OffsetCommit
   * outside any generation, which the coordinator accepts only while the group has no members.
   */
  async alterConsumerGroupOffsets(
    groupId: string,
    offsets: (TopicPartition & { offset: bigint | number; metadata?: string | null })[],
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const byTopic = groupByTopic(offsets);
    const find = (topic: string, partition: number) =>
      offsets.find((o) => o.topic === topic && o.partition === partition) as (typeof offsets)[number];
    const resp = await this.toCoordinator(
      groupId,
      OffsetCommitApi,
      () => ({
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: byTopic.map((t) => ({
          name: t.topic,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p,
            committedOffset: BigInt(find(t.topic, p).offset),
            committedLeaderEpoch: -1,
            commitTimestamp: -1n,
            committedMetadata: find(t.topic, p).metadata ?? '',
          })),
        })),
      }),
      (r) => r.topics[0]?.partitions[0]?.errorCode ?? ErrorCode.NONE,
      options.signal,
    );
    const failed = resp.topics.flatMap((t) =>
      t.partitions
        .filter((p) => p.errorCode !== ErrorCode.NONE)
        .map((p) => ({ topic: t.name, partition: p.partitionIndex, error: new KafkaError(p.errorCode) })),
    );
    const err = detailError('AlterConsumerGroupOffsets', failed);
    if (err) throw err;
  }

  /** Resets a group's offsets for a topic (all its partitions, or those given) to a spec. */
  async resetConsumerGroupOffsets(
    groupId: string,
    topic: string,
    to: OffsetSpec,
    options: { partitions?: number[]; signal?: AbortSignal } = {},
  ): Promise<GroupOffset[]> {
    await this.requireTopics([topic], options.signal);
    const [meta] = await this.cluster.waitForTopics([topic], this.cluster.requestTimeoutMs, options.signal);
    const partitions = options.partitions ?? meta.partitions.map((p) => p.partition);
    const offsets = await this.resolveOffsets(
      partitions.map((partition) => ({ topic, partition })),
      to,
      options.signal,
    );
    const list = partitions.map((partition) => ({
      topic,
      partition,
      offset: offsets.get(tpKey({ topic, partition })) as bigint,
      leaderEpoch: -1,
      metadata: '',
    }));
    await this.alterConsumerGroupOffsets(groupId, list, options);
    return list;
  }

  private async resolveOffsets(
    tps: TopicPartition[],
    to: OffsetSpec,
    signal?: AbortSignal,
  ): Promise<Map<string, bigint>> {
    if (typeof to === 'object' && 'offset' in to)
      return new Map(tps.map((tp) => [tpKey(tp), BigInt(to.offset)]));
    const ts =
      to === 'earliest' ? EARLIEST_TIMESTAMP : to === 'latest' ? LATEST_TIMESTAMP : BigInt(to.timestamp);
    const found = await listOffsets(
      this.cluster,
      tps.map((tp) => ({ ...tp, timestamp: ts })),
      { signal },
    );
    const missing = tps.filter((tp) => (found.get(tpKey(tp))?.offset ?? -1n) < 0n);
    // A timestamp after every record: the end of the log, as kafka-consumer-groups does.
    const ends =
      missing.length > 0
        ? await listOffsets(
            this.cluster,
            missing.map((tp) => ({ ...tp, timestamp: LATEST_TIMESTAMP })),
            { signal },
          )
        : new Map();
    return new Map(
      tps.map((tp) => {
        const o = found.get(tpKey(tp));
        return [tpKey(tp), o && o.offset >= 0n ? o.offset : (ends.get(tpKey(tp))?.offset as bigint)];
      }),
    );
  }

  /** Deletes a group's committed offsets for some partitions of a topic (OffsetDelete). */
  async deleteConsumerGroupOffsets(
    groupId: string,
    partitions: TopicPartition[],
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const resp = await this.toCoordinator(
      groupId,
      OffsetDeleteApi,
      {
        groupId,
        topics: groupByTopic(partitions).map((t) => ({
          name: t.topic,
          partitions: t.partitions.map((partitionIndex) => ({ partitionIndex })),
        })),
      },
      (r) => r.errorCode,
      options.signal,
    );
    if (resp.errorCode !== ErrorCode.NONE) throw new KafkaError(resp.errorCode, `OffsetDelete ${groupId}`);
    const failed = resp.topics.flatMap((t) =>
      t.partitions
        .filter((p) => p.errorCode !== ErrorCode.NONE)
        .map((p) => ({ topic: t.name, partition: p.partitionIndex, error: new KafkaError(p.errorCode) })),
    );
    const err = detailError('OffsetDelete', failed);
    if (err) throw err;
  }

  /** Committed offset, log end offset and their difference, per partition the group committed. */
  async consumerGroupLag(groupId: string, options: { signal?: AbortSignal } = {}): Promise<PartitionLag[]> {
    const committed = await this.listConsumerGroupOffsets(groupId, options);
    if (committed.length === 0) return [];
    const ends = await listOffsets(
      this.cluster,
      committed.map((c) => ({ topic: c.topic, partition: c.partition, timestamp: LATEST_TIMESTAMP })),
      {
        signal: options.signal,
      },
    );
    return committed.map((c) => {
      const end = ends.get(tpKey(c))?.offset ?? -1n;
      return {
        topic: c.topic,
        partition: c.partition,
        committed: c.offset,
        end,
        lag: end >= c.offset ? end - c.offset : 0n,
      };
    });
  }

  /**
   * Offsets per partition for a spec (earliest, latest, a timestamp). With read_committed, latest
   * is the last stable offset (LSO) instead of the high watermark, as Kafka's ListOffsets.
   */
  async listOffsets(
    tps: TopicPartition[],
    spec: 'earliest' | 'latest' | { timestamp: number | bigint },
    options: { isolationLevel?: 'read_uncommitted' | 'read_committed'; signal?: AbortSignal } = {},
  ) {
    await this.requireTopics([...new Set(tps.map((tp) => tp.topic))], options.signal);
    const ts =
      spec === 'earliest'
        ? EARLIEST_TIMESTAMP
        : spec === 'latest'
          ? LATEST_TIMESTAMP
          : BigInt(spec.timestamp);
    return listOffsets(
      this.cluster,
      tps.map((tp) => ({ ...tp, timestamp: ts })),
      { signal: options.signal, isolationLevel: options.isolationLevel === 'read_committed' ? 1 : 0 },
    );
  }

  // ---- records, cluster, log dirs ----

  /** Deletes records before each offset (-1n: the high watermark); resolves to the new low watermarks. */
  async deleteRecords(
    offsets: (TopicPartition & { offset: bigint | number })[],
    options: { signal?: AbortSignal } = {},
  ): Promise<Map<string, bigint>> {
    await this.requireTopics([...new Set(offsets.map((o) => o.topic))], options.signal);
    await this.cluster.waitForTopics(
      [...new Set(offsets.map((o) => o.topic))],
      this.cluster.requestTimeoutMs,
      options.signal,
    );
    const byLeader = new Map<number, typeof offsets>();
    for (const o of offsets) {
      const leader = this.cluster.leaderFor(o.topic, o.partition);
      let l = byLeader.get(leader);
      if (!l) {
        l = [];
        byLeader.set(leader, l);
      }
      l.push(o);
    }
    const out = new Map<string, bigint>();
    const failed: { topic: string; partition: number; error: KafkaError }[] = [];
    await Promise.all(
      [...byLeader].map(async ([leader, list]) => {
        if (leader < 0) {
          for (const o of list)
            failed.push({
              topic: o.topic,
              partition: o.partition,
              error: new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE),
            });
          return;
        }
        const resp = await this.cluster.send(
          leader,
          DeleteRecordsApi,
          {
            topics: groupByTopic(list).map((t) => ({
              name: t.topic,
              partitions: t.partitions.map((p) => ({
                partitionIndex: p,
                offset: BigInt(
                  (list.find((o) => o.topic === t.topic && o.partition === p) as (typeof list)[number])
                    .offset,
                ),
              })),
            })),
            timeoutMs: this.cluster.requestTimeoutMs,
          },
          { signal: options.signal },
        );
        for (const t of resp.topics) {
          for (const p of t.partitions) {
            if (p.errorCode !== ErrorCode.NONE)
              failed.push({ topic: t.name, partition: p.partitionIndex, error: new KafkaError(p.errorCode) });
            else out.set(tpKey({ topic: t.name, partition: p.partitionIndex }), p.lowWatermark);
          }
        }
      }),
    );
    const err = detailError('DeleteRecords', failed);
    if (err) throw err;
    return out;
  }

  async describeCluster(options: { signal?: AbortSignal } = {}): Promise<{
    clusterId: string | null;
    controllerId: number;
    brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
  }> {
    // Metadata first: it retries connection failures (up to the connect timeout while no broker
    // ever answered), where a lone connection attempt would fail on the first refusal.
    if (this.cluster.brokers().length === 0) await this.cluster.fetchMetadata([], false, options.signal);
    const conn = await this.cluster.connection(this.cluster.leastLoadedNode(), options.signal);
    if (conn.supports(DescribeClusterApi as Api<unknown, unknown>)) {
      const r = await conn.send(
        DescribeClusterApi,
        { includeClusterAuthorizedOperations: false, endpointType: 1 },
        { signal: options.signal },
      );
      if (r.errorCode !== ErrorCode.NONE) throw new KafkaError(r.errorCode, r.errorMessage);
      return {
        clusterId: r.clusterId,
        controllerId: r.controllerId,
        brokers: r.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack })),
      };
    }
    const md = await this.cluster.fetchMetadata([], false, options.signal);
    return {
      clusterId: md.clusterId,
      controllerId: md.controllerId,
      brokers: md.brokers.map((b) => ({ ...b })),
    };
  }

  /** Each broker's log dirs, with the size of every partition in them. */
  async describeLogDirs(
    brokerIds?: number[],
    options: { signal?: AbortSignal } = {},
  ): Promise<
    Map<
      number,
      {
        logDir: string;
        error: KafkaError | null;
        totalBytes: bigint;
        usableBytes: bigint;
        partitions: (TopicPartition & { size: bigint; offsetLag: bigint })[];
      }[]
    >
  > {
    if (this.cluster.brokers().length === 0) await this.cluster.fetchMetadata([], false, options.signal);
    const ids = brokerIds ?? this.cluster.brokers().map((b) => b.nodeId);
    const out = new Map();
    await Promise.all(
      ids.map(async (id) => {
        const r = await this.cluster.send(
          id,
          DescribeLogDirsApi,
          { topics: null },
          { signal: options.signal },
        );
        if (r.errorCode !== ErrorCode.NONE)
          throw new KafkaError(r.errorCode, `DescribeLogDirs on broker ${id}`);
        out.set(
          id,
          r.results.map((d) => ({
            logDir: d.logDir,
            error: d.errorCode === ErrorCode.NONE ? null : new KafkaError(d.errorCode),
            totalBytes: d.totalBytes,
            usableBytes: d.usableBytes,
            partitions: d.topics.flatMap((t) =>
              t.partitions.map((p) => ({
                topic: t.name,
                partition: p.partitionIndex,
                size: p.partitionSize,
                offsetLag: p.offsetLag,
              })),
            ),
          })),
        );
      }),
    );
    return out;
  }

  close(): Promise<void> {
    return this.cluster.close();
  }
}

function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}
