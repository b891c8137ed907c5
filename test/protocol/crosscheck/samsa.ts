// The Samsa side of the cross-checks: decode a library's request frame with Samsa and insist that
// re-encoding gives the same bytes back; encode a response with Samsa for a library to parse.
// Every step is compared with the independent framing in fixtures.ts.

import { expect } from 'vitest';
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequest,
  encodeResponse,
} from '../../../src/protocol/frame.js';
import { RequestHeader, ResponseHeader } from '../../../src/protocol/generated/index.js';
import type { MessageCodec } from '../../../src/protocol/message.js';
import {
  frame,
  parseRequestFrame,
  requestHeaderVersion,
  responseHeaderBytes,
  responseHeaderVersion,
} from './fixtures.js';

export interface DecodedRequest<T> {
  header: RequestHeader;
  message: T;
}

/**
 * Decodes a whole request frame (size prefix included) written by a library:
 * 1. the header, with RequestHeader at the version the independent parser chose, matches that parser
 *    field by field and re-encodes to the same bytes;
 * 2. frame.ts picks the same header version and body;
 * 3. the body decodes with `codec` and re-encodes to the same bytes;
 * 4. frame.ts's encodeRequest rebuilds the whole frame byte for byte.
 */
export function decodeLibraryRequest<T>(
  codec: MessageCodec<T>,
  api: string,
  bytes: Buffer,
): DecodedRequest<T> {
  const version = bytes.readInt16BE(6);
  const hv = requestHeaderVersion(api, version);
  const independent = parseRequestFrame(bytes, hv);
  expect(independent.requestApiKey, 'api key').toBe(codec.apiKey);

  const header = RequestHeader.decode(independent.header, hv);
  expect(header).toMatchObject({
    requestApiKey: independent.requestApiKey,
    requestApiVersion: version,
    correlationId: independent.correlationId,
    clientId: independent.clientId,
  });
  expect(header._unknownTaggedFields ?? []).toEqual(independent.headerTaggedFields);
  expect(RequestHeader.encode(header, hv), 'request header re-encoded').toEqual(independent.header);

  const viaFrame = decodeRequestHeader(bytes.subarray(4));
  expect(viaFrame.headerVersion).toBe(hv);
  expect(viaFrame.body).toEqual(independent.body);

  const message = codec.decode(independent.body, version);
  expect(codec.encode(message, version), `${codec.name} v${version} re-encoded`).toEqual(independent.body);

  const rebuilt = Buffer.concat(
    encodeRequest(
      {
        apiKey: codec.apiKey!,
        apiVersion: version,
        correlationId: header.correlationId,
        clientId: header.clientId,
      },
      codec,
      message,
    ),
  );
  expect(rebuilt, 'whole frame re-encoded').toEqual(bytes);
  return { header, message };
}

/**
 * Encodes a response frame (size prefix + header + body) with frame.ts, after checking it against
 * the independent framing, and that Samsa decodes its own bytes back to `message`.
 */
export function encodeSamsaResponse<T>(
  codec: MessageCodec<T>,
  api: string,
  version: number,
  correlationId: number,
  message: T,
): Buffer {
  const bytes = Buffer.concat(encodeResponse(codec.apiKey!, version, correlationId, codec, message));
  const hv = responseHeaderVersion(api, version);
  const body = codec.encode(message, version);
  expect(bytes, 'response frame').toEqual(frame(responseHeaderBytes(correlationId, hv), body));
  const viaFrame = decodeResponseHeader(bytes.subarray(4), codec.apiKey!, version);
  expect(viaFrame.header.correlationId).toBe(correlationId);
  expect(viaFrame.body).toEqual(body);
  expect(ResponseHeader.encode(viaFrame.header, hv)).toEqual(responseHeaderBytes(correlationId, hv));
  expect(codec.decode(body, version), `${codec.name} v${version} decodes its own encoding`).toEqual(message);
  return bytes;
}

/** The body of a response frame whose header is v0 (what kafkajs's decoders take). */
export function bodyAfterV0Header(bytes: Buffer): Buffer {
  return bytes.subarray(8);
}

/** `value` when `version` has the field, the field's default otherwise. */
export function since<V>(version: number, first: number, value: V, fallback: V): V {
  return version >= first ? value : fallback;
}

/** Kafka's Uuid.ZERO_UUID in Uuid.toString() form. */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/**
 * Checks that a library parser used up a response body. @platformatic/kafka's parsers skip the
 * top-level tagged-field section of flexible responses, so there exactly that section may remain,
 * and it must be the empty one (a single 0x00).
 */
export function expectConsumed(unread: number, body: Buffer, flexible: boolean): void {
  if (flexible && unread === 1) expect(body[body.length - 1], 'trailing empty tagged-field section').toBe(0);
  else expect(unread, 'bytes left unread by the library parser').toBe(0);
}
