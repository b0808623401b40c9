#!/usr/bin/env node
// Subprocess benchmark: aioloop's loop.subprocessExec() beside Node's
// child_process.spawn() in the same process, alternating inside each round
// (the machine may be shared), best of N rounds.
//   - spawn+reap: /bin/true with three pipes, CONCURRENCY at a time; done when
//     the process exited and every pipe closed (Node: 'close'; aioloop:
//     connectionLost). Reported as processes per second.
//   - pipe read: a child writes READ_MIB MiB to stdout (head -c ... /dev/zero);
//     we count the bytes. MiB/s.
//   - pipe echo: we write ECHO_MIB MiB to /bin/cat's stdin with flow control
//     (Node: write() + 'drain'; aioloop: pauseWriting/resumeWriting) and read it
//     back from its stdout. MiB/s of payload.
// Needs the built packages: `npx -y pnpm@10.34.9 -r run build`.
// Usage: node bench/subprocess/run.mjs [--write] [--rounds N]   (--write updates BENCHMARKS.md)
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const { EventLoop, SubprocessProtocol } = await import('../../packages/core/dist/index.js');
await import('../../packages/subprocess/dist/index.js');

const args = process.argv.slice(2);
const WRITE = args.includes('--write');
const ROUNDS = Number(args[args.indexOf('--rounds') + 1]) || (args.includes('--rounds') ? 3 : 7);
const SPAWNS = 400;
const CONCURRENCY = 20;
const READ_MIB = 256;
const ECHO_MIB = 128;
const CHUNK = Buffer.alloc(1024 * 1024, 0x61);

// ------------------------------------------------------------------ Node

function nodeSpawnOnce() {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/true', [], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.on('error', reject);
    child.on('close', resolve);
  });
}

async function nodeSpawnRate() {
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < SPAWNS) {
      next++;
      await nodeSpawnOnce();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return SPAWNS / ((performance.now() - start) / 1000);
}

function nodeRead() {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('head', ['-c', String(READ_MIB * 1024 * 1024), '/dev/zero'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let bytes = 0;
    child.stdout.on('data', (d) => (bytes += d.length));
    child.on('error', reject);
    child.on('close', () => {
      if (bytes !== READ_MIB * 1024 * 1024) reject(new Error(`node read: got ${bytes} bytes`));
      else resolve(READ_MIB / ((performance.now() - start) / 1000));
    });
  });
}

function nodeEcho() {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('/bin/cat', [], { stdio: ['pipe', 'pipe', 'ignore'] });
    let bytes = 0;
    child.stdout.on('data', (d) => (bytes += d.length));
    child.on('error', reject);
    child.on('close', () => {
      if (bytes !== ECHO_MIB * 1024 * 1024) reject(new Error(`node echo: got ${bytes} bytes`));
      else resolve(ECHO_MIB / ((performance.now() - start) / 1000));
    });
    let sent = 0;
    const pump = () => {
      while (sent < ECHO_MIB) {
        sent++;
        if (!child.stdin.write(CHUNK)) {
          child.stdin.once('drain', pump);
          return;
        }
      }
      child.stdin.end();
    };
    pump();
  });
}

// ---------------------------------------------------------------- aioloop

class Counter extends SubprocessProtocol {
  constructor(onDone, onReady) {
    super();
    this.bytes = 0;
    this.onDone = onDone;
    this.onReady = onReady;
    this.paused = false;
    this.onResume = null;
  }
  connectionMade(transport) {
    this.onReady?.(transport, this);
  }
  pipeDataReceived(_fd, data) {
    this.bytes += data.length;
  }
  pauseWriting() {
    this.paused = true;
  }
  resumeWriting() {
    this.paused = false;
    const cb = this.onResume;
    this.onResume = null;
    cb?.();
  }
  connectionLost() {
    this.onDone(this.bytes);
  }
}

// Protocol style: the transport arrives in connectionMade, the end in
// connectionLost; the returned Future is only watched for a start failure.
function exec(loop, program, argv, options, onReady) {
  return new Promise((resolve, reject) => {
    const started = loop.subprocessExec(() => new Counter(resolve, onReady), program, argv, options);
    started.addDoneCallback((f) => {
      if (f.exception()) reject(f.exception());
    });
  });
}

async function aioSpawnRate(loop) {
  return loop.runUntilComplete(async () => {
    const start = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < SPAWNS) {
        next++;
        await exec(loop, '/bin/true', []);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return SPAWNS / ((performance.now() - start) / 1000);
  });
}

async function aioRead(loop) {
  return loop.runUntilComplete(async () => {
    const start = performance.now();
    const bytes = await exec(loop, 'head', ['-c', String(READ_MIB * 1024 * 1024), '/dev/zero'], { stdin: 'devnull', stderr: 'devnull' });
    if (bytes !== READ_MIB * 1024 * 1024) throw new Error(`aioloop read: got ${bytes} bytes`);
    return READ_MIB / ((performance.now() - start) / 1000);
  });
}

