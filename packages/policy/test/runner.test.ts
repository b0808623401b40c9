import { afterEach, describe, expect, it } from 'vitest';
import { CancelledError, EventLoop, RuntimeError, allTasks, sleep, type ExceptionContext, type Task } from '@aioloop/core';
import { DefaultEventLoopPolicy, KeyboardInterrupt, Runner, getEventLoop, getEventLoopPolicy, run, setEventLoopPolicy } from '../src/index.js';
import { VirtualClockLoop } from './helpers.js';

const loops: EventLoop[] = [];
afterEach(() => {
  setEventLoopPolicy(null);
  for (const loop of loops.splice(0)) if (!loop.isRunning()) loop.close();
});

/** A loop that records the cleanup calls Runner makes and the errors it reports. */
class RecordingLoop extends EventLoop {
  readonly calls: string[] = [];
  readonly reported: ExceptionContext[] = [];
  constructor() {
    super({ debug: false });
    loops.push(this);
    this.setExceptionHandler((_loop, context) => this.reported.push(context));
  }
  override async shutdownAsyncgens(): Promise<void> {
    this.calls.push('shutdownAsyncgens');
    await super.shutdownAsyncgens();
  }
  override async shutdownDefaultExecutor(): Promise<void> {
    this.calls.push('shutdownDefaultExecutor');
    await super.shutdownDefaultExecutor();
  }
  override close(): void {
    this.calls.push('close');
    super.close();
  }
}

