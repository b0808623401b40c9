// Port of 02-echo-client.py (the asyncio docs' TCP echo client) to aioloop.
import { Protocol, getRunningLoop, type Future, type Transport } from '@aioloop/core';
import '@aioloop/net';
import { run } from '@aioloop/policy';

class EchoClientProtocol extends Protocol {
  constructor(
    private readonly message: string,
    private readonly onConLost: Future<boolean>,
  ) {
    super();
  }

  override connectionMade(transport: Transport): void {
    transport.write(Buffer.from(this.message));
    console.log(`Data sent: '${this.message}'`);
  }

  override dataReceived(data: Buffer): void {
    console.log(`Data received: '${data.toString()}'`);
  }

  override connectionLost(): void {
    console.log('The server closed the connection');
    this.onConLost.setResult(true);
  }
}

async function main(): Promise<void> {
  // Get a reference to the event loop as we plan to use
  // low-level APIs.
  const loop = getRunningLoop();

  const onConLost = loop.createFuture<boolean>();
  const message = 'Hello World!';

  const [transport] = await loop.createConnection(
    () => new EchoClientProtocol(message, onConLost),
    '127.0.0.1',
    Number(process.argv[2]),
  );

  // Wait until the protocol signals that the connection
  // is lost and close the transport.
  try {
    await onConLost;
  } finally {
    transport.close();
  }
}

await run(main);
