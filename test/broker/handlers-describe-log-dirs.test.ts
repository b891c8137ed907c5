// DescribeLogDirs (key 35) on an in-process broker with two log dirs: through @platformatic/kafka's
// admin.describeLogDirs (v4; kafkajs and Debian's confluent-kafka-python 1.7.0 have no such call),
// and as raw v1-v4 requests with Samsa's codecs for what the client cannot ask (all topics, older
// versions) and for an offline dir.

import { mkdtempSync, rmSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { decodeResponseHeader, encodeRequest } from '../../src/protocol/frame.js';
import {
  ApiKey,
  ApiVersionsRequest,
  ApiVersionsResponse,
  DescribeLogDirsRequest,
  DescribeLogDirsResponse,
} from '../../src/protocol/generated/index.js';
import type { MessageCodec } from '../../src/protocol/message.js';
import { encodeRecordBatch } from '../../src/protocol/records/index.js';
import { StorageError } from '../../src/storage/errors.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: Broker;
let root: string;
let dirA: string;
let dirB: string;
let admin: Admin;
let correlationId = 0;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'samsa-logdirs-'));
  dirA = join(root, 'a');
  dirB = join(root, 'b');
  broker = await startBroker({
    config: {
      // Kafka 4.0's version floors (KIP-896), which these tests check; test/broker/legacy-versions.test.ts covers Kafka 3.9's.
      'samsa.legacy.protocol.enable': 'false',
      listeners: 'PLAINTEXT://127.0.0.1:0',
      'log.dirs': `${dirA},${dirB}`,
    },
    logger: pino({ level: 'silent' }),
  });
  admin = new Admin({ clientId: 'samsa-test', bootstrapBrokers: [broker.bootstrap], retries: 0 });
  await admin.createTopics({ topics: ['dld'], partitions: 4, replicas: 1 });
  await admin.createTopics({ topics: ['dld-other'], partitions: 1, replicas: 1 });
  for (const [partition, count] of [
    [0, 3],
    [1, 1],
    [2, 0],
    [3, 5],
  ]) {
    await append('dld', partition, count);
  }
});

