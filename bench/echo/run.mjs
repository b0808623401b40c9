#!/usr/bin/env node
// Echo benchmark: a Protocol echo server and a BufferedProtocol echo server on
// @aioloop/net, beside a raw Node `net` echo server, in the same run. Each
// server runs alone in its own process; the load comes from a separate client
// process. Needs the built packages: `npx -y pnpm@10.34.9 -r run build`.
//
// Usage: node bench/echo/run.mjs [--seconds 3] [--rounds 2] [--idle 2000] [--only protocol,buffered] [--sizes 1,10,100] [--no-write] [--cpu-prof]
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
const sizesIndex = args.indexOf('--sizes');
const SIZES = sizesIndex >= 0 ? args[sizesIndex + 1].split(',').filter((k) => k !== 'none').map((k) => Number(k) * 1024) : [1024, 10 * 1024, 100 * 1024];
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

async function startServer(kind, extraFlags = []) {
  const execArgv = ['--expose-gc', ...extraFlags];
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
        child.once('message', resolve);
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
    const per = (field) => (cpuAfter[field] - cpuBefore[field]) / Math.max(1, requests);
    return { rps: requests / seconds, mbps: bytes / seconds / 1e6, cpuPerReq: per('cpuMicros'), userPerReq: per('userMicros'), faultsPerReq: per('minorFaults'), switchesPerReq: per('voluntarySwitches') };
  } finally {
    await server.stop();
  }
}

/** Opens `count` idle connections; resolves once the server has them all, with the server's memory then and a close function. */
async function openIdle(server, count, kind) {
  const client = runClient(['idle', server.port, count]);
  const exited = new Promise((r) => client.once('exit', r));
  await readLine(client.stdout);
  // Wait until the server has every connection (protocols made).
  let mem = await server.mem();
  for (let i = 0; i < 50 && mem.connections < count; i++) {
    await new Promise((r) => setTimeout(r, 100));
    mem = await server.mem();
  }
  const close = async () => {
    client.stdin.end();
    await exited;
  };
  if (mem.connections < count) {
    await close();
    throw new Error(`${kind}: only ${mem.connections}/${count} connections reached the server`);
  }
  return { mem, close };
}

// V8 sizes the young generation by how much survives its scavenges, in
// doublings, and a connection storm crosses a doubling or not depending on GC
// timing: the same server measured 5.6 then 6.8 KiB per connection. That growth
// is the process's, not any connection's, so the figure the target is judged
// on runs every server with the young generation fixed at 1 MiB per semi-space
// (the same flags for all three); the default-sizing figure is reported beside it.
const FIXED_YOUNG_GEN = ['--min-semi-space-size=1', '--max-semi-space-size=1'];

async function measureMemory(kind, flags) {
  const server = await startServer(kind, flags);
  try {
    const before = await server.mem();
    const { mem: after, close } = await openIdle(server, IDLE, kind);
    await close();
    const perConnection = (a, b) => (a - b) / IDLE;
    return {
      rss: perConnection(after.rss, before.rss),
      heap: perConnection(after.heapUsed, before.heapUsed),
      external: perConnection(after.external, before.external),
      youngGen: perConnection(after.spaces.new_space ?? 0, before.spaces.new_space ?? 0),
      native: perConnection(after.rss - after.heapPhysical, before.rss - before.heapPhysical),
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
      console.error(`round ${round + 1} ${kind} ${size} B: ${result.mbps.toFixed(1)} MB/s, ${Math.round(result.rps)} req/s, ${result.cpuPerReq.toFixed(1)} µs server CPU/req (user ${result.userPerReq.toFixed(1)}), ${result.faultsPerReq.toFixed(2)} page faults/req, ${result.switchesPerReq.toFixed(2)} waits/req`);
    }
  }
}
const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
const memoryRuns = { fixed: {}, defaults: {} };
for (const kind of KINDS) {
  memoryRuns.fixed[kind] = [];
  memoryRuns.defaults[kind] = [];
}
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of KINDS) {
    memoryRuns.fixed[kind].push(await measureMemory(kind, FIXED_YOUNG_GEN));
    memoryRuns.defaults[kind].push(await measureMemory(kind, []));
  }
}
// Median of the rounds, field by field (a page more or less is ~0.1 KiB per connection).
const memory = {};
const memoryDefaults = {};
for (const kind of KINDS) {
  const pick = (runs) => Object.fromEntries(Object.keys(runs[0]).map((field) => [field, median(runs.map((r) => r[field]))]));
  memory[kind] = pick(memoryRuns.fixed[kind]);
  memoryDefaults[kind] = pick(memoryRuns.defaults[kind]);
  const show = (m) => JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v)])));
  console.error(`memory ${kind}: fixed young generation ${show(memory[kind])}; default sizing ${show(memoryDefaults[kind])}`);
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
lines.push(`| server | RSS per idle connection | vs raw net | JS heap | native (RSS outside the V8 heap) | external | RSS with V8's default young-generation sizing (of which young generation) |`);
lines.push('|---|---|---|---|---|---|---|');
for (const kind of KINDS) {
  const m = memory[kind];
  const d = memoryDefaults[kind];
  lines.push(
    `| ${LABEL[kind]} | ${kib(m.rss)} | ${(m.rss / memory.raw.rss).toFixed(2)}x | ${kib(m.heap)} | ${kib(m.native)} | ${kib(m.external)} | ${kib(d.rss)} (${kib(d.youngGen)}) |`,
  );
}
const table = lines.join('\n');

