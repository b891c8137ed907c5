// Log compaction seen through kcat: 100,000 updates over 1,000 keys to a compacted topic, the
// last update of 100 keys a tombstone. Once the cleaner has run, a consumer from offset 0 sees each
// key exactly once with its latest value (tombstones included: delete.retention.ms has not passed),
// at increasing offsets with gaps where older updates were removed.
//
// The cleaner never reads the active segment (its records supersede nothing, as in Kafka), so after
// the updates one more record, under a key of its own, is produced after a pause longer than
// segment.ms: it rolls a new active segment, and every update is then in a segment the cleaner may
// clean. Once it has, the log holds exactly one record per key, plus that last record.

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { hasKcat, requireClient, run } from '../helpers/tools.js';

const KEYS = 1000;
const UPDATES = 100_000;
const TOMBSTONES = 100;

const kcat = (args: string[], input?: string) => run('kcat', args, input);

describe.skipIf(!requireClient('kcat', hasKcat))('log compaction (kcat)', () => {
  let broker: Broker;

  beforeAll(async () => {
    broker = await startBroker({
      config: { 'log.cleaner.backoff.ms': '100' },
      logger: pino({ level: 'silent' }),
    });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('keeps the latest record per key and live tombstones; a consumer from 0 sees every latest value', async () => {
    const { KafkaRpc } = await import('../helpers/kafka-rpc.js');
    const rpc = await KafkaRpc.connect(broker.port);
    const created = await rpc.createTopic('compacted', 1, {
      'cleanup.policy': 'compact',
      'segment.bytes': '1048576', // Kafka's smallest
      'segment.ms': '500',
      'min.cleanable.dirty.ratio': '0.01',
    });
    rpc.close();
    expect(created.errorCode).toBe(0);

    // key i % KEYS gets update i; in the last round, keys below TOMBSTONES get a tombstone (an
    // empty value, which -Z sends as NULL).
    const lines: string[] = [];
    for (let i = 0; i < UPDATES; i++) {
      const key = i % KEYS;
      const last = i >= UPDATES - KEYS;
      lines.push(`k${key}:${last && key < TOMBSTONES ? '' : `v${i}`}`);
    }
    const produce = async (part: string[]) => {
      const r = await kcat(
        ['-b', broker.bootstrap, '-P', '-t', 'compacted', '-p', '0', '-K', ':', '-Z', '-X', 'linger.ms=20'],
        `${part.join('\n')}\n`,
      );
      expect(r.code, r.stderr).toBe(0);
    };
    await produce(lines);
    await new Promise((r) => setTimeout(r, 700));
    await produce(['roll:over']);

    const consume = async () => {
      const r = await kcat([
        '-b',
        broker.bootstrap,
        '-C',
        '-t',
        'compacted',
        '-o',
        'beginning',
        '-e',
        '-Z',
        '-f',
        '%o %k %s\n',
      ]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string, string]);
    };
    // The cleaner runs in the background every log.cleaner.backoff.ms: wait until it has cleaned.
    let records = await consume();
    const deadline = Date.now() + 60_000;
    while (records.length !== KEYS + 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      records = await consume();
    }
    expect(records).toHaveLength(KEYS + 1);
    expect(records.at(-1)).toEqual([String(UPDATES), 'roll', 'over']);
    records.pop();
    const latest = new Map<string, string>();
    for (let i = 0; i < UPDATES; i++) {
      const key = i % KEYS;
      latest.set(`k${key}`, i >= UPDATES - KEYS && key < TOMBSTONES ? 'NULL' : `v${i}`);
    }
    const seen = new Map(records.map(([, k, v]) => [k, v]));
    expect(seen).toEqual(latest);
    // Offsets are the original ones: increasing, the last one UPDATES - 1.
    const offsets = records.map(([o]) => Number(o));
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(offsets.at(-1)).toBe(UPDATES - 1);
    expect(records.filter(([, , v]) => v === 'NULL')).toHaveLength(TOMBSTONES);
  }, 120_000);
});
