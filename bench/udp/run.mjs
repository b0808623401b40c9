#!/usr/bin/env node
// UDP datagrams per second: an aioloop datagram endpoint (asyncio's echo:
// datagramReceived -> transport.sendto) beside Node's dgram doing the same, each
// server alone in its own process, driven by the same separate client process.
// Needs the built packages: `npx -y pnpm@10.34.9 -r run build`.
// Usage: node bench/udp/run.mjs [--seconds 2] [--rounds 5] [--sizes 64,1024]
//        [--sockets 4] [--window 32] [--no-write]
// Without --no-write the "udp" section of BENCHMARKS.md is rewritten.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
}
const SECONDS = Number(option('seconds', '2'));
const ROUNDS = Number(option('rounds', '5'));
const WARMUP = 0.5;
const SIZES = option('sizes', '64,1024').split(',').map(Number);
const SOCKETS = Number(option('sockets', '4'));
const WINDOW = Number(option('window', '32'));
const WRITE = !args.includes('--no-write');
const KINDS = ['dgram', 'aioloop', 'aioloop-dgram'];
const LABEL = { dgram: 'Node `dgram`', aioloop: 'aioloop (default: native socket)', 'aioloop-dgram': 'aioloop over a dgram socket (sock=)' };
const LOAD_AT_START = os.loadavg()[0];

function lines(stream) {
  const iterator = createInterface({ input: stream })[Symbol.asyncIterator]();
  return async () => {
    const { value, done } = await iterator.next();
    if (done) throw new Error('process ended early');
    return value;
  };
}

function ask(child, message) {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(message);
  });
}

