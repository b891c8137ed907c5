// Fetch (API key 1) against kafkajs (v0-v11) and @platformatic/kafka (v12-v17; flexible from v12,
// topic ids from v13). Responses carry real record data: a legacy message set for v0-v3 (what a
// broker down-converts to for those versions) and v2 record batches from v4, each written by the
// same library that then parses it out of the Samsa-encoded response.

import {
  type fetchV17 as FetchV17Types,
  fetchV12,
  fetchV13,
  fetchV14,
  fetchV15,
  fetchV16,
  fetchV17,
} from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchRequest, FetchResponse } from '../../../src/protocol/generated/index.js';
import {
  CaptureBroker,
  type KafkajsDecodedMessage,
  type KafkajsRecordInput,
  kafkajsDecodeResponse,
  kafkajsMessageSet,
  kafkajsRecordBatch,
  kafkajsRequest,
  platformaticExchange,
  platformaticParse,
  platformaticRecordBatch,
  uuidFromHex,
  uuidToHex,
} from './fixtures.js';
import {
  bodyAfterV0Header,
  decodeLibraryRequest,
  encodeSamsaResponse,
  expectConsumed,
  since,
  ZERO_UUID,
} from './samsa.js';

const T0 = 1_700_000_000_000;
const ORDERS_ID_HEX = '5b8e3a1f-0c2d-4e6f-8a9b-1c2d3e4f5a6b';
const ORDERS_ID = uuidFromHex(ORDERS_ID_HEX);
const OLD_ID_HEX = '00112233-4455-6677-8899-aabbccddeeff';

const RECORDS: KafkajsRecordInput[] = [
  { key: 'k-100', value: 'first', headers: { trace: 'abc' }, timestamp: T0 },
  { key: 'k-101', value: 'second', timestamp: T0 + 3 },
  { key: null, value: 'third', timestamp: T0 + 4 },
];

interface FetchResponseOptions {
  version: number;
  records: Buffer;
  topicName: string;
  topicId: string;
}

function fetchResponse({ version, records, topicName, topicId }: FetchResponseOptions): FetchResponse {
  const taggedDefaults = {
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
  };
  return {
    throttleTimeMs: since(version, 1, 12, 0),
    errorCode: 0,
    sessionId: since(version, 7, 99, 0),
    responses: [
      {
        topic: since(version, 13, '', topicName),
        topicId: since(version, 13, topicId, ZERO_UUID),
        partitions: [
          {
            partitionIndex: 0,
            errorCode: 0,
            highWatermark: 130n,
            lastStableOffset: since(version, 4, 120n, -1n),
            logStartOffset: since(version, 5, 100n, -1n),
            ...taggedDefaults,
            abortedTransactions: since(version, 4, [{ producerId: 4000n, firstOffset: 110n }], []),
            preferredReadReplica: -1,
            records,
          },
          {
            partitionIndex: 1,
            errorCode: 1, // OFFSET_OUT_OF_RANGE
            highWatermark: -1n,
            lastStableOffset: -1n,
            logStartOffset: -1n,
            ...taggedDefaults,
            abortedTransactions: since(version, 4, null, []),
            preferredReadReplica: -1,
            records: null,
          },
        ],
      },
    ],
    nodeEndpoints: [],
  };
}

function messageSummary(messages: KafkajsDecodedMessage[]) {
  return messages.map((m) => [m.offset, m.key === null ? null : m.key.toString(), m.value?.toString()]);
}

