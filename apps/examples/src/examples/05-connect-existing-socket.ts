import net from 'node:net';
import { EventLoop, Protocol, type Transport } from '@aioloop/core';
import '@aioloop/net';
import type { Output } from './output.js';

/**
 * Node has no socketpair(): make two connected sockets through a short-lived
 * listener on 127.0.0.1 (the listener is closed once the pair exists).
 */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
  const other = await accepted;
  server.close();
  return [client, other];
}

class MyProtocol extends Protocol {
  private transport: Transport | null = null;
  constructor(
    private readonly onConLost: { resolve(): void },
    private readonly out: Output,
  ) {
    super();
  }
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  override dataReceived(data: Buffer): void {
    this.out(`Received: ${data.toString()}`);
    // We are done: close the transport; connectionLost() will be called automatically.
    this.transport?.close();
  }
  override connectionLost(): void {
    this.onConLost.resolve();
  }
}

/** Example 5: createConnection({ sock }) wraps an already-connected socket and waits for data. */
export async function connectExistingSocketExample(out: Output): Promise<void> {
  const loop = new EventLoop();
  const [rsock, wsock] = await socketPair();
  try {
    await loop.runUntilComplete(async () => {
      const lost = loop.createFuture<void>();
      await loop.createConnection(() => new MyProtocol({ resolve: () => lost.setResult() }, out), null, null, { sock: rsock });
      // Simulate the reception of data from the network.
      loop.callSoon(() => wsock.write('abc'));
      await lost;
    });
  } finally {
    wsock.destroy();
    rsock.destroy();
    loop.close();
  }
}
