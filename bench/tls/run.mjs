#!/usr/bin/env node
// TLS echo and sendfile benchmarks, each beside its Node baseline in the same run:
//   - TLS echo: an aioloop TLS echo server (loop.createServer with ssl, Protocol)
//     beside a raw Node `tls` echo server; each server alone in its own process,
//     driven by Node tls clients in this process.
//   - sendfile: a 256 MiB file sent over TCP by loop.sendfile() beside
//     fs.createReadStream().pipe(socket), each sender in its own process, to a
//     discarding receiver in this process; MB/s and the sender's CPU time.
// Needs the built packages (`npx -y pnpm@10.34.9 -r run build`) and the openssl CLI
// (the certificate is made in a temp dir and removed).
//
// Usage: node bench/tls/run.mjs [--seconds 2] [--rounds 5] [--size 16] [--no-write]
//   Writes the "tls" section of BENCHMARKS.md unless --no-write.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = path.resolve(here, '../..');
const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}
const role = args[0];

async function loadAioloop() {
  const core = await import(pathToFileURL(path.join(root, 'packages/core/dist/index.js')).href);
  await import(pathToFileURL(path.join(root, 'packages/net/dist/index.js')).href);
  return core;
}

// ---------------------------------------------------------------- child roles

if (role === 'echo-server') {
  const [, kind, certFile, keyFile] = args;
  const cert = fs.readFileSync(certFile);
  const key = fs.readFileSync(keyFile);
  if (kind === 'raw') {
    const server = tls.createServer({ cert, key }, (s) => s.on('data', (d) => s.write(d)));
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));
  } else {
    const { EventLoop, Protocol } = await loadAioloop();
    class Echo extends Protocol {
      connectionMade(t) {
        this.t = t;
      }
      dataReceived(d) {
        this.t.write(d);
      }
    }
    const loop = new EventLoop();
    loop.runUntilComplete(async () => {
      const server = await loop.createServer(() => new Echo(), '127.0.0.1', 0, { ssl: { cert, key } });
      console.log(server.sockets[0].getsockname()[1]);
      await loop.createFuture();
    });
  }
  process.on('message', (m) => {
    if (m === 'cpu') process.send(process.cpuUsage());
  });
  process.on('disconnect', () => process.exit(0));
} else if (role === 'sendfile-sender') {
  const [, kind, file, portText] = args;
  const port = Number(portText);
  const started = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let sent;
  let zeroCopy = false;
  if (kind === 'pipe') {
    sent = await new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        fs.createReadStream(file).pipe(socket);
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(fs.statSync(file).size));
    });
  } else {
    const { EventLoop, Protocol } = await loadAioloop();
    const { nativeSocketsAvailable } = await import(pathToFileURL(path.join(root, 'packages/net/dist/index.js')).href);
    // With the native part, fallback: false proves the zero-copy path ran.
    zeroCopy = nativeSocketsAvailable();
    const loop = new EventLoop();
    sent = await loop.runUntilComplete(async () => {
      const [transport] = await loop.createConnection(() => new Protocol(), '127.0.0.1', port);
      const handle = await fs.promises.open(file, 'r');
      const n = await loop.sendfile(transport, handle, 0, null, { fallback: !zeroCopy });
      await handle.close();
      const lost = loop.createFuture();
      transport.setProtocol(Object.assign(new Protocol(), { connectionLost: () => lost.setResult(undefined) }));
      transport.close();
      await lost;
      return n;
    });
    loop.close();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(started);
  process.send({ sent, seconds, cpuMs: (cpu.user + cpu.system) / 1000, zeroCopy });
  process.exit(0);
} else {
  await main();
}

// ---------------------------------------------------------------- driver

function readLine(stream) {
  return new Promise((resolve) => {
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
  });
}

