// SSL listener settings from Kafka's ssl.* configs: stores, listener.name overrides, refusals at
// start, the principal from a client certificate and ssl.principal.mapping.rules, and passwords
// redacted in the start-up log.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  opensslCipherName,
  rfc2253Subject,
  SslPrincipalMapper,
  sslListenerSettings,
} from '../../src/broker/network/ssl.js';
import { BrokerConfig, ConfigError, HIDDEN, loggableConfigs } from '../../src/config/index.js';
import { makeTestCerts, STORE_PASSWORD, type TestCerts } from '../helpers/tls-certs.js';

let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(() => certs?.cleanup());

describe('sslListenerSettings', () => {
  it('reads PKCS12 and PEM key stores, a PKCS12 or PEM trust store, and inline PEM (KIP-651)', () => {
    const p12 = new BrokerConfig({
      'ssl.keystore.location': certs.brokerP12,
      'ssl.keystore.password': STORE_PASSWORD,
      'ssl.truststore.location': certs.truststoreP12,
      'ssl.truststore.password': STORE_PASSWORD,
      'ssl.client.auth': 'required',
    });
    expect(sslListenerSettings(p12, 'SSL').clientAuth).toBe('required');
    const pem = new BrokerConfig({
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': certs.brokerPemStore,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': certs.caCert,
      'ssl.client.auth': 'requested',
    });
    expect(sslListenerSettings(pem, 'SSL').clientAuth).toBe('requested');
    const inline = new BrokerConfig({
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.key': readFileSync(certs.brokerKey, 'utf8'),
      'ssl.keystore.certificate.chain': readFileSync(certs.brokerCert, 'utf8'),
    });
    expect(sslListenerSettings(inline, 'SSL').clientAuth).toBe('none');
  });

  it('takes listener.name.<listener>.ssl.* over the broker-wide value, for that listener only', () => {
    const c = new BrokerConfig({
      'ssl.keystore.location': certs.brokerP12,
      'ssl.keystore.password': 'wrong',
      'listener.name.internal.ssl.keystore.password': STORE_PASSWORD,
      'listener.name.internal.ssl.client.auth': 'requested',
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': certs.caCert,
    });
    expect(c.unknown).toEqual([]);
    expect(c.forListener('INTERNAL', 'ssl.client.auth')).toBe('requested');
    expect(c.forListener('SSL', 'ssl.client.auth')).toBe('none');
    expect(sslListenerSettings(c, 'INTERNAL').clientAuth).toBe('requested');
    expect(() => sslListenerSettings(c, 'SSL')).toThrow(ConfigError);
    // A prefixed value is validated as the config it overrides.
    expect(() => new BrokerConfig({ 'listener.name.x.ssl.client.auth': 'maybe' })).toThrow(
      /Invalid value maybe for configuration listener.name.x.ssl.client.auth/,
    );
  });

  it('refuses at start what cannot be served, in one line naming the listener', () => {
    const refuse = (settings: Record<string, string>, message: RegExp) =>
      expect(() => sslListenerSettings(new BrokerConfig(settings), 'SSL')).toThrow(message);
    refuse({}, /^listener SSL: an SSL listener needs a key store/);
    refuse({ 'ssl.keystore.location': '/nonexistent/k.p12' }, /ssl.keystore.location: cannot read/);
    refuse(
      { 'ssl.keystore.location': certs.brokerP12, 'ssl.keystore.password': 'nope' },
      /key store or trust store cannot be used/,
    );
    refuse(
      { 'ssl.keystore.key': 'x', 'ssl.keystore.certificate.chain': 'y' },
      /ssl.keystore.key needs ssl.keystore.type=PEM/,
    );
    refuse(
      {
        'ssl.keystore.location': certs.brokerP12,
        'ssl.keystore.password': STORE_PASSWORD,
        'ssl.client.auth': 'required',
      },
      /needs a trust store/,
    );
    expect(() => new BrokerConfig({ 'ssl.enabled.protocols': 'TLSv1.1' })).toThrow(ConfigError);
    expect(() => new BrokerConfig({ 'ssl.keystore.type': 'JKS' })).toThrow(ConfigError);
  });

  it('maps Java (IANA) cipher suite names to OpenSSL names', () => {
    expect(opensslCipherName('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256')).toBe('ECDHE-RSA-AES128-GCM-SHA256');
    expect(opensslCipherName('TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256')).toBe(
      'ECDHE-ECDSA-CHACHA20-POLY1305',
    );
    expect(opensslCipherName('TLS_RSA_WITH_AES_256_GCM_SHA384')).toBe('AES256-GCM-SHA384');
    expect(opensslCipherName('TLS_AES_256_GCM_SHA384')).toBe('TLS_AES_256_GCM_SHA384');
    expect(opensslCipherName('ECDHE-RSA-AES256-GCM-SHA384')).toBe('ECDHE-RSA-AES256-GCM-SHA384');
    const c = new BrokerConfig({
      'ssl.keystore.location': certs.brokerP12,
      'ssl.keystore.password': STORE_PASSWORD,
      'ssl.cipher.suites': 'TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
    });
    expect(sslListenerSettings(c, 'SSL').clientAuth).toBe('none');
  });

  it('redacts passwords, prefixed ones included, in the loggable config', () => {
    const c = new BrokerConfig({ 'ssl.keystore.password': 'secret' });
    expect(loggableConfigs(c.nonDefault())).toEqual({ 'ssl.keystore.password': HIDDEN });
    expect(loggableConfigs([['listener.name.ssl.ssl.key.password', 'secret']])).toEqual({
      'listener.name.ssl.ssl.key.password': HIDDEN,
    });
  });
});

