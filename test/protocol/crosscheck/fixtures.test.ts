// Checks the fixture helpers themselves against hand-computed bytes, so that a cross-check failure
// points at Samsa, not at the harness.

import { crc32c } from '@node-rs/crc32';
import { apiVersionsV3 } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CaptureBroker,
  frame,
  kafkajsDecodeRecords,
  kafkajsRecordBatch,
  kafkajsRequest,
  kafkajsVersions,
  parseRequestFrame,
  platformaticExchange,
  platformaticParse,
  platformaticReadBatches,
  platformaticRecordBatch,
  requestHeaderVersion,
  responseHeaderBytes,
  responseHeaderVersion,
  uuidFromHex,
  uuidToHex,
} from './fixtures.js';

/** Checks the v2 batch framing: length field, magic, and CRC32C over attributes..end. */
function expectValidBatch(batch: Buffer): void {
  expect(batch.readInt32BE(8)).toBe(batch.length - 12);
  expect(batch.readInt8(16)).toBe(2);
  expect(batch.readUInt32BE(17)).toBe(crc32c(batch.subarray(21)));
}

describe('uuid conversion', () => {
  it('matches Kafka Uuid.toString()', () => {
    expect(uuidFromHex('00000000-0000-0000-0000-000000000000')).toBe('AAAAAAAAAAAAAAAAAAAAAA');
    const hex = '3f2a1c4e-9b8d-4e7f-a1b2-c3d4e5f60718';
    const b64 = uuidFromHex(hex);
    expect(b64).toHaveLength(22);
    expect(b64).not.toMatch(/[+/=]/);
    expect(uuidToHex(b64)).toBe(hex);
  });
});

describe('parseRequestFrame', () => {
  const bytes = (...parts: (number[] | Buffer)[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));

  it('reads header v0, v1 and v2 (with tagged fields)', () => {
    const v0 = bytes([0, 0, 0, 9], [0, 7, 0, 0], [0, 0, 0, 5], [0xaa]);
    expect(parseRequestFrame(v0, 0)).toMatchObject({
      requestApiKey: 7,
      requestApiVersion: 0,
      correlationId: 5,
      clientId: undefined,
      body: Buffer.from([0xaa]),
    });
    const v1 = bytes([0, 0, 0, 13], [0, 3, 0, 4], [0, 0, 1, 0], [0, 2], Buffer.from('ab'), [0xbb]);
    expect(parseRequestFrame(v1, 1)).toMatchObject({
      correlationId: 256,
      clientId: 'ab',
      body: Buffer.from([0xbb]),
    });
    const v1null = bytes([0, 0, 0, 10], [0, 3, 0, 4], [0, 0, 1, 0], [0xff, 0xff]);
    expect(parseRequestFrame(v1null, 1).clientId).toBeNull();
    const v2 = bytes([0, 0, 0, 16], [0, 18, 0, 3], [0, 0, 0, 1], [0, 0], [1, 5, 2, 0xc, 0xd], [0xee]);
    const p = parseRequestFrame(v2, 2);
    expect(p.clientId).toBe('');
    expect(p.headerTaggedFields).toEqual([{ tag: 5, data: Buffer.from([0xc, 0xd]) }]);
    expect(p.body).toEqual(Buffer.from([0xee]));
    expect(p.header).toHaveLength(15);
  });

  it('rejects a wrong size prefix', () => {
    expect(() => parseRequestFrame(Buffer.from([0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]), 0)).toThrow(
      /size prefix/,
    );
  });
});

describe('header versions', () => {
  it('follows flexibleVersions, with ApiVersions responses always v0', () => {
    expect(requestHeaderVersion('Produce', 8)).toBe(1);
    expect(requestHeaderVersion('Produce', 9)).toBe(2);
    expect(responseHeaderVersion('Fetch', 12)).toBe(1);
    expect(responseHeaderVersion('ApiVersions', 3)).toBe(0);
    expect(requestHeaderVersion('ApiVersions', 3)).toBe(2);
    expect(responseHeaderBytes(258, 1)).toEqual(Buffer.from([0, 0, 1, 2, 0]));
    expect(frame(Buffer.from([1]), Buffer.from([2, 3]))).toEqual(Buffer.from([0, 0, 0, 3, 1, 2, 3]));
  });
});

