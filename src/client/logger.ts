// The logging contract: a subset of pino's, so a pino logger can be passed as is. By default only
// warnings and errors are printed (to stderr), since a client library should be quiet.

export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

function print(level: string, obj: object | string, msg?: string): void {
  const text =
    typeof obj === 'string'
      ? obj
      : `${msg ?? ''} ${JSON.stringify(obj, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
  process.stderr.write(`samsa-client ${level}: ${text}\n`);
}

export const defaultLogger: Logger = {
  debug() {},
  info() {},
  warn: (obj, msg) => print('warn', obj, msg),
  error: (obj, msg) => print('error', obj, msg),
};