describe('Fetch vs kafkajs', () => {
  for (const version of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) {
    it(`request v${version}: kafkajs bytes decode and re-encode identically`, async () => {
      const fixture = await kafkajsRequest('fetch', version, {
        maxWaitTime: 500,
        minBytes: 1,
        maxBytes: 10_485_760,
        isolationLevel: 1,
        sessionId: 12,
        sessionEpoch: 3,
        forgottenTopics: [{ topic: 'old-topic', partitions: [4, 5] }],
        rackId: 'rack-a',
        topics: [
          {
            topic: 'orders',
            partitions: [
              { partition: 0, fetchOffset: '1234567890123', maxBytes: 1_048_576, currentLeaderEpoch: 8 },
              { partition: 2, fetchOffset: '0', maxBytes: 65_536, logStartOffset: '5' },
            ],
          },
          {
            topic: 'audit',
            partitions: [
              { partition: 1, fetchOffset: '42', maxBytes: 1024 },
              // Past 2^53: int64 must stay exact (bigint), not round through a double.
              { partition: 2, fetchOffset: '9223372036854775807', maxBytes: 0 },
            ],
          },
        ],
      });
      const { message } = decodeLibraryRequest(FetchRequest, 'Fetch', fixture.frame);
      expect(message).toMatchObject({
        replicaId: -1,
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: since(version, 3, 10_485_760, 0x7fffffff),
        isolationLevel: since(version, 4, 1, 0),
        sessionId: since(version, 7, 12, 0),
        sessionEpoch: since(version, 7, 3, -1),
        topics: [
          {
            topic: 'orders',
            partitions: [
              {
                partition: 0,
                currentLeaderEpoch: since(version, 9, 8, -1),
                fetchOffset: 1_234_567_890_123n,
                logStartOffset: -1n,
                partitionMaxBytes: 1_048_576,
              },
              {
                partition: 2,
                fetchOffset: 0n,
                logStartOffset: since(version, 5, 5n, -1n),
                partitionMaxBytes: 65_536,
              },
            ],
          },
          {
            topic: 'audit',
            partitions: [
              { partition: 1, fetchOffset: 42n, partitionMaxBytes: 1024 },
              { partition: 2, fetchOffset: 9_223_372_036_854_775_807n, partitionMaxBytes: 0 },
            ],
          },
        ],
        forgottenTopicsData: since(version, 7, [{ topic: 'old-topic', partitions: [4, 5] }], []),
        rackId: since(version, 11, 'rack-a', ''),
      });
    });

    it(`response v${version}: Samsa bytes (with records) parse in kafkajs`, async () => {
      const records =
        version >= 4
          ? await kafkajsRecordBatch(RECORDS, { firstOffset: 100n })
          : kafkajsMessageSet(RECORDS, version >= 2 ? 1 : 0);
      const response = fetchResponse({ version, records, topicName: 'orders', topicId: ZERO_UUID });
      const bytes = encodeSamsaResponse(FetchResponse, 'Fetch', version, 9, response);
      const decoded = (await kafkajsDecodeResponse('fetch', version, bodyAfterV0Header(bytes))) as {
        responses: { topicName: string; partitions: Record<string, unknown>[] }[];
        throttleTime?: number;
        clientSideThrottleTime?: number;
        sessionId?: number;
      };
      expect(decoded.responses).toHaveLength(1);
      expect(decoded.responses[0].topicName).toBe('orders');
      const [p0, p1] = decoded.responses[0].partitions;
      expect(p0).toMatchObject({ partition: 0, errorCode: 0, highWatermark: '130' });
      expect(p1).toMatchObject({ partition: 1, errorCode: 1, highWatermark: '-1', messages: [] });
      if (version >= 4) {
        expect(p0).toMatchObject({
          lastStableOffset: '120',
          abortedTransactions: [{ producerId: '4000', firstOffset: '110' }],
        });
        // kafkajs reads a null aborted_transactions array (length -1) as empty.
        expect(p1.abortedTransactions).toEqual([]);
      }
      if (version >= 5) expect(p0.lastStartOffset).toBe('100'); // sic: kafkajs's name for log_start_offset
      if (version >= 11) expect(p0.preferredReadReplica).toBe(-1);
      if (version >= 7) expect(decoded.sessionId).toBe(99);
      // Legacy messages (v0-v3) keep the offsets of the message set, which kafkajs writes as -1
      // for uncompressed producer sets; record batches number from the base offset.
      const offsets = version >= 4 ? ['100', '101', '102'] : ['-1', '-1', '-1'];
      expect(messageSummary(p0.messages as KafkajsDecodedMessage[])).toEqual([
        [offsets[0], 'k-100', 'first'],
        [offsets[1], 'k-101', 'second'],
        [offsets[2], null, 'third'],
      ]);
      if (version >= 1)
        expect(
          version >= 3 ? (decoded.clientSideThrottleTime ?? decoded.throttleTime) : decoded.throttleTime,
        ).toBe(12);
    });
  }
});

const PLATFORMATIC_FETCH = {
  12: fetchV12,
  13: fetchV13,
  14: fetchV14,
  15: fetchV15,
  16: fetchV16,
  17: fetchV17,
} as const;

