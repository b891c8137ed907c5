// The TCP proxy in front of one node, through which every client reaches it (the broker
// advertises the proxy's address): the "partition" fault between clients and that node. While
// partitioned the proxy blackholes: connections stay open (new ones are accepted) but no byte
// passes either way, as when packets are dropped, so clients see requests time out rather than
// connections refused. Healing destroys the connections that lived through the partition (their
// byte streams lost data, so they cannot go on) and lets new ones through again.
//
// Unlike test/helpers/cutting-proxy.ts (cuts after chosen Produce answers) it does not look at the
// protocol at all. Loopback only.

import { connect, createServer, type Server, type Socket } from 'node:net';

export class PartitionProxy {
  /** The node's port; set before clients connect, and kept across restarts of the node. */
  target = 0;
  private partitioned = false;
  private readonly links = new Set<{ client: Socket; upstream: Socket; blackholed: boolean }>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(port = 0): Promise<PartitionProxy> {
    let proxy: PartitionProxy | undefined;
    const server = createServer((client) => proxy!.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    proxy = new PartitionProxy(server, address.port);
    return proxy;
  }

  get isPartitioned(): boolean {
    return this.partitioned;
  }

  /** Starts dropping every byte between clients and the node. */
  partition(): void {
    this.partitioned = true;
    for (const link of this.links) link.blackholed = true;
  }

  /** Ends the partition: connections that lived through it are closed; new ones pass. */
  heal(): void {
    this.partitioned = false;
    for (const link of [...this.links]) {
      if (!link.blackholed) continue;
      link.client.destroy();
      link.upstream.destroy();
      this.links.delete(link);
    }
  }

  private accept(client: Socket): void {
    const upstream = connect(this.target, '127.0.0.1');
    const link = { client, upstream, blackholed: this.partitioned };
    this.links.add(link);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.links.delete(link);
    };
    client.on('data', (d: Buffer) => {
      if (!link.blackholed) upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!link.blackholed) client.write(d);
    });
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    // A node that went away (killed) closes its side; the client sees it, as without a proxy,
    // except while partitioned, where nothing reaches the client.
    upstream.on('close', () => {
      if (!link.blackholed) close();
    });
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.links) {
      client.destroy();
      upstream.destroy();
    }
    this.links.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
