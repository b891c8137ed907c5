// The coordinators' topics (__consumer_offsets, __transaction_state) cannot be deleted: on the
// wire (DeleteTopics v6 by name and by id: TOPIC_DELETION_DISABLED; v1: INVALID_REQUEST), through
// kafkajs's admin client and through `samsa topic delete`. Growing them and changing their configs
// stay allowed, as in Kafka. Also: AlterConfigs / IncrementalAlterConfigs on a missing topic
// answer UNKNOWN_TOPIC_OR_PARTITION whatever the configs, on the wire and through kafkajs.

import { Readable } from 'node:stream';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/commands.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/api-keys.js';
import {
  AlterConfigsRequest,
  AlterConfigsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
} from '../../src/protocol/generated/index.js';
import { ZERO_UUID } from '../../src/protocol/message.js';
import { startTestBroker, type TestBroker } from '../compat/node-helpers.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';
import { hasConfluentKafka, PYTHON, requireClient, run } from '../helpers/tools.js';

const TOPIC = 2;
let tb: TestBroker;
let rpc: KafkaRpc;

beforeAll(async () => {
  tb = await startTestBroker('internal');
  await tb.broker.services.ensureOffsetsTopic();
  await tb.broker.services.ensureTransactionTopic();
  rpc = await KafkaRpc.connect(tb.broker.port);
});

afterAll(async () => {
  rpc?.close();
  await tb?.stop();
});

function deleteTopics(version: number, body: DeleteTopicsRequest): Promise<DeleteTopicsResponse> {
  return rpc.request(ApiKey.DeleteTopics, version, DeleteTopicsRequest, DeleteTopicsResponse, body);
}

const message = (name: string) => `Topic ${name} is a Kafka internal topic and is not allowed to be deleted.`;

describe('internal topics', () => {
  it('DeleteTopics v6 refuses them by name and by id with TOPIC_DELETION_DISABLED', async () => {
    const id = tb.broker.services.metadata.image.topic('__consumer_offsets')?.id as string;
    const byName = await deleteTopics(6, {
      topics: [
        { name: '__consumer_offsets', topicId: ZERO_UUID },
        { name: '__transaction_state', topicId: ZERO_UUID },
      ],
      topicNames: [],
      timeoutMs: 10_000,
    });
    expect(byName.responses.map((r) => [r.name, r.errorCode, r.errorMessage])).toEqual([
      ['__consumer_offsets', ErrorCode.TOPIC_DELETION_DISABLED, message('__consumer_offsets')],
      ['__transaction_state', ErrorCode.TOPIC_DELETION_DISABLED, message('__transaction_state')],
    ]);
    const byId = await deleteTopics(6, {
      topics: [{ name: null, topicId: id }],
      topicNames: [],
      timeoutMs: 10_000,
    });
    expect(byId.responses[0]).toMatchObject({
      name: '__consumer_offsets',
      errorCode: ErrorCode.TOPIC_DELETION_DISABLED,
    });
    const md = await rpc.metadata(['__consumer_offsets', '__transaction_state']);
    expect(md.topics.map((t) => [t.name, t.errorCode, t.partitions.length > 0])).toEqual([
      ['__consumer_offsets', 0, true],
      ['__transaction_state', 0, true],
    ]);
  });

  it('DeleteTopics v1 gets TOPIC_DELETION_DISABLED too, and deletes the others', async () => {
    expect((await rpc.createTopic('plain', 1)).errorCode).toBe(0);
    const res = await deleteTopics(1, {
      topics: [],
      topicNames: ['__consumer_offsets', 'plain'],
      timeoutMs: 10_000,
    });
    expect(res.responses.map((r) => [r.name, r.errorCode])).toEqual([
      ['__consumer_offsets', ErrorCode.TOPIC_DELETION_DISABLED],
      ['plain', ErrorCode.NONE],
    ]);
  });

  it.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))(
    'confluent-kafka-python delete_topics gets TOPIC_DELETION_DISABLED',
    async () => {
      const script = [
        'import sys',
        'from confluent_kafka.admin import AdminClient',
        'a = AdminClient({"bootstrap.servers": sys.argv[1]})',
        'for t, f in a.delete_topics(["__consumer_offsets"], operation_timeout=10).items():',
        '    try:',
        '        f.result()',
        '        print("deleted")',
        '    except Exception as e:',
        '        err = e.args[0]',
        '        print(err.name(), err.str(), sep="|")',
      ].join('\n');
      const r = await run(PYTHON, ['-c', script, tb.broker.bootstrap]);
      expect(r.stderr).toBe('');
      // librdkafka sends DeleteTopics v1, which has no error message: the code says it all.
      expect(r.stdout.trim()).toMatch(/^TOPIC_DELETION_DISABLED\|/);
    },
  );

  it('kafkajs admin.deleteTopics (DeleteTopics v1) is refused, while growing and configuring stay allowed', async () => {
    const kafka = new Kafka({
      clientId: 'samsa-internal',
      brokers: [tb.broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 1, initialRetryTime: 50 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const err = await admin.deleteTopics({ topics: ['__transaction_state'] }).then(
        () => null,
        (e: unknown) => e as { type?: string; message?: string },
      );
      // kafkajs speaks DeleteTopics v0-1, which predate TOPIC_DELETION_DISABLED: it knows the code.
      expect(err?.type).toBe('TOPIC_DELETION_DISABLED');
      expect((await admin.listTopics()).includes('__transaction_state')).toBe(true);

      // Kafka allows these on an internal topic; so does Samsa.
      const before = tb.broker.services.metadata.image.topic('__transaction_state')?.partitions.size ?? 0;
      await admin.createPartitions({
        topicPartitions: [{ topic: '__transaction_state', count: before + 1 }],
      });
      expect(tb.broker.services.metadata.image.topic('__transaction_state')?.partitions.size).toBe(
        before + 1,
      );
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: '__consumer_offsets',
            configEntries: [{ name: 'segment.bytes', value: '10485760' }],
          },
        ],
      });
      expect(tb.broker.services.metadata.image.topicConfigs('__consumer_offsets').get('segment.bytes')).toBe(
        '10485760',
      );
    } finally {
      await admin.disconnect();
    }
  });

  it('`samsa topic delete __consumer_offsets` fails with one line and exit code 1', async () => {
    let stdout = '';
    let stderr = '';
    const code = await main(['-b', tb.broker.bootstrap, 'topic', 'delete', '__consumer_offsets'], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      stdin: Readable.from([]),
      env: {},
    });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      "samsa: cannot delete topic '__consumer_offsets': Topic __consumer_offsets is a Kafka internal topic and is not allowed to be deleted.\n",
    );
    expect(tb.broker.services.metadata.image.topic('__consumer_offsets')).toBeDefined();
  });
});

