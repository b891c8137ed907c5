// What `samsa produce` reads: a byte stream cut into records at a delimiter (kcat's -D, default
// a newline), each record optionally cut into key and value at the first key delimiter (kcat's
// -K). Records are views into the chunks read (no copy, no UTF-8 decoding); only a record that
// spans two chunks is copied once, to join its halves.

import { UsageError } from './shared.js';

export class DelimitedSplitter {
  private rest: Buffer | null = null;

  /**
   * @param delimiter the record delimiter (non-empty)
   * @param maxRecordBytes a record that grows past this without a delimiter is an error: memory
   *   stays bounded whatever the input (no delimiter in 10 GB of input is not 10 GB held)
   */
  constructor(
    private readonly delimiter: Buffer,
    private readonly maxRecordBytes: number,
  ) {
    if (delimiter.length === 0) throw new UsageError('the record delimiter (-D) must not be empty');
  }

  /** The records completed by this chunk, in order. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    const d = this.delimiter;
    const data = chunk;
    let start = 0;
    if (this.rest !== null) {
      // Join only the record that spans the boundary: the rest and the chunk up to the end of its
      // first delimiter (copying the whole chunk would copy every byte read once more). A
      // multi-byte delimiter may straddle the boundary, so search the joined bytes from where it
      // could begin.
      const rest = this.rest;
      this.rest = null;
      const j = d.length === 1 ? chunk.indexOf(d[0]) : chunk.indexOf(d);
      const head = Buffer.concat([rest, j < 0 ? chunk : chunk.subarray(0, j + d.length)]);
      const i = head.indexOf(d, Math.max(0, rest.length - d.length + 1));
      if (i < 0) {
        this.keep(head);
        return out;
      }
      out.push(head.subarray(0, i));
      start = i + d.length - rest.length;
    }
    if (d.length === 1) {
      const byte = d[0];
      let i = data.indexOf(byte, start);
      while (i >= 0) {
        out.push(data.subarray(start, i));
        start = i + 1;
        i = data.indexOf(byte, start);
      }
    } else {
      let i = data.indexOf(d, start);
      while (i >= 0) {
        out.push(data.subarray(start, i));
        start = i + d.length;
        i = data.indexOf(d, start);
      }
    }
    if (start < data.length) this.keep(data.subarray(start));
    return out;
  }

  private keep(b: Buffer): void {
    if (b.length > this.maxRecordBytes)
      throw new UsageError(
        `a record is longer than ${this.maxRecordBytes} bytes without a delimiter; is -D right? (records over max.request.size cannot be sent)`,
      );
    this.rest = b;
  }

  /** At the end of input: the last record if the input did not end with a delimiter. */
  end(): Buffer | null {
    const r = this.rest;
    this.rest = null;
    return r !== null && r.length > 0 ? r : null;
  }
}

/** Splits a record at the first `delimiter` into key and value; no delimiter: no key. */
export function splitKey(record: Buffer, delimiter: Buffer): { key: Buffer | null; value: Buffer } {
  const i = delimiter.length === 1 ? record.indexOf(delimiter[0]) : record.indexOf(delimiter);
  if (i < 0) return { key: null, value: record };
  return { key: record.subarray(0, i), value: record.subarray(i + delimiter.length) };
}
