// The group APIs through a real broker, with hand-built requests: FindCoordinator and the topic it
// creates, the answers to bad group requests (hostile input), and group state kept in
// __consumer_offsets across a restart and a topic deletion.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import {
  ConsumerProtocolAssignment,
  ConsumerProtocolSubscription,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from '../../src/protocol/generated/index.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';

const silent = pino({ level: 'silent' });

function subscription(topics: string[], padding = 0): Buffer {
  return ConsumerProtocolSubscription.encode(
    {
      ...ConsumerProtocolSubscription.default(),
      topics,
      userData: padding > 0 ? Buffer.alloc(padding, 1) : null,
    },
    1,
  );
}

function assignment(topic: string, partitions: number[]): Buffer {
  return ConsumerProtocolAssignment.encode(
    { ...ConsumerProtocolAssignment.default(), assignedPartitions: [{ topic, partitions }] },
    1,
  );
}

class GroupClient {
  constructor(readonly rpc: KafkaRpc) {}

  findCoordinator(key: string, keyType = 0, version = 3): Promise<FindCoordinatorResponse> {
    return this.rpc.request(
      ApiKey.FindCoordinator,
      version,
      FindCoordinatorRequest,
      FindCoordinatorResponse,
      {
        ...FindCoordinatorRequest.default(),
        key: version < 4 ? key : '',
        keyType,
        coordinatorKeys: version >= 4 ? [key] : [],
      },
    );
  }

  join(groupId: string, memberId: string, metadata: Buffer, version = 7): Promise<JoinGroupResponse> {
    return this.rpc.request(ApiKey.JoinGroup, version, JoinGroupRequest, JoinGroupResponse, {
      ...JoinGroupRequest.default(),
      groupId,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      memberId,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata }],
    });
  }

  /** Joins a new group as its only member (the KIP-394 member-id round trip included). */
  async joinAlone(groupId: string, metadata: Buffer): Promise<JoinGroupResponse> {
    const first = await this.join(groupId, '', metadata);
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    return this.join(groupId, first.memberId, metadata);
  }

  sync(
    groupId: string,
    generationId: number,
    memberId: string,
    assignments: { memberId: string; assignment: Buffer }[],
  ): Promise<SyncGroupResponse> {
    return this.rpc.request(ApiKey.SyncGroup, 5, SyncGroupRequest, SyncGroupResponse, {
      ...SyncGroupRequest.default(),
      groupId,
      generationId,
      memberId,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments,
    });
  }

  heartbeat(groupId: string, generationId: number, memberId: string): Promise<HeartbeatResponse> {
    return this.rpc.request(ApiKey.Heartbeat, 4, HeartbeatRequest, HeartbeatResponse, {
      ...HeartbeatRequest.default(),
      groupId,
      generationId,
      memberId,
    });
  }

  commit(
    groupId: string,
    topic: string,
    offsets: [number, bigint][],
    generation = -1,
    memberId = '',
  ): Promise<OffsetCommitResponse> {
    return this.rpc.request(ApiKey.OffsetCommit, 8, OffsetCommitRequest, OffsetCommitResponse, {
      ...OffsetCommitRequest.default(),
      groupId,
      generationIdOrMemberEpoch: generation,
      memberId,
      topics: [
        {
          name: topic,
          partitions: offsets.map(([partitionIndex, committedOffset]) => ({
            partitionIndex,
            committedOffset,
            committedLeaderEpoch: -1,
            commitTimestamp: -1n,
            committedMetadata: `m${committedOffset}`,
          })),
        },
      ],
    });
  }

  async fetchOffsets(
    groupId: string,
    topic: string,
    partitions: number[],
  ): Promise<[number, bigint, string][]> {
    const res = await this.rpc.request(ApiKey.OffsetFetch, 7, OffsetFetchRequest, OffsetFetchResponse, {
      ...OffsetFetchRequest.default(),
      groupId,
      topics: [{ name: topic, partitionIndexes: partitions }],
    });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    return res.topics[0].partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata ?? '']);
  }

  async describe(groupId: string): Promise<DescribeGroupsResponse.DescribedGroup> {
    const res = await this.rpc.request(
      ApiKey.DescribeGroups,
      5,
      DescribeGroupsRequest,
      DescribeGroupsResponse,
      {
        ...DescribeGroupsRequest.default(),
        groups: [groupId],
      },
    );
    return res.groups[0];
  }
}

