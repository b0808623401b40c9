import {
  CancelledError,
  EventLoop,
  Protocol,
  RuntimeError,
  TimeoutError,
  gather,
  getRunningLoop,
  setLogger,
  sleep,
  waitFor,
  wrapFuture,
  type ExceptionContext,
} from '@aioloop/core';
import '@aioloop/net';
import '@aioloop/signals';
import { run } from '@aioloop/policy';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';

// Issue 11: the traps a user porting asyncio code falls into, each reproduced
// as the user wrote it (the literal port of the asyncio program).

describe('trap 2: run(main()) and loop.runUntilComplete(main())', () => {
  async function main(): Promise<string> {
    await sleep(0.01);
    return 'done';
  }

  it('run(main()) is refused with a message that says to pass main', async () => {
    // @ts-expect-error the types steer toward run(main)
    const error = await run(main()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/^run\(\) takes the async function itself: write run\(main\), not run\(main\(\)\)/);
    expect(await run(main)).toBe('done');
  });

  it('loop.runUntilComplete(main()) fails with a message that says to pass main', async () => {
    const loop = new EventLoop();
    try {
      const error = await loop.runUntilComplete(main()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as Error).message).toBe(
        'runUntilComplete() got a promise that failed with "no running event loop": the async function was called before the loop ran. ' +
          'Pass the function itself: runUntilComplete(main), not runUntilComplete(main())',
      );
      expect(((error as Error).cause as Error).message).toBe('no running event loop');
      expect(await loop.runUntilComplete(main)).toBe('done');
      // A promise that does not need the loop before its first await still works (Node interop).
      expect(await loop.runUntilComplete(Promise.resolve(7))).toBe(7);
    } finally {
      loop.close();
    }
  });
});

