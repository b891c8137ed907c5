// A whole broker on simulated time (issue 14, "one clock"): startBroker({ time: SimulatedTime })
// hands one Clock & Scheduler to storage, the coordinators, fetch sessions, delayed fetch and the
// controller, so nothing that waits on time happens until the test advances the clock: a long-poll
// Fetch answers at max_wait_ms, an idle connection closes at connections.max.idle.ms, a JoinGroup at group.initial.rebalance.delay.ms, a member whose
// heartbeats stop leaves at session.timeout.ms, and retention deletes at the next
// log.retention.check.interval.ms. Real sockets and disks, no sleeping for time to pass. The waits
// are minutes long, so only the simulated clock (never the machine's) can end them during a test.

import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type Broker, startBroker } from '../../src/broker/broker.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import {
  ConsumerProtocolSubscription,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from '../../src/protocol/generated/index.js';
import { SimulatedTime } from '../../src/util/clock.js';
import { KafkaRpc } from '../helpers/kafka-rpc.js';

const silent = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function simulatedBroker(config: Record<string, string> = {}) {
  // Starts at the real wall time, so record timestamps the test writes look current.
  const time = new SimulatedTime(Date.now());
  const broker: Broker = await startBroker({ config, logger: silent, time });
  cleanups.push(() => broker.stop());
  const rpc = await KafkaRpc.connect(broker.port);
  cleanups.push(() => rpc.close());
  return { time, broker, rpc };
}

/** Polls (real time) until `cond` holds: for the broker to have received a request, not for time. */
async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition never held');
}

/** Whether `p` has settled (it is given a few turns of the event loop, no simulated time). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
}

describe('a broker on simulated time', () => {
  it('answers a long-poll Fetch only when max_wait_ms has passed on its clock', async () => {
    // An hour of connections.max.idle.ms: the waiting connection does no I/O for ten minutes.
    const { time, broker, rpc } = await simulatedBroker({ 'connections.max.idle.ms': '3600000' });
    expect((await rpc.createTopic('sim', 1)).errorCode).toBe(ErrorCode.NONE);
    const watchers = broker.services.replicaManager.watchers;
    const fetch = rpc.fetchOnce('sim', 0, 0n, 1 << 20, 0, { maxWaitMs: 600_000, minBytes: 1 });
    await until(() => watchers.size === 1); // parked in the purgatory
    await time.advance(599_999);
    expect(watchers.size).toBe(1);
    expect(await settled(fetch)).toBe(false);
    await time.advance(1);
    const answer = await fetch;
    expect(answer.errorCode).toBe(ErrorCode.NONE);
    expect(answer.highWatermark).toBe(0n);
    expect(watchers.size).toBe(0);
  });

  it('closes a connection idle for connections.max.idle.ms of its clock; traffic restarts the count', async () => {
    const { time, rpc } = await simulatedBroker(); // connections.max.idle.ms: 600000
    await time.advance(599_999);
    expect((await rpc.metadata([])).brokers).toHaveLength(1); // still open; traffic at 599_999
    await time.advance(599_999); // 1_199_998 since connecting, 599_999 since the last traffic
    expect((await rpc.metadata([])).brokers).toHaveLength(1);
    await time.advance(600_000);
    await until(() => rpc.closed);
    await expect(rpc.metadata([])).rejects.toThrow();
  });

  it('never closes an idle connection when connections.max.idle.ms is negative (Kafka: no idle expiry)', async () => {
    // Before the clock, socket.setTimeout(-1) threw on every accepted connection.
    const { time, rpc } = await simulatedBroker({ 'connections.max.idle.ms': '-1' });
    expect((await rpc.metadata([])).brokers).toHaveLength(1);
    await time.advance(2 * 3600 * 1000); // twelve times the default
    expect((await rpc.metadata([])).brokers).toHaveLength(1);
  });

  it('deletes a segment past retention.ms at the next retention check of its clock, not before', async () => {
    const { time, rpc } = await simulatedBroker();
    expect((await rpc.createTopic('old', 1, { 'retention.ms': '60000' })).errorCode).toBe(ErrorCode.NONE);
    const produced = await rpc.produce('old', 0, [{ value: Buffer.from('a') }, { value: Buffer.from('b') }], {
      defaultTimestamp: time.now(),
    });
    expect(produced.errorCode).toBe(ErrorCode.NONE);
    // log.retention.check.interval.ms is 300000: the records are over a minute old long before.
    await time.advance(299_999);
    expect((await rpc.listOffset('old', 0, -2n)).offset).toBe(0n);
    await time.advance(1);
    await until(async () => (await rpc.listOffset('old', 0, -2n)).offset === 2n);
    expect((await rpc.listOffset('old', 0, -1n)).offset).toBe(2n);
  });

  it('completes a join at group.initial.rebalance.delay.ms and expires a silent member at session.timeout.ms', async () => {
    const { time, broker, rpc } = await simulatedBroker({
      'offsets.topic.num.partitions': '1',
      'connections.max.idle.ms': '3600000',
      // Under Kafka's 5-minute join timeout of a new member (KIP-394), which the clock also runs.
      'group.initial.rebalance.delay.ms': '240000',
    });
    const find = await rpc.request(
      ApiKey.FindCoordinator,
      3,
      FindCoordinatorRequest,
      FindCoordinatorResponse,
      {
        ...FindCoordinatorRequest.default(),
        key: 'g',
      },
    );
    expect(find.errorCode).toBe(ErrorCode.NONE);
    const other = await KafkaRpc.connect(broker.port);
    cleanups.push(() => other.close());
    const describe = async () =>
      (
        await other.request(ApiKey.DescribeGroups, 5, DescribeGroupsRequest, DescribeGroupsResponse, {
          ...DescribeGroupsRequest.default(),
          groups: ['g'],
        })
      ).groups[0];
    const metadata = ConsumerProtocolSubscription.encode(
      { ...ConsumerProtocolSubscription.default(), topics: ['t'] },
      1,
    );
    const join = (memberId: string) =>
      rpc.request(ApiKey.JoinGroup, 7, JoinGroupRequest, JoinGroupResponse, {
        ...JoinGroupRequest.default(),
        groupId: 'g',
        sessionTimeoutMs: 900_000,
        rebalanceTimeoutMs: 1_200_000,
        memberId,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata }],
      });
    const first = await join('');
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    const joining = join(first.memberId);
    await until(async () => (await describe()).groupState === 'PreparingRebalance');
    await time.advance(239_999);
    expect(await settled(joining)).toBe(false);
    await time.advance(1);
    const joined = await joining;
    expect(joined).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1, leader: first.memberId });
    const synced = await rpc.request(ApiKey.SyncGroup, 5, SyncGroupRequest, SyncGroupResponse, {
      ...SyncGroupRequest.default(),
      groupId: 'g',
      generationId: 1,
      memberId: first.memberId,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: first.memberId, assignment: Buffer.alloc(0) }],
    });
    expect(synced.errorCode).toBe(ErrorCode.NONE);
    expect(await describe()).toMatchObject({ groupState: 'Stable', members: [{ memberId: first.memberId }] });
    // No heartbeat: the member stays until session.timeout.ms has passed on the broker's clock.
    await time.advance(899_999);
    expect((await describe()).members).toHaveLength(1);
    await time.advance(1);
    await until(async () => (await describe()).groupState === 'Empty');
    expect((await describe()).members).toEqual([]);
  });
});