async function measure(kind, size) {
  const server = spawn(process.execPath, [`${here}server.mjs`, kind], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = Number(await lines(server.stdout)());
  const client = spawn(process.execPath, [`${here}client.mjs`, port, WARMUP, SECONDS, SOCKETS, WINDOW, size], { stdio: ['ignore', 'pipe', 'inherit'] });
  const next = lines(client.stdout);
  await next(); // warm
  const before = await ask(server, 'cpu');
  const result = JSON.parse(await next());
  const after = await ask(server, 'cpu');
  server.send('stop');
  await new Promise((resolve) => client.once('exit', resolve));
  const echoed = after.echoed - before.echoed;
  return {
    rate: result.echoed / result.seconds,
    lost: result.lost,
    cpuPerDatagram: (after.cpuMicros - before.cpuMicros) / Math.max(echoed, 1),
  };
}

async function measureInProcess(kind, size) {
  const child = spawn(process.execPath, [`${here}inproc.mjs`, kind, size, WARMUP, SECONDS, WINDOW * 2], { stdio: ['ignore', 'pipe', 'inherit'] });
  const result = JSON.parse(await lines(child.stdout)());
  await new Promise((resolve) => child.once('exit', resolve));
  return { ...result, lost: 0 };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const SCENARIOS = [
  { key: 'echo', label: 'echo server, separate client process', run: measure },
  { key: 'inproc', label: 'two endpoints in one process', run: measureInProcess },
];
const results = {};
for (const scenario of SCENARIOS) {
  for (const size of SIZES) {
    for (const kind of KINDS) results[`${scenario.key}/${kind}/${size}`] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? KINDS : [...KINDS].reverse();
      for (const kind of order) {
        const r = await scenario.run(kind, size);
        results[`${scenario.key}/${kind}/${size}`].push(r);
        console.log(`${scenario.key} ${size} B round ${round + 1} ${kind}: ${Math.round(r.rate)} datagrams/s, ${r.cpuPerDatagram.toFixed(2)} µs CPU each, ${r.lost} lost`);
      }
    }
  }
}

const rows = [];
const verdicts = [];
for (const scenario of SCENARIOS) {
  for (const size of SIZES) {
    const base = results[`${scenario.key}/dgram/${size}`];
    const baseRate = Math.max(...base.map((r) => r.rate));
    const baseCpu = median(base.map((r) => r.cpuPerDatagram));
    for (const kind of KINDS) {
      const rs = results[`${scenario.key}/${kind}/${size}`];
      const rate = Math.max(...rs.map((r) => r.rate));
      const cpu = median(rs.map((r) => r.cpuPerDatagram));
      const lost = scenario.key === 'echo' ? String(rs.reduce((n, r) => n + r.lost, 0)) : '-';
      rows.push(`| ${scenario.label} | ${size} B | ${LABEL[kind]} | ${Math.round(rate)} | ${(rate / baseRate).toFixed(2)}x | ${cpu.toFixed(2)} µs | ${(cpu / baseCpu).toFixed(2)}x | ${lost} |`);
      if (kind !== 'dgram') verdicts.push(`${LABEL[kind]}, ${scenario.label}, ${size} B: ${(rate / baseRate).toFixed(2)}x datagrams/s, ${(cpu / baseCpu).toFixed(2)}x CPU per datagram — ${rate / baseRate >= 0.95 ? 'met' : 'NOT met'}`);
    }
  }
}

const cpu = os.cpus();
const section = [
  '<!-- udp:start -->',
  '## UDP datagrams (`bench/udp`)',
  '',
  `Command: \`npx -y pnpm@10.34.9 -r run build && node bench/udp/run.mjs --seconds ${SECONDS} --rounds ${ROUNDS}\`. Machine: ${os.platform()} ${os.arch()}, ${cpu.length} CPUs (${cpu[0]?.model.trim()}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. Load average when the run started: ${LOAD_AT_START.toFixed(1)}.`,
  '',
  `Each echo server runs alone in its own process: Node \`dgram\` (\`socket.on('message', (d, r) => socket.send(d, r.port, r.address))\`) or an aioloop endpoint (\`loop.createDatagramEndpoint\`, \`datagramReceived(data, addr)\` → \`transport.sendto(data, addr)\`) made the default way (over a native socket, since @aioloop/native-sockets loads) or given a bound \`dgram.Socket\` as \`sock\` (the path taken without the native part: sends and receives through dgram's libuv handle), all unconnected on 127.0.0.1. A separate Node process drives it with ${SOCKETS} connected \`dgram\` sockets, each keeping ${WINDOW} datagrams in flight (a new one leaves when an echo arrives). Datagrams/s: echoes counted by the client in ${SECONDS} s after a ${WARMUP} s warm-up, best of ${ROUNDS} rounds with the servers alternating inside each round. Server CPU per datagram: user+system CPU of the server process over the counted window divided by the datagrams it echoed (median of the rounds; less sensitive to other load on the machine). Given up: echoes the client stopped waiting for after 1 s without any echo on that socket (lost, or the process not scheduled for that long), summed over the rounds. *Two endpoints in one process*: two endpoints of the same kind bounce ${WINDOW * 2} datagrams between them (each echoes what it receives), so the process does all the work of both sides and never waits for another process; datagrams/s counts what both ends received, CPU per datagram is the whole process's.`,
  '',
  '| scenario | datagram | implementation | datagrams/s | vs dgram | CPU per datagram (median) | CPU vs dgram | given up |',
  '|---|---|---|---:|---:|---:|---:|---:|',
  ...rows,
  '',
  'Target: aioloop >= 0.95x `dgram` datagrams/s:',
  ...verdicts.map((v) => `- ${v}`),
  '<!-- udp:end -->',
].join('\n');
console.log(`\n${section}`);
if (WRITE) {
  const path = new URL('../../BENCHMARKS.md', import.meta.url);
  const doc = readFileSync(path, 'utf8');
  const next = doc.includes('<!-- udp:start -->') ? doc.replace(/<!-- udp:start -->[\s\S]*<!-- udp:end -->/, section) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
  console.log('BENCHMARKS.md updated');
}