// Targets.
const ratio = (kind) => Math.min(...SIZES.map((s) => best(kind, s).mbps / best('raw', s).mbps));
const memRatio = (kind) => memory[kind].rss / memory.raw.rss;
const verdict = (ok) => (ok ? 'met' : 'NOT met');
const allServers = KINDS.includes('protocol') && KINDS.includes('buffered');
const targets = !allServers ? '- (partial run: targets need all three servers)' : [
  ...(SIZES.length === 0 ? ['- (no throughput run: --sizes none)'] : [
    `- Protocol server >= 0.95x raw net throughput at every size: worst ${ratio('protocol').toFixed(2)}x — ${verdict(ratio('protocol') >= 0.95)}.`,
    `- BufferedProtocol server >= 1.0x raw net throughput at every size: worst ${ratio('buffered').toFixed(2)}x — ${verdict(ratio('buffered') >= 1.0)}.`,
  ]),
  `- Per-connection memory (RSS, young generation fixed) within 10% of raw net: Protocol ${memRatio('protocol').toFixed(2)}x — ${verdict(memRatio('protocol') <= 1.1)}; BufferedProtocol ${memRatio('buffered').toFixed(2)}x — ${verdict(memRatio('buffered') <= 1.1)}.`,
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
      `the three servers alternating within each round. Server CPU per request: user+system CPU time of the server process during the counted window divided by the requests served (median of the rounds) — less sensitive to other load on the machine than MB/s. Memory: growth of the server process's RSS, JS heap, native memory (RSS outside the V8 heap) and external memory (after full GCs) with ${IDLE} idle ` +
      `connections open, divided by ${IDLE}; median of ${ROUNDS} rounds. Every server runs with the young generation fixed at 1 MiB per semi-space (\`${FIXED_YOUNG_GEN.join(' ')}\`, the same for all three) because V8 otherwise grows it in doublings whose timing decides up to ~1.5 KiB of the per-connection figure; the last column is the same measurement with V8's default sizing, and how much of it is young generation. ` +
      `The BufferedProtocol server holds no buffer per connection and copies nothing on the way out: the transport copies each read from its scratch buffer into the free tail of one shared 256 KiB slab (getBuffer), and bufferUpdated writes back a view of those bytes; transport.write keeps a reference until the bytes reach the kernel (as asyncio 3.12+), so the region is read into again only when getWriteBufferSize() is 0 right after the write, and a new slab starts when the tail is under 64 KiB.`,
    '',
    table,
    '',
    'Targets:',
    targets,
    '',
    `Load average when the run started: ${LOAD_AT_START.toFixed(1)} on ${os.cpus().length} CPUs (the machine is shared; MB/s moves with it, CPU per request much less). ` +
      'How noisy the machine is, where the time and memory go, and why the young generation is fixed: [bench/README.md](bench/README.md#echo-analysis).',
    '<!-- echo:end -->',
  ].join('\n');
  doc = /<!-- echo:start -->[\s\S]*<!-- echo:end -->/.test(doc)
    ? doc.replace(/<!-- echo:start -->[\s\S]*<!-- echo:end -->/, section)
    : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, doc);
  console.error(`updated ${fileURLToPath(path)}`);
}
