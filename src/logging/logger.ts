// Samsa's logging contract and the loggers Samsa builds for itself.
//
// The broker and storage log through `Logger`, a minimal interface Samsa defines: the five levels
// (an object of fields and a message, or a message alone), `child` to add fields to every line,
// and optionally `isLevelEnabled`, which lets hot paths (a trace line per request) skip building
// fields nobody will see. A pino logger satisfies it structurally, so an embedder may pass one;
// so does any object with these methods (a test's recording logger, a wrapper around another
// library's).
//
// What Samsa builds itself is pino underneath: JSON lines (pino's format: level as a number, time
// in epoch ms, msg, fields) or, for a human at a terminal, one line per entry formatted by
// ./pretty.ts (level, time, message, then the fields as key=value). The pretty formatter is small
// and loads with this module; it adds nothing to a JSON start.

import { type DestinationStream, pino } from 'pino';
import { isLogLevel, LOG_LEVELS, type LogLevel } from './levels.js';
import { formatEntry } from './pretty.js';

export { envLogLevel, isLogLevel, LOG_LEVELS, type LogLevel } from './levels.js';

/** One logging method: fields and a message, or a message alone. */
export interface LogFn {
  (fields: object, msg?: string): void;
  (msg: string): void;
}

/**
 * What Samsa needs of a logger. A pino logger is one; any object with these members is too.
 * Fields are plain data except `err`, an Error (pino serializes it with its stack).
 */
export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
  /** A logger that adds `bindings` to every line (e.g. { component: 'group-coordinator' }). */
  child(bindings: Record<string, unknown>): Logger;
  /** Whether a line at `level` would be written; hot paths skip building fields when not. */
  isLevelEnabled?(level: LogLevel): boolean;
}

export type LogFormat = 'json' | 'pretty';

export interface CreateLoggerOptions {
  level: LogLevel;
  /** 'pretty' for a human (one formatted line per entry), 'json' for machines (pino's lines). */
  format: LogFormat;
  /** Where lines go: 1 (stdout, the default) or 2 (stderr). */
  fd?: 1 | 2;
  /** Colour in the pretty format (never in JSON). Default: when the stream is a TTY and NO_COLOR is unset. */
  colour?: boolean;
}

/** The format a person at this stream would want: pretty on a terminal, JSON otherwise. */
export function defaultLogFormat(fd: 1 | 2 = 1): LogFormat {
  return (fd === 1 ? process.stdout : process.stderr).isTTY ? 'pretty' : 'json';
}

/** A pino logger named "samsa" writing `format` lines at `level` and above to stdout or stderr. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const fd = options.fd ?? 1;
  const opts = { name: 'samsa', level: options.level };
  if (options.format === 'json') return pino(opts, pino.destination({ fd, sync: true }));
  const stream = fd === 1 ? process.stdout : process.stderr;
  const colour = options.colour ?? (stream.isTTY === true && !process.env.NO_COLOR);
  // pino hands a stream each line as serialized JSON; the formatter parses it back. That costs a
  // parse per line, which only matters at rates no person reads on a terminal.
  const pretty: DestinationStream = {
    write(line: string) {
      stream.write(formatEntry(line, colour));
    },
  };
  return pino(opts, pretty);
}

/**
 * The logger for a `logger` option that may be a level: a Logger is used as given; a level (or
 * none: `fallback`) gets a Samsa logger on stderr, pretty on a terminal, JSON otherwise.
 */
export function resolveLogger(given: Logger | LogLevel | undefined, fallback: LogLevel): Logger {
  if (given !== undefined && typeof given !== 'string') return given;
  const level = given ?? fallback;
  if (!isLogLevel(level)) {
    throw new Error(`unknown log level "${String(level)}" (one of ${LOG_LEVELS.join(', ')})`);
  }
  return createLogger({ level, format: defaultLogFormat(2), fd: 2 });
}
