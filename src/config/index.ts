// Configuration: the registry of every broker and topic config (registry.ts), the value parsing
// and validation of Kafka's ConfigDef (values.ts), listeners (listeners.ts) and the broker's
// static configuration (broker-config.ts). Below storage, metadata and broker: imports none of them.

export * from './broker-config.js';
export * from './errors.js';
export * from './listeners.js';
export * from './registry.js';
export * from './values.js';
