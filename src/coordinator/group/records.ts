// Serde of the classic group coordinator's __consumer_offsets records.
//
// A record key is an int16 version followed by the key struct, a value an int16 version followed by
// the value struct (Kafka's GroupCoordinatorRecordSerde, formerly GroupMetadataManager):
//   key version 0 or 1  OffsetCommitKey    -> value OffsetCommitValue   (we write key v1, value v3,
//                                                                         or v1 when an expire timestamp is set)
//   key version 2       GroupMetadataKey   -> value GroupMetadataValue  (we write key v2, value v3)
//   key version 3+      KIP-848 / share-group records: not ours, skipped on replay
// These are the versions Kafka 3.x/4.x writes (MetadataVersion.offsetCommitValueVersion and
// groupMetadataValueVersion); every version up to the newest schema is read.

import { GroupMetadataKey } from '../../protocol/generated/group-coordinator/GroupMetadataKey.js';
import { GroupMetadataValue } from '../../protocol/generated/group-coordinator/GroupMetadataValue.js';
import { OffsetCommitKey } from '../../protocol/generated/group-coordinator/OffsetCommitKey.js';
import { OffsetCommitValue } from '../../protocol/generated/group-coordinator/OffsetCommitValue.js';
import { ConsumerProtocolSubscription } from '../../protocol/generated/messages/ConsumerProtocolSubscription.js';
import type { MessageCodec } from '../../protocol/message.js';
import { DecodeError, Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const OFFSET_COMMIT_VALUE_VERSION = 3;
/** The only value version with a per-offset expire timestamp (OffsetCommit v2-v4 retention_time_ms). */
export const OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRE = 1;
export const GROUP_METADATA_KEY_VERSION = 2;
export const GROUP_METADATA_VALUE_VERSION = 3;

/** A committed offset as the coordinator keeps it (Kafka's OffsetAndMetadata). */
export interface OffsetAndMetadata {
  offset: bigint;
  /** -1 when the committer sent none. */
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: number;
  /** Set only by OffsetCommit v2-v4 with an explicit retention time; null otherwise. */
  expireTimestampMs: number | null;
}

export type ParsedRecordKey =
  | { type: 'offset'; group: string; topic: string; partition: number }
  | { type: 'group'; group: string }
  | { type: 'other'; version: number };

/** int16 version, then the struct: a record key or value. Written in one buffer, no copy. */
function withVersion<T>(codec: MessageCodec<T>, version: number, body: T): Buffer {
  const w = new Writer(64);
  w.int16(version);
  codec.write(w, body, version);
  return w.finish();
}

function readVersion(buf: Buffer, what: string): number {
  if (buf.length < 2) throw new DecodeError(`${what}: ${buf.length} bytes, no version`);
  return buf.readInt16BE(0);
}

export function offsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return withVersion(OffsetCommitKey, OFFSET_COMMIT_KEY_VERSION, { group, topic, partition });
}

export function offsetCommitValue(o: OffsetAndMetadata): Buffer {
  const version =
    o.expireTimestampMs === null ? OFFSET_COMMIT_VALUE_VERSION : OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRE;
  const value: OffsetCommitValue = {
    offset: o.offset,
    // v1 has no leader epoch field: leave it at its default so the encoder accepts it.
    leaderEpoch: version >= 3 ? o.leaderEpoch : -1,
    metadata: o.metadata,
    commitTimestamp: BigInt(o.commitTimestampMs),
    expireTimestamp: o.expireTimestampMs === null ? -1n : BigInt(o.expireTimestampMs),
  };
  return withVersion(OffsetCommitValue, version, value);
}

export function groupMetadataKey(group: string): Buffer {
  return withVersion(GroupMetadataKey, GROUP_METADATA_KEY_VERSION, { group });
}

export function groupMetadataValue(value: GroupMetadataValue): Buffer {
  return withVersion(GroupMetadataValue, GROUP_METADATA_VALUE_VERSION, value);
}

/** Reads a record key; throws DecodeError for bytes that are not a key of a known type. */
export function parseRecordKey(buf: Buffer): ParsedRecordKey {
  const version = readVersion(buf, 'record key');
  const body = buf.subarray(2);
  if (version === 0 || version === 1) {
    const k = OffsetCommitKey.decode(body, version);
    return { type: 'offset', group: k.group, topic: k.topic, partition: k.partition };
  }
  if (version === GROUP_METADATA_KEY_VERSION) {
    return { type: 'group', group: GroupMetadataKey.decode(body, version).group };
  }
  return { type: 'other', version };
}

export function parseOffsetCommitValue(buf: Buffer): OffsetAndMetadata {
  const version = readVersion(buf, 'OffsetCommitValue');
  const v = OffsetCommitValue.decode(buf.subarray(2), version);
  return {
    offset: v.offset,
    leaderEpoch: v.leaderEpoch,
    metadata: v.metadata,
    commitTimestampMs: Number(v.commitTimestamp),
    // Only v1 carries it; -1 (the default) means none.
    expireTimestampMs: v.expireTimestamp >= 0n ? Number(v.expireTimestamp) : null,
  };
}

export function parseGroupMetadataValue(buf: Buffer): GroupMetadataValue {
  const version = readVersion(buf, 'GroupMetadataValue');
  return GroupMetadataValue.decode(buf.subarray(2), version);
}

/**
 * The topics a "consumer" protocol member subscribes to, from its JoinGroup metadata
 * (ConsumerProtocolSubscription). Like Kafka, only the version-0 prefix (topics, user data) is read,
 * which every later version starts with; null when the bytes do not parse.
 */
export function parseSubscribedTopics(metadata: Buffer): string[] | null {
  try {
    const version = readVersion(metadata, 'ConsumerProtocolSubscription');
    if (version < 0) return null;
    return ConsumerProtocolSubscription.read(new Reader(metadata, 2), 0).topics;
  } catch {
    return null;
  }
}
