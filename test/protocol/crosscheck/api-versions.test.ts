// ApiVersions (API key 18) against kafkajs (v0-v2) and @platformatic/kafka (v3-v4; flexible from
// v3, with request header v2 but response header v0).

import { apiVersionsV3, apiVersionsV4 } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { ApiVersionsRequest, ApiVersionsResponse } from '../../../src/protocol/generated/index.js';
import {
  CaptureBroker,
  kafkajsDecodeResponse,
  kafkajsRequest,
  platformaticExchange,
  platformaticParse,
} from './fixtures.js';
import { bodyAfterV0Header, decodeLibraryRequest, encodeSamsaResponse, since } from './samsa.js';

const API_KEYS = [
  { apiKey: 0, minVersion: 3, maxVersion: 11 },
  { apiKey: 1, minVersion: 4, maxVersion: 17 },
  { apiKey: 3, minVersion: 0, maxVersion: 12 },
  { apiKey: 11, minVersion: 0, maxVersion: 9 },
  { apiKey: 18, minVersion: 0, maxVersion: 4 },
];

function apiVersionsResponse(version: number, withFeatures: boolean): ApiVersionsResponse {
  return {
    errorCode: 0,
    apiKeys: API_KEYS,
    throttleTimeMs: since(version, 1, 3, 0),
    supportedFeatures: withFeatures ? [{ name: 'metadata.version', minVersion: 1, maxVersion: 21 }] : [],
    finalizedFeaturesEpoch: withFeatures ? 42n : -1n,
    finalizedFeatures: withFeatures
      ? [{ name: 'metadata.version', maxVersionLevel: 21, minVersionLevel: 21 }]
      : [],
    zkMigrationReady: false,
  };
}

describe('ApiVersions vs kafkajs', () => {
  for (const version of [0, 1, 2]) {
    it(`request v${version}: kafkajs bytes decode and re-encode identically`, async () => {
      const fixture = await kafkajsRequest('apiVersions', version, {}, { correlationId: 0, clientId: 'kjs' });
      expect(fixture.body).toHaveLength(0);
      const { header, message } = decodeLibraryRequest(ApiVersionsRequest, 'ApiVersions', fixture.frame);
      expect(header).toMatchObject({
        requestApiKey: 18,
        requestApiVersion: version,
        correlationId: 0,
        clientId: 'kjs',
      });
      expect(message).toEqual({ clientSoftwareName: '', clientSoftwareVersion: '' });
    });

    it(`response v${version}: Samsa bytes parse in kafkajs`, async () => {
      const bytes = encodeSamsaResponse(
        ApiVersionsResponse,
        'ApiVersions',
        version,
        0,
        apiVersionsResponse(version, false),
      );
      const decoded = (await kafkajsDecodeResponse(
        'apiVersions',
        version,
        bodyAfterV0Header(bytes),
      )) as Record<string, unknown>;
      expect(decoded).toMatchObject({ errorCode: 0, apiVersions: API_KEYS });
      if (version >= 1) expect(decoded.clientSideThrottleTime ?? decoded.throttleTime).toBe(3);
    });
  }

  it('request header v1 with a null client id, and with a multi-byte UTF-8 one', async () => {
    const nullId = await kafkajsRequest('apiVersions', 2, {}, { clientId: null });
    expect(nullId.frame.readInt16BE(12)).toBe(-1);
    expect(decodeLibraryRequest(ApiVersionsRequest, 'ApiVersions', nullId.frame).header.clientId).toBeNull();
    const utf8 = await kafkajsRequest('apiVersions', 2, {}, { clientId: 'zürich-客户端-✓' });
    expect(decodeLibraryRequest(ApiVersionsRequest, 'ApiVersions', utf8.frame).header.clientId).toBe(
      'zürich-客户端-✓',
    );
  });

  it('an UNSUPPORTED_VERSION answer (v0 body, as Kafka sends to a too-new client) reaches kafkajs as that error', async () => {
    const body = ApiVersionsResponse.encode(
      { ...apiVersionsResponse(0, false), errorCode: ErrorCode.UNSUPPORTED_VERSION },
      0,
    );
    await expect(kafkajsDecodeResponse('apiVersions', 0, body)).rejects.toMatchObject({
      type: 'UNSUPPORTED_VERSION',
      code: 35,
    });
  });
});

describe('ApiVersions vs @platformatic/kafka', () => {
  let broker: CaptureBroker;
  beforeAll(async () => {
    broker = await CaptureBroker.start();
  });
  afterAll(async () => {
    await broker.close();
  });

  for (const [version, mod] of [
    [3, apiVersionsV3],
    [4, apiVersionsV4],
  ] as const) {
    it(`v${version}: request frame from a real Connection round-trips; Samsa response parses`, async () => {
      const response = apiVersionsResponse(version, true);
      const exchange = await platformaticExchange(
        broker,
        mod.api,
        ['samsa-crosscheck-'.repeat(10), '1.2.3-rc.1'],
        (req) =>
          encodeSamsaResponse(ApiVersionsResponse, 'ApiVersions', version, req.readInt32BE(8), response),
        'plätformatic-客户端',
      );
      expect(exchange.error).toBeUndefined();

      const { header, message } = decodeLibraryRequest(ApiVersionsRequest, 'ApiVersions', exchange.frame);
      expect(header).toMatchObject({
        requestApiKey: 18,
        requestApiVersion: version,
        clientId: 'plätformatic-客户端',
      });
      expect(message).toEqual({
        // 170 bytes: a compact string whose length needs a two-byte varint.
        clientSoftwareName: 'samsa-crosscheck-'.repeat(10),
        clientSoftwareVersion: '1.2.3-rc.1',
      });

      expect(exchange.response).toMatchObject({ errorCode: 0, apiKeys: API_KEYS, throttleTimeMs: 3 });

      // platformatic stops before the top-level tagged fields (supported/finalized features):
      // exactly that section, as Samsa encodes it, is left over.
      const body = ApiVersionsResponse.encode(response, version);
      const withoutFeatures = ApiVersionsResponse.encode(apiVersionsResponse(version, false), version);
      const { unread } = platformaticParse(mod.parseResponse, 18, version, body);
      expect(unread).toBe(body.length - withoutFeatures.length + 1);
      expect(body.subarray(0, body.length - unread)).toEqual(
        withoutFeatures.subarray(0, withoutFeatures.length - 1),
      );
      expect(body[body.length - unread]).toBe(3); // three tagged fields: tags 0, 1, 2
    });
  }
});
