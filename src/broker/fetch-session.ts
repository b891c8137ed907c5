// Incremental fetch sessions (KIP-227): the broker remembers which partitions a fetcher reads, so
// that the fetcher sends only what changed and the broker answers only for partitions that have
// something new. Pure state, time injected; the Fetch handler drives it.
//
//   session id | epoch | meaning
//   0          | -1    | full fetch, no session (pre-KIP-227 clients)
//   0          | 0     | full fetch, create a session if a slot is free (it starts at epoch 1)
//   ID         | 0     | close session ID, then as (0, 0)
//   ID         | -1    | close session ID, then a full fetch without session
//   ID         | N > 0 | incremental fetch on session ID, whose next epoch must be N
//
// Partitions are keyed by topic (its name before Fetch v13, its id from v13) and index.

import { ErrorCode } from '../protocol/errors.js';
import type { Clock } from '../util/clock.js';

export interface SessionPartition {
  topic: string;
  partition: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
  logStartOffset: bigint;
  currentLeaderEpoch: number;
}

/** What a partition looked like in the last response that carried it. */
interface Sent {
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
}

interface Session {
  id: number;
  nextEpoch: number;
  partitions: Map<string, SessionPartition & { sent: Sent | null }>;
  lastUsedMs: number;
}

export interface PartitionOutcome {
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  hasRecords: boolean;
}

export interface FetchContext {
  /** The session id to put in the response (0: no session). */
  sessionId: number;
  /** Top-level error (the fetch is not served), or NONE. */
  errorCode: number;
  /** The partitions to read, in order. */
  partitions: SessionPartition[];
  /**
   * Whether a partition's result goes into the response. A full fetch answers every partition;
   * an incremental one only partitions with records, an error, or new offsets.
   */
  include(p: SessionPartition, outcome: PartitionOutcome): boolean;
}

export interface FetchSessionRequest {
  sessionId: number;
  sessionEpoch: number;
  partitions: SessionPartition[];
  forgotten: { topic: string; partitions: number[] }[];
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class FetchSessionCache {
  private readonly sessions = new Map<number, Session>();

  constructor(
    private readonly maxSessions: number,
    private readonly time: Clock,
    /** Unused sessions older than this may be evicted to make room (Kafka: 2 minutes). */
    private readonly evictionMs = 120_000,
    private readonly random: () => number = Math.random,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  begin(req: FetchSessionRequest): FetchContext {
    const { sessionId, sessionEpoch } = req;
    if (sessionEpoch === -1 || sessionEpoch === 0) {
      if (sessionId !== 0) this.sessions.delete(sessionId);
      const id = sessionEpoch === 0 ? this.create(req.partitions) : 0;
      return this.full(id, req.partitions);
    }
    const session = this.sessions.get(sessionId);
    if (sessionId === 0 || !session) return this.error(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    if (session.nextEpoch !== sessionEpoch) return this.error(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    session.nextEpoch = sessionEpoch === 0x7fffffff ? 1 : sessionEpoch + 1;
    session.lastUsedMs = this.time.now();
    for (const f of req.forgotten) for (const p of f.partitions) session.partitions.delete(key(f.topic, p));
    for (const p of req.partitions) {
      const k = key(p.topic, p.partition);
      const existing = session.partitions.get(k);
      session.partitions.set(k, { ...p, sent: existing?.sent ?? null });
    }
    const partitions = [...session.partitions.values()];
    return {
      sessionId,
      errorCode: ErrorCode.NONE,
      partitions,
      include: (p, o) => {
        const cached = session.partitions.get(key(p.topic, p.partition));
        const sent = cached?.sent;
        const changed =
          o.hasRecords ||
          o.errorCode !== ErrorCode.NONE ||
          !sent ||
          sent.highWatermark !== o.highWatermark ||
          sent.lastStableOffset !== o.lastStableOffset ||
          sent.logStartOffset !== o.logStartOffset;
        if (changed && cached) cached.sent = { ...o };
        return changed;
      },
    };
  }

  private full(sessionId: number, partitions: SessionPartition[]): FetchContext {
    const session = sessionId ? this.sessions.get(sessionId) : undefined;
    return {
      sessionId,
      errorCode: ErrorCode.NONE,
      partitions,
      include: (p, o) => {
        const cached = session?.partitions.get(key(p.topic, p.partition));
        if (cached) cached.sent = { ...o };
        return true;
      },
    };
  }

  private error(errorCode: number): FetchContext {
    return { sessionId: 0, errorCode, partitions: [], include: () => false };
  }

  /** A new session, or 0 when every slot is held by a session used recently. */
  private create(partitions: SessionPartition[]): number {
    const now = this.time.now();
    if (this.sessions.size >= this.maxSessions) {
      let oldest: Session | undefined;
      for (const s of this.sessions.values()) if (!oldest || s.lastUsedMs < oldest.lastUsedMs) oldest = s;
      if (!oldest || now - oldest.lastUsedMs < this.evictionMs) return 0;
      this.sessions.delete(oldest.id);
    }
    let id = 0;
    while (id === 0 || this.sessions.has(id)) id = 1 + Math.floor(this.random() * 0x7ffffffe);
    this.sessions.set(id, {
      id,
      nextEpoch: 1,
      partitions: new Map(partitions.map((p) => [key(p.topic, p.partition), { ...p, sent: null }])),
      lastUsedMs: now,
    });
    return id;
  }
}
