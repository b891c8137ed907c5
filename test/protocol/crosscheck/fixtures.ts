// Fixture extraction for the cross-checks: bytes produced (and parsed) by two independent Kafka
// client encoders, kafkajs 2.2.4 and @platformatic/kafka 1.x, using their own internal code.
//
// - kafkajs: per-version request encoders (src/protocol/requests/<api>/v<N>/request.js through the
//   per-API index.js the client itself uses), the request framer (src/protocol/request.js: size
//   prefix + request header v1), per-version response decoders (response.js: body after the
//   correlation id), record batch / message set encoders and decoders. kafkajs has no flexible
//   versions, so everything from it is non-flexible.
// - @platformatic/kafka: per-API modules (produceV9, fetchV17, ...) exporting createRequest (a Writer
//   holding the body) and parseResponse (a reader positioned after the response header). The
//   request header is written only inside its Connection, so full frames are captured from a real
//   Connection talking to CaptureBroker, a loopback TCP server in this file.
//
// Nothing here imports Samsa code: the header parsing and framing below are a second, independent
// reading of the protocol guide, used as the oracle for Samsa's RequestHeader/ResponseHeader.

import { createRequire } from 'node:module';
import net from 'node:net';
import {
  Connection,
  createRecordsBatch,
  type MessageRecord,
  Reader as PltReader,
  ResponseError,
  readRecordsBatches,
} from '@platformatic/kafka';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Primitive helpers (independent of Samsa)

/** Kafka's Uuid.toString(): 16 bytes as unpadded base64url (22 chars). */
export function uuidFromHex(hex: string): string {
  const raw = Buffer.from(hex.replaceAll('-', ''), 'hex');
  if (raw.length !== 16) throw new Error(`not a 16-byte uuid: ${hex}`);
  return raw.toString('base64url');
}

/** The dashed-hex form @platformatic/kafka uses for uuids. */
export function uuidToHex(uuid: string): string {
  const hex = Buffer.from(uuid, 'base64url').toString('hex');
  if (hex.length !== 32) throw new Error(`not a 22-char Kafka uuid: ${uuid}`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function readUnsignedVarint(buf: Buffer, pos: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('varint runs past the end');
    const b = buf[pos++];
    value |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [value >>> 0, pos];
    shift += 7;
    if (shift > 28) throw new Error('varint too long');
  }
}

/** Skips a tagged-field section (count, then tag/size/data per field); returns the fields and the end. */
function readTaggedFields(buf: Buffer, pos: number): [fields: { tag: number; data: Buffer }[], next: number] {
  let count: number;
  [count, pos] = readUnsignedVarint(buf, pos);
  const fields: { tag: number; data: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    let tag: number;
    let size: number;
    [tag, pos] = readUnsignedVarint(buf, pos);
    [size, pos] = readUnsignedVarint(buf, pos);
    fields.push({ tag, data: buf.subarray(pos, pos + size) });
    pos += size;
  }
  return [fields, pos];
}

// ---------------------------------------------------------------------------------------------
// Framing (independent of Samsa)

export type RequestHeaderVersion = 0 | 1 | 2;
export type ResponseHeaderVersion = 0 | 1;

export interface ParsedRequestFrame {
  /** The int32 size prefix (checked to equal the rest of the frame). */
  size: number;
  requestApiKey: number;
  requestApiVersion: number;
  correlationId: number;
  /** Absent (undefined) in header v0. */
  clientId: string | null | undefined;
  headerTaggedFields: { tag: number; data: Buffer }[];
  /** The header bytes (no size prefix). */
  header: Buffer;
  /** The request body. */
  body: Buffer;
}

/**
 * Splits a size-prefixed request frame into header and body. Header v0: api key, api version,
 * correlation id. v1 adds client_id (int16-length nullable string, never compact). v2 adds a
 * tagged-field section.
 */
export function parseRequestFrame(frame: Buffer, headerVersion: RequestHeaderVersion): ParsedRequestFrame {
  const size = frame.readInt32BE(0);
  if (size !== frame.length - 4)
    throw new Error(`size prefix ${size} != ${frame.length - 4} bytes that follow`);
  const requestApiKey = frame.readInt16BE(4);
  const requestApiVersion = frame.readInt16BE(6);
  const correlationId = frame.readInt32BE(8);
  let pos = 12;
  let clientId: string | null | undefined;
  if (headerVersion >= 1) {
    const len = frame.readInt16BE(pos);
    pos += 2;
    if (len < 0) clientId = null;
    else {
      clientId = frame.toString('utf8', pos, pos + len);
      pos += len;
    }
  }
  let headerTaggedFields: { tag: number; data: Buffer }[] = [];
  if (headerVersion >= 2) [headerTaggedFields, pos] = readTaggedFields(frame, pos);
  return {
    size,
    requestApiKey,
    requestApiVersion,
    correlationId,
    clientId,
    headerTaggedFields,
    header: frame.subarray(4, pos),
    body: frame.subarray(pos),
  };
}

/** Response header bytes: correlation id, plus an empty tagged-field section in v1. */
export function responseHeaderBytes(correlationId: number, headerVersion: ResponseHeaderVersion): Buffer {
  const b = Buffer.alloc(headerVersion === 1 ? 5 : 4);
  b.writeInt32BE(correlationId, 0);
  return b;
}

/** size prefix + header + body. */
export function frame(header: Buffer, body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + body.length, 0);
  return Buffer.concat([size, header, body]);
}

