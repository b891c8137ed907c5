// samsa/protocol: the Kafka wire protocol codec (sans-IO: bytes in, bytes out): request and
// response framing, every message of API keys 0..87 generated from Kafka's schemas, the
// primitive readers and writers, and the error table.
export * from './errors.js';
export * from './frame.js';
export * from './generated/index.js';
export type { FieldSchema, MessageCodec, TaggedField, VersionRange } from './message.js';
export { DecodeError, Reader } from './primitives/reader.js';
export { EncodeError, Writer } from './primitives/writer.js';
