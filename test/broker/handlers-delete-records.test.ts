// DeleteRecords (key 21) against an in-process broker, driven by three independent clients:
// kafkajs (admin.deleteTopicRecords, v1, with fetchTopicOffsets to read the low watermark back),
// @platformatic/kafka (admin.deleteRecords, v2) and librdkafka's C API (rd_kafka_DeleteRecords,
// through ctypes: Debian's confluent-kafka-python 1.7.0 has no AdminClient.delete_records). The
// edge cases no client exposes are sent as raw requests encoded with Samsa's generated codecs.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { decodeResponseHeader, encodeRequest } from '../../src/protocol/frame.js';
import {
  ApiKey,
  DeleteRecordsRequest,
  DeleteRecordsResponse,
  FetchRequest,
  FetchResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
} from '../../src/protocol/generated/index.js';
import { type MessageCodec, ZERO_UUID } from '../../src/protocol/message.js';
import { encodeRecordBatch } from '../../src/protocol/records/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { hasConfluentKafka, PYTHON, requireClient } from '../helpers/tools.js';

let broker: Broker;
let dir: string;
let kafka: Kafka;
let correlationId = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samsa-delrec-'));
  broker = await startBroker({
    config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir },
    logger: pino({ level: 'silent' }),
  });
  kafka = new Kafka({ clientId: 'samsa-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
});

afterAll(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function call<Req, Resp>(
  apiKey: number,
  version: number,
  reqCodec: MessageCodec<Req>,
  respCodec: MessageCodec<Resp>,
  body: Req,
  client?: RawClient,
): Promise<Resp> {
  const c = client ?? (await RawClient.connect(broker.port));
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
    if (!client) c.close();
  }
}

const deleteRecords = (version: number, topics: DeleteRecordsRequest['topics']) =>
  call(ApiKey.DeleteRecords, version, DeleteRecordsRequest, DeleteRecordsResponse, {
    topics,
    timeoutMs: 5000,
  });

async function createTopic(name: string, partitions: number, configs: Record<string, string> = {}) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        {
          topic: name,
          numPartitions: partitions,
          configEntries: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

/** Appends `count` single-record batches to a partition through the broker's own produce path. */
async function append(topic: string, partition: number, count: number) {
  const p = broker.services.replicaManager.get(topic, partition)!;
  for (let i = 0; i < count; i++) {
    const r = broker.services.replicaManager.append(
      p,
      encodeRecordBatch([{ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestamp: Date.now() }]),
    );
    expect(r.errorCode).toBe(0);
    await r.durable;
  }
}

const logOf = (topic: string, partition: number) => broker.services.replicaManager.get(topic, partition)!.log;

describe('DeleteRecords with kafkajs', () => {
  it('deletes below an offset and below the high watermark (-1); fetchTopicOffsets sees the low watermark', async () => {
    await createTopic('dr-kafkajs', 2);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'dr-kafkajs',
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `a${i}` })),
    });
    await producer.send({
      topic: 'dr-kafkajs',
      acks: -1,
      messages: Array.from({ length: 5 }, (_, i) => ({ partition: 1, value: `b${i}` })),
    });
    await producer.disconnect();

    const admin = kafka.admin();
    await admin.connect();
    try {
      // kafkajs looks the leaders up in metadata it already holds: load the topic's first.
      await admin.fetchTopicMetadata({ topics: ['dr-kafkajs'] });
      await admin.deleteTopicRecords({
        topic: 'dr-kafkajs',
        partitions: [
          { partition: 0, offset: '4' },
          { partition: 1, offset: '-1' },
        ],
      });
      const offsets = await admin.fetchTopicOffsets('dr-kafkajs');
      expect(offsets.sort((a, b) => a.partition - b.partition)).toEqual([
        { partition: 0, offset: '10', high: '10', low: '4' },
        { partition: 1, offset: '5', high: '5', low: '5' },
      ]);

      // Beyond the high watermark: kafkajs reports the broker's OFFSET_OUT_OF_RANGE per partition.
      const err = await admin
        .deleteTopicRecords({ topic: 'dr-kafkajs', partitions: [{ partition: 0, offset: '11' }] })
        .catch((e: unknown) => e);
      // kafkajs's retrier wraps the non-retriable per-partition error.
      expect(err).toMatchObject({ name: 'KafkaJSNonRetriableError' });
      expect((err as Error).cause).toMatchObject({
        name: 'KafkaJSDeleteTopicRecordsError',
        partitions: [{ partition: 0, offset: '11', error: { type: 'OFFSET_OUT_OF_RANGE' } }],
      });
      // An offset below the current log start deletes nothing and is no error.
      await admin.deleteTopicRecords({ topic: 'dr-kafkajs', partitions: [{ partition: 0, offset: '2' }] });
      const again = await admin.fetchTopicOffsets('dr-kafkajs');
      expect(again.find((o) => o.partition === 0)).toMatchObject({ low: '4', high: '10' });
    } finally {
      await admin.disconnect();
    }
  });
});

