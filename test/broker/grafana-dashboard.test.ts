// docs/grafana/samsa.json stays true to /metrics: every metric its queries name is one the broker
// exposes (a renamed family fails here rather than in someone's empty panel).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startBroker } from '../../src/broker/broker.js';

const DASHBOARD = join(import.meta.dirname, '..', '..', 'docs', 'grafana', 'samsa.json');

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}

describe('the Grafana dashboard', () => {
  it('queries only metrics that /metrics exposes', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      panels: Panel[];
      templating: { list: { definition?: string }[] };
    };
    const exprs = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...dashboard.templating.list.flatMap((v) => (v.definition ? [v.definition] : [])),
    ];
    expect(exprs.length).toBeGreaterThan(30);
    const names = new Set(exprs.flatMap((e) => e.match(/\b(?:kafka|process|nodejs)_[a-z0-9_]+/g) ?? []));

    const broker = await startBroker({
      config: { 'http.listeners': 'http://127.0.0.1:0' },
      logger: pino({ level: 'silent' }),
    });
    try {
      const text = await (await fetch(`${broker.http!.address}/metrics`)).text();
      // Families by their TYPE lines; a histogram's series add _bucket, _sum and _count.
      const exposed = new Set<string>();
      for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        exposed.add(m[1]);
        if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exposed.add(m[1] + s);
      }
      const missing = [...names].filter((n) => !exposed.has(n));
      expect(missing).toEqual([]);
    } finally {
      await broker.stop();
    }
  });

  it('has a unique id for every panel', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { id: number }[] };
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
