// FrameSplitter: turns the byte stream of a connection into Kafka frames (int32 size + body).
//
// The size prefix is checked against the limit (socket.request.max.bytes) before any memory is
// set aside for the frame, so a forged "2 GiB" prefix costs nothing: the connection is closed.
// Chunks are kept as received until a frame is complete; a frame inside one chunk is a view of
// it (no copy), one spanning chunks is copied once. Sans-IO: fed bytes, returns frames.

export class FrameTooLargeError extends Error {
  override name = 'FrameTooLargeError';
}

export class FrameSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Size of the frame being assembled, or -1 while its prefix is not yet complete. */
  private frameSize = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes held waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Feeds received bytes; returns the frames (bodies without the size prefix) now complete. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.frameSize < 0) {
        if (this.buffered < 4) break;
        const size = this.readSize();
        if (size < 0 || size > this.maxFrameBytes) {
          throw new FrameTooLargeError(`frame size ${size} is outside 0..${this.maxFrameBytes}`);
        }
        this.consume(4);
        this.frameSize = size;
      }
      if (this.buffered < this.frameSize) break;
      frames.push(this.take(this.frameSize));
      this.frameSize = -1;
    }
    return frames;
  }

  private readSize(): number {
    const first = this.chunks[0];
    if (first.length >= 4) return first.readInt32BE(0);
    const head = Buffer.concat(this.chunks, 4);
    return head.readInt32BE(0);
  }

  private consume(n: number): void {
    this.take(n);
  }

  /** Removes n bytes from the front; a view when they lie in one chunk. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const part = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, part);
      filled += part;
      if (part === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(part);
    }
    return out;
  }
}
