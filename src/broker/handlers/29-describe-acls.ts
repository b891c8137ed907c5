// DescribeAcls (key 29), versions 1-3 (Kafka 4.0 dropped v0, KIP-896). Without an authorizer
// (authorizer.class.name empty, the default) Kafka answers the whole request with
// SECURITY_DISABLED "No Authorizer is configured." and no resources, whatever the filter says;
// so does Samsa (see no-authorizer.ts). Not done: the filter's validation and matching, which
// come with the authorizer (a later issue).

import { DescribeAclsRequest } from '../../protocol/generated/messages/DescribeAclsRequest.js';
import { DescribeAclsResponse } from '../../protocol/generated/messages/DescribeAclsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';
import { securityDisabled } from './no-authorizer.js';

export const describeAclsHandler = defineHandler<DescribeAclsRequest, DescribeAclsResponse, BrokerServices>({
  apiKey: 29,
  minVersion: 1,
  maxVersion: 3,
  request: DescribeAclsRequest,
  response: DescribeAclsResponse,
  handle: () => ({ throttleTimeMs: 0, ...securityDisabled, resources: [] }),
});
