// The KRaft durable state on disk: the metadata log __cluster_metadata-0 (FileRaftLog over the
// storage PartitionLog), the quorum-state file, and KIP-630 snapshot files. Restarts, crashes
// (files cut to their fsynced length), torn and corrupted tails, truncation, snapshots written,
// loaded, pruned and served, and a RaftNode restarted from its directory.

import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { electSelf, readLeaderEpoch } from '../../src/metadata/quorum-state.js';
import type { QuorumStateData } from '../../src/protocol/generated/index.js';
import { batchValues, buildDataBatch, buildLeaderChangeBatch } from '../../src/raft/batch.js';
import { raftConfig } from '../../src/raft/config.js';
import { FileRaftLog, MetadataLogError, performDiskOutput } from '../../src/raft/file-log.js';
import type { RaftBatch } from '../../src/raft/log.js';
import {
  FileQuorumStateStore,
  formatQuorumState,
  parseQuorumState,
  QuorumStateFileError,
  quorumStatePath,
} from '../../src/raft/quorum-state-file.js';
import { RaftNode } from '../../src/raft/raft-node.js';
import {
  buildSnapshot,
  frameSnapshot,
  parseSnapshotFileName,
  readSnapshot,
  SnapshotFormatError,
  snapshotFileName,
} from '../../src/raft/snapshot.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'samsa-raftlog-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const partitionDir = (logDir: string) => join(logDir, '__cluster_metadata-0');
const segment = (logDir: string, base = 0) =>
  join(partitionDir(logDir), `${String(base).padStart(20, '0')}.log`);

/** A data batch of `n` records at the log end, in `epoch`. */
function dataAt(log: FileRaftLog, epoch: number, n = 2, tag = 'v'): RaftBatch {
  const values = Array.from({ length: n }, (_, i) => Buffer.from(`${tag}-${log.endOffset() + i}`));
  return buildDataBatch(log.endOffset(), epoch, values, 1_000 + log.endOffset());
}

function allBatches(log: FileRaftLog): RaftBatch[] {
  return log.read(log.startOffset(), Number.MAX_SAFE_INTEGER);
}

function sameBatches(a: RaftBatch[], b: RaftBatch[]): void {
  expect(a.map((x) => [x.baseOffset, x.lastOffset, x.epoch])).toEqual(
    b.map((x) => [x.baseOffset, x.lastOffset, x.epoch]),
  );
  for (let i = 0; i < a.length; i++) expect(a[i].bytes.equals(b[i].bytes)).toBe(true);
}

function state(epoch: number, leaderId: number, votedId: number): QuorumStateData {
  return {
    clusterId: 'c1',
    leaderId,
    leaderEpoch: epoch,
    votedId,
    votedDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
    appliedOffset: 0n,
    currentVoters: [{ voterId: 1 }, { voterId: 2 }],
  };
}

