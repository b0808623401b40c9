import { afterEach, describe, expect, it } from 'vitest';
import { CancelledError, IncompleteReadError, LimitOverrunError, RuntimeError, sleep, type EventLoop, type ReadTransport } from '@aioloop/core';
import * as core from '@aioloop/core';
import { FlowControl, ProcessLookupError, StreamReader, StreamWriter, createSubprocessExec, createSubprocessShell } from '../src/index.js';
import { childPids, closeLoops, newLoop } from './helpers.js';

afterEach(closeLoops);

const PY = '/usr/bin/python3';
const MiB = 1024 * 1024;

function run<T>(loop: EventLoop, fn: () => Promise<T>): Promise<T> {
  return loop.runUntilComplete(fn);
}

describe('Process streams', () => {
  it('reads lines, exact sizes and the rest from stdout', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      const proc = await createSubprocessExec('/bin/sh', ['-c', 'printf "first\\nsecond\\n0123456789tail"'], { stdout: 'pipe' });
      expect(proc.stdin).toBeNull();
      expect(proc.stderr).toBeNull();
      const out = proc.stdout as StreamReader;
      expect((await out.readline()).toString()).toBe('first\n');
      expect((await out.readuntil('\n')).toString()).toBe('second\n');
      expect((await out.readexactly(10)).toString()).toBe('0123456789');
      expect((await out.read()).toString()).toBe('tail');
      expect(out.atEof()).toBe(true);
      expect((await out.readline()).length).toBe(0);
      expect(await proc.wait()).toBe(0);
      expect(proc.returncode).toBe(0);
    });
  });

  it('throws IncompleteReadError with the partial bytes when the stream ends early', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      const proc = await createSubprocessExec('/bin/sh', ['-c', 'printf abc'], { stdout: 'pipe' });
      const error = await (proc.stdout as StreamReader).readexactly(10).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(IncompleteReadError);
      expect((error as IncompleteReadError).partial.toString()).toBe('abc');
      expect((error as IncompleteReadError).expected).toBe(10);
      await proc.wait();
    });
  });

  it('enforces the limit: readuntil throws LimitOverrunError, readline a RangeError and drops the line', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      const proc = await createSubprocessExec('/bin/sh', ['-c', 'printf "%0200d\\nshort\\n" 0'], { stdout: 'pipe', limit: 64 });
      const out = proc.stdout as StreamReader;
      const overrun = await out.readuntil('\n').then(() => null, (e: unknown) => e);
      expect(overrun).toBeInstanceOf(LimitOverrunError);
      const error = await out.readline().then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).cause).toBeInstanceOf(LimitOverrunError);
      expect((await out.readline()).toString()).toBe('short\n');
      await proc.wait();
    });
  });

  it('iterates over lines with for await', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      const proc = await createSubprocessShell('seq 1 5', { stdout: 'pipe' });
      const lines: string[] = [];
      for await (const line of proc.stdout as StreamReader) lines.push(line.toString());
      expect(lines).toEqual(['1\n', '2\n', '3\n', '4\n', '5\n']);
      await proc.wait();
    });
  });

  it('pauses the stdout transport above twice the limit and resumes it as the reader consumes', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      const proc = await createSubprocessExec(PY, ['-c', 'import sys; sys.stdout.buffer.write(b"y" * (1024 * 1024))'], { stdout: 'pipe', limit: 1024 });
      const out = proc.stdout as StreamReader;
      const transport = (proc as unknown as { _transport: { getPipeTransport(fd: 1): ReadTransport } })._transport.getPipeTransport(1);
      while (out.bufferedSize <= 2048) await sleep(0.01);
      expect(transport.isReading()).toBe(false);
      expect(out.bufferedSize).toBeLessThan(1024 * 1024);
      const all = await out.read();
      expect(all.length).toBe(1024 * 1024);
      expect(await proc.wait()).toBe(0);
    });
  });

  it('refuses a second concurrent reader with a RuntimeError', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      const proc = await createSubprocessExec('/bin/sh', ['-c', 'sleep 0.2; echo late'], { stdout: 'pipe' });
      const out = proc.stdout as StreamReader;
      const first = loop.createTask(() => out.readline());
      await sleep(0.01);
      await expect(out.read(5)).rejects.toThrow(RuntimeError);
      expect((await first).toString()).toBe('late\n');
      await proc.wait();
    });
  });
});

