#!/usr/bin/env node
// Load generator for the echo benchmark, in its own process (started by run.mjs).
//   node bench/echo/client.mjs load <port> <messageBytes> <connections> <seconds> <warmupSeconds>
//     Each connection sends one message, waits for all of it to come back, and
//     repeats. Prints { requests, bytes, seconds } (counted after the warm-up).
//   node bench/echo/client.mjs idle <port> <connections>
//     Opens that many connections, prints "ready", and holds them until stdin closes.
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const [mode, portArg, ...rest] = process.argv.slice(2);
const port = Number(portArg);
const HOST = '127.0.0.1';

function connect() {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: HOST, noDelay: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function load(size, count, seconds, warmup) {
  const message = Buffer.alloc(size, 0x61);
  const sockets = await Promise.all(Array.from({ length: count }, connect));
  let counting = false;
  let stopped = false;
  let requests = 0;
  let start = 0;
  for (const socket of sockets) {
    let pending = size;
    socket.on('data', (chunk) => {
      pending -= chunk.length;
      if (pending > 0) return;
      if (pending < 0) throw new Error('echo returned more bytes than sent');
      if (counting) requests++;
      if (stopped) return;
      pending = size;
      socket.write(message);
    });
    socket.on('error', (e) => {
      if (!stopped) throw e;
    });
    socket.write(message);
  }
  await new Promise((r) => setTimeout(r, warmup * 1000));
  counting = true;
  start = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const elapsed = (performance.now() - start) / 1000;
  const done = requests;
  stopped = true;
  for (const socket of sockets) socket.destroy();
  process.stdout.write(JSON.stringify({ requests: done, bytes: done * size, seconds: elapsed }) + '\n');
}

async function idle(count) {
  const sockets = [];
  // In batches, so the server's accept backlog never overflows.
  for (let i = 0; i < count; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, count - i) }, connect));
    sockets.push(...batch);
  }
  for (const s of sockets) s.on('error', () => {});
  process.stdout.write('ready\n');
  process.stdin.resume();
  process.stdin.on('end', () => {
    for (const s of sockets) s.destroy();
    process.exit(0);
  });
}

if (mode === 'load') await load(Number(rest[0]), Number(rest[1]), Number(rest[2]), Number(rest[3] ?? 0.5));
else if (mode === 'idle') await idle(Number(rest[0]));
else {
  console.error('usage: client.mjs load <port> <bytes> <connections> <seconds> [warmup] | idle <port> <connections>');
  process.exit(2);
}
