// What flush.messages selects, through the broker's config resolution down to the partition log:
// 1 (Samsa's default) is an fsync before every ack; any larger value is Kafka's page-cache mode,
// Long.MAX_VALUE (Kafka's own default, "never fsync by count") included. A regression test: that
// value was once read as "unset" and gave the fsync-per-ack mode to a user who asked for Kafka's.

import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { isPageCacheMode } from '../../src/storage/config.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';

const brokers: Broker[] = [];
afterAll(async () => {
  for (const b of brokers) await b.stop();
});

/** Starts a broker with `config`, creates topic t, returns t-0's log config. */
async function logConfigWith(config: Record<string, string>) {
  const b = await startBroker({ config, logger: pino({ level: 'silent' }) });
  brokers.push(b);
  const rpc = await KafkaRpc.connect(b.port);
  try {
    await rpc.createTopic('t', 1);
  } finally {
    rpc.close();
  }
  return b.services.logManager.getLog('t', 0)!.config;
}

describe('flush.messages and page-cache mode', () => {
  it('fsyncs before every ack by default', async () => {
    const c = await logConfigWith({});
    expect(isPageCacheMode(c)).toBe(false);
  });

  it("is page-cache mode at Kafka's default, log.flush.interval.messages = Long.MAX_VALUE", async () => {
    const c = await logConfigWith({ 'log.flush.interval.messages': '9223372036854775807' });
    expect(isPageCacheMode(c)).toBe(true);
    expect(c.flushMessages).toBe(Number.POSITIVE_INFINITY); // never by count
    expect(c.flushMs).toBeNull(); // nor by time
  });

  it('is page-cache mode with fsync every N messages for a smaller count', async () => {
    const c = await logConfigWith({ 'log.flush.interval.messages': '10000' });
    expect(isPageCacheMode(c)).toBe(true);
    expect(c.flushMessages).toBe(10000);
  });
});
