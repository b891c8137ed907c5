// samsa.legacy.protocol.enable: Kafka 3.9's request versions (on, the default) or Kafka 4.0's
// floors (off), and the old versions' semantics on a broker: Produce v0-2 message sets converted
// up, Fetch v0-3 converted down, ListOffsets v0 old-style offsets, CreateTopics v0,
// OffsetCommit/OffsetFetch v0 answered from __consumer_offsets.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { legacyOffsets } from '../../src/broker/handlers/02-list-offsets.js';
import { CompressionType } from '../../src/protocol/compression/types.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { encodeRequest } from '../../src/protocol/frame.js';
import {
  ApiKey,
  ApiVersionsRequest,
  ApiVersionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DescribeAclsRequest,
  DescribeAclsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  DescribeLogDirsRequest,
  DescribeLogDirsResponse,
  FetchRequest,
  FetchResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse,
  ProduceRequest,
  ProduceResponse,
} from '../../src/protocol/generated/index.js';
import {
  decodeLegacyMessageSet,
  decodeRecordSet,
  downConvertBatch,
  encodeRecordBatch,
} from '../../src/protocol/records/index.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';
import { RawClient } from '../helpers/raw-client.js';

const MAX = 64 << 20;
const silent = pino({ level: 'silent' });

/** A magic 0/1 message set as an old producer sends it (offsets from 0). */
function messageSet(magic: 0 | 1, values: string[], codec: CompressionType = CompressionType.None): Buffer {
  const batch = encodeRecordBatch(
    values.map((v, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(v), timestamp: Date.now() })),
    { compression: codec },
  );
  return downConvertBatch(batch, magic, { firstOffset: 0n, maxUncompressedBytes: MAX })!;
}

async function startWith(legacy: boolean | undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-legacy-versions-'));
  const config: Record<string, string> = { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir };
  if (legacy !== undefined) config['samsa.legacy.protocol.enable'] = String(legacy);
  const broker = await startBroker({ config, logger: silent });
  return { broker, dir };
}

