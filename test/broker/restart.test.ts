// Everything a broker holds survives a restart: topics (names, ids, partition counts), topic
// configs (every value and its source), deleted topics staying deleted, the cluster id, and the
// data of every partition (offsets, keys, values, high watermarks), after a clean stop (SIGTERM)
// and after kill -9, including kill -9 right after a change was acknowledged and a second kill -9
// straight after a restart. The broker runs as a child process (test/helpers/broker-process.ts).

import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiRegistry } from '../../src/broker/api-handler.js';
import { CompressionType } from '../../src/protocol/compression/types.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { decodeResponseHeader, encodeRequest } from '../../src/protocol/frame.js';
import { ApiVersionsRequest } from '../../src/protocol/generated/index.js';
import { BrokerProcess, buildBroker, removeBrokerBuild, stopAllBrokers } from '../helpers/broker-process.js';
import { KafkaRpc, type ReadRecord } from '../helpers/kafka-rpc.js';
import { RawClient } from '../helpers/raw-client.js';
import { listenTestServer, testApiVersionsHandler } from '../helpers/test-server.js';

const dirs: string[] = [];

beforeAll(async () => {
  await buildBroker();
}, 180_000);

afterAll(async () => {
  await stopAllBrokers();
  removeBrokerBuild();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Snapshot {
  clusterId: string | null;
  brokers: [number, string, number][];
  topics: { name: string | null; id: string; partitions: number; errorCode: number }[];
  configs: Record<string, Record<string, [string | null, number]>>;
  data: Record<string, { records: ReadRecord[]; highWatermark: bigint; logStartOffset: bigint }>;
}

/** Everything a client can see of the broker's state, in a comparable form. */
async function snapshot(port: number): Promise<Snapshot> {
  const rpc = await KafkaRpc.connect(port);
  try {
    const md = await rpc.metadata(null);
    const topics = md.topics
      .map((t) => ({ name: t.name, id: t.topicId, partitions: t.partitions.length, errorCode: t.errorCode }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    const configs: Snapshot['configs'] = {};
    const data: Snapshot['data'] = {};
    for (const t of topics) {
      const name = t.name!;
      const c = await rpc.describeTopicConfigs(name);
      configs[name] = Object.fromEntries(
        [...c].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [v.value, v.source]]),
      );
      for (let p = 0; p < t.partitions; p++) data[`${name}-${p}`] = await rpc.readPartition(name, p);
    }
    return {
      clusterId: md.clusterId,
      brokers: md.brokers.map((b) => [b.nodeId, b.host, b.port]),
      topics,
      configs,
      data,
    };
  } finally {
    rpc.close();
  }
}

const compressions = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
];

/** Produces `batches` batches of 20 keyed records with headers to a partition, cycling codecs. */
async function fill(
  rpc: KafkaRpc,
  topic: string,
  partition: number,
  batches: number,
  tag: string,
): Promise<void> {
  for (let b = 0; b < batches; b++) {
    const r = await rpc.produce(
      topic,
      partition,
      Array.from({ length: 20 }, (_, i) => ({
        key: Buffer.from(`${tag}-k${b}-${i}`),
        value: Buffer.from(`${tag}-v${b}-${i}`),
        headers: [{ key: 'h', value: Buffer.from(String(i)) }],
      })),
      { compression: compressions[b % compressions.length] },
    );
    expect(r.errorCode).toBe(ErrorCode.NONE);
  }
}

describe('a broker restarted on its data directory keeps topics, configs and data', () => {
  let broker: BrokerProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'samsa-restart-'));
    dirs.push(dataDir);
    broker = await BrokerProcess.start({ dataDir });
    const rpc = await KafkaRpc.connect(broker.port);
    // A topic with configs at creation.
    const alpha = await rpc.createTopic('alpha', 3, {
      'retention.ms': '3600000',
      'cleanup.policy': 'compact',
      'max.message.bytes': '2000000',
    });
    expect(alpha.errorCode).toBe(0);
    // One altered after creation, grown, with small segments so that it has several.
    expect((await rpc.createTopic('beta', 1)).errorCode).toBe(0);
    expect(
      await rpc.alterTopicConfigs('beta', { 'segment.bytes': '1048576', 'retention.bytes': '500000000' }),
    ).toBe(0);
    expect(await rpc.createPartitions('beta', 4)).toBe(0);
    // One created and deleted.
    expect((await rpc.createTopic('gamma', 2)).errorCode).toBe(0);
    await fill(rpc, 'gamma', 0, 2, 'gamma');
    expect(await rpc.deleteTopic('gamma')).toBe(0);
    // One auto-created by Metadata.
    const auto = await rpc.metadata(['auto'], true);
    expect(auto.topics[0].errorCode).toBe(0);

    for (let p = 0; p < 3; p++) await fill(rpc, 'alpha', p, 7, `a${p}`);
    for (let p = 0; p < 4; p++) await fill(rpc, 'beta', p, 3, `b${p}`);
    await fill(rpc, 'auto', 0, 2, 'auto');
    // Past one segment of beta-0: 6 batches of ~300 KB.
    for (let b = 0; b < 6; b++) {
      const r = await rpc.produce('beta', 0, [
        { key: Buffer.from(`big${b}`), value: Buffer.alloc(300_000, b) },
      ]);
      expect(r.errorCode).toBe(0);
    }
    rpc.close();
  }, 300_000);

  afterAll(async () => {
    await broker?.stop();
  });

  function segmentsOf(dir: string): string[] {
    return readdirSync(join(dataDir, dir)).filter((f) => f.endsWith('.log'));
  }

  it('after a clean stop (SIGTERM): the same state, without a log rescan', async () => {
    const before = await snapshot(broker.port);
    expect(before.topics.map((t) => t.name)).toEqual(['alpha', 'auto', 'beta']);
    expect(before.data['beta-0'].records.length).toBe(66);
    expect(segmentsOf('beta-0').length).toBeGreaterThan(1);

    const exit = await broker.stop();
    expect(exit.code).toBe(0);
    expect(existsSync(join(dataDir, '.kafka_cleanshutdown'))).toBe(true);

    broker = await broker.restart();
    expect(broker.logsMatching(/loaded partition logs/)[0]?.cleanShutdown).toEqual([dataDir]);
    // The marker is consumed at start: a crash from now on is not mistaken for a clean stop.
    expect(existsSync(join(dataDir, '.kafka_cleanshutdown'))).toBe(false);
    expect(await snapshot(broker.port)).toEqual(before);
  });

  it('after kill -9 following acknowledged changes: the same state, logs recovered', async () => {
    const rpc = await KafkaRpc.connect(broker.port);
    // Changes whose acknowledgements are the last thing before the kill.
    await fill(rpc, 'alpha', 1, 2, 'late');
    expect(
      await rpc.alterTopicConfigs('alpha', { 'retention.ms': '7200000', 'max.message.bytes': null }),
    ).toBe(0);
    expect((await rpc.createTopic('delta', 2, { 'segment.ms': '600000' })).errorCode).toBe(0);
    await fill(rpc, 'delta', 1, 1, 'delta');
    expect(await rpc.deleteTopic('auto')).toBe(0);
    rpc.close();
    const before = await snapshot(broker.port);
    expect(before.topics.map((t) => t.name)).toEqual(['alpha', 'beta', 'delta']);
    expect(before.configs.alpha['retention.ms']).toEqual(['7200000', 1]);
    expect(before.configs.alpha['max.message.bytes'][1]).not.toBe(1);

    // And the last acknowledgements before the kill, with nothing in between: a topic created,
    // a batch appended.
    const rpc2 = await KafkaRpc.connect(broker.port);
    const epsilon = await rpc2.createTopic('epsilon', 1);
    expect(epsilon.errorCode).toBe(0);
    const appended = await rpc2.produce('epsilon', 0, [
      { key: Buffer.from('e'), value: Buffer.from('last') },
    ]);
    expect(appended.errorCode).toBe(0);
    await broker.kill();
    rpc2.close();

    broker = await broker.restart();
    expect(broker.logsMatching(/loaded partition logs/)[0]?.cleanShutdown).toEqual([]);
    const after = await snapshot(broker.port);
    expect(after.topics.find((t) => t.name === 'epsilon')).toEqual({
      name: 'epsilon',
      id: epsilon.topicId,
      partitions: 1,
      errorCode: 0,
    });
    expect(after.data['epsilon-0'].records).toEqual([{ offset: 0n, key: 'e', value: 'last' }]);
    after.topics = after.topics.filter((t) => t.name !== 'epsilon');
    delete after.configs.epsilon;
    delete after.data['epsilon-0'];
    expect(after).toEqual(before);
  });

  it('after kill -9 straight after a restart (recovery twice in a row): the same state', async () => {
    const before = await snapshot(broker.port);
    await broker.kill();
    broker = await broker.restart();
    await broker.kill();
    broker = await broker.restart();
    expect(await snapshot(broker.port)).toEqual(before);
  });

  it('after all restarts: appends continue at each high watermark and deleted topics left no data', async () => {
    const state = await snapshot(broker.port);
    const rpc = await KafkaRpc.connect(broker.port);
    for (const [key, p] of Object.entries(state.data)) {
      const at = key.lastIndexOf('-');
      const r = await rpc.produce(key.slice(0, at), Number(key.slice(at + 1)), [
        { key: Buffer.from('k'), value: Buffer.from('next') },
      ]);
      expect(r.errorCode).toBe(0);
      expect(r.baseOffset).toBe(p.highWatermark);
    }
    rpc.close();
    const leftovers = readdirSync(dataDir).filter((f) => /^(gamma|auto)-\d+$/.test(f));
    expect(leftovers).toEqual([]);
  });
});

