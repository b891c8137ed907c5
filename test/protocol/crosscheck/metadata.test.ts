// Metadata (API key 3) against kafkajs (v0-v6) and @platformatic/kafka (v9-v12; flexible from v9,
// topic ids from v10).

import {
  type metadataV12 as MetadataV12Types,
  metadataV9,
  metadataV10,
  metadataV11,
  metadataV12,
} from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetadataRequest, MetadataResponse } from '../../../src/protocol/generated/index.js';
import { DecodeError } from '../../../src/protocol/primitives/reader.js';
import {
  CaptureBroker,
  kafkajsDecodeResponse,
  kafkajsRequest,
  parseRequestFrame,
  platformaticExchange,
  platformaticParse,
  requestHeaderVersion,
  uuidFromHex,
} from './fixtures.js';
import {
  bodyAfterV0Header,
  decodeLibraryRequest,
  encodeSamsaResponse,
  expectConsumed,
  since,
  ZERO_UUID,
} from './samsa.js';

const ORDERS_ID_HEX = '7d0f5c2a-3b4e-4f60-9a1b-2c3d4e5f6a7b';
const OFFSETS_ID_HEX = '11111111-2222-4333-8444-555555555555';
const NO_OPERATIONS = -2147483648;

function metadataResponse(version: number): MetadataResponse {
  return {
    throttleTimeMs: since(version, 3, 5, 0),
    brokers: [
      { nodeId: 1, host: 'b1.samsa.local', port: 9092, rack: since(version, 1, 'rack-a', null) },
      { nodeId: 2, host: 'b2.samsa.local', port: 19093, rack: null },
    ],
    clusterId: since(version, 2, 'samsa-cluster-0', null),
    controllerId: since(version, 1, 2, -1),
    topics: [
      {
        errorCode: 0,
        name: 'orders',
        topicId: since(version, 10, uuidFromHex(ORDERS_ID_HEX), ZERO_UUID),
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 1,
            leaderEpoch: since(version, 7, 5, -1),
            replicaNodes: [1, 2],
            isrNodes: [1, 2],
            offlineReplicas: [],
          },
          {
            errorCode: 0,
            partitionIndex: 1,
            leaderId: 2,
            leaderEpoch: since(version, 7, 3, -1),
            replicaNodes: [2, 1],
            isrNodes: [2],
            offlineReplicas: since(version, 5, [1], []),
          },
        ],
        topicAuthorizedOperations: since(version, 8, 0x0ff8, NO_OPERATIONS),
      },
      {
        errorCode: 0,
        name: '__consumer_offsets',
        topicId: since(version, 10, uuidFromHex(OFFSETS_ID_HEX), ZERO_UUID),
        isInternal: since(version, 1, true, false),
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 1,
            leaderEpoch: since(version, 7, 0, -1),
            replicaNodes: [1],
            isrNodes: [1],
            offlineReplicas: [],
          },
        ],
        topicAuthorizedOperations: NO_OPERATIONS,
      },
      {
        errorCode: 3, // UNKNOWN_TOPIC_OR_PARTITION
        name: 'missing',
        topicId: ZERO_UUID,
        isInternal: false,
        partitions: [],
        topicAuthorizedOperations: NO_OPERATIONS,
      },
    ],
    clusterAuthorizedOperations: NO_OPERATIONS,
  };
}

