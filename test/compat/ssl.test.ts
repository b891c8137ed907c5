// SSL listeners against real clients: Samsa's client, kcat (librdkafka), confluent-kafka-python
// and kafkajs produce and consume over TLS; mutual TLS (ssl.client.auth=required) refuses a client
// without a trusted certificate and records the principal of one with; a PLAINTEXT listener and an
// SSL listener are served side by side, each advertised to its own clients; plaintext, garbage and
// handshake floods on the SSL port close those connections and nothing else.

import { readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { Admin } from '../../src/client/admin.js';
import { Consumer, Producer } from '../../src/client/index.js';
import { makeTestCerts, STORE_PASSWORD, type TestCerts } from '../helpers/tls-certs.js';
import { hasConfluentKafka, hasKcat, PYTHON, requireClient, run } from '../helpers/tools.js';

let certs: TestCerts;
let broker: Broker;
let mtls: Broker;

beforeAll(async () => {
  certs = makeTestCerts();
  // PLAINTEXT and SSL side by side; the SSL listener with a PKCS12 key store.
  broker = await startBroker({
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
      'ssl.keystore.location': certs.brokerP12,
      'ssl.keystore.password': STORE_PASSWORD,
      'connections.max.idle.ms': '60000',
    },
  });
  // Mutual TLS on a listener named CLIENT, its settings given as listener.name.client.ssl.*, with
  // a PEM key store and a PKCS12 trust store.
  mtls = await startBroker({
    config: {
      listeners: 'CLIENT://127.0.0.1:0',
      'listener.security.protocol.map': 'CLIENT:SSL',
      'listener.name.client.ssl.keystore.type': 'PEM',
      'listener.name.client.ssl.keystore.location': certs.brokerPemStore,
      'ssl.truststore.location': certs.truststoreP12,
      'ssl.truststore.password': STORE_PASSWORD,
      'listener.name.client.ssl.client.auth': 'required',
    },
  });
}, 120_000);

afterAll(async () => {
  await broker?.stop();
  await mtls?.stop();
  certs?.cleanup();
});

const sslOptions = () => ({ ca: certs.caPem });

describe("Samsa's client", () => {
  it('produces and consumes over SSL, and Metadata advertises the SSL listener to it', async () => {
    const ssl = broker.bootstrapOf('SSL');
    expect(ssl).not.toBe(broker.bootstrap);
    const admin = new Admin({ brokers: ssl, ssl: sslOptions() });
    const producer = new Producer({ brokers: ssl, ssl: sslOptions() });
    await producer.send({
      topic: 'ssl-own',
      messages: Array.from({ length: 50 }, (_, i) => ({ value: `v${i}` })),
    });
    await producer.close();
    const consumer = new Consumer({
      brokers: ssl,
      ssl: sslOptions(),
      groupId: 'ssl-own-group',
      autoOffsetReset: 'earliest',
    });
    consumer.subscribe({ topics: ['ssl-own'] });
    const got: string[] = [];
    while (got.length < 50) {
      for (const r of await consumer.poll({ timeoutMs: 500 })) got.push(String(r.value));
    }
    await consumer.close();
    await admin.close();
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `v${i}`));
  }, 120_000);

  it('uses mutual TLS with a client certificate, and is refused without one', async () => {
    const key = readFileSync(certs.clientKey);
    const cert = readFileSync(certs.clientCert);
    const producer = new Producer({ brokers: mtls.bootstrap, ssl: { ...sslOptions(), key, cert } });
    await producer.send({ topic: 'mtls-own', messages: [{ value: 'hello' }] });
    await producer.close();
    const refused = new Producer({
      brokers: mtls.bootstrap,
      ssl: sslOptions(),
      connectTimeoutMs: 3000,
    });
    await expect(refused.send({ topic: 'mtls-own', messages: [{ value: 'no' }] })).rejects.toThrow();
    await refused.close();
  }, 120_000);
});

/** ApiVersions v0, correlation id 1, null client id: any Kafka broker answers it. */
const API_VERSIONS_V0 = Buffer.from('0000000a0012000000000001ffff', 'hex');

/** Opens a TLS connection to `port` and resolves with the outcome of the handshake and a first read. */
function tlsProbe(port: number, options: Record<string, unknown>): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ...options });
    s.once('secureConnect', () => {
      // With TLS 1.3 the server checks the client's certificate after the client's handshake is
      // done: a refusal arrives as an alert on the first read.
      s.write(API_VERSIONS_V0);
    });
    s.once('data', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err) => resolve(err.message));
    s.once('close', () => resolve('closed'));
  });
}

