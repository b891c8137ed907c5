// JoinGroup (API key 11) against kafkajs (v0-v5) and @platformatic/kafka (v6-v9; flexible from v6).
// The protocol metadata inside is kafkajs's consumer-protocol subscription, which is also checked
// against Samsa's ConsumerProtocolSubscription codec.

import { joinGroupV6, joinGroupV7, joinGroupV8, joinGroupV9 } from '@platformatic/kafka';
import { AssignerProtocol } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConsumerProtocolSubscription,
  JoinGroupRequest,
  JoinGroupResponse,
} from '../../../src/protocol/generated/index.js';
import {
  CaptureBroker,
  kafkajsDecodeResponse,
  kafkajsRequest,
  platformaticExchange,
  platformaticParse,
} from './fixtures.js';
import {
  bodyAfterV0Header,
  decodeLibraryRequest,
  encodeSamsaResponse,
  expectConsumed,
  since,
} from './samsa.js';

const SUBSCRIPTION = AssignerProtocol.MemberMetadata.encode({
  version: 0,
  topics: ['orders', 'audit'],
  userData: Buffer.from('user-data'),
});
const OTHER_METADATA = Buffer.from([0, 1, 2, 3, 250]);
/** Multi-byte UTF-8: string lengths on the wire count bytes, not characters. */
const GROUP = 'billing-größe-✓-账单';
/** 200+ bytes: compact lengths past 127 need a two-byte varint. */
const LONG_MEMBER = `consumer-1-${'9f8e7d6c-'.repeat(25)}`;

function joinGroupResponse(version: number): JoinGroupResponse {
  return {
    throttleTimeMs: since(version, 2, 17, 0),
    errorCode: 0,
    generationId: 12,
    protocolType: since(version, 7, 'consumer', null),
    protocolName: 'RoundRobinAssigner',
    leader: 'member-1',
    skipAssignment: false,
    memberId: 'member-2',
    members: [
      {
        memberId: 'member-1',
        groupInstanceId: since(version, 5, 'instance-1', null),
        metadata: SUBSCRIPTION,
      },
      { memberId: 'member-2', groupInstanceId: null, metadata: OTHER_METADATA },
    ],
  };
}

describe('consumer protocol subscription (kafkajs AssignerProtocol)', () => {
  it('decodes with ConsumerProtocolSubscription v0 and re-encodes identically', () => {
    expect(SUBSCRIPTION.readInt16BE(0)).toBe(0);
    const body = SUBSCRIPTION.subarray(2);
    const decoded = ConsumerProtocolSubscription.decode(body, 0);
    expect(decoded).toMatchObject({ topics: ['orders', 'audit'], userData: Buffer.from('user-data') });
    expect(ConsumerProtocolSubscription.encode(decoded, 0)).toEqual(body);
  });
});

describe('JoinGroup vs kafkajs', () => {
  for (const version of [0, 1, 2, 3, 4, 5]) {
    it(`request v${version}: kafkajs bytes decode and re-encode identically`, async () => {
      const fixture = await kafkajsRequest('joinGroup', version, {
        groupId: GROUP,
        sessionTimeout: 30_000,
        rebalanceTimeout: 60_000,
        memberId: '',
        groupInstanceId: 'instance-1',
        protocolType: 'consumer',
        groupProtocols: [
          { name: 'RoundRobinAssigner', metadata: SUBSCRIPTION },
          { name: 'other', metadata: OTHER_METADATA },
        ],
      });
      const { message } = decodeLibraryRequest(JoinGroupRequest, 'JoinGroup', fixture.frame);
      expect(message).toEqual({
        groupId: GROUP,
        sessionTimeoutMs: 30_000,
        rebalanceTimeoutMs: since(version, 1, 60_000, -1),
        memberId: '',
        groupInstanceId: since(version, 5, 'instance-1', null),
        protocolType: 'consumer',
        protocols: [
          { name: 'RoundRobinAssigner', metadata: SUBSCRIPTION },
          { name: 'other', metadata: OTHER_METADATA },
        ],
        reason: null,
      });
    });

    it(`response v${version}: Samsa bytes parse in kafkajs`, async () => {
      const bytes = encodeSamsaResponse(
        JoinGroupResponse,
        'JoinGroup',
        version,
        11,
        joinGroupResponse(version),
      );
      const decoded = (await kafkajsDecodeResponse('joinGroup', version, bodyAfterV0Header(bytes))) as Record<
        string,
        unknown
      >;
      expect(decoded).toMatchObject({
        errorCode: 0,
        generationId: 12,
        groupProtocol: 'RoundRobinAssigner',
        leaderId: 'member-1',
        memberId: 'member-2',
        members: [
          {
            memberId: 'member-1',
            memberMetadata: SUBSCRIPTION,
            ...(version >= 5 ? { groupInstanceId: 'instance-1' } : {}),
          },
          {
            memberId: 'member-2',
            memberMetadata: OTHER_METADATA,
            ...(version >= 5 ? { groupInstanceId: null } : {}),
          },
        ],
      });
      if (version >= 2) expect(decoded.clientSideThrottleTime ?? decoded.throttleTime).toBe(17);
      const meta = AssignerProtocol.MemberMetadata.decode(
        (decoded.members as { memberMetadata: Buffer }[])[0].memberMetadata,
      );
      expect(meta).toMatchObject({ version: 0, topics: ['orders', 'audit'] });
    });
  }
});

