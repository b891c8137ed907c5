// SSL listeners: the TLS server context of one listener built from Kafka's ssl.* configs (each
// possibly overridden as listener.name.<listener>.ssl.*), and the principal of a client from its
// certificate (Kafka's DefaultKafkaPrincipalBuilder with ssl.principal.mapping.rules).
//
// Stores: PKCS12 key stores are handed to OpenSSL through node:tls (pfx); PEM key stores are a
// file holding the private key and its certificate chain, or the two inline (KIP-651). A PKCS12
// trust store holds certificates only, which node:tls cannot read, so its certificates are taken
// out with the openssl command at start; PEM trust stores are read directly. JKS is refused (no
// reader in Node.js). Everything is read once, at start: a bad store stops the broker with a
// one-line ConfigError naming the config, rather than failing every handshake later.

import { execFileSync } from 'node:child_process';
import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { BrokerConfig } from '../../config/broker-config.js';
import { ConfigError } from '../../config/errors.js';

/** What a listener's TLS handshakes need: the context and the client-certificate policy. */
export interface SslListenerSettings {
  /** Key, certificates, trusted CAs, versions and ciphers, for tls.Server (checked at start). */
  readonly contextOptions: SecureContextOptions;
  /** ssl.client.auth: required (handshake fails without a trusted cert), requested, none. */
  readonly clientAuth: 'required' | 'requested' | 'none';
  readonly principalMapper: SslPrincipalMapper;
}

