#!/usr/bin/env node
// One echo server, measured alone in its own process (started by run.mjs).
// Usage: node --expose-gc bench/echo/server.mjs raw|protocol|buffered
// Prints its port on stdout; answers IPC messages:
//   'mem'   -> { rss, heapUsed, external, arrayBuffers, connections } after a full GC
//   'cpu'   -> { cpuMicros } (user + system CPU time used so far)
//   'stop'  -> exits
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const kind = process.argv[2];
const HOST = '127.0.0.1';
let connections = 0;

function distUrl(pkg) {
  return new URL(`../../packages/${pkg}/dist/index.js`, import.meta.url).href;
}

async function startRaw() {
  const server = net.createServer((socket) => {
    connections++;
    socket.on('data', (data) => socket.write(data));
    socket.on('error', () => {});
    socket.on('close', () => connections--);
  });
  await new Promise((resolve) => server.listen({ port: 0, host: HOST, backlog: 4096 }, resolve));
  return server.address().port;
}

async function startAioloop(buffered) {
  const core = await import(distUrl('core'));
  await import(distUrl('net'));
  const { EventLoop, Protocol, BufferedProtocol } = core;

  class Echo extends Protocol {
    connectionMade(transport) {
      this.transport = transport;
      connections++;
    }
    dataReceived(data) {
      this.transport.write(data);
    }
    connectionLost() {
      connections--;
    }
  }

  // Every connection reads into one shared 64 KiB buffer. transport.write()
  // keeps a reference to what it is given (as asyncio 3.12+), so the echo
  // copies the bytes out before the shared buffer is read into again.
  const shared = Buffer.allocUnsafe(64 * 1024);
  class BufferedEcho extends BufferedProtocol {
    connectionMade(transport) {
      this.transport = transport;
      connections++;
    }
    getBuffer() {
      return shared;
    }
    bufferUpdated(nbytes) {
      const out = Buffer.allocUnsafe(nbytes);
      shared.copy(out, 0, 0, nbytes);
      this.transport.write(out);
    }
    connectionLost() {
      connections--;
    }
  }

  const loop = new EventLoop({ debug: false });
  const factory = buffered ? () => new BufferedEcho() : () => new Echo();
  const server = await loop.runUntilComplete(() => loop.createServer(factory, HOST, 0, { backlog: 4096 }));
  void loop.runForever();
  const sock = server.sockets[0];
  if (typeof sock.getsockname === 'function') return sock.getsockname()[1];
  if (typeof sock.address === 'function') return sock.address().port;
  throw new Error('cannot find the server port');
}

let port;
if (kind === 'raw') port = await startRaw();
else if (kind === 'protocol') port = await startAioloop(false);
else if (kind === 'buffered') port = await startAioloop(true);
else {
  console.error(`usage: node ${fileURLToPath(import.meta.url)} raw|protocol|buffered`);
  process.exit(2);
}

process.on('message', (msg) => {
  if (msg === 'mem') {
    for (let i = 0; i < 4; i++) globalThis.gc?.();
    const m = process.memoryUsage();
    process.send({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, connections });
  } else if (msg === 'cpu') {
    const u = process.cpuUsage();
    process.send({ cpuMicros: u.user + u.system });
  } else if (msg === 'stop') {
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
console.log(String(port));
