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
}

export type HandlerResult<Resp> = Resp | typeof NO_RESPONSE;

export interface ApiHandler<Req = unknown, Resp = unknown, Services = unknown> {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
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

/** The handlers a broker serves, by API key. */
export class ApiRegistry<Services> {
  private readonly byKey = new Map<number, ApiHandler<unknown, unknown, Services>>();

  /** `unstableApiVersionsEnabled`: unstable.api.versions.enable, which also serves unstableMaxVersion. */
  constructor(private readonly unstableApiVersionsEnabled = false) {}

  register<Req, Resp>(h: ApiHandler<Req, Resp, Services>): void {
    if (this.byKey.has(h.apiKey)) throw new Error(`api key ${h.apiKey} registered twice`);
    const served =
      this.unstableApiVersionsEnabled && h.unstableMaxVersion !== undefined
        ? { ...h, maxVersion: h.unstableMaxVersion }
        : h;
    this.byKey.set(h.apiKey, served as unknown as ApiHandler<unknown, unknown, Services>);
  }

  get(apiKey: number): ApiHandler<unknown, unknown, Services> | undefined {
    return this.byKey.get(apiKey);
  }

  /** (apiKey, minVersion, maxVersion) of every served API, ascending by key: ApiVersions' answer. */
  versions(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.byKey.values()]
      .map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }
}