describe('kafkajs fixtures', () => {
  it('lists the versions kafkajs implements', () => {
    expect(kafkajsVersions('produce')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(kafkajsVersions('fetch')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(kafkajsVersions('metadata')).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(kafkajsVersions('joinGroup')).toEqual([0, 1, 2, 3, 4, 5]);
    expect(kafkajsVersions('apiVersions')).toEqual([0, 1, 2]);
  });

  it('frames a request with header v1 exactly as written on the wire', async () => {
    const r = await kafkajsRequest('apiVersions', 1, {}, { correlationId: 3, clientId: 'cid' });
    expect(r.frame).toEqual(Buffer.from([0, 0, 0, 13, 0, 18, 0, 1, 0, 0, 0, 3, 0, 3, 0x63, 0x69, 0x64]));
    expect(r).toMatchObject({ requestApiKey: 18, requestApiVersion: 1, correlationId: 3, clientId: 'cid' });
    expect(r.body).toHaveLength(0);
  });

  it('makes valid v2 record batches that kafkajs decodes back', async () => {
    const batch = await kafkajsRecordBatch(
      [
        { key: 'k1', value: 'v1', headers: { h: 'x' }, timestamp: 1_700_000_000_000 },
        { key: null, value: 'v2', timestamp: 1_700_000_000_005 },
      ],
      { firstOffset: 42n },
    );
    expectValidBatch(batch);
    expect(batch.readBigInt64BE(0)).toBe(42n);
    const messages = await kafkajsDecodeRecords(batch);
    expect(
      messages.map((m) => [m.offset, m.timestamp, m.key?.toString() ?? null, m.value?.toString()]),
    ).toEqual([
      ['42', '1700000000000', 'k1', 'v1'],
      ['43', '1700000000005', null, 'v2'],
    ]);
    expect(messages[0].headers.h.toString()).toBe('x');
  });
});

describe('@platformatic/kafka fixtures', () => {
  let broker: CaptureBroker;
  beforeAll(async () => {
    broker = await CaptureBroker.start();
  });
  afterAll(async () => {
    await broker.close();
  });

  it('makes valid v2 record batches that it reads back', () => {
    const batch = platformaticRecordBatch([
      {
        topic: 't',
        partition: 0,
        key: Buffer.from('k'),
        value: Buffer.from('v'),
        timestamp: 1_700_000_000_000n,
      },
    ]);
    expectValidBatch(batch);
    const [read] = platformaticReadBatches(batch);
    expect(read.records[0].value?.toString()).toBe('v');
  });

  it('parses a body and reports unread bytes; error responses still yield the parsed value', () => {
    // ApiVersions v3 body: error_code, api_keys (compact array of 1), throttle_time_ms, tagged fields.
    const body = Buffer.from([0, 35, 2, 0, 18, 0, 0, 0, 4, 0, 0, 0, 0, 9, 0]);
    const { response, unread } = platformaticParse(apiVersionsV3.parseResponse, 18, 3, body);
    expect(response).toMatchObject({
      errorCode: 35,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
    });
    expect(response.throttleTimeMs).toBe(9);
    // platformatic does not read the top-level tagged fields of ApiVersionsResponse.
    expect(unread).toBe(1);
  });

  it('captures the frame a real Connection writes and parses the answer through it', async () => {
    const body = Buffer.from([0, 0, 2, 0, 18, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0]);
    const { frame: sent, response } = await platformaticExchange(
      broker,
      apiVersionsV3.api,
      ['name', '1.0'],
      (req) => frame(responseHeaderBytes(req.readInt32BE(8), 0), body),
      'cid',
    );
    const p = parseRequestFrame(sent, 2);
    expect(p).toMatchObject({
      requestApiKey: 18,
      requestApiVersion: 3,
      clientId: 'cid',
      headerTaggedFields: [],
    });
    expect(p.body).toEqual(Buffer.from([5, 0x6e, 0x61, 0x6d, 0x65, 4, 0x31, 0x2e, 0x30, 0]));
    expect(response).toMatchObject({ errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }] });
  });
});
