// The partition proxy of the torture harness: bytes pass, a partition blackholes them both ways
// (connections stay open, new ones are accepted but carry nothing), healing closes the connections
// that lived through it and lets new ones through.

import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartitionProxy } from '../../tools/torture/proxy.js';
import { until } from '../helpers/tools.js';

describe('PartitionProxy', () => {
  let echo: Server;
  let proxy: PartitionProxy;

  beforeAll(async () => {
    echo = createServer((s) => s.on('data', (d) => s.write(d)));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    proxy = await PartitionProxy.start();
    proxy.target = (echo.address() as { port: number }).port;
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  function client(): { socket: Socket; received: () => string; closed: () => boolean } {
    const socket = connect(proxy.port, '127.0.0.1');
    let data = '';
    let closed = false;
    socket.on('data', (d: Buffer) => (data += d.toString('utf8')));
    socket.on('close', () => (closed = true));
    socket.on('error', () => {});
    return { socket, received: () => data, closed: () => closed };
  }

  it('passes bytes, blackholes them while partitioned, and closes the cut connections on heal', async () => {
    const a = client();
    a.socket.write('one');
    await until(() => a.received() === 'one', 'the echo through the proxy');

    proxy.partition();
    expect(proxy.isPartitioned).toBe(true);
    a.socket.write('two');
    const b = client(); // accepted during the partition, but carries nothing
    b.socket.write('three');
    // Nothing can arrive; give it the time an echo took above, many times over.
    await new Promise((r) => setTimeout(r, 300));
    expect(a.received()).toBe('one');
    expect(b.received()).toBe('');
    expect(a.closed()).toBe(false);

    proxy.heal();
    await until(() => a.closed() && b.closed(), 'the connections that lived through the partition to close');
    const c = client();
    c.socket.write('four');
    await until(() => c.received() === 'four', 'a new connection to pass after the heal');
    c.socket.destroy();
  });
});
