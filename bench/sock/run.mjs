// sock* echo (sockRecv/sockSendall on native sockets) against the stream transport
// (createServer + Protocol). Each server runs alone in its own process; the load is
// raw Node net clients in this process: `--conns` connections, each a ping-pong of
// one `--size`-byte message, for `--seconds` per round, `--rounds` rounds alternating
// servers. Reports round trips per second and the server's CPU per 1000 round trips.
//
//   node bench/sock/run.mjs                         # recorded run: updates BENCHMARKS.md's "sock" section
//   node bench/sock/run.mjs --no-write --seconds 1 --rounds 1
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const seconds = Number(opt('seconds', 2));
const rounds = Number(opt('rounds', 5));
const sizes = opt('sizes', '64,1024,65536').split(',').map(Number);
const conns = Number(opt('conns', 50));
const write = !args.includes('--no-write');
const here = fileURLToPath(new URL('.', import.meta.url));

function startServer(kind) {
  const child = spawn(process.execPath, [`${here}server.mjs`, kind], { stdio: ['pipe', 'pipe', 'inherit'] });
  let buffered = '';
  const waiting = [];
  child.stdout.on('data', (d) => {
    buffered += d;
    let i;
    while ((i = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      waiting.shift()?.(line);
    }
  });
  const next = () => new Promise((r) => waiting.push(r));
  return { child, next, ask: (cmd) => (child.stdin.write(`${cmd}\n`), next()) };
}

async function load(port, size, duration) {
  const message = Buffer.alloc(size, 7);
  let trips = 0;
  let stop = false;
  const sockets = [];
  await Promise.all(
    Array.from({ length: conns }, () => new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.setNoDelay(true);
        let got = 0;
        s.on('data', (d) => {
          got += d.length;
          if (got >= size) {
            got -= size;
            trips++;
            if (!stop) s.write(message);
          }
        });
        s.write(message);
        resolve();
      });
      s.on('error', reject);
      sockets.push(s);
    })),
  );
  const start = trips;
  await new Promise((r) => setTimeout(r, duration * 1000));
  stop = true;
  const done = trips - start;
  for (const s of sockets) s.destroy();
  return done / duration;
}

const results = {};
for (const kind of ['transport', 'sock']) results[kind] = Object.fromEntries(sizes.map((s) => [s, []]));
for (let round = 0; round < rounds; round++) {
  for (const kind of round % 2 === 0 ? ['transport', 'sock'] : ['sock', 'transport']) {
    const server = startServer(kind);
    const port = Number(await server.next());
    for (const size of sizes) {
      await load(port, size, 0.3); // warm-up
      const before = JSON.parse(await server.ask('cpu'));
      const rate = await load(port, size, seconds);
      const after = JSON.parse(await server.ask('cpu'));
      const cpuMs = (after.user + after.system - before.user - before.system) / 1000;
      results[kind][size].push({ rate, cpuPer1k: cpuMs / ((rate * seconds) / 1000) });
    }
    server.child.stdin.write('exit\n');
    await new Promise((r) => server.child.once('exit', r));
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = sizes.map((size) => {
  const t = results.transport[size];
  const s = results.sock[size];
  const tr = median(t.map((x) => x.rate));
  const sr = median(s.map((x) => x.rate));
  const tc = median(t.map((x) => x.cpuPer1k));
  const sc = median(s.map((x) => x.cpuPer1k));
  return `| ${size} B | ${Math.round(tr)} | ${Math.round(sr)} | ${(sr / tr).toFixed(2)}x | ${tc.toFixed(1)} | ${sc.toFixed(1)} |`;
});
const table = [
  `Node ${process.version}, ${conns} connections, ping-pong of one message each, ${seconds} s x ${rounds} rounds (median), servers alternate.`,
  '',
  '| message | transport round trips/s | sock* round trips/s | sock*/transport | transport CPU ms per 1k | sock* CPU ms per 1k |',
  '|---|---|---|---|---|---|',
  ...rows,
].join('\n');
console.log(table);
if (write) {
  const file = `${here}../../BENCHMARKS.md`;
  let text = fs.readFileSync(file, 'utf8');
  const section = `<!-- sock:start -->\n## sock* echo vs the stream transport\n\nCommand: \`node bench/sock/run.mjs --seconds ${seconds} --rounds ${rounds}\` (after a build).\n\n${table}\n\nThe sock* server is asyncio's pattern (a task per connection: \`sockRecv\`, then \`sockSendall\`; EAGAIN waits on a libuv poll of the socket's own fd, whose read interest is kept between waits). Round trips per second swing by 2-3x between runs on a shared 2-core host; CPU ms per 1,000 round trips (the server process alone) is the steadier figure.\n<!-- sock:end -->`;
  if (text.includes('<!-- sock:start -->')) text = text.replace(/<!-- sock:start -->[\s\S]*<!-- sock:end -->/, section);
  else text = `${text.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(file, text);
}
