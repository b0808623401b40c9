import { readFileSync, readdirSync } from 'node:fs';
import { EventLoop, SubprocessProtocol, type SubprocessTransport } from '@aioloop/core';

const loops: EventLoop[] = [];

/** A new loop, closed after the test. */
export function newLoop(): EventLoop {
  const loop = new EventLoop({ debug: false });
  loops.push(loop);
  return loop;
}

/** Closes the test's loops (afterEach). */
export function closeLoops(): void {
  for (const loop of loops.splice(0)) if (!loop.isRunning()) loop.close();
}

/** The pids of this process's live children, from /proc (every thread's list). */
export function childPids(): number[] {
  const pids: number[] = [];
  for (const tid of readdirSync('/proc/self/task')) {
    const text = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
    if (text !== '') pids.push(...text.split(/\s+/).map(Number));
  }
  return pids;
}

/** A subprocess protocol that records every callback and collects the output per fd. */
export class Recorder extends SubprocessProtocol {
  readonly events: string[] = [];
  readonly chunks: Record<number, Buffer[]> = { 1: [], 2: [] };
  transport: SubprocessTransport | null = null;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  pauses = 0;
  resumes = 0;

  constructor() {
    super();
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  override connectionMade(transport: SubprocessTransport): void {
    this.transport = transport;
    this.events.push('connectionMade');
  }
  override pipeDataReceived(fd: number, data: Buffer): void {
    if (this.events.at(-1) !== `data${fd}`) this.events.push(`data${fd}`);
    (this.chunks[fd] ??= []).push(data);
  }
  override pipeConnectionLost(fd: number, exc: Error | null): void {
    this.events.push(`pipeConnectionLost${fd}:${exc === null ? 'null' : (exc as NodeJS.ErrnoException).code ?? exc.message}`);
  }
  override processExited(): void {
    this.events.push('processExited');
  }
  override connectionLost(exc: Error | null): void {
    this.events.push(`connectionLost:${String(exc)}`);
    this.resolveDone();
  }
  override pauseWriting(): void {
    this.pauses++;
  }
  override resumeWriting(): void {
    this.resumes++;
  }
  /** Everything received on `fd`. */
  output(fd: number): Buffer {
    return Buffer.concat(this.chunks[fd] ?? []);
  }
}
