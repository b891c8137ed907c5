import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startBroker } from '../../src/index.js';

describe('startBroker (in-process, for tests and embedding)', () => {
  it('listens on a free port with a temporary data directory that stop() removes', async () => {
    const a = await startBroker({ logger: pino({ level: 'silent' }) });
    const b = await startBroker({ logger: pino({ level: 'silent' }) });
    expect(a.port).not.toBe(b.port);
    expect(a.bootstrap).toBe(`127.0.0.1:${a.port}`);
    const dir = a.config.list('log.dirs')[0];
    expect(existsSync(dir)).toBe(true);
    await a.stop();
    await b.stop();
    expect(existsSync(dir)).toBe(false);
  });
});
