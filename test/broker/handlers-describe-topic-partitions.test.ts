// DescribeTopicPartitions (key 75, KIP-966) on an in-process broker: through @platformatic/kafka's
// v0 codec on its own Connection (kafkajs, librdkafka 2.0.2 and confluent-kafka-python 1.7.0 do
// not send it), and as raw requests with Samsa's codecs. Pagination is checked against Kafka's
// rules: pages of at most response_partition_limit partitions, in topic name order, continued
// from next_cursor.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, describeTopicPartitionsV0 } from '@platformatic/kafka';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { decodeResponseHeader, encodeRequest } from '../../src/protocol/frame.js';
import {
  ApiKey,
  ApiVersionsRequest,
  ApiVersionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DescribeTopicPartitionsRequest,
  DescribeTopicPartitionsResponse,
} from '../../src/protocol/generated/index.js';
import { type MessageCodec, ZERO_UUID } from '../../src/protocol/message.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: Broker;
let dir: string;
let correlationId = 0;

// READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS: no authorizer.
const ALL_TOPIC_OPERATIONS = 0b1101_1111_1000;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samsa-dtp-'));
  broker = await startBroker({
    config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir },
    logger: pino({ level: 'silent' }),
  });
  const r = await call(ApiKey.CreateTopics, 7, CreateTopicsRequest, CreateTopicsResponse, {
    topics: [
      { name: 'dtp-c', numPartitions: 5, replicationFactor: 1, assignments: [], configs: [] },
      { name: 'dtp-a', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] },
      { name: 'dtp-b', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
    ],
    timeoutMs: 5000,
    validateOnly: false,
  });
  expect(r.topics.map((t) => t.errorCode)).toEqual([0, 0, 0]);
});

