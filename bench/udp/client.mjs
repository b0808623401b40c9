#!/usr/bin/env node
// The load for bench/udp: plain dgram sockets on 127.0.0.1, each keeping
// `window` datagrams of `size` bytes in flight to the echo server (a new one
// leaves when an echo arrives). A datagram lost on the way frees its slot
// after 1 s without any echo on that socket and is counted.
// Usage: node bench/udp/client.mjs <port> <warmupSeconds> <seconds> <sockets> <window> <size>
// Prints one JSON line after the warm-up ('warm') and one at the end:
//   { echoed, lost, seconds }
import dgram from 'node:dgram';

const [port, warmup, seconds, sockets, window, size] = process.argv.slice(2).map(Number);
const HOST = '127.0.0.1';
const payload = Buffer.alloc(size, 7);

let counting = false;
let echoed = 0;
let lost = 0;
const clients = [];
for (let i = 0; i < sockets; i++) {
  const socket = dgram.createSocket('udp4');
  socket.setMaxListeners(0);
  await new Promise((resolve) => socket.connect(port, HOST, resolve));
  socket.setRecvBufferSize(1 << 20);
  const state = { socket, inFlight: 0, lastEcho: Date.now(), stopped: false };
  socket.on('message', () => {
    if (counting) echoed++;
    state.inFlight--;
    state.lastEcho = Date.now();
    fill(state);
  });
  clients.push(state);
}

function fill(state) {
  if (state.stopped) return;
  while (state.inFlight < window) {
    state.socket.send(payload);
    state.inFlight++;
  }
}

const watchdog = setInterval(() => {
  const now = Date.now();
  for (const state of clients) {
    if (!state.stopped && state.inFlight > 0 && now - state.lastEcho > 1000) {
      if (counting) lost += state.inFlight;
      state.inFlight = 0;
      state.lastEcho = now;
      fill(state);
    }
  }
}, 50);

for (const state of clients) fill(state);
await new Promise((resolve) => setTimeout(resolve, warmup * 1000));
counting = true;
process.stdout.write('warm\n');
const start = process.hrtime.bigint();
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
counting = false;
const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
for (const state of clients) state.stopped = true;
clearInterval(watchdog);
process.stdout.write(`${JSON.stringify({ echoed, lost, seconds: elapsed })}\n`);
for (const state of clients) state.socket.close();
