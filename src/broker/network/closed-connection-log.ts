// The log of connections the broker closes because of what a client sent: an unsupported
// version, an unknown API, a request that does not decode, a size prefix out of range, an acks=0
// produce that was refused. Kafka closes these silently (or at debug), and a user whose client
// "just disconnects" has nothing to go on; Samsa says so once at info, with the client's address,
// client id, API and version.
//
// Rate limited, since a misconfigured client reconnects and repeats itself: at most one line per
// client host per interval (10 s by default); the lines not written are counted and the count goes
// out with the next line for that host (or when its entry is dropped). At most MAX_HOSTS hosts
// are tracked at once; past that, lines are counted and reported in one summary line per interval,
// so that many addresses cannot make the log, or this map, grow without bound.

import type { Logger } from '../../logging/logger.js';
import { apiVersionInfo } from '../../protocol/generated/api-keys.js';
import { type Clock, SYSTEM_TIME } from '../../util/clock.js';

/** Hosts tracked at once (entries older than the interval are dropped first). */
const MAX_HOSTS = 1024;

export const DEFAULT_CLOSED_CONNECTION_LOG_INTERVAL_MS = 10_000;

/** What is known of a connection the broker is closing, and why. */
export interface ClosedConnection {
  /** The client's host (the rate limit's key) and "host:port". */
  host: string;
  client: string;
  reason: string;
  /** From the request header, when it decoded. */
  clientId?: string | null;
  apiKey?: number;
  apiVersion?: number;
}

/** Kafka's name for an API key, or "api key N" for one it does not know. */
export function apiName(apiKey: number): string {
  return (apiKey >= 0 && apiVersionInfo[apiKey]?.name) || `api key ${apiKey}`;
}

type InfoLogger = Pick<Logger, 'info'>;

export class ClosedConnectionLog {
  private readonly hosts = new Map<string, { loggedAtMs: number; suppressed: number }>();
  /** Lines not written because MAX_HOSTS hosts were tracked, and when that was last reported. */
  private overflow = { count: 0, reportedAtMs: Number.NEGATIVE_INFINITY };

  constructor(
    private readonly log: InfoLogger,
    private readonly intervalMs = DEFAULT_CLOSED_CONNECTION_LOG_INTERVAL_MS,
    private readonly clock: Clock = SYSTEM_TIME,
  ) {}

  /** Logs the close, or counts it if this host was logged less than an interval ago. */
  record(c: ClosedConnection): boolean {
    const now = this.clock.now();
    const entry = this.hosts.get(c.host);
    if (entry && now - entry.loggedAtMs < this.intervalMs) {
      entry.suppressed++;
      return false;
    }
    if (!entry && this.hosts.size >= MAX_HOSTS) {
      this.dropExpired(now);
      if (this.hosts.size >= MAX_HOSTS) {
        this.overflow.count++;
        if (now - this.overflow.reportedAtMs >= this.intervalMs) {
          this.log.info(
            { suppressed: this.overflow.count },
            `closed ${this.overflow.count} more connection(s) from more than ${MAX_HOSTS} client hosts (not logged one by one)`,
          );
          this.overflow = { count: 0, reportedAtMs: now };
        }
        return false;
      }
    }
    const suppressed = entry?.suppressed ?? 0;
    this.hosts.set(c.host, { loggedAtMs: now, suppressed: 0 });
    const what = c.apiKey === undefined ? '' : ` (${apiName(c.apiKey)} v${c.apiVersion ?? '?'})`;
    const more =
      suppressed > 0
        ? `; ${suppressed} more closed from ${c.host} since the last such line were not logged`
        : '';
    this.log.info(
      {
        client: c.client,
        clientId: c.clientId ?? null,
        api: c.apiKey === undefined ? null : apiName(c.apiKey),
        apiKey: c.apiKey ?? null,
        apiVersion: c.apiVersion ?? null,
        reason: c.reason,
        suppressed,
      },
      `closed connection from ${c.client}, client id ${JSON.stringify(c.clientId ?? null)}${what}: ${c.reason}${more}`,
    );
    return true;
  }

  /** Drops hosts last logged an interval or more ago, reporting what they had counted. */
  private dropExpired(now: number): void {
    for (const [host, e] of this.hosts) {
      if (now - e.loggedAtMs < this.intervalMs) continue;
      this.hosts.delete(host);
      if (e.suppressed > 0) {
        this.log.info(
          { host, suppressed: e.suppressed },
          `${e.suppressed} more connection(s) closed from ${host} were not logged`,
        );
      }
    }
  }
}
