import fs from 'node:fs';
import { EventLoop } from '@aioloop/core';
import { describe, expect, it } from 'vitest';
import { getRunningLoopExample } from '../src/examples/01-get-running-loop.js';
import { runForeverExample } from '../src/examples/02-run-forever.js';
import { callLaterExample } from '../src/examples/03-call-later.js';
import { tcpEchoExample } from '../src/examples/04-tcp-echo.js';
import { connectExistingSocketExample } from '../src/examples/05-connect-existing-socket.js';
import { addReaderExample } from '../src/examples/06-add-reader.js';
import { signalHandlerExample } from '../src/examples/07-signal-handler.js';
import { subprocessExecExample } from '../src/examples/08-subprocess-exec.js';

/** A loop whose clock jumps to the next timer when idle, so seconds pass instantly. */
class VirtualClockLoop extends EventLoop {
  private now = 0;
  override time(): number {
    return this.now;
  }
  protected override onIdle(delaySeconds: number): void {
    if (delaySeconds === Infinity) return;
    this.now += delaySeconds;
    this.wakeup();
  }
}

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

async function collect(run: (out: (line: string) => void) => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  await run((line) => lines.push(line));
  return lines;
}

describe('examples from the asyncio low-level API index', () => {
  it('1: getRunningLoop() sees the loop in a task and in a callback', async () => {
    expect(await collect(getRunningLoopExample)).toEqual([
      'in a task: getRunningLoop() is our loop: true',
      'in a callback: getRunningLoop() is our loop: true',
    ]);
  });

  it('2: runForever() runs the callback that stops it', async () => {
    expect(await collect(runForeverExample)).toEqual(['Hello World']);
  });

  it('3: callLater() prints the date five times, one second apart (on a virtual clock)', async () => {
    const loop = new VirtualClockLoop();
    const ticks: number[] = [];
    const lines = await collect((out) =>
      callLaterExample((line) => {
        ticks.push(loop.time());
        out(line);
      }, 1, loop),
    );
    expect(lines).toHaveLength(5);
    expect(lines.every((l) => !Number.isNaN(Date.parse(l)))).toBe(true);
    expect(ticks.map((t) => t - ticks[0]!)).toEqual([0, 1, 2, 3, 4]);
  });

  it('4: the TCP echo client and server exchange one message over 127.0.0.1', async () => {
    const lines = await collect(tcpEchoExample);
    expect(lines[0]).toMatch(/^server: connection from \["127\.0\.0\.1",\d+\]$/);
    expect(lines).toContain('client: data sent: "Hello World!"');
    expect(lines).toContain('server: data received: "Hello World!"');
    expect(lines).toContain('client: data received: "Hello World!"');
    expect(lines[lines.length - 1]).toBe('client: the server closed the connection');
  });

  it('5: createConnection({ sock }) receives data on one end of a socketpair, leaving no fd open', async () => {
    const fds = openFds();
    expect(await collect(connectExistingSocketExample)).toEqual(['Received: abc']);
    await new Promise((r) => setTimeout(r, 20));
    expect(openFds()).toBe(fds);
  });

  it('6: addReader() sees the socketpair fd become readable, leaving no fd open', async () => {
    const fds = openFds();
    expect(await collect(addReaderExample)).toEqual(['Received: abc']);
    expect(openFds()).toBe(fds);
  });

  it('7: a real SIGTERM reaches the handler, which stops the loop', async () => {
    const lines = await collect((out) => signalHandlerExample(out, 0.05));
    expect(lines[0]).toMatch(new RegExp(`^pid ${process.pid}: send SIGINT or SIGTERM`));
    expect(lines[1]).toBe('got signal SIGTERM: exit');
    expect(lines).toHaveLength(2);
    expect(process.listenerCount('SIGTERM')).toBe(0); // close() removed the handler
  });

  it('8: subprocessExec() collects the output of a real child process', async () => {
    const lines = await collect(subprocessExecExample);
    expect(lines).toHaveLength(1);
    const stamp = lines[0]!.replace('Current date: ', '');
    expect(Math.abs(Date.parse(stamp) - Date.now())).toBeLessThan(30_000);
  });
});
