// The contract between the network layer and the per-API handler files (handlers/NN-name.ts).
//
// A handler states the versions it serves; ApiVersions is derived from the registry of handlers,
// never from a hand-kept list. Handlers run in arrival order per connection: whatever a handler
// does before its first `await` (an append to a log, say) happens in request order, and the
// responses go back in request order whatever order their promises settle in.

import type { RequestHeader } from '../protocol/generated/messages/RequestHeader.js';
import type { MessageCodec } from '../protocol/message.js';

/** Returned by a handler that must not answer (Produce with acks=0). */
export const NO_RESPONSE: unique symbol = Symbol('no response');

/**
 * Thrown by a handler to close the connection without answering, as Kafka does for a refused
 * acks=0 produce (the producer learns of the error by the closed socket). Not logged as a failure.
 */
export class CloseConnection extends Error {
  override name = 'CloseConnection';
}

export interface RequestContext {
  readonly header: RequestHeader;
  readonly apiVersion: number;
  readonly clientId: string | null;
  /** "host:port" of the client. */
  readonly clientAddress: string;
  readonly connectionId: number;
  /** The listener the request came in on: Metadata and FindCoordinator answer with its endpoints. */
  readonly listenerName?: string;
  /** The client's principal ("User:..."), from its certificate on an SSL listener. */
  readonly principal?: string;
}

export type HandlerResult<Resp> = Resp | typeof NO_RESPONSE;

export interface ApiHandler<Req = unknown, Resp = unknown, Services = unknown> {
  readonly apiKey: number;
  /** The lowest version Kafka 4.0 serves (KIP-896 removed the versions of clients before 2.1). */
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * The lowest version Kafka 3.9 served, when lower than minVersion: served only while the broker
   * runs with samsa.legacy.protocol.enable=true (the default), for clients older than Kafka 2.1.
   */
  readonly legacyMinVersion?: number;
  /**
   * A newer version, still unstable upstream (latestVersionUnstable), served only when the broker
   * runs with unstable.api.versions.enable=true, as Kafka does.
   */
  readonly unstableMaxVersion?: number;
  readonly request: MessageCodec<Req>;
  readonly response: MessageCodec<Resp>;
  handle(
    req: Req,
    ctx: RequestContext,
    services: Services,
  ): HandlerResult<Resp> | Promise<HandlerResult<Resp>>;
}

export function defineHandler<Req, Resp, Services>(
  h: ApiHandler<Req, Resp, Services>,
): ApiHandler<Req, Resp, Services> {
  const v = h.request.validVersions;
  if (h.minVersion < v.min || h.maxVersion > v.max || h.minVersion > h.maxVersion) {
    throw new Error(
      `${h.request.name}: handler versions ${h.minVersion}-${h.maxVersion} outside ${v.min}-${v.max}`,
    );
  }
  if (
    h.legacyMinVersion !== undefined &&
    (h.legacyMinVersion < v.min || h.legacyMinVersion >= h.minVersion)
  ) {
    throw new Error(
      `${h.request.name}: legacy versions from ${h.legacyMinVersion} outside ${v.min}-${h.minVersion - 1}`,
    );
  }
  // A version still being designed upstream is never advertised by default.
  if (h.request.latestVersionUnstable && h.maxVersion >= v.max) {
    throw new Error(`${h.request.name}: version ${v.max} is unstable upstream and must not be served`);
  }
  if (
    h.unstableMaxVersion !== undefined &&
    (h.unstableMaxVersion <= h.maxVersion || h.unstableMaxVersion > v.max)
  ) {
    throw new Error(
      `${h.request.name}: unstable version ${h.unstableMaxVersion} outside ${h.maxVersion + 1}-${v.max}`,
    );
  }
  return h;
}

/**
 * An API as the registry knows it before its handler file is loaded: the versions it serves and
 * how to import the file. The broker registers every API this way, so that starting loads no
 * handler and no request or response codec (first use loads them); the versions must equal the
 * file's own, which loading checks.
 */
export interface ApiEntry<Services> {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly unstableMaxVersion?: number;
  readonly legacyMinVersion?: number;
  readonly load: () => Promise<ApiHandler<unknown, unknown, Services>>;
}

interface Registered<Services> {
  readonly declared: Omit<ApiEntry<Services>, 'load'>;
  /**
   * The versions served: minVersion is legacyMinVersion when legacy versions are enabled, and
   * maxVersion includes unstableMaxVersion when those are enabled.
   */
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly load: () => Promise<ApiHandler<unknown, unknown, Services>>;
  handler?: ApiHandler<unknown, unknown, Services>;
  loading?: Promise<ApiHandler<unknown, unknown, Services>>;
}