describe('run()', () => {
  it('returns the result of the main function', async () => {
    await expect(run(async () => 42)).resolves.toBe(42);
  });

  it('runs main as a task of a new loop that is running and current during main, then closes it', async () => {
    let loop: EventLoop | null = null;
    let task: Task<unknown> | null = null;
    await run(async () => {
      loop = getEventLoop();
      expect(getEventLoopPolicy().getEventLoop()).toBe(loop);
      task = allTasks(loop).values().next().value ?? null;
      await sleep(0.001);
      expect(loop.isRunning()).toBe(true);
    });
    expect(loop).toBeInstanceOf(EventLoop);
    expect(task).not.toBeNull();
    expect((loop as unknown as EventLoop).isClosed()).toBe(true);
    expect(() => getEventLoop()).toThrow(/no current event loop/);
  });

  it('creates a fresh loop for each call', async () => {
    const first = await run(async () => getEventLoop());
    const second = await run(async () => getEventLoop());
    expect(first).not.toBe(second);
    expect(first.isClosed() && second.isClosed()).toBe(true);
  });

  it('cancels a task left pending, runs its finally block, and closes the loop', async () => {
    const events: string[] = [];
    let leftover: Task<void> | null = null;
    let loop: EventLoop | null = null;
    await run(async () => {
      loop = getEventLoop();
      leftover = loop.createTask(async () => {
        try {
          events.push('leftover started');
          await sleep(3600);
          events.push('leftover finished sleeping');
        } finally {
          events.push('leftover finally');
        }
      });
      await sleep(0.001);
      events.push('main done');
    });
    expect(events).toEqual(['leftover started', 'main done', 'leftover finally']);
    expect((leftover as unknown as Task<void>).cancelled()).toBe(true);
    expect((loop as unknown as EventLoop).isClosed()).toBe(true);
  });

  it('lets a leftover task await inside its finally block while being cancelled', async () => {
    const events: string[] = [];
    await run(async () => {
      getEventLoop().createTask(async () => {
        try {
          await sleep(3600);
        } finally {
          await sleep(0.001);
          events.push('async cleanup done');
        }
      });
      await sleep(0);
    });
    expect(events).toEqual(['async cleanup done']);
  });

  it('reports a leftover task that fails while being cancelled to the exception handler', async () => {
    const loop = new RecordingLoop();
    const boom = new Error('cleanup failed');
    let failing: Task<void> | null = null;
    await run(
      async () => {
        failing = getEventLoop().createTask(async () => {
          try {
            await sleep(3600);
          } finally {
            // eslint-disable-next-line no-unsafe-finally
            throw boom;
          }
        });
        await sleep(0);
      },
      { loopFactory: () => loop },
    );
    expect(loop.reported).toHaveLength(1);
    expect(loop.reported[0]?.message).toBe('unhandled exception during run() shutdown');
    expect(loop.reported[0]?.exception).toBe(boom);
    expect(loop.reported[0]?.task).toBe(failing);
  });

  it('rethrows the error of main, the same object with its stack, after cleaning up', async () => {
    const events: string[] = [];
    let loop: EventLoop | null = null;
    async function failingMainFunction(): Promise<never> {
      loop = getEventLoop();
      loop.createTask(async () => {
        try {
          await sleep(3600);
        } finally {
          events.push('leftover finally');
        }
      });
      await sleep(0.001);
      throw new TypeError('main failed');
    }
    const error = await run(failingMainFunction).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('main failed');
    expect((error as Error).stack).toContain('failingMainFunction');
    expect(events).toEqual(['leftover finally']);
    expect((loop as unknown as EventLoop).isClosed()).toBe(true);
  });

  it('throws the CancelledError when main is cancelled by something other than Ctrl-C', async () => {
    const error = await run(async () => {
      const loop = getEventLoop();
      const self = [...allTasks(loop)][0] as Task<unknown>;
      loop.callSoon(() => self.cancel('stop now'));
      await sleep(3600);
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as Error).message).toBe('stop now');
  });

  it('shuts down async generators and the default executor, then closes the loop, in that order', async () => {
    const loop = new RecordingLoop();
    const events: string[] = [];
    async function* ticker(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        events.push('generator closed');
      }
    }
    await run(
      async () => {
        const gen = getEventLoop().trackAsyncgen(ticker());
        await gen.next();
      },
      { loopFactory: () => loop },
    );
    expect(events).toEqual(['generator closed']);
    expect(loop.calls).toEqual(['shutdownAsyncgens', 'shutdownDefaultExecutor', 'close']);
    expect(loop.isClosed()).toBe(true);
  });

  it('shuts down a default executor that main used', async () => {
    let loop: EventLoop | null = null;
    const result = await run(async () => {
      loop = getEventLoop();
      return await loop.runInExecutor<number>(null, (a: number, b: number) => a + b, 2, 3);
    });
    expect(result).toBe(5);
    expect((loop as unknown as EventLoop).isClosed()).toBe(true);
  });

  it('uses loopFactory instead of the policy and does not make that loop current', async () => {
    const loop = new RecordingLoop();
    let inside: EventLoop | null = null;
    await run(
      async () => {
        inside = getEventLoop();
        expect(() => getEventLoopPolicy().getEventLoop()).toThrow(RuntimeError);
      },
      { loopFactory: () => loop },
    );
    expect(inside).toBe(loop);
    expect(loop.isClosed()).toBe(true);
  });

  it('uses the policy newEventLoop() by default', async () => {
    class VirtualPolicy extends DefaultEventLoopPolicy {
      override newEventLoop(): EventLoop {
        const loop = new VirtualClockLoop();
        loops.push(loop);
        return loop;
      }
    }
    setEventLoopPolicy(new VirtualPolicy());
    const loop = await run(async () => getEventLoop());
    expect(loop).toBeInstanceOf(VirtualClockLoop);
  });

  it('sets debug mode on the loop when debug is given, and leaves it alone otherwise', async () => {
    expect(await run(async () => getEventLoop().getDebug(), { debug: true })).toBe(true);
    expect(await run(async () => getEventLoop().getDebug(), { debug: false })).toBe(false);
    const loop = new RecordingLoop();
    loop.setDebug(true);
    expect(await run(async () => getEventLoop().getDebug(), { loopFactory: () => loop })).toBe(true);
  });

  it('refuses a promise as main, saying to pass the function (asyncio.run() takes an unstarted coroutine)', async () => {
    // @ts-expect-error the types steer toward run(main)
    await expect(run(Promise.resolve('done'))).rejects.toThrow(/^run\(\) takes the async function itself: write run\(main\), not run\(main\(\)\)/);
    await expect(run(() => Promise.resolve('done'))).resolves.toBe('done');
  });

  it('refuses to run while a loop is running in this thread', async () => {
    const outer = new RecordingLoop();
    const error = await outer.runUntilComplete(async () => {
      const inner = run(async () => 1);
      return await inner.then(
        () => null,
        (e: unknown) => e,
      );
    });
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as Error).message).toBe('run() cannot be called from a running event loop');
    expect(outer.calls).toEqual([]);
  });

  it('refuses a second run() started while the first one runs', async () => {
    const first = run(async () => {
      await sleep(0.01);
      return 'first';
    });
    const second = run(async () => 'second');
    await expect(second).rejects.toThrow('run() cannot be called from a running event loop');
    await expect(first).resolves.toBe('first');
  });

  it.each([
    ['undefined', undefined],
    ['a number', 3],
    ['a plain object', {}],
  ])('rejects %s as main with a TypeError', async (_label, main) => {
    await expect(run(main as unknown as () => Promise<void>)).rejects.toThrow(
      /^run\(\) takes an async function, got /,
    );
    await expect(run(main as unknown as () => Promise<void>)).rejects.toBeInstanceOf(TypeError);
  });

  it('rejects bad options with TypeErrors', async () => {
    await expect(run(async () => 1, { debug: 'yes' as unknown as boolean })).rejects.toThrow(/debug must be a boolean/);
    await expect(run(async () => 1, { loopFactory: 5 as unknown as () => EventLoop })).rejects.toThrow(/loopFactory must be a function/);
    await expect(run(async () => 1, { loopFactory: () => ({}) as unknown as EventLoop })).rejects.toThrow(
      /loopFactory must return an EventLoop, got object/,
    );
  });
});