async function aioEcho(loop) {
  return loop.runUntilComplete(async () => {
    const start = performance.now();
    const bytes = await exec(loop, '/bin/cat', [], { stderr: 'devnull' }, (transport, protocol) => {
      const stdin = transport.getPipeTransport(0);
      let sent = 0;
      const pump = () => {
        while (sent < ECHO_MIB) {
          sent++;
          stdin.write(CHUNK);
          if (protocol.paused) {
            protocol.onResume = pump;
            return;
          }
        }
        stdin.close();
      };
      pump();
    });
    if (bytes !== ECHO_MIB * 1024 * 1024) throw new Error(`aioloop echo: got ${bytes} bytes`);
    return ECHO_MIB / ((performance.now() - start) / 1000);
  });
}

// -------------------------------------------------------------------- run

const loop = new EventLoop();
const loadAtStart = loadavg()[0];
const results = { spawn: { node: [], aio: [] }, read: { node: [], aio: [] }, echo: { node: [], aio: [] } };
// CPU time of this process per unit of work (µs per process, ms per 100 MiB):
// less sensitive to other load on the machine than the rates.
const cpu = { spawn: { node: [], aio: [] }, read: { node: [], aio: [] }, echo: { node: [], aio: [] } };
const UNITS = { spawn: SPAWNS, read: READ_MIB / 100, echo: ECHO_MIB / 100 };
const CPU_SCALE = { spawn: 1, read: 1000, echo: 1000 };
// Warm-up (JIT, page cache), not recorded.
await nodeSpawnRate();
await aioSpawnRate(loop);
await nodeRead();
await aioRead(loop);
for (let round = 0; round < ROUNDS; round++) {
  const aioFirst = round % 2 === 1;
  const measure = async (name, who, fn) => {
    const before = process.cpuUsage();
    results[name][who].push(await fn());
    const used = process.cpuUsage(before);
    cpu[name][who].push((used.user + used.system) / UNITS[name] / CPU_SCALE[name]);
  };
  const pair = async (name, nodeFn, aioFn) => {
    if (aioFirst) {
      await measure(name, 'aio', () => aioFn(loop));
      await measure(name, 'node', nodeFn);
    } else {
      await measure(name, 'node', nodeFn);
      await measure(name, 'aio', () => aioFn(loop));
    }
  };
  await pair('spawn', nodeSpawnRate, aioSpawnRate);
  await pair('read', nodeRead, aioRead);
  await pair('echo', nodeEcho, aioEcho);
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
}
loop.close();

const best = (xs) => Math.max(...xs);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = [
  ['spawn+reap (/bin/true, 3 pipes, 20 at a time)', 'processes/s', 'spawn', 'µs per process'],
  [`pipe read (${READ_MIB} MiB from the child's stdout)`, 'MiB/s', 'read', 'ms per 100 MiB'],
  [`pipe echo (${ECHO_MIB} MiB through /bin/cat, flow-controlled)`, 'MiB/s', 'echo', 'ms per 100 MiB'],
];
const lines = [];
lines.push('| benchmark | unit | Node child_process | aioloop | ratio | target >= 0.95x | our CPU, Node / aioloop (median) |');
lines.push('|---|---|---:|---:|---:|---|---|');
let allMet = true;
for (const [label, unit, key, cpuUnit] of rows) {
  const n = best(results[key].node);
  const a = best(results[key].aio);
  const ratio = a / n;
  const met = ratio >= 0.95;
  allMet &&= met;
  const cn = median(cpu[key].node);
  const ca = median(cpu[key].aio);
  lines.push(
    `| ${label} | ${unit} | ${n.toFixed(0)} | ${a.toFixed(0)} | ${ratio.toFixed(2)}x | ${met ? 'met' : 'NOT met'} | ` +
      `${cn.toFixed(0)} / ${ca.toFixed(0)} ${cpuUnit} (${(ca / cn).toFixed(2)}x) |`,
  );
}
const table = lines.join('\n');
console.log(table);
console.log(allMet ? 'all targets met' : 'some targets NOT met');

if (WRITE) {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const file = `${root}BENCHMARKS.md`;
  const section = [
    '<!-- subprocess:start -->',
    '## Subprocesses (`bench/subprocess`)',
    '',
    `Command: \`node bench/subprocess/run.mjs --write\` (after \`npx -y pnpm@10.34.9 -r run build\`). ` +
      `Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${new Date().toISOString().slice(0, 10)}; ` +
      `best of ${ROUNDS} rounds, Node and aioloop alternating in the same process. ` +
      `Load average when the run started: ${loadAtStart.toFixed(1)} (the machine is shared; rates move with it, CPU per unit much less).`,
    '',
    table,
    '',
    'What is measured: spawn+reap ends when the process exited and every pipe closed (Node: `close`; ' +
      'aioloop: `connectionLost`). Pipe read counts bytes in `pipeDataReceived` vs `data` events. Pipe echo ' +
      'writes 1 MiB chunks to stdin with flow control (aioloop: `pauseWriting`/`resumeWriting`; Node: ' +
      '`write()` + `drain`) and reads them back. The aioloop side uses the protocol API and the returned ' +
      'Future only to catch start errors.',

    '<!-- subprocess:end -->',
  ].join('\n');
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const re = /<!-- subprocess:start -->[\s\S]*?<!-- subprocess:end -->/;
  text = re.test(text) ? text.replace(re, section) : `${text.replace(/\n*$/, '\n')}\n${section}\n`;
  writeFileSync(file, text);
  console.log(`updated ${file}`);
}
