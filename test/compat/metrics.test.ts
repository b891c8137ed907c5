// /metrics after real clients worked: kcat (librdkafka) produces and consumes in a group, Samsa's
// own client runs a transaction, and the counters moved by exactly what they did.

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { Producer } from '../../src/client/index.js';
import { hasKcat, requireClient, run } from '../helpers/tools.js';

/** The samples of a Prometheus text exposition: "name{labels}" -> value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** The sum of a family's samples whose labels include every one of `labels`. */
function sum(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const [key, v] of samples) {
    const brace = key.indexOf('{');
    const n = brace < 0 ? key : key.slice(0, brace);
    if (n !== name) continue;
    if (!Object.entries(labels).every(([k, val]) => key.includes(`${k}="${val}"`))) continue;
    total += v;
    found = true;
  }
  if (!found) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
  return total;
}

describe.skipIf(!requireClient('kcat', hasKcat))('/metrics after kcat and a transactional producer', () => {
  let broker: Broker;
  let scrape: () => Promise<{ text: string; samples: Map<string, number> }>;

  beforeAll(async () => {
    broker = await startBroker({
      config: {
        'http.listeners': 'http://127.0.0.1:0',
        'num.partitions': '3',
        'group.initial.rebalance.delay.ms': '0',
        'offsets.topic.num.partitions': '2',
        'transaction.state.log.num.partitions': '2',
      },
      logger: pino({ level: 'silent' }),
    });
    scrape = async () => {
      const r = await fetch(`${broker.http!.address}/metrics`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await r.text();
      return { text, samples: parse(text) };
    };
  });
  afterAll(() => broker?.stop());

  it('counts what kcat produced and consumed, per topic, API and listener', async () => {
    const before = (await scrape()).samples;
    expect(sum(before, 'kafka_server_replicamanager_partitioncount')).toBe(0);

    const count = 500;
    const lines = Array.from({ length: count }, (_, i) => `value-${i}`);
    const produced = await run(
      'kcat',
      ['-b', broker.bootstrap, '-P', '-t', 'metered', '-X', 'linger.ms=5'],
      `${lines.join('\n')}\n`,
    );
    expect(produced.code, produced.stderr).toBe(0);
    const valueBytes = lines.reduce((n, l) => n + l.length, 0);

    const afterProduce = (await scrape()).samples;
    const topic = { topic: 'metered' };
    expect(sum(afterProduce, 'kafka_server_brokertopicmetrics_messagesin_total', topic)).toBe(count);
    // Batches carry the values plus their headers: more bytes than the values alone.
    expect(sum(afterProduce, 'kafka_server_brokertopicmetrics_bytesin_total', topic)).toBeGreaterThan(
      valueBytes,
    );
    expect(
      sum(afterProduce, 'kafka_server_brokertopicmetrics_totalproducerequests_total', topic),
    ).toBeGreaterThan(0);
    expect(sum(afterProduce, 'kafka_server_brokertopicmetrics_failedproducerequests_total', topic)).toBe(0);
    expect(
      sum(afterProduce, 'kafka_network_requestmetrics_requests_total', { request: 'Produce' }),
    ).toBeGreaterThan(0);
    expect(
      sum(afterProduce, 'kafka_network_requestmetrics_errors_total', { request: 'Produce', error: 'NONE' }),
    ).toBe(sum(afterProduce, 'kafka_server_brokertopicmetrics_totalproducerequests_total', topic));
    expect(sum(afterProduce, 'kafka_network_requestmetrics_totaltimems_count', { request: 'Produce' })).toBe(
      sum(afterProduce, 'kafka_network_requestmetrics_requests_total', { request: 'Produce' }),
    );
    expect(
      sum(afterProduce, 'kafka_network_requestmetrics_remotetimems_bucket', {
        request: 'Produce',
        le: '+Inf',
      }),
    ).toBe(sum(afterProduce, 'kafka_network_requestmetrics_requests_total', { request: 'Produce' }));
    // Every acks=all produce waited for an fdatasync.
    expect(sum(afterProduce, 'kafka_log_logflushstats_logflushrateandtimems_count')).toBeGreaterThan(0);
    expect(sum(afterProduce, 'kafka_server_replicamanager_partitioncount')).toBe(3);
    expect(sum(afterProduce, 'kafka_controller_kafkacontroller_globalpartitioncount')).toBe(3);
    expect(sum(afterProduce, 'kafka_server_replicamanager_underreplicatedpartitions')).toBe(0);
    expect(sum(afterProduce, 'kafka_controller_kafkacontroller_offlinepartitionscount')).toBe(0);
    const size = sum(afterProduce, 'kafka_log_log_size', topic);
    expect(size).toBe(sum(afterProduce, 'kafka_server_brokertopicmetrics_bytesin_total', topic));
    expect(sum(afterProduce, 'kafka_log_log_numlogsegments', topic)).toBe(3);

    // A group consumer: joins, reads everything, commits, leaves.
    const consumed = await run('kcat', [
      '-b',
      broker.bootstrap,
      '-G',
      'metered-group',
      '-X',
      'auto.offset.reset=earliest',
      '-X',
      'enable.auto.commit=false',
      '-c',
      String(count),
      '-f',
      '%s\n',
      'metered',
    ]);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trim().split('\n').sort()).toEqual([...lines].sort());

    const after = (await scrape()).samples;
    expect(sum(after, 'kafka_server_brokertopicmetrics_messagesout_total', topic)).toBeGreaterThanOrEqual(
      count,
    );
    expect(sum(after, 'kafka_server_brokertopicmetrics_bytesout_total', topic)).toBeGreaterThanOrEqual(size);
    expect(sum(after, 'kafka_server_brokertopicmetrics_totalfetchrequests_total', topic)).toBeGreaterThan(0);
    expect(sum(after, 'kafka_server_brokertopicmetrics_failedfetchrequests_total', topic)).toBe(0);
    for (const api of ['Fetch', 'JoinGroup', 'SyncGroup', 'FindCoordinator', 'Metadata', 'ApiVersions']) {
      expect(
        sum(after, 'kafka_network_requestmetrics_requests_total', { request: api }),
        api,
      ).toBeGreaterThan(0);
    }
    expect(
      sum(after, 'kafka_server_group_coordinator_metrics_classic_group_rebalance_count'),
    ).toBeGreaterThan(0);
    // kcat closed its consumer: it committed what it read (on close) and left the group.
    expect(sum(after, 'kafka_server_group_coordinator_metrics_offset_commit_count')).toBeGreaterThan(0);
    const groups = ['Stable', 'Empty', 'PreparingRebalance', 'CompletingRebalance', 'Dead'].map((state) =>
      sum(after, 'kafka_server_group_coordinator_metrics_classic_group_count', { state }),
    );
    expect(groups.reduce((a, b) => a + b, 0)).toBe(1);
    // Connections of two kcat runs were accepted and closed again; bytes flowed both ways.
    const listener = { listener: 'PLAINTEXT' };
    expect(
      sum(after, 'kafka_server_socket_server_metrics_connection_creation_total', listener),
    ).toBeGreaterThanOrEqual(2);
    expect(sum(after, 'kafka_server_socket_server_metrics_incoming_byte_total', listener)).toBeGreaterThan(
      sum(after, 'kafka_server_brokertopicmetrics_bytesin_total', topic),
    );
    expect(sum(after, 'kafka_server_socket_server_metrics_outgoing_byte_total', listener)).toBeGreaterThan(
      sum(after, 'kafka_server_brokertopicmetrics_bytesout_total', topic),
    );
    expect(
      sum(after, 'kafka_server_socket_server_metrics_connection_count', listener),
    ).toBeGreaterThanOrEqual(0);
  });

  it('has the process and Node.js families of prom-client', async () => {
    const { text, samples } = await scrape();
    expect(sum(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sum(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
    expect(text).toContain('# TYPE kafka_network_requestmetrics_totaltimems histogram');
  });

  it('counts transactions by state', async () => {
    const producer = new Producer({ brokers: broker.bootstrap, transactionalId: 'metered-txn', lingerMs: 1 });
    try {
      await producer.initTransactions();
      producer.beginTransaction();
      await producer.send({ topic: 'metered', messages: [{ value: 'in a transaction', partition: 0 }] });
      await producer.commitTransaction();
    } finally {
      await producer.close();
    }
    // EndTxn is answered once PrepareCommit is durable; the markers and CompleteCommit follow.
    const txnCount = (samples: Map<string, number>, state: string) =>
      samples.has(`kafka_server_transaction_coordinator_metrics_transaction_count{state="${state}"}`)
        ? sum(samples, 'kafka_server_transaction_coordinator_metrics_transaction_count', { state })
        : 0;
    let samples = (await scrape()).samples;
    expect(txnCount(samples, 'PrepareCommit') + txnCount(samples, 'CompleteCommit')).toBe(1);
    const deadline = Date.now() + 30_000;
    while (txnCount(samples, 'CompleteCommit') !== 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      samples = (await scrape()).samples;
    }
    expect(txnCount(samples, 'CompleteCommit')).toBe(1);
    expect(sum(samples, 'kafka_network_requestmetrics_requests_total', { request: 'EndTxn' })).toBe(1);
    // One record plus the COMMIT marker went to partition 0 of the topic.
    expect(sum(samples, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'metered' })).toBe(501);
  });

  it("drops a deleted topic's metrics", async () => {
    const r = await run('kcat', ['-b', broker.bootstrap, '-P', '-t', 'doomed'], 'x\n');
    expect(r.code, r.stderr).toBe(0);
    expect((await scrape()).text).toContain('topic="doomed"');
    const { Admin } = await import('../../src/client/index.js');
    const admin = new Admin({ brokers: broker.bootstrap });
    try {
      await admin.deleteTopics(['doomed']);
    } finally {
      await admin.close();
    }
    expect((await scrape()).text).not.toContain('topic="doomed"');
  });
});
