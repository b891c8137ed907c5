// The config registry as a real client sees it: confluent-kafka-python (librdkafka) describes a
// topic and the broker of an in-process Samsa started with static log.retention.ms and
// log.retention.minutes and a name Samsa does not know. The script in python/configs.py reports what it saw.

import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { hasConfluentKafka, PYTHON, requireClient, run } from '../helpers/tools.js';

// librdkafka's ConfigSource numbering is Kafka's: 4 STATIC_BROKER_CONFIG, 5 DEFAULT_CONFIG.
const STATIC = 4;
const DEFAULT = 5;

describe.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))(
  'DescribeConfigs through confluent-kafka-python',
  () => {
    let broker: Broker;

    beforeAll(async () => {
      broker = await startBroker({
        config: {
          'log.retention.ms': '240000',
          'log.retention.minutes': '5',
          'zookeeper.connect': 'localhost:2181',
        },
        logger: pino({ level: 'silent' }),
      });
    });

    afterAll(async () => {
      await broker?.stop();
    });

    it("reports values, sources and synonyms in Kafka's order, and read-only flags", async () => {
      const r = await run(PYTHON, [join(import.meta.dirname, 'python', 'configs.py'), broker.bootstrap]);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      // retention.ms takes log.retention.ms over log.retention.minutes over log.retention.hours.
      expect(out.topic['retention.ms']).toMatchObject({
        value: '240000',
        source: STATIC,
        synonyms: [
          ['log.retention.ms', '240000', STATIC],
          ['log.retention.minutes', '5', STATIC],
          ['log.retention.hours', '168', DEFAULT],
        ],
      });
      // Samsa's fsync-before-ack default; its broker synonym is unset, so none is shown.
      expect(out.topic['flush.messages']).toMatchObject({ value: '1', source: DEFAULT, synonyms: [] });
      // Kafka's quirk: while the first synonym (log.roll.ms) is unset, none is shown, although
      // log.roll.hours supplies the value.
      expect(out.topic['segment.ms']).toMatchObject({ value: '604800000', source: DEFAULT, synonyms: [] });
      expect(out.broker['log.retention.minutes']).toMatchObject({
        value: '5',
        read_only: false,
        source: STATIC,
      });
      expect(out.broker['log.flush.interval.messages']).toMatchObject({ value: null, read_only: false });
      expect(out.broker.listeners).toMatchObject({ value: 'PLAINTEXT://127.0.0.1:0', read_only: true });
      expect(out.broker['listener.security.protocol.map']).toMatchObject({
        value: 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
        read_only: true,
        source: DEFAULT,
      });
      // A name Samsa does not know is listed as Kafka lists it: sensitive, no value.
      expect(out.broker['zookeeper.connect']).toMatchObject({ value: null, sensitive: true, source: STATIC });
    });
  },
);
