// The error a broker config that cannot be used raises at start (Kafka's ConfigException): a
// bad value, a listener Samsa cannot serve. Its message is one line, shown as is by `samsa start`.

export class ConfigError extends Error {
  override name = 'ConfigError';
}
