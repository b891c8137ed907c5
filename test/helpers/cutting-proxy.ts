// A TCP proxy between Kafka clients and a broker that cuts connections at the worst moment for
// exactly-once: after the broker answered a Produce (so the records are appended and durable) and
// before the client read the answer. The answer is dropped and both sockets are destroyed, so the
// client must retry a batch the log already holds.
//
// It follows the request frames from the client (size, api key, version, correlation id) to know
// which response answers a Produce. The broker must advertise the proxy's address
// (advertised.listeners), or clients would bypass it after bootstrapping.
//
// With `responseDelayMs`, every response is held that long before it goes to the client (in
// order): a client then has several appended but unanswered Produce requests in flight at any
// moment, which a broker killed at that moment loses the answers of.

import { connect, createServer, type Server, type Socket } from 'node:net';

const PRODUCE = 0;

export interface CuttingProxyOptions {
  /** Called for every Produce response (n counts them from 1); true cuts the connection there. */
  cutProduceResponse: (n: number) => boolean;
  /** Holds every response this long before forwarding it. Default 0. */
  responseDelayMs?: number;
}

/** Whole size-prefixed frames out of a byte stream. */
class Frames {
  private buf: Buffer = Buffer.alloc(0);

  push(data: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
    const out: Buffer[] = [];
    while (this.buf.length >= 4) {
      const size = this.buf.readInt32BE(0);
      if (this.buf.length < 4 + size) break;
      out.push(this.buf.subarray(0, 4 + size));
      this.buf = this.buf.subarray(4 + size);
    }
    return out;
  }
}

export class CuttingProxy {
  /** Connections cut after a Produce response. */
  cuts = 0;
  /** Produce responses seen (forwarded or dropped). */
  produceResponses = 0;
  /** The broker's port; set before clients connect. */
  target = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly opts: CuttingProxyOptions,
  ) {}

  static async start(opts: CuttingProxyOptions): Promise<CuttingProxy> {
    let proxy: CuttingProxy | undefined;
    const server = createServer((client) => proxy!.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    proxy = new CuttingProxy(server, address.port, opts);
    return proxy;
  }

  private accept(client: Socket): void {
    const upstream = connect(this.target, '127.0.0.1');
    this.sockets.add(client);
    this.sockets.add(upstream);
    const apiKeys = new Map<number, number>();
    const requests = new Frames();
    const responses = new Frames();
    let cut = false;
    const close = () => {
      cut = true;
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('data', (d: Buffer) => {
      for (const f of requests.push(d)) {
        if (f.length >= 12) apiKeys.set(f.readInt32BE(8), f.readInt16BE(4));
        upstream.write(f);
      }
    });
    upstream.on('data', (d: Buffer) => {
      if (cut) return;
      for (const f of responses.push(d)) {
        const correlationId = f.readInt32BE(4);
        const apiKey = apiKeys.get(correlationId);
        apiKeys.delete(correlationId);
        if (apiKey === PRODUCE) {
          this.produceResponses++;
          if (this.opts.cutProduceResponse(this.produceResponses)) {
            // Everything after this response is dropped too, as a dying connection would.
            cut = true;
            this.cuts++;
            close();
            return;
          }
        }
        const delay = this.opts.responseDelayMs ?? 0;
        if (delay > 0) {
          setTimeout(() => {
            if (!cut) client.write(f);
          }, delay);
        } else {
          client.write(f);
        }
      }
    });
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
