#!/usr/bin/env node
// Two UDP endpoints of the same kind in one process, bouncing `window`
// datagrams between them on 127.0.0.1 (each echoes what it receives): the
// whole per-datagram cost of one implementation, receive and send, without
// waiting for another process to be scheduled.
// Usage: node bench/udp/inproc.mjs dgram|aioloop|aioloop-dgram <size> <warmupSeconds> <seconds> <window>
// Prints { rate, cpuPerDatagram } (datagrams received per second by both ends,
// process CPU per datagram in µs).
import dgram from 'node:dgram';

const [kind, sizeArg, warmupArg, secondsArg, windowArg] = process.argv.slice(2);
const [size, warmup, seconds, window] = [sizeArg, warmupArg, secondsArg, windowArg].map(Number);
const HOST = '127.0.0.1';
let received = 0;

async function runDgram() {
  const a = dgram.createSocket('udp4');
  const b = dgram.createSocket('udp4');
  for (const s of [a, b]) {
    await new Promise((resolve) => s.bind(0, HOST, resolve));
    s.setRecvBufferSize(1 << 20);
    s.on('message', (data, rinfo) => {
      received++;
      s.send(data, rinfo.port, rinfo.address);
    });
  }
  const payload = Buffer.alloc(size, 1);
  for (let i = 0; i < window; i++) a.send(payload, b.address().port, HOST);
  return () => {
    a.close();
    b.close();
  };
}

async function runAioloop(overDgram) {
  const { EventLoop, DatagramProtocol } = await import(new URL('../../packages/core/dist/index.js', import.meta.url).href);
  const net = await import(new URL('../../packages/net/dist/index.js', import.meta.url).href);
  const options = async () => {
    if (!overDgram) return { localAddr: [HOST, 0] };
    const sock = dgram.createSocket('udp4');
    await new Promise((resolve) => sock.bind(0, HOST, resolve));
    return { sock };
  };
  class Echo extends DatagramProtocol {
    connectionMade(transport) {
      this.transport = transport;
    }
    datagramReceived(data, addr) {
      received++;
      this.transport.sendto(data, addr);
    }
  }
  const loop = new EventLoop({ debug: false });
  const creating = loop.createTask(async () => {
    const [a] = await loop.createDatagramEndpoint(() => new Echo(), await options());
    const [b] = await loop.createDatagramEndpoint(() => new Echo(), await options());
    for (const t of [a, b]) {
      const sock = t.getExtraInfo('socket');
      if (sock instanceof net.Socket) sock.setsockopt(net.SOL_SOCKET, net.SO_RCVBUF, 1 << 20);
      else sock.setRecvBufferSize(1 << 20);
    }
    const payload = Buffer.alloc(size, 1);
    for (let i = 0; i < window; i++) a.sendto(payload, b.getExtraInfo('sockname'));
    return [a, b];
  });
  void loop.runForever();
  const [a, b] = await creating;
  return () => {
    a.abort();
    b.abort();
    loop.stop();
  };
}

const stop = kind === 'dgram' ? await runDgram() : await runAioloop(kind === 'aioloop-dgram');
await new Promise((resolve) => setTimeout(resolve, warmup * 1000));
const startCount = received;
const startCpu = process.cpuUsage();
const start = process.hrtime.bigint();
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const count = received - startCount;
const cpu = process.cpuUsage(startCpu);
const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
stop();
process.stdout.write(`${JSON.stringify({ rate: count / elapsed, cpuPerDatagram: (cpu.user + cpu.system) / Math.max(count, 1) })}\n`);
process.exit(0);