describe('trap 6: a task that fails and is never awaited', () => {
  async function flush(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      (globalThis as { gc?: () => void }).gc?.();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('is reported with asyncio\'s message when run() ends, once (a later collection does not repeat it)', async () => {
    const reports: ExceptionContext[] = [];
    await run(async () => {
      const loop = getRunningLoop();
      loop.setExceptionHandler((_loop, context) => reports.push(context));
      loop.createTask(async () => {
        throw new Error('boom');
      });
      await sleep(0.01);
    });
    expect(reports.map((c) => [c.message, (c.exception as Error).message])).toEqual([['Task exception was never retrieved', 'boom']]);
    expect(reports[0]!['taskDescription']).toMatch(/^<Task Task-\d+ finished exception=/);
    await flush();
    expect(reports).toHaveLength(1);
  });

  it('is reported by loop.close(); a retrieved one is not', async () => {
    const loop = new EventLoop();
    const reports: string[] = [];
    loop.setExceptionHandler((_loop, context) => reports.push(`${context.message}: ${(context.exception as Error).message}`));
    await loop.runUntilComplete(async () => {
      loop.createTask(async () => {
        throw new Error('lost');
      });
      const seen = loop.createTask(async () => {
        throw new Error('seen');
      });
      const future = loop.createFuture<void>();
      future.setException(new Error('future lost'));
      await sleep(0.01);
      expect(seen.exception()).toBeInstanceOf(Error);
    });
    expect(reports).toEqual([]);
    loop.close();
    expect(reports.sort()).toEqual(['Future exception was never retrieved: future lost', 'Task exception was never retrieved: lost']);
    await flush();
    expect(reports).toHaveLength(2);
  });
});

describe('trap 3: waitFor(coro(), t) and gather(coro(), ...)', () => {
  function captureWarnings(): string[] {
    const warnings: string[] = [];
    setLogger({ debug: () => {}, warn: (m) => warnings.push(m), error: () => {} });
    return warnings;
  }

  it('the literal port warns in debug mode at the call and says what to write; the function form cancels the coroutine', async () => {
    const warnings = captureWarnings();
    const events: string[] = [];
    async function slow(name: string): Promise<void> {
      try {
        await sleep(10);
        events.push(`${name} finished`);
      } catch (error) {
        events.push(`${name} ${(error as Error).name}`);
        throw error;
      }
    }
    try {
      await run(
        async () => {
          await expect(waitFor(slow('promise'), 0.01)).rejects.toBeInstanceOf(TimeoutError);
          await expect(waitFor(() => slow('function'), 0.01)).rejects.toBeInstanceOf(TimeoutError);
          const g = gather(slow('gathered promise'), () => slow('gathered function'));
          await sleep(0.01);
          g.cancel();
          await expect(g).rejects.toBeInstanceOf(CancelledError);
        },
        { debug: true },
      );
    } finally {
      setLogger(null);
    }
    expect(warnings.filter((w) => w.includes('is a promise'))).toEqual([
      'waitFor(): the awaitable is a promise: it keeps running after a timeout or a cancellation (a promise cannot be cancelled). ' +
        "For asyncio's coroutine argument pass the async function instead: waitFor(coro, t) or waitFor(() => coro(arg), t); " +
        'wrap a promise that is meant to outlive it with wrapFuture(promise)',
      'gather(): argument 1 is a promise: it keeps running after a timeout or a cancellation (a promise cannot be cancelled). ' +
        "For asyncio's coroutine argument pass the async function instead: gather(coro, ...) or gather(() => coro(arg), ...); " +
        'wrap a promise that is meant to outlive it with wrapFuture(promise)',
    ]);
    // The function forms were cancelled at their await, as asyncio cancels the coroutine's task.
    expect(events).toContain('function CancelledError');
    expect(events).toContain('gathered function CancelledError');
    expect(events.filter((e) => e.startsWith('promise') || e.startsWith('gathered promise'))).toEqual([]);
  });

  it('no warning outside debug mode, nor for Futures and wrapFuture(promise)', async () => {
    const warnings = captureWarnings();
    try {
      await run(async () => {
        await waitFor(Promise.resolve(1), 1);
        await gather(Promise.resolve(1));
      });
      await run(
        async () => {
          await waitFor(wrapFuture(Promise.resolve(1)), 1);
          await gather(wrapFuture(Promise.resolve(1)), sleep(0));
        },
        { debug: true },
      );
    } finally {
      setLogger(null);
    }
    expect(warnings.filter((w) => w.includes('is a promise'))).toEqual([]);
  });
});

describe('trap 4: methods passed without their object (asyncio passes bound methods everywhere)', () => {
  it('callSoon(fut.setResult, 42), callLater(d, task.cancel), addDoneCallback(other.setResult) and friends do not compile', async () => {
    const loop = new EventLoop();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_loop, context) => contexts.push(context));
    try {
      await loop.runUntilComplete(async () => {
        const fut = loop.createFuture<number>();
        const other = loop.createFuture<unknown>();
        const task = loop.createTask(() => sleep(10));
        const handle = loop.callLater(10, () => {});
        const [transport] = await Promise.resolve([null as unknown as import('@aioloop/core').Transport]);
        if (transport !== null) {
          // @ts-expect-error a transport method passed without its transport
          loop.callSoon(transport.close);
        }
        // @ts-expect-error a Future method passed without its future
        loop.callSoon(fut.setResult, 42);
        // @ts-expect-error a Task method passed without its task
        loop.callLater(0.001, task.cancel);
        // @ts-expect-error a Handle method passed without its handle
        loop.callSoon(handle.cancel);
        // @ts-expect-error a Future method as a done callback
        fut.addDoneCallback(other.setResult);
        // The forms that compile are the ones that work:
        loop.callSoon(() => fut.setResult(42));
        loop.callLater(0.001, () => task.cancel());
        handle.cancel();
        expect(await fut).toBe(42);
        await expect(task).rejects.toBeInstanceOf(CancelledError);
        await sleep(0.01);
        other.cancel();
      });
    } finally {
      loop.close();
    }
    // What a JavaScript user (no type checker) sees: the error names the mistake and the fix.
    const hints = contexts.map((c) => c['hint']);
    expect(hints).toContain(
      'setResult() is a method passed without its object: JavaScript methods are not bound as Python\'s are. Pass a function that calls it, e.g. loop.callSoon(() => obj.setResult(...))',
    );
    expect(hints).toContain(
      'cancel() is a method passed without its object: JavaScript methods are not bound as Python\'s are. Pass a function that calls it, e.g. loop.callSoon(() => obj.cancel(...))',
    );
  });
});

