// The samsa package: the broker (startBroker) and the protocol codec; the client follows.
export { Broker, type StartBrokerOptions, startBroker } from './broker/broker.js';
export * from './protocol/frame.js';
export * from './protocol/generated/index.js';
export type { FieldSchema, MessageCodec, TaggedField, VersionRange } from './protocol/message.js';
export { DecodeError, Reader } from './protocol/primitives/reader.js';
export { EncodeError, Writer } from './protocol/primitives/writer.js';
export {
  type Clock,
  type NodeTime,
  type Scheduler,
  SimulatedTime,
  SYSTEM_TIME,
} from './util/clock.js';