describe('DeleteRecords with @platformatic/kafka', () => {
  it('answers the new low watermark per partition (v2)', async () => {
    await createTopic('dr-platformatic', 1);
    await append('dr-platformatic', 0, 7);
    const admin = new PlatformaticAdmin({
      clientId: 'samsa-test',
      bootstrapBrokers: [broker.bootstrap],
      retries: 0,
    });
    try {
      const result = await admin.deleteRecords({
        topics: [{ name: 'dr-platformatic', partitions: [{ partition: 0, offset: 3n }] }],
      });
      expect(result).toEqual([{ name: 'dr-platformatic', partitions: [{ partition: 0, lowWatermark: 3n }] }]);
      const all = await admin.deleteRecords({
        topics: [{ name: 'dr-platformatic', partitions: [{ partition: 0, offset: -1n }] }],
      });
      expect(all).toEqual([{ name: 'dr-platformatic', partitions: [{ partition: 0, lowWatermark: 7n }] }]);
      expect(logOf('dr-platformatic', 0).logStartOffset).toBe(7n);
    } finally {
      await admin.close();
    }
  });
});

// librdkafka's DeleteRecords through its C API: the library under Debian's confluent-kafka-python
// (whose 1.7.0 binding predates AdminClient.delete_records). Prints one JSON line of results.
const LIBRDKAFKA_DELETE_RECORDS = `
import ctypes, json, sys
lib = ctypes.CDLL('librdkafka.so.1')
class TP(ctypes.Structure):
    _fields_ = [('topic', ctypes.c_char_p), ('partition', ctypes.c_int32), ('offset', ctypes.c_int64),
                ('metadata', ctypes.c_void_p), ('metadata_size', ctypes.c_size_t),
                ('opaque', ctypes.c_void_p), ('err', ctypes.c_int), ('_private', ctypes.c_void_p)]
class TPL(ctypes.Structure):
    _fields_ = [('cnt', ctypes.c_int), ('size', ctypes.c_int), ('elems', ctypes.POINTER(TP))]
vp, cp = ctypes.c_void_p, ctypes.c_char_p
def sig(name, res, *args):
    f = getattr(lib, name); f.restype = res; f.argtypes = list(args); return f
conf_new = sig('rd_kafka_conf_new', vp)
conf_set = sig('rd_kafka_conf_set', ctypes.c_int, vp, cp, cp, cp, ctypes.c_size_t)
kafka_new = sig('rd_kafka_new', vp, ctypes.c_int, vp, cp, ctypes.c_size_t)
tpl_new = sig('rd_kafka_topic_partition_list_new', ctypes.POINTER(TPL), ctypes.c_int)
tpl_add = sig('rd_kafka_topic_partition_list_add', ctypes.POINTER(TP), ctypes.POINTER(TPL), cp, ctypes.c_int32)
dr_new = sig('rd_kafka_DeleteRecords_new', vp, ctypes.POINTER(TPL))
queue_new = sig('rd_kafka_queue_new', vp, vp)
delete_records = sig('rd_kafka_DeleteRecords', None, vp, ctypes.POINTER(vp), ctypes.c_size_t, vp, vp)
queue_poll = sig('rd_kafka_queue_poll', vp, vp, ctypes.c_int)
event_error = sig('rd_kafka_event_error', ctypes.c_int, vp)
event_error_string = sig('rd_kafka_event_error_string', cp, vp)
event_result = sig('rd_kafka_event_DeleteRecords_result', vp, vp)
result_offsets = sig('rd_kafka_DeleteRecords_result_offsets', ctypes.POINTER(TPL), vp)
err2name = sig('rd_kafka_err2name', cp, ctypes.c_int)
bootstrap, topic = sys.argv[1], sys.argv[2]
errstr = ctypes.create_string_buffer(512)
conf = conf_new()
conf_set(conf, b'bootstrap.servers', bootstrap.encode(), errstr, 512)
rk = kafka_new(0, conf, errstr, 512)
offsets = tpl_new(4)
for spec in sys.argv[3:]:
    p, o = spec.split(':')
    tpl_add(offsets, topic.encode(), int(p)).contents.offset = int(o)
dr = dr_new(offsets)
q = queue_new(rk)
delete_records(rk, (vp * 1)(dr), 1, None, q)
while True:
    ev = queue_poll(q, 10000)
    if not ev: print(json.dumps({'error': 'timed out'})); sys.exit(1)
    res = event_result(ev)
    if res: break
if event_error(ev):
    print(json.dumps({'error': err2name(event_error(ev)).decode(), 'message': event_error_string(ev).decode()}))
else:
    l = result_offsets(res).contents
    print(json.dumps([{'partition': l.elems[i].partition, 'offset': l.elems[i].offset,
                       'error': err2name(l.elems[i].err).decode()} for i in range(l.cnt)]))
`;

