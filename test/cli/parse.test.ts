// The CLI's parsers of times, durations and partition lists (kafka-consumer-groups' formats).

import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { plural } from '../../src/cli/output.js';
import { parseDateTime, parseDuration, parsePartitions, parseTime } from '../../src/cli/shared.js';

describe('parseDateTime (--to-datetime)', () => {
  it("reads Kafka's format, in local time without a zone", () => {
    expect(parseDateTime('2026-01-31T13:45:10.250')).toBe(new Date(2026, 0, 31, 13, 45, 10, 250).getTime());
    expect(parseDateTime('2026-01-31T13:45')).toBe(new Date(2026, 0, 31, 13, 45).getTime());
    expect(parseDateTime('2026-01-31T13:45:10.5')).toBe(new Date(2026, 0, 31, 13, 45, 10, 500).getTime());
  });

  it('honours Z and offsets', () => {
    expect(parseDateTime('2026-01-31T13:45:00.000Z')).toBe(Date.UTC(2026, 0, 31, 13, 45));
    expect(parseDateTime('2026-01-31T13:45:00.000+01:00')).toBe(Date.UTC(2026, 0, 31, 12, 45));
    expect(parseDateTime('2026-01-31T13:45:00-0530')).toBe(Date.UTC(2026, 0, 31, 19, 15));
  });

  it('refuses what is not a date-time', () => {
    for (const bad of [
      '2026-01-31',
      'yesterday',
      '2026-02-30T00:00:00',
      '2026-01-31T24:00:00',
      '2026-13-01T00:00',
    ])
      expect(() => parseDateTime(bad), bad).toThrow(InvalidArgumentError);
  });
});

describe('parseDuration (--by-duration, ISO-8601 as Java Duration.parse)', () => {
  it('reads days, hours, minutes and seconds', () => {
    expect(parseDuration('P1D')).toBe(86_400_000);
    expect(parseDuration('PT1H30M')).toBe(5_400_000);
    expect(parseDuration('P1DT2H')).toBe(93_600_000);
    expect(parseDuration('PT0.5S')).toBe(500);
    expect(parseDuration('pt10m')).toBe(600_000);
  });

  it('refuses the rest', () => {
    for (const bad of ['P', 'PT', '1H', 'P1H', 'PT1D', '-PT1H', 'P1W', ''])
      expect(() => parseDuration(bad), bad).toThrow(InvalidArgumentError);
  });
});

describe('parseTime, parsePartitions, plural', () => {
  it('takes ms or a date-time; partition lists; counts', () => {
    expect(parseTime('1700000000000')).toBe(1_700_000_000_000);
    expect(parseTime('2026-01-01T00:00:00Z')).toBe(Date.UTC(2026, 0, 1));
    expect(parsePartitions('2,0, 1,2')).toEqual([0, 1, 2]);
    expect(() => parsePartitions('0,x')).toThrow(InvalidArgumentError);
    expect(() => parsePartitions('')).toThrow(InvalidArgumentError);
    expect(plural(1, 'record')).toBe('1 record');
    expect(plural(0, 'record')).toBe('0 records');
    expect(plural(2n, 'partition')).toBe('2 partitions');
    expect(plural(1n, 'entry', 'entries')).toBe('1 entry');
  });
});
