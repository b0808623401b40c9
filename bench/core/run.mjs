#!/usr/bin/env node
// Core loop benchmark: callbacks dispatched per second through callSoon (a chain,
// where each callback schedules the next, and a batch scheduled up front) and
// timers scheduled+fired per second, beside Node's setImmediate/setTimeout in the
// same process. Needs the built core: `npx -y pnpm@10.34.9 --filter @aioloop/core run build`.
// Usage: node bench/core/run.mjs [--write]   (--write updates BENCHMARKS.md)
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import net from 'node:net';
const { EventLoop } = await import(process.env.AIOLOOP_CORE_DIST ?? '../../packages/core/dist/index.js');

const N_CHAIN = 2_000_000;
const N_BATCH = 2_000_000;
const N_TIMERS = 1_000_000;
const N_TASK_WAKEUPS = 500_000;
const ROUNDS = 3;

function best(results) {
  return Math.max(...results);
}

async function nodeImmediateChain(n) {
  return new Promise((resolve) => {
    let i = 0;
    const start = performance.now();
    const step = () => {
      if (++i < n) setImmediate(step);
      else resolve(n / ((performance.now() - start) / 1000));
    };
    setImmediate(step);
  });
}

async function nodeImmediateBatch(n) {
  return new Promise((resolve) => {
    let i = 0;
    const start = performance.now();
    const step = () => {
      if (++i === n) resolve(n / ((performance.now() - start) / 1000));
    };
    for (let k = 0; k < n; k++) setImmediate(step);
  });
}

async function loopChain(n) {
  const loop = new EventLoop({ debug: false });
  let i = 0;
  let start = 0;
  const step = () => {
    if (++i < n) loop.callSoon(step);
    else loop.stop();
  };
  loop.callSoon(() => {
    start = performance.now();
    loop.callSoon(step);
  });
  await loop.runForever();
  const rate = n / ((performance.now() - start) / 1000);
  loop.close();
  return rate;
}

async function loopBatch(n) {
  const loop = new EventLoop({ debug: false });
  let i = 0;
  const step = () => {
    if (++i === n) loop.stop();
  };
  const start = performance.now();
  for (let k = 0; k < n; k++) loop.callSoon(step);
  await loop.runForever();
  const rate = n / ((performance.now() - start) / 1000);
  loop.close();
  return rate;
}

async function nodeTimers(n) {
  return new Promise((resolve) => {
    let fired = 0;
    const start = performance.now();
    const cb = () => {
      if (++fired === n) resolve({ seconds: (performance.now() - start) / 1000 });
    };
    for (let k = 0; k < n; k++) setTimeout(cb, Math.random() * 100);
  });
}

async function loopTimers(n) {
  const loop = new EventLoop({ debug: false });
  let fired = 0;
  const cb = () => {
    if (++fired === n) loop.stop();
  };
  const start = performance.now();
  for (let k = 0; k < n; k++) loop.callLater(Math.random() * 0.1, cb);
  await loop.runForever();
  const seconds = (performance.now() - start) / 1000;
  loop.close();
  return { seconds };
}

/** A task awaits a pending future N times; a callback completes each (task wake-ups per second). */
async function loopTaskWakeups(n) {
  const loop = new EventLoop({ debug: false });
  const complete = (future) => future.setResult(undefined);
  let rate = 0;
  loop.createTask(async () => {
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const future = loop.createFuture();
      loop.callSoon(complete, future);
      await future;
    }
    rate = n / ((performance.now() - start) / 1000);
  });
  await loop.runUntilComplete(loop.createTask(async () => {
    while (rate === 0) await new Promise((resolve) => setImmediate(resolve));
  }));
  loop.close();
  return rate;
}

/** The same with an async function awaiting a promise resolved from setImmediate. */
async function nodeAwaitImmediate(n) {
  const start = performance.now();
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  return n / ((performance.now() - start) / 1000);
}

