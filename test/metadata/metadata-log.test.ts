import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrokerConfig } from '../../src/broker/config.js';
import { MetadataImage } from '../../src/metadata/image.js';
import { MetadataManager } from '../../src/metadata/manager.js';
import {
  encodeEntry,
  FileMetadataLog,
  InMemoryMetadataLog,
  METADATA_LOG_FORMAT_VERSION,
  MetadataLogCorruptError,
  metadataLogPath,
} from '../../src/metadata/metadata-log.js';
import {
  type ApiMessageAndVersion,
  ConfigResourceType,
  configRecord,
  topicRecord,
} from '../../src/metadata/records.js';
import { createTopics, topic, uuidSequence } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samsa-metadata-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ID = 'AAECAwQFBgcICQoLDA0ODw';
const ENDPOINTS = [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092, securityProtocol: 0 }];

async function readAll(log: FileMetadataLog): Promise<ApiMessageAndVersion[]> {
  const out: ApiMessageAndVersion[] = [];
  await log.replayAll((r) => out.push(r));
  return out;
}

/** Opens the log at path, reads every record, and closes it again. */
async function readRecordsAt(path: string): Promise<ApiMessageAndVersion[]> {
  const log = await FileMetadataLog.open(path);
  try {
    return await readAll(log);
  } finally {
    await log.close();
  }
}

function manager(log: FileMetadataLog | InMemoryMetadataLog, config: Record<string, string> = {}) {
  return new MetadataManager({
    log,
    nodeId: 1,
    config: new BrokerConfig(config),
    randomUuid: uuidSequence(),
  });
}

describe('FileMetadataLog', () => {
  it('creates a file with a versioned header, appends entries and replays them in order', async () => {
    const path = metadataLogPath(join(dir, 'data'));
    const log = await FileMetadataLog.open(path);
    const header = await readFile(path);
    expect(header.subarray(0, 4).toString('latin1')).toBe('SMDL');
    expect(header[4]).toBe(METADATA_LOG_FORMAT_VERSION);
    await log.append([
      topicRecord('a', ID),
      configRecord(ConfigResourceType.TOPIC, 'a', 'retention.ms', '5'),
    ]);
    await log.append([]);
    await log.append([configRecord(ConfigResourceType.TOPIC, 'a', 'retention.ms', null)]);
    expect((await readAll(log)).map((r) => r.type)).toEqual([2, 4, 4]);
    await log.close();
    const reopened = await FileMetadataLog.open(path);
    expect(reopened.truncatedBytes).toBe(0);
    expect((await readAll(reopened)).map((r) => r.message)).toEqual([
      { name: 'a', topicId: ID },
      { resourceType: 2, resourceName: 'a', name: 'retention.ms', value: '5' },
      { resourceType: 2, resourceName: 'a', name: 'retention.ms', value: null },
    ]);
    await reopened.close();
  });

  it('truncates a torn tail at every possible cut, keeping the complete entries', async () => {
    const path = join(dir, 'm.log');
    const log = await FileMetadataLog.open(path);
    await log.append([topicRecord('a', ID)]);
    const good = log.size;
    await log.append([
      configRecord(ConfigResourceType.TOPIC, 'a', 'retention.ms', '5'),
      topicRecord('b', 'AAECAwQFBgcICQoLDA0OEA'),
    ]);
    const full = log.size;
    await log.close();
    const bytes = await readFile(path);
    for (let cut = good + 1; cut < full; cut++) {
      await writeFile(path, bytes.subarray(0, cut));
      const l = await FileMetadataLog.open(path);
      expect(l.truncatedBytes).toBe(cut - good);
      expect((await readAll(l)).map((r) => r.type)).toEqual([2]);
      expect((await stat(path)).size).toBe(good);
      // And appends continue after the repaired end.
      await l.append([topicRecord('c', 'AAECAwQFBgcICQoLDA0OEQ')]);
      expect((await readAll(l)).map((r) => r.type)).toEqual([2, 2]);
      await l.close();
    }
  });

  it('treats a last entry whose CRC fails as torn, but refuses corruption before the last entry', async () => {
    const path = join(dir, 'm.log');
    const log = await FileMetadataLog.open(path);
    await log.append([topicRecord('a', ID)]);
    const first = log.size;
    await log.append([topicRecord('b', 'AAECAwQFBgcICQoLDA0OEA')]);
    await log.close();
    const bytes = await readFile(path);

    const lastFlipped = Buffer.from(bytes);
    lastFlipped[lastFlipped.length - 1] ^= 0xff;
    await writeFile(path, lastFlipped);
    const l = await FileMetadataLog.open(path);
    expect(l.truncatedBytes).toBe(bytes.length - first);
    expect(await readAll(l)).toHaveLength(1);
    await l.close();

    const firstFlipped = Buffer.from(bytes);
    firstFlipped[first - 1] ^= 0xff;
    await writeFile(path, firstFlipped);
    await expect(FileMetadataLog.open(path)).rejects.toThrow(MetadataLogCorruptError);
  });

  it('refuses a file that is not a metadata log or is of a newer format', async () => {
    const path = join(dir, 'm.log');
    await writeFile(path, Buffer.from('hello world'));
    await expect(FileMetadataLog.open(path)).rejects.toThrow(/bad magic/);
    await writeFile(path, Buffer.from([0x53, 0x4d, 0x44, 0x4c, 9, 0, 0, 0]));
    await expect(FileMetadataLog.open(path)).rejects.toThrow(/format version 9/);
  });

  it('repairs a file torn while its header was being written', async () => {
    const path = join(dir, 'm.log');
    await writeFile(path, Buffer.from('SMD'));
    const l = await FileMetadataLog.open(path);
    expect(await readAll(l)).toEqual([]);
    await l.append([topicRecord('a', ID)]);
    await l.close();
    expect(await readRecordsAt(path)).toHaveLength(1);
  });

  it('refuses an entry with a valid CRC that does not decode', async () => {
    const path = join(dir, 'm.log');
    const log = await FileMetadataLog.open(path);
    await log.close();
    const entry = encodeEntry([topicRecord('a', ID)]);
    // Make the record type unknown, then fix the CRC so only the decoding fails.
    const bad = Buffer.from(entry);
    bad[8 + 4 + 4 + 1] = 6;
    const fixed = encodeEntryWithRawPayload(bad.subarray(8));
    await writeFile(path, Buffer.concat([await readFile(path), fixed]));
    await expect(FileMetadataLog.open(path)).rejects.toThrow(/cannot be decoded/);
  });

  it('rewrites (compacts) the log to the given records', async () => {
    const path = join(dir, 'm.log');
    const m = manager(await FileMetadataLog.open(path));
    await m.start({ endpoints: ENDPOINTS });
    for (let i = 0; i < 5; i++) await m.submit((c) => c.createTopics(createTopics([topic(`t${i}`, 2, 1)])));
    await m.submit((c) => c.deleteTopics({ topics: [], topicNames: ['t0', 't1', 't2'], timeoutMs: 0 }));
    const log = await FileMetadataLog.open(path);
    const before = log.size;
    await log.rewrite(m.image.toRecords());
    expect(log.size).toBeLessThan(before);
    const image = new MetadataImage();
    await log.replayAll((r) => image.replay(r));
    expect(image.toRecords()).toEqual(m.image.toRecords());
    await log.append([topicRecord('after', ID)]);
    await log.close();
    await m.close();
    expect((await readRecordsAt(path)).at(-1)?.message).toEqual({
      name: 'after',
      topicId: ID,
    });
  });

  it('rejects use after close', async () => {
    const log = await FileMetadataLog.open(join(dir, 'm.log'));
    await log.close();
    await expect(log.append([topicRecord('a', ID)])).rejects.toThrow(/closed/);
  });
});

