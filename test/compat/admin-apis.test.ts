// The admin APIs of a single node through real clients, against an in-process Samsa broker:
// - kafkajs admin: describeAcls, createAcls, deleteAcls (SECURITY_DISABLED without an
//   authorizer), listPartitionReassignments, alterPartitionReassignments;
// - @platformatic/kafka admin: createAcls, describeAcls, deleteAcls (its only calls among these).
// Not covered by a client: Debian's confluent-kafka-python 1.7.0 has none of these calls (its
// AdminClient offers only topic, partition, config and group-listing calls), kcat has no admin
// calls, and neither Node client has ElectLeaders, AlterReplicaLogDirs or DescribeQuorum; those
// are tested through the wire in test/broker/handlers-admin.test.ts.

import {
  AclOperations,
  AclPermissionTypes,
  Admin as PlatformaticAdmin,
  ResourcePatternTypes,
  ResourceTypes,
} from '@platformatic/kafka';
import {
  AclOperationTypes,
  AclResourceTypes,
  type Admin,
  Kafka,
  ResourcePatternTypes as KafkajsPatternTypes,
  AclPermissionTypes as KafkajsPermissionTypes,
  logLevel,
} from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/errors.js';
import { startTestBroker, type TestBroker } from './node-helpers.js';

let tb: TestBroker;

beforeAll(async () => {
  tb = await startTestBroker('admin-apis');
});

afterAll(async () => {
  await tb?.stop();
});

/** Everything an error carries that may name the Kafka error, flattened to one string. */
function describeError(e: unknown): string {
  const seen = new Set<unknown>();
  const parts: string[] = [];
  const walk = (x: unknown) => {
    if (x === null || typeof x !== 'object' || seen.has(x)) return;
    seen.add(x);
    for (const [k, v] of Object.entries(x as Record<string, unknown>)) {
      if (typeof v === 'string' || typeof v === 'number') parts.push(`${k}=${v}`);
      else walk(v);
    }
    if (x instanceof Error) parts.push(`message=${x.message}`);
    if (x instanceof AggregateError) for (const inner of x.errors) walk(inner);
  };
  walk(e);
  return parts.join(' ');
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

describe('kafkajs admin', () => {
  let admin: Admin;

  beforeAll(async () => {
    const kafka = new Kafka({
      clientId: 'samsa-admin-apis',
      brokers: [tb.broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kjs-admin', numPartitions: 2, replicationFactor: 1 }] });
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  const acl = {
    resourceType: AclResourceTypes.TOPIC,
    resourceName: 'kjs-admin',
    resourcePatternType: KafkajsPatternTypes.LITERAL,
    principal: 'User:alice',
    host: '*',
    operation: AclOperationTypes.READ,
    permissionType: KafkajsPermissionTypes.ALLOW,
  };

  it('describeAcls, createAcls and deleteAcls fail with SECURITY_DISABLED', async () => {
    const calls = [
      admin.describeAcls({ ...acl }),
      admin.createAcls({ acl: [acl] }),
      admin.deleteAcls({ filters: [{ ...acl }] }),
    ];
    for (const call of calls) {
      const e = (await rejection(call)) as { type?: string; code?: number };
      expect(e.type, describeError(e)).toBe('SECURITY_DISABLED');
      expect(e.code).toBe(ErrorCode.SECURITY_DISABLED);
    }
  });

  it('listPartitionReassignments lists none, for all topics and for the topics named', async () => {
    expect(await admin.listPartitionReassignments({})).toEqual({ topics: [] });
    expect(
      await admin.listPartitionReassignments({ topics: [{ topic: 'kjs-admin', partitions: [0, 1] }] }),
    ).toEqual({ topics: [] });
  });

  it('alterPartitionReassignments to this broker succeeds; to an unknown broker fails as Kafka', async () => {
    const nodeId = tb.broker.services.nodeId;
    await admin.alterPartitionReassignments({
      topics: [
        {
          topic: 'kjs-admin',
          partitionAssignment: [
            { partition: 0, replicas: [nodeId] },
            { partition: 1, replicas: [nodeId] },
          ],
        },
      ],
    });
    const e = (await rejection(
      admin.alterPartitionReassignments({
        topics: [{ topic: 'kjs-admin', partitionAssignment: [{ partition: 0, replicas: [nodeId + 41] }] }],
      }),
    )) as { errors?: { type?: string; topic?: string; partition?: number }[] };
    expect(e.errors, describeError(e)).toHaveLength(1);
    expect(e.errors![0]).toMatchObject({
      type: 'INVALID_REPLICA_ASSIGNMENT',
      topic: 'kjs-admin',
      partition: 0,
    });
    // Nothing is left in progress either way.
    expect(await admin.listPartitionReassignments({})).toEqual({ topics: [] });
  });
});

describe('@platformatic/kafka admin', () => {
  let admin: PlatformaticAdmin;

  beforeAll(() => {
    admin = new PlatformaticAdmin({
      clientId: 'samsa-admin-apis',
      bootstrapBrokers: [tb.broker.bootstrap],
      retries: 0,
    });
  });

  afterAll(async () => {
    await admin?.close();
  });

  const acl = {
    resourceType: ResourceTypes.TOPIC,
    resourceName: 'plt-admin',
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:bob',
    host: '*',
    operation: AclOperations.WRITE,
    permissionType: AclPermissionTypes.ALLOW,
  };

  /** The broker's decoded answer that @platformatic/kafka attaches to its ResponseError. */
  function brokerResponse(e: unknown): Record<string, unknown> {
    const inner = (e as { errors?: { response?: Record<string, unknown> }[] }).errors?.[0]?.response;
    if (!inner) throw new Error(`no broker response in ${describeError(e)}`);
    return inner;
  }

  const disabled = { errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.' };

  it('createAcls, describeAcls and deleteAcls fail with SECURITY_DISABLED and Kafka message', async () => {
    const created = brokerResponse(
      await rejection(admin.createAcls({ creations: [acl, { ...acl, host: '10.0.0.1' }] })),
    );
    expect(created.results).toEqual([disabled, disabled]);
    const described = brokerResponse(await rejection(admin.describeAcls({ filter: { ...acl } })));
    expect(described).toMatchObject({ ...disabled, resources: [] });
    const deleted = brokerResponse(
      await rejection(admin.deleteAcls({ filters: [{ ...acl, resourceName: null, principal: null }] })),
    );
    expect(deleted.filterResults).toEqual([{ ...disabled, matchingAcls: [] }]);
  });
});
