import { describe, expect, it } from 'vitest';
import { type ApiHandler, ApiRegistry, defineHandler } from '../../src/broker/api-handler.js';
import { BROKER_APIS, registerHandlers } from '../../src/broker/handlers/index.js';
import type { BrokerServices } from '../../src/broker/services.js';
import { decodeResponseHeader, encodeRequest } from '../../src/protocol/frame.js';
import {
  ApiVersionsRequest,
  apis,
  MetadataRequest,
  MetadataResponse,
} from '../../src/protocol/generated/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { listenTestServer, testApiVersionsHandler } from '../helpers/test-server.js';

describe('handler registry', () => {
  it('refuses to serve a version Kafka marks latestVersionUnstable', () => {
    const unstable = apis.find((a) => a.latestVersionUnstable)!;
    expect(unstable).toBeDefined();
    const h = {
      apiKey: unstable.apiKey,
      minVersion: unstable.validVersions.min,
      request: unstable.request,
      response: unstable.response,
      handle: () => unstable.response.default(),
    };
    expect(() => defineHandler({ ...h, maxVersion: unstable.validVersions.max })).toThrow(/unstable/);
    expect(() => defineHandler({ ...h, maxVersion: unstable.validVersions.max - 1 })).not.toThrow();
  });

  it('refuses versions the schema does not define, and duplicate keys', () => {
    const api = apis[18];
    const h = { apiKey: 18, minVersion: 0, request: api.request, response: api.response, handle: () => ({}) };
    expect(() => defineHandler({ ...h, maxVersion: api.validVersions.max + 1 })).toThrow(/outside/);
    const reg = new ApiRegistry();
    reg.register(defineHandler({ ...h, maxVersion: 3 }));
    expect(() => reg.register(defineHandler({ ...h, maxVersion: 3 }))).toThrow(/twice/);
    expect(reg.versions()).toEqual([{ apiKey: 18, minVersion: 0, maxVersion: 3 }]);
  });
});

describe('handlers loaded on first use', () => {
  it('every API of the broker table loads and serves exactly the versions the table advertises', async () => {
    const reg = new ApiRegistry<BrokerServices>();
    registerHandlers(reg);
    const advertised = reg.versions();
    expect(advertised.length).toBe(BROKER_APIS.length);
    for (const { apiKey } of advertised) expect(reg.get(apiKey)).toBeUndefined(); // nothing loaded yet
    await reg.loadAll(); // rejects on any disagreement between the table and a handler file
    for (const v of advertised) {
      const h = reg.get(v.apiKey)!;
      expect({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }).toEqual(v);
    }
    expect(reg.versions()).toEqual(advertised);
    // unstable.api.versions.enable advertises EndTxn v5 before the file is loaded, and serves it.
    const unstable = new ApiRegistry<BrokerServices>(true);
    registerHandlers(unstable);
    expect(unstable.versionRange(26)).toEqual(expect.objectContaining({ maxVersion: 5 }));
    expect((await unstable.load(26)).maxVersion).toBe(5);
    // samsa.legacy.protocol.enable serves Kafka 3.9's floors, advertised before the file loads.
    const legacy = new ApiRegistry<BrokerServices>(false, true);
    registerHandlers(legacy);
    const legacyAdvertised = legacy.versions();
    expect(legacy.versionRange(0)).toEqual(expect.objectContaining({ minVersion: 0, maxVersion: 11 }));
    await legacy.loadAll();
    for (const v of legacyAdvertised) {
      const h = legacy.get(v.apiKey)!;
      expect({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }).toEqual(v);
    }
  });

  it('refuses a handler file whose versions differ from its registration', async () => {
    const api = apis[18];
    const reg = new ApiRegistry<null>();
    const h = defineHandler({
      apiKey: 18,
      minVersion: 0,
      maxVersion: 3,
      request: api.request,
      response: api.response,
      handle: () => ({}),
    });
    reg.registerLazy({ apiKey: 18, minVersion: 0, maxVersion: 4, load: async () => h });
    await expect(reg.load(18)).rejects.toThrow(/registered as 0-4/);
    expect(reg.get(18)).toBeUndefined();
  });

  it('a connection holds later requests while a handler loads, so they run in arrival order', async () => {
    const order: string[] = [];
    let releaseLoad!: () => void;
    const loaded = new Promise<void>((r) => {
      releaseLoad = r;
    });
    const reg = new ApiRegistry<null>();
    const metadata = defineHandler<MetadataRequest, MetadataResponse, null>({
      apiKey: 3,
      minVersion: 0,
      maxVersion: 12,
      request: MetadataRequest,
      response: MetadataResponse,
      handle: () => {
        order.push('metadata');
        return MetadataResponse.default();
      },
    });
    reg.registerLazy({
      apiKey: 3,
      minVersion: 0,
      maxVersion: 12,
      load: async () => {
        await loaded;
        return metadata as unknown as ApiHandler<unknown, unknown, null>;
      },
    });
    // Loaded already: without the hold it would run before the Metadata request sent first.
    reg.register(testApiVersionsHandler(reg, () => order.push('apiVersions')));
    const { server, port } = await listenTestServer(reg, null);
    server.open();
    const c = await RawClient.connect(port);
    try {
      c.send(
        ...encodeRequest({ apiKey: 3, apiVersion: 12, correlationId: 1, clientId: null }, MetadataRequest, {
          ...MetadataRequest.default(),
          topics: [],
        }),
        ...encodeRequest(
          { apiKey: 18, apiVersion: 3, correlationId: 2, clientId: null },
          ApiVersionsRequest,
          {
            clientSoftwareName: 'x',
            clientSoftwareVersion: '1',
          },
        ),
      );
      await new Promise((r) => setTimeout(r, 50));
      expect(order).toEqual([]); // both wait for the Metadata handler
      releaseLoad();
      const first = decodeResponseHeader((await c.next())!, 3, 12);
      const second = decodeResponseHeader((await c.next())!, 18, 3);
      expect([first.header.correlationId, second.header.correlationId]).toEqual([1, 2]);
      expect(order).toEqual(['metadata', 'apiVersions']);
    } finally {
      c.close();
      await server.close();
    }
  });
});
