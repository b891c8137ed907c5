// Regression: a response that cannot be encoded (or a handler that rejects) once crashed the whole
// broker through an unhandled rejection. Each now closes only its own connection; a response that
// merely carries fields its version lacks is trimmed to that version and sent.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiRegistry, defineHandler } from '../../src/broker/api-handler.js';
import type { SocketServer } from '../../src/broker/network/socket-server.js';
import { decodeResponseHeader, encodeRequest } from '../../src/protocol/frame.js';
import {
  ApiVersionsRequest,
  ListOffsetsRequest,
  ListOffsetsResponse,
  MetadataRequest,
  MetadataResponse,
} from '../../src/protocol/generated/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { listenTestServer, testApiVersionsHandler } from '../helpers/test-server.js';

const registry = new ApiRegistry<null>();
registry.register(
  defineHandler<ListOffsetsRequest, ListOffsetsResponse, null>({
    apiKey: 2,
    minVersion: 1,
    maxVersion: 10,
    request: ListOffsetsRequest,
    response: ListOffsetsResponse,
    // leader_epoch does not exist before v4: trimmed for v2. A topic name too long for an int16
    // length cannot be encoded at all.
    handle: (req) => ({
      throttleTimeMs: 0,
      topics: [
        {
          name: req.topics[0]?.name === 'long' ? 'x'.repeat(40_000) : 't',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              oldStyleOffsets: [],
              timestamp: -1n,
              offset: 7n,
              leaderEpoch: 5,
            },
          ],
        },
      ],
    }),
  }),
);
registry.register(
  defineHandler<MetadataRequest, MetadataResponse, null>({
    apiKey: 3,
    minVersion: 0,
    maxVersion: 12,
    request: MetadataRequest,
    response: MetadataResponse,
    handle: async () => {
      throw new Error('boom');
    },
  }),
);
registry.register(testApiVersionsHandler(registry));

let server: SocketServer<null>;
let port: number;

beforeAll(async () => {
  ({ server, port } = await listenTestServer(registry, null));
  server.open();
});

afterAll(() => server.close());

async function stillServes(): Promise<void> {
  const ok = await RawClient.connect(port);
  ok.send(
    ...encodeRequest({ apiKey: 18, apiVersion: 3, correlationId: 1, clientId: null }, ApiVersionsRequest, {
      clientSoftwareName: 'x',
      clientSoftwareVersion: '1',
    }),
  );
  expect(await ok.next()).not.toBeNull();
  ok.close();
}

describe('failures while answering', () => {
  const listOffsets = (topic: string) =>
    encodeRequest({ apiKey: 2, apiVersion: 2, correlationId: 1, clientId: null }, ListOffsetsRequest, {
      ...ListOffsetsRequest.default(),
      topics: [{ name: topic, partitions: [] }],
    });

  it('trims fields a version lacks and answers', async () => {
    const c = await RawClient.connect(port);
    c.send(...listOffsets('t'));
    const { body } = decodeResponseHeader((await c.next())!, 2, 2);
    const res = ListOffsetsResponse.decode(body, 2);
    expect(res.topics[0].partitions[0]).toMatchObject({ offset: 7n, leaderEpoch: -1 });
    c.close();
  });

  it('closes the connection when the response cannot be encoded at all', async () => {
    const c = await RawClient.connect(port);
    c.send(...listOffsets('long'));
    expect(await c.waitClosed()).toBe(true);
    await stillServes();
  });

  it('closes the connection when a handler rejects', async () => {
    const c = await RawClient.connect(port);
    c.send(
      ...encodeRequest(
        { apiKey: 3, apiVersion: 12, correlationId: 1, clientId: null },
        MetadataRequest,
        MetadataRequest.default(),
      ),
    );
    expect(await c.waitClosed()).toBe(true);
    await stillServes();
  });
});
