// Connections the broker closes because of what the client sent are logged once at info, with
// the client's address, client id, API and version, and rate limited per client host
// (src/broker/network/closed-connection-log.ts): the rate limit with a fake clock, then each kind
// of close through a real broker and raw sockets, each from its own loopback address.

import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { apiName, ClosedConnectionLog } from '../../src/broker/network/closed-connection-log.js';
import { encodeRequest } from '../../src/protocol/frame.js';
import { ApiKey } from '../../src/protocol/generated/api-keys.js';
import { MetadataRequest, ProduceRequest } from '../../src/protocol/generated/index.js';
import { encodeRecordBatch } from '../../src/protocol/records/encode.js';
import { RawClient } from '../helpers/raw-client.js';

describe('ClosedConnectionLog (fake clock)', () => {
  function setup(intervalMs = 10_000) {
    let now = 1_000_000;
    const lines: { obj: Record<string, unknown>; msg: string }[] = [];
    const log = new ClosedConnectionLog(
      { info: ((obj: Record<string, unknown>, msg: string) => lines.push({ obj, msg })) as never },
      intervalMs,
      { now: () => now, monotonicNs: () => BigInt(now) * 1_000_000n },
    );
    return { log, lines, advance: (ms: number) => (now += ms) };
  }
  const close = (host: string, port = 5000) => ({
    host,
    client: `${host}:${port}`,
    reason: 'unsupported version 99 (this broker serves 0 to 12)',
    clientId: 'app',
    apiKey: 3,
    apiVersion: 99,
  });

  it('writes one line per host per interval and reports the ones it held back', () => {
    const { log, lines, advance } = setup();
    expect(log.record(close('10.0.0.1', 1))).toBe(true);
    expect(log.record(close('10.0.0.1', 2))).toBe(false);
    expect(log.record(close('10.0.0.1', 3))).toBe(false);
    // Another host has its own allowance.
    expect(log.record(close('10.0.0.2'))).toBe(true);
    expect(lines).toHaveLength(2);
    expect(lines[0].msg).toBe(
      'closed connection from 10.0.0.1:1, client id "app" (Metadata v99): unsupported version 99 (this broker serves 0 to 12)',
    );
    expect(lines[0].obj).toMatchObject({
      client: '10.0.0.1:1',
      clientId: 'app',
      api: 'Metadata',
      apiKey: 3,
      apiVersion: 99,
      suppressed: 0,
    });
    advance(9_999);
    expect(log.record(close('10.0.0.1', 4))).toBe(false);
    advance(1);
    expect(log.record(close('10.0.0.1', 5))).toBe(true);
    expect(lines).toHaveLength(3);
    expect(lines[2].obj.suppressed).toBe(3);
    expect(lines[2].msg).toMatch(
      /; 3 more closed from 10\.0\.0\.1 since the last such line were not logged$/,
    );
  });

  it('bounds the hosts it tracks: beyond 1024 at once, one summary line per interval', () => {
    const { log, lines, advance } = setup();
    for (let i = 0; i < 1024; i++) expect(log.record(close(`h${i}`))).toBe(true);
    expect(log.record(close('one-too-many'))).toBe(false);
    expect(log.record(close('and-another'))).toBe(false);
    expect(lines).toHaveLength(1025);
    expect(lines[1024].msg).toMatch(/^closed 1 more connection\(s\) from more than 1024 client hosts/);
    // Once the tracked hosts' interval is over, their entries make room again.
    advance(10_000);
    expect(log.record(close('one-too-many'))).toBe(true);
  });

  it('names APIs as Kafka does', () => {
    expect(apiName(0)).toBe('Produce');
    expect(apiName(18)).toBe('ApiVersions');
    expect(apiName(999)).toBe('api key 999');
    expect(apiName(-1)).toBe('api key -1');
  });
});

