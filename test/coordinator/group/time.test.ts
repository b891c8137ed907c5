// SYSTEM_COORDINATOR_TIME: real timers, cancellable.

import { describe, expect, it } from 'vitest';
import { SYSTEM_COORDINATOR_TIME } from '../../../src/coordinator/group/time.js';

describe('SYSTEM_COORDINATOR_TIME', () => {
  it('fires after the delay unless cancelled', async () => {
    const fired: string[] = [];
    SYSTEM_COORDINATOR_TIME.schedule(5, () => fired.push('kept'));
    const cancel = SYSTEM_COORDINATOR_TIME.schedule(5, () => fired.push('cancelled'));
    cancel();
    const start = SYSTEM_COORDINATOR_TIME.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fired).toEqual(['kept']);
    expect(SYSTEM_COORDINATOR_TIME.now() - start).toBeGreaterThanOrEqual(25);
  });

  it('does not fire a delay beyond setTimeout’s limit at once', async () => {
    const fired: string[] = [];
    const cancel = SYSTEM_COORDINATOR_TIME.schedule(2 ** 31 + 1000, () => fired.push('early'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    cancel();
    expect(fired).toEqual([]);
  });
});
