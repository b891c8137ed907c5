// TLS throughput: one broker (child process) with a PLAINTEXT and an SSL listener; Samsa's
// producer sends 1 KiB records to each in turn, three rounds, and the median rates are compared
// (goal: SSL >= 70% of plaintext in the same run). Certificates are made with openssl in a temp
// dir. Usage: npm run bench:tls [records per round, default 100000]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Producer } from '../src/client/index.js';
import { startBroker } from './samsa-process.js';

const COUNT = Number(process.argv[2] ?? 100_000);
const VALUE = Buffer.alloc(1024, 'x');
const ROUNDS = 3;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function makeCerts(dir: string): { ca: string; keystore: string } {
  const o = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  o(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=bench CA',
  );
  o(
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'b.key',
    '-out',
    'b.csr',
    '-subj',
    '/CN=localhost',
  );
  execFileSync('sh', ['-c', 'echo "subjectAltName=IP:127.0.0.1,DNS:localhost" > b.ext'], { cwd: dir });
  o(
    'x509',
    '-req',
    '-in',
    'b.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'b.crt',
    '-days',
    '1',
    '-extfile',
    'b.ext',
  );
  execFileSync('sh', ['-c', 'cat b.key b.crt > store.pem'], { cwd: dir });
  return { ca: readFileSync(join(dir, 'ca.crt'), 'utf8'), keystore: join(dir, 'store.pem') };
}

async function produceRate(brokers: string, topic: string, ssl?: { ca: string }): Promise<number> {
  const p = new Producer({ brokers, lingerMs: 5, batchSize: 1 << 20, ...(ssl ? { ssl } : {}) });
  await p.send({ topic, messages: [{ value: VALUE }] }); // metadata and connection, untimed
  const t0 = performance.now();
  const inFlight: Promise<unknown>[] = [];
  const chunk = 1000;
  for (let i = 0; i < COUNT; i += chunk) {
    inFlight.push(p.send({ topic, messages: Array.from({ length: chunk }, () => ({ value: VALUE })) }));
    if (inFlight.length >= 32) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const s = (performance.now() - t0) / 1000;
  await p.close();
  return COUNT / s;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-bench-tls-'));
  const { ca, keystore } = makeCerts(dir);
  const sslPort = await freePort();
  const broker = await startBroker(
    join(dir, 'data'),
    ['ssl.keystore.type=PEM', `ssl.keystore.location=${keystore}`],
    [],
    [`SSL://127.0.0.1:${sslPort}`],
  );
  const plain = `127.0.0.1:${broker.port}`;
  const ssl = `127.0.0.1:${sslPort}`;
  const rates = { plain: [] as number[], ssl: [] as number[] };
  try {
    for (let r = 0; r < ROUNDS; r++) {
      rates.plain.push(await produceRate(plain, `plain-${r}`));
      rates.ssl.push(await produceRate(ssl, `ssl-${r}`, { ca }));
    }
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const p = median(rates.plain);
  const s = median(rates.ssl);
  const mb = (x: number) => ((x * 1024) / 1e6).toFixed(1);
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, ${new Date().toISOString()}`,
  );
  console.log(
    `records: ${COUNT} x 1 KiB per round, ${ROUNDS} rounds, Samsa producer (linger 5 ms, batch 1 MiB, acks=all)`,
  );
  console.log(
    `plaintext: ${Math.round(p)} records/s (${mb(p)} MB/s); rounds ${rates.plain.map(Math.round).join(', ')}`,
  );
  console.log(
    `ssl:       ${Math.round(s)} records/s (${mb(s)} MB/s); rounds ${rates.ssl.map(Math.round).join(', ')}`,
  );
  console.log(`ssl / plaintext: ${((s / p) * 100).toFixed(0)}% (goal >= 70%)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
