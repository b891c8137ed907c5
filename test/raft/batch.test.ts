// The metadata log's batches: data and LeaderChange control batches as Kafka v2 batches, and the
// framing of a Fetch response's records field.

import { describe, expect, it } from 'vitest';
import { LeaderChangeMessage } from '../../src/protocol/generated/index.js';
import { decodeControlRecordKey } from '../../src/protocol/records/control.js';
import { decodeRecordBatch } from '../../src/protocol/records/decode.js';
import {
  batchValues,
  buildDataBatch,
  buildLeaderChangeBatch,
  concatBatches,
  isControlBatch,
  splitBatches,
} from '../../src/raft/batch.js';

describe('raft batches', () => {
  it('a data batch carries its offsets and leader epoch in the v2 header', () => {
    const b = buildDataBatch(7, 3, [Buffer.from('a'), Buffer.from('bc')], 1_700_000_000_000);
    expect([b.baseOffset, b.lastOffset, b.epoch]).toEqual([7, 8, 3]);
    const decoded = decodeRecordBatch(b.bytes, { maxUncompressedBytes: 1 << 20 });
    expect(decoded.baseOffset).toBe(7n);
    expect(decoded.header.partitionLeaderEpoch).toBe(3);
    expect(batchValues(b).map(String)).toEqual(['a', 'bc']);
    expect(isControlBatch(b)).toBe(false);
  });

  it('a LeaderChange batch is a control batch with Kafka key and message', () => {
    const b = buildLeaderChangeBatch(0, 4, 2, [1, 2, 3], [2, 3], 0);
    expect(isControlBatch(b)).toBe(true);
    const record = decodeRecordBatch(b.bytes, { maxUncompressedBytes: 1 << 20 }).records[0];
    expect(decodeControlRecordKey(record.key)).toEqual({ version: 0, type: 2 });
    const msg = LeaderChangeMessage.decode(record.value as Buffer, 0);
    expect(msg.leaderId).toBe(2);
    expect(msg.voters.map((v) => v.voterId)).toEqual([1, 2, 3]);
    expect(msg.grantingVoters.map((v) => v.voterId)).toEqual([2, 3]);
  });

  it('splits a records field into batches, leaving out a trailing partial one and refusing a bad CRC', () => {
    const a = buildDataBatch(0, 1, [Buffer.from('x')], 0);
    const b = buildDataBatch(1, 1, [Buffer.from('y'), Buffer.from('z')], 0);
    const both = concatBatches([a, b]);
    expect(splitBatches(both).map((x) => [x.baseOffset, x.lastOffset, x.epoch])).toEqual([
      [0, 0, 1],
      [1, 2, 1],
    ]);
    expect(splitBatches(both.subarray(0, both.length - 5)).map((x) => x.baseOffset)).toEqual([0]);
    expect(splitBatches(null)).toEqual([]);
    const bad = Buffer.from(both);
    bad[a.bytes.length - 1] ^= 1;
    expect(() => splitBatches(bad)).toThrow();
  });
});