describe('delete.topic.enable=false', () => {
  it('answers TOPIC_DELETION_DISABLED from v3 and INVALID_REQUEST below, as Kafka', async () => {
    const off = await startTestBroker('no-delete', { 'delete.topic.enable': 'false' });
    const c = await KafkaRpc.connect(off.broker.port);
    try {
      expect((await c.createTopic('kept', 1)).errorCode).toBe(0);
      const codes = [];
      for (const version of [1, 2, 3, 6]) {
        const res = await c.request(ApiKey.DeleteTopics, version, DeleteTopicsRequest, DeleteTopicsResponse, {
          topics: version >= 6 ? [{ name: 'kept', topicId: ZERO_UUID }] : [],
          topicNames: version >= 6 ? [] : ['kept'],
          timeoutMs: 10_000,
        });
        codes.push(res.responses[0].errorCode);
      }
      expect(codes).toEqual([
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.TOPIC_DELETION_DISABLED,
        ErrorCode.TOPIC_DELETION_DISABLED,
      ]);
    } finally {
      c.close();
      await off.stop();
    }
  });
});

describe('AlterConfigs / IncrementalAlterConfigs on a missing topic', () => {
  it('answer UNKNOWN_TOPIC_OR_PARTITION before validating config names and values', async () => {
    for (const [name, value] of [
      ['no.such.config', '1'],
      ['retention.ms', 'not-a-number'],
      ['retention.ms', '1000'],
    ]) {
      const inc = await rpc.request(
        ApiKey.IncrementalAlterConfigs,
        1,
        IncrementalAlterConfigsRequest,
        IncrementalAlterConfigsResponse,
        {
          resources: [
            { resourceType: TOPIC, resourceName: 'missing', configs: [{ name, configOperation: 0, value }] },
          ],
          validateOnly: false,
        },
      );
      expect(inc.responses[0]).toMatchObject({
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: "The topic 'missing' does not exist.",
      });
      const legacy = await rpc.request(ApiKey.AlterConfigs, 2, AlterConfigsRequest, AlterConfigsResponse, {
        resources: [{ resourceType: TOPIC, resourceName: 'missing', configs: [{ name, value }] }],
        validateOnly: true,
      });
      expect(legacy.responses[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    }
  });

  it('kafkajs alterConfigs of an unknown config on a missing topic reports the missing topic', async () => {
    const kafka = new Kafka({
      clientId: 'samsa-internal',
      brokers: [tb.broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const err = await admin
        .alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: ConfigResourceTypes.TOPIC,
              name: 'missing',
              configEntries: [{ name: 'no.such', value: '1' }],
            },
          ],
        })
        .then(
          () => null,
          (e: unknown) => e as { type?: string },
        );
      expect(err?.type).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    } finally {
      await admin.disconnect();
    }
  });
});
