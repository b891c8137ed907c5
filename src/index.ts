// The samsa package's root: the broker API, to run a broker in this process (startBroker) and
// configure it. The client is 'samsa/client', the protocol codec 'samsa/protocol'.
export { Broker, type StartBrokerOptions, startBroker } from './broker/broker.js';
export { BrokerConfig, ConfigError, parseProperties } from './broker/config.js';
export type { BrokerConfigDef as ConfigDef } from './config/registry.js';
export {
  type CreateLoggerOptions,
  createLogger,
  LOG_LEVELS,
  type LogFn,
  type LogFormat,
  type Logger,
  type LogLevel,
} from './logging/logger.js';
export {
  type Clock,
  type NodeTime,
  type Scheduler,
  SimulatedTime,
  SYSTEM_TIME,
} from './util/clock.js';
