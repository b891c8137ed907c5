// Reader: the decoding side of Kafka's primitive types, over one Buffer.
//
// Invariant: a Reader never allocates more than the bytes it was given. Every length read from
// the wire (strings, bytes, arrays) is checked against the bytes that remain *before* anything
// is allocated, so a hostile "2^31 elements" header costs nothing. All failures raise DecodeError.
// Byte fields are returned as subarray views (no copy); callers that keep them past the life of
// the input buffer must copy.

export class DecodeError extends Error {
  override name = 'DecodeError';
}

const UUID_BYTES = 16;

export class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless `n` more bytes are available. */
  need(n: number): void {
    if (n > this.end - this.pos) {
      throw new DecodeError(`truncated: need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos}`);
    }
  }

  /** Throws if bytes are left over: Kafka messages have no trailing padding. */
  expectEnd(what: string): void {
    if (this.pos !== this.end) {
      throw new DecodeError(`${this.end - this.pos} trailing bytes after ${what}`);
    }
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  uint8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  float64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Kafka's Uuid, rendered as it is everywhere in Kafka: 22 characters of unpadded base64url. */
  uuid(): string {
    this.need(UUID_BYTES);
    const s = this.buf.toString('base64url', this.pos, this.pos + UUID_BYTES);
    this.pos += UUID_BYTES;
    return s;
  }

  /** Unsigned LEB128 varint of at most 5 bytes (a uint32). */
  unsignedVarint(): number {
    // Most varints in record bodies (attributes aside, small deltas and lengths) are one byte.
    if (this.pos < this.end) {
      const b0 = this.buf[this.pos];
      if (b0 < 0x80) {
        this.pos++;
        return b0;
      }
    }
    let value = 0;
    let mult = 1;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw new DecodeError(`truncated varint at offset ${this.pos}`);
      const b = this.buf[this.pos++];
      if (i === 4 && b > 0x0f) throw new DecodeError('varint does not fit in 32 bits');
      value += (b & 0x7f) * mult;
      if ((b & 0x80) === 0) return value;
      mult *= 128;
    }
    throw new DecodeError('varint longer than 5 bytes');
  }

  /** Zigzag-encoded signed varint (int32), as in record bodies. */
  varint(): number {
    const u = this.unsignedVarint();
    return (u & 1) === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Zigzag-encoded signed varlong (int64), as in record bodies. */
  varlong(): bigint {
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new DecodeError(`truncated varlong at offset ${this.pos}`);
      const b = this.buf[this.pos++];
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        value = BigInt.asUintN(64, value);
        return (value >> 1n) ^ -(value & 1n);
      }
      shift += 7n;
    }
    throw new DecodeError('varlong longer than 10 bytes');
  }

  /**
   * Zigzag varlong returned as a number: for hot loops (record offset and timestamp deltas)
   * where the value is known to be small. Exact while |value| < 2^53; larger raises.
   */
  varlongNumber(): number {
    let u = 0;
    let mult = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw new DecodeError(`truncated varlong at offset ${this.pos}`);
      const b = this.buf[this.pos++];
      u += (b & 0x7f) * mult;
      if ((b & 0x80) === 0) return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
      mult *= 128;
    }
    throw new DecodeError('varlong too large for a number');
  }

  /** Moves past n bytes without a view of them (a view is an allocation). */
  skip(n: number): void {
    if (n < 0) throw new DecodeError(`negative length ${n}`);
    this.need(n);
    this.pos += n;
  }

  /** A raw view of the next n bytes (no copy). */
  raw(n: number): Buffer {
    if (n < 0) throw new DecodeError(`negative length ${n}`);
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  private utf8(n: number): string {
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** STRING: int16 length then UTF-8. */
  string(): string {
    const n = this.int16();
    if (n < 0) throw new DecodeError(`non-nullable string has length ${n}`);
    return this.utf8(n);
  }

  /** NULLABLE_STRING: int16 length, -1 for null. */
  nullableString(): string | null {
    const n = this.int16();
    if (n === -1) return null;
    if (n < 0) throw new DecodeError(`invalid string length ${n}`);
    return this.utf8(n);
  }

  /** COMPACT_STRING: unsigned varint length+1. */
  compactString(): string {
    const n = this.unsignedVarint() - 1;
    if (n < 0) throw new DecodeError('non-nullable compact string is null');
    return this.utf8(n);
  }

  compactNullableString(): string | null {
    const n = this.unsignedVarint() - 1;
    if (n < 0) return null;
    return this.utf8(n);
  }

  /** BYTES: int32 length then bytes (view, no copy). */
  bytes(): Buffer {
    const n = this.int32();
    if (n < 0) throw new DecodeError(`non-nullable bytes have length ${n}`);
    return this.raw(n);
  }

  nullableBytes(): Buffer | null {
    const n = this.int32();
    if (n === -1) return null;
    if (n < 0) throw new DecodeError(`invalid bytes length ${n}`);
    return this.raw(n);
  }

  compactBytes(): Buffer {
    const n = this.unsignedVarint() - 1;
    if (n < 0) throw new DecodeError('non-nullable compact bytes are null');
    return this.raw(n);
  }

  compactNullableBytes(): Buffer | null {
    const n = this.unsignedVarint() - 1;
    if (n < 0) return null;
    return this.raw(n);
  }

  /**
   * ARRAY length (int32, -1 for null). The count is bounded by the bytes left, since every element
   * takes at least one byte on the wire; this is what keeps a forged count from allocating.
   */
  arrayLength(nullable: boolean): number {
    return this.checkCount(this.int32(), nullable);
  }

  /** COMPACT_ARRAY length (unsigned varint length+1, 0 for null); -1 means null. */
  compactArrayLength(nullable: boolean): number {
    return this.checkCount(this.unsignedVarint() - 1, nullable);
  }

  private checkCount(n: number, nullable: boolean): number {
    if (n < 0) {
      if (n === -1 && nullable) return -1;
      throw new DecodeError(`invalid array length ${n}`);
    }
    if (n > this.end - this.pos) {
      throw new DecodeError(`array length ${n} exceeds the ${this.end - this.pos} bytes left`);
    }
    return n;
  }
}
