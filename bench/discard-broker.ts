// A broker that discards what it is sent: Samsa's network layer (SocketServer, Connection, frame
// splitting, request decoding) answering ApiVersions, Metadata (every topic exists with one
// partition, led by this node) and Produce (acknowledged at once, nothing validated or kept).
//
// It is a baseline for the producer figures of bench/broker.ts: what librdkafka reaches on this
// machine when the broker does no storage work at all, i.e. the ceiling that the client, the
// loopback and our network layer set together. Run as its own process (the bench's event loop is
// blocked while the driver runs):
//
//   node dist/bench/discard-broker.js      prints the port it listens on, stops on SIGTERM

import { pino } from 'pino';
import { ApiRegistry, defineHandler } from '../src/broker/api-handler.js';
import { SocketServer } from '../src/broker/network/socket-server.js';
import { ErrorCode } from '../src/protocol/errors.js';
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from '../src/protocol/generated/index.js';

const registry = new ApiRegistry<null>();
let port = 0;
/** Offsets handed out, per topic (each has the one partition 0). */
const nextOffset = new Map<string, bigint>();

registry.register(
  defineHandler<ApiVersionsRequest, ApiVersionsResponse, null>({
    apiKey: 18,
    minVersion: 0,
    maxVersion: 4,
    request: ApiVersionsRequest,
    response: ApiVersionsResponse,
    handle: () => ({ ...ApiVersionsResponse.default(), apiKeys: registry.versions() }),
  }),
);

registry.register(
  defineHandler<MetadataRequest, MetadataResponse, null>({
    apiKey: 3,
    minVersion: 0,
    maxVersion: 12,
    request: MetadataRequest,
    response: MetadataResponse,
    handle: (req) => ({
      ...MetadataResponse.default(),
      brokers: [{ nodeId: 0, host: '127.0.0.1', port, rack: null }],
      clusterId: 'discard',
      controllerId: 0,
      topics: (req.topics ?? []).map((t, i) => ({
        errorCode: ErrorCode.NONE,
        name: t.name,
        // A distinct, made-up id per topic of the request (librdkafka only compares them).
        topicId: Buffer.alloc(16, i + 1).toString('base64url'),
        isInternal: false,
        partitions: [
          {
            errorCode: ErrorCode.NONE,
            partitionIndex: 0,
            leaderId: 0,
            leaderEpoch: 0,
            replicaNodes: [0],
            isrNodes: [0],
            offlineReplicas: [],
          },
        ],
        topicAuthorizedOperations: -2147483648,
      })),
    }),
  }),
);

registry.register(
  defineHandler<ProduceRequest, ProduceResponse, null>({
    apiKey: 0,
    minVersion: 3,
    maxVersion: 11,
    request: ProduceRequest,
    response: ProduceResponse,
    handle: (req) => ({
      throttleTimeMs: 0,
      nodeEndpoints: [],
      responses: req.topicData.map((t) => ({
        name: t.name,
        partitionResponses: t.partitionData.map((pd) => {
          const base = nextOffset.get(t.name) ?? 0n;
          // A v2 batch's record count is the int32 at byte 57; only whole batches are counted.
          let records = 0;
          const r = pd.records;
          for (let pos = 0; r && pos + 61 <= r.length; pos += 12 + r.readInt32BE(pos + 8)) {
            records += r.readInt32BE(pos + 57);
          }
          nextOffset.set(t.name, base + BigInt(records));
          return {
            index: pd.index,
            errorCode: ErrorCode.NONE,
            baseOffset: base,
            logAppendTimeMs: -1n,
            logStartOffset: 0n,
            recordErrors: [],
            errorMessage: null,
            currentLeader: { leaderId: -1, leaderEpoch: -1 },
          };
        }),
      })),
    }),
  }),
);

const server = new SocketServer(
  registry,
  null,
  // socket.request.max.bytes and Kafka's default of in-flight requests per connection.
  { maxRequestBytes: 100 * 1024 * 1024, maxInFlight: 100, idleTimeoutMs: 600_000 },
  pino({ level: 'silent' }),
);
port = await server.listen('127.0.0.1', 0);
server.open();
process.stdout.write(`${port}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
