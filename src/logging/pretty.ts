// The human-readable log format, for a terminal: one line per entry,
//
//   2026-12-06 02:50:51.123 INFO  listening listener=PLAINTEXT://127.0.0.1:9092 nodeId=1
//
// local time to the millisecond, the level, the message, then every field as key=value (strings
// bare unless they hold a space, a quote or '=', anything else as JSON). An `err` field becomes
// the error's stack, indented, on the lines below. pino's own fields that a person does not need
// at a terminal (pid, hostname, name) are left out; JSON output keeps them.

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

// ANSI colours by level: grey for the chatty levels, yellow for warn, red for error and fatal.
const LEVEL_COLOURS: Record<number, string> = {
  10: '\x1b[90m',
  20: '\x1b[90m',
  30: '\x1b[32m',
  40: '\x1b[33m',
  50: '\x1b[31m',
  60: '\x1b[41m\x1b[97m',
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'err']);

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function formatTime(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
}

/** One pino JSON line (as pino writes it, newline included or not) as a human-readable line. */
export function formatEntry(line: string, colour = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`; // not pino's: passed through
  }
  const level = typeof entry.level === 'number' ? entry.level : 30;
  const name = (LEVEL_NAMES[level] ?? String(entry.level)).padEnd(5);
  const time = typeof entry.time === 'number' ? formatTime(entry.time) : '';
  let out = colour
    ? `${DIM}${time}${RESET} ${LEVEL_COLOURS[level] ?? ''}${name}${RESET} ${String(entry.msg ?? '')}`
    : `${time} ${name} ${String(entry.msg ?? '')}`;
  for (const [k, v] of Object.entries(entry)) {
    if (HIDDEN.has(k)) continue;
    out += colour ? ` ${DIM}${k}=${RESET}${formatValue(v)}` : ` ${k}=${formatValue(v)}`;
  }
  const err = entry.err as { stack?: unknown; message?: unknown } | undefined;
  if (err !== undefined && err !== null) {
    const text = typeof err.stack === 'string' ? err.stack : String(err.message ?? JSON.stringify(err));
    out += `\n    ${text.split('\n').join('\n    ')}`;
  }
  return `${out}\n`;
}
