// Log level names, apart from the loggers (./logger.ts), so that the CLI can parse --log-level
// without loading pino: `samsa` commands other than `start` never load it.

/** Log levels, most severe first; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/** The level named by SAMSA_LOG_LEVEL, if it names one. */
export function envLogLevel(): LogLevel | undefined {
  const v = process.env.SAMSA_LOG_LEVEL?.toLowerCase();
  return v !== undefined && isLogLevel(v) ? v : undefined;
}
