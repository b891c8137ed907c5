// CreateAcls (key 30), versions 1-3; v0 (removed by Kafka 4.0, KIP-896) with
// samsa.legacy.protocol.enable. Without an authorizer
// (authorizer.class.name empty, the default) Kafka answers every creation, in request order, with
// SECURITY_DISABLED "No Authorizer is configured." (CreateAclsRequest.getErrorResponse); so does
// Samsa (see no-authorizer.ts). Nothing is stored. A creation with an UNKNOWN (0) element closes
// the connection, as Kafka's request parsing does. Not done: ACL storage (AccessControlEntryRecord
// in the metadata log), which comes with the authorizer (a later issue).

import { CreateAclsRequest } from '../../protocol/generated/messages/CreateAclsRequest.js';
import { CreateAclsResponse } from '../../protocol/generated/messages/CreateAclsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';
import { refuseUnknownElements, securityDisabled } from './no-authorizer.js';

export const createAclsHandler = defineHandler<CreateAclsRequest, CreateAclsResponse, BrokerServices>({
  apiKey: 30,
  minVersion: 1,
  maxVersion: 3,
  legacyMinVersion: 0,
  request: CreateAclsRequest,
  response: CreateAclsResponse,
  handle: (req) => {
    refuseUnknownElements(
      req.creations.map((c) => ({
        codes: [c.resourceType, c.resourcePatternType, c.operation, c.permissionType],
      })),
      'CreateAclsRequest',
    );
    return { throttleTimeMs: 0, results: req.creations.map(() => ({ ...securityDisabled })) };
  },
});
