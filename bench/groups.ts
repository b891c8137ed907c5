// Group coordinator benchmark against a Samsa broker in a child process, beside baselines
// measured in the same run (loopback request/response round trips; small write + fdatasync).
//
//   npm run bench:groups
//
// - Rebalance: 100 members join one group over a 1,000-partition topic (JoinGroup with the
//   KIP-394 member-id round trip, the leader assigns round-robin, everyone syncs). Reports the
//   time from the first JoinGroup to the last member's assignment, and the rebalance rounds
//   (generations) it took, with Kafka's default group.initial.rebalance.delay.ms (3 s) and with 0.
// - OffsetCommit throughput, one partition per commit (one request = one commit): 8 connections
//   with 64 requests in flight each, every connection its own group (so commits spread over 8
//   __consumer_offsets partitions: each fsync can carry at most one connection's in-flight
//   requests), and 64 connections over the same 8 groups (many consumers per group). In the
//   default durability mode (fsync before ack) and in page-cache mode.

import { mkdtempSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ApiKey } from '../src/protocol/generated/api-keys.js';
import { ConsumerProtocolAssignment } from '../src/protocol/generated/messages/ConsumerProtocolAssignment.js';
import { ConsumerProtocolSubscription } from '../src/protocol/generated/messages/ConsumerProtocolSubscription.js';
import { CreateTopicsRequest } from '../src/protocol/generated/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../src/protocol/generated/messages/CreateTopicsResponse.js';
import { FindCoordinatorRequest } from '../src/protocol/generated/messages/FindCoordinatorRequest.js';
import { FindCoordinatorResponse } from '../src/protocol/generated/messages/FindCoordinatorResponse.js';
import { JoinGroupRequest } from '../src/protocol/generated/messages/JoinGroupRequest.js';
import { JoinGroupResponse } from '../src/protocol/generated/messages/JoinGroupResponse.js';
import { OffsetCommitRequest } from '../src/protocol/generated/messages/OffsetCommitRequest.js';
import { OffsetCommitResponse } from '../src/protocol/generated/messages/OffsetCommitResponse.js';
import { SyncGroupRequest } from '../src/protocol/generated/messages/SyncGroupRequest.js';
import { SyncGroupResponse } from '../src/protocol/generated/messages/SyncGroupResponse.js';
import { diskWrite, echoRoundTrips } from './baseline.js';
import { BenchConnection } from './rpc.js';
import { root, startBroker } from './samsa-process.js';

const work = mkdtempSync(join(process.env.BENCH_DIR ?? root, '.bench-groups-'));
const rows: string[][] = [];
const row = (...cells: (string | number)[]) => rows.push(cells.map(String));

const TOPIC = 'bench-1000';
const PARTITIONS = 1000;
const MEMBERS = 100;

async function createTopic(c: BenchConnection): Promise<void> {
  const res = await c.request(ApiKey.CreateTopics, 7, CreateTopicsRequest, CreateTopicsResponse, {
    timeoutMs: 60_000,
    validateOnly: false,
    topics: [{ name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }],
  });
  if (res.topics[0].errorCode !== 0) throw new Error(`CreateTopics: error ${res.topics[0].errorCode}`);
}

async function findCoordinator(c: BenchConnection, group: string): Promise<void> {
  const res = await c.request(ApiKey.FindCoordinator, 3, FindCoordinatorRequest, FindCoordinatorResponse, {
    ...FindCoordinatorRequest.default(),
    key: group,
  });
  if (res.errorCode !== 0) throw new Error(`FindCoordinator: error ${res.errorCode}`);
}

const subscription = ConsumerProtocolSubscription.encode(
  { ...ConsumerProtocolSubscription.default(), topics: [TOPIC] },
  1,
);

function roundRobin(memberIds: string[]): Map<string, Buffer> {
  const parts = new Map<string, number[]>(memberIds.map((m) => [m, []]));
  for (let p = 0; p < PARTITIONS; p++) parts.get(memberIds[p % memberIds.length])!.push(p);
  return new Map(
    [...parts].map(([m, ps]) => [
      m,
      ConsumerProtocolAssignment.encode(
        { ...ConsumerProtocolAssignment.default(), assignedPartitions: [{ topic: TOPIC, partitions: ps }] },
        1,
      ),
    ]),
  );
}

/** One member: joins until it holds an assignment; returns the generations it joined. */
async function member(c: BenchConnection, group: string, generations: Set<number>): Promise<void> {
  let memberId = '';
  for (;;) {
    const join = await c.request(ApiKey.JoinGroup, 7, JoinGroupRequest, JoinGroupResponse, {
      ...JoinGroupRequest.default(),
      groupId: group,
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 60_000,
      memberId,
      protocolType: 'consumer',
      protocols: [{ name: 'roundrobin', metadata: subscription }],
    });
    if (join.errorCode === 79 /* MEMBER_ID_REQUIRED */) {
      memberId = join.memberId;
      continue;
    }
    if (join.errorCode !== 0) throw new Error(`JoinGroup: error ${join.errorCode}`);
    memberId = join.memberId;
    generations.add(join.generationId);
    const assignments =
      join.leader === memberId
        ? [...roundRobin(join.members.map((m) => m.memberId))].map(([m, a]) => ({
            memberId: m,
            assignment: a,
          }))
        : [];
    const sync = await c.request(ApiKey.SyncGroup, 5, SyncGroupRequest, SyncGroupResponse, {
      ...SyncGroupRequest.default(),
      groupId: group,
      generationId: join.generationId,
      memberId,
      protocolType: 'consumer',
      protocolName: 'roundrobin',
      assignments,
    });
    if (sync.errorCode === 27 /* REBALANCE_IN_PROGRESS */) continue;
    if (sync.errorCode !== 0) throw new Error(`SyncGroup: error ${sync.errorCode}`);
    if (sync.assignment.length === 0) throw new Error('empty assignment');
    return;
  }
}

