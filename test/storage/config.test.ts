// Log config (Kafka's names and defaults) and the file and directory names of the layout.

import { describe, expect, it } from 'vitest';
import { deleteDirName, isDeleteDirName, parseSegmentFileName } from '../../src/storage/files.js';
import {
  DEFAULT_LOG_CONFIG,
  InvalidLogConfigError,
  isPageCacheMode,
  logConfigFromKafka,
  makeLogConfig,
  offsetFilePrefix,
  parsePartitionDirName,
  partitionDirName,
} from '../../src/storage/index.js';

describe('LogConfig', () => {
  it("has Kafka's topic defaults, except fsync-before-ack", () => {
    expect(DEFAULT_LOG_CONFIG).toMatchObject({
      segmentBytes: 1073741824,
      segmentMs: 604800000,
      segmentIndexBytes: 10485760,
      indexIntervalBytes: 4096,
      retentionMs: 604800000,
      retentionBytes: -1,
      flushMessages: null,
      flushMs: null,
      messageTimestampType: 'CreateTime',
      cleanupPolicy: ['delete'],
    });
    expect(isPageCacheMode(DEFAULT_LOG_CONFIG)).toBe(false);
  });

  it("maps Kafka's topic config names, Long.MAX_VALUE meaning never", () => {
    const partial = logConfigFromKafka({
      'segment.bytes': '1048576',
      'retention.ms': '-1',
      'flush.messages': '9223372036854775807',
      'cleanup.policy': 'compact,delete',
      'message.timestamp.type': 'LogAppendTime',
      'max.message.bytes': '1000',
    });
    expect(partial).toEqual({
      segmentBytes: 1048576,
      retentionMs: -1,
      flushMessages: Number.POSITIVE_INFINITY,
      cleanupPolicy: ['compact', 'delete'],
      messageTimestampType: 'LogAppendTime',
    });
    const c = makeLogConfig(partial);
    expect(isPageCacheMode(c)).toBe(true);
    expect(isPageCacheMode(makeLogConfig({ flushMessages: 1 }))).toBe(false);
    expect(isPageCacheMode(makeLogConfig({ flushMs: 1000 }))).toBe(true);
  });

  it("has the compaction configs, with Kafka's names and defaults", () => {
    expect(DEFAULT_LOG_CONFIG).toMatchObject({
      deleteRetentionMs: 86400000,
      minCompactionLagMs: 0,
      maxCompactionLagMs: Number.POSITIVE_INFINITY,
      minCleanableDirtyRatio: 0.5,
    });
    expect(
      logConfigFromKafka({
        'delete.retention.ms': '1000',
        'min.compaction.lag.ms': '2000',
        'max.compaction.lag.ms': '9223372036854775807',
        'min.cleanable.dirty.ratio': '0.25',
      }),
    ).toEqual({
      deleteRetentionMs: 1000,
      minCompactionLagMs: 2000,
      maxCompactionLagMs: Number.POSITIVE_INFINITY,
      minCleanableDirtyRatio: 0.25,
    });
    expect(() => makeLogConfig({ minCleanableDirtyRatio: 1.5 })).toThrow(InvalidLogConfigError);
    expect(() => makeLogConfig({ maxCompactionLagMs: 0 })).toThrow(InvalidLogConfigError);
    expect(() => makeLogConfig({ deleteRetentionMs: -1 })).toThrow(InvalidLogConfigError);
    expect(() => logConfigFromKafka({ 'min.cleanable.dirty.ratio': 'half' })).toThrow(InvalidLogConfigError);
  });

  it('rejects invalid values', () => {
    expect(() => makeLogConfig({ segmentBytes: 10 })).toThrow(InvalidLogConfigError);
    expect(() => makeLogConfig({ retentionMs: -2 })).toThrow(InvalidLogConfigError);
    expect(() => makeLogConfig({ flushMessages: 0 })).toThrow(InvalidLogConfigError);
    expect(() => logConfigFromKafka({ 'segment.ms': 'soon' })).toThrow(InvalidLogConfigError);
    expect(() => logConfigFromKafka({ 'cleanup.policy': 'shred' })).toThrow(InvalidLogConfigError);
  });
});

describe("Kafka's file names", () => {
  it('names segments by 20-digit base offset', () => {
    expect(offsetFilePrefix(0)).toBe('00000000000000000000');
    expect(offsetFilePrefix(1234567)).toBe('00000000000001234567');
    expect(parseSegmentFileName('00000000000001234567.timeindex')).toEqual({
      baseOffset: 1234567,
      suffix: '.timeindex',
    });
    expect(parseSegmentFileName('1234.log')).toBeNull();
  });

  it('names partition directories <topic>-<partition>, and deleted ones <topic>-<partition>.<uuid>-delete', () => {
    expect(partitionDirName({ topic: 'a-b.c', partition: 7 })).toBe('a-b.c-7');
    expect(parsePartitionDirName('a-b.c-7')).toEqual({ topic: 'a-b.c', partition: 7 });
    expect(parsePartitionDirName('meta.properties')).toBeNull();
    expect(parsePartitionDirName('t-0-future')).toBeNull();
    const del = deleteDirName({ topic: 'a-b', partition: 3 }, '0123456789abcdef0123456789abcdef');
    expect(del).toBe('a-b-3.0123456789abcdef0123456789abcdef-delete');
    expect(isDeleteDirName(del)).toBe(true);
    expect(parsePartitionDirName(del)).toBeNull();
  });
});