afterAll(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function call<Req, Resp>(
  apiKey: number,
  version: number,
  reqCodec: MessageCodec<Req>,
  respCodec: MessageCodec<Resp>,
  body: Req,
): Promise<Resp> {
  const c = await RawClient.connect(broker.port);
  try {
    const id = ++correlationId;
    c.send(
      ...encodeRequest({ apiKey, apiVersion: version, correlationId: id, clientId: 't' }, reqCodec, body),
    );
    const frame = await c.next();
    if (!frame) throw new Error('connection closed');
    const { header, body: payload } = decodeResponseHeader(frame, apiKey, version);
    expect(header.correlationId).toBe(id);
    return respCodec.decode(payload, version);
  } finally {
    c.close();
  }
}

async function describeRaw(
  topics: string[],
  responsePartitionLimit: number,
  cursor: { topicName: string; partitionIndex: number } | null = null,
) {
  const r = await call(
    ApiKey.DescribeTopicPartitions,
    0,
    DescribeTopicPartitionsRequest,
    DescribeTopicPartitionsResponse,
    { topics: topics.map((name) => ({ name })), responsePartitionLimit, cursor },
  );
  return {
    topics: r.topics.map((t) => ({
      name: t.name,
      errorCode: t.errorCode,
      partitions: t.partitions.map((p) => p.partitionIndex),
    })),
    nextCursor: r.nextCursor && {
      topicName: r.nextCursor.topicName,
      partitionIndex: r.nextCursor.partitionIndex,
    },
  };
}

const topicId = (name: string) => broker.services.metadata.image.topic(name)!.id;

describe('DescribeTopicPartitions', () => {
  it('describes topics and partitions as Kafka (@platformatic/kafka, v0)', async () => {
    const connection = new Connection('samsa-test');
    await connection.connect('127.0.0.1', broker.port);
    try {
      const r = await describeTopicPartitionsV0.api.async(
        connection,
        [{ name: 'dtp-b' }, { name: 'dtp-a' }],
        2000,
      );
      expect(r.nextCursor).toBeUndefined();
      const partition = (i: number) => ({
        errorCode: 0,
        partitionIndex: i,
        leaderId: 1,
        leaderEpoch: 0,
        replicaNodes: [1],
        isrNodes: [1],
        eligibleLeaderReplicas: [],
        lastKnownElr: [],
        offlineReplicas: [],
      });
      // Sorted by name, whatever the request order.
      expect(r.topics).toEqual([
        {
          errorCode: 0,
          name: 'dtp-a',
          topicId: expect.any(String),
          isInternal: false,
          partitions: [partition(0), partition(1), partition(2)],
          topicAuthorizedOperations: ALL_TOPIC_OPERATIONS,
        },
        {
          errorCode: 0,
          name: 'dtp-b',
          topicId: expect.any(String),
          isInternal: false,
          partitions: [partition(0)],
          topicAuthorizedOperations: ALL_TOPIC_OPERATIONS,
        },
      ]);
      // platformatic prints uuids as 8-4-4-4-12 hex; Samsa's image holds Kafka's base64url form.
      const hex = (id: string) => Buffer.from(id, 'base64url').toString('hex');
      expect(r.topics.map((t) => t.topicId.replaceAll('-', ''))).toEqual([
        hex(topicId('dtp-a')),
        hex(topicId('dtp-b')),
      ]);

      // A page limit of 2 over every topic (an empty list): the cursor continues inside dtp-a.
      const page = await describeTopicPartitionsV0.api.async(connection, [], 2);
      expect(page.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)])).toEqual([
        ['dtp-a', [0, 1]],
      ]);
      expect(page.nextCursor).toEqual({ topicName: 'dtp-a', partitionIndex: 2 });
      const next = await describeTopicPartitionsV0.api.async(connection, [], 2, page.nextCursor);
      expect(next.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)])).toEqual([
        ['dtp-a', [2]],
        ['dtp-b', [0]],
      ]);
      expect(next.nextCursor).toEqual({ topicName: 'dtp-c', partitionIndex: 0 });

      // Errors come back per topic; platformatic raises them with the parsed response attached.
      const err = await describeTopicPartitionsV0.api
        .async(connection, [{ name: 'dtp-nope' }], 10)
        .catch((e: { response?: unknown }) => e);
      expect(err).toMatchObject({
        response: {
          topics: [{ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name: 'dtp-nope', partitions: [] }],
        },
      });
    } finally {
      await connection.close();
    }
  });

  it('pages through every topic with next_cursor', async () => {
    const pages = [];
    let cursor: { topicName: string; partitionIndex: number } | null = null;
    do {
      const page = await describeRaw([], 4, cursor);
      pages.push(page);
      cursor = page.nextCursor;
    } while (cursor !== null && pages.length < 10);
    expect(pages).toEqual([
      {
        // dtp-a (3) and dtp-b (1) fill the page exactly: the next page starts at dtp-c's partition 0.
        topics: [
          { name: 'dtp-a', errorCode: 0, partitions: [0, 1, 2] },
          { name: 'dtp-b', errorCode: 0, partitions: [0] },
        ],
        nextCursor: { topicName: 'dtp-c', partitionIndex: 0 },
      },
      {
        topics: [{ name: 'dtp-c', errorCode: 0, partitions: [0, 1, 2, 3] }],
        nextCursor: { topicName: 'dtp-c', partitionIndex: 4 },
      },
      { topics: [{ name: 'dtp-c', errorCode: 0, partitions: [4] }], nextCursor: null },
    ]);
  });

  it('answers at least one partition per page (a limit of 0 counts as 1)', async () => {
    expect(await describeRaw(['dtp-b', 'dtp-c'], 0)).toEqual({
      topics: [{ name: 'dtp-b', errorCode: 0, partitions: [0] }],
      nextCursor: { topicName: 'dtp-c', partitionIndex: 0 },
    });
  });

  it('starts requested topics at the cursor, skipping names before it', async () => {
    expect(await describeRaw(['dtp-c', 'dtp-a'], 100, { topicName: 'dtp-c', partitionIndex: 3 })).toEqual({
      topics: [{ name: 'dtp-c', errorCode: 0, partitions: [3, 4] }],
      nextCursor: null,
    });
    // A cursor past the topic's last partition answers the topic with none.
    expect(await describeRaw(['dtp-b'], 100, { topicName: 'dtp-b', partitionIndex: 7 })).toEqual({
      topics: [{ name: 'dtp-b', errorCode: 0, partitions: [] }],
      nextCursor: null,
    });
  });

  it('answers unknown and illegal names per topic; a full page points the cursor at the next name', async () => {
    expect(await describeRaw(['dtp-zzz', 'dtp-b', 'bad/name', 'dtp-a'], 100)).toEqual({
      topics: [
        { name: 'bad/name', errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, partitions: [] },
        { name: 'dtp-a', errorCode: 0, partitions: [0, 1, 2] },
        { name: 'dtp-b', errorCode: 0, partitions: [0] },
        { name: 'dtp-zzz', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partitions: [] },
      ],
      nextCursor: null,
    });
    // As Kafka: once the page is full, the cursor names the next topic even if it does not exist.
    expect(await describeRaw(['dtp-a', 'dtp-zzz'], 3)).toEqual({
      topics: [{ name: 'dtp-a', errorCode: 0, partitions: [0, 1, 2] }],
      nextCursor: { topicName: 'dtp-zzz', partitionIndex: 0 },
    });
    const r = await call(
      ApiKey.DescribeTopicPartitions,
      0,
      DescribeTopicPartitionsRequest,
      DescribeTopicPartitionsResponse,
      { topics: [{ name: 'dtp-zzz' }], responsePartitionLimit: 10, cursor: null },
    );
    expect(r.topics[0]).toMatchObject({ topicId: ZERO_UUID, isInternal: false });
  });

  it('refuses a cursor outside the requested topics or with a negative partition: INVALID_REQUEST', async () => {
    expect(await describeRaw(['dtp-a', 'dtp-b'], 10, { topicName: 'dtp-c', partitionIndex: 0 })).toEqual({
      topics: [
        { name: 'dtp-a', errorCode: ErrorCode.INVALID_REQUEST, partitions: [] },
        { name: 'dtp-b', errorCode: ErrorCode.INVALID_REQUEST, partitions: [] },
      ],
      nextCursor: null,
    });
    expect(await describeRaw(['dtp-a'], 10, { topicName: 'dtp-a', partitionIndex: -1 })).toEqual({
      topics: [{ name: 'dtp-a', errorCode: ErrorCode.INVALID_REQUEST, partitions: [] }],
      nextCursor: null,
    });
    // Over every topic, the cursor's topic need not exist; the error answer names no topics.
    expect(await describeRaw([], 10, { topicName: 'dtp-bb', partitionIndex: 0 })).toEqual({
      topics: [{ name: 'dtp-c', errorCode: 0, partitions: [0, 1, 2, 3, 4] }],
      nextCursor: null,
    });
    expect(await describeRaw([], 10, { topicName: 'dtp-a', partitionIndex: -3 })).toEqual({
      topics: [],
      nextCursor: null,
    });
  });

  it('is advertised at version 0', async () => {
    const v = await call(ApiKey.ApiVersions, 3, ApiVersionsRequest, ApiVersionsResponse, {
      clientSoftwareName: 't',
      clientSoftwareVersion: '1',
    });
    expect(v.apiKeys.find((k) => k.apiKey === ApiKey.DescribeTopicPartitions)).toMatchObject({
      minVersion: 0,
      maxVersion: 0,
    });
  });
});
