// @aioloop/net: a Unix socket echo with createUnixServer and createUnixConnection.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLoop, Protocol } from '@aioloop/core';
import '@aioloop/net';

class Echo extends Protocol {
  connectionMade(transport) { this.transport = transport; }
  dataReceived(data) { this.transport.write(data); }
}
const dir = mkdtempSync(join(tmpdir(), 'aioloop-check-'));
const path = join(dir, 'echo.sock');
const loop = new EventLoop();
try {
  const echoed = await loop.runUntilComplete(async () => {
    const server = await loop.createUnixServer(() => new Echo(), path);
    const got = loop.createFuture();
    class Client extends Protocol {
      dataReceived(data) { if (!got.done()) got.setResult(data.toString()); }
    }
    const [transport] = await loop.createUnixConnection(() => new Client(), path);
    transport.write(Buffer.from('ping'));
    const reply = await got;
    transport.close();
    server.close();
    await server.waitClosed();
    return reply;
  });
  if (echoed !== 'ping') throw new Error(`got ${echoed}`);
} finally {
  loop.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log('ok: Unix socket echo');
