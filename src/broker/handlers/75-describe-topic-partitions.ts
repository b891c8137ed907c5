// DescribeTopicPartitions (key 75), version 0 (KIP-966, Kafka 3.8+): topics and their partitions
// from the metadata image, paginated, as Kafka's DescribeTopicPartitionsRequestHandler and
// KRaftMetadataCache.getTopicMetadataForDescribeTopicResponse:
//
// - An empty topic list means every topic. Topics are answered in name order, from the cursor's
//   topic on (names before it are skipped); the cursor topic starts at the cursor's partition.
// - At most min(response_partition_limit, max.request.partition.size.limit = 2000), and at least
//   1, partitions per response. When the limit cuts a topic short, next_cursor points at its next
//   partition; when it is reached exactly at a topic's end and more topics remain, next_cursor
//   points at partition 0 of the next one.
// - A requested topic that does not exist answers UNKNOWN_TOPIC_OR_PARTITION (an illegal name,
//   INVALID_TOPIC_EXCEPTION) with the zero topic id. A cursor whose topic is not in the requested
//   list, or whose partition is negative, is an INVALID_REQUEST for every requested topic.
// - Partition: leader (-1 when the leader is not a registered broker), leader epoch, replicas,
//   ISR, ELR and last known ELR, offline replicas (not registered, or fenced).
//
// Not done: no authorizer, so topic_authorized_operations says "everything" and never
// TOPIC_AUTHORIZATION_FAILED; max.request.partition.size.limit is not a Samsa config yet.

import type { TopicImage } from '../../metadata/image.js';
import { isInternalTopic, topicNameError } from '../../metadata/topic-name.js';
import { ErrorCode } from '../../protocol/errors.js';
import { DescribeTopicPartitionsRequest } from '../../protocol/generated/messages/DescribeTopicPartitionsRequest.js';
import { DescribeTopicPartitionsResponse } from '../../protocol/generated/messages/DescribeTopicPartitionsResponse.js';
import { ZERO_UUID } from '../../protocol/message.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

/** Kafka's max.request.partition.size.limit default. */
const MAX_REQUEST_PARTITION_SIZE_LIMIT = 2000;
// READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (AclOperation codes).
const ALL_TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11].reduce((m, op) => m | (1 << op), 0);

type ResponseTopic = DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponseTopic;
type ResponsePartition = DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponsePartition;

// Java's String.compareTo: UTF-16 code units, as JavaScript's < on strings.
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export const describeTopicPartitionsHandler = defineHandler<
  DescribeTopicPartitionsRequest,
  DescribeTopicPartitionsResponse,
  BrokerServices
>({
  apiKey: 75,
  minVersion: 0,
  maxVersion: 0,
  request: DescribeTopicPartitionsRequest,
  response: DescribeTopicPartitionsResponse,
  handle(req, _ctx, { metadata }) {
    const image = metadata.image;
    const cursor = req.cursor;
    const cursorTopic = cursor?.topicName ?? '';
    const fetchAll = req.topics.length === 0;
    const names = new Set<string>();
    const source = fetchAll ? [...image.topics()].map((t) => t.name) : req.topics.map((t) => t.name);
    for (const n of source) if (n >= cursorTopic) names.add(n);

    const invalid =
      (cursor !== null && !fetchAll && !names.has(cursor.topicName)) ||
      (cursor !== null && cursor.partitionIndex < 0);
    if (invalid) {
      return {
        throttleTimeMs: 0,
        topics: req.topics.map(
          (t): ResponseTopic => ({
            errorCode: ErrorCode.INVALID_REQUEST,
            name: t.name,
            topicId: ZERO_UUID,
            isInternal: false,
            partitions: [],
            topicAuthorizedOperations: -2147483648,
          }),
        ),
        nextCursor: null,
      };
    }

    const describePartitions = (t: TopicImage, from: number, max: number) => {
      const count = t.partitions.size;
      const upper = Math.min(count, from + max);
      const partitions: ResponsePartition[] = [];
      for (let index = from; index < upper; index++) {
        const p = t.partitions.get(index);
        if (!p) continue;
        const leader = image.broker(p.leader);
        partitions.push({
          errorCode: ErrorCode.NONE,
          partitionIndex: index,
          leaderId: leader && leader.endpoints.length > 0 ? p.leader : -1,
          leaderEpoch: p.leaderEpoch,
          replicaNodes: [...p.replicas],
          isrNodes: [...p.isr],
          eligibleLeaderReplicas: [...p.eligibleLeaderReplicas],
          lastKnownElr: [...p.lastKnownElr],
          offlineReplicas: p.replicas.filter((id) => {
            const b = image.broker(id);
            return b === undefined || b.fenced || b.endpoints.length === 0;
          }),
        });
      }
      return { partitions, next: upper < count ? upper : -1 };
    };

    let remaining = Math.max(Math.min(MAX_REQUEST_PARTITION_SIZE_LIMIT, req.responsePartitionLimit), 1);
    const topics: ResponseTopic[] = [];
    let nextCursor: DescribeTopicPartitionsResponse.Cursor | null = null;
    for (const name of [...names].sort(byName)) {
      if (remaining === 0) {
        // The previous topics filled the page exactly: the next page starts at this topic.
        nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      const t = image.topic(name);
      if (!t) {
        if (!fetchAll) {
          topics.push({
            errorCode:
              topicNameError(name) === null
                ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                : ErrorCode.INVALID_TOPIC_EXCEPTION,
            name,
            topicId: ZERO_UUID,
            isInternal: isInternalTopic(name),
            partitions: [],
            topicAuthorizedOperations: ALL_TOPIC_OPERATIONS,
          });
        }
        continue;
      }
      const from = name === cursorTopic && cursor ? cursor.partitionIndex : 0;
      const { partitions, next } = describePartitions(t, from, remaining);
      topics.push({
        errorCode: ErrorCode.NONE,
        name,
        topicId: t.id,
        isInternal: isInternalTopic(name),
        partitions,
        topicAuthorizedOperations: ALL_TOPIC_OPERATIONS,
      });
      if (next !== -1) {
        nextCursor = { topicName: name, partitionIndex: next };
        break;
      }
      remaining -= partitions.length;
    }
    return { throttleTimeMs: 0, topics, nextCursor };
  },
});