const floors = async (port: number) => {
  const rpc = await KafkaRpc.connect(port);
  const v = await rpc.request(ApiKey.ApiVersions, 3, ApiVersionsRequest, ApiVersionsResponse, {
    clientSoftwareName: 't',
    clientSoftwareVersion: '1',
  });
  rpc.raw.close();
  return Object.fromEntries(v.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
};

describe('samsa.legacy.protocol.enable=false: Kafka 4.0 exactly', () => {
  let broker: Broker;
  let dir: string;
  beforeAll(async () => ({ broker, dir } = await startWith(false)));
  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("advertises Kafka 4.0's version floors (KIP-896)", async () => {
    expect(await floors(broker.port)).toMatchObject({
      [ApiKey.Produce]: [3, 11],
      [ApiKey.Fetch]: [4, 17],
      [ApiKey.ListOffsets]: [1, 10],
      [ApiKey.Metadata]: [0, 12],
      [ApiKey.OffsetCommit]: [2, 9],
      [ApiKey.OffsetFetch]: [1, 9],
      [ApiKey.JoinGroup]: [0, 9],
      [ApiKey.CreateTopics]: [2, 7],
      [ApiKey.DeleteTopics]: [1, 6],
      [ApiKey.DescribeConfigs]: [1, 4],
      [ApiKey.OffsetForLeaderEpoch]: [2, 4],
    });
  });

  it('closes the connection on Produce v2, as Kafka 4.0 does', async () => {
    const c = await RawClient.connect(broker.port);
    c.send(
      ...encodeRequest(
        { apiKey: ApiKey.Produce, apiVersion: 2, correlationId: 1, clientId: 't' },
        ProduceRequest,
        {
          ...ProduceRequest.default(),
          acks: 1,
          timeoutMs: 1000,
          topicData: [{ name: 'x', partitionData: [{ index: 0, records: messageSet(1, ['a']) }] }],
        },
      ),
    );
    expect(await c.waitClosed()).toBe(true);
  });
});

describe('samsa.legacy.protocol.enable (default true): Kafka 3.9 versions and semantics', () => {
  let broker: Broker;
  let dir: string;
  let rpc: KafkaRpc;
  beforeAll(async () => {
    ({ broker, dir } = await startWith(undefined));
    rpc = await KafkaRpc.connect(broker.port);
    // CreateTopics v0 (removed by Kafka 4.0): no validate_only, the rest as v2.
    const created = await rpc.request(ApiKey.CreateTopics, 0, CreateTopicsRequest, CreateTopicsResponse, {
      ...CreateTopicsRequest.default(),
      timeoutMs: 10_000,
      topics: [
        { name: 'old', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        {
          name: 'noconv',
          numPartitions: 1,
          replicationFactor: 1,
          assignments: [],
          configs: [{ name: 'message.downconversion.enable', value: 'false' }],
        },
      ],
    });
    expect(created.topics.map((t) => t.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.NONE]);
  });
  afterAll(async () => {
    rpc?.raw.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("advertises Kafka 3.9's version floors", async () => {
    expect(await floors(broker.port)).toMatchObject({
      [ApiKey.Produce]: [0, 11],
      [ApiKey.Fetch]: [0, 17],
      [ApiKey.ListOffsets]: [0, 10],
      [ApiKey.OffsetCommit]: [0, 9],
      [ApiKey.OffsetFetch]: [0, 9],
      [ApiKey.CreateTopics]: [0, 7],
      [ApiKey.DeleteTopics]: [0, 6],
      [ApiKey.DescribeConfigs]: [0, 4],
      [ApiKey.OffsetForLeaderEpoch]: [0, 4],
      [ApiKey.DescribeAcls]: [0, 3],
      [ApiKey.DescribeLogDirs]: [0, 4],
    });
  });

  const produce = (version: number, topic: string, records: Buffer) =>
    rpc.request(ApiKey.Produce, version, ProduceRequest, ProduceResponse, {
      ...ProduceRequest.default(),
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
    });
  const fetch = (version: number, topic: string, fetchOffset: bigint) =>
    rpc.request(ApiKey.Fetch, version, FetchRequest, FetchResponse, {
      ...FetchRequest.default(),
      maxWaitMs: 0,
      topics: [
        {
          topic,
          topicId: '00000000-0000-0000-0000-000000000000',
          partitions: [
            {
              ...FetchRequest.default().topics[0]?.partitions[0],
              partition: 0,
              fetchOffset,
              partitionMaxBytes: 1 << 20,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
            },
          ],
        },
      ],
    });

  it('Produce v0/v1/v2 take magic 0/1 message sets (plain and compressed), stored as v2 batches', async () => {
    const r0 = await produce(0, 'old', messageSet(0, ['a', 'b']));
    expect(r0.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 0n });
    const r1 = await produce(1, 'old', messageSet(0, ['c'], CompressionType.Gzip));
    expect(r1.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 2n });
    const r2 = await produce(2, 'old', messageSet(1, ['d', 'e', 'f'], CompressionType.Lz4));
    expect(r2.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 3n });
    // Several shallow messages in one set (one produce of many plain messages) are one batch.
    const many = Buffer.concat([messageSet(1, ['g']), messageSet(1, ['h'])]);
    expect((await produce(2, 'old', many)).responses[0].partitionResponses[0]).toMatchObject({
      errorCode: 0,
      baseOffset: 6n,
    });

    const v4 = await fetch(4, 'old', 0n);
    const set = decodeRecordSet(v4.responses[0].partitions[0].records!, { maxUncompressedBytes: MAX });
    expect(set.batches.map((b) => b.magic)).toEqual([2, 2, 2, 2]);
    expect(set.batches.flatMap((b) => b.records.map((r) => r.value!.toString()))).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
      'g',
      'h',
    ]);
  });

  it('Produce v3+ still refuses magic 0/1, and v0-2 refuse what does not parse', async () => {
    expect((await produce(3, 'old', messageSet(1, ['x']))).responses[0].partitionResponses[0].errorCode).toBe(
      ErrorCode.INVALID_RECORD,
    );
    const set = messageSet(1, ['x']);
    expect(
      (await produce(2, 'old', set.subarray(0, set.length - 2))).responses[0].partitionResponses[0].errorCode,
    ).toBe(ErrorCode.INVALID_RECORD);
    const damaged = Buffer.from(set);
    damaged[damaged.length - 1] ^= 1;
    expect((await produce(2, 'old', damaged)).responses[0].partitionResponses[0].errorCode).toBe(
      ErrorCode.CORRUPT_MESSAGE,
    );
  });

  it('Fetch v0/v1 answer magic 0, v2/v3 magic 1, from the fetch offset on', async () => {
    for (const [version, magic] of [
      [0, 0],
      [1, 0],
      [2, 1],
      [3, 1],
    ] as const) {
      const r = await fetch(version, 'old', 4n);
      const p = r.responses[0].partitions[0];
      expect(p.errorCode).toBe(ErrorCode.NONE);
      const { batches } = decodeLegacyMessageSet(p.records!, { maxUncompressedBytes: MAX });
      expect(batches.every((b) => b.magic === magic)).toBe(true);
      const read = batches.flatMap((b) =>
        b.records.map((x) => [b.baseOffset + BigInt(x.offsetDelta), x.value!.toString()]),
      );
      expect(read).toEqual([
        [4n, 'e'],
        [5n, 'f'],
        [6n, 'g'],
        [7n, 'h'],
      ]);
    }
  });

  it('Fetch v1 on a topic with message.downconversion.enable=false answers UNSUPPORTED_VERSION', async () => {
    await produce(2, 'noconv', messageSet(1, ['x']));
    expect((await fetch(1, 'noconv', 0n)).responses[0].partitions[0].errorCode).toBe(
      ErrorCode.UNSUPPORTED_VERSION,
    );
    expect((await fetch(4, 'noconv', 0n)).responses[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
  });

  it('ListOffsets v0 answers old-style offsets, descending, up to max_num_offsets', async () => {
    const list = async (timestamp: bigint, maxNumOffsets: number) =>
      (
        await rpc.request(ApiKey.ListOffsets, 0, ListOffsetsRequest, ListOffsetsResponse, {
          ...ListOffsetsRequest.default(),
          replicaId: -1,
          topics: [
            {
              name: 'old',
              partitions: [{ partitionIndex: 0, timestamp, maxNumOffsets, currentLeaderEpoch: -1 }],
            },
          ],
        })
      ).topics[0].partitions[0];
    expect(await list(-1n, 10)).toMatchObject({ errorCode: 0, oldStyleOffsets: [8n, 0n] });
    expect(await list(-1n, 1)).toMatchObject({ errorCode: 0, oldStyleOffsets: [8n] });
    expect(await list(-2n, 10)).toMatchObject({ errorCode: 0, oldStyleOffsets: [0n] });
  });

  it('OffsetCommit v0 and OffsetFetch v0 go through __consumer_offsets', async () => {
    // FindCoordinator v0 first, as an old consumer does (it creates __consumer_offsets).
    for (;;) {
      const fc = await rpc.request(
        ApiKey.FindCoordinator,
        0,
        FindCoordinatorRequest,
        FindCoordinatorResponse,
        {
          ...FindCoordinatorRequest.default(),
          key: 'old-group',
        },
      );
      if (fc.errorCode === ErrorCode.NONE) {
        expect(fc.port).toBe(broker.port);
        break;
      }
      expect(fc.errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      await new Promise((r) => setTimeout(r, 50));
    }
    const commit = await rpc.request(ApiKey.OffsetCommit, 0, OffsetCommitRequest, OffsetCommitResponse, {
      ...OffsetCommitRequest.default(),
      groupId: 'old-group',
      topics: [
        {
          name: 'old',
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 5n,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: 'm',
            },
          ],
        },
      ],
    });
    expect(commit.topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    const fetched = await rpc.request(ApiKey.OffsetFetch, 0, OffsetFetchRequest, OffsetFetchResponse, {
      ...OffsetFetchRequest.default(),
      groupId: 'old-group',
      topics: [{ name: 'old', partitionIndexes: [0] }],
    });
    expect(fetched.topics[0].partitions[0]).toMatchObject({
      committedOffset: 5n,
      metadata: 'm',
      errorCode: 0,
    });
  });
  it('the v0 admin and replication APIs Kafka 4.0 removed answer as their newer versions do', async () => {
    const dc = await rpc.request(ApiKey.DescribeConfigs, 0, DescribeConfigsRequest, DescribeConfigsResponse, {
      ...DescribeConfigsRequest.default(),
      resources: [
        {
          resourceType: 2,
          resourceName: 'noconv',
          configurationKeys: ['message.downconversion.enable', 'retention.ms'],
        },
      ],
    });
    // v0 has is_default where v1+ have sources.
    expect(dc.results[0].errorCode).toBe(ErrorCode.NONE);
    expect(dc.results[0].configs.map((c) => [c.name, c.value, c.isDefault])).toEqual([
      ['message.downconversion.enable', 'false', false],
      ['retention.ms', '604800000', true],
    ]);
    const ofle = await rpc.request(
      ApiKey.OffsetForLeaderEpoch,
      0,
      OffsetForLeaderEpochRequest,
      OffsetForLeaderEpochResponse,
      {
        ...OffsetForLeaderEpochRequest.default(),
        topics: [{ topic: 'old', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
      },
    );
    expect(ofle.topics[0].partitions[0]).toMatchObject({ errorCode: ErrorCode.NONE, endOffset: 8n });
    const acls = await rpc.request(ApiKey.DescribeAcls, 0, DescribeAclsRequest, DescribeAclsResponse, {
      ...DescribeAclsRequest.default(),
      resourceTypeFilter: 1,
      operation: 1,
      permissionType: 1,
    });
    expect(acls.errorCode).toBe(ErrorCode.SECURITY_DISABLED);
    const dirs = await rpc.request(
      ApiKey.DescribeLogDirs,
      0,
      DescribeLogDirsRequest,
      DescribeLogDirsResponse,
      {
        ...DescribeLogDirsRequest.default(),
        topics: [{ topic: 'old', partitions: [0] }],
      },
    );
    expect(dirs.results[0].topics[0].partitions[0].partitionSize).toBeGreaterThan(0n);
    const del = await rpc.request(ApiKey.DeleteTopics, 0, DeleteTopicsRequest, DeleteTopicsResponse, {
      ...DeleteTopicsRequest.default(),
      topicNames: ['noconv'],
      timeoutMs: 10_000,
    });
    expect(del.responses.map((r) => [r.name, r.errorCode])).toEqual([['noconv', ErrorCode.NONE]]);
  });
});

describe('legacyOffsets (Kafka 3.x legacyFetchOffsetsBefore)', () => {
  const segments = [
    { baseOffset: 0n, lastModifiedMs: 100, size: 10 },
    { baseOffset: 50n, lastModifiedMs: 200, size: 10 },
    { baseOffset: 90n, lastModifiedMs: 300, size: 10 },
  ];
  it('walks back from the latest, the earliest or the last segment modified by a time', () => {
    expect(legacyOffsets(segments, 0n, 120n, 120n, -1n, 10, 400)).toEqual([120n, 90n, 50n, 0n]);
    expect(legacyOffsets(segments, 0n, 120n, 120n, -1n, 2, 400)).toEqual([120n, 90n]);
    expect(legacyOffsets(segments, 0n, 120n, 120n, -2n, 10, 400)).toEqual([0n]);
    expect(legacyOffsets(segments, 0n, 120n, 120n, 250n, 10, 400)).toEqual([50n, 0n]);
    expect(legacyOffsets(segments, 0n, 120n, 120n, 50n, 10, 400)).toEqual([]);
  });
  it('starts no earlier than the log start, never above the high watermark, no log end for an empty active segment', () => {
    expect(legacyOffsets(segments, 20n, 120n, 120n, -2n, 10, 400)).toEqual([20n]);
    expect(legacyOffsets(segments, 0n, 120n, 100n, -1n, 2, 400)).toEqual([100n, 90n]);
    const emptyActive = [...segments.slice(0, 2), { baseOffset: 90n, lastModifiedMs: 300, size: 0 }];
    expect(legacyOffsets(emptyActive, 0n, 90n, 90n, -1n, 10, 400)).toEqual([90n, 50n, 0n]);
  });
});
