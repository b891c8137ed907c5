// Shared fixtures for the metadata tests: an image with registered brokers and a controller over
// it, with deterministic topic ids.

import { BrokerConfig } from '../../src/broker/config.js';
import type { ControllerResult } from '../../src/metadata/controller.js';
import { Controller } from '../../src/metadata/controller.js';
import { MetadataImage } from '../../src/metadata/image.js';
import { type ApiMessageAndVersion, registerBrokerRecord } from '../../src/metadata/records.js';
import type { CreateTopicsRequest } from '../../src/protocol/generated/index.js';
import { SimulatedTime } from '../../src/util/clock.js';

/** Distinct, valid, deterministic uuids. */
export function uuidSequence(): () => string {
  let n = 0;
  return () => {
    const b = Buffer.alloc(16);
    b.writeUInt32BE(0x10000000 + ++n, 0);
    b.writeUInt32BE(n, 12);
    return b.toString('base64url');
  };
}

export interface Fixture {
  image: MetadataImage;
  controller: Controller;
  /** Replays a result's records into the image and returns its response. */
  apply<T>(result: ControllerResult<T>): T;
}

export function registration(
  brokerId: number,
  opts: { fenced?: boolean; epoch?: bigint } = {},
): ApiMessageAndVersion {
  return registerBrokerRecord({
    brokerId,
    isMigratingZkBroker: false,
    incarnationId: uuidSequence()(),
    brokerEpoch: opts.epoch ?? 1n,
    endPoints: [{ name: 'PLAINTEXT', host: 'localhost', port: 9092 + brokerId, securityProtocol: 0 }],
    features: [],
    rack: null,
    fenced: opts.fenced ?? false,
    inControlledShutdown: false,
    logDirs: [],
  });
}

export function setup(
  opts: {
    brokers?: number[];
    fenced?: number[];
    config?: Record<string, string>;
    staticConfigs?: Record<string, string>;
  } = {},
): Fixture {
  const image = new MetadataImage();
  const config = new BrokerConfig(opts.config ?? {});
  const controller = new Controller({
    image,
    nodeId: 1,
    config,
    staticConfigs: opts.staticConfigs ? new Map(Object.entries(opts.staticConfigs)) : undefined,
    randomUuid: uuidSequence(),
    time: new SimulatedTime(1_700_000_000_000),
  });
  const apply = <T>(result: ControllerResult<T>): T => {
    for (const r of result.records) image.replay(r);
    return result.response;
  };
  apply(
    controller.bootstrap({
      endpoints: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092, securityProtocol: 0 }],
    }),
  );
  for (const id of opts.brokers ?? []) {
    if (id !== 1) image.replay(registration(id, { fenced: opts.fenced?.includes(id) }));
  }
  return { image, controller, apply };
}

export function topic(
  name: string,
  numPartitions = -1,
  replicationFactor = -1,
  extra: Partial<CreateTopicsRequest.CreatableTopic> = {},
): CreateTopicsRequest.CreatableTopic {
  return { name, numPartitions, replicationFactor, assignments: [], configs: [], ...extra };
}

export function createTopics(
  topics: CreateTopicsRequest.CreatableTopic[],
  validateOnly = false,
): CreateTopicsRequest {
  return { topics, timeoutMs: 30_000, validateOnly };
}

export function configs(entries: Record<string, string | null>): CreateTopicsRequest.CreatableTopicConfig[] {
  return Object.entries(entries).map(([name, value]) => ({ name, value }));
}
