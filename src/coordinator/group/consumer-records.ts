// Serde of the KIP-848 consumer group records of __consumer_offsets (Kafka's
// GroupCoordinatorRecordSerde): the key's int16 version is the record type, the value an int16
// version (0 for all of these) followed by the value struct; a null value is a tombstone.
//   3  ConsumerGroupMetadata                   group epoch
//   4  ConsumerGroupPartitionMetadata          the subscribed topics' ids and partition counts
//   5  ConsumerGroupMemberMetadata             one member's subscription and client details
//   6  ConsumerGroupTargetAssignmentMetadata   the epoch of the target assignment
//   7  ConsumerGroupTargetAssignmentMember     one member's target partitions
//   8  ConsumerGroupCurrentMemberAssignment    one member's epochs, state and current partitions

import { ConsumerGroupCurrentMemberAssignmentKey } from '../../protocol/generated/group-coordinator/ConsumerGroupCurrentMemberAssignmentKey.js';
import { ConsumerGroupCurrentMemberAssignmentValue } from '../../protocol/generated/group-coordinator/ConsumerGroupCurrentMemberAssignmentValue.js';
import { ConsumerGroupMemberMetadataKey } from '../../protocol/generated/group-coordinator/ConsumerGroupMemberMetadataKey.js';
import { ConsumerGroupMemberMetadataValue } from '../../protocol/generated/group-coordinator/ConsumerGroupMemberMetadataValue.js';
import { ConsumerGroupMetadataKey } from '../../protocol/generated/group-coordinator/ConsumerGroupMetadataKey.js';
import { ConsumerGroupMetadataValue } from '../../protocol/generated/group-coordinator/ConsumerGroupMetadataValue.js';
import { ConsumerGroupPartitionMetadataKey } from '../../protocol/generated/group-coordinator/ConsumerGroupPartitionMetadataKey.js';
import { ConsumerGroupPartitionMetadataValue } from '../../protocol/generated/group-coordinator/ConsumerGroupPartitionMetadataValue.js';
import { ConsumerGroupTargetAssignmentMemberKey } from '../../protocol/generated/group-coordinator/ConsumerGroupTargetAssignmentMemberKey.js';
import { ConsumerGroupTargetAssignmentMemberValue } from '../../protocol/generated/group-coordinator/ConsumerGroupTargetAssignmentMemberValue.js';
import { ConsumerGroupTargetAssignmentMetadataKey } from '../../protocol/generated/group-coordinator/ConsumerGroupTargetAssignmentMetadataKey.js';
import { ConsumerGroupTargetAssignmentMetadataValue } from '../../protocol/generated/group-coordinator/ConsumerGroupTargetAssignmentMetadataValue.js';
import type { MessageCodec } from '../../protocol/message.js';
import { DecodeError } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import type { TopicAssignment } from './consumer-assignors.js';
import type { OffsetsRecord } from './store.js';

export const CONSUMER_GROUP_METADATA = 3;
export const CONSUMER_GROUP_PARTITION_METADATA = 4;
export const CONSUMER_GROUP_MEMBER_METADATA = 5;
export const CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA = 6;
export const CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER = 7;
export const CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT = 8;
const VALUE_VERSION = 0;

function versioned<T>(codec: MessageCodec<T>, version: number, body: T): Buffer {
  const w = new Writer(64);
  w.int16(version);
  codec.write(w, body, version);
  return w.finish();
}

export type ConsumerGroupRecord =
  | { type: 'metadata'; groupId: string; value: ConsumerGroupMetadataValue | null }
  | { type: 'partitionMetadata'; groupId: string; value: ConsumerGroupPartitionMetadataValue | null }
  | {
      type: 'memberMetadata';
      groupId: string;
      memberId: string;
      value: ConsumerGroupMemberMetadataValue | null;
    }
  | {
      type: 'targetAssignmentMetadata';
      groupId: string;
      value: ConsumerGroupTargetAssignmentMetadataValue | null;
    }
  | {
      type: 'targetAssignmentMember';
      groupId: string;
      memberId: string;
      value: ConsumerGroupTargetAssignmentMemberValue | null;
    }
  | {
      type: 'currentMemberAssignment';
      groupId: string;
      memberId: string;
      value: ConsumerGroupCurrentMemberAssignmentValue | null;
    };

