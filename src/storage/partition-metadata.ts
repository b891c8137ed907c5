// partition.metadata: the topic id a partition directory belongs to (KIP-516), in Kafka's format:
//
//   version: 0
//   topic_id: <topic id, base64>
//
// Why: directories are named by topic name, and a name can be deleted and re-created. Deleting a
// topic commits to the metadata log first and renames its directories after; a broker that dies
// in between, with the name re-created, finds the old directory under the new topic's name. The
// id inside tells the two apart (LogManager.getOrCreateLog), so the new topic never inherits the
// old one's records.

import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const PARTITION_METADATA_FILE = 'partition.metadata';

/** Kafka writes version 0; a topic id is a Uuid in base64url without padding (22 characters). */
const FORMAT = /^version: 0\ntopic_id: ([A-Za-z0-9_-]{22})\n?$/;

/**
 * The topic id recorded in `dir`: null if the file is absent (a directory from before the file
 * existed) or not in Kafka's format (a torn write: it is written once, so the caller rewrites it).
 */
export function readPartitionTopicId(dir: string): string | null {
  let text: string;
  try {
    text = readFileSync(join(dir, PARTITION_METADATA_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return FORMAT.exec(text)?.[1] ?? null;
}

/**
 * Records `topicId` in `dir`. Not fsynced: with a write aside, two fsyncs and a rename per
 * partition, creating 10,000 partitions took twice as long; and a file lost or torn by a crash
 * reads as absent, which gives the directory the id of the topic it is opened for next: the topic
 * that had just created it.
 */
export function writePartitionTopicId(dir: string, topicId: string): Promise<void> {
  return writeFile(join(dir, PARTITION_METADATA_FILE), `version: 0\ntopic_id: ${topicId}\n`);
}
