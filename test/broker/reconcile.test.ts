// Regression: a topic deleted and re-created under the same name between two reconciles once kept
// the old topic's log (getOrCreateLog found it by name), so the new topic showed the old records.

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startBroker } from '../../src/broker/broker.js';
import { encodeRecordBatch } from '../../src/protocol/records/index.js';

const createTopic = (name: string) => ({
  timeoutMs: 0,
  validateOnly: false,
  topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
});

describe('reconcile', () => {
  it('gives a re-created topic a fresh log even when delete and create land in one reconcile', async () => {
    const broker = await startBroker({ logger: pino({ level: 'silent' }) });
    try {
      const { services } = broker;
      await services.runMetadataOp((c) => c.createTopics(createTopic('again')));
      const old = services.replicaManager.get('again', 0)!;
      const appended = services.replicaManager.append(
        old,
        encodeRecordBatch([{ value: Buffer.from('old') }]),
      );
      await appended.durable;
      expect(old.log.highWatermark).toBe(1n);
      // Both operations go through the metadata log before any reconcile runs.
      await services.metadata.submit((c) =>
        c.deleteTopics({ topics: [], topicNames: ['again'], timeoutMs: 0 }),
      );
      await services.metadata.submit((c) => c.createTopics(createTopic('again')));
      await broker.reconcile();
      const fresh = services.replicaManager.get('again', 0)!;
      expect(fresh.topicId).not.toBe(old.topicId);
      expect(fresh.topicId).toBe(services.metadata.image.topic('again')!.id);
      expect(fresh.log.logEndOffset).toBe(0n);
    } finally {
      await broker.stop();
    }
  });
});
