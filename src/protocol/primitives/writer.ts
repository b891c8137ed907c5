// Writer: the encoding side of Kafka's primitive types.
//
// Output grows in one Buffer; large byte fields (record batches) are not copied into it but kept
// as separate chunks, so a Fetch response carrying megabytes of log can go out with one writev and
// no copy (finishChunks). finish() concatenates when one contiguous Buffer is wanted.

const INITIAL = 256;
/** Byte fields at least this long are referenced, not copied. */
const ZERO_COPY_THRESHOLD = 4096;

export class EncodeError extends Error {
  override name = 'EncodeError';
}

export function unsignedVarintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

export class Writer {
  private buf: Buffer;
  private pos = 0;
  /** Start of the region of `buf` not yet handed to `chunks`. */
  private chunkStart = 0;
  private readonly chunks: Buffer[] = [];
  private chunkedBytes = 0;

  constructor(initial = INITIAL) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.chunkedBytes + (this.pos - this.chunkStart);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // Hand the filled region over as a chunk and continue in a fresh, larger buffer. Earlier
    // chunks keep referencing the old buffer, so nothing already written is copied again.
    this.flushRegion();
    const size = Math.max(n, this.buf.length * 2);
    this.buf = Buffer.allocUnsafe(size);
    this.pos = 0;
    this.chunkStart = 0;
  }

  private flushRegion(): void {
    if (this.pos > this.chunkStart) {
      this.chunks.push(this.buf.subarray(this.chunkStart, this.pos));
      this.chunkedBytes += this.pos - this.chunkStart;
    }
    this.chunkStart = this.pos;
  }

  int8(v: number): void {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
  }

  uint8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  bool(v: boolean): void {
    this.uint8(v ? 1 : 0);
  }

  int16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  uint16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  int32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  uint32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  int64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
  }

  float64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  uuid(v: string): void {
    const b = Buffer.from(v, 'base64url');
    if (b.length !== 16 || v.length !== 22) throw new EncodeError(`invalid uuid ${JSON.stringify(v)}`);
    this.raw(b);
  }

  unsignedVarint(v: number): void {
    if (v < 0 || v > 0xffffffff || !Number.isInteger(v))
      throw new EncodeError(`invalid unsigned varint ${v}`);
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  /** Zigzag signed varint (int32). */
  varint(v: number): void {
    this.unsignedVarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** Zigzag signed varlong (int64). */
  varlong(v: bigint): void {
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    this.ensure(10);
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  /** Zigzag varlong from a number (|v| < 2^52), for record deltas in hot loops. */
  varlongNumber(v: number): void {
    let u = v >= 0 ? v * 2 : -v * 2 - 1;
    this.ensure(10);
    while (u >= 0x80) {
      this.buf[this.pos++] = (u % 128) | 0x80;
      u = Math.floor(u / 128);
    }
    this.buf[this.pos++] = u;
  }

  /** Raw bytes. Large ones are referenced as a chunk instead of copied. */
  raw(b: Uint8Array): void {
    if (b.length >= ZERO_COPY_THRESHOLD) {
      this.flushRegion();
      this.chunks.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length));
      this.chunkedBytes += b.length;
      return;
    }
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  private utf8(s: string, compact: boolean): void {
    const n = Buffer.byteLength(s, 'utf8');
    if (compact) this.unsignedVarint(n + 1);
    else {
      if (n > 0x7fff) throw new EncodeError(`string of ${n} bytes is too long`);
      this.int16(n);
    }
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }

  string(s: string): void {
    this.utf8(s, false);
  }

  nullableString(s: string | null): void {
    if (s === null) this.int16(-1);
    else this.utf8(s, false);
  }

  compactString(s: string): void {
    this.utf8(s, true);
  }

  compactNullableString(s: string | null): void {
    if (s === null) this.unsignedVarint(0);
    else this.utf8(s, true);
  }

  bytes(b: Uint8Array): void {
    this.int32(b.length);
    this.raw(b);
  }

  nullableBytes(b: Uint8Array | null): void {
    if (b === null) this.int32(-1);
    else this.bytes(b);
  }

  compactBytes(b: Uint8Array): void {
    this.unsignedVarint(b.length + 1);
    this.raw(b);
  }

  compactNullableBytes(b: Uint8Array | null): void {
    if (b === null) this.unsignedVarint(0);
    else this.compactBytes(b);
  }

  /** Reserves an int32 to be filled in later (a size prefix); returns a setter. */
  reserveInt32(): (v: number) => void {
    this.ensure(4);
    const buf = this.buf;
    const at = this.pos;
    this.pos += 4;
    return (v: number) => {
      buf.writeInt32BE(v, at);
    };
  }

  /** The output as chunks, for writev. Large byte fields are the caller's buffers, not copies. */
  finishChunks(): Buffer[] {
    this.flushRegion();
    return this.chunks;
  }

  /** The output as one contiguous Buffer. */
  finish(): Buffer {
    const chunks = this.finishChunks();
    if (chunks.length === 1) return chunks[0];
    return Buffer.concat(chunks, this.chunkedBytes);
  }
}