describe('quorum-state file', () => {
  it('writes Kafka’s JSON for data_version 0 and 1 and reads it back', () => {
    const s = state(7, 2, 3);
    const v0 = JSON.parse(formatQuorumState(s, 0));
    expect(v0).toEqual({
      clusterId: 'c1',
      leaderId: 2,
      leaderEpoch: 7,
      votedId: 3,
      appliedOffset: 0,
      currentVoters: [{ voterId: 1 }, { voterId: 2 }],
      data_version: 0,
    });
    expect(parseQuorumState(formatQuorumState(s, 0))).toEqual({ state: s, version: 0 });
    const v1 = JSON.parse(formatQuorumState({ ...s, votedDirectoryId: 'b8tRS7h4TJ2Vt43Dp85v2A' }, 1));
    expect(v1).toEqual({
      leaderId: 2,
      leaderEpoch: 7,
      votedId: 3,
      votedDirectoryId: 'b8tRS7h4TJ2Vt43Dp85v2A',
      data_version: 1,
    });
    const back = parseQuorumState(JSON.stringify(v1));
    expect(back.version).toBe(1);
    expect(back.state).toMatchObject({
      leaderId: 2,
      leaderEpoch: 7,
      votedId: 3,
      votedDirectoryId: 'b8tRS7h4TJ2Vt43Dp85v2A',
    });
  });

  it('refuses malformed files instead of starting over', () => {
    for (const bad of [
      '{"leaderEpoch": "x"',
      '[]',
      '{"leaderId":1,"leaderEpoch":-2,"votedId":-1,"data_version":0}',
      '{"leaderId":1,"leaderEpoch":2,"votedId":-1,"data_version":9}',
      '{"leaderId":1,"leaderEpoch":2,"votedId":-1,"votedDirectoryId":"nope","data_version":1}',
      '{"leaderId":1,"leaderEpoch":2.5,"votedId":-1,"data_version":0}',
      '{"leaderId":1,"leaderEpoch":2,"votedId":-1,"currentVoters":[{"voterId":"a"}],"data_version":0}',
    ]) {
      expect(() => parseQuorumState(bad, 'qs')).toThrow(QuorumStateFileError);
    }
  });

  it('is replaced atomically, writes land in order, and the single-node broker shares the format', async () => {
    const dir = tempDir();
    const store = FileQuorumStateStore.forLogDir(dir, 0);
    expect(await store.read()).toBeNull();
    // Queued back to back: the file ends with the last one, never an earlier one.
    await Promise.all([
      store.write(state(1, -1, 1)),
      store.write(state(2, 1, 1)),
      store.write(state(3, 2, -1)),
    ]);
    expect(await store.read()).toEqual(state(3, 2, -1));
    expect(readdirSync(partitionDir(dir))).toEqual(['quorum-state']); // no temp file left
    // metadata/quorum-state.ts reads and writes the same file through this module.
    expect(await readLeaderEpoch(dir)).toBe(3);
    const elected = await electSelf(dir, 1, 'b8tRS7h4TJ2Vt43Dp85v2A');
    expect(elected.leaderEpoch).toBe(4);
    expect(JSON.parse(readFileSync(quorumStatePath(dir), 'utf8'))).toMatchObject({
      leaderId: 1,
      leaderEpoch: 4,
      votedId: 1,
      data_version: 1,
    });
  });
});

describe('snapshot format (KIP-630)', () => {
  it('names files <offset 20 digits>-<epoch 10 digits>.checkpoint', () => {
    expect(snapshotFileName(42, 3)).toBe('00000000000000000042-0000000003.checkpoint');
    expect(parseSnapshotFileName('00000000000000000042-0000000003.checkpoint')).toEqual({
      endOffset: 42,
      epoch: 3,
      kind: 'complete',
    });
    expect(parseSnapshotFileName('00000000000000000042-0000000003.checkpoint.part')?.kind).toBe('partial');
    expect(parseSnapshotFileName('00000000000000000042-0000000003.checkpoint.deleted')?.kind).toBe('deleted');
    expect(parseSnapshotFileName('00000000000000000042.log')).toBeNull();
  });

  it('writes SnapshotHeader first and SnapshotFooter last, and checks them', () => {
    const bytes = buildSnapshot({ epoch: 4, lastContainedLogTimestamp: 1234, nowMs: 5 }, [
      [Buffer.from('a'), Buffer.from('b')],
      [Buffer.from('c')],
    ]);
    const parsed = readSnapshot(bytes, 4);
    expect(parsed.header.lastContainedLogTimestamp).toBe(1234n);
    expect(parsed.data.map((b) => [b.baseOffset, b.lastOffset, b.epoch])).toEqual([
      [1, 2, 4],
      [3, 3, 4],
    ]);
    expect(parsed.data.flatMap((b) => batchValues(b).map(String))).toEqual(['a', 'b', 'c']);
    expect(() => readSnapshot(bytes, 5)).toThrow(SnapshotFormatError);
    // Without its footer (a write cut short), with a flipped byte, or empty: not a snapshot.
    expect(() => readSnapshot(bytes.subarray(0, bytes.length - 10))).toThrow(SnapshotFormatError);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 3] ^= 0xff;
    expect(() => readSnapshot(flipped)).toThrow(SnapshotFormatError);
    expect(() => readSnapshot(Buffer.alloc(0))).toThrow(SnapshotFormatError);
    // Data batches alone (no header) are refused.
    expect(() => readSnapshot(readSnapshot(bytes).dataBytes)).toThrow(SnapshotFormatError);
    // frameSnapshot keeps encoded batches byte for byte.
    const framed = frameSnapshot({ epoch: 4, lastContainedLogTimestamp: 0, nowMs: 0 }, parsed.dataBytes);
    expect(readSnapshot(framed).dataBytes.equals(parsed.dataBytes)).toBe(true);
  });
});