function runPython(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, ['-c', LIBRDKAFKA_DELETE_RECORDS, ...args]);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))(
  'DeleteRecords with librdkafka (the C library of confluent-kafka-python)',
  () => {
    it('deletes, and reports OFFSET_OUT_OF_RANGE per partition', async () => {
      await createTopic('dr-librdkafka', 3);
      await append('dr-librdkafka', 0, 6);
      await append('dr-librdkafka', 1, 4);
      const r = await runPython([broker.bootstrap, 'dr-librdkafka', '0:5', '1:-1', '2:3']);
      expect(r.code, r.stderr).toBe(0);
      const results = (JSON.parse(r.stdout) as { partition: number }[]).sort(
        (a, b) => a.partition - b.partition,
      );
      expect(results).toEqual([
        { partition: 0, offset: 5, error: 'NO_ERROR' },
        { partition: 1, offset: 4, error: 'NO_ERROR' },
        // Partition 2 is empty: offset 3 is past its high watermark of 0.
        { partition: 2, offset: -1, error: 'OFFSET_OUT_OF_RANGE' },
      ]);
      expect(logOf('dr-librdkafka', 0).logStartOffset).toBe(5n);
      expect(logOf('dr-librdkafka', 1).logStartOffset).toBe(4n);
    });
  },
);

