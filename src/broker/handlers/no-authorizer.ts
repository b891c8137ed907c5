// What the ACL APIs (DescribeAcls, CreateAcls, DeleteAcls) answer while no authorizer is
// configured (authorizer.class.name empty, Kafka's default): SECURITY_DISABLED with the message
// Kafka's AclApis/ControllerApis give ("No Authorizer is configured."). Samsa has no authorizer
// yet; broker start refuses a non-empty authorizer.class.name rather than run without the ACLs
// it names, so these handlers never see one configured.

import { ErrorCode } from '../../protocol/errors.js';

export const SECURITY_DISABLED_MESSAGE = 'No Authorizer is configured.';

export const securityDisabled = {
  errorCode: ErrorCode.SECURITY_DISABLED,
  errorMessage: SECURITY_DISABLED_MESSAGE,
} as const;