/**
 * Header versions of a request/response, from the API's flexibleVersions in Kafka's JSON schemas:
 * request header v2 / response header v1 from the first flexible version on, v1/v0 before.
 * ApiVersions responses always use response header v0 (a client must be able to read the answer
 * before it knows what the broker supports).
 */
export const FIRST_FLEXIBLE_VERSION: Readonly<Record<string, number>> = {
  Produce: 9,
  Fetch: 12,
  Metadata: 9,
  JoinGroup: 6,
  ApiVersions: 3,
};

export function requestHeaderVersion(api: string, version: number): RequestHeaderVersion {
  return version >= FIRST_FLEXIBLE_VERSION[api] ? 2 : 1;
}

export function responseHeaderVersion(api: string, version: number): ResponseHeaderVersion {
  if (api === 'ApiVersions') return 0;
  return version >= FIRST_FLEXIBLE_VERSION[api] ? 1 : 0;
}

/** The fixed 61-byte header of a v2 record batch (magic 2), read independently of any library. */
export interface RecordBatchHeader {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export function parseBatchHeader(batch: Buffer): RecordBatchHeader {
  return {
    baseOffset: batch.readBigInt64BE(0),
    batchLength: batch.readInt32BE(8),
    partitionLeaderEpoch: batch.readInt32BE(12),
    magic: batch.readInt8(16),
    crc: batch.readUInt32BE(17),
    attributes: batch.readInt16BE(21),
    lastOffsetDelta: batch.readInt32BE(23),
    baseTimestamp: batch.readBigInt64BE(27),
    maxTimestamp: batch.readBigInt64BE(35),
    producerId: batch.readBigInt64BE(43),
    producerEpoch: batch.readInt16BE(51),
    baseSequence: batch.readInt32BE(53),
    recordCount: batch.readInt32BE(57),
  };
}

// ---------------------------------------------------------------------------------------------
// kafkajs

interface KafkajsEncoder {
  readonly buffer: Buffer;
}
interface KafkajsRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  encode(): Promise<KafkajsEncoder>;
}
interface KafkajsResponseModule {
  decode(payload: Buffer): Promise<unknown>;
}
interface KafkajsApiModule {
  versions: string[];
  protocol(o: { version: number }): (args: object) => { request: KafkajsRequest };
}
type KafkajsFramer = (o: {
  correlationId: number;
  clientId: string | null;
  request: KafkajsRequest;
}) => Promise<KafkajsEncoder>;

/** kafkajs's folder names under src/protocol/requests. */
export type KafkajsApi = 'produce' | 'fetch' | 'metadata' | 'joinGroup' | 'apiVersions';

export interface KafkajsRequestFixture extends ParsedRequestFrame {
  /** The full frame as kafkajs writes it to the socket. */
  frame: Buffer;
}

/** The versions kafkajs implements for an API. */
export function kafkajsVersions(api: KafkajsApi): number[] {
  const mod = require(`kafkajs/src/protocol/requests/${api}/index.js`) as KafkajsApiModule;
  return mod.versions.map(Number);
}

