// KIP-848 consumer group convergence against a Samsa broker in a child process.
//
//   npm run bench:kip848
//
// 100 members (ConsumerGroupHeartbeat v0 over 10 connections) form a group on a 1,000-partition
// topic; then a 101st member joins, then one member leaves. Each time the bench reports how long
// the group took to be Stable again (ConsumerGroupDescribe polled every 50 ms: every member at the
// target epoch, nothing left to revoke or to assign), in heartbeat intervals.
//
// The members behave as Kafka's consumer does: a heartbeat every group.consumer.heartbeat.interval.ms
// (first ones spread over an interval), and, when a response changes the assignment, the member
// reconciles at once (no processing to finish here) and sends a heartbeat right away to report what
// it owns now. The interval is set to 1 s (its minimum lowered) so that a run takes seconds; the
// figure is in intervals, which is what the goal is about.

import { mkdtempSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ApiKey } from '../src/protocol/generated/api-keys.js';
import { ConsumerGroupDescribeRequest } from '../src/protocol/generated/messages/ConsumerGroupDescribeRequest.js';
import { ConsumerGroupDescribeResponse } from '../src/protocol/generated/messages/ConsumerGroupDescribeResponse.js';
import { ConsumerGroupHeartbeatRequest } from '../src/protocol/generated/messages/ConsumerGroupHeartbeatRequest.js';
import { ConsumerGroupHeartbeatResponse } from '../src/protocol/generated/messages/ConsumerGroupHeartbeatResponse.js';
import { CreateTopicsRequest } from '../src/protocol/generated/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../src/protocol/generated/messages/CreateTopicsResponse.js';
import { FindCoordinatorRequest } from '../src/protocol/generated/messages/FindCoordinatorRequest.js';
import { FindCoordinatorResponse } from '../src/protocol/generated/messages/FindCoordinatorResponse.js';
import { BenchConnection } from './rpc.js';
import { root, startBroker } from './samsa-process.js';

const TOPIC = 'bench-kip848';
const PARTITIONS = 1000;
const MEMBERS = 100;
const CONNECTIONS = 10;
const GROUP = 'bench-kip848-group';
const INTERVAL_MS = 1000;

type Owned = Array<{ topicId: string; partitions: number[] }>;

class Member {
  memberId = '';
  epoch = 0;
  owned: Owned = [];
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private again = false;
  stopped = false;

  constructor(private readonly c: BenchConnection) {}

