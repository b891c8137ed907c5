// Listeners: "NAME://host:port" parsing and the security protocol of each listener (Kafka's
// listener.security.protocol.map rules). Samsa serves PLAINTEXT and SSL; a listener that maps to
// SASL_PLAINTEXT or SASL_SSL is refused at start rather than served without authentication, which
// would let a client believe its traffic is authenticated.

import { ConfigError } from './errors.js';

export interface Listener {
  name: string;
  host: string;
  port: number;
}

/** Kafka's SecurityProtocol names. */
export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

/** The protocols Samsa serves today. */
export const SUPPORTED_SECURITY_PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL'];

/** Parses "PLAINTEXT://host:port" (an empty host means all interfaces, as in Kafka). */
export function parseListener(s: string): Listener {
  const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(s.trim());
  if (!m) throw new ConfigError(`listener "${s}" is not NAME://HOST:PORT`);
  const host = m[2].replace(/^\[|\]$/g, '');
  return { name: m[1], host, port: Number(m[3]) };
}

function isSecurityProtocol(s: string): s is SecurityProtocol {
  return (SECURITY_PROTOCOLS as readonly string[]).includes(s);
}

/**
 * listener.security.protocol.map parsed: listener names upper-cased (Kafka's
 * ListenerName.normalised), each mapped to a known protocol.
 */
export function parseSecurityProtocolMap(text: string): Map<string, SecurityProtocol> {
  const out = new Map<string, SecurityProtocol>();
  for (const item of text.split(',')) {
    if (item.trim() === '') continue;
    const [name, protocol, ...rest] = item.split(':').map((s) => s.trim());
    if (!name || protocol === undefined || rest.length > 0) {
      throw new ConfigError(`listener.security.protocol.map: "${item.trim()}" is not NAME:PROTOCOL`);
    }
    const p = protocol.toUpperCase();
    if (!isSecurityProtocol(p)) {
      throw new ConfigError(
        `listener.security.protocol.map: unknown security protocol ${protocol} for listener ${name} (one of ${SECURITY_PROTOCOLS.join(', ')})`,
      );
    }
    out.set(name.toUpperCase(), p);
  }
  return out;
}

/** What resolving the listeners needs of the broker config. */
export interface ListenerSettings {
  readonly listeners: readonly string[];
  readonly advertisedListeners: readonly string[];
  readonly securityProtocolMap: string;
  readonly controllerListenerNames: readonly string[];
}

export interface ResolvedListener extends Listener {
  readonly securityProtocol: SecurityProtocol;
}

/**
 * The security protocol of every listener and advertised listener, as Kafka resolves it: from
 * listener.security.protocol.map (whose default maps each protocol name to itself), a controller
 * listener absent from the map being PLAINTEXT; a name the map does not give is an error, and so
 * is an advertised listener whose name no listener has. Then Samsa's own rule: a protocol it
 * cannot serve yet is refused, naming the listener.
 */
export function resolveListeners(settings: ListenerSettings): ResolvedListener[] {
  const map = parseSecurityProtocolMap(settings.securityProtocolMap);
  const controllers = new Set(settings.controllerListenerNames.map((n) => n.toUpperCase()));
  const out: ResolvedListener[] = [];
  const seen = new Set<string>();
  for (const [config, list] of [
    ['listeners', settings.listeners],
    ['advertised.listeners', settings.advertisedListeners],
  ] as const) {
    for (const text of list) {
      const l = parseListener(text);
      const name = l.name.toUpperCase();
      const protocol = map.get(name) ?? (controllers.has(name) ? 'PLAINTEXT' : undefined);
      if (!protocol) {
        throw new ConfigError(
          `${config}: no security protocol defined for listener ${l.name} (map it in listener.security.protocol.map)`,
        );
      }
      if (!SUPPORTED_SECURITY_PROTOCOLS.includes(protocol)) {
        throw new ConfigError(
          `${config}: listener ${text.trim()} uses security protocol ${protocol}, which Samsa does not support yet (only ${SUPPORTED_SECURITY_PROTOCOLS.join(', ')})`,
        );
      }
      if (config === 'listeners') {
        if (seen.has(name))
          throw new ConfigError(`listeners: each listener must have a different name (${l.name})`);
        seen.add(name);
        out.push({ ...l, securityProtocol: protocol });
      } else if (!seen.has(name)) {
        // Kafka's rule: what is advertised must be a listener this node has.
        throw new ConfigError(
          `advertised.listeners: listener name ${l.name} is not one of the names in listeners (${[...seen].join(', ')})`,
        );
      }
    }
  }
  return out;
}
