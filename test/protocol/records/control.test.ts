// Control batches: transaction markers and control record keys.

import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/protocol/primitives/reader.js';
import {
  ControlRecordType,
  decodeControlRecordKey,
  decodeEndTxnMarker,
  decodeEndTxnMarkerValue,
  decodeRecordBatch,
  encodeControlRecordKey,
  encodeEndTxnMarkerBatch,
  encodeRecordBatch,
} from '../../../src/protocol/records/index.js';

const OPTS = { maxUncompressedBytes: 1 << 20 };

describe('end transaction markers', () => {
  it.each([true, false])('commit=%s round trips', (commit) => {
    const batch = encodeEndTxnMarkerBatch({
      commit,
      producerId: 4242n,
      producerEpoch: 3,
      coordinatorEpoch: 12,
      timestamp: 1_700_000_000_000,
      baseOffset: 77n,
      partitionLeaderEpoch: 2,
    });
    const decoded = decodeRecordBatch(batch, OPTS);
    const h = decoded.header;
    expect(h.isControl).toBe(true);
    expect(h.isTransactional).toBe(true);
    expect(h.producerId).toBe(4242n);
    expect(h.producerEpoch).toBe(3);
    expect(h.baseSequence).toBe(-1);
    expect(h.compression).toBe(0);
    expect(decoded.baseOffset).toBe(77n);
    expect(decoded.records).toHaveLength(1);
    const [record] = decoded.records;
    expect(record.key?.toString('hex')).toBe(commit ? '00000001' : '00000000');
    expect(record.value?.toString('hex')).toBe('00000000000c');
    expect(decodeEndTxnMarker(record)).toEqual({ commit, coordinatorEpoch: 12 });
  });

  it('rejects records that are not markers', () => {
    const batch = encodeRecordBatch(
      [{ key: encodeControlRecordKey(ControlRecordType.LeaderChange), value: Buffer.alloc(0), timestamp: 1 }],
      { isControl: true },
    );
    const [record] = decodeRecordBatch(batch, OPTS).records;
    expect(decodeControlRecordKey(record.key)).toEqual({ version: 0, type: ControlRecordType.LeaderChange });
    expect(() => decodeEndTxnMarker(record)).toThrow(DecodeError);
  });

  it('validates keys and values', () => {
    expect(() => decodeControlRecordKey(null)).toThrow(DecodeError);
    expect(() => decodeControlRecordKey(Buffer.from([0, 0, 0]))).toThrow(DecodeError);
    expect(() => decodeControlRecordKey(Buffer.from([0xff, 0xff, 0, 1]))).toThrow(DecodeError);
    expect(decodeControlRecordKey(Buffer.from([0, 1, 0, 1, 9, 9]))).toEqual({ version: 1, type: 1 });
    expect(() => decodeEndTxnMarkerValue(Buffer.from([0, 0, 0]))).toThrow(DecodeError);
    expect(decodeEndTxnMarkerValue(Buffer.from('00010000000700', 'hex'))).toEqual({
      version: 1,
      coordinatorEpoch: 7,
    });
  });
});
