import { describe, expect, it } from 'vitest';
import {
  decodeRequestBody,
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequest,
  encodeResponse,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../src/protocol/frame.js';
import {
  ApiKey,
  ApiVersionsRequest,
  ApiVersionsResponse,
  MetadataRequest,
} from '../../src/protocol/generated/index.js';

describe('header versions', () => {
  it('follow flexibility, with the ApiVersions and ControlledShutdown quirks', () => {
    expect(requestHeaderVersion(ApiKey.Metadata, 8)).toBe(1);
    expect(requestHeaderVersion(ApiKey.Metadata, 9)).toBe(2);
    expect(requestHeaderVersion(ApiKey.ControlledShutdown, 0)).toBe(0);
    expect(responseHeaderVersion(ApiKey.Metadata, 9)).toBe(1);
    expect(responseHeaderVersion(ApiKey.Metadata, 8)).toBe(0);
    // ApiVersions v3 is flexible, but its response header stays v0.
    expect(responseHeaderVersion(ApiKey.ApiVersions, 3)).toBe(0);
  });
});

describe('request frames', () => {
  it('encode the client id with an int16 length even in header v2', () => {
    const frame = Buffer.concat(
      encodeRequest(
        { apiKey: ApiKey.ApiVersions, apiVersion: 3, correlationId: 7, clientId: 'abc' },
        ApiVersionsRequest,
        {
          clientSoftwareName: 'samsa',
          clientSoftwareVersion: '1',
        },
      ),
    );
    // size, api key 18, version 3, correlation 7, client id (int16 3 "abc"), no tagged fields,
    // then the flexible body: compact strings "samsa" and "1", no tagged fields.
    expect(frame.toString('hex')).toBe(
      '00000017' + '0012' + '0003' + '00000007' + '0003616263' + '00' + '0673616d7361' + '0231' + '00',
    );
    const parsed = decodeRequestHeader(frame.subarray(4));
    expect(parsed.header).toMatchObject({
      requestApiKey: 18,
      requestApiVersion: 3,
      correlationId: 7,
      clientId: 'abc',
    });
    expect(parsed.headerVersion).toBe(2);
    expect(decodeRequestBody(ApiVersionsRequest, parsed)).toMatchObject({ clientSoftwareName: 'samsa' });
  });

  it('read the header of an unknown API key as v1 so that it can be answered', () => {
    const frame = Buffer.from('03e70000000000050000', 'hex');
    expect(decodeRequestHeader(frame).header).toMatchObject({
      requestApiKey: 999,
      correlationId: 5,
      clientId: '',
    });
  });

  it('keep a null client id', () => {
    const frame = Buffer.concat(
      encodeRequest(
        { apiKey: ApiKey.Metadata, apiVersion: 4, correlationId: 1, clientId: null },
        MetadataRequest,
        {
          ...MetadataRequest.default(),
          topics: null,
        },
      ),
    );
    expect(decodeRequestHeader(frame.subarray(4)).header.clientId).toBeNull();
  });
});

describe('response frames', () => {
  it('give ApiVersions v3 responses a v0 header (no tagged fields after the correlation id)', () => {
    const body = {
      ...ApiVersionsResponse.default(),
      apiKeys: [{ apiKey: 0, minVersion: 0, maxVersion: 11 }],
    };
    const frame = Buffer.concat(encodeResponse(ApiKey.ApiVersions, 3, 42, ApiVersionsResponse, body));
    expect(frame.readInt32BE(0)).toBe(frame.length - 4);
    expect(frame.readInt32BE(4)).toBe(42);
    // The body starts right after the correlation id: error code 0.
    expect(frame.readInt16BE(8)).toBe(0);
    const { header, body: rest } = decodeResponseHeader(frame.subarray(4), ApiKey.ApiVersions, 3);
    expect(header.correlationId).toBe(42);
    expect(ApiVersionsResponse.decode(rest, 3).apiKeys).toEqual([
      { apiKey: 0, minVersion: 0, maxVersion: 11, _unknownTaggedFields: undefined },
    ]);
  });
});