describe('trap 5: bad input is refused at the public call, naming it and the argument', () => {
  // Each row: the call as a user writes it, the error class, the exact message start.
  const rows: [string, (loop: EventLoop) => unknown, ErrorConstructor, RegExp][] = [
    ['createServer(f, host, 70000)', (loop) => loop.createServer(() => new Protocol(), '127.0.0.1', 70000), RangeError, /^createServer\(\): port must be an integer 0-65535 or a service name, got 70000$/],
    ['createConnection with a bad option value', (loop) => loop.createConnection(() => new Protocol(), '127.0.0.1', 1, { family: 3 }), TypeError, /^createConnection\(\): family must be AF_UNSPEC \(0\), AF_INET \(2\) or AF_INET6 \(10\), got 3$/],
    ['createConnection with an unknown option', (loop) => loop.createConnection(() => new Protocol(), '127.0.0.1', 1, { timeout: 5 } as never), TypeError, /^createConnection\(\): unknown option "timeout"; accepted: family, proto, flags, localAddr, /],
    ['createServer with an unknown option', (loop) => loop.createServer(() => new Protocol(), '127.0.0.1', 0, { reuse_address: true } as never), TypeError, /^createServer\(\): unknown option "reuse_address"; accepted: family, flags, sock, backlog, /],
    ['createUnixServer with an unknown option', (loop) => loop.createUnixServer(() => new Protocol(), '/tmp/x.sock', { mode: 0o600 } as never), TypeError, /^createUnixServer\(\): unknown option "mode"; accepted: sock, backlog, /],
    ['createUnixConnection with an unknown option', (loop) => loop.createUnixConnection(() => new Protocol(), '/tmp/x.sock', { timeout: 1 } as never), TypeError, /^createUnixConnection\(\): unknown option "timeout"; accepted: sock, ssl, /],
    ['fut.setException(\'str\')', (loop) => loop.createFuture().setException('str'), TypeError, /^setException\(\): exception must be an Error object \(asyncio: exceptions must derive from BaseException\), got .*str.*; write setException\(new Error\(message\)\)$/],
    ['new EventLoop(\'x\')', () => new EventLoop('x' as never), TypeError, /^new EventLoop\(options\): options must be an object such as \{ debug: true \}, got /],
    ['new EventLoop({ debg: true })', () => new EventLoop({ debg: true } as never), TypeError, /^new EventLoop\(options\): unknown option "debg"; accepted: debug$/],
    ['new EventLoop({ debug: 1 })', () => new EventLoop({ debug: 1 } as never), TypeError, /^new EventLoop\(options\): debug must be a boolean, got 1$/],
  ];

  it.each(rows)('%s throws at the call', (_label, call, errorClass, message) => {
    const loop = new EventLoop();
    try {
      let thrown: unknown;
      try {
        call(loop);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(errorClass);
      expect((thrown as Error).message).toMatch(message);
    } finally {
      loop.close();
    }
  });

  it('a Task that throws a string still fails with it (only the public setException checks)', async () => {
    const loop = new EventLoop();
    try {
      const error = await loop.runUntilComplete(async () => {
        throw 'plain string';
      }).catch((e: unknown) => e);
      expect(error).toBe('plain string');
    } finally {
      loop.close();
    }
  });
});

describe('trap 7: types as a user reads them (checked by the package typecheck)', () => {
  it('getsockname()[1] is a number for TCP, a string path for Unix; getExtraInfo<V>() is V | undefined; a string[] of signal names is accepted', async () => {
    await run(async () => {
      const loop = getRunningLoop();
      const server = await loop.createServer(() => new Protocol(), '127.0.0.1', 0);
      const port = server.sockets[0]!.getsockname()[1];
      expectTypeOf(port).toEqualTypeOf<number>();
      const [transport] = await loop.createConnection(() => new Protocol(), '127.0.0.1', port);
      const peer = transport.getExtraInfo<[string, number]>('peername');
      expectTypeOf(peer).toEqualTypeOf<[string, number] | undefined>();
      expect(peer?.[1]).toBe(port);
      const fallback = transport.getExtraInfo('no such key', 'none');
      expectTypeOf(fallback).toEqualTypeOf<string | undefined>();
      expect(fallback).toBe('none');
      const names = ['SIGUSR1', 'SIGUSR2']; // string[], no `as const`
      for (const name of names) loop.addSignalHandler(name, () => {});
      for (const name of names) expect(loop.removeSignalHandler(name)).toBe(true);
      expect(() => loop.addSignalHandler('SIGNOPE', () => {})).toThrow(RangeError);
      transport.close();
      server.close();
      await server.waitClosed();
      const dir = mkdtempSync(join(tmpdir(), 'aioloop-traps-'));
      try {
        const unix = await loop.createUnixServer(() => new Protocol(), join(dir, 's.sock'));
        const path = unix.sockets[0]!.getsockname();
        expectTypeOf(path).toEqualTypeOf<string>();
        expect(path).toBe(join(dir, 's.sock'));
        unix.close();
        await unix.waitClosed();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
