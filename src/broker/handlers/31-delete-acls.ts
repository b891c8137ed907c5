// DeleteAcls (key 31), versions 1-3; v0 (removed by Kafka 4.0, KIP-896) with
// samsa.legacy.protocol.enable. Without an authorizer
// (authorizer.class.name empty, the default) Kafka answers every filter, in request order, with
// SECURITY_DISABLED "No Authorizer is configured." and no matching ACLs
// (DeleteAclsRequest.getErrorResponse); so does Samsa (see no-authorizer.ts). A filter with an
// UNKNOWN (0) element closes the connection, as Kafka's request parsing does. Not done: matching
// and deleting stored ACLs, which come with the authorizer (a later issue).

import { DeleteAclsRequest } from '../../protocol/generated/messages/DeleteAclsRequest.js';
import { DeleteAclsResponse } from '../../protocol/generated/messages/DeleteAclsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';
import { refuseUnknownElements, securityDisabled } from './no-authorizer.js';

export const deleteAclsHandler = defineHandler<DeleteAclsRequest, DeleteAclsResponse, BrokerServices>({
  apiKey: 31,
  minVersion: 1,
  maxVersion: 3,
  legacyMinVersion: 0,
  request: DeleteAclsRequest,
  response: DeleteAclsResponse,
  handle: (req) => {
    refuseUnknownElements(
      req.filters.map((f) => ({
        codes: [f.resourceTypeFilter, f.patternTypeFilter, f.operation, f.permissionType],
      })),
      'DeleteAclsRequest',
    );
    return {
      throttleTimeMs: 0,
      filterResults: req.filters.map(() => ({ ...securityDisabled, matchingAcls: [] })),
    };
  },
});