describe('group APIs', () => {
  let broker: Broker;
  let client: GroupClient;

  beforeAll(async () => {
    broker = await startBroker({ config: { 'group.initial.rebalance.delay.ms': '0' }, logger: silent });
    client = new GroupClient(await KafkaRpc.connect(broker.port));
    expect((await client.rpc.createTopic('orders', 3)).errorCode).toBe(ErrorCode.NONE);
  });

  afterAll(async () => {
    client?.rpc.close();
    await broker?.stop();
  });

  it('FindCoordinator names this broker and creates __consumer_offsets (internal, compacted, 50 partitions)', async () => {
    const v3 = await client.findCoordinator('g1');
    expect(v3).toMatchObject({ errorCode: 0, nodeId: 1, host: '127.0.0.1', port: broker.port });
    const v4 = await client.findCoordinator('g1', 0, 4);
    expect(v4.coordinators).toEqual([
      { key: 'g1', nodeId: 1, host: '127.0.0.1', port: broker.port, errorCode: 0, errorMessage: null },
    ]);
    const md = await client.rpc.metadata(['__consumer_offsets']);
    expect(md.topics[0]).toMatchObject({ errorCode: 0, isInternal: true });
    expect(md.topics[0].partitions).toHaveLength(50);
    const configs = await client.rpc.describeTopicConfigs('__consumer_offsets');
    expect(configs.get('cleanup.policy')?.value).toBe('compact');
    expect(configs.get('segment.bytes')?.value).toBe('104857600');
  });

  it('FindCoordinator: an unknown key type is INVALID_REQUEST', async () => {
    expect((await client.findCoordinator('x', 7, 4)).coordinators[0].errorCode).toBe(
      ErrorCode.INVALID_REQUEST,
    );
  });

  it('clients cannot produce to __consumer_offsets (INVALID_TOPIC_EXCEPTION)', async () => {
    const r = await client.rpc.produce('__consumer_offsets', 0, [
      { key: Buffer.from('k'), value: Buffer.from('v') },
    ]);
    expect(r.errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
  });

  it('join, sync and heartbeat: the leader assigns and the member gets its assignment bytes', async () => {
    const joined = await client.joinAlone('solo', subscription(['orders']));
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range' });
    expect(joined.leader).toBe(joined.memberId);
    const mine = assignment('orders', [0, 1, 2]);
    const synced = await client.sync('solo', 1, joined.memberId, [
      { memberId: joined.memberId, assignment: mine },
    ]);
    expect(synced.errorCode).toBe(0);
    expect(Buffer.from(synced.assignment)).toEqual(mine);
    expect((await client.heartbeat('solo', 1, joined.memberId)).errorCode).toBe(0);
    const described = await client.describe('solo');
    expect(described).toMatchObject({
      groupState: 'Stable',
      protocolType: 'consumer',
      protocolData: 'range',
    });
    expect(Buffer.from(described.members[0].memberAssignment)).toEqual(mine);
  });

  it('hostile: a SyncGroup or Heartbeat from a stale generation gets ILLEGAL_GENERATION', async () => {
    const joined = await client.joinAlone('stale', subscription(['orders']));
    const a = [{ memberId: joined.memberId, assignment: assignment('orders', [0]) }];
    expect((await client.sync('stale', joined.generationId, joined.memberId, a)).errorCode).toBe(0);
    const stale = await client.sync('stale', joined.generationId - 1, joined.memberId, a);
    expect(stale.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await client.heartbeat('stale', joined.generationId + 5, joined.memberId)).errorCode).toBe(
      ErrorCode.ILLEGAL_GENERATION,
    );
    expect((await client.heartbeat('stale', joined.generationId, 'nobody')).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  it('hostile: a commit for an unknown topic or partition gets UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const r = await client.commit('simple', 'no-such-topic', [[0, 5n]]);
    expect(r.topics[0].partitions[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const r2 = await client.commit('simple', 'orders', [
      [0, 5n],
      [9, 5n],
    ]);
    expect(r2.topics[0].partitions.map((p) => p.errorCode)).toEqual([
      0,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    expect(await client.fetchOffsets('simple', 'orders', [0, 1])).toEqual([
      [0, 5n, 'm5'],
      [1, -1n, ''],
    ]);
  });

  it('hostile: JoinGroup metadata of 8 MB is refused when the group cannot be stored, broker unharmed', async () => {
    const huge = subscription(['orders'], 8 << 20);
    const joined = await client.joinAlone('huge', huge);
    expect(joined.errorCode).toBe(0);
    const a = [{ memberId: joined.memberId, assignment: assignment('orders', [0]) }];
    // The group record (the member's 8 MB metadata in it) exceeds the offsets topic's
    // max.message.bytes: the sync fails as Kafka's does, and nothing half-written remains.
    const synced = await client.sync('huge', joined.generationId, joined.memberId, a);
    expect(synced.errorCode).not.toBe(0);
    // The broker goes on serving groups.
    const ok = await client.joinAlone('after-huge', subscription(['orders']));
    expect(ok.errorCode).toBe(0);
  });
});

describe('group state across a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-groups-restart-'));

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps committed offsets and the group; offsets of a deleted topic go with it', async () => {
    const config = { 'log.dirs': dir, 'group.initial.rebalance.delay.ms': '0' };
    let broker = await startBroker({ config, logger: silent });
    let client = new GroupClient(await KafkaRpc.connect(broker.port));
    await client.rpc.createTopic('kept', 2);
    await client.rpc.createTopic('dropped', 1);
    // Clients look the coordinator up first; that creates __consumer_offsets.
    expect((await client.findCoordinator('durable')).errorCode).toBe(0);
    const joined = await client.joinAlone('durable', subscription(['kept', 'dropped']));
    const mine = assignment('kept', [0, 1]);
    await client.sync('durable', joined.generationId, joined.memberId, [
      { memberId: joined.memberId, assignment: mine },
    ]);
    const c = await client.commit(
      'durable',
      'kept',
      [
        [0, 10n],
        [1, 20n],
      ],
      joined.generationId,
      joined.memberId,
    );
    expect(c.topics[0].partitions.map((p) => p.errorCode)).toEqual([0, 0]);
    await client.commit('durable', 'dropped', [[0, 3n]], joined.generationId, joined.memberId);
    client.rpc.close();
    await broker.stop();

    broker = await startBroker({ config, logger: silent });
    client = new GroupClient(await KafkaRpc.connect(broker.port));
    try {
      expect(await client.fetchOffsets('durable', 'kept', [0, 1])).toEqual([
        [0, 10n, 'm10'],
        [1, 20n, 'm20'],
      ]);
      const described = await client.describe('durable');
      expect(described.protocolType).toBe('consumer');
      expect(described.members.map((m) => m.memberId)).toEqual([joined.memberId]);
      expect(Buffer.from(described.members[0].memberAssignment)).toEqual(mine);
      // The restored member is live: its heartbeat in the same generation is accepted.
      expect((await client.heartbeat('durable', joined.generationId, joined.memberId)).errorCode).toBe(0);

      expect(await client.fetchOffsets('durable', 'dropped', [0])).toEqual([[0, 3n, 'm3']]);
      expect(await client.rpc.deleteTopic('dropped')).toBe(0);
      await expect.poll(() => client.fetchOffsets('durable', 'dropped', [0])).toEqual([[0, -1n, '']]);
    } finally {
      client.rpc.close();
      await broker.stop();
    }
  });
});

describe('__consumer_offsets compaction', () => {
  it('the cleaner compacts repeated commits; the latest offsets survive it and a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-groups-compact-'));
    // One partition and Kafka's smallest segment, so that 1 MiB of commits rolls a segment.
    const config = {
      'log.dirs': dir,
      'offsets.topic.num.partitions': '1',
      'offsets.topic.segment.bytes': '1048576',
      'log.cleaner.enable': 'false',
    };
    let broker = await startBroker({ config, logger: silent });
    let client = new GroupClient(await KafkaRpc.connect(broker.port));
    try {
      await client.rpc.createTopic('busy', 4);
      expect((await client.findCoordinator('busy-group')).errorCode).toBe(0);
      const log = () => broker.services.logManager.getLog('__consumer_offsets', 0)!;
      // Commit the four partitions over and over until the first segment rolls.
      let round = 0;
      while (log().numberOfSegments < 2) {
        const commits = Array.from({ length: 50 }, () => {
          round++;
          return client.commit(
            'busy-group',
            'busy',
            [0, 1, 2, 3].map((p) => [p, BigInt(round * 10 + p)]),
          );
        });
        for (const r of await Promise.all(commits)) expect(r.topics[0].partitions[0].errorCode).toBe(0);
      }
      const before = log().size;
      await broker.services.logManager.cleaner.cleanLog(log());
      // Only the latest commit of each partition (in the cleaned segment) and the active segment remain.
      expect(log().size).toBeLessThan(before / 2);
      const latest = await client.fetchOffsets('busy-group', 'busy', [0, 1, 2, 3]);
      expect(latest).toEqual([0, 1, 2, 3].map((p) => [p, BigInt(round * 10 + p), `m${round * 10 + p}`]));
      client.rpc.close();
      await broker.stop();

      broker = await startBroker({ config, logger: silent });
      client = new GroupClient(await KafkaRpc.connect(broker.port));
      expect(await client.fetchOffsets('busy-group', 'busy', [0, 1, 2, 3])).toEqual(latest);
    } finally {
      client.rpc.close();
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
