import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ERRORS,
  ErrorCode,
  errorByCode,
  errorByName,
  isKnownErrorCode,
  KafkaProtocolError,
  MAX_ERROR_CODE,
} from '../../src/protocol/errors.js';

describe('error table', () => {
  it('has unique codes and unique names', () => {
    expect(new Set(ERRORS.map((e) => e.code)).size).toBe(ERRORS.length);
    expect(new Set(ERRORS.map((e) => e.name)).size).toBe(ERRORS.length);
  });

  it('covers every code from -1 to the max, in order, with no gap', () => {
    expect(ERRORS.map((e) => e.code)).toEqual(Array.from({ length: MAX_ERROR_CODE + 2 }, (_, i) => i - 1));
    // Kafka 4.1 ends at SHARE_SESSION_LIMIT_REACHED (133).
    expect(MAX_ERROR_CODE).toBeGreaterThanOrEqual(133);
  });

  it('has names in Kafka style and a message for every error but NONE', () => {
    for (const e of ERRORS) {
      expect(e.name).toMatch(/^[A-Z][A-Z0-9_]*$/);
      if (e.code === 0) expect(e.message).toBe('');
      else expect(e.message.length).toBeGreaterThan(0);
    }
  });

  it('matches known codes, names and retriability from the protocol guide', () => {
    const known: [number, string, boolean][] = [
      [-1, 'UNKNOWN_SERVER_ERROR', false],
      [0, 'NONE', false],
      [1, 'OFFSET_OUT_OF_RANGE', false],
      [2, 'CORRUPT_MESSAGE', true],
      [3, 'UNKNOWN_TOPIC_OR_PARTITION', true],
      [5, 'LEADER_NOT_AVAILABLE', true],
      [6, 'NOT_LEADER_OR_FOLLOWER', true],
      [7, 'REQUEST_TIMED_OUT', true],
      [10, 'MESSAGE_TOO_LARGE', false],
      [14, 'COORDINATOR_LOAD_IN_PROGRESS', true],
      [15, 'COORDINATOR_NOT_AVAILABLE', true],
      [16, 'NOT_COORDINATOR', true],
      [22, 'ILLEGAL_GENERATION', false],
      [25, 'UNKNOWN_MEMBER_ID', false],
      [27, 'REBALANCE_IN_PROGRESS', false],
      [29, 'TOPIC_AUTHORIZATION_FAILED', false],
      [35, 'UNSUPPORTED_VERSION', false],
      [36, 'TOPIC_ALREADY_EXISTS', false],
      [41, 'NOT_CONTROLLER', true],
      [42, 'INVALID_REQUEST', false],
      [45, 'OUT_OF_ORDER_SEQUENCE_NUMBER', false],
      [46, 'DUPLICATE_SEQUENCE_NUMBER', false],
      [47, 'INVALID_PRODUCER_EPOCH', false],
      [51, 'CONCURRENT_TRANSACTIONS', true],
      [56, 'KAFKA_STORAGE_ERROR', true],
      [58, 'SASL_AUTHENTICATION_FAILED', false],
      [59, 'UNKNOWN_PRODUCER_ID', false],
      [72, 'LISTENER_NOT_FOUND', true],
      [74, 'FENCED_LEADER_EPOCH', true],
      [75, 'UNKNOWN_LEADER_EPOCH', true],
      [79, 'MEMBER_ID_REQUIRED', false],
      [82, 'FENCED_INSTANCE_ID', false],
      [89, 'THROTTLING_QUOTA_EXCEEDED', true],
      [90, 'PRODUCER_FENCED', false],
      [100, 'UNKNOWN_TOPIC_ID', true],
      [110, 'FENCED_MEMBER_EPOCH', false],
      [113, 'STALE_MEMBER_EPOCH', false],
      [120, 'TRANSACTION_ABORTABLE', false],
      [129, 'REBOOTSTRAP_REQUIRED', false],
      [133, 'SHARE_SESSION_LIMIT_REACHED', true],
    ];
    for (const [code, name, retriable] of known) {
      expect(errorByCode(code), `code ${code}`).toMatchObject({ code, name, retriable });
      expect((ErrorCode as Record<string, number>)[name]).toBe(code);
    }
  });

  it('is frozen', () => {
    expect(Object.isFrozen(ERRORS)).toBe(true);
    expect(Object.isFrozen(ERRORS[0])).toBe(true);
    expect(Object.isFrozen(ErrorCode)).toBe(true);
  });
});

describe('ErrorCode', () => {
  it('maps every name to its code and back', () => {
    expect(Object.keys(ErrorCode)).toHaveLength(ERRORS.length);
    for (const e of ERRORS) {
      expect(ErrorCode[e.name]).toBe(e.code);
      expect(errorByName(e.name)).toBe(e);
    }
    expect(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION).toBe(3);
    expect(ErrorCode.NOT_LEADER_OR_FOLLOWER).toBe(6);
    expect(errorByName('NOT_LEADER_FOR_PARTITION')).toBeUndefined();
    expect(errorByName('toString')).toBeUndefined();
  });

  it('has literal types', () => {
    expectTypeOf(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION).toEqualTypeOf<3>();
    expectTypeOf(ErrorCode.NONE).toEqualTypeOf<0>();
    expectTypeOf(ErrorCode.UNKNOWN_SERVER_ERROR).toEqualTypeOf<-1>();
  });
});

describe('errorByCode', () => {
  it('returns the table entry for a known code', () => {
    expect(errorByCode(35)).toBe(ERRORS[36]);
    expect(isKnownErrorCode(35)).toBe(true);
  });

  it('maps unknown codes to a non-retriable UNKNOWN entry that keeps the code', () => {
    for (const code of [MAX_ERROR_CODE + 1, 999, -2, 32767, -32768, 1.5, Number.NaN]) {
      const e = errorByCode(code);
      expect(e.name).toBe('UNKNOWN');
      expect(e.retriable).toBe(false);
      expect(Object.is(e.code, code)).toBe(true);
      expect(isKnownErrorCode(code)).toBe(false);
    }
  });
});

describe('KafkaProtocolError', () => {
  it('carries code, name, retriable and the default message', () => {
    const err = new KafkaProtocolError(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(KafkaProtocolError);
    expect(err.code).toBe(6);
    expect(err.name).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(err.retriable).toBe(true);
    expect(err.message).toBe(errorByCode(6).message);
    expect(String(err)).toBe(`NOT_LEADER_OR_FOLLOWER: ${errorByCode(6).message}`);
  });

  it('takes a message override (null falls back to the default) and a cause', () => {
    const cause = new Error('disk');
    const err = new KafkaProtocolError(ErrorCode.INVALID_REQUEST, 'bad field', { cause });
    expect(err.message).toBe('bad field');
    expect(err.cause).toBe(cause);
    expect(err.retriable).toBe(false);
    expect(new KafkaProtocolError(42, null).message).toBe(errorByCode(42).message);
  });

  it('does not throw for an unknown code', () => {
    const err = new KafkaProtocolError(4242);
    expect(err.code).toBe(4242);
    expect(err.name).toBe('UNKNOWN');
    expect(err.retriable).toBe(false);
  });
});
