// ApiVersions (key 18), versions 0-4: what this broker serves, derived from the handler registry.
// A version newer than we serve never reaches here: the connection answers it with v0 and
// UNSUPPORTED_VERSION (see network/connection.ts). Not done yet: supported/finalized features
// (metadata.version and friends), which arrive with the KRaft work.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiVersionsRequest } from '../../protocol/generated/messages/ApiVersionsRequest.js';
import { ApiVersionsResponse } from '../../protocol/generated/messages/ApiVersionsResponse.js';
import { defineHandler } from '../api-handler.js';
import type { BrokerServices } from '../services.js';

/** KIP-511: client software name and version must look like "librdkafka" / "2.3.0". */
const SOFTWARE = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

export const apiVersionsHandler = defineHandler<ApiVersionsRequest, ApiVersionsResponse, BrokerServices>({
  apiKey: 18,
  minVersion: 0,
  maxVersion: 4,
  request: ApiVersionsRequest,
  response: ApiVersionsResponse,
  handle(req, ctx, services) {
    const res: ApiVersionsResponse = {
      ...ApiVersionsResponse.default(),
      apiKeys: services.registry.versions(),
    };
    if (
      ctx.apiVersion >= 3 &&
      !(SOFTWARE.test(req.clientSoftwareName) && SOFTWARE.test(req.clientSoftwareVersion))
    ) {
      res.errorCode = ErrorCode.INVALID_REQUEST;
    }
    return res;
  },
});