/** The bytes of a record (key and value; value null = tombstone). */
export function encodeConsumerGroupRecord(r: ConsumerGroupRecord): OffsetsRecord {
  switch (r.type) {
    case 'metadata':
      return {
        key: versioned(ConsumerGroupMetadataKey, CONSUMER_GROUP_METADATA, { groupId: r.groupId }),
        value: r.value && versioned(ConsumerGroupMetadataValue, VALUE_VERSION, r.value),
      };
    case 'partitionMetadata':
      return {
        key: versioned(ConsumerGroupPartitionMetadataKey, CONSUMER_GROUP_PARTITION_METADATA, {
          groupId: r.groupId,
        }),
        value: r.value && versioned(ConsumerGroupPartitionMetadataValue, VALUE_VERSION, r.value),
      };
    case 'memberMetadata':
      return {
        key: versioned(ConsumerGroupMemberMetadataKey, CONSUMER_GROUP_MEMBER_METADATA, {
          groupId: r.groupId,
          memberId: r.memberId,
        }),
        value: r.value && versioned(ConsumerGroupMemberMetadataValue, VALUE_VERSION, r.value),
      };
    case 'targetAssignmentMetadata':
      return {
        key: versioned(ConsumerGroupTargetAssignmentMetadataKey, CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA, {
          groupId: r.groupId,
        }),
        value: r.value && versioned(ConsumerGroupTargetAssignmentMetadataValue, VALUE_VERSION, r.value),
      };
    case 'targetAssignmentMember':
      return {
        key: versioned(ConsumerGroupTargetAssignmentMemberKey, CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER, {
          groupId: r.groupId,
          memberId: r.memberId,
        }),
        value: r.value && versioned(ConsumerGroupTargetAssignmentMemberValue, VALUE_VERSION, r.value),
      };
    case 'currentMemberAssignment':
      return {
        key: versioned(ConsumerGroupCurrentMemberAssignmentKey, CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT, {
          groupId: r.groupId,
          memberId: r.memberId,
        }),
        value: r.value && versioned(ConsumerGroupCurrentMemberAssignmentValue, VALUE_VERSION, r.value),
      };
  }
}

/**
 * Reads a KIP-848 consumer group record; null for a key of another type. Throws DecodeError for
 * bytes that do not parse.
 */
export function decodeConsumerGroupRecord(key: Buffer, value: Buffer | null): ConsumerGroupRecord | null {
  if (key.length < 2) return null;
  const type = key.readInt16BE(0);
  if (type < CONSUMER_GROUP_METADATA || type > CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT) return null;
  if (value !== null && value.length < 2)
    throw new DecodeError(`record value: ${value.length} bytes, no version`);
  const k = key.subarray(2);
  const v = value === null ? null : value.subarray(2);
  const vv = value === null ? 0 : value.readInt16BE(0);
  switch (type) {
    case CONSUMER_GROUP_METADATA:
      return {
        type: 'metadata',
        groupId: ConsumerGroupMetadataKey.decode(k, type).groupId,
        value: v && ConsumerGroupMetadataValue.decode(v, vv),
      };
    case CONSUMER_GROUP_PARTITION_METADATA:
      return {
        type: 'partitionMetadata',
        groupId: ConsumerGroupPartitionMetadataKey.decode(k, type).groupId,
        value: v && ConsumerGroupPartitionMetadataValue.decode(v, vv),
      };
    case CONSUMER_GROUP_MEMBER_METADATA: {
      const key = ConsumerGroupMemberMetadataKey.decode(k, type);
      return {
        type: 'memberMetadata',
        groupId: key.groupId,
        memberId: key.memberId,
        value: v && ConsumerGroupMemberMetadataValue.decode(v, vv),
      };
    }
    case CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA:
      return {
        type: 'targetAssignmentMetadata',
        groupId: ConsumerGroupTargetAssignmentMetadataKey.decode(k, type).groupId,
        value: v && ConsumerGroupTargetAssignmentMetadataValue.decode(v, vv),
      };
    case CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER: {
      const key = ConsumerGroupTargetAssignmentMemberKey.decode(k, type);
      return {
        type: 'targetAssignmentMember',
        groupId: key.groupId,
        memberId: key.memberId,
        value: v && ConsumerGroupTargetAssignmentMemberValue.decode(v, vv),
      };
    }
    case CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT: {
      const key = ConsumerGroupCurrentMemberAssignmentKey.decode(k, type);
      return {
        type: 'currentMemberAssignment',
        groupId: key.groupId,
        memberId: key.memberId,
        value: v && ConsumerGroupCurrentMemberAssignmentValue.decode(v, vv),
      };
    }
    default:
      return null;
  }
}

/** A topic assignment as the records' [{topicId, partitions}] list (sorted, for stable bytes). */
export function toTopicPartitions(a: TopicAssignment): Array<{ topicId: string; partitions: number[] }> {
  return [...a.entries()]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([topicId, ps]) => ({ topicId, partitions: [...ps].sort((x, y) => x - y) }));
}

export function fromTopicPartitions(
  list: readonly { topicId: string; partitions: readonly number[] }[],
): TopicAssignment {
  const a: TopicAssignment = new Map();
  for (const tp of list) {
    if (tp.partitions.length === 0) continue;
    const set = a.get(tp.topicId) ?? new Set<number>();
    for (const p of tp.partitions) set.add(p);
    a.set(tp.topicId, set);
  }
  return a;
}