describe('FileRaftLog', () => {
  it('restarts with the same batches, epochs and epoch cache', async () => {
    const dir = tempDir();
    let log = await FileRaftLog.open({ logDir: dir });
    log.append(buildLeaderChangeBatch(0, 1, 1, [1, 2, 3], [1, 2], 100));
    log.append(dataAt(log, 1, 3));
    log.append(buildLeaderChangeBatch(log.endOffset(), 3, 2, [1, 2, 3], [2, 3], 200));
    log.append(dataAt(log, 3, 2));
    await log.flush(log.endOffset());
    const before = allBatches(log);
    await log.close();
    log = await FileRaftLog.open({ logDir: dir });
    sameBatches(allBatches(log), before);
    expect(log.endOffset()).toBe(7);
    expect(log.lastFetchedEpoch()).toBe(3);
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, offset: 4 });
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 1, offset: 4 });
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, offset: 7 });
    // The leader epochs are in the segment, as Kafka writes them (partitionLeaderEpoch at byte 12).
    const file = readFileSync(segment(dir));
    expect(file.readInt32BE(12)).toBe(1);
    expect(log.durableEndOffset()).toBe(7);
    await log.close();
  });

  it('a crash loses only what was not fsynced', async () => {
    const dir = tempDir();
    const log = await FileRaftLog.open({ logDir: dir });
    log.append(dataAt(log, 1, 2));
    log.append(dataAt(log, 1, 2));
    await log.flush(log.endOffset());
    const durable = allBatches(log);
    const fsyncedLength = statSync(segment(dir)).size;
    log.append(dataAt(log, 1, 2));
    log.append(dataAt(log, 2, 1));
    await log.settled();
    expect(log.durableEndOffset()).toBe(4);
    await log.abort();
    // Power loss: the file keeps what was fsynced (the page cache had more).
    expect(statSync(segment(dir)).size).toBeGreaterThan(fsyncedLength);
    truncateSync(segment(dir), fsyncedLength);
    const reopened = await FileRaftLog.open({ logDir: dir });
    sameBatches(allBatches(reopened), durable);
    expect(reopened.endOffset()).toBe(4);
    expect(reopened.lastFetchedEpoch()).toBe(1);
    // And it goes on from there.
    reopened.append(dataAt(reopened, 2, 1));
    await reopened.flush(reopened.endOffset());
    await reopened.close();
    const again = await FileRaftLog.open({ logDir: dir });
    expect(again.endOffset()).toBe(5);
    await again.close();
  });

  it('truncates a torn or corrupted tail batch at recovery', async () => {
    const dir = tempDir();
    const log = await FileRaftLog.open({ logDir: dir });
    for (let i = 0; i < 3; i++) log.append(dataAt(log, 1, 2));
    await log.flush(log.endOffset());
    const firstTwo = allBatches(log).slice(0, 2);
    const lastSize = allBatches(log)[2].bytes.length;
    await log.abort();
    // A flipped byte inside the last batch's records: its CRC fails, it goes.
    const file = readFileSync(segment(dir));
    file[file.length - 2] ^= 0x55;
    writeFileSync(segment(dir), file);
    let reopened = await FileRaftLog.open({ logDir: dir });
    sameBatches(allBatches(reopened), firstTwo);
    expect(reopened.endOffset()).toBe(4);
    expect(statSync(segment(dir)).size).toBe(file.length - lastSize);
    // A half-written batch after the last good one goes too.
    reopened.append(dataAt(reopened, 1, 2));
    await reopened.flush(reopened.endOffset());
    const three = allBatches(reopened);
    await reopened.abort();
    const whole = readFileSync(segment(dir));
    writeFileSync(segment(dir), Buffer.concat([whole, three[2].bytes.subarray(0, 30)]));
    reopened = await FileRaftLog.open({ logDir: dir });
    sameBatches(allBatches(reopened), three);
    await reopened.close();
  });

  it('a truncation (diverging epoch) reaches the files, in order with the appends after it', async () => {
    const dir = tempDir();
    const log = await FileRaftLog.open({ logDir: dir });
    log.append(dataAt(log, 1, 2));
    log.append(dataAt(log, 2, 2));
    log.append(dataAt(log, 2, 2));
    await log.flush(log.endOffset());
    // No await between the truncation and the appends that replace the cut entries.
    log.truncateTo(2);
    log.append(dataAt(log, 3, 1, 'new'));
    log.append(dataAt(log, 3, 2, 'new'));
    const flushed = log.flush(log.endOffset());
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 1, offset: 2 });
    await flushed;
    const expected = allBatches(log);
    await log.close();
    const reopened = await FileRaftLog.open({ logDir: dir });
    sameBatches(allBatches(reopened), expected);
    expect(reopened.endOffsetForEpoch(2)).toEqual({ epoch: 1, offset: 2 });
    expect(reopened.endOffsetForEpoch(3)).toEqual({ epoch: 3, offset: 5 });
    await reopened.close();
  });

  it('writes snapshot files, deletes the segments below and the snapshots beyond three, and loads the latest', async () => {
    const dir = tempDir();
    // Small segments, so that a snapshot leaves whole segments below it.
    const log = await FileRaftLog.open({ logDir: dir, segmentBytes: 300 });
    for (let i = 0; i < 12; i++) log.append(dataAt(log, 1, 2));
    await log.flush(log.endOffset());
    const segmentsBefore = readdirSync(partitionDir(dir)).filter((n) => n.endsWith('.log')).length;
    expect(segmentsBefore).toBeGreaterThan(3);
    const snapshotAt = (end: number) => {
      const below = allBatches(log).filter((b) => b.lastOffset < end);
      return buildSnapshot(
        { epoch: 1, lastContainedLogTimestamp: 1_000 + end, nowMs: 9 },
        below.map((b) => batchValues(b)),
      );
    };
    // Each snapshot's content is made before the log start moves past it.
    const contents = new Map<number, Buffer>();
    for (const end of [4, 8, 12, 16]) {
      contents.set(end, snapshotAt(end));
      log.createSnapshot({ endOffset: end, epoch: 1, bytes: contents.get(end) as Buffer });
    }
    await log.settled();
    const names = readdirSync(partitionDir(dir));
    expect(names.filter((n) => n.endsWith('.checkpoint')).sort()).toEqual([
      snapshotFileName(8, 1),
      snapshotFileName(12, 1),
      snapshotFileName(16, 1),
    ]);
    expect(names.some((n) => n.includes('.part') || n.includes('.deleted'))).toBe(false);
    const bases = names.filter((n) => n.endsWith('.log')).map((n) => Number(n.slice(0, 20)));
    expect(bases.length).toBeLessThan(segmentsBefore);
    // Whole segments below the snapshot went; the one holding offset 16 stayed.
    expect(Math.min(...bases)).toBeLessThanOrEqual(16);
    expect(bases.filter((b) => b <= 16).length).toBe(1);
    const tail = allBatches(log);
    const latestBytes = readFileSync(join(partitionDir(dir), snapshotFileName(16, 1)));
    expect(latestBytes.equals(contents.get(16) as Buffer)).toBe(true);
    await log.close();

    // A leftover partial snapshot of a crashed writer is removed at open.
    writeFileSync(join(partitionDir(dir), snapshotFileName(20, 1, '.checkpoint.part')), Buffer.from('half'));
    const reopened = await FileRaftLog.open({ logDir: dir, segmentBytes: 300 });
    expect(reopened.startOffset()).toBe(16);
    expect(reopened.latestSnapshot()?.bytes.equals(latestBytes)).toBe(true);
    sameBatches(allBatches(reopened), tail);
    expect(reopened.endOffset()).toBe(24);
    // FetchSnapshot serves the file's bytes (the older kept snapshots too).
    expect(
      reopened
        .snapshotById(8, 1)
        ?.bytes.equals(readFileSync(join(partitionDir(dir), snapshotFileName(8, 1)))),
    ).toBe(true);
    expect(reopened.snapshotById(4, 1)).toBeUndefined();
    expect(existsSync(join(partitionDir(dir), snapshotFileName(20, 1, '.checkpoint.part')))).toBe(false);
    await reopened.close();
  });

  it('falls back to the previous snapshot when the latest is broken', async () => {
    const dir = tempDir();
    const log = await FileRaftLog.open({ logDir: dir });
    for (let i = 0; i < 4; i++) log.append(dataAt(log, 2, 2));
    await log.flush(log.endOffset());
    const snap = (end: number) =>
      buildSnapshot({ epoch: 2, lastContainedLogTimestamp: 0, nowMs: 0 }, [[Buffer.from(`upto-${end}`)]]);
    log.createSnapshot({ endOffset: 2, epoch: 2, bytes: snap(2) });
    log.createSnapshot({ endOffset: 6, epoch: 2, bytes: snap(6) });
    await log.settled();
    await log.close();
    const latest = join(partitionDir(dir), snapshotFileName(6, 2));
    truncateSync(latest, statSync(latest).size - 5); // its footer cut off
    const reopened = await FileRaftLog.open({ logDir: dir });
    expect(reopened.startOffset()).toBe(2);
    expect(reopened.latestSnapshot()?.bytes.equals(snap(2))).toBe(true);
    expect(reopened.endOffset()).toBe(8);
    expect(existsSync(latest)).toBe(false);
    await reopened.close();
  });

  it('installs a leader’s snapshot as its whole log, and restarts from it', async () => {
    const dir = tempDir();
    const log = await FileRaftLog.open({ logDir: dir });
    log.append(dataAt(log, 1, 3));
    await log.flush(log.endOffset());
    const bytes = buildSnapshot({ epoch: 4, lastContainedLogTimestamp: 0, nowMs: 0 }, [
      [Buffer.from('state')],
    ]);
    log.installSnapshot({ endOffset: 50, epoch: 4, bytes });
    log.append(buildDataBatch(50, 4, [Buffer.from('after')], 0));
    await log.flush(log.endOffset());
    await log.close();
    const reopened = await FileRaftLog.open({ logDir: dir });
    expect(reopened.startOffset()).toBe(50);
    expect(reopened.endOffset()).toBe(51);
    expect(reopened.lastFetchedEpoch()).toBe(4);
    expect(reopened.endOffsetForEpoch(3)).toEqual({ epoch: 0, offset: 50 });
    expect(reopened.endOffsetForEpoch(4)).toEqual({ epoch: 4, offset: 51 });
    expect(readdirSync(partitionDir(dir)).filter((n) => n.endsWith('.log'))).toEqual([
      `${String(50).padStart(20, '0')}.log`,
    ]);
    await reopened.close();
  });

  it('a snapshot beyond the log end (crash before the log was replaced) restarts the log at its end', async () => {
    const dir = tempDir();
    const log = await FileRaftLog.open({ logDir: dir });
    log.append(dataAt(log, 1, 3));
    await log.flush(log.endOffset());
    await log.close();
    const bytes = buildSnapshot({ epoch: 2, lastContainedLogTimestamp: 0, nowMs: 0 }, [[Buffer.from('s')]]);
    writeFileSync(join(partitionDir(dir), snapshotFileName(10, 2)), bytes);
    const reopened = await FileRaftLog.open({ logDir: dir });
    expect([reopened.startOffset(), reopened.endOffset(), reopened.lastFetchedEpoch()]).toEqual([10, 10, 2]);
    await reopened.close();
  });

  it('refuses a log that starts after its latest snapshot (the committed prefix is gone)', async () => {
    const dir = tempDir();
    const log = await FileRaftLog.open({ logDir: dir });
    const bytes = buildSnapshot({ epoch: 1, lastContainedLogTimestamp: 0, nowMs: 0 }, [[Buffer.from('s')]]);
    log.installSnapshot({ endOffset: 10, epoch: 1, bytes });
    log.append(buildDataBatch(10, 1, [Buffer.from('x')], 0));
    await log.flush(log.endOffset());
    await log.close();
    rmSync(join(partitionDir(dir), snapshotFileName(10, 1)));
    await expect(FileRaftLog.open({ logDir: dir })).rejects.toThrow(MetadataLogError);
  });
});