const PEM_KEY = /-----BEGIN (ENCRYPTED |RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END \1?PRIVATE KEY-----/g;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readStore(config: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${config}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

/** Certificates of a PKCS12 trust store, as PEM, through the openssl command (see the header). */
function pkcs12Certificates(path: string, password: string | null): string {
  const run = (legacy: boolean) =>
    execFileSync(
      'openssl',
      [
        'pkcs12',
        '-in',
        path,
        '-nokeys',
        '-passin',
        'env:SAMSA_TRUSTSTORE_PASSWORD',
        ...(legacy ? ['-legacy'] : []),
      ],
      {
        env: { ...process.env, SAMSA_TRUSTSTORE_PASSWORD: password ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ).toString('utf8');
  let out: string;
  try {
    out = run(false);
  } catch {
    // Stores written with older algorithms (RC2, 3DES) need OpenSSL 3's legacy provider.
    try {
      out = run(true);
    } catch (err) {
      const detail = ((err as { stderr?: Buffer }).stderr?.toString() ?? String(err)).split('\n')[0];
      throw new ConfigError(`ssl.truststore.location: cannot read the PKCS12 trust store ${path}: ${detail}`);
    }
  }
  const certs = out.match(PEM_CERT);
  if (!certs) throw new ConfigError(`ssl.truststore.location: ${path} holds no certificate`);
  return certs.join('\n');
}

/**
 * Kafka's IANA cipher suite names (what ssl.cipher.suites lists in a Java configuration) in
 * OpenSSL's spelling; a name not in IANA form is taken as OpenSSL's own.
 */
export function opensslCipherName(name: string): string {
  const n = name.trim();
  // TLS 1.3 suites have one name in both worlds.
  if (/^TLS_(AES|CHACHA20)_/.test(n)) return n;
  const m = /^TLS_(.+)_WITH_(.+)$/.exec(n);
  if (!m) return n;
  const kx = m[1] === 'RSA' ? '' : `${m[1].replace(/_/g, '-')}-`;
  let cipher = m[2]
    .replace(/^AES_(128|256)_/, 'AES$1-')
    .replace(/^CHACHA20_POLY1305_SHA256$/, 'CHACHA20-POLY1305')
    .replace(/_/g, '-');
  // OpenSSL names the CBC suites without "CBC" and with SHA for SHA-1.
  cipher = cipher.replace(/^(AES\d+)-CBC-SHA$/, '$1-SHA').replace(/^(AES\d+)-CBC-(SHA\d+)$/, '$1-$2');
  return `${kx}${cipher}`;
}

/** The TLS settings of one SSL listener; throws ConfigError for what cannot be used. */
export function sslListenerSettings(config: BrokerConfig, listener: string): SslListenerSettings {
  const get = (name: string) => config.forListener(listener, name);
  const str = (name: string) => get(name) as string | null;
  const keystoreType = str('ssl.keystore.type') ?? 'PKCS12';
  const keystoreLocation = str('ssl.keystore.location');
  const keystorePassword = str('ssl.keystore.password');
  const keyPassword = str('ssl.key.password');
  const inlineKey = str('ssl.keystore.key');
  const inlineChain = str('ssl.keystore.certificate.chain');
  const prefix = `listener ${listener}`;

  const options: SecureContextOptions = {};
  if (inlineKey !== null || inlineChain !== null) {
    if (keystoreType !== 'PEM')
      throw new ConfigError(
        `${prefix}: ssl.keystore.key needs ssl.keystore.type=PEM (it is ${keystoreType})`,
      );
    if (inlineKey === null || inlineChain === null)
      throw new ConfigError(`${prefix}: ssl.keystore.key and ssl.keystore.certificate.chain go together`);
    if (keystoreLocation !== null)
      throw new ConfigError(`${prefix}: ssl.keystore.location cannot be set with ssl.keystore.key`);
    options.key = inlineKey;
    options.cert = inlineChain;
    options.passphrase = keyPassword ?? undefined;
  } else if (keystoreLocation !== null) {
    const bytes = readStore('ssl.keystore.location', keystoreLocation);
    if (keystoreType === 'PEM') {
      const text = bytes.toString('utf8');
      const keys = text.match(PEM_KEY);
      const certs = text.match(PEM_CERT);
      if (keys?.length !== 1 || !certs)
        throw new ConfigError(
          `${prefix}: ssl.keystore.location ${keystoreLocation} must hold one private key and its certificate chain (PEM)`,
        );
      options.key = keys[0];
      options.cert = certs.join('\n');
      options.passphrase = keyPassword ?? keystorePassword ?? undefined;
    } else {
      options.pfx = bytes;
      options.passphrase = keystorePassword ?? undefined;
    }
  } else {
    throw new ConfigError(
      `${prefix}: an SSL listener needs a key store (ssl.keystore.location, or ssl.keystore.key with ssl.keystore.certificate.chain)`,
    );
  }

  const truststoreType = str('ssl.truststore.type') ?? 'PKCS12';
  const truststoreLocation = str('ssl.truststore.location');
  const inlineTrust = str('ssl.truststore.certificates');
  if (inlineTrust !== null) {
    if (truststoreType !== 'PEM')
      throw new ConfigError(`${prefix}: ssl.truststore.certificates needs ssl.truststore.type=PEM`);
    options.ca = inlineTrust;
  } else if (truststoreLocation !== null) {
    options.ca =
      truststoreType === 'PEM'
        ? readStore('ssl.truststore.location', truststoreLocation).toString('utf8')
        : pkcs12Certificates(truststoreLocation, str('ssl.truststore.password'));
  }

  const protocols = (get('ssl.enabled.protocols') as string[] | null) ?? [];
  if (protocols.length === 0) throw new ConfigError(`${prefix}: ssl.enabled.protocols is empty`);
  options.minVersion = protocols.includes('TLSv1.2') ? 'TLSv1.2' : 'TLSv1.3';
  options.maxVersion = protocols.includes('TLSv1.3') ? 'TLSv1.3' : 'TLSv1.2';
  const suites = (get('ssl.cipher.suites') as string[] | null) ?? [];
  if (suites.length > 0) {
    const tls13 = suites.filter((s) => /^TLS_(AES|CHACHA20)_/.test(s.trim()));
    const tls12 = suites.filter((s) => !tls13.includes(s)).map(opensslCipherName);
    options.ciphers = [...tls13.map((s) => s.trim()), ...tls12].join(':');
    if (tls12.length === 0) options.minVersion = 'TLSv1.3';
  }

  const clientAuth = (str('ssl.client.auth') ?? 'none') as SslListenerSettings['clientAuth'];
  if (clientAuth !== 'none' && options.ca === undefined)
    throw new ConfigError(`${prefix}: ssl.client.auth=${clientAuth} needs a trust store (ssl.truststore.*)`);
  try {
    // Built once here so that a wrong password or a key that does not match its certificate
    // stops the start, rather than failing every handshake.
    createSecureContext(options);
  } catch (err) {
    throw new ConfigError(
      `${prefix}: the SSL key store or trust store cannot be used: ${(err as Error).message}`,
    );
  }
  const principalMapper = SslPrincipalMapper.parse(str('ssl.principal.mapping.rules') ?? 'DEFAULT');
  return { contextOptions: options, clientAuth, principalMapper };
}

/** Kafka's anonymous principal, of a connection without an authenticated identity. */
export const ANONYMOUS_PRINCIPAL = 'User:ANONYMOUS';

/** A distinguished name escaped as RFC 2253 does (what Java's X500Principal.getName() gives). */
function escapeRdnValue(v: string): string {
  return v
    .replace(/([,+"\\<>;])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ');
}

/**
 * The subject of a certificate as RFC 2253 writes it: most specific first ("CN=client,O=Samsa"),
 * the form Kafka's principal builder starts from.
 */
export function rfc2253Subject(cert: X509Certificate): string {
  // X509Certificate.subject is OpenSSL's one-per-line form, least specific first.
  const rdns = cert.subject.split('\n').filter((l) => l !== '');
  return rdns
    .reverse()
    .map((rdn) => {
      const eq = rdn.indexOf('=');
      return `${rdn.slice(0, eq)}=${escapeRdnValue(rdn.slice(eq + 1))}`;
    })
    .join(',');
}

interface MappingRule {
  readonly isDefault: boolean;
  readonly pattern?: RegExp;
  readonly replacement?: string;
  readonly toCase?: 'L' | 'U';
}

/**
 * ssl.principal.mapping.rules (Kafka's SslPrincipalMapper): a list of RULE:pattern/replacement/[LU]
 * and DEFAULT; the first rule whose pattern matches the whole distinguished name gives the name.
 */
export class SslPrincipalMapper {
  private constructor(private readonly rules: readonly MappingRule[]) {}

  static parse(text: string): SslPrincipalMapper {
    const rules: MappingRule[] = [];
    const item = /\s*(?:(DEFAULT)|RULE:((?:[^/\\]|\\.)*)\/((?:[^/\\]|\\.)*)\/([LU]?))\s*(,|$)/y;
    let at = 0;
    const s = text.trim();
    while (at < s.length) {
      item.lastIndex = at;
      const m = item.exec(s);
      if (!m) throw new ConfigError(`ssl.principal.mapping.rules: invalid rule at "${s.slice(at)}"`);
      if (m[1]) rules.push({ isDefault: true });
      else {
        let pattern: RegExp;
        try {
          pattern = new RegExp(`^(?:${m[2]})$`);
        } catch (err) {
          throw new ConfigError(`ssl.principal.mapping.rules: ${(err as Error).message}`);
        }
        rules.push({
          isDefault: false,
          pattern,
          replacement: m[3],
          ...(m[4] ? { toCase: m[4] as 'L' | 'U' } : {}),
        });
      }
      at = item.lastIndex;
      if (m[5] === '') break;
    }
    if (rules.length === 0) rules.push({ isDefault: true });
    return new SslPrincipalMapper(rules);
  }

  /** The principal name of a distinguished name; null when no rule applies (Kafka refuses it). */
  name(dn: string): string | null {
    for (const r of this.rules) {
      if (r.isDefault) return dn;
      if (!r.pattern!.test(dn)) continue;
      const out = dn.replace(r.pattern!, r.replacement!);
      return r.toCase === 'L' ? out.toLowerCase() : r.toCase === 'U' ? out.toUpperCase() : out;
    }
    return null;
  }
}

/**
 * The principal of a TLS connection: User:<mapped subject> of a verified client certificate,
 * User:ANONYMOUS without one. Null when the mapping rules give no name (the connection closes).
 */
export function sslPrincipal(socket: TLSSocket, mapper: SslPrincipalMapper): string | null {
  if (!socket.authorized) return ANONYMOUS_PRINCIPAL;
  const cert = socket.getPeerX509Certificate();
  if (!cert) return ANONYMOUS_PRINCIPAL;
  const name = mapper.name(rfc2253Subject(cert));
  return name === null ? null : `User:${name}`;
}