/** An entry around an arbitrary payload, with a correct CRC: crc32c(length bytes + payload). */
function encodeEntryWithRawPayload(payload: Buffer): Buffer {
  const out = Buffer.alloc(8 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  payload.copy(out, 8);
  out.writeUInt32BE(crc32c(payload, crc32c(out.subarray(0, 4))) >>> 0, 4);
  return out;
}

describe('restart', () => {
  it('replays the file log into an equal image after a restart', async () => {
    const path = metadataLogPath(dir);
    const m1 = manager(await FileMetadataLog.open(path), { 'num.partitions': '3' });
    const epoch = await m1.start({ endpoints: ENDPOINTS });
    expect(epoch).toBe(1n);
    await m1.submit((c) =>
      c.createTopics(
        createTopics([
          topic('orders'),
          topic('logs', 2, 1, { configs: [{ name: 'cleanup.policy', value: 'compact' }] }),
        ]),
      ),
    );
    await m1.submit((c) =>
      c.createPartitions({
        topics: [{ name: 'orders', count: 5, assignments: null }],
        timeoutMs: 0,
        validateOnly: false,
      }),
    );
    await m1.submit((c) =>
      c.incrementalAlterConfigs({
        validateOnly: false,
        resources: [
          {
            resourceType: 4,
            resourceName: '',
            configs: [{ name: 'log.retention.ms', configOperation: 0, value: '9' }],
          },
        ],
      }),
    );
    await m1.submit((c) => c.allocateProducerIds(1, epoch));
    await m1.close();

    const m2 = manager(await FileMetadataLog.open(path), { 'num.partitions': '3' });
    // Same endpoints: no new registration, same broker epoch.
    expect(await m2.start({ endpoints: ENDPOINTS })).toBe(1n);
    expect(m2.image.toRecords()).toEqual(m1.image.toRecords());
    expect([...m2.image.topics()]).toEqual([...m1.image.topics()]);
    expect(m2.image.topic('orders')?.partitions.size).toBe(5);
    expect(m2.controller.effectiveTopicConfig('logs')).toMatchObject({ compact: true, retentionMs: 9 });
    // New endpoints: re-registration with the next epoch.
    await m2.close();
    const m3 = manager(await FileMetadataLog.open(path));
    expect(await m3.start({ endpoints: [{ ...ENDPOINTS[0], port: 9093 }] })).toBe(2n);
    expect(m3.image.broker(1)?.endpoints[0].port).toBe(9093);
    await m3.close();
  });

  it('bootstraps a new cluster with metadata.version and this broker, unfenced', async () => {
    const m = manager(new InMemoryMetadataLog());
    await m.start({ endpoints: ENDPOINTS, features: { 'metadata.version': 21 } });
    expect(m.image.features.get('metadata.version')).toBe(21);
    expect(m.image.broker(1)).toMatchObject({ fenced: false, brokerEpoch: 1n, endpoints: ENDPOINTS });
  });

  it('does not apply an operation whose append failed', async () => {
    const failing = new InMemoryMetadataLog();
    let fail = false;
    const append = failing.append.bind(failing);
    failing.append = async (records) => {
      if (fail) throw new Error('disk full');
      return append(records);
    };
    const m = manager(failing);
    await m.start({ endpoints: ENDPOINTS });
    fail = true;
    await expect(m.submit((c) => c.createTopics(createTopics([topic('t')])))).rejects.toThrow(/disk full/);
    expect(m.image.topic('t')).toBeUndefined();
    // The queue keeps working for later operations.
    fail = false;
    await m.submit((c) => c.createTopics(createTopics([topic('t')])));
    expect(m.image.topic('t')).toBeDefined();
  });
});