/**
 * Encodes a request with kafkajs exactly as its Connection does (index.js defaults, the version's
 * request.js, then protocol/request.js for the size prefix and request header v1).
 */
export async function kafkajsRequest(
  api: KafkajsApi,
  version: number,
  args: object,
  opts: { correlationId?: number; clientId?: string | null } = {},
): Promise<KafkajsRequestFixture> {
  const mod = require(`kafkajs/src/protocol/requests/${api}/index.js`) as KafkajsApiModule;
  const factory = mod.protocol({ version });
  if (factory === undefined) throw new Error(`kafkajs has no ${api} v${version}`);
  const { request } = factory(args);
  const framer = require('kafkajs/src/protocol/request.js') as KafkajsFramer;
  const encoded = await framer({
    correlationId: opts.correlationId ?? 7,
    clientId: opts.clientId === undefined ? 'kafkajs-crosscheck' : opts.clientId,
    request,
  });
  const bytes = Buffer.from(encoded.buffer);
  return { ...parseRequestFrame(bytes, 1), frame: bytes };
}

/** Decodes a response body (the bytes after the correlation id) with kafkajs's decoder for that version. */
export async function kafkajsDecodeResponse(
  api: KafkajsApi,
  version: number,
  body: Buffer,
): Promise<unknown> {
  const mod = require(
    `kafkajs/src/protocol/requests/${api}/v${version}/response.js`,
  ) as KafkajsResponseModule;
  return mod.decode(body);
}

export interface KafkajsRecordInput {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, string | Buffer>;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

interface KafkajsRecordBatchModule {
  RecordBatch(o: object): Promise<KafkajsEncoder>;
}
type KafkajsRecordFactory = (o: object) => KafkajsEncoder;

/**
 * A v2 record batch (magic 2) written by kafkajs's RecordBatch encoder, as the Produce request
 * v3+ path builds it (offset deltas 0..n-1, timestamp deltas from the first timestamp).
 */
export async function kafkajsRecordBatch(
  records: KafkajsRecordInput[],
  opts: {
    firstOffset?: bigint;
    producerId?: bigint;
    producerEpoch?: number;
    firstSequence?: number;
    transactional?: boolean;
    partitionLeaderEpoch?: number;
  } = {},
): Promise<Buffer> {
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as KafkajsRecordBatchModule;
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as KafkajsRecordFactory;
  const firstTimestamp = Math.min(...records.map((r) => r.timestamp));
  const maxTimestamp = Math.max(...records.map((r) => r.timestamp));
  const encoded = await RecordBatch({
    firstOffset: String(opts.firstOffset ?? 0n),
    firstTimestamp,
    maxTimestamp,
    partitionLeaderEpoch: opts.partitionLeaderEpoch ?? 0,
    lastOffsetDelta: records.length - 1,
    transactional: opts.transactional ?? false,
    producerId: String(opts.producerId ?? -1n),
    producerEpoch: opts.producerEpoch ?? 0,
    firstSequence: opts.firstSequence ?? 0,
    records: records.map((r, i) =>
      Record({
        key: r.key ?? null,
        value: r.value,
        headers: r.headers ?? {},
        offsetDelta: i,
        timestampDelta: r.timestamp - firstTimestamp,
      }),
    ),
  });
  return Buffer.from(encoded.buffer);
}

type KafkajsMessageSetFactory = (o: {
  messageVersion: number;
  compression?: number;
  entries: object[];
}) => KafkajsEncoder;

/** A legacy message set (magic 0 or 1, uncompressed) written by kafkajs, as Produce v0-v2 carry it. */
export function kafkajsMessageSet(records: KafkajsRecordInput[], magic: 0 | 1): Buffer {
  const MessageSet = require('kafkajs/src/protocol/messageSet/index.js') as KafkajsMessageSetFactory;
  const encoded = MessageSet({
    messageVersion: magic,
    compression: 0,
    entries: records.map((r) => ({ key: r.key ?? null, value: r.value, timestamp: r.timestamp })),
  });
  return Buffer.from(encoded.buffer);
}

export interface KafkajsDecodedMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  magicByte?: number;
}

interface KafkajsDecoderClass {
  new (buf: Buffer): object;
}
type KafkajsDecodeMessages = (decoder: object) => Promise<KafkajsDecodedMessage[]>;