/** Drives one RaftNode on a FileRaftLog and a quorum-state file, with a manual clock. */
class DiskNode {
  now = 0;
  errors: Error[] = [];
  node!: RaftNode;
  log!: FileRaftLog;
  store!: FileQuorumStateStore;

  constructor(
    readonly dir: string,
    readonly voters: number[] = [1],
  ) {}

  async start(): Promise<void> {
    this.log = await FileRaftLog.open({ logDir: this.dir });
    this.store = FileQuorumStateStore.forLogDir(this.dir, 0);
    this.node = new RaftNode({
      config: raftConfig({ nodeId: 1, voters: this.voters, clusterId: 'c1' }),
      log: this.log,
      random: () => 0.5,
      nowMs: this.now,
      quorumState: await this.store.read(),
    });
    this.drain();
  }

  drain = (): void => {
    for (const out of this.node.takeOutputs()) {
      performDiskOutput(out, {
        node: this.node,
        log: this.log,
        quorumState: this.store,
        now: () => this.now,
        afterInput: this.drain,
        onError: (e) => this.errors.push(e),
      });
    }
  };

  /** Lets disk completions come in, then moves time to the node's next deadline. */
  async step(): Promise<void> {
    await this.log.settled();
    await new Promise((r) => setImmediate(r));
    const due = this.node.nextDeadlineMs();
    if (Number.isFinite(due)) this.now = Math.max(this.now, due);
    this.node.poll(this.now);
    this.drain();
  }