describe('principal from a client certificate', () => {
  it('is the subject in RFC 2253 form, mapped by ssl.principal.mapping.rules', () => {
    const dn = rfc2253Subject(new X509Certificate(readFileSync(certs.clientCert)));
    expect(dn).toBe('CN=alice,OU=Tests,O=Samsa,C=US');
    expect(SslPrincipalMapper.parse('DEFAULT').name(dn)).toBe(dn);
    const rules = SslPrincipalMapper.parse(
      'RULE:^CN=([^,]*),OU=Ops,.*$/ops-$1/, RULE:^CN=([^,]*),OU=Tests,.*$/$1@tests/U, DEFAULT',
    );
    expect(rules.name(dn)).toBe('ALICE@TESTS');
    expect(rules.name('CN=bob,OU=Ops,O=X')).toBe('ops-bob');
    expect(rules.name('CN=carol')).toBe('CN=carol');
    // Without DEFAULT, a name no rule matches has no principal (Kafka refuses the connection).
    expect(SslPrincipalMapper.parse('RULE:^CN=(.*)$/$1/L').name('O=x')).toBeNull();
    expect(SslPrincipalMapper.parse('RULE:^CN=(.*)$/$1/L').name('CN=Dave')).toBe('dave');
    expect(() => SslPrincipalMapper.parse('RULE:broken')).toThrow(ConfigError);
  });
});

describe('several listeners', () => {
  it('binds every listener, advertises each but the controller listeners, and fills in bound ports', async () => {
    const { startBroker } = await import('../../src/broker/broker.js');
    const b = await startBroker({
      config: {
        listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,CONTROLLER://127.0.0.1:0',
        'controller.listener.names': 'CONTROLLER',
        'ssl.keystore.location': certs.brokerP12,
        'ssl.keystore.password': STORE_PASSWORD,
      },
    });
    try {
      expect(b.listeners.map((l) => l.name)).toEqual(['PLAINTEXT', 'SSL', 'CONTROLLER']);
      const ports = b.listeners.map((l) => l.port);
      expect(new Set(ports).size).toBe(3);
      expect(b.services.advertisedEndpoints).toEqual([
        { name: 'PLAINTEXT', host: '127.0.0.1', port: ports[0], securityProtocol: 0 },
        { name: 'SSL', host: '127.0.0.1', port: ports[1], securityProtocol: 1 },
      ]);
    } finally {
      await b.stop();
    }
    // advertised.listeners: a port 0 there is the bound port of that listener.
    const c = await startBroker({
      config: {
        listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
        'advertised.listeners': 'SSL://localhost:0',
        'ssl.keystore.location': certs.brokerP12,
        'ssl.keystore.password': STORE_PASSWORD,
      },
    });
    try {
      expect(c.services.advertisedEndpoints).toEqual([
        { name: 'SSL', host: 'localhost', port: c.listeners[1].port, securityProtocol: 1 },
      ]);
    } finally {
      await c.stop();
    }
  }, 60_000);
});
