// A bare TCP client that speaks Kafka framing, for tests that need byte-level control.

import { connect, type Socket } from 'node:net';
import { FrameSplitter } from '../../src/broker/network/frame-splitter.js';

export class RawClient {
  private readonly splitter = new FrameSplitter(1 << 30);
  private readonly frames: Buffer[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.frames.push(...this.splitter.push(c));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** `localAddress`: another loopback address (127.0.0.2 ...) to connect from. */
  static connect(port: number, localAddress?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1', localAddress }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  send(...chunks: Buffer[]): void {
    for (const c of chunks) this.socket.write(c);
  }

  /** Next response frame (size prefix removed), or null if the connection closed first. */
  async next(timeoutMs = 5000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0 && !this.closed) {
      if (Date.now() > deadline) throw new Error('timed out waiting for a response');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.frames.shift() ?? null;
  }

  /** Resolves true once the server has closed the connection. */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
