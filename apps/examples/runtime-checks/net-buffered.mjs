// @aioloop/net: BufferedProtocol reads (getBuffer/bufferUpdated) on both ends of
// a TCP connection over 127.0.0.1: 1 MiB arrives whole and in order.
import { BufferedProtocol, EventLoop, Protocol } from '@aioloop/core';
import '@aioloop/net';

const SIZE = 1 << 20;
const payload = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i++) payload[i] = (i * 31) & 255;

class Collect extends BufferedProtocol {
  constructor(done) {
    super();
    this.done = done;
    this.buffer = Buffer.alloc(SIZE);
    this.filled = 0;
  }
  getBuffer() { return this.buffer.subarray(this.filled, Math.min(this.filled + 65536, SIZE)); }
  bufferUpdated(nbytes) {
    this.filled += nbytes;
    if (this.filled === SIZE) this.done.setResult(this.buffer);
  }
}
const loop = new EventLoop();
const received = await loop.runUntilComplete(async () => {
  const done = loop.createFuture();
  const server = await loop.createServer(() => new Collect(done), '127.0.0.1', 0);
  const [host, port] = server.sockets[0].getsockname();
  const [transport] = await loop.createConnection(() => new Protocol(), host, port);
  transport.write(payload);
  const got = await done;
  transport.close();
  server.close();
  await server.waitClosed();
  return got;
});
loop.close();
if (!received.equals(payload)) throw new Error('the bytes differ');
console.log('ok: BufferedProtocol reads over TCP');