/** The handlers a broker serves, by API key. */
export class ApiRegistry<Services> {
  private readonly byKey = new Map<number, Registered<Services>>();

  /**
   * `unstableApiVersionsEnabled`: unstable.api.versions.enable, which also serves
   * unstableMaxVersion. `legacyProtocolEnabled`: samsa.legacy.protocol.enable, which also serves
   * the versions from legacyMinVersion (Kafka 3.9's floors; without it, Kafka 4.0's).
   */
  constructor(
    private readonly unstableApiVersionsEnabled = false,
    private readonly legacyProtocolEnabled = false,
  ) {}

  /** Registers a handler already loaded. */
  register<Req, Resp>(h: ApiHandler<Req, Resp, Services>): void {
    const handler = h as unknown as ApiHandler<unknown, unknown, Services>;
    this.add(h, () => Promise.resolve(handler)).handler = this.served(handler);
  }

  /** Registers an API whose handler file loads on first use. */
  registerLazy(entry: ApiEntry<Services>): void {
    this.add(entry, entry.load);
  }

  private add(
    declared: Omit<ApiEntry<Services>, 'load'>,
    load: () => Promise<ApiHandler<unknown, unknown, Services>>,
  ): Registered<Services> {
    if (this.byKey.has(declared.apiKey)) throw new Error(`api key ${declared.apiKey} registered twice`);
    const unstable = this.unstableApiVersionsEnabled ? declared.unstableMaxVersion : undefined;
    const legacy = this.legacyProtocolEnabled ? declared.legacyMinVersion : undefined;
    const r: Registered<Services> = {
      declared: {
        apiKey: declared.apiKey,
        minVersion: declared.minVersion,
        maxVersion: declared.maxVersion,
        unstableMaxVersion: declared.unstableMaxVersion,
        legacyMinVersion: declared.legacyMinVersion,
      },
      minVersion: legacy ?? declared.minVersion,
      maxVersion: unstable ?? declared.maxVersion,
      load,
    };
    this.byKey.set(declared.apiKey, r);
    return r;
  }

  private served(h: ApiHandler<unknown, unknown, Services>): ApiHandler<unknown, unknown, Services> {
    const unstable = this.unstableApiVersionsEnabled ? h.unstableMaxVersion : undefined;
    const legacy = this.legacyProtocolEnabled ? h.legacyMinVersion : undefined;
    if (unstable === undefined && legacy === undefined) return h;
    return { ...h, minVersion: legacy ?? h.minVersion, maxVersion: unstable ?? h.maxVersion };
  }

  /** The versions served for `apiKey`, or undefined for a key this broker does not serve. */
  versionRange(apiKey: number): { minVersion: number; maxVersion: number } | undefined {
    return this.byKey.get(apiKey);
  }

  /** The handler of `apiKey` once loaded (see load), else undefined. */
  get(apiKey: number): ApiHandler<unknown, unknown, Services> | undefined {
    return this.byKey.get(apiKey)?.handler;
  }

  /**
   * Loads the handler file of `apiKey` (once). Rejects if the file's versions are not the ones
   * registered: ApiVersions would have advertised what the handler does not serve.
   */
  load(apiKey: number): Promise<ApiHandler<unknown, unknown, Services>> {
    const r = this.byKey.get(apiKey);
    if (!r) return Promise.reject(new Error(`api key ${apiKey} is not registered`));
    if (r.handler) return Promise.resolve(r.handler);
    r.loading ??= r.load().then(
      (h) => {
        const d = r.declared;
        if (
          h.apiKey !== d.apiKey ||
          h.minVersion !== d.minVersion ||
          h.maxVersion !== d.maxVersion ||
          h.unstableMaxVersion !== d.unstableMaxVersion ||
          h.legacyMinVersion !== d.legacyMinVersion
        ) {
          throw new Error(
            `${h.request.name}: the handler serves versions ${h.minVersion}-${h.maxVersion} (unstable ${h.unstableMaxVersion}, legacy ${h.legacyMinVersion}), registered as ${d.minVersion}-${d.maxVersion} (unstable ${d.unstableMaxVersion}, legacy ${d.legacyMinVersion})`,
          );
        }
        r.handler = this.served(h);
        return r.handler;
      },
      (err) => {
        r.loading = undefined; // a later request tries again
        throw err;
      },
    );
    return r.loading;
  }

  /** Loads every handler (tests; a broker loads each on first use). */
  async loadAll(): Promise<void> {
    for (const key of this.byKey.keys()) await this.load(key);
  }

  /** (apiKey, minVersion, maxVersion) of every served API, ascending by key: ApiVersions' answer. */
  versions(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.byKey.values()]
      .map((r) => ({ apiKey: r.declared.apiKey, minVersion: r.minVersion, maxVersion: r.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }
}
