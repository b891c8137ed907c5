// `samsa start` as a process with its HTTP listener: the default one (http://127.0.0.1:9644),
// one on a port set explicitly, and a set port that is taken. Runs the bundled build, so it also
// checks that prom-client bundles and loads on the first scrape.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess, buildBroker, removeBrokerBuild, stopAllBrokers } from '../helpers/broker-process.js';
import { until } from '../helpers/tools.js';

function listenOn(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

/** The address the broker logged in its "listening" line, if any. */
function httpAddress(b: BrokerProcess): string | undefined {
  const line = b.logs.find((l) => /listening/.test(String(l.msg)));
  return line?.httpListener as string | undefined;
}

describe('samsa start with its HTTP listener', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samsa-http-start-'));
    // The broker runs in its data dir (the helper's cwd), so each must exist.
    for (const d of ['default', 'explicit', 'taken']) mkdirSync(join(dir, d));
    await buildBroker();
  }, 300_000);
  afterAll(async () => {
    await stopAllBrokers();
    removeBrokerBuild();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves http://127.0.0.1:9644 by default (or warns and runs without when it is taken)', async () => {
    const probe = await listenOn(9644);
    const free = probe !== null;
    await new Promise<void>((r) => (probe ? probe.close(() => r()) : r()));
    const b = await BrokerProcess.start({ dataDir: join(dir, 'default'), defaultHttpListener: true });
    try {
      if (free) {
        expect(httpAddress(b)).toBe('http://127.0.0.1:9644');
        const ready = await fetch('http://127.0.0.1:9644/health/ready');
        expect(ready.status).toBe(200);
        const metrics = await fetch('http://127.0.0.1:9644/metrics');
        expect(metrics.status).toBe(200);
        const text = await metrics.text();
        expect(text).toContain('kafka_server_replicamanager_partitioncount 0');
        expect(text).toContain('process_resident_memory_bytes');
      } else {
        // Another program holds the default port: a warning, and the broker serves Kafka anyway.
        expect(httpAddress(b)).toBeUndefined();
        expect(b.logs.some((l) => l.level === 40 && /HTTP port 9644 is in use/.test(String(l.msg)))).toBe(
          true,
        );
      }
    } finally {
      expect((await b.stop()).code).toBe(0);
    }
  });

  it('serves a port set in http.listeners until it stops', async () => {
    const b = await BrokerProcess.start({
      dataDir: join(dir, 'explicit'),
      overrides: { 'http.listeners': 'http://127.0.0.1:0' },
    });
    const base = httpAddress(b);
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('# TYPE kafka_network_requestmetrics_totaltimems histogram');
    expect((await b.stop()).code).toBe(0);
    await until(() => !b.alive, 'the broker to exit');
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  });

  it('refuses to start when the port set in http.listeners is taken', async () => {
    const blocker = (await listenOn(0))!;
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(
        BrokerProcess.start({
          dataDir: join(dir, 'taken'),
          overrides: { 'http.listeners': `http://127.0.0.1:${port}` },
        }),
      ).rejects.toThrow(/http.listeners: cannot listen on/);
    } finally {
      blocker.close();
    }
  });
});