// Clients reconnect while a broker restarts, so connections accepted before the broker has
// finished starting matter. SocketServer's header says they are "held paused, since the broker is
// still starting", and served once open() is called.
//
// Regression: SocketServer.listen() once built a Connection for every socket at once, while
// Broker.start() listens before it replays metadata, recovers the logs and registers the handlers;
// a request arriving in that window found an empty registry and its connection was closed. Early
// connections are now held, paused, until open().
describe('connections that arrive while the broker is starting', () => {
  it('are held until the broker opens, then served', async () => {
    const registry = new ApiRegistry<null>();
    const { server, port } = await listenTestServer(registry, null);
    const c = await RawClient.connect(port);
    try {
      c.send(
        ...encodeRequest(
          { apiKey: 18, apiVersion: 3, correlationId: 7, clientId: null },
          ApiVersionsRequest,
          {
            clientSoftwareName: 'early',
            clientSoftwareVersion: '1',
          },
        ),
      );
      // The broker is "starting": give the request time to arrive (with the bug, it closes now).
      await c.waitClosed(1000);
      registry.register(testApiVersionsHandler(registry));
      server.open();
      const frame = await c.next(10_000);
      expect(frame).not.toBeNull();
      expect(decodeResponseHeader(frame!, 18, 3).header.correlationId).toBe(7);
    } finally {
      c.close();
      await server.close();
    }
  });
});
