// DescribeAcls (key 29), versions 1-3; v0 (removed by Kafka 4.0, KIP-896) with
// samsa.legacy.protocol.enable. Without an authorizer
// (authorizer.class.name empty, the default) Kafka answers the whole request with
// SECURITY_DISABLED "No Authorizer is configured." and no resources, whatever the filter says;
// so does Samsa (see no-authorizer.ts). A filter with an UNKNOWN (0) element closes the
// connection, as Kafka's request parsing does. Not done: matching, which comes with the authorizer
// (a later issue).

import { DescribeAclsRequest } from '../../protocol/generated/messages/DescribeAclsRequest.js';
import { DescribeAclsResponse } from '../../protocol/generated/messages/DescribeAclsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';
import { refuseUnknownElements, securityDisabled } from './no-authorizer.js';

export const describeAclsHandler = defineHandler<DescribeAclsRequest, DescribeAclsResponse, BrokerServices>({
  apiKey: 29,
  minVersion: 1,
  maxVersion: 3,
  legacyMinVersion: 0,
  request: DescribeAclsRequest,
  response: DescribeAclsResponse,
  handle: (req) => {
    refuseUnknownElements(
      [
        {
          codes: [req.resourceTypeFilter, req.patternTypeFilter, req.operation, req.permissionType],
        },
      ],
      'DescribeAclsRequest',
    );
    return { throttleTimeMs: 0, ...securityDisabled, resources: [] };
  },
});
