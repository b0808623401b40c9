import { EventLoop, Protocol, type Transport } from '@aioloop/core';
import { socketpair } from '@aioloop/net';
import type { Output } from './output.js';

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

/** Example 5: createConnection({ sock }) wraps one end of a socketpair and waits for data. */
export async function connectExistingSocketExample(out: Output): Promise<void> {
  const loop = new EventLoop();
  // Create a pair of connected sockets (Python's socket.socketpair()).
  const [rsock, wsock] = socketpair();
  try {
    await loop.runUntilComplete(async () => {
      const lost = loop.createFuture<void>();
      // Register the socket to wait for data; the transport owns rsock from now on.
      const [transport] = await loop.createConnection(() => new MyProtocol({ resolve: () => lost.setResult() }, out), null, null, { sock: rsock });
      // Simulate the reception of data from the network.
      loop.callSoon(() => wsock.send(Buffer.from('abc')));
      try {
        await lost;
      } finally {
        transport.close();
      }
    });
  } finally {
    wsock.close();
    rsock.close(); // harmless: the transport closed it already
    loop.close();
  }
}
