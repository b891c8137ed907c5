// Output helpers for the `samsa` command: aligned plain-text tables (bold headers only on a TTY),
// JSON that carries bigints, and the streams a command writes to.

import type { Readable } from 'node:stream';

export interface CliWriter {
  /** Strings, or bytes (`samsa consume` writes records as they are: never re-encoded). */
  write(chunk: string | Uint8Array): unknown;
  isTTY?: boolean;
}

export interface CliIO {
  stdout: CliWriter;
  stderr: CliWriter;
  stdin: Readable | AsyncIterable<Buffer | string>;
  /** Environment (SAMSA_BROKERS); process.env when absent. */
  env?: Record<string, string | undefined>;
}

/** JSON.stringify with bigints as numbers when safe, else strings; Buffers as UTF-8 text. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (typeof v === 'bigint')
      return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v.toString();
    return v;
  });
}

/** "1 record", "2 records", "0 records": the count with the word in the right number. */
export function plural(n: number | bigint, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${n === 1 || n === 1n ? singular : pluralForm}`;
}

const BOLD = '\u001b[1m';
const RESET = '\u001b[0m';

/** Columns padded to the widest cell; the last column is not padded. */
export function table(headers: string[], rows: unknown[][], colour = false): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const head = line(headers);
  return `${[colour ? `${BOLD}${head}${RESET}` : head, ...cells.map(line)].join('\n')}\n`;
}

/** "key: value" lines with the keys aligned. */
export function keyValues(pairs: [string, unknown][], colour = false): string {
  const w = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs
    .map(([k, v]) => `${colour ? BOLD : ''}${`${k}:`.padEnd(w)}${colour ? RESET : ''} ${v ?? ''}`)
    .join('\n')
    .concat('\n');
}
