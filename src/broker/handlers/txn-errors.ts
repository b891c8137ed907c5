// Error-code translations the transactional APIs share (KafkaApis does them per API): a client
// older than the version that introduced PRODUCER_FENCED gets INVALID_PRODUCER_EPOCH, which it
// knows and treats the same way (fatal for the producer instance).

import { ErrorCode } from '../../protocol/errors.js';

/** PRODUCER_FENCED for versions >= `sinceVersion`, INVALID_PRODUCER_EPOCH below. */
export function fencedForVersion(errorCode: number, version: number, sinceVersion: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && version < sinceVersion
    ? ErrorCode.INVALID_PRODUCER_EPOCH
    : errorCode;
}