describe('DeleteRecords edge cases (raw requests)', () => {
  beforeAll(async () => {
    await createTopic('dr-raw', 2);
    await createTopic('dr-compacted', 1, { 'cleanup.policy': 'compact' });
    await createTopic('__transaction_state', 1);
    await append('dr-raw', 0, 10);
    await append('dr-compacted', 0, 2);
  });

  it('answers every error as Kafka, at every served version', async () => {
    for (const version of [0, 1, 2]) {
      const start = logOf('dr-raw', 0).logStartOffset;
      const r = await deleteRecords(version, [
        {
          name: 'dr-raw',
          partitions: [
            { partitionIndex: 0, offset: -2n }, // negative and not -1
            { partitionIndex: 1, offset: 1n }, // beyond an empty partition's high watermark
            { partitionIndex: 7, offset: 0n }, // no such partition
          ],
        },
        { name: 'dr-nope', partitions: [{ partitionIndex: 0, offset: 0n }] },
        { name: 'dr-compacted', partitions: [{ partitionIndex: 0, offset: 1n }] },
        { name: '__transaction_state', partitions: [{ partitionIndex: 0, offset: 0n }] },
      ]);
      expect(r.topics).toEqual([
        {
          name: 'dr-raw',
          partitions: [
            { partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE },
            { partitionIndex: 1, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE },
            { partitionIndex: 7, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
          ],
        },
        {
          name: 'dr-nope',
          partitions: [
            { partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
          ],
        },
        {
          name: 'dr-compacted',
          partitions: [{ partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.POLICY_VIOLATION }],
        },
        {
          // Internal topics are refused to clients (Kafka's allowInternalTopicDeletion = false).
          name: '__transaction_state',
          partitions: [
            { partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION },
          ],
        },
      ]);
      expect(logOf('dr-raw', 0).logStartOffset).toBe(start);
    }
    expect(logOf('dr-compacted', 0).logStartOffset).toBe(0n);
  });

  it('moves the start up only, answers one result per partition, and persists the new start', async () => {
    const r = await deleteRecords(2, [
      {
        name: 'dr-raw',
        partitions: [
          { partitionIndex: 0, offset: 9n },
          { partitionIndex: 0, offset: 3n }, // the same partition again: the last offset counts
        ],
      },
    ]);
    expect(r.topics).toEqual([
      { name: 'dr-raw', partitions: [{ partitionIndex: 0, lowWatermark: 3n, errorCode: ErrorCode.NONE }] },
    ]);
    const lower = await deleteRecords(1, [
      { name: 'dr-raw', partitions: [{ partitionIndex: 0, offset: 1n }] },
    ]);
    expect(lower.topics[0].partitions[0]).toEqual({ partitionIndex: 0, lowWatermark: 3n, errorCode: 0 });
    // Written to log-start-offset-checkpoint before the answer (Kafka's format: topic partition offset).
    const checkpoint = join(dir, 'log-start-offset-checkpoint');
    expect(existsSync(checkpoint)).toBe(true);
    expect(readFileSync(checkpoint, 'utf8').split('\n')).toContain('dr-raw 0 3');

    // ListOffsets(earliest) and a Fetch below the new start agree with it.
    const lo = await call(ApiKey.ListOffsets, 7, ListOffsetsRequest, ListOffsetsResponse, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: 'dr-raw',
          partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -2n, maxNumOffsets: 1 }],
        },
      ],
      timeoutMs: 0,
    });
    expect(lo.topics[0].partitions[0]).toMatchObject({ errorCode: 0, offset: 3n });
    const f = await fetch(0n, 0);
    expect(f.responses[0].partitions[0]).toMatchObject({
      errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
      logStartOffset: 3n,
      highWatermark: 10n,
    });
  });

  it('wakes long-polling fetches of the partition, which keep waiting for data past the new start', async () => {
    const notify = vi.spyOn(broker.services.replicaManager.watchers, 'notify');
    const c = await RawClient.connect(broker.port);
    try {
      // A consumer waiting at the high watermark (10) for new data.
      const pending = fetch(10n, 10_000, c);
      await new Promise((r) => setTimeout(r, 100));
      const r = await deleteRecords(2, [
        { name: 'dr-raw', partitions: [{ partitionIndex: 0, offset: -1n }] },
      ]);
      expect(r.topics[0].partitions[0]).toEqual({ partitionIndex: 0, lowWatermark: 10n, errorCode: 0 });
      expect(notify).toHaveBeenCalledWith('dr-raw-0');
      await append('dr-raw', 0, 1);
      const f = await pending;
      expect(f.responses[0].partitions[0]).toMatchObject({
        errorCode: 0,
        logStartOffset: 10n,
        highWatermark: 11n,
      });
      expect(f.responses[0].partitions[0].records?.length ?? 0).toBeGreaterThan(0);
    } finally {
      notify.mockRestore();
      c.close();
    }
  });
});

function fetch(offset: bigint, maxWaitMs: number, client?: RawClient): Promise<FetchResponse> {
  return call(
    ApiKey.Fetch,
    12,
    FetchRequest,
    FetchResponse,
    {
      clusterId: null,
      replicaId: -1,
      replicaState: { replicaId: -1, replicaEpoch: -1n },
      maxWaitMs,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 'dr-raw',
          topicId: ZERO_UUID,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: offset,
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: 1 << 20,
              replicaDirectoryId: ZERO_UUID,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    },
    client,
  );
}
