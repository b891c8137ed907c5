// confluent-kafka-python (Debian's python3-confluent-kafka, librdkafka underneath) against an
// in-process Samsa broker: the script in python/basics.py reports what it saw; this checks it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { hasConfluentKafka, PYTHON, requireClient, run } from '../helpers/tools.js';

const runPython = (script: string, args: string[]) =>
  run(PYTHON, [join(import.meta.dirname, 'python', script), ...args]);

describe.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))('confluent-kafka-python', () => {
  let broker: Broker;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samsa-py-'));
    broker = await startBroker({
      config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir },
      logger: pino({ level: 'silent' }),
    });
  });

  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('administers topics, produces with acks=all and consumes by assign', async () => {
    const r = await runPython('basics.py', [broker.bootstrap]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    // librdkafka names error 17 (Kafka's INVALID_TOPIC_EXCEPTION) TOPIC_EXCEPTION.
    expect(out.create).toEqual({
      'py-topic': 'ok',
      'bad/name': 'TOPIC_EXCEPTION',
      'py-badconf': 'INVALID_CONFIG',
    });
    expect(out.create_again).toBe('TOPIC_ALREADY_EXISTS');
    // Sources: 1 is DYNAMIC_TOPIC_CONFIG, 5 is DEFAULT_CONFIG.
    expect(out.describe).toEqual({ 'retention.ms': ['3600000', 1], 'cleanup.policy': ['delete', 5] });
    expect(out.altered).toEqual({ 'retention.ms': '7200000', 'segment.bytes': '1048576' });
    expect(out.shrink).toBe('INVALID_PARTITIONS');
    expect(out.partitions).toBe(5);
    expect(out.brokers).toEqual([[1, '127.0.0.1', broker.port]]);
    expect(out.delivered).toBe(1000);
    expect(out.delivery_errors).toEqual([]);
    expect(out.offsets_per_partition).toEqual([
      [0, 199],
      [1, 199],
      [2, 199],
      [3, 199],
      [4, 199],
    ]);
    // Partition 2 holds i = 2, 7, 12, ...; offset 150 is i = 752.
    expect(out.consumed_from_150[0]).toEqual([150, 'k752', 'v752', 1_700_000_000_752]);
    expect(out.consumed_count).toBe(50);
    // Partition 0 holds i = 0, 5, ...: the first at or after +500 is i = 500, offset 100.
    expect(out.offsets_for_times).toEqual([100, -1]);
    expect(out.watermarks).toEqual([0, 200]);
    expect(out.delete_again).toBe('UNKNOWN_TOPIC_OR_PART'); // librdkafka's name for error 3
    expect(out.after_delete).toBe(false);
  });
});
