// The admin APIs a single Kafka 4.x node answers, through the wire with Samsa's codecs, on an
// in-process broker with two log dirs: DescribeAcls/CreateAcls/DeleteAcls (no authorizer),
// AlterReplicaLogDirs, ElectLeaders, AlterPartitionReassignments, ListPartitionReassignments,
// DescribeQuorum. Every served version, the edge cases Kafka answers, and what they must not
// change (a no-op election or reassignment writes no metadata).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { QUORUM_STATE_FILE } from '../../src/metadata/quorum-state.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { decodeRequestHeader, encodeRequest } from '../../src/protocol/frame.js';
import {
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  AlterReplicaLogDirsRequest,
  AlterReplicaLogDirsResponse,
  ApiKey,
  ApiVersionsRequest,
  ApiVersionsResponse,
  CreateAclsRequest,
  CreateAclsResponse,
  DeleteAclsRequest,
  DeleteAclsResponse,
  DescribeAclsRequest,
  DescribeAclsResponse,
  DescribeQuorumRequest,
  DescribeQuorumResponse,
  ElectLeadersRequest,
  ElectLeadersResponse,
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
} from '../../src/protocol/generated/index.js';
import { type MessageCodec, ZERO_UUID } from '../../src/protocol/message.js';
import { StorageError } from '../../src/storage/errors.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';
import { RawClient } from '../helpers/raw-client.js';

const SILENT = pino({ level: 'silent' });
const NO_AUTHORIZER = 'No Authorizer is configured.';

let broker: Broker;
let root: string;
let dirA: string;
let dirB: string;
let rpc: KafkaRpc;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'samsa-admin-'));
  dirA = join(root, 'a');
  dirB = join(root, 'b');
  broker = await startBroker({
    config: {
      // Kafka 4.0's version floors (KIP-896), which these tests check; test/broker/legacy-versions.test.ts covers Kafka 3.9's.
      'samsa.legacy.protocol.enable': 'false',
      listeners: 'PLAINTEXT://127.0.0.1:0',
      'log.dirs': `${dirA},${dirB}`,
    },
    logger: SILENT,
  });
  rpc = await KafkaRpc.connect(broker.port);
  expect((await rpc.createTopic('adm', 3)).errorCode).toBe(0);
  expect((await rpc.createTopic('adm-other', 1)).errorCode).toBe(0);
});

afterAll(async () => {
  rpc?.close();
  await broker?.stop();
  rmSync(root, { recursive: true, force: true });
});

const aclFilter = {
  resourceTypeFilter: 2,
  resourceNameFilter: 'adm',
  patternTypeFilter: 3,
  principalFilter: 'User:alice',
  hostFilter: '*',
  operation: 3,
  permissionType: 3,
};

