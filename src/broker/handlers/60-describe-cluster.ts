// DescribeCluster (key 60), versions 0-1: the brokers (endpoint type 1) of this cluster. Asking
// for controllers (endpoint type 2, KIP-919) from a broker gets UNSUPPORTED_ENDPOINT_TYPE, as Kafka.

import { ErrorCode } from '../../protocol/errors.js';
import { DescribeClusterRequest } from '../../protocol/generated/messages/DescribeClusterRequest.js';
import { DescribeClusterResponse } from '../../protocol/generated/messages/DescribeClusterResponse.js';
import { defineHandler } from '../api-handler.js';
import { endpointForListener } from '../listener-endpoint.js';
import type { BrokerServices } from '../services.js';

const BROKERS = 1;
// ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, CREATE, DESCRIBE_TOKENS.
const ALL_CLUSTER_OPERATIONS = [4, 5, 7, 8, 9, 10, 11, 12].reduce((m, op) => m | (1 << op), 0);

export const describeClusterHandler = defineHandler<
  DescribeClusterRequest,
  DescribeClusterResponse,
  BrokerServices
>({
  apiKey: 60,
  minVersion: 0,
  maxVersion: 1,
  request: DescribeClusterRequest,
  response: DescribeClusterResponse,
  handle(req, ctx, { metadata, clusterId, nodeId }) {
    const base = {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: req.endpointType,
      clusterId,
      controllerId: nodeId,
      brokers: [] as DescribeClusterResponse.DescribeClusterBroker[],
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations
        ? ALL_CLUSTER_OPERATIONS
        : -2147483648,
    };
    if (req.endpointType !== BROKERS) {
      return {
        ...base,
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: 'only broker endpoints are served',
      };
    }
    for (const b of metadata.image.brokers()) {
      if (b.fenced) continue;
      const e = endpointForListener(b.endpoints, ctx.listenerName);
      if (!e) continue;
      base.brokers.push({ brokerId: b.brokerId, host: e.host, port: e.port, rack: b.rack });
    }
    return base;
  },
});