/**
 * Decodes the bytes of a `records` field (record batches or a legacy message set) the way kafkajs's
 * Fetch v4+ decoder does.
 */
export async function kafkajsDecodeRecords(records: Buffer): Promise<KafkajsDecodedMessage[]> {
  const Decoder = require('kafkajs/src/protocol/decoder.js') as KafkajsDecoderClass;
  const decodeMessages =
    require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js') as KafkajsDecodeMessages;
  const sized = Buffer.alloc(4 + records.length);
  sized.writeInt32BE(records.length, 0);
  records.copy(sized, 4);
  return decodeMessages(new Decoder(sized));
}

// ---------------------------------------------------------------------------------------------
// @platformatic/kafka

/** The body bytes of a Writer returned by a platformatic createRequest. */
export function platformaticBody(writer: { readonly buffer: Buffer }): Buffer {
  return Buffer.from(writer.buffer);
}

type PlatformaticParser<T> = (
  correlationId: number,
  apiKey: number,
  apiVersion: number,
  reader: PltReader,
) => T;

/**
 * Runs a platformatic parseResponse over a response body. Its parsers throw a ResponseError carrying
 * the parsed response when any error code is non-zero; that response is returned here instead.
 * Trailing bytes the parser did not consume are reported, since Kafka's own parsers would reject them.
 */
export function platformaticParse<T>(
  parse: PlatformaticParser<T>,
  apiKey: number,
  apiVersion: number,
  body: Buffer,
): { response: T; unread: number } {
  const reader = PltReader.from(body);
  try {
    const response = parse(0, apiKey, apiVersion, reader);
    return { response, unread: reader.remaining };
  } catch (e) {
    if (e instanceof ResponseError) return { response: e.response as T, unread: reader.remaining };
    throw e;
  }
}

/** A v2 record batch written by platformatic's createRecordsBatch (what its Produce requests carry). */
export function platformaticRecordBatch(
  messages: MessageRecord[],
  options: Parameters<typeof createRecordsBatch>[1] = {},
): Buffer {
  return Buffer.from(createRecordsBatch(messages, options).buffer);
}

/** Record batches parsed by platformatic's readRecordsBatches (what its Fetch responses return). */
export function platformaticReadBatches(records: Buffer): ReturnType<typeof readRecordsBatches> {
  return readRecordsBatches(PltReader.from(records));
}

// ---------------------------------------------------------------------------------------------
// CaptureBroker: a loopback TCP server that records request frames and answers them

export type Responder = (frame: Buffer) => Buffer | null;

export class CaptureBroker {
  readonly frames: Buffer[] = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private respond: Responder,
  ) {}

  /** Starts a server on 127.0.0.1 (random port). `respond` returns a whole response frame, or null for none. */
  static async start(respond: Responder = () => null): Promise<CaptureBroker> {
    let broker: CaptureBroker | undefined;
    const server = net.createServer((socket) => broker!.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    broker = new CaptureBroker(server, address.port, respond);
    return broker;
  }

  onRequest(respond: Responder): void {
    this.respond = respond;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const end = 4 + pending.readInt32BE(0);
        const request = Buffer.from(pending.subarray(0, end));
        pending = pending.subarray(end);
        this.frames.push(request);
        const answer = this.respond(request);
        if (answer !== null) socket.write(answer);
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface PlatformaticApi<A extends unknown[], R> {
  async(connection: Connection, ...args: A): Promise<R>;
}

/**
 * Sends one request through a real platformatic Connection to `broker` and returns the request frame
 * it wrote plus what its parser made of the answer `respond` gave (or the error it raised).
 */
export async function platformaticExchange<A extends unknown[], R>(
  broker: CaptureBroker,
  api: PlatformaticApi<A, R>,
  args: A,
  respond: Responder,
  clientId = 'platformatic-crosscheck',
): Promise<{ frame: Buffer; response?: R; error?: unknown }> {
  const connection = new Connection(clientId, { requestTimeout: 5000 });
  const before = broker.frames.length;
  broker.onRequest(respond);
  try {
    await connection.connect('127.0.0.1', broker.port);
    try {
      const response = await api.async(connection, ...args);
      return { frame: broker.frames[before], response };
    } catch (error) {
      return { frame: broker.frames[before], error };
    }
  } finally {
    await connection.close().catch(() => {});
  }
}