/** While a callSoon chain runs, how late do a socket's bytes arrive? (max gap in ms) */
async function ioLatencyUnderChain() {
  const server = net.createServer((s) => s.on('data', (d) => s.write(d)));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  const client = net.connect(port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  const loop = new EventLoop({ debug: false });
  let spinning = true;
  const spin = () => {
    if (spinning) loop.callSoon(spin);
  };
  const latencies = [];
  let sentAt = 0;
  client.on('data', () => {
    latencies.push(performance.now() - sentAt);
    if (latencies.length < 200) {
      sentAt = performance.now();
      client.write('x');
    } else {
      spinning = false;
      loop.callSoon(() => loop.stop());
    }
  });
  loop.callSoon(spin);
  loop.callSoon(() => {
    sentAt = performance.now();
    client.write('x');
  });
  await loop.runForever();
  loop.close();
  client.destroy();
  server.close();
  latencies.sort((a, b) => a - b);
  return { p50: latencies[100], max: latencies[latencies.length - 1] };
}

const rows = [];
const fmt = (x) => `${(x / 1e6).toFixed(2)} M/s`;
const results = { nodeChain: [], loopChain: [], nodeBatch: [], loopBatch: [], nodeTimers: [], loopTimers: [], nodeAwait: [], loopTask: [] };
for (let r = 0; r < ROUNDS; r++) {
  results.nodeChain.push(await nodeImmediateChain(N_CHAIN / 4));
  results.loopChain.push(await loopChain(N_CHAIN));
  results.nodeBatch.push(await nodeImmediateBatch(N_BATCH / 4));
  results.loopBatch.push(await loopBatch(N_BATCH));
  results.nodeTimers.push((await nodeTimers(N_TIMERS)).seconds);
  results.loopTimers.push((await loopTimers(N_TIMERS)).seconds);
  results.nodeAwait.push(await nodeAwaitImmediate(N_TASK_WAKEUPS / 4));
  results.loopTask.push(await loopTaskWakeups(N_TASK_WAKEUPS));
}
const io = await ioLatencyUnderChain();
const nodeChain = best(results.nodeChain);
const lChain = best(results.loopChain);
const nodeBatch = best(results.nodeBatch);
const lBatch = best(results.loopBatch);
const nodeT = Math.min(...results.nodeTimers);
const loopT = Math.min(...results.loopTimers);
rows.push(['callSoon chain (each callback schedules the next)', fmt(lChain), `setImmediate chain ${fmt(nodeChain)}`, `${(lChain / nodeChain).toFixed(1)}x`]);
rows.push(['callSoon batch (2M scheduled up front)', fmt(lBatch), `setImmediate batch ${fmt(nodeBatch)}`, `${(lBatch / nodeBatch).toFixed(1)}x`]);
rows.push(['1e6 timers, random delay 0-100 ms, scheduled + fired', `${loopT.toFixed(2)} s`, `setTimeout ${nodeT.toFixed(2)} s`, `${(nodeT / loopT).toFixed(2)}x`]);
const nodeAwait = best(results.nodeAwait);
const lTask = best(results.loopTask);
rows.push(['task wake-ups (a task awaits a future a callback completes)', fmt(lTask), `await setImmediate promise ${fmt(nodeAwait)}`, `${(lTask / nodeAwait).toFixed(1)}x`]);
rows.push(['socket echo round trip while a callSoon chain spins', `p50 ${io.p50.toFixed(2)} ms, max ${io.max.toFixed(2)} ms`, '-', '-']);

const table = [
  '| benchmark | aioloop | Node in the same run | ratio |',
  '|---|---|---|---|',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');
console.log(table);

if (process.argv.includes('--write')) {
  const path = new URL('../../BENCHMARKS.md', import.meta.url);
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n\nRun on demand; never part of the test suite.\n';
  const section = [
    '<!-- core:start -->',
    '## Core loop (`bench/core`)',
    '',
    `Command: \`node bench/core/run.mjs --write\` (after building core). Machine: ${process.platform} ${process.arch}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. Best of ${ROUNDS} rounds.`,
    '',
    table,
    '',
    'Targets: callSoon chain >= 4x the setImmediate chain; 1e6 timers under 1.5 s; bytes from a socket still delivered promptly while callbacks spin (the loop yields to Node every ~1 ms).',
    '<!-- core:end -->',
  ].join('\n');
  doc = /<!-- core:start -->[\s\S]*<!-- core:end -->/.test(doc)
    ? doc.replace(/<!-- core:start -->[\s\S]*<!-- core:end -->/, section)
    : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, doc);
}