describe('Process stdin, drain and communicate', () => {
  it('write + drain waits while the pipe is over its high-water mark, then the child gets every byte', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      const proc = await createSubprocessExec(PY, ['-c', 'import sys, time; time.sleep(0.2); print(len(sys.stdin.buffer.read()))'], {
        stdin: 'pipe',
        stdout: 'pipe',
      });
      const stdin = proc.stdin!;
      stdin.write(Buffer.alloc(8 * MiB, 1));
      const t0 = loop.time();
      await stdin.drain();
      // The child slept before reading: drain had to wait for it.
      expect(loop.time() - t0).toBeGreaterThan(0.1);
      stdin.close();
      await stdin.waitClosed();
      expect((await proc.stdout!.read()).toString()).toBe(`${8 * MiB}\n`);
      expect(await proc.wait()).toBe(0);
    });
  });

  it('communicate() feeds 50 MiB and collects 50 MiB from both stdout and stderr without deadlock', async () => {
    const loop = newLoop();
    const input = Buffer.allocUnsafe(50 * MiB);
    for (let i = 0; i < input.length; i += 4) input.writeUInt32LE((i * 2246822519) >>> 0, i);
    const script = [
      'import sys, threading',
      'def err():',
      '    block = b"E" * (1024 * 1024)',
      '    for _ in range(50): sys.stderr.buffer.write(block)',
      '    sys.stderr.buffer.flush()',
      't = threading.Thread(target=err); t.start()',
      'while True:',
      '    b = sys.stdin.buffer.read1(65536)',
      '    if not b: break',
      '    sys.stdout.buffer.write(b)',
      'sys.stdout.buffer.flush(); t.join()',
    ].join('\n');
    await run(loop, async () => {
      const proc = await createSubprocessExec(PY, ['-c', script], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' });
      const [out, err] = await proc.communicate(input);
      expect(out!.equals(input)).toBe(true);
      expect(err!.length).toBe(50 * MiB);
      expect(err!.every((b) => b === 0x45)).toBe(true);
      expect(proc.returncode).toBe(0);
    });
  });

  it('communicate() ignores a child that exits without reading its input', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      const proc = await createSubprocessExec('/bin/sh', ['-c', 'echo bye; exit 2'], { stdin: 'pipe', stdout: 'pipe' });
      const [out, err] = await proc.communicate(Buffer.alloc(4 * MiB));
      expect(out!.toString()).toBe('bye\n');
      expect(err).toBeNull();
      expect(proc.returncode).toBe(2);
    });
  });

  it('communicate() rejects input when stdin is not a pipe, and string input', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      const proc = await createSubprocessExec('/bin/true', [], { stdout: 'pipe' });
      await expect(proc.communicate(Buffer.from('x'))).rejects.toThrow(/stdin is not a pipe/);
      await expect(proc.communicate('text' as never)).rejects.toThrow(/must be bytes/);
      await proc.communicate();
    });
  });

  it('cancelling a task inside communicate() cancels its reads and leaves the child to the caller', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      const proc = await createSubprocessExec('/bin/sleep', ['30'], { stdin: 'pipe', stdout: 'pipe' });
      const task = loop.createTask(() => proc.communicate());
      await sleep(0.05);
      task.cancel();
      const error = await task.then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(CancelledError);
      expect(proc.returncode).toBeNull();
      proc.kill();
      expect(await proc.wait()).toBe(-9);
    });
  });

  it('wait() returns once the child exits even while a grandchild keeps its stdout open', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      // The grandchild holds the pipe's write end; it prints its pid so the test can end it.
      const proc = await createSubprocessShell('sleep 30 & echo $!', { stdout: 'pipe' });
      const grandchild = Number((await proc.stdout!.readline()).toString());
      expect(grandchild).toBeGreaterThan(0);
      try {
        expect(await proc.wait()).toBe(0);
        // wait() did not wait for the pipe: the grandchild still runs and holds it open.
        expect(() => process.kill(grandchild, 0)).not.toThrow();
        expect(proc.stdout!.atEof()).toBe(false);
      } finally {
        process.kill(grandchild, 'SIGKILL');
      }
      expect((await proc.stdout!.read()).length).toBe(0); // EOF once the grandchild is gone
    });
  });

  it('kill() gives returncode -9; signals after the exit throw ProcessLookupError', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      const proc = await createSubprocessExec('/bin/sleep', ['30']);
      expect(typeof proc.pid).toBe('number');
      proc.kill();
      expect(await proc.wait()).toBe(-9);
      expect(() => proc.terminate()).toThrow(ProcessLookupError);
      expect(() => proc.sendSignal('SIGINT')).toThrow(ProcessLookupError);
    });
    expect(childPids()).toEqual([]);
  });

  it('rejects a missing program with ENOENT, and a bad limit', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      await expect(createSubprocessExec('aioloop-missing-program')).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('aioloop-missing-program') });
      expect(() => createSubprocessExec('/bin/true', [], { limit: 0 })).toThrow(/limit must be a whole number of bytes > 0/);
      expect(() => createSubprocessShell('ls', { stdout: 'file' as never })).toThrow(/stdout must be 'pipe', 'devnull', 'inherit' or a file descriptor/);
    });
  });

  it('needs a running loop', () => {
    expect(() => createSubprocessExec('/bin/true')).toThrow(/no running event loop/i);
  });

  it('kills and reaps the child when createSubprocessExec is cancelled before it settles', async () => {
    const loop = newLoop();
    // Cancel after 0..8 loop iterations: whichever step the start is in, nothing may be left.
    for (let delay = 0; delay <= 8; delay++) {
      const outcome = await run(loop, async () => {
        const task = createSubprocessExec('/bin/sleep', ['30'], { stdout: 'pipe' });
        for (let i = 0; i < delay; i++) await sleep(0);
        task.cancel();
        try {
          const proc = await task;
          // Started before the cancel landed: a normal Process we must clean up.
          proc.kill();
          await proc.wait();
          return 'started';
        } catch (error) {
          return (error as Error).name;
        }
      });
      expect(['CancelledError', 'started']).toContain(outcome);
      for (let i = 0; i < 100 && childPids().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(childPids()).toEqual([]);
    }
  });

  it('kills a child whose Process was lost to a cancelled awaiting task when the loop closes', async () => {
    const loop = newLoop();
    // Cancelling a task in the iteration where the start completed loses the result
    // (asyncio's rule for any awaited task); the transport is still tracked by the loop.
    for (let delay = 0; delay <= 6; delay++) {
      await run(loop, async () => {
        const outer = loop.createTask(() => createSubprocessExec('/bin/sleep', ['30']));
        for (let i = 0; i < delay; i++) await sleep(0);
        outer.cancel();
        try {
          const proc = await outer;
          proc.kill();
          await proc.wait();
        } catch (error) {
          // Only the cancellation may end up here.
          expect(error).toBeInstanceOf(CancelledError);
        }
      });
    }
    loop.close();
    for (let i = 0; i < 100 && childPids().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(childPids()).toEqual([]);
  });
});

