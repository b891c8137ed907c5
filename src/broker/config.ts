// The broker's configuration lives in src/config/ (the one config registry, below storage,
// metadata and broker); this module keeps the broker's historical import path.

export {
  BrokerConfig,
  ConfigError,
  type ConfigValue,
  type Listener,
  loggableConfigs,
  parseListener,
  parseProperties,
} from '../config/index.js';
