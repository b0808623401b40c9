#!/usr/bin/env node
// Echo benchmark: a Protocol echo server and a BufferedProtocol echo server on
// @aioloop/net, beside a raw Node `net` echo server, in the same run. Each
// server runs alone in its own process; the load comes from a separate client
// process. Needs the built packages: `npx -y pnpm@10.34.9 -r run build`.
//
// Usage: node bench/echo/run.mjs [--seconds 3] [--rounds 2] [--idle 2000] [--only protocol,buffered] [--no-write] [--cpu-prof]
//   Writes the "echo" section of BENCHMARKS.md (between <!-- echo:start --> and
//   <!-- echo:end -->) unless --no-write. --cpu-prof writes V8 CPU profiles of the
//   aioloop servers under bench/echo/profiles/.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}
const SECONDS = option('seconds', 3);
const ROUNDS = option('rounds', 2);
const IDLE = option('idle', 2000);
const CONNECTIONS = 10;
const WARMUP = 0.5;
const SIZES = [1024, 10 * 1024, 100 * 1024];
const onlyIndex = args.indexOf('--only');
const KINDS = onlyIndex >= 0 ? ['raw', ...args[onlyIndex + 1].split(',').filter((k) => k !== 'raw')] : ['raw', 'protocol', 'buffered'];
const LABEL = { raw: 'raw Node `net`', protocol: 'aioloop Protocol', buffered: 'aioloop BufferedProtocol' };
const WRITE = !args.includes('--no-write');
const LOAD_AT_START = os.loadavg()[0];
const CPU_PROF = args.includes('--cpu-prof');

for (const pkg of ['core', 'net']) {
  if (!existsSync(new URL(`../../packages/${pkg}/dist/index.js`, import.meta.url))) {
    console.error(`packages/${pkg}/dist is missing: build first with  npx -y pnpm@10.34.9 -r run build`);
    process.exit(1);
  }
}

function readLine(stream) {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d) => {
      text += d.toString();
      const nl = text.indexOf('\n');
      if (nl >= 0) {
        stream.off('data', onData);
        resolve(text.slice(0, nl));
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`stream ended before a line: ${text}`)));
  });
}