async function rebalance(port: number, label: string): Promise<void> {
  const group = `rebalance-${label}`;
  const conns = await Promise.all(Array.from({ length: MEMBERS }, () => BenchConnection.open(port)));
  await findCoordinator(conns[0], group);
  const generations = new Set<number>();
  const t0 = performance.now();
  await Promise.all(conns.map((c) => member(c, group, generations)));
  const ms = performance.now() - t0;
  for (const c of conns) c.close();
  row(
    `rebalance: ${MEMBERS} members, ${PARTITIONS} partitions, ${label}`,
    `${generations.size} round(s), ${ms.toFixed(0)} ms`,
    '<= 2 rounds',
    `generations ${[...generations].sort((a, b) => a - b).join(',')}`,
  );
}

/** OffsetCommit requests per second, each committing `perRequest` partitions of one group. */
async function commits(port: number, seconds: number, connections: number, perRequest = 1): Promise<number> {
  const conns = await Promise.all(Array.from({ length: connections }, () => BenchConnection.open(port)));
  await findCoordinator(conns[0], 'commit-bench-0');
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    conns.map(async (c, i) => {
      let offset = 0n;
      const one = async (): Promise<void> => {
        while (performance.now() < deadline) {
          const res = await c.request(ApiKey.OffsetCommit, 8, OffsetCommitRequest, OffsetCommitResponse, {
            ...OffsetCommitRequest.default(),
            groupId: `commit-bench-${i % 8}`,
            generationIdOrMemberEpoch: -1,
            topics: [
              {
                name: TOPIC,
                partitions: Array.from({ length: perRequest }, (_, k) => ({
                  partitionIndex: (i * perRequest + k) % PARTITIONS,
                  committedOffset: offset++,
                  committedLeaderEpoch: -1,
                  commitTimestamp: -1n,
                  committedMetadata: '',
                })),
              },
            ],
          });
          const code = res.topics[0].partitions[0].errorCode;
          if (code !== 0) throw new Error(`OffsetCommit: error ${code}`);
          done++;
        }
      };
      await Promise.all(Array.from({ length: 64 }, one));
    }),
  );
  const perSec = done / ((performance.now() - start) / 1000);
  for (const c of conns) c.close();
  return perSec;
}

async function main(): Promise<void> {
  const seconds = 5;
  const echo = await echoRoundTrips(seconds, 8, 64, 100);
  row(
    'baseline: loopback echo, 100 B frames, 8 connections x 64 in flight',
    `${(echo.perSec / 1e3).toFixed(0)} k round trips/s`,
    '',
    '',
  );
  const syncs = diskWrite(work, seconds, 128, 128).bytesPerSec / 128;
  row('baseline: 128 B write + fdatasync', `${syncs.toFixed(0)} fsyncs/s`, '', '');

  for (const delay of ['3000', '0']) {
    const b = await startBroker(join(work, `rebalance-${delay}`), [
      `group.initial.rebalance.delay.ms=${delay}`,
    ]);
    const c = await BenchConnection.open(b.port);
    await createTopic(c);
    c.close();
    await rebalance(b.port, `group.initial.rebalance.delay.ms=${delay}`);
    await b.stop();
  }

  for (const mode of ['fsync before ack (default)', 'page cache (log.flush.interval.messages=100000)']) {
    const pageCache = mode.startsWith('page');
    const b = await startBroker(
      join(work, pageCache ? 'commits-pc' : 'commits'),
      pageCache ? ['log.flush.interval.messages=100000'] : [],
    );
    const c = await BenchConnection.open(b.port);
    await createTopic(c);
    c.close();
    for (const connections of [8, 64]) {
      const perSec = await commits(b.port, seconds, connections);
      row(
        `OffsetCommit (1 partition each), ${connections} connections x 64 in flight, 8 groups, ${mode}`,
        `${(perSec / 1e3).toFixed(1)} k commits/s`,
        '>= 50 k commits/s',
        '',
      );
    }
    // A consumer commits every partition it owns in one request.
    const perSec = await commits(b.port, seconds, 64, 10);
    row(
      `OffsetCommit (10 partitions each), 64 connections x 64 in flight, 8 groups, ${mode}`,
      `${(perSec / 1e3).toFixed(1)} k requests/s`,
      '',
      `${((perSec * 10) / 1e3).toFixed(0)} k partition offsets/s`,
    );
    await b.stop();
  }

  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, node ${process.version}, ${new Date().toISOString()}\n`,
  );
  console.log('| measurement | result | goal | note |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