describe('Runner', () => {
  it('runs several functions on the same loop, and a task started in one run continues in the next', async () => {
    const runner = new Runner();
    const events: string[] = [];
    const loop = runner.getLoop();
    expect(getEventLoop()).toBe(loop);
    const a = await runner.run(async () => {
      getEventLoop().createTask(async () => {
        await sleep(0.005);
        events.push('background finished');
      });
      return getEventLoop();
    });
    const b = await runner.run(async () => {
      await sleep(0.05);
      return getEventLoop();
    });
    expect(a).toBe(loop);
    expect(b).toBe(loop);
    expect(events).toEqual(['background finished']);
    await runner.close();
    expect(loop.isClosed()).toBe(true);
    expect(() => getEventLoop()).toThrow(RuntimeError);
  });

  it('throws "Runner is closed" from run() and getLoop() after close, and closing again is harmless', async () => {
    const runner = new Runner();
    await runner.run(async () => undefined);
    await runner.close();
    await runner.close();
    await expect(runner.run(async () => 1)).rejects.toThrow(new RuntimeError('Runner is closed'));
    expect(() => runner.getLoop()).toThrow('Runner is closed');
  });

  it('close() before the loop exists does nothing and leaves the runner usable', async () => {
    const runner = new Runner();
    await runner.close();
    await expect(runner.run(async () => 7)).resolves.toBe(7);
    await runner.close();
  });

  it('close() while its loop runs is refused and changes nothing', async () => {
    const runner = new Runner();
    const events: string[] = [];
    const result = await runner.run(async () => {
      const error = await runner.close().then(
        () => null,
        (e: unknown) => e,
      );
      events.push(error instanceof RuntimeError ? (error as Error).message : 'no error');
      return getEventLoop().isClosed();
    });
    expect(events).toEqual(['Runner.close() cannot be called while its loop is running; await run() first']);
    expect(result).toBe(false);
    await runner.close();
    expect(() => runner.getLoop()).toThrow('Runner is closed');
  });

  it('is closed by await using at the end of the scope, cancelling what was left', async () => {
    const events: string[] = [];
    let loop: EventLoop | null = null;
    {
      await using runner = new Runner();
      loop = runner.getLoop();
      await runner.run(async () => {
        getEventLoop().createTask(async () => {
          try {
            await sleep(3600);
          } finally {
            events.push('finally');
          }
        });
        await sleep(0);
      });
      expect(events).toEqual([]);
    }
    expect(events).toEqual(['finally']);
    expect(loop.isClosed()).toBe(true);
  });

  it('Runner.run() refuses to run inside a running loop with its own message', async () => {
    const runner = new Runner();
    const outer = new RecordingLoop();
    const message = await outer.runUntilComplete(async () =>
      runner.run(async () => 1).then(
        () => '',
        (e: unknown) => (e as Error).message,
      ),
    );
    expect(message).toBe('Runner.run() cannot be called from a running event loop');
    await runner.close();
  });

  it('rejects bad constructor options with TypeErrors', () => {
    expect(() => new Runner(null as unknown as object)).toThrow(TypeError);
    expect(() => new Runner({ debug: 1 as unknown as boolean })).toThrow(/Runner\(\): debug must be a boolean/);
    expect(() => new Runner({ loopFactory: {} as unknown as () => EventLoop })).toThrow(/Runner\(\): loopFactory must be a function/);
  });

  it('does not install a SIGINT listener when one is already there, and removes its own after run()', async () => {
    const before = process.listenerCount('SIGINT');
    const runner = new Runner();
    const during = await runner.run(async () => process.listenerCount('SIGINT'));
    await runner.close();
    expect(process.listenerCount('SIGINT')).toBe(before);
    if (before === 0) expect(during).toBe(1);
    else expect(during).toBe(before);
    const own = (): void => {};
    process.on('SIGINT', own);
    try {
      const withOwn = await run(async () => process.listeners('SIGINT'));
      expect(withOwn).toEqual([...process.listeners('SIGINT')]);
    } finally {
      process.removeListener('SIGINT', own);
    }
  });

  it('exports KeyboardInterrupt as an Error named KeyboardInterrupt', () => {
    const error = new KeyboardInterrupt();
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('KeyboardInterrupt');
  });
});
