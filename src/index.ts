// The samsa package: the protocol codec now; the broker (startBroker) and the client follow.
export * from './protocol/frame.js';
export * from './protocol/generated/index.js';
export type { FieldSchema, MessageCodec, TaggedField, VersionRange } from './protocol/message.js';
export { DecodeError, Reader } from './protocol/primitives/reader.js';
export { EncodeError, Writer } from './protocol/primitives/writer.js';
