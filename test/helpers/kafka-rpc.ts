// A minimal typed Kafka client for tests: requests built with the generated codecs, sent over a
// RawClient, pipelined (responses are matched by position, as the broker answers in request order),
// plus the few operations the broker tests need (create topics, produce, read a partition back,
// list offsets, configs). It never retries and never hides an error code: a test sees what the
// broker answered.

import { decodeResponseHeader, encodeRequest } from '../../src/protocol/frame.js';
import {
  ApiKey,
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  FetchRequest,
  FetchResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from '../../src/protocol/generated/index.js';
import type { MessageCodec } from '../../src/protocol/message.js';
import {
  type EncodeBatchOptions,
  encodeRecordBatch,
  type RecordInput,
} from '../../src/protocol/records/index.js';
import { decodeRecordSet } from '../../src/protocol/records/record-set.js';
import { RawClient } from './raw-client.js';

interface Pending {
  apiKey: number;
  version: number;
  correlationId: number;
  codec: MessageCodec<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** Generous: a loaded 2-core machine may take seconds to fsync under another test's load. */
const RESPONSE_TIMEOUT_MS = 60_000;

export class KafkaRpc {
  private nextCorrelationId = 1;
  private readonly pending: Pending[] = [];
  private pumping = false;

  private constructor(readonly raw: RawClient) {}

  static async connect(port: number): Promise<KafkaRpc> {
    return new KafkaRpc(await RawClient.connect(port));
  }

  get closed(): boolean {
    return this.raw.closed;
  }

  /** Number of requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.length;
  }

  /** Sends one request; resolves with the decoded response body, rejects if the connection closes. */
  request<Req, Res>(
    apiKey: number,
    version: number,
    requestCodec: MessageCodec<Req>,
    responseCodec: MessageCodec<Res>,
    body: Req,
  ): Promise<Res> {
    const correlationId = this.nextCorrelationId++;
    const chunks = encodeRequest(
      { apiKey, apiVersion: version, correlationId, clientId: 'samsa-test' },
      requestCodec,
      body,
    );
    return new Promise<Res>((resolve, reject) => {
      this.pending.push({
        apiKey,
        version,
        correlationId,
        codec: responseCodec as MessageCodec<unknown>,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.raw.send(...chunks);
      void this.pump();
    });
  }

  /** Sends bytes as they are (for requests that get no response, or hand-made frames). */
  sendRaw(...chunks: Buffer[]): void {
    this.raw.send(...chunks);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.pending.length > 0) {
        let frame: Buffer | null;
        try {
          frame = await this.raw.next(RESPONSE_TIMEOUT_MS);
        } catch (err) {
          this.failAll(err as Error);
          return;
        }
        const p = this.pending.shift()!;
        if (frame === null) {
          p.reject(new Error('connection closed before the response'));
          this.failAll(new Error('connection closed before the response'));
          return;
        }
        try {
          const { header, body } = decodeResponseHeader(frame, p.apiKey, p.version);
          if (header.correlationId !== p.correlationId) {
            throw new Error(`correlation id ${header.correlationId}, expected ${p.correlationId}`);
          }
          p.resolve(p.codec.decode(body, p.version));
        } catch (err) {
          p.reject(err as Error);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.splice(0)) p.reject(err);
  }

  close(): void {
    this.raw.close();
  }

  // ---- operations ----

  async createTopic(
    name: string,
    numPartitions: number,
    configs: Record<string, string> = {},
  ): Promise<{ errorCode: number; topicId: string }> {
    const res = await this.request(ApiKey.CreateTopics, 7, CreateTopicsRequest, CreateTopicsResponse, {
      topics: [
        {
          name,
          numPartitions,
          replicationFactor: 1,
          assignments: [],
          configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
        },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    const t = res.topics[0];
    return { errorCode: t.errorCode, topicId: t.topicId };
  }

  async deleteTopic(name: string): Promise<number> {
    const res = await this.request(ApiKey.DeleteTopics, 6, DeleteTopicsRequest, DeleteTopicsResponse, {
      topics: [{ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
      topicNames: [],
      timeoutMs: 30_000,
    });
    return res.responses[0].errorCode;
  }

  async createPartitions(name: string, count: number): Promise<number> {
    const res = await this.request(
      ApiKey.CreatePartitions,
      3,
      CreatePartitionsRequest,
      CreatePartitionsResponse,
      { topics: [{ name, count, assignments: null }], timeoutMs: 30_000, validateOnly: false },
    );
    return res.results[0].errorCode;
  }

  /** Metadata v12 for the given topics (null: all); creates unknown ones only if asked to. */
  metadata(topics: string[] | null, allowAutoTopicCreation = false): Promise<MetadataResponse> {
    return this.request(ApiKey.Metadata, 12, MetadataRequest, MetadataResponse, {
      topics: topics?.map((name) => ({ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name })) ?? null,
      allowAutoTopicCreation,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
  }

  /** Produce v9 with one partition's records as given (any bytes, for hostile tests). */
  async produceRecords(
    topic: string,
    partition: number,
    records: Buffer | null,
    acks = -1,
    transactionalId: string | null = null,
  ): Promise<ProduceResponse.PartitionProduceResponse> {
    const res = await this.request(ApiKey.Produce, 9, ProduceRequest, ProduceResponse, {
      transactionalId,
      acks,
      timeoutMs: 30_000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
    });
    return res.responses[0].partitionResponses[0];
  }

  /** Produces one batch of `records`; resolves with the partition's answer. */
  produce(
    topic: string,
    partition: number,
    records: readonly RecordInput[],
    options: EncodeBatchOptions = {},
    acks = -1,
  ): Promise<ProduceResponse.PartitionProduceResponse> {
    return this.produceRecords(topic, partition, encodeRecordBatch(records, options), acks);
  }

  /** ListOffsets v7: -1 latest (the high watermark, or with isolation 1 the LSO), -2 earliest. */
  async listOffset(
    topic: string,
    partition: number,
    timestamp: bigint,
    isolationLevel = 0,
  ): Promise<{ errorCode: number; offset: bigint }> {
    const res = await this.request(ApiKey.ListOffsets, 7, ListOffsetsRequest, ListOffsetsResponse, {
      replicaId: -1,
      isolationLevel,
      timeoutMs: 30_000,
      topics: [
        {
          name: topic,
          partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }],
        },
      ],
    });
    const p = res.topics[0].partitions[0];
    return { errorCode: p.errorCode, offset: p.offset };
  }

  /** One Fetch v12 (topic names, no session) of a single partition; no waiting unless `wait`. */
  async fetchOnce(
    topic: string,
    partition: number,
    offset: bigint,
    maxBytes = 8 << 20,
    isolationLevel = 0,
    wait = { maxWaitMs: 0, minBytes: 0 },
  ): Promise<FetchResponse.PartitionData> {
    const res = await this.request(ApiKey.Fetch, 12, FetchRequest, FetchResponse, {
      ...FetchRequest.default(),
      replicaId: -1,
      maxWaitMs: wait.maxWaitMs,
      minBytes: wait.minBytes,
      maxBytes,
      isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic,
          topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
          partitions: [
            {
              partition,
              currentLeaderEpoch: -1,
              fetchOffset: offset,
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: maxBytes,
              replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    if (res.errorCode !== 0) throw new Error(`fetch failed with error ${res.errorCode}`);
    return res.responses[0].partitions[0];
  }

  /**
   * Reads a partition from `from` up to its high watermark: every record with its offset, and
   * the high watermark and log start offset the broker reported.
   */
  async readPartition(topic: string, partition: number, from = 0n): Promise<ReadResult> {
    const records: ReadRecord[] = [];
    let offset = from;
    let highWatermark = -1n;
    let logStartOffset = -1n;
    for (;;) {
      const p = await this.fetchOnce(topic, partition, offset);
      if (p.errorCode !== 0)
        throw new Error(`fetch of ${topic}-${partition} at ${offset}: error ${p.errorCode}`);
      highWatermark = p.highWatermark;
      logStartOffset = p.logStartOffset;
      if (offset >= highWatermark) break;
      const { batches } = decodeRecordSet(p.records ?? Buffer.alloc(0), {
        maxUncompressedBytes: 64 << 20,
        verifyCrc: true,
      });
      if (batches.length === 0)
        throw new Error(`fetch at ${offset} below the high watermark returned nothing`);
      for (const b of batches) {
        for (const r of b.records) {
          const o = b.baseOffset + BigInt(r.offsetDelta);
          if (o < offset) continue; // a fetch inside a batch returns the whole batch
          records.push({ offset: o, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null });
        }
        offset = b.lastOffset + 1n;
      }
    }
    return { records, highWatermark, logStartOffset };
  }

  async describeTopicConfigs(topic: string): Promise<Map<string, { value: string | null; source: number }>> {
    const res = await this.request(
      ApiKey.DescribeConfigs,
      4,
      DescribeConfigsRequest,
      DescribeConfigsResponse,
      {
        resources: [{ resourceType: 2, resourceName: topic, configurationKeys: null }],
        includeSynonyms: false,
        includeDocumentation: false,
      },
    );
    const r = res.results[0];
    if (r.errorCode !== 0) throw new Error(`describe configs of ${topic}: error ${r.errorCode}`);
    return new Map(r.configs.map((c) => [c.name, { value: c.value, source: c.configSource }]));
  }

  /** IncrementalAlterConfigs v1: SET (0) each name to its value, DELETE (1) where the value is null. */
  async alterTopicConfigs(topic: string, configs: Record<string, string | null>): Promise<number> {
    const res = await this.request(
      ApiKey.IncrementalAlterConfigs,
      1,
      IncrementalAlterConfigsRequest,
      IncrementalAlterConfigsResponse,
      {
        resources: [
          {
            resourceType: 2,
            resourceName: topic,
            configs: Object.entries(configs).map(([name, value]) => ({
              name,
              configOperation: value === null ? 1 : 0,
              value,
            })),
          },
        ],
        validateOnly: false,
      },
    );
    return res.responses[0].errorCode;
  }
}

export interface ReadRecord {
  offset: bigint;
  key: string | null;
  value: string | null;
}

export interface ReadResult {
  records: ReadRecord[];
  highWatermark: bigint;
  logStartOffset: bigint;
}