describe('mutual TLS (ssl.client.auth=required)', () => {
  it('fails the handshake of a client without a certificate, or with an untrusted one', async () => {
    const port = Number(mtls.bootstrap.split(':')[1]);
    const none = await tlsProbe(port, { ca: certs.caPem });
    expect(none).toMatch(/certificate required|handshake failure|alert/i);
    const stranger = await tlsProbe(port, {
      ca: certs.caPem,
      key: readFileSync(certs.strangerKey),
      cert: readFileSync(certs.strangerCert),
    });
    // Refused: an alert (unknown ca) or the connection closed, never served.
    expect(stranger).not.toBe('connected');
    // The broker is still serving: a client with a trusted certificate connects.
    const ok = new Producer({
      brokers: mtls.bootstrap,
      ssl: { ca: certs.caPem, key: readFileSync(certs.clientKey), cert: readFileSync(certs.clientCert) },
    });
    await ok.send({ topic: 'mtls-after', messages: [{ value: 'x' }] });
    await ok.close();
  }, 60_000);
});

describe('ssl.client.auth=requested, and the principal of each connection', () => {
  it('serves clients with and without a certificate, refuses an untrusted one, and records User:<subject>', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l));
        done();
      },
    });
    const requested = await startBroker({
      config: {
        listeners: 'SSL://127.0.0.1:0',
        'ssl.keystore.location': certs.brokerP12,
        'ssl.keystore.password': STORE_PASSWORD,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': certs.caCert,
        'ssl.client.auth': 'requested',
      },
      logger: pino({ level: 'debug' }, stream),
    });
    try {
      const port = Number(requested.bootstrap.split(':')[1]);
      expect(await tlsProbe(port, { ca: certs.caPem })).toBe('connected');
      const client = { key: readFileSync(certs.clientKey), cert: readFileSync(certs.clientCert) };
      expect(await tlsProbe(port, { ca: certs.caPem, ...client })).toBe('connected');
      const stranger = await tlsProbe(port, {
        ca: certs.caPem,
        key: readFileSync(certs.strangerKey),
        cert: readFileSync(certs.strangerCert),
      });
      expect(stranger).not.toBe('connected');
      const opened = () => lines.filter((l) => l.msg === 'connection opened').map((l) => l.principal);
      await vi.waitFor(() => expect(opened()).toHaveLength(2), { timeout: 10_000 });
      expect(opened()).toEqual(['User:ANONYMOUS', 'User:CN=alice,OU=Tests,O=Samsa,C=US']);
    } finally {
      await requested.stop();
    }
  }, 60_000);
});

describe('hostile bytes on an SSL port', () => {
  it('closes a PLAINTEXT client, garbage and a handshake flood without harm to the broker', async () => {
    const port = Number(broker.bootstrapOf('SSL').split(':')[1]);
    // A Kafka ApiVersions request in the clear, as a PLAINTEXT client would send it.
    const closedPromises: Promise<void>[] = [];
    const send = (bytes: Buffer) =>
      new Promise<void>((resolve) => {
        const s = netConnect({ host: '127.0.0.1', port }, () => s.write(bytes));
        s.on('data', () => {});
        s.on('error', () => resolve());
        s.on('close', () => resolve());
      });
    closedPromises.push(send(API_VERSIONS_V0));
    for (let i = 0; i < 20; i++) {
      const junk = Buffer.alloc(64 + i * 37);
      for (let j = 0; j < junk.length; j++) junk[j] = (j * 131 + i * 17) & 0xff;
      closedPromises.push(send(junk));
    }
    // A TLS record header announcing a ClientHello followed by nonsense.
    closedPromises.push(
      send(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40]), Buffer.alloc(64, 7)])),
    );
    await Promise.all(closedPromises);
    // A flood of handshakes opened and dropped mid-way.
    await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<void>((resolve) => {
            const s = tlsConnect({ host: '127.0.0.1', port, ca: certs.caPem });
            s.once('secureConnect', () => s.destroy());
            s.on('error', () => resolve());
            s.on('close', () => resolve());
          }),
      ),
    );
    // Both listeners still serve.
    for (const [brokers, ssl] of [
      [broker.bootstrap, undefined],
      [broker.bootstrapOf('SSL'), sslOptions()],
    ] as const) {
      const p = new Producer({ brokers, ...(ssl ? { ssl } : {}) });
      await p.send({ topic: 'after-hostile', messages: [{ value: 'still here' }] });
      await p.close();
    }
  }, 120_000);
});

