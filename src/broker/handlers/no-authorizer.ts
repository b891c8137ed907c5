// What the ACL APIs (DescribeAcls, CreateAcls, DeleteAcls) answer while no authorizer is
// configured (authorizer.class.name empty, Kafka's default): SECURITY_DISABLED with the message
// Kafka's AclApis/ControllerApis give ("No Authorizer is configured."). Samsa has no authorizer
// yet; broker start refuses a non-empty authorizer.class.name rather than run without the ACLs
// it names, so these handlers never see one configured.

import { ErrorCode } from '../../protocol/errors.js';
import { CloseConnection } from '../api-handler.js';

export const SECURITY_DISABLED_MESSAGE = 'No Authorizer is configured.';

export const securityDisabled = {
  errorCode: ErrorCode.SECURITY_DISABLED,
  errorMessage: SECURITY_DISABLED_MESSAGE,
} as const;

/** The code every ACL enum (resource type, pattern type, operation, permission type) gives UNKNOWN. */
const UNKNOWN = 0;

/**
 * Kafka's ACL requests refuse an UNKNOWN (0) resource type, pattern type, operation or permission
 * type while they are parsed (DescribeAclsRequest/DeleteAclsRequest.normalizeAndValidate,
 * CreateAclsRequest.validate), before any authorizer is asked: the request never reaches the
 * handler and the broker closes the connection. Other codes Kafka does not know pass (they read as
 * UNKNOWN only later, in the authorizer). `what` names the request in the close's reason.
 */
export function refuseUnknownElements(
  elements: readonly { readonly codes: readonly number[] }[],
  what: string,
): void {
  if (elements.some((e) => e.codes.includes(UNKNOWN))) {
    throw new CloseConnection(`${what} contains UNKNOWN elements`);
  }
}