describe('StreamReader fed directly', () => {
  it("is core's class (one identity for sockets and child processes), and so are StreamWriter and FlowControl", async () => {
    expect(StreamReader).toBe(core.StreamReader);
    expect(StreamWriter).toBe(core.StreamWriter);
    expect(FlowControl).toBe(core.FlowControl);
    const loop = newLoop();
    await run(loop, async () => {
      const proc = await createSubprocessExec(PY, ['-c', 'print("x")'], { stdout: 'pipe' });
      expect(proc.stdout).toBeInstanceOf(core.StreamReader);
      await proc.communicate();
    });
  });

  it('wakes a waiting reader on feedData and on setException', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      const reader = new StreamReader({ loop });
      loop.callLater(0.01, () => reader.feedData(Buffer.from('ab')));
      expect((await reader.read(10)).toString()).toBe('ab');
      const boom = new Error('boom');
      loop.callLater(0.01, () => reader.setException(boom));
      await expect(reader.readline()).rejects.toBe(boom);
      expect(() => new StreamReader({ loop, limit: 0 })).toThrow(/limit must be a whole number/);
    });
  });

  it('finds a multi-byte separator across chunks', async () => {
    const loop = newLoop();
    await run(loop, async () => {
      const reader = new StreamReader({ loop });
      reader.feedData(Buffer.from('one\r'));
      reader.feedData(Buffer.from('\ntwo'));
      reader.feedEof();
      expect((await reader.readuntil('\r\n')).toString()).toBe('one\r\n');
      await expect(reader.readuntil('')).rejects.toThrow(/at least one byte/);
      expect((await reader.read()).toString()).toBe('two');
      expect(() => reader.feedData(Buffer.from('x'))).toThrow(/after feedEof/);
    });
  });
});