describe('Fetch vs @platformatic/kafka', () => {
  let broker: CaptureBroker;
  beforeAll(async () => {
    broker = await CaptureBroker.start();
  });
  afterAll(async () => {
    await broker.close();
  });

  for (const version of [12, 13, 14, 15, 16, 17] as const) {
    const mod = PLATFORMATIC_FETCH[version];

    it(`v${version}: request frame from a real Connection round-trips; Samsa response parses`, async () => {
      const byId = version >= 13;
      const batch = platformaticRecordBatch(
        [
          {
            topic: 'orders',
            partition: 0,
            key: Buffer.from('k'),
            value: Buffer.from('v-a'),
            timestamp: BigInt(T0),
          },
          { topic: 'orders', partition: 0, value: Buffer.from('v-b'), timestamp: BigInt(T0 + 1) },
        ],
        { producerId: 4000n, producerEpoch: 1 },
      );
      const response = fetchResponse({ version, records: batch, topicName: 'orders', topicId: ORDERS_ID });
      const topics: FetchV17Types.FetchRequestTopic[] = [
        {
          topicId: byId ? ORDERS_ID_HEX : 'orders',
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: 8,
              fetchOffset: 1_234_567_890_123n,
              lastFetchedEpoch: 7,
              partitionMaxBytes: 1_048_576,
            },
            {
              partition: 1,
              currentLeaderEpoch: -1,
              fetchOffset: 0n,
              lastFetchedEpoch: -1,
              partitionMaxBytes: 1024,
            },
          ],
        },
      ];
      // platformatic writes forgotten topics as uuids even in v12, where Kafka expects names: leave them out there.
      const forgotten = byId ? [{ topic: OLD_ID_HEX, partitions: [4, 5] }] : [];
      const exchange = await platformaticExchange(
        broker,
        mod.api,
        [500, 1, 10_485_760, 1, 12, 3, topics, forgotten, 'rack-a'],
        (req) => encodeSamsaResponse(FetchResponse, 'Fetch', version, req.readInt32BE(8), response),
      );

      const { message } = decodeLibraryRequest(FetchRequest, 'Fetch', exchange.frame);
      expect(message).toMatchObject({
        clusterId: null,
        replicaId: since(version, 15, -1, -1),
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: 10_485_760,
        isolationLevel: 1,
        sessionId: 12,
        sessionEpoch: 3,
        topics: [
          {
            topic: byId ? '' : 'orders',
            topicId: byId ? ORDERS_ID : ZERO_UUID,
            partitions: [
              {
                partition: 0,
                currentLeaderEpoch: 8,
                fetchOffset: 1_234_567_890_123n,
                lastFetchedEpoch: 7,
                logStartOffset: -1n,
                partitionMaxBytes: 1_048_576,
                replicaDirectoryId: ZERO_UUID,
              },
              { partition: 1, fetchOffset: 0n, lastFetchedEpoch: -1, partitionMaxBytes: 1024 },
            ],
          },
        ],
        forgottenTopicsData: byId
          ? [{ topic: '', topicId: uuidFromHex(OLD_ID_HEX), partitions: [4, 5] }]
          : [],
        rackId: 'rack-a',
      });

      // Partition 1 carries OFFSET_OUT_OF_RANGE, so platformatic raises a ResponseError holding the parse.
      const parsed = ((exchange.error as { response?: unknown } | undefined)?.response ??
        exchange.response) as FetchV17Types.FetchResponse;
      expect(parsed).toMatchObject({ throttleTimeMs: 12, errorCode: 0, sessionId: 99 });
      expect(parsed.responses).toHaveLength(1);
      expect(parsed.responses[0].topicId).toBe(byId ? ORDERS_ID_HEX : 'orders');
      const [p0, p1] = parsed.responses[0].partitions;
      expect(p0).toMatchObject({
        partitionIndex: 0,
        errorCode: 0,
        highWatermark: 130n,
        lastStableOffset: 120n,
        logStartOffset: 100n,
        abortedTransactions: [{ producerId: 4000n, firstOffset: 110n }],
        preferredReadReplica: -1,
      });
      expect(p0.records).toHaveLength(1);
      expect(p0.records![0]).toMatchObject({ firstOffset: 0n, producerId: 4000n, producerEpoch: 1 });
      expect(p0.records![0].records.map((r) => r.value?.toString())).toEqual(['v-a', 'v-b']);
      expect(p1).toMatchObject({ partitionIndex: 1, errorCode: 1, abortedTransactions: [] });
      expect(p1.records).toBeUndefined();

      const body = FetchResponse.encode(response, version);
      expectConsumed(platformaticParse(mod.parseResponse, 1, version, body).unread, body, true);
    });
  }

  it('uuid helpers agree with platformatic hex ids', () => {
    expect(uuidToHex(ORDERS_ID)).toBe(ORDERS_ID_HEX);
  });
});
