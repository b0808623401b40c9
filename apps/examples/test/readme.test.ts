import net from 'node:net';
import { EventLoop, Protocol, sleep, type Transport } from '@aioloop/core';
import '@aioloop/net';
import { expect, it } from 'vitest';

// The example at the top of the root README, with port 0 and a short serve time.
class Echo extends Protocol {
  private transport!: Transport;
  override connectionMade(transport: Transport) { this.transport = transport; }
  override dataReceived(data: Buffer) { this.transport.write(data); }
}

it('the README example serves an echo that a plain Node client can use', async () => {
  const loop = new EventLoop();
  let echoed = '';
  await loop.runUntilComplete(async () => {
    const server = await loop.createServer(() => new Echo(), '127.0.0.1', 0);
    const [host, port] = server.sockets[0]!.getsockname() as [string, number];
    const gotEcho = loop.createFuture<void>();
    const client = net.connect(port, host, () => client.write('ping'));
    client.on('data', (d) => {
      echoed += d.toString();
      client.destroy();
      loop.callSoonThreadsafe(() => gotEcho.done() || gotEcho.setResult());
    });
    await gotEcho; // the README serves a minute; here, until the echo came back
    await sleep(0.01);
    server.close();
    await server.waitClosed();
  });
  loop.close();
  expect(echoed).toBe('ping');
});
