// @aioloop/net: a TCP echo over 127.0.0.1 with createServer and createConnection.
import { EventLoop, Protocol } from '@aioloop/core';
import '@aioloop/net';

class Echo extends Protocol {
  connectionMade(transport) { this.transport = transport; }
  dataReceived(data) { this.transport.write(data); }
}
const loop = new EventLoop();
const echoed = await loop.runUntilComplete(async () => {
  const server = await loop.createServer(() => new Echo(), '127.0.0.1', 0);
  const [host, port] = server.sockets[0].getsockname();
  const got = loop.createFuture();
  class Client extends Protocol {
    dataReceived(data) { if (!got.done()) got.setResult(data.toString()); }
  }
  const [transport] = await loop.createConnection(() => new Client(), host, port);
  transport.write(Buffer.from('ping'));
  const reply = await got;
  transport.close();
  server.close();
  await server.waitClosed();
  return reply;
});
loop.close();
if (echoed !== 'ping') throw new Error(`got ${echoed}`);
console.log('ok: TCP echo over 127.0.0.1');