describe('closed connections through a broker', () => {
  let broker: Broker;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l));
        cb();
      },
    });
    broker = await startBroker({ logger: pino({ level: 'info' }, sink) });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  const closedLines = () => lines.filter((l) => String(l.msg).startsWith('closed connection from'));

  /** Sends the chunks from `from` and waits for the broker to close the connection. */
  async function sendAndWaitClose(from: string, ...chunks: Buffer[]): Promise<number> {
    const c = await RawClient.connect(broker.port, from);
    const port = c.socket.localPort ?? -1;
    c.send(...chunks);
    expect(await c.waitClosed(10_000)).toBe(true);
    return port;
  }

  /** The one closed-connection line for `from`, once the pino stream has passed it on. */
  async function lineFrom(from: string): Promise<Record<string, unknown>> {
    for (let i = 0; i < 500; i++) {
      const found = closedLines().filter((l) => String(l.client).startsWith(`${from}:`));
      if (found.length > 0) {
        expect(found).toHaveLength(1);
        return found[0];
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no closed-connection line for ${from}`);
  }

  const header = (apiKey: number, apiVersion: number) => ({
    apiKey,
    apiVersion,
    correlationId: 1,
    clientId: 'bad-client',
  });

  it('an unsupported version: address, client id, API and version', async () => {
    const frame = encodeRequest(header(ApiKey.Metadata, 12), MetadataRequest, {
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    // Same bytes, version patched to 99 (past what the broker serves).
    const buf = Buffer.concat(frame);
    buf.writeInt16BE(99, 6);
    const port = await sendAndWaitClose('127.0.0.2', buf);
    const line = await lineFrom('127.0.0.2');
    expect(line).toMatchObject({
      level: 30,
      client: `127.0.0.2:${port}`,
      clientId: 'bad-client',
      api: 'Metadata',
      apiVersion: 99,
    });
    expect(line.msg).toMatch(
      /^closed connection from 127\.0\.0\.2:\d+, client id "bad-client" \(Metadata v99\): unsupported version 99/,
    );
  });

  it('an unknown API key', async () => {
    // A v1 request header by hand: api key 1000 is no API.
    const clientId = Buffer.from('odd');
    const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
    body.writeInt16BE(1000, 0);
    body.writeInt16BE(0, 2);
    body.writeInt32BE(7, 4);
    body.writeInt16BE(clientId.length, 8);
    clientId.copy(body, 10);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    await sendAndWaitClose('127.0.0.3', size, body);
    expect(await lineFrom('127.0.0.3')).toMatchObject({
      clientId: 'odd',
      api: 'api key 1000',
      apiKey: 1000,
      reason: 'unknown api key 1000',
    });
  });

  it('a request body that does not decode', async () => {
    const frame = Buffer.concat(
      encodeRequest(header(ApiKey.Metadata, 12), MetadataRequest, {
        topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'x' }],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      }),
    );
    // Cut the body short and fix the size prefix.
    const cut = frame.subarray(0, frame.length - 6);
    cut.writeInt32BE(cut.length - 4, 0);
    await sendAndWaitClose('127.0.0.4', cut);
    const line = await lineFrom('127.0.0.4');
    expect(line).toMatchObject({ clientId: 'bad-client', api: 'Metadata', apiVersion: 12 });
    expect(String(line.reason)).toMatch(/^undecodable request: /);
  });

  it('a refused acks=0 produce', async () => {
    const frame = encodeRequest(header(ApiKey.Produce, 9), ProduceRequest, {
      transactionalId: null,
      acks: 0,
      timeoutMs: 1000,
      topicData: [
        {
          name: 'no-such-topic',
          partitionData: [{ index: 0, records: encodeRecordBatch([{ value: Buffer.from('v') }]) }],
        },
      ],
    });
    await sendAndWaitClose('127.0.0.5', ...frame);
    expect(await lineFrom('127.0.0.5')).toMatchObject({
      clientId: 'bad-client',
      api: 'Produce',
      apiVersion: 9,
      reason: 'acks=0 produce refused for topic no-such-topic',
    });
  });

  it('a size prefix past socket.request.max.bytes (no header to tell more)', async () => {
    const size = Buffer.alloc(4);
    size.writeInt32BE(0x7fffffff);
    await sendAndWaitClose('127.0.0.6', size);
    const line = await lineFrom('127.0.0.6');
    expect(line).toMatchObject({ clientId: null, api: null, apiVersion: null });
  });

  it('is rate limited per client host: three bad connections, one line', async () => {
    const frame = Buffer.alloc(8);
    frame.writeInt32BE(4, 0);
    frame.writeInt16BE(1000, 4);
    frame.writeInt16BE(0, 6);
    for (let i = 0; i < 3; i++) await sendAndWaitClose('127.0.0.7', frame);
    await lineFrom('127.0.0.7');
    // Give the stream a moment to pass on anything more; there must be nothing.
    await new Promise((r) => setTimeout(r, 100));
    expect(closedLines().filter((l) => String(l.client).startsWith('127.0.0.7:'))).toHaveLength(1);
  });

  it('a client that just disconnects is not logged', async () => {
    const c = await RawClient.connect(broker.port, '127.0.0.8');
    c.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(closedLines().filter((l) => String(l.client).startsWith('127.0.0.8:'))).toHaveLength(0);
  });
});
