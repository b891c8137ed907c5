// Regression (docs/RELIABILITY.md, finding 1): a send() still waiting for its topic's first
// metadata must not be overtaken by later send()s that find the metadata cached. Kafka's producer
// appends records to the accumulator in call order; so must Samsa's.

import { describe, expect, it } from 'vitest';
import { Admin } from '../../src/client/admin.js';
import { Producer } from '../../src/client/producer.js';
import { testBroker } from './helpers.js';

describe('producer send order', () => {
  it('keeps call order per partition when the first send waits for metadata', async () => {
    // No auto-creation: the first send() polls (with a long backoff) until the topic exists.
    const broker = await testBroker({ 'auto.create.topics.enable': 'false' });
    const admin = new Admin({ brokers: broker.bootstrap });
    const p = new Producer({
      brokers: broker.bootstrap,
      idempotent: true,
      lingerMs: 0,
      retryBackoffMs: 2000,
    });
    try {
      const topic = 'order-new';
      const sends = [p.send({ topic, messages: [{ value: 'r0', partition: 0 }] })];
      // Let the first send's metadata request answer "unknown topic", so it sleeps its backoff.
      await new Promise((r) => setTimeout(r, 300));
      await admin.createTopics([{ name: topic, numPartitions: 1, replicationFactor: 1 }]);
      // Fill the producer's cache while the first send still sleeps: later sends find the
      // metadata at once, which is how they overtook it before the fix.
      // (A refresh, not waitForTopics, which would sleep the same long backoff.)
      while (!p.cluster.topic(topic)?.partitions.length) await p.cluster.refreshMetadata();
      for (let i = 1; i < 20; i++)
        sends.push(p.send({ topic, messages: [{ value: `r${i}`, partition: 0 }] }));
      const offsets = (await Promise.all(sends)).map(([m]) => Number(m.offset));
      expect(offsets).toEqual(offsets.map((_, i) => i));
    } finally {
      await p.close();
      await admin.close();
      await broker.stop();
    }
  }, 60_000);
});
