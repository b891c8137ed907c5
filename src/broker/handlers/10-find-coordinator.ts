// FindCoordinator (key 10), versions 0-6 (v4+ batch several keys in one request).
// On a single node this broker coordinates every group. As Kafka does on the first lookup, the
// group coordinator's topic (__consumer_offsets) is created when it does not exist yet; Kafka
// answers COORDINATOR_NOT_AVAILABLE while it creates the topic in the background, Samsa waits for
// the creation and answers with itself, which clients accept either way.
// Transaction coordinators (key type 1) likewise: __transaction_state is created on the first
// lookup. Any other key type is INVALID_REQUEST.

import { ErrorCode, errorByCode } from '../../protocol/errors.js';
import { FindCoordinatorRequest } from '../../protocol/generated/messages/FindCoordinatorRequest.js';
import { FindCoordinatorResponse } from '../../protocol/generated/messages/FindCoordinatorResponse.js';
import { defineHandler } from '../api-handler.js';
import { endpointForListener } from '../listener-endpoint.js';
import type { BrokerServices } from '../services.js';

const GROUP = 0;
const TRANSACTION = 1;

type Coordinator = FindCoordinatorResponse.Coordinator;

async function lookup(
  key: string,
  keyType: number,
  services: BrokerServices,
  listenerName: string | undefined,
): Promise<Coordinator> {
  const failed = (errorCode: number, message?: string): Coordinator => ({
    key,
    nodeId: -1,
    host: '',
    port: -1,
    errorCode,
    errorMessage: message ?? errorByCode(errorCode).message,
  });
  if (keyType !== GROUP && keyType !== TRANSACTION) {
    return failed(ErrorCode.INVALID_REQUEST, `unknown coordinator key type ${keyType}`);
  }
  try {
    if (keyType === GROUP) await services.ensureOffsetsTopic();
    else await services.ensureTransactionTopic();
  } catch (err) {
    return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE, (err as Error).message);
  }
  const endpoint = endpointForListener(services.advertisedEndpoints, listenerName);
  if (!endpoint) {
    return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE, `no endpoint for listener ${listenerName}`);
  }
  return {
    key,
    nodeId: services.nodeId,
    host: endpoint.host,
    port: endpoint.port,
    errorCode: 0,
    errorMessage: null,
  };
}

export const findCoordinatorHandler = defineHandler<
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  BrokerServices
>({
  apiKey: 10,
  minVersion: 0,
  maxVersion: 6,
  request: FindCoordinatorRequest,
  response: FindCoordinatorResponse,
  async handle(req, ctx, services) {
    if (ctx.apiVersion >= 4) {
      const coordinators = await Promise.all(
        req.coordinatorKeys.map((k) => lookup(k, req.keyType, services, ctx.listenerName)),
      );
      return { ...FindCoordinatorResponse.default(), coordinators };
    }
    const c = await lookup(req.key, req.keyType, services, ctx.listenerName);
    return {
      ...FindCoordinatorResponse.default(),
      errorCode: c.errorCode,
      errorMessage: c.errorMessage,
      nodeId: c.nodeId,
      host: c.host,
      port: c.port,
    };
  },
});
