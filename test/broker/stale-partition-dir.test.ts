// A partition directory left by an earlier topic of the same name is never served as the new
// topic's. It happens when a topic is deleted and re-created and the broker stops before the old
// directory is renamed away (the deletion commits to the metadata log first); here the stop is
// clean and the directory's partition.metadata is rewritten to another topic id, which is what
// such a directory looks like. After the restart the topic reads empty, and the directory records
// the topic's own id; the same restart without the rewrite keeps every record.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startBroker } from '../../src/broker/broker.js';
import { PARTITION_METADATA_FILE } from '../../src/storage/partition-metadata.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function withBroker<T>(dataDir: string, fn: (rpc: KafkaRpc) => Promise<T>): Promise<T> {
  const b = await startBroker({ config: { 'log.dirs': dataDir }, logger: pino({ level: 'silent' }) });
  const rpc = await KafkaRpc.connect(b.port);
  try {
    return await fn(rpc);
  } finally {
    rpc.close();
    await b.stop();
  }
}

const records = [1, 2, 3].map((i) => ({
  key: Buffer.from(`k${i}`),
  value: Buffer.from(`v${i}`),
  timestamp: 1000,
}));

describe('a partition directory of an earlier topic with the same name', () => {
  it('is deleted at start, not served; a directory of the topic itself is kept', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'samsa-stale-'));
    dirs.push(dataDir);
    const topicId = await withBroker(dataDir, async (rpc) => {
      const { errorCode, topicId } = await rpc.createTopic('t', 1);
      expect(errorCode).toBe(0);
      expect((await rpc.produce('t', 0, records)).errorCode).toBe(0);
      return topicId;
    });
    const file = join(dataDir, 't-0', PARTITION_METADATA_FILE);
    expect(readFileSync(file, 'utf8')).toBe(`version: 0\ntopic_id: ${topicId}\n`);

    // Same topic: a restart keeps the records.
    await withBroker(dataDir, async (rpc) => {
      expect((await rpc.readPartition('t', 0)).records.map((r) => r.value)).toEqual(['v1', 'v2', 'v3']);
    });

    // The directory now says it belongs to another topic id: the records are not this topic's.
    writeFileSync(file, 'version: 0\ntopic_id: BBBBBBBBBBBBBBBBBBBBBQ\n');
    await withBroker(dataDir, async (rpc) => {
      const read = await rpc.readPartition('t', 0);
      expect(read.records).toEqual([]);
      expect(read.highWatermark).toBe(0n);
      expect((await rpc.produce('t', 0, records)).baseOffset).toBe(0n);
    });
    expect(readFileSync(file, 'utf8')).toBe(`version: 0\ntopic_id: ${topicId}\n`);
  });
});
