// A minimal pipelined Kafka connection for the benchmarks: send requests, get decoded responses in
// order. No retries, no reconnects; a benchmark that sees an error stops.

import { connect, type Socket } from 'node:net';
import { decodeResponseHeader, encodeRequest } from '../src/protocol/frame.js';
import type { MessageCodec } from '../src/protocol/message.js';

interface Pending {
  apiKey: number;
  version: number;
  codec: MessageCodec<unknown>;
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export class BenchConnection {
  private readonly pending: Pending[] = [];
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private correlationId = 0;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => this.failAll(new Error('connection closed')));
    socket.on('error', (e) => this.failAll(e));
  }

  static open(port: number): Promise<BenchConnection> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new BenchConnection(s)));
      s.once('error', reject);
    });
  }

  request<Req, Res>(
    apiKey: number,
    version: number,
    req: MessageCodec<Req>,
    res: MessageCodec<Res>,
    body: Req,
  ): Promise<Res> {
    const chunks = encodeRequest(
      { apiKey, apiVersion: version, correlationId: this.correlationId++, clientId: 'bench' },
      req,
      body,
    );
    return new Promise<Res>((resolve, reject) => {
      this.pending.push({
        apiKey,
        version,
        codec: res as MessageCodec<unknown>,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      for (const c of chunks) this.socket.write(c);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buffered.push(d);
    this.bufferedBytes += d.length;
    let all = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
    while (all.length >= 4 && all.length >= 4 + all.readInt32BE(0)) {
      const size = all.readInt32BE(0);
      const frame = all.subarray(4, 4 + size);
      all = all.subarray(4 + size);
      const p = this.pending.shift();
      if (!p) throw new Error('a response nobody asked for');
      const { body } = decodeResponseHeader(frame, p.apiKey, p.version);
      p.resolve(p.codec.decode(body, p.version));
    }
    this.buffered = all.length > 0 ? [all] : [];
    this.bufferedBytes = all.length;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.splice(0)) p.reject(e);
  }
}
