import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ApiMessageAndVersion,
  ConfigResourceType,
  configRecord,
  decodeMetadataRecord,
  encodeMetadataRecord,
  featureLevelRecord,
  METADATA_TOPIC_ID,
  partitionChangeRecord,
  partitionRecord,
  producerIdsRecord,
  randomTopicId,
  removeTopicRecord,
  topicRecord,
} from '../../src/metadata/records.js';
import { TopicRecord } from '../../src/protocol/generated/index.js';
import { ZERO_UUID } from '../../src/protocol/message.js';
import { DecodeError } from '../../src/protocol/primitives/reader.js';
import { registration } from './helpers.js';

const ID = 'AAECAwQFBgcICQoLDA0ODw';

const samples: ApiMessageAndVersion[] = [
  topicRecord('orders', ID),
  partitionRecord({
    partitionId: 3,
    topicId: ID,
    replicas: [1, 2],
    isr: [1],
    removingReplicas: [],
    addingReplicas: [],
    leader: 1,
    leaderRecoveryState: 0,
    leaderEpoch: 4,
    partitionEpoch: 7,
    directories: [],
    eligibleLeaderReplicas: null,
    lastKnownElr: null,
  }),
  partitionChangeRecord(ID, 3, { isr: [1, 2], leader: 2 }),
  configRecord(ConfigResourceType.TOPIC, 'orders', 'retention.ms', '1000'),
  configRecord(ConfigResourceType.TOPIC, 'orders', 'retention.ms', null),
  removeTopicRecord(ID),
  featureLevelRecord('metadata.version', 27),
  producerIdsRecord(1, 5n, 2000n),
  registration(1),
];

describe('MetadataRecordSerde', () => {
  it('frames a record as [frame version 1][type][version][body]', () => {
    const bytes = encodeMetadataRecord(topicRecord('t', ID));
    expect([...bytes.subarray(0, 3)]).toEqual([1, 2, 0]);
    expect(bytes.subarray(3)).toEqual(TopicRecord.encode({ name: 't', topicId: ID }, 0));
  });

  it('round-trips every record type the controller writes', () => {
    for (const r of samples) {
      const back = decodeMetadataRecord(encodeMetadataRecord(r));
      expect(back.type).toBe(r.type);
      expect(back.version).toBe(r.version);
      expect(back.message).toMatchObject(r.message as object);
    }
  });

  it('rejects an unknown frame version, record type or record version', () => {
    const good = encodeMetadataRecord(topicRecord('t', ID));
    const badFrame = Buffer.from(good);
    badFrame[0] = 2;
    expect(() => decodeMetadataRecord(badFrame)).toThrow(/unknown frame version 2/);
    const badType = Buffer.from(good);
    badType[1] = 6; // type 6 does not exist
    expect(() => decodeMetadataRecord(badType)).toThrow(DecodeError);
    const badVersion = Buffer.from(good);
    badVersion[2] = 9;
    expect(() => decodeMetadataRecord(badVersion)).toThrow(DecodeError);
    expect(() => decodeMetadataRecord(good.subarray(0, good.length - 1))).toThrow(DecodeError);
  });

  it('uses multi-byte varints for large record types and versions', () => {
    // Type 27 fits in one byte; a varint-encoded frame of a type above 127 is still parsed as a varint.
    const bytes = Buffer.from([1, 0x80, 0x01, 0]);
    expect(() => decodeMetadataRecord(bytes)).toThrow(/unknown metadata record type 128/);
  });
});

describe('randomTopicId', () => {
  it('is a 22-character uuid, never zero, the metadata topic id, or starting with "-"', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = randomTopicId();
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(id.startsWith('-')).toBe(false);
      ids.add(id);
    }
    expect(ids.size).toBe(1000);
  });

  it('skips the reserved ids and ids starting with "-"', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const queue = [
          Buffer.alloc(16), // zero
          Buffer.from(METADATA_TOPIC_ID, 'base64url'),
          Buffer.from([0xfb, ...new Array(15).fill(0)]), // base64url "-w..."
          Buffer.from(bytes),
        ];
        const id = randomTopicId((n) => queue.shift() ?? randomBytes(n));
        expect(id).not.toBe(ZERO_UUID);
        expect(id).not.toBe(METADATA_TOPIC_ID);
        expect(id.startsWith('-')).toBe(false);
      }),
    );
  });
});
