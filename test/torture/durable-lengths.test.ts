// What the lost-unsynced-writes fault keeps of each segment file (harness.ts durableLengths).

import { describe, expect, it } from 'vitest';
import { durableLengths } from '../../tools/torture/harness.js';

describe('durableLengths', () => {
  it('keeps the baseline, raised by completed fsyncs and cut by truncations, in journal order', () => {
    const baseline = new Map([
      ['/d/a-0/0.log', 100],
      ['/d/b-0/0.log', 50],
    ]);
    const journal = [
      'sync\t/d/a-0/0.log\t180',
      // An fsync that began earlier (shorter file) and completed later covers no less.
      'sync\t/d/a-0/0.log\t150',
      // Recovery cut b below its baseline; what was appended after and synced counts again.
      'truncate\t/d/b-0/0.log\t20',
      'sync\t/d/b-0/0.log\t40',
      'sync\t/d/c-0/0.log\t10',
      'sync\t/d/torn', // a line cut by the SIGKILL
    ].join('\n');
    const d = durableLengths(baseline, journal);
    expect(d.get('/d/a-0/0.log')).toBe(180);
    expect(d.get('/d/b-0/0.log')).toBe(40);
    expect(d.get('/d/c-0/0.log')).toBe(10);
    // A file never fsynced since the start is not in the map: the harness keeps nothing of it.
    expect(d.has('/d/new-0/0.log')).toBe(false);
    expect(d.has('/d/torn')).toBe(false);
  });

  it('a truncation alone cuts below the baseline', () => {
    expect(durableLengths(new Map([['/x.log', 90]]), 'truncate\t/x.log\t30\n').get('/x.log')).toBe(30);
  });
});
