/** Shared helpers for @aioloop/net's stream tests (not a test file itself). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { EventLoop, Protocol, type Future, type Transport } from '@aioloop/core';
import '../src/index.js';

const loops: EventLoop[] = [];
const cleanups: (() => void)[] = [];

/** A fresh loop, closed after the test. */
export function newLoop(): EventLoop {
  const loop = new EventLoop({ debug: false });
  loops.push(loop);
  return loop;
}

/** Runs `fn` after the current test. */
export function onCleanup(fn: () => void): void {
  cleanups.push(fn);
}

/** A new temporary directory, removed after the current test. */
export function tempDir(prefix = 'aioloop-net-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let fdBaseline: number | null = null;

function openFdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Call in beforeEach: the test fails if, after its cleanups and loops are closed, more fds are open than before it. */
export function checkFdLeaks(): void {
  fdBaseline = openFdCount();
}

afterEach(async () => {
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
  for (const loop of loops.splice(0)) {
    // A test that failed (or timed out) may leave its loop running: stop it so
    // the next test can run its own.
    for (let i = 0; i < 100 && loop.isRunning(); i++) {
      loop.stop();
      await new Promise((r) => setTimeout(r, 5));
    }
    if (!loop.isRunning()) loop.close();
  }
  if (fdBaseline !== null) {
    const baseline = fdBaseline;
    fdBaseline = null;
    // Node closes some handles (child pipes, servers) on its next turns.
    for (let i = 0; i < 50 && openFdCount() > baseline; i++) await new Promise((r) => setTimeout(r, 10));
    const open = openFdCount();
    if (open > baseline) throw new Error(`the test left ${open - baseline} file descriptor(s) open`);
  }
});

/** `size` bytes of a repeatable pattern. */
export function pattern(size: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** A future resolved after `seconds` of loop time. */
export function delay(loop: EventLoop, seconds: number): Future<void> {
  const f = loop.createFuture<void>();
  loop.callLater(seconds, () => {
    if (!f.done()) f.setResult(undefined);
  });
  return f;
}

/** Polls `predicate` every 5 ms of loop time, up to `seconds`. */
export async function waitFor(loop: EventLoop, predicate: () => boolean, seconds = 10, what = 'condition'): Promise<void> {
  const end = loop.time() + seconds;
  while (!predicate()) {
    if (loop.time() > end) throw new Error(`${what} not reached within ${seconds} s`);
    await delay(loop, 0.005);
  }
}

/** A protocol that records callbacks and data, with futures for the milestones. */
export class Collector extends Protocol {
  events: string[] = [];
  chunks: Buffer[] = [];
  transport!: Transport;
  readonly made: Future<void>;
  readonly lost: Future<Error | null>;
  readonly eof: Future<void>;
  /** What eofReceived() returns. */
  keepOpen = false;
  lostCount = 0;

  constructor(readonly loop: EventLoop) {
    super();
    this.made = loop.createFuture();
    this.lost = loop.createFuture();
    this.eof = loop.createFuture();
  }
  override connectionMade(transport: Transport): void {
    this.events.push('made');
    this.transport = transport;
    this.made.setResult(undefined);
  }
  override dataReceived(data: Buffer): void {
    if (this.events.at(-1) !== 'data') this.events.push('data');
    this.chunks.push(data);
  }
  override eofReceived(): boolean {
    this.events.push('eof');
    if (!this.eof.done()) this.eof.setResult(undefined);
    return this.keepOpen;
  }
  override connectionLost(exc: Error | null): void {
    this.events.push('lost');
    this.lostCount++;
    if (!this.lost.done()) this.lost.setResult(exc);
  }
  override pauseWriting(): void {
    this.events.push('pause');
  }
  override resumeWriting(): void {
    this.events.push('resume');
  }
  received(): number {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    return n;
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** A protocol factory for the server side of a test that keeps every Collector it made, in order. */
export function collecting(loop: EventLoop): { factory: () => Collector; made: Collector[] } {
  const made: Collector[] = [];
  return {
    made,
    factory: () => {
      const p = new Collector(loop);
      made.push(p);
      return p;
    },
  };
}

/** Echoes every byte back; on EOF closes (after flushing). */
export class Echo extends Protocol {
  transport!: Transport;
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

/** Starts a Python peer script with /usr/bin/python3 (killed after the test); resolves with the process and its stdout lines as they come. */
export function startPeer(script: string, args: string[]): { child: ChildProcessWithoutNullStreams; lines: string[]; nextLine: () => Promise<string>; exited: Promise<number | null> } {
  const child = spawn('/usr/bin/python3', [script, ...args]);
  onCleanup(() => child.kill('SIGKILL'));
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    let i: number;
    while ((i = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (code !== 0 && stderr) console.error(stderr);
      resolve(code);
    }),
  );
  const nextLine = (): Promise<string> => {
    const ready = lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      waiting.push(resolve);
      void exited.then(() => reject(new Error(`python peer exited before printing a line: ${stderr}`)));
    });
  };
  return { child, lines, nextLine, exited };
}
