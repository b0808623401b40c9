#!/usr/bin/env node
/**
 * Soak benchmarks (on demand, not part of `npm test`); results go in RELIABILITY.md.
 *   node bench/soak/run.mjs hold  [--connections 10000] [--seconds 60]   many connections held, each echoing 64 B a second
 *   node bench/soak/run.mjs slow  [--seconds 60]                         one client reading one buffered chunk per 100 ms from a server that writes as fast as flow control allows
 *   node bench/soak/run.mjs churn [--count 1000000] [--concurrency 50]   short-lived connections: connect, echo 1 byte, close
 * The server (server.mts, run from the sources through tsx) prints a memory/fd/handle
 * sample every second; this script prints them and a verdict. Children run with
 * `ulimit -n` raised to the hard limit (checked first).
 */
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const [mode = 'hold', ...rest] = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? Number(rest[i + 1]) : fallback;
};
const hard = Number(spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim());
const fdLimit = Number.isFinite(hard) ? hard : 1024;

function startServer(kind) {
  const child = spawn('sh', ['-c', `ulimit -n ${fdLimit} && exec "${process.execPath}" --import tsx "${here}server.mts" ${kind}`], {
    env: { ...process.env, TSX_TSCONFIG_PATH: `${here}tsconfig.json` },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const samples = [];
  let buffered = '';
  let resolvePort;
  const port = new Promise((r) => (resolvePort = r));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    buffered += text;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.startsWith('port ')) resolvePort(Number(line.slice(5)));
      else if (line.startsWith('{')) samples.push(JSON.parse(line));
    }
  });
  const exited = new Promise((r) => child.on('close', r));
  return { port, samples, stop: async () => (child.stdin.end(), await exited) };
}

const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function hold() {
  const connections = opt('connections', 10000);
  const seconds = opt('seconds', 60);
  if (connections + 100 > fdLimit) throw new Error(`ulimit -n is ${fdLimit}: too low for ${connections} connections in one process`);
  const server = startServer('echo');
  const port = await server.port;
  const sockets = [];
  // In batches, each confirmed by an echo: the kernel's accept queue (somaxconn)
  // must not overflow, or the extra handshakes wait for SYN-ACK retransmits.
  const served = (s) => new Promise((resolve) => (s.once('data', resolve), s.write('!')));
  for (let i = 0; i < connections; i += 500) {
    const batch = await Promise.all(Array.from({ length: Math.min(500, connections - i) }, () => connect(port)));
    await Promise.all(batch.map(served));
    sockets.push(...batch);
  }
  let echoed = 0;
  let wrong = 0;
  const message = Buffer.alloc(64, 0x62);
  for (const s of sockets) s.on('data', (d) => (d.every((b) => b === 0x62) ? (echoed += d.length) : wrong++));
  console.log(`hold: ${sockets.length} connections open; each sends 64 B a second for ${seconds} s`);
  const started = Date.now();
  let round = 0;
  while (Date.now() - started < seconds * 1000) {
    for (const s of sockets) s.write(message);
    round++;
    await sleep(1000);
  }
  await sleep(2000);
  for (const s of sockets) s.destroy();
  await sleep(2000);
  await server.stop();
  report(server.samples, { sent: round * sockets.length * 64, echoed, wrong });
}

async function slow() {
  const seconds = opt('seconds', 60);
  const server = startServer('flood');
  const port = await server.port;
  const s = net.connect({ port, host: '127.0.0.1' });
  s.pause();
  let got = 0;
  const started = Date.now();
  while (Date.now() - started < seconds * 1000) {
    await sleep(100);
    const chunk = s.read(); // what Node buffered for it: at most its high-water mark
    if (chunk !== null) got += chunk.length;
  }
  s.destroy();
  await sleep(1000);
  await server.stop();
  console.log(`slow: the client read ${mb(got)} in ${seconds} s (one chunk per 100 ms)`);
  report(server.samples, {});
}

async function churn() {
  const count = opt('count', 1_000_000);
  const concurrency = opt('concurrency', 50);
  const server = startServer('echo');
  const port = await server.port;
  let done = 0;
  let failed = 0;
  const started = Date.now();
  const one = () =>
    new Promise((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => s.write('x'));
      s.once('data', () => s.end());
      s.once('error', () => (failed++, resolve()));
      s.once('close', () => resolve());
    });
  let next = 0;
  let lastPrint = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        await one();
        done++;
        if (Date.now() - lastPrint > 10_000) {
          lastPrint = Date.now();
          console.log(`churn: ${done} connections, ${Math.round(done / ((Date.now() - started) / 1000))}/s`);
        }
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  await sleep(3000);
  await server.stop();
  console.log(`churn: ${done} connections (${failed} failed) in ${seconds.toFixed(0)} s, ${Math.round(done / seconds)}/s`);
  report(server.samples, {});
}

function report(samples, extra) {
  if (samples.length < 2) {
    console.log('too few samples');
    return;
  }
  const first = samples[0];
  const last = samples.at(-1);
  const warm = samples[Math.min(samples.length - 1, Math.max(1, Math.floor(samples.length / 6)))];
  const peak = samples.reduce((m, s) => (s.rss > m.rss ? s : m));
  console.log('t(s)  rss       heapUsed  fds    handles open   made     lost     queued');
  const step = Math.max(1, Math.floor(samples.length / 12));
  for (let i = 0; i < samples.length; i += step) {
    const s = samples[i];
    console.log(`${String(s.t).padEnd(5)} ${mb(s.rss).padEnd(9)} ${mb(s.heapUsed).padEnd(9)} ${String(s.fds).padEnd(6)} ${String(s.handles).padEnd(7)} ${String(s.open).padEnd(6)} ${String(s.made).padEnd(8)} ${String(s.lost).padEnd(8)} ${mb(s.queued)}`);
  }
  console.log(`last  ${mb(last.rss).padEnd(9)} ${mb(last.heapUsed).padEnd(9)} ${String(last.fds).padEnd(6)} ${String(last.handles).padEnd(7)} ${String(last.open).padEnd(6)} ${String(last.made).padEnd(8)} ${String(last.lost).padEnd(8)} ${mb(last.queued)}`);
  console.log(`rss after warm-up ${mb(warm.rss)}, peak ${mb(peak.rss)} at ${peak.t} s, at the end ${mb(last.rss)}; fds ${first.fds} at the start, ${last.fds} at the end; handles ${first.handles} -> ${last.handles}; made ${last.made}, lost ${last.lost}`);
  if (Object.keys(extra).length) console.log(JSON.stringify(extra));
}

await { hold, slow, churn }[mode]();
