// Request and response framing: the int32 size prefix, the header (with its version rules) and
// the body. Shared by the broker (decode requests, encode responses) and the client (the reverse).
//
// Header versions, as Kafka decides them:
// - request header v2 for flexible API versions, v1 otherwise (v0 only for ControlledShutdown v0);
//   its client id is always the old int16-length string, even in v2, so that any broker can read
//   the header of an ApiVersions request whatever its version;
// - response header v1 for flexible API versions, v0 otherwise; ApiVersions responses always use
//   v0, since the client parses them before it knows which versions the broker speaks.

import { ApiKey, apiVersionInfo as apis } from './generated/api-keys.js';
import { RequestHeader } from './generated/messages/RequestHeader.js';
import { ResponseHeader } from './generated/messages/ResponseHeader.js';
import { inRange, type MessageCodec } from './message.js';
import { DecodeError, Reader } from './primitives/reader.js';
import { Writer } from './primitives/writer.js';

export function isFlexible(apiKey: number, apiVersion: number): boolean {
  const api = apis[apiKey];
  return api !== undefined && inRange(api.flexibleVersions, apiVersion);
}

export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  if (isFlexible(apiKey, apiVersion)) return 2;
  if (apiKey === ApiKey.ControlledShutdown && apiVersion === 0) return 0;
  return 1;
}

export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === ApiKey.ApiVersions) return 0;
  return isFlexible(apiKey, apiVersion) ? 1 : 0;
}

export interface RequestFrame {
  header: RequestHeader;
  headerVersion: number;
  /** The request body (a view into the frame, not a copy). */
  body: Buffer;
}

/**
 * Decodes the header of a request frame (size prefix already removed). The body is left undecoded:
 * the caller first checks that it supports the API key and version. An unknown API key still has
 * its header read as v1, which is how Kafka reads it to answer with an error.
 */
export function decodeRequestHeader(frame: Buffer): RequestFrame {
  if (frame.length < 4) throw new DecodeError('request shorter than its api key and version');
  const apiKey = frame.readInt16BE(0);
  const apiVersion = frame.readInt16BE(2);
  const headerVersion = apis[apiKey] ? requestHeaderVersion(apiKey, apiVersion) : 1;
  const r = new Reader(frame);
  const header = RequestHeader.read(r, headerVersion);
  return { header, headerVersion, body: frame.subarray(r.pos) };
}

/** Decodes a request body with the API's request codec; the body must be used up exactly. */
export function decodeRequestBody<T>(codec: MessageCodec<T>, frame: RequestFrame): T {
  return codec.decode(frame.body, frame.header.requestApiVersion);
}

export interface RequestHeaderFields {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Encodes a whole request frame, size prefix included, as chunks ready for writev. */
export function encodeRequest<T>(h: RequestHeaderFields, codec: MessageCodec<T>, body: T): Buffer[] {
  const w = new Writer(256);
  const setSize = w.reserveInt32();
  const hv = requestHeaderVersion(h.apiKey, h.apiVersion);
  RequestHeader.write(
    w,
    {
      requestApiKey: h.apiKey,
      requestApiVersion: h.apiVersion,
      correlationId: h.correlationId,
      clientId: h.clientId,
    },
    hv,
  );
  codec.write(w, body, h.apiVersion);
  setSize(w.length - 4);
  return w.finishChunks();
}

/** Encodes a whole response frame, size prefix included, as chunks ready for writev. */
export function encodeResponse<T>(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  codec: MessageCodec<T>,
  body: T,
): Buffer[] {
  const w = new Writer(256);
  const setSize = w.reserveInt32();
  ResponseHeader.write(w, { correlationId }, responseHeaderVersion(apiKey, apiVersion));
  codec.write(w, body, apiVersion);
  setSize(w.length - 4);
  return w.finishChunks();
}

export interface ResponseFrame {
  header: ResponseHeader;
  body: Buffer;
}

/** Decodes the header of a response frame (size prefix removed) to an API the caller knows. */
export function decodeResponseHeader(frame: Buffer, apiKey: number, apiVersion: number): ResponseFrame {
  const r = new Reader(frame);
  const header = ResponseHeader.read(r, responseHeaderVersion(apiKey, apiVersion));
  return { header, body: frame.subarray(r.pos) };
}