async function startServer(kind) {
  const execArgv = ['--expose-gc'];
  if (CPU_PROF) {
    const dir = `${here}profiles`;
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${kind}-${Date.now()}.cpuprofile`);
  }
  const child = spawn(process.execPath, [...execArgv, `${here}server.mjs`, kind], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = Number(await readLine(child.stdout));
  return {
    port,
    mem: () =>
      new Promise((resolve) => {
        child.once('message', resolve);
        child.send('mem');
      }),
    cpu: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve(m.cpuMicros));
        child.send('cpu');
      }),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.send('stop');
      }),
  };
}

function runClient(argv) {
  const child = spawn(process.execPath, [`${here}client.mjs`, ...argv.map(String)], { stdio: ['pipe', 'pipe', 'inherit'] });
  return child;
}

async function measureThroughput(kind, size) {
  const server = await startServer(kind);
  try {
    const client = runClient(['load', server.port, size, CONNECTIONS, SECONDS, WARMUP]);
    // Listen for the exit now: the client may exit while we wait for the server's CPU figure.
    const exited = new Promise((r) => client.once('exit', r));
    client.stdin.end();
    // Server CPU time over the counted window (the client waits WARMUP before counting).
    await new Promise((r) => setTimeout(r, WARMUP * 1000));
    const cpuBefore = await server.cpu();
    const line = await readLine(client.stdout);
    const cpuAfter = await server.cpu();
    await exited;
    const { requests, bytes, seconds } = JSON.parse(line);
    return { rps: requests / seconds, mbps: bytes / seconds / 1e6, cpuPerReq: (cpuAfter - cpuBefore) / Math.max(1, requests) };
  } finally {
    await server.stop();
  }
}

async function measureMemory(kind) {
  const server = await startServer(kind);
  try {
    const before = await server.mem();
    const client = runClient(['idle', server.port, IDLE]);
    const exited = new Promise((r) => client.once('exit', r));
    await readLine(client.stdout);
    // Wait until the server has every connection (protocols made).
    let after = await server.mem();
    for (let i = 0; i < 50 && after.connections < IDLE; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await server.mem();
    }
    client.stdin.end();
    await exited;
    if (after.connections < IDLE) throw new Error(`${kind}: only ${after.connections}/${IDLE} connections reached the server`);
    return {
      rss: (after.rss - before.rss) / IDLE,
      heap: (after.heapUsed - before.heapUsed) / IDLE,
      external: (after.external - before.external) / IDLE,
    };
  } finally {
    await server.stop();
  }
}

const throughput = {};
for (const size of SIZES) {
  for (const kind of KINDS) throughput[`${kind}:${size}`] = [];
}
for (let round = 0; round < ROUNDS; round++) {
  for (const size of SIZES) {
    // Servers alternate inside a round so background load hits them alike.
    for (const kind of KINDS) {
      const result = await measureThroughput(kind, size);
      throughput[`${kind}:${size}`].push(result);
      console.error(`round ${round + 1} ${kind} ${size} B: ${result.mbps.toFixed(1)} MB/s, ${Math.round(result.rps)} req/s, ${result.cpuPerReq.toFixed(1)} µs server CPU/req`);
    }
  }
}
const memory = {};
for (const kind of KINDS) {
  const runs = [];
  for (let round = 0; round < ROUNDS; round++) runs.push(await measureMemory(kind));
  // Lowest per-connection cost of the rounds (GC timing only ever adds).
  memory[kind] = {
    rss: Math.min(...runs.map((r) => r.rss)),
    heap: Math.min(...runs.map((r) => r.heap)),
    external: Math.min(...runs.map((r) => r.external)),
  };
  console.error(`memory ${kind}: ${JSON.stringify(memory[kind])}`);
}

const best = (kind, size) => {
  const runs = throughput[`${kind}:${size}`];
  return runs.reduce((a, b) => (b.mbps > a.mbps ? b : a));
};
const cpuMedian = (kind, size) => {
  const values = throughput[`${kind}:${size}`].map((r) => r.cpuPerReq).sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)];
};
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const lines = [];
lines.push(`| message | server | MB/s | req/s | vs raw net | server CPU per request (median) | CPU vs raw net |`);
lines.push('|---|---|---|---|---|---|---|');
for (const size of SIZES) {
  const raw = best('raw', size);
  const rawCpu = cpuMedian('raw', size);
  for (const kind of KINDS) {
    const r = best(kind, size);
    const cpu = cpuMedian(kind, size);
    lines.push(`| ${size / 1024} KiB | ${LABEL[kind]} | ${r.mbps.toFixed(1)} | ${Math.round(r.rps)} | ${(r.mbps / raw.mbps).toFixed(2)}x | ${cpu.toFixed(1)} µs | ${(cpu / rawCpu).toFixed(2)}x |`);
  }
}
lines.push('');
lines.push(`| server | RSS per idle connection | JS heap per idle connection | external per idle connection | RSS vs raw net |`);
lines.push('|---|---|---|---|---|');
for (const kind of KINDS) {
  const m = memory[kind];
  lines.push(`| ${LABEL[kind]} | ${kib(m.rss)} | ${kib(m.heap)} | ${kib(m.external)} | ${(m.rss / memory.raw.rss).toFixed(2)}x |`);
}
const table = lines.join('\n');

// Targets.
const ratio = (kind) => Math.min(...SIZES.map((s) => best(kind, s).mbps / best('raw', s).mbps));
const memRatio = (kind) => memory[kind].rss / memory.raw.rss;
const verdict = (ok) => (ok ? 'met' : 'NOT met');
const targets = !(KINDS.includes('protocol') && KINDS.includes('buffered')) ? '- (partial run: targets need all three servers)' : [
  `- Protocol server >= 0.95x raw net throughput at every size: worst ${ratio('protocol').toFixed(2)}x — ${verdict(ratio('protocol') >= 0.95)}.`,
  `- BufferedProtocol server >= 1.0x raw net throughput at every size: worst ${ratio('buffered').toFixed(2)}x — ${verdict(ratio('buffered') >= 1.0)}.`,
  `- Per-connection memory (RSS) within 10% of raw net: Protocol ${memRatio('protocol').toFixed(2)}x — ${verdict(memRatio('protocol') <= 1.1)}; BufferedProtocol ${memRatio('buffered').toFixed(2)}x — ${verdict(memRatio('buffered') <= 1.1)}.`,
].join('\n');

console.log(table);
console.log();
console.log(targets);

if (WRITE) {
  const path = new URL('../../BENCHMARKS.md', import.meta.url);
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n\nRun on demand; never part of the test suite.\n';
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const section = [
    '<!-- echo:start -->',
    '## TCP echo servers (`bench/echo`)',
    '',
    `Command: \`npx -y pnpm@10.34.9 -r run build && node bench/echo/run.mjs${args.length ? ` ${args.join(' ')}` : ''}\`. ` +
      `Machine: ${process.platform} ${process.arch}, ${os.cpus().length} × ${cpu}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `Each server runs alone in its own process; a separate Node process drives it. Throughput: ${CONNECTIONS} connections on 127.0.0.1, ` +
      `each sending one message and waiting for the whole echo before the next, for ${SECONDS} s after a ${WARMUP} s warm-up; best of ${ROUNDS} rounds, ` +
      `the three servers alternating within each round. Server CPU per request: user+system CPU time of the server process during the counted window divided by the requests served (median of the rounds) — less sensitive to other load on the machine than MB/s. Memory: RSS / JS heap / external growth of the server process (after full GCs) with ${IDLE} idle ` +
      `connections open, divided by ${IDLE}; lowest of ${ROUNDS} rounds. The BufferedProtocol server reads every connection into one shared 64 KiB buffer; bufferUpdated copies the bytes out (Buffer.allocUnsafe + copy) and writes the copy, since transport.write keeps a reference to what it is given (as asyncio 3.12+).`,
    '',
    table,
    '',
    'Targets:',
    targets,
    '',
    `Load average when the run started: ${LOAD_AT_START.toFixed(1)} on ${os.cpus().length} CPUs (the machine is shared; MB/s moves with it, CPU per request much less). ` +
      'Where the time and memory go, and what would close the gaps: [bench/README.md](bench/README.md#echo-analysis).',
    '<!-- echo:end -->',
  ].join('\n');
  doc = /<!-- echo:start -->[\s\S]*<!-- echo:end -->/.test(doc)
    ? doc.replace(/<!-- echo:start -->[\s\S]*<!-- echo:end -->/, section)
    : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, doc);
  console.error(`updated ${fileURLToPath(path)}`);
}
