// Port of 01-echo-server.py (the asyncio docs' TCP echo server) to aioloop.
import { Protocol, getRunningLoop, type Future, type Transport } from '@aioloop/core';
import '@aioloop/net';
import { run } from '@aioloop/policy';

class EchoServerProtocol extends Protocol {
  private transport!: Transport;

  constructor(private readonly onConLost: Future<boolean>) {
    super();
  }

  override connectionMade(transport: Transport): void {
    const peername = transport.getExtraInfo('peername');
    // Typed for every transport (a Unix socket's is a path): a TCP one's is [host, port].
    if (Array.isArray(peername)) {
      const [host, port] = peername;
      console.log(`Connection from ${host} port=${port}`);
    }
    this.transport = transport;
  }

  override dataReceived(data: Buffer): void {
    const message = data.toString();
    console.log(`Data received: '${message}'`);

    console.log(`Send: '${message}'`);
    this.transport.write(data);

    console.log('Close the client socket');
    this.transport.close();
  }

  override connectionLost(exc: Error | null): void {
    console.log('Connection lost' + (exc ? `: ${exc.message}` : ''));
    this.onConLost.setResult(true);
  }
}

async function main(): Promise<void> {
  // Get a reference to the event loop as we plan to use
  // low-level APIs.
  const loop = getRunningLoop();
  const served = loop.createFuture<boolean>();

  const server = await loop.createServer(() => new EchoServerProtocol(served), '127.0.0.1', 0);
  const [host, port] = server.sockets[0]!.getsockname();
  console.log(`Serving on ${host} port=${port}`);

  {
    await using _ = server; // asyncio's `async with server:`
    await served;
  }
  console.log('Server closed, serving:', server.isServing() ? 'yes' : 'no');
}

await run(main);
