#!/usr/bin/env node
// One UDP echo server, measured alone in its own process (started by run.mjs).
// Usage: node bench/udp/server.mjs dgram|aioloop|aioloop-dgram
// (aioloop: the endpoint createDatagramEndpoint makes by default, over native
// sockets when @aioloop/native-sockets loads; aioloop-dgram: the same over a
// Node dgram socket, given as sock=)
// Prints its port on stdout; answers IPC messages:
//   'cpu'   -> { cpuMicros, userMicros, echoed } so far
//   'stop'  -> exits
import dgram from 'node:dgram';

const kind = process.argv[2];
const HOST = '127.0.0.1';
let echoed = 0;

function distUrl(pkg) {
  return new URL(`../../packages/${pkg}/dist/index.js`, import.meta.url).href;
}

// The baseline: what a Node program writes with dgram.
async function startDgram() {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (data, rinfo) => {
    echoed++;
    socket.send(data, rinfo.port, rinfo.address);
  });
  socket.on('error', () => {});
  await new Promise((resolve) => socket.bind(0, HOST, resolve));
  return socket.address().port;
}

// asyncio's datagram echo: datagramReceived(data, addr) -> transport.sendto(data, addr).
async function startAioloop(overDgram) {
  const core = await import(distUrl('core'));
  const net = await import(distUrl('net'));
  const { EventLoop, DatagramProtocol } = core;
  class Echo extends DatagramProtocol {
    connectionMade(transport) {
      this.transport = transport;
    }
    datagramReceived(data, addr) {
      echoed++;
      this.transport.sendto(data, addr);
    }
  }
  const loop = new EventLoop({ debug: false });
  let options = { localAddr: [HOST, 0] };
  if (overDgram) {
    const sock = dgram.createSocket('udp4');
    await new Promise((resolve) => sock.bind(0, HOST, resolve));
    options = { sock };
  }
  const creating = loop.createDatagramEndpoint(() => new Echo(), options);
  void loop.runForever();
  const [transport] = await creating;
  return transport.getExtraInfo('sockname')[1];
}

const port = kind === 'dgram' ? await startDgram() : kind === 'aioloop' || kind === 'aioloop-dgram' ? await startAioloop(kind === 'aioloop-dgram') : null;
if (port === null) throw new Error(`unknown server kind ${kind}`);
process.stdout.write(`${port}\n`);
process.on('message', (message) => {
  if (message === 'cpu') {
    const usage = process.cpuUsage();
    process.send({ cpuMicros: usage.user + usage.system, userMicros: usage.user, echoed });
  } else if (message === 'stop') {
    process.exit(0);
  }
});
