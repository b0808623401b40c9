import { EventLoop, Protocol, type Transport } from '@aioloop/core';
import '@aioloop/net';
import type { Output } from './output.js';

/** The server side: echo back every message, then close (asyncio's EchoServerProtocol). */
class EchoServerProtocol extends Protocol {
  private transport: Transport | null = null;
  constructor(private readonly out: Output) {
    super();
  }
  override connectionMade(transport: Transport): void {
    this.out(`server: connection from ${JSON.stringify(transport.getExtraInfo('peername'))}`);
    this.transport = transport;
  }
  override dataReceived(data: Buffer): void {
    this.out(`server: data received: ${JSON.stringify(data.toString())}`);
    this.out(`server: send: ${JSON.stringify(data.toString())}`);
    this.transport?.write(data);
    this.out('server: close the client socket');
    this.transport?.close();
  }
}

/** The client side: send a message, print the echo, resolve when the server closes. */
class EchoClientProtocol extends Protocol {
  constructor(
    private readonly message: string,
    private readonly onConLost: { resolve(): void },
    private readonly out: Output,
  ) {
    super();
  }
  override connectionMade(transport: Transport): void {
    transport.write(Buffer.from(this.message));
    this.out(`client: data sent: ${JSON.stringify(this.message)}`);
  }
  override dataReceived(data: Buffer): void {
    this.out(`client: data received: ${JSON.stringify(data.toString())}`);
  }
  override connectionLost(): void {
    this.out('client: the server closed the connection');
    this.onConLost.resolve();
  }
}

/** Example 4: a TCP echo server and client with createServer() / createConnection(). */
export async function tcpEchoExample(out: Output): Promise<void> {
  const loop = new EventLoop();
  try {
    await loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new EchoServerProtocol(out), '127.0.0.1', 0);
      const [host, port] = server.sockets[0]!.getsockname() as [string, number];
      const lost = loop.createFuture<void>();
      const [transport] = await loop.createConnection(
        () => new EchoClientProtocol('Hello World!', { resolve: () => lost.setResult() }, out),
        host,
        port,
      );
      try {
        await lost; // wait until the protocol signals that the connection is lost
      } finally {
        transport.close();
        server.close();
        await server.waitClosed();
      }
    });
  } finally {
    loop.close();
  }
}