describe.skipIf(!requireClient('kcat', hasKcat))('kcat over SSL', () => {
  it('lists the SSL listener as the broker, produces and consumes', async () => {
    const ssl = broker.bootstrapOf('SSL');
    const common = ['-b', ssl, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${certs.caCert}`];
    const md = await run('kcat', [...common, '-L', '-J']);
    expect(md.code, md.stderr).toBe(0);
    expect(JSON.parse(md.stdout).brokers).toEqual([{ id: 1, name: ssl }]);
    // The PLAINTEXT listener advertises itself to its own clients.
    const plain = await run('kcat', ['-b', broker.bootstrap, '-L', '-J']);
    expect(JSON.parse(plain.stdout).brokers).toEqual([{ id: 1, name: broker.bootstrap }]);
    const lines = Array.from({ length: 200 }, (_, i) => `m${i}`);
    const p = await run('kcat', [...common, '-P', '-t', 'kcat-ssl'], `${lines.join('\n')}\n`);
    expect(p.code, p.stderr).toBe(0);
    const c = await run('kcat', [...common, '-C', '-t', 'kcat-ssl', '-o', 'beginning', '-e', '-q']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout.trim().split('\n')).toEqual(lines);
  }, 120_000);

  it('uses mutual TLS with its certificate, and fails without one', async () => {
    const base = [
      '-b',
      mtls.bootstrap,
      '-X',
      'security.protocol=ssl',
      '-X',
      `ssl.ca.location=${certs.caCert}`,
    ];
    const withCert = [
      ...base,
      '-X',
      `ssl.certificate.location=${certs.clientCert}`,
      '-X',
      `ssl.key.location=${certs.clientKey}`,
    ];
    const p = await run('kcat', [...withCert, '-P', '-t', 'kcat-mtls'], 'one\ntwo\n');
    expect(p.code, p.stderr).toBe(0);
    const c = await run('kcat', [...withCert, '-C', '-t', 'kcat-mtls', '-o', 'beginning', '-e', '-q']);
    expect(c.stdout.trim().split('\n')).toEqual(['one', 'two']);
    const refused = await run('kcat', [...base, '-L', '-m', '5']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/SSL handshake failed|certificate required|handshake failure/i);
  }, 120_000);
});

describe.skipIf(!requireClient('confluent-kafka-python', hasConfluentKafka))(
  'confluent-kafka-python over SSL',
  () => {
    it('produces and consumes over mutual TLS', async () => {
      const script = join(certs.dir, 'ssl.py');
      writeFileSync(
        script,
        `import json, sys
from confluent_kafka import Consumer, Producer
conf = {"bootstrap.servers": sys.argv[1], "security.protocol": "SSL", "ssl.ca.location": sys.argv[2],
        "ssl.certificate.location": sys.argv[3], "ssl.key.location": sys.argv[4]}
p = Producer(conf)
for i in range(100):
    p.produce("py-ssl", value=b"v%d" % i)
assert p.flush(30) == 0
c = Consumer({**conf, "group.id": "py-ssl", "auto.offset.reset": "earliest"})
c.subscribe(["py-ssl"])
got = []
while len(got) < 100:
    m = c.poll(1.0)
    if m is not None and m.error() is None:
        got.append(m.value().decode())
c.close()
print(json.dumps(got))
`,
      );
      const r = await run(PYTHON, [script, mtls.bootstrap, certs.caCert, certs.clientCert, certs.clientKey]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(Array.from({ length: 100 }, (_, i) => `v${i}`));
    }, 120_000);
  },
);

describe('kafkajs over SSL', () => {
  it('produces and consumes with its ssl option', async () => {
    const kafka = new Kafka({
      clientId: 'kafkajs-ssl',
      brokers: [broker.bootstrapOf('SSL')],
      ssl: { ca: [certs.caPem] },
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'kjs-ssl',
      messages: Array.from({ length: 30 }, (_, i) => ({ value: `k${i}` })),
    });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'kjs-ssl' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kjs-ssl', fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(String(message.value));
          if (got.length === 30) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => `k${i}`));
  }, 120_000);
});
