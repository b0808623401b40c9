// Shared by the stream checks: an echo server protocol, and one 'ping' sent
// through a server and a connection the caller makes.
import { Protocol } from '@aioloop/core';

export class Echo extends Protocol {
  connectionMade(transport) { this.transport = transport; }
  dataReceived(data) { this.transport.write(data); }
}

/** Starts a server with `listen(factory)`, connects with `connect(server, factory)`, returns the echoed text. */
export async function pingThroughEcho(loop, listen, connect) {
  const server = await listen(() => new Echo());
  const got = loop.createFuture();
  class Client extends Protocol {
    dataReceived(data) { if (!got.done()) got.setResult(data.toString()); }
  }
  const [transport] = await connect(server, () => new Client());
  transport.write(Buffer.from('ping'));
  const reply = await got;
  transport.close();
  server.close();
  await server.waitClosed();
  return reply;
}