  start(firstDelayMs: number): Promise<void> {
    const joined = this.beat();
    this.schedule(firstDelayMs);
    return joined;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.beat();
      this.schedule(INTERVAL_MS);
    }, delayMs);
  }

  async beat(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      const joining = this.epoch === 0;
      const resp = await this.c.request(
        ApiKey.ConsumerGroupHeartbeat,
        0,
        ConsumerGroupHeartbeatRequest,
        ConsumerGroupHeartbeatResponse,
        {
          ...ConsumerGroupHeartbeatRequest.default(),
          groupId: GROUP,
          memberId: this.memberId,
          memberEpoch: this.epoch,
          rebalanceTimeoutMs: joining ? 60_000 : -1,
          subscribedTopicNames: joining ? [TOPIC] : null,
          topicPartitions: joining ? [] : this.owned,
        },
      );
      if (resp.errorCode !== 0)
        throw new Error(`ConsumerGroupHeartbeat: error ${resp.errorCode} ${resp.errorMessage}`);
      if (resp.memberId) this.memberId = resp.memberId;
      this.epoch = resp.memberEpoch;
      if (resp.assignment) {
        const next = resp.assignment.topicPartitions.map((tp) => ({
          topicId: tp.topicId,
          partitions: tp.partitions,
        }));
        const changed = JSON.stringify(next) !== JSON.stringify(this.owned);
        this.owned = next;
        // Reconciled: say so at once (Kafka's consumer heartbeats when reconciliation completes).
        if (changed && !joining) this.again = true;
      }
    } finally {
      this.busy = false;
    }
    if (this.again && !this.stopped) {
      this.again = false;
      await this.beat();
    }
  }

  async leave(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.c.request(
      ApiKey.ConsumerGroupHeartbeat,
      0,
      ConsumerGroupHeartbeatRequest,
      ConsumerGroupHeartbeatResponse,
      {
        ...ConsumerGroupHeartbeatRequest.default(),
        groupId: GROUP,
        memberId: this.memberId,
        memberEpoch: -1,
      },
    );
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

async function describe(c: BenchConnection): Promise<ConsumerGroupDescribeResponse.DescribedGroup> {
  const r = await c.request(
    ApiKey.ConsumerGroupDescribe,
    0,
    ConsumerGroupDescribeRequest,
    ConsumerGroupDescribeResponse,
    { groupIds: [GROUP], includeAuthorizedOperations: false },
  );
  return r.groups[0];
}

/** Polls until the group is Stable at an epoch above `sinceEpoch`; returns the ms it took. */
async function untilStable(
  c: BenchConnection,
  t0: number,
  sinceEpoch: number,
): Promise<{ ms: number; epoch: number }> {
  for (;;) {
    const g = await describe(c);
    if (g.errorCode === 0 && g.groupState === 'Stable' && g.groupEpoch > sinceEpoch) {
      return { ms: performance.now() - t0, epoch: g.groupEpoch };
    }
    if (performance.now() - t0 > 120_000) throw new Error(`not stable after 120 s: ${g.groupState}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(process.env.BENCH_DIR ?? root, '.bench-kip848-'));
  const b = await startBroker(work, [
    'group.consumer.min.heartbeat.interval.ms=100',
    `group.consumer.heartbeat.interval.ms=${INTERVAL_MS}`,
  ]);
  const rows: string[][] = [];
  try {
    const admin = await BenchConnection.open(b.port);
    const created = await admin.request(ApiKey.CreateTopics, 7, CreateTopicsRequest, CreateTopicsResponse, {
      timeoutMs: 60_000,
      validateOnly: false,
      topics: [
        { name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] },
      ],
    });
    if (created.topics[0].errorCode !== 0)
      throw new Error(`CreateTopics: error ${created.topics[0].errorCode}`);
    const fc = await admin.request(
      ApiKey.FindCoordinator,
      3,
      FindCoordinatorRequest,
      FindCoordinatorResponse,
      {
        ...FindCoordinatorRequest.default(),
        key: GROUP,
      },
    );
    if (fc.errorCode !== 0) throw new Error(`FindCoordinator: error ${fc.errorCode}`);
    const conns = await Promise.all(Array.from({ length: CONNECTIONS }, () => BenchConnection.open(b.port)));
    const members: Member[] = [];

    // Formation: 100 members join within one interval.
    let t0 = performance.now();
    const joins: Promise<void>[] = [];
    for (let i = 0; i < MEMBERS; i++) {
      const m = new Member(conns[i % CONNECTIONS]);
      members.push(m);
      joins.push(m.start(Math.floor((i * INTERVAL_MS) / MEMBERS)));
    }
    await Promise.all(joins);
    let s = await untilStable(admin, t0, 0);
    rows.push([
      `${MEMBERS} members join a group on ${PARTITIONS} partitions`,
      `${(s.ms / INTERVAL_MS).toFixed(2)} heartbeat intervals (${s.ms.toFixed(0)} ms)`,
      '',
      `stable at group epoch ${s.epoch}`,
    ]);
    await new Promise((r) => setTimeout(r, 2 * INTERVAL_MS));

    // One more member joins: revocations from up to 100 members, then its assignment.
    t0 = performance.now();
    const joiner = new Member(conns[0]);
    members.push(joiner);
    await joiner.start(INTERVAL_MS);
    let before = s.epoch;
    s = await untilStable(admin, t0, before);
    const owned = joiner.owned.reduce((n, tp) => n + tp.partitions.length, 0);
    rows.push([
      `member ${MEMBERS + 1} joins the stable group`,
      `${(s.ms / INTERVAL_MS).toFixed(2)} heartbeat intervals (${s.ms.toFixed(0)} ms)`,
      '<= 3 intervals',
      `the new member owns ${owned} partitions`,
    ]);
    await new Promise((r) => setTimeout(r, 2 * INTERVAL_MS));

    // One member leaves: its partitions go to the others (nothing to revoke).
    t0 = performance.now();
    await members.shift()!.leave();
    before = s.epoch;
    s = await untilStable(admin, t0, before);
    rows.push([
      'one member leaves the stable group',
      `${(s.ms / INTERVAL_MS).toFixed(2)} heartbeat intervals (${s.ms.toFixed(0)} ms)`,
      '',
      '',
    ]);
    for (const m of members) m.stop();
    for (const c of [...conns, admin]) c.close();
  } finally {
    await b.stop();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, node ${process.version}, ${new Date().toISOString()}\n`,
  );
  console.log('| measurement | result | goal | note |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

await main();