  async until(cond: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !cond(); i++) await this.step();
    expect(cond()).toBe(true);
  }
}

describe('a RaftNode on disk', () => {
  it('restarts from its directory (log, quorum-state, snapshot) with the same state', async () => {
    const dir = tempDir();
    const a = new DiskNode(dir);
    await a.start();
    await a.until(() => a.node.role === 'Leader');
    const epoch = a.node.epoch;
    for (let i = 0; i < 5; i++)
      expect(a.node.propose([Buffer.from(`r${i}`), Buffer.from(`s${i}`)], a.now).ok).toBe(true);
    const end = a.log.endOffset();
    await a.until(() => a.node.highWatermark === end);
    const snapEnd = a.log.batchAt(5)?.lastOffset as number;
    const below = a.log.read(0, Number.MAX_SAFE_INTEGER).filter((b) => b.lastOffset < snapEnd + 1);
    const snapBytes = buildSnapshot(
      { epoch, lastContainedLogTimestamp: 0, nowMs: a.now },
      below.map((b) => batchValues(b)),
    );
    expect(a.node.createSnapshot(snapEnd + 1, snapBytes)).toBe(true);
    await a.log.settled();
    const batches = a.log.read(a.log.startOffset(), Number.MAX_SAFE_INTEGER);
    await a.log.close();
    expect(a.errors).toEqual([]);

    const b = new DiskNode(dir);
    b.now = a.now;
    await b.start();
    // The same log, snapshot and epoch; a restarted leader comes back Resigned in its epoch.
    expect(b.log.startOffset()).toBe(snapEnd + 1);
    expect(b.log.latestSnapshot()?.bytes.equals(snapBytes)).toBe(true);
    sameBatches(b.log.read(b.log.startOffset(), Number.MAX_SAFE_INTEGER), batches);
    expect(b.node.epoch).toBe(epoch);
    expect(b.node.role).toBe('Resigned');
    // It wins the next epoch and commits after what it had.
    await b.until(() => b.node.role === 'Leader');
    expect(b.node.epoch).toBe(epoch + 1);
    const r = b.node.propose([Buffer.from('after restart')], b.now);
    expect(r.ok).toBe(true);
    await b.until(() => b.node.highWatermark === b.log.endOffset());
    expect(b.node.highWatermark).toBeGreaterThan(end);
    // The vote of its new epoch is on disk, in Kafka's version-0 file (static voters).
    await b.store.settled();
    const qs = JSON.parse(readFileSync(quorumStatePath(dir), 'utf8'));
    const current = b.node.quorumState();
    expect(qs).toMatchObject({ leaderEpoch: current.leaderEpoch, votedId: current.votedId, data_version: 0 });
    expect(current.leaderEpoch).toBe(epoch + 1);
    await b.log.close();
    expect(b.errors).toEqual([]);
  });
});