describe('ACL APIs without an authorizer', () => {
  it('DescribeAcls answers SECURITY_DISABLED with Kafka message and no resources (v1-v3)', async () => {
    for (const version of [1, 2, 3]) {
      const r = await rpc.request(
        ApiKey.DescribeAcls,
        version,
        DescribeAclsRequest,
        DescribeAclsResponse,
        aclFilter,
      );
      expect(r).toMatchObject({
        errorCode: ErrorCode.SECURITY_DISABLED,
        errorMessage: NO_AUTHORIZER,
        resources: [],
      });
    }
  });

  it('CreateAcls answers SECURITY_DISABLED for each creation, in order (v1-v3)', async () => {
    const creation = {
      resourceType: 2,
      resourceName: 'adm',
      resourcePatternType: 3,
      principal: 'User:alice',
      host: '*',
      operation: 3,
      permissionType: 3,
    };
    for (const version of [1, 2, 3]) {
      const r = await rpc.request(ApiKey.CreateAcls, version, CreateAclsRequest, CreateAclsResponse, {
        // Codes Kafka does not know (but not UNKNOWN, 0) pass its parsing.
        creations: [creation, { ...creation, resourceType: 99, operation: 99 }],
      });
      expect(r.results).toEqual([
        { errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER },
        { errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER },
      ]);
      const none = await rpc.request(ApiKey.CreateAcls, version, CreateAclsRequest, CreateAclsResponse, {
        creations: [],
      });
      expect(none.results).toEqual([]);
    }
  });

  it('DeleteAcls answers SECURITY_DISABLED for each filter with no matching ACLs (v1-v3)', async () => {
    for (const version of [1, 2, 3]) {
      const r = await rpc.request(ApiKey.DeleteAcls, version, DeleteAclsRequest, DeleteAclsResponse, {
        filters: [aclFilter, { ...aclFilter, resourceNameFilter: null, principalFilter: null }],
      });
      expect(r.filterResults).toEqual([
        { errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER, matchingAcls: [] },
        { errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER, matchingAcls: [] },
      ]);
    }
  });

  it('closes the connection on an UNKNOWN (0) element, as Kafka request parsing does', async () => {
    const creation = {
      resourceType: 2,
      resourceName: 'adm',
      resourcePatternType: 3,
      principal: 'User:alice',
      host: '*',
      operation: 3,
      permissionType: 3,
    };
    const requests: ((c: KafkaRpc) => Promise<unknown>)[] = [];
    for (const field of ['resourceTypeFilter', 'patternTypeFilter', 'operation', 'permissionType'] as const) {
      const filter = { ...aclFilter, [field]: 0 };
      requests.push((c) =>
        c.request(ApiKey.DescribeAcls, 3, DescribeAclsRequest, DescribeAclsResponse, filter),
      );
      requests.push((c) =>
        c.request(ApiKey.DeleteAcls, 3, DeleteAclsRequest, DeleteAclsResponse, {
          filters: [aclFilter, filter],
        }),
      );
    }
    for (const field of ['resourceType', 'resourcePatternType', 'operation', 'permissionType'] as const) {
      requests.push((c) =>
        c.request(ApiKey.CreateAcls, 3, CreateAclsRequest, CreateAclsResponse, {
          creations: [creation, { ...creation, [field]: 0 }],
        }),
      );
    }
    for (const send of requests) {
      const c = await KafkaRpc.connect(broker.port);
      try {
        await expect(send(c)).rejects.toThrow(/connection closed/);
      } finally {
        c.close();
      }
    }
    // The broker goes on serving.
    const r = await rpc.request(ApiKey.DescribeAcls, 3, DescribeAclsRequest, DescribeAclsResponse, aclFilter);
    expect(r.errorCode).toBe(ErrorCode.SECURITY_DISABLED);
  });

  it('closes the connection on v0, which Kafka 4.0 no longer serves', async () => {
    const c = await KafkaRpc.connect(broker.port);
    try {
      await expect(
        c.request(ApiKey.DescribeAcls, 0, DescribeAclsRequest, DescribeAclsResponse, {
          ...aclFilter,
          patternTypeFilter: 3,
        }),
      ).rejects.toThrow();
    } finally {
      c.close();
    }
  });

  it('a broker refuses to start with authorizer.class.name set (it has no authorizer to load)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-authz-'));
    try {
      await expect(
        startBroker({
          config: {
            listeners: 'PLAINTEXT://127.0.0.1:0',
            'log.dirs': dir,
            'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
          },
          logger: SILENT,
        }),
      ).rejects.toThrow(/authorizer\.class\.name/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const alterDirs = (version: number, dirs: AlterReplicaLogDirsRequest['dirs']) =>
  rpc.request(ApiKey.AlterReplicaLogDirs, version, AlterReplicaLogDirsRequest, AlterReplicaLogDirsResponse, {
    dirs,
  });

const codes = (r: AlterReplicaLogDirsResponse) =>
  Object.fromEntries(
    r.results.flatMap((t) => t.partitions.map((p) => [`${t.topicName}-${p.partitionIndex}`, p.errorCode])),
  );

describe('AlterReplicaLogDirs', () => {
  const dirOf = (p: number) => broker.services.logManager.logDirOf('adm', p)!;
  const otherDir = (p: number) => (dirOf(p) === dirA ? dirB : dirA);

  it('accepts the dir a replica is already in (v1, v2), and moves nothing', async () => {
    const before = [0, 1, 2].map(dirOf);
    for (const version of [1, 2]) {
      const r = await alterDirs(version, [
        { path: dirOf(0), topics: [{ name: 'adm', partitions: [0] }] },
        { path: dirOf(1), topics: [{ name: 'adm', partitions: [1] }] },
      ]);
      expect(r.results).toEqual([
        {
          topicName: 'adm',
          partitions: [
            { partitionIndex: 0, errorCode: ErrorCode.NONE },
            { partitionIndex: 1, errorCode: ErrorCode.NONE },
          ],
        },
      ]);
    }
    expect([0, 1, 2].map(dirOf)).toEqual(before);
  });

  it('answers KAFKA_STORAGE_ERROR for a move to another dir (no future replicas), leaving the replica', async () => {
    const before = dirOf(2);
    const r = await alterDirs(2, [{ path: otherDir(2), topics: [{ name: 'adm', partitions: [2] }] }]);
    expect(codes(r)).toEqual({ 'adm-2': ErrorCode.KAFKA_STORAGE_ERROR });
    expect(dirOf(2)).toBe(before);
    expect(broker.services.logManager.getLog('adm', 2)!.offlineReason).toBeNull();
  });

  it('answers LOG_DIR_NOT_FOUND for a dir not in log.dirs, relative or unknown', async () => {
    const r = await alterDirs(2, [
      { path: 'a', topics: [{ name: 'adm', partitions: [0] }] },
      { path: join(root, 'c'), topics: [{ name: 'adm', partitions: [1] }] },
      { path: `${dirA}/`, topics: [{ name: 'adm', partitions: [2] }] },
      { path: '', topics: [{ name: 'adm-other', partitions: [0] }] },
    ]);
    expect(codes(r)).toEqual({
      'adm-0': ErrorCode.LOG_DIR_NOT_FOUND,
      'adm-1': ErrorCode.LOG_DIR_NOT_FOUND,
      'adm-2': ErrorCode.LOG_DIR_NOT_FOUND,
      'adm-other-0': ErrorCode.LOG_DIR_NOT_FOUND,
    });
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION, REPLICA_NOT_AVAILABLE and INVALID_TOPIC_EXCEPTION as Kafka', async () => {
    const rm = broker.services.replicaManager;
    const hosted = rm.get('adm-other', 0)!;
    rm.remove('adm-other', 0); // known to the metadata, not hosted here
    try {
      const r = await alterDirs(2, [
        {
          path: dirA,
          topics: [
            { name: 'adm', partitions: [9] },
            { name: 'nope', partitions: [0] },
            { name: 'adm-other', partitions: [0] },
            { name: 'x'.repeat(249), partitions: [0] },
          ],
        },
      ]);
      expect(codes(r)).toEqual({
        'adm-9': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        'nope-0': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        'adm-other-0': ErrorCode.REPLICA_NOT_AVAILABLE,
        [`${'x'.repeat(249)}-0`]: ErrorCode.INVALID_TOPIC_EXCEPTION,
      });
    } finally {
      rm.add(hosted);
    }
  });

  it('takes the last dir named for a partition, and an empty request answers no topics', async () => {
    const r = await alterDirs(2, [
      { path: join(root, 'nowhere'), topics: [{ name: 'adm', partitions: [0] }] },
      { path: dirOf(0), topics: [{ name: 'adm', partitions: [0] }] },
    ]);
    expect(r.results).toEqual([
      { topicName: 'adm', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.NONE }] },
    ]);
    expect((await alterDirs(2, [])).results).toEqual([]);
  });

  it('answers KAFKA_STORAGE_ERROR for a dir holding an offline log', async () => {
    const log = broker.services.logManager.getLog('adm', 0)!;
    const spy = vi.spyOn(log, 'offlineReason', 'get').mockReturnValue(new StorageError('disk gone'));
    try {
      const r = await alterDirs(2, [{ path: dirOf(0), topics: [{ name: 'adm', partitions: [0] }] }]);
      expect(codes(r)).toEqual({ 'adm-0': ErrorCode.KAFKA_STORAGE_ERROR });
    } finally {
      spy.mockRestore();
    }
  });
});

const elect = (version: number, body: ElectLeadersRequest) =>
  rpc.request(ApiKey.ElectLeaders, version, ElectLeadersRequest, ElectLeadersResponse, body);

const NOT_NEEDED = {
  errorCode: ErrorCode.ELECTION_NOT_NEEDED,
  errorMessage: 'Leader election not needed for topic partition.',
};

describe('ElectLeaders', () => {
  it('answers ELECTION_NOT_NEEDED per partition for preferred and unclean elections (v0-v2), writing nothing', async () => {
    const { metadata } = broker.services;
    const end = metadata.logEndOffset;
    const epochs = [0, 1, 2].map((p) => metadata.image.partition('adm', p)!.leaderEpoch);
    for (const [version, electionType] of [
      [0, 0],
      [1, 0],
      [1, 1],
      [2, 0],
      [2, 1],
    ]) {
      const r = await elect(version, {
        electionType,
        topicPartitions: [
          { topic: 'adm', partitions: [0, 2, 7] },
          { topic: 'nope', partitions: [0] },
        ],
        timeoutMs: 60_000,
      });
      expect(r.errorCode).toBe(ErrorCode.NONE);
      expect(r.replicaElectionResults).toEqual([
        {
          topic: 'adm',
          partitionResult: [
            { partitionId: 0, ...NOT_NEEDED },
            { partitionId: 2, ...NOT_NEEDED },
            {
              partitionId: 7,
              errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              errorMessage: 'No such partition as adm-7',
            },
          ],
        },
        {
          topic: 'nope',
          partitionResult: [
            {
              partitionId: 0,
              errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              errorMessage: 'No such topic as nope',
            },
          ],
        },
      ]);
    }
    expect(metadata.logEndOffset).toBe(end);
    expect([0, 1, 2].map((p) => metadata.image.partition('adm', p)!.leaderEpoch)).toEqual(epochs);
  });

  it('for all partitions (null) lists every topic with no partition (none needs an election)', async () => {
    const r = await elect(2, { electionType: 0, topicPartitions: null, timeoutMs: 60_000 });
    const topics = [...broker.services.metadata.image.topics()].map((t) => t.name);
    expect(topics).toEqual(expect.arrayContaining(['adm', 'adm-other']));
    expect(r.replicaElectionResults.map((t) => t.topic).sort()).toEqual(topics.sort());
    for (const t of r.replicaElectionResults) expect(t.partitionResult).toEqual([]);
  });

  it('fails the request with INVALID_REQUEST on an unknown election type', async () => {
    const r = await elect(2, {
      electionType: 7,
      topicPartitions: [{ topic: 'adm', partitions: [0] }],
      timeoutMs: 60_000,
    });
    expect(r.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(r.replicaElectionResults).toEqual([
      {
        topic: 'adm',
        partitionResult: [
          { partitionId: 0, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unknown election type 7' },
        ],
      },
    ]);
  });
});

const alterReassignments = (topics: AlterPartitionReassignmentsRequest['topics']) =>
  rpc.request(
    ApiKey.AlterPartitionReassignments,
    0,
    AlterPartitionReassignmentsRequest,
    AlterPartitionReassignmentsResponse,
    { timeoutMs: 60_000, topics },
  );

const listReassignments = (topics: ListPartitionReassignmentsRequest['topics']) =>
  rpc.request(
    ApiKey.ListPartitionReassignments,
    0,
    ListPartitionReassignmentsRequest,
    ListPartitionReassignmentsResponse,
    { timeoutMs: 60_000, topics },
  );

describe('AlterPartitionReassignments / ListPartitionReassignments', () => {
  it('completes a reassignment to this node at once and refuses what Kafka refuses', async () => {
    const { metadata, nodeId } = broker.services;
    const end = metadata.logEndOffset;
    const before = metadata.image.partition('adm', 0);
    const r = await alterReassignments([
      {
        name: 'adm',
        partitions: [
          { partitionIndex: 0, replicas: [nodeId] },
          { partitionIndex: 1, replicas: [nodeId + 1] },
          { partitionIndex: 2, replicas: null },
          { partitionIndex: 5, replicas: [nodeId] },
        ],
      },
      { name: 'nope', partitions: [{ partitionIndex: 0, replicas: [nodeId] }] },
    ]);
    expect(r).toMatchObject({ errorCode: ErrorCode.NONE, errorMessage: null });
    expect(r.responses).toEqual([
      {
        name: 'adm',
        partitions: [
          { partitionIndex: 0, errorCode: ErrorCode.NONE, errorMessage: null },
          {
            partitionIndex: 1,
            errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            errorMessage: `The manual partition assignment includes broker ${nodeId + 1}, but no such broker is registered.`,
          },
          {
            partitionIndex: 2,
            errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
            errorMessage: 'No partition reassignment is in progress.',
          },
          {
            partitionIndex: 5,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: 'Unable to find partition adm:5.',
          },
        ],
      },
      {
        name: 'nope',
        partitions: [
          {
            partitionIndex: 0,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: 'Unable to find a topic named nope.',
          },
        ],
      },
    ]);
    expect(metadata.logEndOffset).toBe(end);
    expect(metadata.image.partition('adm', 0)).toEqual(before);
  });

  it('lists no reassignment in progress, for all topics or those named (unknown ones left out)', async () => {
    for (const topics of [
      null,
      [{ name: 'adm', partitionIndexes: [0, 1, 2] }],
      [{ name: 'nope', partitionIndexes: [0] }],
      [],
    ]) {
      const r = await listReassignments(topics);
      expect(r).toMatchObject({ errorCode: ErrorCode.NONE, errorMessage: null, topics: [] });
    }
  });
});

const quorumRequest = (topics: DescribeQuorumRequest['topics']) => ({ topics });
const METADATA_PARTITION = [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }];

describe('DescribeQuorum', () => {
  it('describes the one-voter quorum: this node leads, its log end offset is the high watermark (v0-v2)', async () => {
    const { metadata, quorum, nodeId } = broker.services;
    const meta = readFileSync(join(dirA, 'meta.properties'), 'utf8');
    const directoryId = /directory\.id=(\S+)/.exec(meta)![1];
    expect(quorum).toEqual({ leaderId: nodeId, leaderEpoch: 1, directoryId });
    for (const version of [0, 1, 2]) {
      const startMs = BigInt(Date.now());
      const r = await rpc.request(
        ApiKey.DescribeQuorum,
        version,
        DescribeQuorumRequest,
        DescribeQuorumResponse,
        quorumRequest(METADATA_PARTITION),
      );
      expect(r.errorCode).toBe(ErrorCode.NONE);
      expect(r.topics).toHaveLength(1);
      expect(r.topics[0].topicName).toBe('__cluster_metadata');
      const [p] = r.topics[0].partitions;
      expect(p).toMatchObject({
        partitionIndex: 0,
        errorCode: ErrorCode.NONE,
        leaderId: nodeId,
        leaderEpoch: 1,
        highWatermark: metadata.logEndOffset,
        observers: [],
      });
      expect(p.highWatermark).toBeGreaterThan(0n);
      expect(p.currentVoters).toHaveLength(1);
      const [voter] = p.currentVoters;
      expect(voter.replicaId).toBe(nodeId);
      expect(voter.logEndOffset).toBe(metadata.logEndOffset);
      expect(voter.replicaDirectoryId).toBe(version >= 2 ? directoryId : ZERO_UUID);
      if (version === 0) {
        expect(voter.lastFetchTimestamp).toBe(-1n); // not in v0: the field's default
      } else {
        expect(voter.lastFetchTimestamp).toBeGreaterThanOrEqual(startMs);
        expect(voter.lastCaughtUpTimestamp).toBeGreaterThanOrEqual(startMs);
      }
      if (version >= 2) {
        expect(r.errorMessage).toBeNull();
        expect(r.nodes).toEqual([
          { nodeId, listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: broker.port }] },
        ]);
      }
    }
  });

  it('follows the metadata log: a new topic moves the log end offset', async () => {
    const ask = () =>
      rpc.request(ApiKey.DescribeQuorum, 2, DescribeQuorumRequest, DescribeQuorumResponse, {
        topics: METADATA_PARTITION,
      });
    const before = (await ask()).topics[0].partitions[0].highWatermark;
    expect((await rpc.createTopic('adm-quorum', 2)).errorCode).toBe(0);
    const after = (await ask()).topics[0].partitions[0];
    // A TopicRecord and one PartitionRecord per partition.
    expect(after.highWatermark).toBe(before + 3n);
    expect(after.currentVoters[0].logEndOffset).toBe(after.highWatermark);
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION per partition for anything but __cluster_metadata-0', async () => {
    for (const topics of [
      [{ topicName: 'adm', partitions: [{ partitionIndex: 0 }] }],
      [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 1 }] }],
      [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }, { partitionIndex: 0 }] }],
      [...METADATA_PARTITION, { topicName: 'adm', partitions: [{ partitionIndex: 2 }] }],
      [],
    ]) {
      for (const version of [0, 2]) {
        const r = await rpc.request(
          ApiKey.DescribeQuorum,
          version,
          DescribeQuorumRequest,
          DescribeQuorumResponse,
          quorumRequest(topics),
        );
        expect(r.errorCode).toBe(ErrorCode.NONE);
        expect(r.nodes).toEqual([]);
        expect(
          r.topics.map((t) => [t.topicName, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]),
        ).toEqual(
          topics.map((t) => [
            t.topicName,
            t.partitions.map((p) => [p.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]),
          ]),
        );
        if (version === 2) {
          for (const t of r.topics) {
            for (const p of t.partitions) {
              expect(p.errorMessage).toBe('This server does not host this topic-partition.');
            }
          }
        }
      }
    }
  });

  it('starts a new epoch at each start, kept in __cluster_metadata-0/quorum-state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-quorum-'));
    const statePath = join(dir, '__cluster_metadata-0', QUORUM_STATE_FILE);
    try {
      const describe = async (b: Broker) => {
        const c = await KafkaRpc.connect(b.port);
        try {
          const r = await c.request(ApiKey.DescribeQuorum, 2, DescribeQuorumRequest, DescribeQuorumResponse, {
            topics: METADATA_PARTITION,
          });
          return r.topics[0].partitions[0];
        } finally {
          c.close();
        }
      };
      const config = { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir };
      let b = await startBroker({ config, logger: SILENT });
      const first = await describe(b);
      await b.stop();
      expect(JSON.parse(readFileSync(statePath, 'utf8'))).toMatchObject({ leaderId: 1, leaderEpoch: 1 });
      b = await startBroker({ config, logger: SILENT });
      const second = await describe(b);
      await b.stop();
      expect(first.leaderEpoch).toBe(1);
      expect(second.leaderEpoch).toBe(2);
      // The log is replayed, not restarted: its end never goes back.
      expect(second.highWatermark).toBeGreaterThanOrEqual(first.highWatermark);
      expect(JSON.parse(readFileSync(statePath, 'utf8'))).toMatchObject({ leaderEpoch: 2, data_version: 1 });

      // An unreadable quorum-state stops the start: reusing epochs would be worse.
      writeFileSync(statePath, '{"leaderEpoch": "x"');
      await expect(startBroker({ config, logger: SILENT })).rejects.toThrow(/quorum-state/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ApiVersions', () => {
  it('advertises the admin APIs at the versions Kafka 4.x serves', async () => {
    const v = await rpc.request(ApiKey.ApiVersions, 3, ApiVersionsRequest, ApiVersionsResponse, {
      clientSoftwareName: 't',
      clientSoftwareVersion: '1',
    });
    const served = Object.fromEntries(v.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
    expect(served).toMatchObject({
      [ApiKey.DescribeAcls]: [1, 3],
      [ApiKey.CreateAcls]: [1, 3],
      [ApiKey.DeleteAcls]: [1, 3],
      [ApiKey.AlterReplicaLogDirs]: [1, 2],
      [ApiKey.ElectLeaders]: [0, 2],
      [ApiKey.AlterPartitionReassignments]: [0, 0],
      [ApiKey.ListPartitionReassignments]: [0, 0],
      [ApiKey.DescribeQuorum]: [0, 2],
    });
  });
});

describe('malformed requests', () => {
  /** One valid request of each API at its highest version, with its codec. */
  const samples: [number, number, MessageCodec<unknown>, unknown][] = [
    [ApiKey.DescribeAcls, 3, DescribeAclsRequest as MessageCodec<unknown>, aclFilter],
    [ApiKey.CreateAcls, 3, CreateAclsRequest as MessageCodec<unknown>, { creations: [] }],
    [ApiKey.DeleteAcls, 3, DeleteAclsRequest as MessageCodec<unknown>, { filters: [aclFilter] }],
    [
      ApiKey.AlterReplicaLogDirs,
      2,
      AlterReplicaLogDirsRequest as MessageCodec<unknown>,
      { dirs: [{ path: '/x', topics: [{ name: 'adm', partitions: [0] }] }] },
    ],
    [
      ApiKey.ElectLeaders,
      2,
      ElectLeadersRequest as MessageCodec<unknown>,
      { electionType: 0, topicPartitions: [{ topic: 'adm', partitions: [0] }], timeoutMs: 1 },
    ],
    [
      ApiKey.AlterPartitionReassignments,
      0,
      AlterPartitionReassignmentsRequest as MessageCodec<unknown>,
      { timeoutMs: 1, topics: [{ name: 'adm', partitions: [{ partitionIndex: 0, replicas: [1] }] }] },
    ],
    [
      ApiKey.ListPartitionReassignments,
      0,
      ListPartitionReassignmentsRequest as MessageCodec<unknown>,
      { timeoutMs: 1, topics: [{ name: 'adm', partitionIndexes: [0] }] },
    ],
    [
      ApiKey.DescribeQuorum,
      2,
      DescribeQuorumRequest as MessageCodec<unknown>,
      { topics: METADATA_PARTITION },
    ],
  ];

  /** The frame without its size prefix, re-prefixed after `edit`. */
  function reframe(frame: Buffer, edit: (payload: Buffer) => Buffer): Buffer {
    const payload = edit(frame.subarray(4));
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length);
    return Buffer.concat([size, payload]);
  }

  it('closes the connection on a body cut short or missing, ignores trailing bytes (as Kafka), keeps serving', async () => {
    for (const [apiKey, version, codec, body] of samples) {
      const frame = Buffer.concat(
        encodeRequest({ apiKey, apiVersion: version, correlationId: 7, clientId: 't' }, codec, body),
      );
      const bodyLength = decodeRequestHeader(frame.subarray(4)).body.length;
      for (const edit of [
        (p: Buffer) => p.subarray(0, p.length - 2),
        (p: Buffer) => p.subarray(0, p.length - bodyLength),
      ]) {
        const c = await RawClient.connect(broker.port);
        try {
          c.send(reframe(frame, edit));
          expect(await c.next(30_000), `api ${apiKey} v${version}`).toBeNull();
        } finally {
          c.close();
        }
      }
      // Bytes after a complete body are ignored by Kafka's parser: answered.
      const c = await RawClient.connect(broker.port);
      try {
        c.send(reframe(frame, (p) => Buffer.concat([p, Buffer.from([0xff, 0xff, 0xff, 0x7f])])));
        const answer = await c.next(30_000);
        expect(answer, `api ${apiKey} v${version}`).not.toBeNull();
        expect(answer!.readInt32BE(0)).toBe(7);
      } finally {
        c.close();
      }
    }
    const r = await rpc.request(ApiKey.DescribeQuorum, 2, DescribeQuorumRequest, DescribeQuorumResponse, {
      topics: METADATA_PARTITION,
    });
    expect(r.topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
  });
});
