// Random sequences of admin operations against the metadata manager, checked after every step
// against a simple model and the image's invariants, and finally against a replay of the log.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokerConfig } from '../../src/broker/config.js';
import { AlterConfigOp } from '../../src/metadata/controller.js';
import { MetadataImage } from '../../src/metadata/image.js';
import { MetadataManager } from '../../src/metadata/manager.js';
import { InMemoryMetadataLog } from '../../src/metadata/metadata-log.js';
import { ConfigResourceType } from '../../src/metadata/records.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { createTopics, registration, topic, uuidSequence } from './helpers.js';

const names = fc.constantFrom('a', 'b', 'c.d', 'c_d', 'e-f', 'bad name', '');

type Op =
  | { kind: 'create'; name: string; partitions: number; rf: number; validateOnly: boolean }
  | { kind: 'delete'; name: string }
  | { kind: 'grow'; name: string; count: number }
  | { kind: 'config'; name: string; key: string; op: number; value: string };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('create' as const),
    name: names,
    partitions: fc.integer({ min: -2, max: 4 }),
    rf: fc.integer({ min: -1, max: 3 }),
    validateOnly: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('delete' as const), name: names }),
  fc.record({ kind: fc.constant('grow' as const), name: names, count: fc.integer({ min: 0, max: 8 }) }),
  fc.record({
    kind: fc.constant('config' as const),
    name: names,
    key: fc.constantFrom('retention.ms', 'cleanup.policy', 'segment.bytes', 'nope'),
    op: fc.constantFrom(AlterConfigOp.SET, AlterConfigOp.DELETE, AlterConfigOp.APPEND),
    value: fc.constantFrom('1000', 'compact', 'delete', '-5', '2097152'),
  }),
);

function checkInvariants(image: MetadataImage): void {
  for (const t of image.topics()) {
    expect(image.topicById(t.id)).toBe(t);
    const ids = [...t.partitions.keys()].sort((a, b) => a - b);
    expect(ids).toEqual(ids.map((_, i) => i));
    const rf = t.partitions.get(0)?.replicas.length;
    for (const p of t.partitions.values()) {
      expect(p.replicas.length).toBe(rf);
      expect(new Set(p.replicas).size).toBe(p.replicas.length);
      for (const r of p.replicas) expect(image.broker(r)).toBeDefined();
      for (const r of p.isr) expect(p.replicas).toContain(r);
      expect(p.isr).toContain(p.leader);
    }
  }
}

describe('metadata simulation', () => {
  it('keeps the image consistent with a model and with a replay of its log', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
        const log = new InMemoryMetadataLog();
        const m = new MetadataManager({
          log,
          nodeId: 1,
          config: new BrokerConfig(),
          randomUuid: uuidSequence(),
        });
        await m.start({ endpoints: [{ name: 'PLAINTEXT', host: 'h', port: 1, securityProtocol: 0 }] });
        await log.append([registration(2)]);
        m.image.replay(registration(2));
        const model = new Map<string, number>(); // topic → partition count
        for (const o of ops) {
          if (o.kind === 'create') {
            const res = await m.submit((c) =>
              c.createTopics(createTopics([topic(o.name, o.partitions, o.rf)], o.validateOnly)),
            );
            const ok = res.topics[0].errorCode === ErrorCode.NONE;
            const valid =
              /^[a-zA-Z0-9._-]+$/.test(o.name) &&
              !model.has(o.name) &&
              ![...model.keys()].some(
                (n) => n !== o.name && n.replaceAll('.', '_') === o.name.replaceAll('.', '_'),
              ) &&
              o.partitions !== 0 &&
              o.partitions >= -1 &&
              o.rf !== 0 &&
              o.rf <= 2;
            expect(ok).toBe(valid);
            if (ok && !o.validateOnly) model.set(o.name, o.partitions === -1 ? 1 : o.partitions);
          } else if (o.kind === 'delete') {
            const res = await m.submit((c) =>
              c.deleteTopics({ topics: [], topicNames: [o.name], timeoutMs: 0 }),
            );
            expect(res.responses[0].errorCode === ErrorCode.NONE).toBe(model.has(o.name));
            model.delete(o.name);
          } else if (o.kind === 'grow') {
            const res = await m.submit((c) =>
              c.createPartitions({
                topics: [{ name: o.name, count: o.count, assignments: null }],
                timeoutMs: 0,
                validateOnly: false,
              }),
            );
            const ok = model.has(o.name) && o.count > (model.get(o.name) as number);
            expect(res.results[0].errorCode === ErrorCode.NONE).toBe(ok);
            if (ok) model.set(o.name, o.count);
          } else {
            const res = await m.submit((c) =>
              c.incrementalAlterConfigs({
                validateOnly: false,
                resources: [
                  {
                    resourceType: ConfigResourceType.TOPIC,
                    resourceName: o.name,
                    configs: [{ name: o.key, configOperation: o.op, value: o.value }],
                  },
                ],
              }),
            );
            if (!model.has(o.name)) expect(res.responses[0].errorCode).not.toBe(ErrorCode.NONE);
          }
          checkInvariants(m.image);
          expect(new Map([...m.image.topics()].map((t) => [t.name, t.partitions.size]))).toEqual(model);
          for (const t of m.image.topics()) {
            expect(() => m.controller.effectiveTopicConfig(t.name)).not.toThrow();
          }
        }
        const replayed = new MetadataImage();
        await log.replayAll((r) => replayed.replay(r));
        expect(replayed.toRecords()).toEqual(m.image.toRecords());
      }),
      { numRuns: 150 },
    );
  });
});
