// partition.metadata (storage/partition-metadata.ts): the topic id a partition directory belongs
// to, in Kafka's format. A log found on disk under a topic's name but recorded for another topic
// id (the name deleted and re-created while the old directory stayed, e.g. a crash between the two)
// is deleted, never served as the new topic's; a directory that records no id keeps its records
// and is given the id.

import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogManager } from '../../src/storage/log-manager.js';
import { PARTITION_METADATA_FILE, readPartitionTopicId } from '../../src/storage/partition-metadata.js';
import { SimulatedTime } from '../../src/util/clock.js';
import { fill, onCleanup, tempDir } from './helpers.js';

const ID_A = 'AAAAAAAAAAAAAAAAAAAAAQ';
const ID_B = 'BBBBBBBBBBBBBBBBBBBBBQ';

async function manager(logDir: string): Promise<LogManager> {
  const mgr = await LogManager.open({ logDirs: [logDir], time: new SimulatedTime(Date.now()) });
  onCleanup(() => mgr.abort());
  return mgr;
}

describe('partition.metadata', () => {
  it("records the topic id of a new log in Kafka's format", async () => {
    const d = await tempDir();
    const mgr = await manager(d);
    const log = await mgr.getOrCreateLog('t', 0, {}, ID_A);
    expect(readFileSync(join(log.dir, PARTITION_METADATA_FILE), 'utf8')).toBe(
      `version: 0\ntopic_id: ${ID_A}\n`,
    );
    expect(readPartitionTopicId(log.dir)).toBe(ID_A);
  });

  it('serves the log again after a restart when the ids agree', async () => {
    const d = await tempDir();
    let mgr = await manager(d);
    await fill(await mgr.getOrCreateLog('t', 0, {}, ID_A), 4);
    await mgr.close();
    mgr = await manager(d);
    const log = await mgr.getOrCreateLog('t', 0, {}, ID_A);
    expect(log.logEndOffset).toBe(12n);
  });

  it('deletes a log that belongs to an earlier topic of the same name, and starts the new one empty', async () => {
    const d = await tempDir();
    let mgr = await manager(d);
    await fill(await mgr.getOrCreateLog('t', 0, {}, ID_A), 4);
    await mgr.close();
    mgr = await manager(d);
    const log = await mgr.getOrCreateLog('t', 0, {}, ID_B);
    expect(log.logEndOffset).toBe(0n);
    expect(readPartitionTopicId(log.dir)).toBe(ID_B);
    await mgr.awaitDeletions();
    expect(readdirSync(d).filter((n) => n.startsWith('t-0'))).toEqual(['t-0']); // the old one is gone
  });

  it('gives a directory without the file (or with a damaged one) the id, keeping its records', async () => {
    const d = await tempDir();
    let mgr = await manager(d);
    const dir = (await mgr.getOrCreateLog('t', 0, {}, ID_A)).dir;
    await fill(mgr.getLog('t', 0)!, 2);
    await mgr.close();

    rmSync(join(dir, PARTITION_METADATA_FILE)); // as made before the file existed
    mgr = await manager(d);
    expect((await mgr.getOrCreateLog('t', 0, {}, ID_A)).logEndOffset).toBe(6n);
    expect(readPartitionTopicId(dir)).toBe(ID_A);
    await mgr.close();

    writeFileSync(join(dir, PARTITION_METADATA_FILE), 'version: 0\ntopic_'); // not Kafka's format
    expect(readPartitionTopicId(dir)).toBeNull();
    mgr = await manager(d);
    expect((await mgr.getOrCreateLog('t', 0, {}, ID_A)).logEndOffset).toBe(6n);
    expect(readPartitionTopicId(dir)).toBe(ID_A);
  });

  it('opens without an id as before (callers that do not know it)', async () => {
    const d = await tempDir();
    const mgr = await manager(d);
    const log = await mgr.getOrCreateLog('t', 0);
    expect(readPartitionTopicId(log.dir)).toBeNull();
    expect(await mgr.getOrCreateLog('t', 0, {}, ID_A)).toBe(log); // adopted on first sight of an id
    expect(readPartitionTopicId(log.dir)).toBe(ID_A);
  });
});
