// Topic name rules, as Kafka's org.apache.kafka.common.internals.Topic: which names are legal,
// and which names "collide" ('.' and '_' map to the same metric name, so Kafka refuses a topic
// whose name differs from an existing one only by those two characters).

/** Kafka's limit: 249, so that "<topic>-<partition>" directory names stay below 255 bytes. */
export const MAX_TOPIC_NAME_LENGTH = 249;

export const GROUP_METADATA_TOPIC_NAME = '__consumer_offsets';
export const TRANSACTION_STATE_TOPIC_NAME = '__transaction_state';
export const CLUSTER_METADATA_TOPIC_NAME = '__cluster_metadata';

const LEGAL = /^[a-zA-Z0-9._-]+$/;

/**
 * Why `name` is not a legal topic name (Kafka's InvalidTopicException message), or null when it is.
 */
export function topicNameError(name: string): string | null {
  if (name.length === 0) return "Topic name is illegal, it can't be empty";
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH)
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, Topic name: ${name}`;
  if (!LEGAL.test(name))
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  return null;
}

export function isValidTopicName(name: string): boolean {
  return topicNameError(name) === null;
}

/** True if the name contains '.' or '_', the characters that collide in metric names. */
export function hasCollisionChars(name: string): boolean {
  return name.includes('.') || name.includes('_');
}

/** The name with every '.' replaced by '_': two names collide when these are equal. */
export function unifyCollisionChars(name: string): string {
  return name.replaceAll('.', '_');
}

/** Kafka's internal topics (Topic.isInternal): the group and transaction coordinators' logs. */
export function isInternalTopic(name: string): boolean {
  return name === GROUP_METADATA_TOPIC_NAME || name === TRANSACTION_STATE_TOPIC_NAME;
}
