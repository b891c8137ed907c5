import { describe, expect, it } from 'vitest';
import { ApiRegistry, defineHandler } from '../../src/broker/api-handler.js';
import { apis } from '../../src/protocol/generated/index.js';

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