function makeCert(dir) {
  const run = (a) => execFileSync('openssl', a, { cwd: dir, stdio: 'ignore' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', 'key.pem', '-out', 'cert.pem']);
  return { certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') };
}

async function echoRound(kind, pki, seconds, size, connections) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'echo-server', kind, pki.certFile, pki.keyFile], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = Number(await readLine(child.stdout));
  const ca = fs.readFileSync(pki.certFile);
  const message = Buffer.alloc(size, 7);
  let bytes = 0;
  let counting = false;
  let running = true;
  const clients = [];
  for (let i = 0; i < connections; i++) {
    clients.push(
      new Promise((resolve) => {
        const s = tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost' }, () => s.write(message));
        let got = 0;
        s.on('data', (d) => {
          got += d.length;
          if (got >= size) {
            if (counting) bytes += size;
            got -= size;
            if (running) s.write(message);
            else s.end();
          }
        });
        s.on('close', resolve);
        s.on('error', resolve);
      }),
    );
  }
  const cpu = () => new Promise((r) => (child.once('message', r), child.send('cpu')));
  await new Promise((r) => setTimeout(r, 500));
  const cpu0 = await cpu();
  counting = true;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  counting = false;
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = await cpu();
  running = false;
  await Promise.all(clients);
  child.disconnect();
  const requests = bytes / size;
  return { mbps: bytes / elapsed / 1e6, cpuPerRequest: (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / requests };
}

async function sendfileRound(kind, file) {
  let received = 0;
  let peerClosed;
  // The sender's close() completes once its FIN is queued; the bytes ahead of it
  // may still be in flight, so the count is read when this end has closed.
  const closed = new Promise((r) => (peerClosed = r));
  const server = net.createServer((s) => {
    s.on('data', (d) => (received += d.length));
    s.on('end', () => s.end());
    s.on('close', peerClosed);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'sendfile-sender', kind, file, String(server.address().port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = await new Promise((r) => child.once('message', r));
  await new Promise((r) => child.once('exit', r));
  await closed;
  server.close();
  if (received !== result.sent) throw new Error(`${kind}: receiver got ${received} bytes, sender reports ${result.sent}`);
  return { mbps: result.sent / result.seconds / 1e6, cpuMs: result.cpuMs, zeroCopy: result.zeroCopy };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  for (const pkg of ['core', 'net']) {
    if (!fs.existsSync(path.join(root, `packages/${pkg}/dist/index.js`))) {
      console.error(`packages/${pkg}/dist is missing: build first with  npx -y pnpm@10.34.9 -r run build`);
      process.exit(1);
    }
  }
  const SECONDS = option('seconds', 2);
  const ROUNDS = option('rounds', 5);
  const SIZE = option('size', 16) * 1024;
  const CONNECTIONS = 10;
  const load = os.loadavg()[0];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioloop-bench-tls-'));
  try {
    const pki = makeCert(dir);
    const echo = { raw: [], aioloop: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const kind of r % 2 === 0 ? ['raw', 'aioloop'] : ['aioloop', 'raw']) {
        const result = await echoRound(kind, pki, SECONDS, SIZE, CONNECTIONS);
        echo[kind].push(result);
        console.log(`echo round ${r + 1} ${kind}: ${result.mbps.toFixed(1)} MB/s, ${result.cpuPerRequest.toFixed(1)} µs CPU/request`);
      }
    }
    const file = path.join(dir, 'big.bin');
    const fd = fs.openSync(file, 'w');
    const block = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 256; i++) fs.writeSync(fd, block.fill(i));
    fs.closeSync(fd);
    const send = { pipe: [], sendfile: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const kind of r % 2 === 0 ? ['pipe', 'sendfile'] : ['sendfile', 'pipe']) {
        const result = await sendfileRound(kind, file);
        send[kind].push(result);
        console.log(`sendfile round ${r + 1} ${kind}: ${result.mbps.toFixed(0)} MB/s, ${result.cpuMs.toFixed(0)} ms CPU`);
      }
    }
    const best = (list) => Math.max(...list.map((x) => x.mbps));
    const echoRatio = best(echo.aioloop) / best(echo.raw);
    const sendRatio = best(send.sendfile) / best(send.pipe);
    // Each round runs both sides back to back: the median of the per-round ratios is less sensitive to a shared machine's load swings than best-of.
    const paired = (a, b) => median(a.map((x, i) => x.mbps / b[i].mbps)).toFixed(2);
    const echoPaired = paired(echo.aioloop, echo.raw);
    const sendPaired = paired(send.sendfile, send.pipe);
    const cpuRatio = median(send.sendfile.map((x) => x.cpuMs)) / median(send.pipe.map((x) => x.cpuMs));
    const zeroCopy = send.sendfile.every((x) => x.zeroCopy);
    const sendPath = zeroCopy ? 'zero-copy sendfile(2)' : 'read/write fallback';
    const rows = [
      `| TLS echo, ${SIZE / 1024} KiB messages, ${CONNECTIONS} connections | raw Node \`tls\` server ${best(echo.raw).toFixed(1)} MB/s (${median(echo.raw.map((x) => x.cpuPerRequest)).toFixed(1)} µs CPU/request) | aioloop TLS server ${best(echo.aioloop).toFixed(1)} MB/s (${median(echo.aioloop.map((x) => x.cpuPerRequest)).toFixed(1)} µs CPU/request) | ${echoRatio.toFixed(2)}x (paired rounds: median ${echoPaired}x) | >= 0.95x: ${echoRatio >= 0.95 ? 'met' : 'NOT met'} |`,
      `| 256 MiB file over TCP | \`fs.createReadStream().pipe(socket)\` ${best(send.pipe).toFixed(0)} MB/s (${median(send.pipe.map((x) => x.cpuMs)).toFixed(0)} ms CPU) | \`loop.sendfile()\` (${sendPath}) ${best(send.sendfile).toFixed(0)} MB/s (${median(send.sendfile.map((x) => x.cpuMs)).toFixed(0)} ms CPU) | ${sendRatio.toFixed(2)}x (paired rounds: median ${sendPaired}x) | >= 1.0x with less CPU: ${sendRatio >= 1 && cpuRatio < 1 ? 'met' : 'NOT met'} (CPU ${cpuRatio.toFixed(2)}x) |`,
    ];
    const command = `npx -y pnpm@10.34.9 -r run build && node bench/tls/run.mjs${args.length ? ` ${args.join(' ')}` : ''}`;
    const section = [
      '<!-- tls:start -->',
      '## TLS echo and sendfile (`bench/tls`)',
      '',
      `Command: \`${command}\`. Machine: ${process.platform} ${process.arch}, ${os.cpus().length} CPUs, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; load average at the start ${load.toFixed(1)} (shared machine). Best MB/s of ${ROUNDS} rounds, the two sides alternating within each round; CPU figures are medians.`,
      '',
      `TLS echo: each server alone in its own process (TLS 1.3, an ECDSA P-256 certificate), ${CONNECTIONS} Node \`tls\` clients in the driver process each sending one message and waiting for its echo, ${SECONDS} s after a 0.5 s warm-up; CPU is the server process's per request. sendfile: the sender alone in its own process, a discarding Node receiver in the driver; CPU is the sender process's for the whole transfer. ${zeroCopy ? "@aioloop/native-sockets is installed, so \`loop.sendfile()\` runs zero-copy sendfile(2) (called with \`fallback: false\`, which succeeds only on that path)." : "@aioloop/native-sockets is not installed, so \`loop.sendfile()\` runs its read-and-write fallback (256 KiB positioned reads, overlapped with the transport's drain)."}`,
      '',
      '| benchmark | Node baseline | aioloop | ratio (MB/s, best of each side) | target |',
      '|---|---|---|---|---|',
      ...rows,
      '<!-- tls:end -->',
    ].join('\n');
    console.log(`\n${section}`);
    if (!args.includes('--no-write')) {
      const mdPath = path.join(root, 'BENCHMARKS.md');
      let doc = fs.readFileSync(mdPath, 'utf8');
      doc = /<!-- tls:start -->[\s\S]*<!-- tls:end -->/.test(doc) ? doc.replace(/<!-- tls:start -->[\s\S]*<!-- tls:end -->/, section) : `${doc.trimEnd()}\n\n${section}\n`;
      fs.writeFileSync(mdPath, doc);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
