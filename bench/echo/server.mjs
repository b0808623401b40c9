#!/usr/bin/env node
// One echo server, measured alone in its own process (started by run.mjs).
// Usage: node --expose-gc bench/echo/server.mjs raw|protocol|buffered
// Prints its port on stdout; answers IPC messages:
//   'mem'   -> { rss, heapUsed, heapPhysical, external, arrayBuffers, spaces, connections } after full GCs
//              (spaces: physical size of each V8 heap space by name)
//   'cpu'   -> { cpuMicros, userMicros, minorFaults, voluntarySwitches } so far
//   'stop'  -> exits
import net from 'node:net';
import v8 from 'node:v8';
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

  // No buffer per connection and no copy on the way out: every connection
  // reads into the free tail of one shared slab (the transport asks getBuffer
  // just before it copies a read in, as asyncio does), and bufferUpdated
  // writes back a view of the very bytes it was given. transport.write()
  // keeps a reference until Node has handed the bytes to the kernel (as
  // asyncio 3.12+): if it did so at once (write buffer empty after the write,
  // the usual case) the same region is read into again; otherwise the region
  // is left to the pending write and the tail moves past it, and a new slab
  // starts when the tail gets short (the old one is freed once its last write
  // is flushed).
  const SLAB_BYTES = 256 * 1024;
  const MIN_READ = 64 * 1024;
  let slab = Buffer.allocUnsafe(SLAB_BYTES);
  let used = 0;
  class BufferedEcho extends BufferedProtocol {
    connectionMade(transport) {
      this.transport = transport;
      connections++;
    }
    getBuffer() {
      if (SLAB_BYTES - used < MIN_READ) {
        slab = Buffer.allocUnsafe(SLAB_BYTES);
        used = 0;
      }
      return slab.subarray(used);
    }
    bufferUpdated(nbytes) {
      const transport = this.transport;
      transport.write(slab.subarray(used, used + nbytes));
      if (transport.getWriteBufferSize() > 0) used += nbytes;
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
    const spaces = {};
    for (const space of v8.getHeapSpaceStatistics()) spaces[space.space_name] = space.physical_space_size;
    process.send({ rss: m.rss, heapUsed: m.heapUsed, heapPhysical: v8.getHeapStatistics().total_physical_size, external: m.external, arrayBuffers: m.arrayBuffers, spaces, connections });
  } else if (msg === 'cpu') {
    const u = process.resourceUsage();
    process.send({ cpuMicros: u.userCPUTime + u.systemCPUTime, userMicros: u.userCPUTime, minorFaults: u.minorPageFault, voluntarySwitches: u.voluntaryContextSwitches });
  } else if (msg === 'stop') {
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
console.log(String(port));
