// Metadata records as Kafka's KRaft log carries them: an ApiMessageAndVersion (record type, record
// version, message) serialized by MetadataRecordSerde as
//   [frame version: uvarint = 1][record type: uvarint][record version: uvarint][record body]
// so that the bytes are those of a record value in Kafka's __cluster_metadata-0 partition, and the
// metadata can later move onto a real partition log unchanged.

import { randomBytes } from 'node:crypto';
import type {
  AbortTransactionRecord,
  AccessControlEntryRecord,
  BeginTransactionRecord,
  BrokerRegistrationChangeRecord,
  ClientQuotaRecord,
  ConfigRecord,
  DelegationTokenRecord,
  EndTransactionRecord,
  FeatureLevelRecord,
  FenceBrokerRecord,
  NoOpRecord,
  PartitionRecord,
  ProducerIdsRecord,
  RegisterBrokerRecord,
  RegisterControllerRecord,
  RemoveAccessControlEntryRecord,
  RemoveDelegationTokenRecord,
  RemoveTopicRecord,
  RemoveUserScramCredentialRecord,
  TopicRecord,
  UnfenceBrokerRecord,
  UnregisterBrokerRecord,
  UserScramCredentialRecord,
  ZkMigrationStateRecord,
} from '../protocol/generated/index.js';
import { PartitionChangeRecord } from '../protocol/generated/metadata/PartitionChangeRecord.js';
import { MetadataRecordType, metadataRecords } from '../protocol/generated/metadata-records.js';
import { ZERO_UUID } from '../protocol/message.js';
import { DecodeError, Reader } from '../protocol/primitives/reader.js';
import { EncodeError, Writer } from '../protocol/primitives/writer.js';

export { MetadataRecordType };

/** The message type of each metadata record type. */
export interface MetadataRecordTypes {
  0: RegisterBrokerRecord;
  1: UnregisterBrokerRecord;
  2: TopicRecord;
  3: PartitionRecord;
  4: ConfigRecord;
  5: PartitionChangeRecord;
  7: FenceBrokerRecord;
  8: UnfenceBrokerRecord;
  9: RemoveTopicRecord;
  10: DelegationTokenRecord;
  11: UserScramCredentialRecord;
  12: FeatureLevelRecord;
  14: ClientQuotaRecord;
  15: ProducerIdsRecord;
  17: BrokerRegistrationChangeRecord;
  18: AccessControlEntryRecord;
  19: RemoveAccessControlEntryRecord;
  20: NoOpRecord;
  21: ZkMigrationStateRecord;
  22: RemoveUserScramCredentialRecord;
  23: BeginTransactionRecord;
  24: EndTransactionRecord;
  25: AbortTransactionRecord;
  26: RemoveDelegationTokenRecord;
  27: RegisterControllerRecord;
}

export type MetadataRecordTypeId = keyof MetadataRecordTypes;

/**
 * Kafka's ApiMessageAndVersion for metadata records, as a discriminated union on `type` so that
 * `switch (r.type)` narrows `r.message`.
 */
export type ApiMessageAndVersion = {
  [K in MetadataRecordTypeId]: {
    readonly type: K;
    readonly version: number;
    readonly message: MetadataRecordTypes[K];
  };
}[MetadataRecordTypeId];

/** MetadataRecordSerde's frame version; Kafka rejects any other. */
export const METADATA_FRAME_VERSION = 1;

/** ConfigResource.Type ids as they appear in ConfigRecord.resourceType and the configs APIs. */
export const ConfigResourceType = {
  UNKNOWN: 0,
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
  CLIENT_METRICS: 16,
  GROUP: 32,
} as const;

/** Encodes one record value: frame version, type, version, body. */
export function encodeMetadataRecord(r: ApiMessageAndVersion): Buffer {
  const codec = metadataRecords.get(r.type);
  if (!codec) throw new EncodeError(`unknown metadata record type ${r.type}`);
  const body = codec.encode(r.message, r.version);
  const w = new Writer(body.length + 8);
  w.unsignedVarint(METADATA_FRAME_VERSION);
  w.unsignedVarint(r.type);
  w.unsignedVarint(r.version);
  w.raw(body);
  return w.finish();
}

/** Decodes one record value; DecodeError on an unknown frame version, record type or version. */
export function decodeMetadataRecord(buf: Buffer): ApiMessageAndVersion {
  const r = new Reader(buf);
  const frame = r.unsignedVarint();
  if (frame !== METADATA_FRAME_VERSION) {
    throw new DecodeError(`Could not deserialize metadata record due to unknown frame version ${frame}`);
  }
  const type = r.unsignedVarint();
  const version = r.unsignedVarint();
  const codec = metadataRecords.get(type);
  if (!codec) throw new DecodeError(`unknown metadata record type ${type}`);
  const message = codec.decode(buf.subarray(r.pos), version);
  return { type, version, message } as ApiMessageAndVersion;
}

// ---- constructors for the records the controller writes, at the versions it writes ----
// PartitionRecord and PartitionChangeRecord are written at version 0: Samsa does not assign
// replicas to log directories (v1) nor track eligible leader replicas (v2).

export function topicRecord(name: string, topicId: string): ApiMessageAndVersion {
  return { type: 2, version: 0, message: { name, topicId } };
}

export function partitionRecord(m: Omit<PartitionRecord, '_unknownTaggedFields'>): ApiMessageAndVersion {
  return {
    type: 3,
    version: 0,
    message: { ...m, directories: [], eligibleLeaderReplicas: null, lastKnownElr: null },
  };
}

export function partitionChangeRecord(
  topicId: string,
  partitionId: number,
  change: Partial<Omit<PartitionChangeRecord, 'topicId' | 'partitionId' | '_unknownTaggedFields'>>,
): ApiMessageAndVersion {
  return {
    type: 5,
    version: 0,
    message: { ...PartitionChangeRecord.default(), ...change, topicId, partitionId },
  };
}

export function removeTopicRecord(topicId: string): ApiMessageAndVersion {
  return { type: 9, version: 0, message: { topicId } };
}

export function configRecord(
  resourceType: number,
  resourceName: string,
  name: string,
  value: string | null,
): ApiMessageAndVersion {
  return { type: 4, version: 0, message: { resourceType, resourceName, name, value } };
}

export function featureLevelRecord(name: string, featureLevel: number): ApiMessageAndVersion {
  return { type: 12, version: 0, message: { name, featureLevel } };
}

export function registerBrokerRecord(
  m: Omit<RegisterBrokerRecord, '_unknownTaggedFields'>,
): ApiMessageAndVersion {
  return { type: 0, version: 3, message: m };
}

export function producerIdsRecord(
  brokerId: number,
  brokerEpoch: bigint,
  nextProducerId: bigint,
): ApiMessageAndVersion {
  return { type: 15, version: 0, message: { brokerId, brokerEpoch, nextProducerId } };
}

// ---- topic ids ----

/** Kafka's reserved id of the __cluster_metadata topic (Uuid.METADATA_TOPIC_ID = 0..01). */
export const METADATA_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

/**
 * A random topic id, as Kafka's Uuid.randomUuid: 16 random bytes, never the zero uuid or the
 * metadata topic's id, and never one whose base64 form starts with '-' (it would read as a
 * command-line flag).
 */
export function randomTopicId(random: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (id !== ZERO_UUID && id !== METADATA_TOPIC_ID && !id.startsWith('-')) return id;
  }
}
