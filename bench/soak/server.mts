/**
 * The soak benchmarks' server (run by run.mjs through tsx, from the sources):
 *   echo  - echoes every byte (the held-connections and churn runs)
 *   flood - writes to each client as fast as flow control allows: stops at
 *           pauseWriting(), goes on at resumeWriting() (the slow-consumer run)
 * Prints `port N`, then one JSON sample a second: rss, heapUsed, open fds,
 * active handles, connections made and lost, bytes queued in write buffers.
 * Ends when stdin closes.
 */
import { readdirSync } from 'node:fs';
import { EventLoop, Protocol, type Transport } from '@aioloop/core';
import '@aioloop/net';

const mode = process.argv[2] ?? 'echo';
let made = 0;
let lost = 0;
const open = new Set<Transport>();

class Echo extends Protocol {
  t: Transport | null = null;
  override connectionMade(t: Transport): void {
    this.t = t;
    made++;
    open.add(t);
  }
  override dataReceived(data: Buffer): void {
    this.t!.write(data);
  }
  override connectionLost(): void {
    lost++;
    if (this.t) open.delete(this.t);
  }
}

const block = Buffer.alloc(64 * 1024, 0x61);
class Flood extends Echo {
  private paused = false;
  override connectionMade(t: Transport): void {
    super.connectionMade(t);
    this.pump();
  }
  override dataReceived(): void {}
  override pauseWriting(): void {
    this.paused = true;
  }
  override resumeWriting(): void {
    this.paused = false;
    this.pump();
  }
  private pump(): void {
    while (!this.paused && this.t !== null && !this.t.isClosing()) this.t.write(block);
  }
}

const loop = new EventLoop();
await loop.runUntilComplete(async () => {
  const server = await loop.createServer(() => (mode === 'flood' ? new Flood() : new Echo()), '127.0.0.1', 0, { backlog: 4096 });
  process.stdout.write(`port ${(server.sockets[0]!.getsockname() as [string, number])[1]}\n`);
  const sample = (): void => {
    const memory = process.memoryUsage();
    let queued = 0;
    for (const t of open) queued += t.getWriteBufferSize();
    process.stdout.write(
      `${JSON.stringify({ t: Math.round(loop.time()), rss: memory.rss, heapUsed: memory.heapUsed, fds: readdirSync('/proc/self/fd').length, handles: process.getActiveResourcesInfo().length, made, lost, open: open.size, queued })}\n`,
    );
  };
  const done = loop.createFuture<void>();
  const timer = setInterval(() => loop.callSoonThreadsafe(sample), 1000);
  process.stdin.on('end', () => loop.callSoonThreadsafe(() => done.setResult()));
  process.stdin.resume();
  await done;
  clearInterval(timer);
  server.close();
  server.abortClients();
  await server.waitClosed();
  sample();
});
loop.close();
