// A SocketServer over a hand-made registry, for tests of the network layer without a broker.

import { pino } from 'pino';
import { type ApiRegistry, defineHandler } from '../../src/broker/api-handler.js';
import { SocketServer } from '../../src/broker/network/socket-server.js';
import { ApiVersionsRequest, ApiVersionsResponse } from '../../src/protocol/generated/index.js';

/** ApiVersions v0-4 answering from `registry`; `onHandle` sees each call. */
export function testApiVersionsHandler<S>(registry: ApiRegistry<S>, onHandle?: () => void) {
  return defineHandler<ApiVersionsRequest, ApiVersionsResponse, S>({
    apiKey: 18,
    minVersion: 0,
    maxVersion: 4,
    request: ApiVersionsRequest,
    response: ApiVersionsResponse,
    handle: () => {
      onHandle?.();
      return { ...ApiVersionsResponse.default(), apiKeys: registry.versions() };
    },
  });
}

/** A server on 127.0.0.1 and a free port, silent, 100 requests in flight; not yet open(). */
export async function listenTestServer<S>(
  registry: ApiRegistry<S>,
  services: S,
): Promise<{ server: SocketServer<S>; port: number }> {
  const server = new SocketServer(
    registry,
    services,
    { maxRequestBytes: 1 << 20, maxInFlight: 100, idleTimeoutMs: 60_000 },
    pino({ level: 'silent' }),
  );
  return { server, port: await server.listen('127.0.0.1', 0) };
}