afterAll(async () => {
  await admin?.close();
  await broker?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function append(topic: string, partition: number, count: number) {
  const rm = broker.services.replicaManager;
  for (let i = 0; i < count; i++) {
    const r = rm.append(
      rm.get(topic, partition)!,
      encodeRecordBatch([{ key: null, value: Buffer.alloc(100 * (i + 1)), timestamp: Date.now() }]),
    );
    expect(r.errorCode).toBe(0);
    await r.durable;
  }
}

async function call<Req, Resp>(
  apiKey: number,
  version: number,
  reqCodec: MessageCodec<Req>,
  respCodec: MessageCodec<Resp>,
  body: Req,
): Promise<Resp> {
  const c = await RawClient.connect(broker.port);
  try {
    const id = ++correlationId;
    c.send(
      ...encodeRequest({ apiKey, apiVersion: version, correlationId: id, clientId: 't' }, reqCodec, body),
    );
    const frame = await c.next();
    if (!frame) throw new Error('connection closed');
    const { header, body: payload } = decodeResponseHeader(frame, apiKey, version);
    expect(header.correlationId).toBe(id);
    return respCodec.decode(payload, version);
  } finally {
    c.close();
  }
}

const describeLogDirs = (version: number, topics: DescribeLogDirsRequest['topics']) =>
  call(ApiKey.DescribeLogDirs, version, DescribeLogDirsRequest, DescribeLogDirsResponse, { topics });

/** What each dir should list: topic → partition → size, from the log manager itself. */
function expectedByDir(wanted: (topic: string, partition: number) => boolean) {
  const { logManager } = broker.services;
  const out = new Map<string, Map<string, Map<number, bigint>>>([
    [dirA, new Map()],
    [dirB, new Map()],
  ]);
  for (const log of logManager.allLogs()) {
    const { topic, partition } = log.topicPartition;
    if (!wanted(topic, partition)) continue;
    const byTopic = out.get(logManager.logDirOf(topic, partition)!)!;
    if (!byTopic.has(topic)) byTopic.set(topic, new Map());
    byTopic.get(topic)!.set(partition, BigInt(log.size));
  }
  return out;
}

type ResultTopic = { name: string; partitions: { partitionIndex: number; partitionSize: bigint }[] };

function asMaps(results: { logDir: string; topics: ResultTopic[] }[]) {
  return new Map(
    results.map((r) => [
      r.logDir,
      new Map(
        r.topics.map((t) => [t.name, new Map(t.partitions.map((p) => [p.partitionIndex, p.partitionSize]))]),
      ),
    ]),
  );
}

describe('DescribeLogDirs', () => {
  it('lists each dir with its partitions, sizes and space (@platformatic/kafka, v4)', async () => {
    // Both dirs hold some of the five partitions (the log manager fills the emptiest dir).
    const placement = expectedByDir(() => true);
    expect(placement.get(dirA)!.size).toBeGreaterThan(0);
    expect(placement.get(dirB)!.size).toBeGreaterThan(0);

    const [result, ...others] = await admin.describeLogDirs({
      topics: [{ name: 'dld', partitions: [0, 1, 2, 3, 9] }],
    });
    expect(others).toEqual([]);
    expect(result.broker).toBe(1);
    expect(result.results.map((r) => r.logDir).sort()).toEqual([dirA, dirB].sort());
    expect(asMaps(result.results)).toEqual(expectedByDir((t) => t === 'dld'));
    for (const r of result.results) {
      for (const t of r.topics) {
        for (const p of t.partitions) expect(p).toMatchObject({ offsetLag: 0n, isFutureKey: false });
      }
      const s = await statfs(r.logDir, { bigint: true });
      expect(r.totalBytes).toBe(s.blocks * s.bsize);
      expect(r.usableBytes).toBeGreaterThan(0n);
      expect(r.usableBytes).toBeLessThanOrEqual(r.totalBytes);
    }
    // Sizes are the bytes of the batches written: partition 3 got five batches, 2 none.
    const sizes = expectedByDir((t) => t === 'dld');
    const size = (p: number) =>
      [...sizes.values()]
        .find((m) => m.get('dld')?.has(p))!
        .get('dld')!
        .get(p)!;
    expect(size(2)).toBe(0n);
    expect(size(3)).toBeGreaterThan(size(0));
  });

  it('describes every partition when topics is null, at every served version', async () => {
    for (const version of [1, 2, 3, 4]) {
      const r = await describeLogDirs(version, null);
      expect(r.errorCode).toBe(0);
      expect(asMaps(r.results)).toEqual(expectedByDir(() => true));
      for (const d of r.results) {
        expect(d.errorCode).toBe(ErrorCode.NONE);
        // Space is reported from v4 only (the field's default before).
        if (version < 4) expect(d.totalBytes).toBe(-1n);
        else expect(d.totalBytes).toBeGreaterThan(0n);
      }
    }
  });

  it('lists dirs with no topics for partitions it does not hold', async () => {
    const r = await describeLogDirs(4, [
      { topic: 'dld-nope', partitions: [0] },
      { topic: 'dld-other', partitions: [5] },
    ]);
    expect(r.results.map((d) => [d.logDir, d.errorCode, d.topics])).toEqual(
      expect.arrayContaining([
        [dirA, 0, []],
        [dirB, 0, []],
      ]),
    );
    expect(r.results).toHaveLength(2);
  });

  it('answers KAFKA_STORAGE_ERROR for a dir holding an offline log, and the other dir normally', async () => {
    const { logManager } = broker.services;
    const log = logManager.getLog('dld', 0)!;
    const offlineDir = logManager.logDirOf('dld', 0)!;
    const spy = vi.spyOn(log, 'offlineReason', 'get').mockReturnValue(new StorageError('disk gone'));
    try {
      const r = await describeLogDirs(4, null);
      const offline = r.results.find((d) => d.logDir === offlineDir)!;
      expect(offline).toMatchObject({
        errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
        topics: [],
        totalBytes: -1n,
        usableBytes: -1n,
      });
      const online = r.results.find((d) => d.logDir !== offlineDir)!;
      expect(online.errorCode).toBe(ErrorCode.NONE);
      expect(online.topics.length).toBeGreaterThan(0);
    } finally {
      spy.mockRestore();
    }
  });

  it('is advertised at versions 1-4 (Kafka 4.0 dropped v0)', async () => {
    const v = await call(ApiKey.ApiVersions, 3, ApiVersionsRequest, ApiVersionsResponse, {
      clientSoftwareName: 't',
      clientSoftwareVersion: '1',
    });
    expect(v.apiKeys.find((k) => k.apiKey === ApiKey.DescribeLogDirs)).toMatchObject({
      minVersion: 1,
      maxVersion: 4,
    });
  });
});
