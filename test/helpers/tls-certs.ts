// Test certificates made with the openssl command in a fresh temp dir (never committed): a CA,
// a broker certificate for 127.0.0.1 and localhost, a client certificate, and the same keys as
// the stores Kafka's configs name (PKCS12 key store and trust store, PEM key store).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  readonly dir: string;
  /** The CA certificate (PEM): what clients trust, and what the broker's trust store holds. */
  readonly caPem: string;
  readonly caCert: string;
  readonly brokerKey: string;
  readonly brokerCert: string;
  /** Key and certificate chain in one PEM file (ssl.keystore.type=PEM). */
  readonly brokerPemStore: string;
  /** PKCS12 key store of the broker, password STORE_PASSWORD. */
  readonly brokerP12: string;
  /** PKCS12 trust store holding the CA only, password STORE_PASSWORD. */
  readonly truststoreP12: string;
  readonly clientKey: string;
  readonly clientCert: string;
  /** A client certificate from a CA the broker does not trust. */
  readonly strangerKey: string;
  readonly strangerCert: string;
  cleanup(): void;
}

export const STORE_PASSWORD = 'changeit-123';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A key and a certificate for `cn`, signed by the CA in dir (ca.key / ca.crt) or by `caName`. */
function issue(dir: string, name: string, cn: string, caName: string, san?: string): void {
  openssl(
    dir,
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    cn,
  );
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, san ? `subjectAltName=${san}\n` : 'basicConstraints=CA:FALSE\n');
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${caName}.crt`,
    '-CAkey',
    `${caName}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-sha256',
    '-extfile',
    ext,
  );
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-tls-'));
  const ca = (name: string, cn: string) =>
    openssl(
      dir,
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      cn,
    );
  ca('ca', '/CN=Samsa Test CA');
  ca('stranger-ca', '/CN=Stranger CA');
  issue(dir, 'broker', '/CN=localhost', 'ca', 'IP:127.0.0.1,DNS:localhost');
  issue(dir, 'client', '/C=US/O=Samsa/OU=Tests/CN=alice', 'ca');
  issue(dir, 'stranger', '/CN=mallory', 'stranger-ca');
  const p = (f: string) => join(dir, f);
  writeFileSync(
    p('broker-store.pem'),
    readFileSync(p('broker.key'), 'utf8') + readFileSync(p('broker.crt'), 'utf8'),
  );
  openssl(
    dir,
    'pkcs12',
    '-export',
    '-in',
    'broker.crt',
    '-inkey',
    'broker.key',
    '-certfile',
    'ca.crt',
    '-out',
    'broker.p12',
    '-passout',
    `pass:${STORE_PASSWORD}`,
  );
  openssl(
    dir,
    'pkcs12',
    '-export',
    '-nokeys',
    '-in',
    'ca.crt',
    '-out',
    'truststore.p12',
    '-passout',
    `pass:${STORE_PASSWORD}`,
  );
  return {
    dir,
    caPem: readFileSync(p('ca.crt'), 'utf8'),
    caCert: p('ca.crt'),
    brokerKey: p('broker.key'),
    brokerCert: p('broker.crt'),
    brokerPemStore: p('broker-store.pem'),
    brokerP12: p('broker.p12'),
    truststoreP12: p('truststore.p12'),
    clientKey: p('client.key'),
    clientCert: p('client.crt'),
    strangerKey: p('stranger.key'),
    strangerCert: p('stranger.crt'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