describe('Metadata vs kafkajs', () => {
  for (const version of [0, 1, 2, 3, 4, 5, 6]) {
    it(`request v${version}: kafkajs bytes decode and re-encode identically`, async () => {
      const fixture = await kafkajsRequest('metadata', version, {
        topics: ['orders', 'audit'],
        allowAutoTopicCreation: false,
      });
      const { message } = decodeLibraryRequest(MetadataRequest, 'Metadata', fixture.frame);
      expect(message).toEqual({
        topics: [
          { topicId: ZERO_UUID, name: 'orders' },
          { topicId: ZERO_UUID, name: 'audit' },
        ],
        // Before v4 the field does not exist; Kafka's default for it is true.
        allowAutoTopicCreation: version < 4,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
    });

    if (version >= 1) {
      it(`request v${version}: a null topic array (all topics) survives the round trip`, async () => {
        // kafkajs writes an empty topic list as a null array (length -1).
        const fixture = await kafkajsRequest('metadata', version, { topics: [] });
        expect(fixture.body.readInt32BE(0)).toBe(-1);
        const { message } = decodeLibraryRequest(MetadataRequest, 'Metadata', fixture.frame);
        expect(message.topics).toBeNull();
        expect(message.allowAutoTopicCreation).toBe(true);
      });
    }

    it(`response v${version}: Samsa bytes parse in kafkajs`, async () => {
      const bytes = encodeSamsaResponse(MetadataResponse, 'Metadata', version, 3, metadataResponse(version));
      const decoded = await kafkajsDecodeResponse('metadata', version, bodyAfterV0Header(bytes));
      const broker = (nodeId: number, host: string, port: number, rack: string | null) =>
        version >= 1 ? { nodeId, host, port, rack } : { nodeId, host, port };
      const partition = (
        id: number,
        leader: number,
        replicas: number[],
        isr: number[],
        offline: number[],
      ) => ({
        partitionErrorCode: 0,
        partitionId: id,
        leader,
        replicas,
        isr,
        ...(version >= 5 ? { offlineReplicas: offline } : {}),
      });
      const topic = (topicErrorCode: number, name: string, isInternal: boolean, partitions: object[]) => ({
        topicErrorCode,
        topic: name,
        ...(version >= 1 ? { isInternal } : {}),
        partitionMetadata: partitions,
      });
      expect(decoded).toMatchObject({
        brokers: [broker(1, 'b1.samsa.local', 9092, 'rack-a'), broker(2, 'b2.samsa.local', 19093, null)],
        ...(version >= 1 ? { controllerId: 2 } : {}),
        ...(version >= 2 ? { clusterId: 'samsa-cluster-0' } : {}),
        topicMetadata: [
          topic(0, 'orders', false, [partition(0, 1, [1, 2], [1, 2], []), partition(1, 2, [2, 1], [2], [1])]),
          topic(0, '__consumer_offsets', true, [partition(0, 1, [1], [1], [])]),
          topic(3, 'missing', false, []),
        ],
      });
      if (version >= 3) {
        const d = decoded as { throttleTime: number; clientSideThrottleTime?: number };
        expect(d.clientSideThrottleTime ?? d.throttleTime).toBe(5);
      }
    });
  }
});

const PLATFORMATIC_METADATA = { 9: metadataV9, 10: metadataV10, 11: metadataV11, 12: metadataV12 } as const;

describe('Metadata vs @platformatic/kafka', () => {
  let broker: CaptureBroker;
  beforeAll(async () => {
    broker = await CaptureBroker.start();
  });
  afterAll(async () => {
    await broker.close();
  });

  it('v12: 150 topics (a compact array count past 127) round-trip', async () => {
    const names = Array.from({ length: 150 }, (_, i) => `topic-${i}`);
    const exchange = await platformaticExchange(broker, metadataV12.api, [names, false, false], (req) =>
      encodeSamsaResponse(MetadataResponse, 'Metadata', 12, req.readInt32BE(8), {
        ...metadataResponse(12),
        topics: [],
      }),
    );
    const { message } = decodeLibraryRequest(MetadataRequest, 'Metadata', exchange.frame);
    expect(message.topics?.map((t) => t.name)).toEqual(names);
    expect(exchange.response?.topics).toEqual([]);
  });

  for (const version of [9, 10, 11, 12] as const) {
    const mod = PLATFORMATIC_METADATA[version];

    it(`v${version}: request frame from a real Connection round-trips; Samsa response parses`, async () => {
      const response = metadataResponse(version);
      const exchange = await platformaticExchange(broker, mod.api, [['orders', 'audit'], true, true], (req) =>
        encodeSamsaResponse(MetadataResponse, 'Metadata', version, req.readInt32BE(8), response),
      );

      const expected = {
        topics: [
          { topicId: ZERO_UUID, name: 'orders' },
          { topicId: ZERO_UUID, name: 'audit' },
        ],
        allowAutoTopicCreation: true,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: true,
      };
      if (version === 11) {
        // @platformatic/kafka 1.35 writes include_cluster_authorized_operations in v11 too, although
        // the field only exists in v8-v10: its body is Kafka's v11 encoding with one stray 0x00
        // before include_topic_authorized_operations. Read by the schema (Samsa, like Kafka's Java
        // parser), the stray byte becomes include_topic_authorized_operations and the real flag the
        // tagged-field count; with the flag true (as here) a tagged field is then cut short, so the
        // request cannot be parsed by Kafka either. (With the flag false it parses with one byte
        // left over, which Samsa rejects; Kafka's Java parser does not appear to check for that.)
        const { body } = parseRequestFrame(exchange.frame, requestHeaderVersion('Metadata', 11));
        const schema = MetadataRequest.encode(expected, 11);
        const cut = schema.length - 2;
        expect(body).toEqual(
          Buffer.concat([schema.subarray(0, cut), Buffer.from([0]), schema.subarray(cut)]),
        );
        expect(() => MetadataRequest.decode(body, 11)).toThrow(DecodeError);
      } else {
        const { message } = decodeLibraryRequest(MetadataRequest, 'Metadata', exchange.frame);
        expect(message).toEqual(expected);
      }

      // 'missing' carries UNKNOWN_TOPIC_OR_PARTITION, so platformatic raises a ResponseError holding the parse.
      const parsed = ((exchange.error as { response?: unknown } | undefined)?.response ??
        exchange.response) as MetadataV12Types.MetadataResponse;
      expect(parsed).toMatchObject({
        throttleTimeMs: 5,
        brokers: [
          { nodeId: 1, host: 'b1.samsa.local', port: 9092, rack: 'rack-a' },
          { nodeId: 2, host: 'b2.samsa.local', port: 19093, rack: null },
        ],
        clusterId: 'samsa-cluster-0',
        controllerId: 2,
      });
      expect(
        parsed.topics.map((t) => [t.errorCode, t.name, t.isInternal, t.topicAuthorizedOperations]),
      ).toEqual([
        [0, 'orders', false, 0x0ff8],
        [0, '__consumer_offsets', true, NO_OPERATIONS],
        [3, 'missing', false, NO_OPERATIONS],
      ]);
      if (version >= 10) {
        expect(parsed.topics.map((t) => t.topicId)).toEqual([
          ORDERS_ID_HEX,
          OFFSETS_ID_HEX,
          '00000000-0000-0000-0000-000000000000',
        ]);
      }
      expect(parsed.topics[0].partitions).toEqual([
        {
          errorCode: 0,
          partitionIndex: 0,
          leaderId: 1,
          leaderEpoch: 5,
          replicaNodes: [1, 2],
          isrNodes: [1, 2],
          offlineReplicas: [],
        },
        {
          errorCode: 0,
          partitionIndex: 1,
          leaderId: 2,
          leaderEpoch: 3,
          replicaNodes: [2, 1],
          isrNodes: [2],
          offlineReplicas: [1],
        },
      ]);

      // v9/v10 end with cluster_authorized_operations (int32), which platformatic skips as if it were
      // a one-byte boolean: 3 bytes of it and the tagged-field section stay unread.
      const body = MetadataResponse.encode(response, version);
      const { unread } = platformaticParse(mod.parseResponse, 3, version, body);
      if (version <= 10) {
        expect(unread).toBe(4);
        expect(body.readInt32BE(body.length - 5)).toBe(NO_OPERATIONS);
        expect(body[body.length - 1]).toBe(0);
      } else expectConsumed(unread, body, true);
    });
  }
});
