// Config definitions for the metadata layer: the registry in src/config/ (every broker and topic
// config with its type, default, validator, update mode and synonyms) and Kafka's ConfigDef
// parsing and formatting, re-exported under the names metadata has always used.

import { BROKER_CONFIGS } from '../config/registry.js';

export {
  type BrokerConfigDef as BrokerConfigKeyDef,
  type BrokerSynonym,
  brokerConfigSynonyms,
  type ConfigKeyDef,
  TOPIC_CONFIG_DEFS,
  TOPIC_CONFIGS,
  type TopicConfigDef,
  type UpdateMode,
} from '../config/registry.js';
export {
  atLeast,
  between,
  type ConfigKind,
  ConfigType,
  configTypeId,
  convertSynonymValue,
  formatConfigValue,
  javaDoubleToString,
  LONG_MAX,
  type ParsedValue,
  type ParseResult,
  parseConfigValue,
  type SynonymUnit,
  type Validator,
  validList,
  validString,
} from '../config/values.js';
export { ConfigSource } from '../protocol/config-source.js';

/** Every broker config Samsa knows (the registry's BROKER_CONFIGS). */
export const BROKER_CONFIG_KEYS = BROKER_CONFIGS;