const PLATFORMATIC_JOIN_GROUP = { 6: joinGroupV6, 7: joinGroupV7, 8: joinGroupV8, 9: joinGroupV9 } as const;

describe('JoinGroup vs @platformatic/kafka', () => {
  let broker: CaptureBroker;
  beforeAll(async () => {
    broker = await CaptureBroker.start();
  });
  afterAll(async () => {
    await broker.close();
  });

  for (const version of [6, 7, 8, 9] as const) {
    const mod = PLATFORMATIC_JOIN_GROUP[version];

    it(`v${version}: request frame from a real Connection round-trips; Samsa response parses`, async () => {
      const response = joinGroupResponse(version);
      const exchange = await platformaticExchange(
        broker,
        mod.api,
        [
          GROUP,
          30_000,
          60_000,
          LONG_MEMBER,
          null,
          'consumer',
          [
            { name: 'RoundRobinAssigner', metadata: SUBSCRIPTION },
            { name: 'other', metadata: OTHER_METADATA },
          ],
          'rejoining after restart ↻',
        ],
        (req) => encodeSamsaResponse(JoinGroupResponse, 'JoinGroup', version, req.readInt32BE(8), response),
      );
      expect(exchange.error).toBeUndefined();

      const { message } = decodeLibraryRequest(JoinGroupRequest, 'JoinGroup', exchange.frame);
      expect(message).toEqual({
        groupId: GROUP,
        sessionTimeoutMs: 30_000,
        rebalanceTimeoutMs: 60_000,
        memberId: LONG_MEMBER,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [
          { name: 'RoundRobinAssigner', metadata: SUBSCRIPTION },
          { name: 'other', metadata: OTHER_METADATA },
        ],
        reason: since(version, 8, 'rejoining after restart ↻', null),
      });

      expect(exchange.response).toEqual({
        throttleTimeMs: 17,
        errorCode: 0,
        generationId: 12,
        // platformatic fills protocolType with '' before v7, where the field does not exist.
        protocolType: since(version, 7, 'consumer', ''),
        protocolName: 'RoundRobinAssigner',
        leader: 'member-1',
        skipAssignment: false,
        memberId: 'member-2',
        members: [
          { memberId: 'member-1', groupInstanceId: 'instance-1', metadata: SUBSCRIPTION },
          { memberId: 'member-2', groupInstanceId: null, metadata: OTHER_METADATA },
        ],
      });

      const body = JoinGroupResponse.encode(response, version);
      expectConsumed(platformaticParse(mod.parseResponse, 11, version, body).unread, body, true);
    });
  }

  it('v9: skip_assignment reaches platformatic', async () => {
    const body = JoinGroupResponse.encode({ ...joinGroupResponse(9), skipAssignment: true, members: [] }, 9);
    const { response } = platformaticParse(joinGroupV9.parseResponse, 11, 9, body);
    expect(response).toMatchObject({ skipAssignment: true, members: [] });
  });
});
