import { describe, expect, it, vi } from 'vitest';
import {
  EventLoop,
  MissingPackageError,
  RuntimeError,
  getRunningLoop,
  type ExceptionContext,
} from '../src/index.js';
import { newLoop } from './support.js';


/** Runs until `loop.stop()` or at most `ms` of real time. */
async function runBriefly(loop: EventLoop, seconds = 0.05): Promise<void> {
  loop.callLater(seconds, () => loop.stop());
  await loop.runForever();
}

/** Counts the Node turns (immediates, and timers with their delays) scheduled while `body` runs. */
async function countNodeTurns(body: () => Promise<void>): Promise<{ immediates: number; timeoutsMs: number[] }> {
  const counts = { immediates: 0, timeoutsMs: [] as number[] };
  const realSetImmediate = globalThis.setImmediate;
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setImmediate = ((cb: (...a: unknown[]) => void, ...args: unknown[]) => {
    counts.immediates++;
    return realSetImmediate(cb, ...args);
  }) as typeof setImmediate;
  globalThis.setTimeout = ((cb: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    counts.timeoutsMs.push(ms ?? 0);
    return realSetTimeout(cb, ms, ...args);
  }) as typeof setTimeout;
  try {
    await body();
  } finally {
    globalThis.setImmediate = realSetImmediate;
    globalThis.setTimeout = realSetTimeout;
  }
  return counts;
}

describe('scheduling order', () => {
  it('runs callSoon callbacks in FIFO order with their arguments', async () => {
    const loop = newLoop();
    const seen: unknown[] = [];
    for (let i = 0; i < 5; i++) loop.callSoon((a: number, b: string) => seen.push(`${a}${b}`), i, 'x');
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    expect(seen).toEqual(['0x', '1x', '2x', '3x', '4x']);
  });

  it('runs ready callbacks before timers that fell due in the same iteration', async () => {
    const loop = newLoop();
    const seen: string[] = [];
    loop.callLater(0, () => seen.push('a'));
    loop.callSoon(() => seen.push('b'));
    loop.callLater(0.01, () => loop.stop());
    await loop.runForever();
    expect(seen).toEqual(['b', 'a']);
  });

  it('fires timers with equal deadlines in the order they were scheduled', async () => {
    const loop = newLoop();
    const seen: number[] = [];
    const when = loop.time() + 0.005;
    for (let i = 0; i < 20; i++) loop.callAt(when, () => seen.push(i));
    await runBriefly(loop, 0.02);
    expect(seen).toEqual([...Array(20).keys()]);
  });

  it('accepts negative delays and orders them by deadline', async () => {
    const loop = newLoop();
    const seen: string[] = [];
    loop.callLater(-1, () => seen.push('-1'));
    loop.callLater(-5, () => seen.push('-5'));
    loop.callLater(0, () => seen.push('0'));
    await runBriefly(loop, 0.01);
    expect(seen).toEqual(['-5', '-1', '0']);
  });

  it('orders timers by deadline, not by scheduling order', async () => {
    const loop = newLoop();
    const seen: number[] = [];
    loop.callLater(0.03, () => seen.push(3));
    loop.callLater(0.01, () => seen.push(1));
    loop.callLater(0.02, () => seen.push(2));
    await runBriefly(loop, 0.06);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('runs callbacks scheduled by a callback in the next iteration, after the ones already ready', async () => {
    const loop = newLoop();
    const seen: string[] = [];
    loop.callSoon(() => {
      seen.push('a');
      loop.callSoon(() => seen.push('c'));
    });
    loop.callSoon(() => seen.push('b'));
    // Stop two iterations in, not by a timer: on a loaded machine a 10 ms timer is
    // already due in the first iteration, and stop() then ends the run before 'c'.
    loop.callSoon(() => loop.callSoon(() => loop.stop()));
    await loop.runForever();
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('does not fire a timer before its deadline', async () => {
    const loop = newLoop();
    const start = loop.time();
    let firedAt = -1;
    loop.callLater(0.03, () => {
      firedAt = loop.time();
      loop.stop();
    });
    await loop.runForever();
    expect(firedAt - start).toBeGreaterThanOrEqual(0.03);
  });

  it('schedules callAt relative to loop.time()', async () => {
    const loop = newLoop();
    const when = loop.time() + 0.02;
    const handle = loop.callAt(when, () => loop.stop());
    expect(handle.when()).toBe(when);
    await loop.runForever();
    expect(loop.time()).toBeGreaterThanOrEqual(when);
  });
});

describe('cancellation of handles', () => {
  it('never runs a cancelled handle or timer', async () => {
    const loop = newLoop();
    const seen: string[] = [];
    const h = loop.callSoon(() => seen.push('soon'));
    const t = loop.callLater(0.001, () => seen.push('later'));
    h.cancel();
    t.cancel();
    expect(h.cancelled()).toBe(true);
    expect(t.cancelled()).toBe(true);
    await runBriefly(loop, 0.02);
    expect(seen).toEqual([]);
  });

  it('a callback can cancel one queued after it in the same iteration', async () => {
    const loop = newLoop();
    const seen: string[] = [];
    let second: { cancel(): void } | null = null;
    loop.callSoon(() => second?.cancel());
    second = loop.callSoon(() => seen.push('second'));
    await runBriefly(loop, 0.01);
    expect(seen).toEqual([]);
  });

  it('purges cancelled timers so 100,000 of them do not stay in the heap', async () => {
    const loop = newLoop();
    for (let i = 0; i < 100_000; i++) loop.callLater(1000 + i, () => {}).cancel();
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    expect(loop._timers.length).toBeLessThan(1000);
  });
});

describe('stop()', () => {
  it('callSoon(stop) then runForever runs exactly one iteration', async () => {
    const loop = newLoop();
    const seen: string[] = [];
    loop.callSoon(() => loop.stop());
    loop.callSoon(() => {
      seen.push('same iteration');
      loop.callSoon(() => seen.push('next iteration'));
    });
    await loop.runForever();
    expect(seen).toEqual(['same iteration']);
    // The callback scheduled during that iteration waits for the next run.
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    expect(seen).toEqual(['same iteration', 'next iteration']);
  });

  it('stop() before runForever() runs one iteration then returns', async () => {
    const loop = newLoop();
    let ran = 0;
    loop.callSoon(() => ran++);
    loop.stop();
    await loop.runForever();
    expect(ran).toBe(1);
    expect(loop.isRunning()).toBe(false);
  });

  it('runUntilComplete of an already done future runs one iteration', async () => {
    const loop = newLoop();
    const fut = loop.createFuture<number>();
    fut.setResult(7);
    const seen: string[] = [];
    loop.callSoon(() => {
      seen.push('first');
      loop.callSoon(() => seen.push('second'));
    });
    expect(await loop.runUntilComplete(fut)).toBe(7);
    expect(seen).toEqual(['first']);
  });

  it('stop() from outside the loop (a Node timer) wakes an idle loop', async () => {
    const loop = newLoop();
    setTimeout(() => loop.stop(), 10);
    await loop.runForever();
    expect(loop.isRunning()).toBe(false);
  });
});

describe('lifecycle', () => {
  it('reports isRunning() and getRunningLoop() while running', async () => {
    const loop = newLoop();
    let inside: EventLoop | null = null;
    let running = false;
    loop.callSoon(() => {
      inside = getRunningLoop();
      running = loop.isRunning();
      loop.stop();
    });
    expect(loop.isRunning()).toBe(false);
    await loop.runForever();
    expect(inside).toBe(loop);
    expect(running).toBe(true);
    expect(() => getRunningLoop()).toThrow(/no running event loop/);
  });

  it('rejects running a loop that is already running', async () => {
    const loop = newLoop();
    let error: unknown;
    loop.callSoon(() => {
      loop.runForever().catch((e: unknown) => (error = e));
      loop.callSoon(() => loop.stop());
    });
    await loop.runForever();
    expect(error).toBeInstanceOf(RuntimeError);
    expect(String(error)).toMatch(/already running/);
  });

  it('rejects running a second loop while another runs in the same thread', async () => {
    const a = newLoop();
    const b = newLoop();
    let error: unknown;
    a.callSoon(() => {
      b.runForever().catch((e: unknown) => (error = e));
      a.callSoon(() => a.stop());
    });
    await a.runForever();
    expect(String(error)).toMatch(/another loop is running/);
  });

  it('after close(), scheduling and running throw "Event loop is closed" but createFuture works', async () => {
    const loop = newLoop();
    loop.close();
    expect(loop.isClosed()).toBe(true);
    expect(() => loop.callSoon(() => {})).toThrow('Event loop is closed');
    expect(() => loop.callSoonThreadsafe(() => {})).toThrow('Event loop is closed');
    expect(() => loop.callLater(1, () => {})).toThrow('Event loop is closed');
    expect(() => loop.callAt(1, () => {})).toThrow('Event loop is closed');
    expect(() => loop.createTask(async () => 1)).toThrow('Event loop is closed');
    await expect(loop.runForever()).rejects.toThrow('Event loop is closed');
    await expect(loop.runUntilComplete(async () => 1)).rejects.toThrow('Event loop is closed');
    const fut = loop.createFuture<number>();
    expect(fut.done()).toBe(false);
    loop.close(); // twice is harmless
  });

  it('cannot close a running loop', async () => {
    const loop = newLoop();
    let error: unknown;
    loop.callSoon(() => {
      try {
        loop.close();
      } catch (e) {
        error = e;
      }
      loop.stop();
    });
    await loop.runForever();
    expect(String(error)).toMatch(/Cannot close a running event loop/);
  });

  it('runUntilComplete returns the result of an async function and rethrows its error', async () => {
    const loop = newLoop();
    expect(await loop.runUntilComplete(async () => 41 + 1)).toBe(42);
    await expect(
      loop.runUntilComplete(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await loop.runUntilComplete(Promise.resolve('p'))).toBe('p');
  });

  it('runUntilComplete throws if the loop is stopped before the future completes', async () => {
    const loop = newLoop();
    const fut = loop.createFuture<void>();
    loop.callSoon(() => loop.stop());
    await expect(loop.runUntilComplete(fut)).rejects.toThrow('Event loop stopped before Future completed.');
  });

  it('rejects a future of another loop in runUntilComplete', async () => {
    const a = newLoop();
    const b = newLoop();
    await expect(a.runUntilComplete(b.createFuture())).rejects.toThrow(/different loop/);
  });
});

describe('bad arguments', () => {
  it('rejects non-function callbacks with a clear TypeError', () => {
    const loop = newLoop();
    expect(() => loop.callSoon(42 as never)).toThrow(/callSoon\(\): the callback must be a function, got 42/);
    expect(() => loop.callLater(1, 'x' as never)).toThrow(/callLater\(\): the callback must be a function/);
    expect(() => loop.callAt(1, null as never)).toThrow(TypeError);
  });

  it('rejects async functions as callbacks', () => {
    const loop = newLoop();
    expect(() => loop.callSoon(async () => {})).toThrow(/async functions cannot be used as callbacks.*createTask/);
    expect(() => loop.callLater(0, async function named() {})).toThrow(TypeError);
  });

  it('rejects NaN and non-number delays', () => {
    const loop = newLoop();
    expect(() => loop.callLater(Number.NaN, () => {})).toThrow(/delay must be a number of seconds.*got NaN/);
    expect(() => loop.callLater('1' as never, () => {})).toThrow(/got "1"/);
    expect(() => loop.callAt(undefined as never, () => {})).toThrow(/when must be a number/);
  });

  it('a failed call leaves nothing scheduled', async () => {
    const loop = newLoop();
    expect(() => loop.callLater(Number.NaN, () => {})).toThrow();
    expect(loop._timers.length).toBe(0);
  });
});

describe('timers at the edges', () => {
  it('callLater(Infinity) never fires and does not keep the loop busy', async () => {
    const loop = newLoop();
    let fired = false;
    loop.callLater(Infinity, () => (fired = true));
    await runBriefly(loop, 0.03);
    expect(fired).toBe(false);
  });

  it('a deadline beyond Node setTimeout limit (2^31-1 ms) does not fire early', async () => {
    const loop = newLoop();
    let fired = false;
    loop.callLater(30 * 24 * 3600, () => (fired = true));
    await runBriefly(loop, 0.03);
    expect(fired).toBe(false);
  });

  it('tiny delays do not busy-spin the loop', async () => {
    const loop = newLoop();
    let iterations = 0;
    const tick = (): void => {
      iterations++;
    };
    loop.callLater(0.0002, tick);
    // A busy spin shows as many Node turns scheduled (immediates or 0 ms timers);
    // counting them proves the loop slept, whatever the machine's load.
    const turns = await countNodeTurns(() => runBriefly(loop, 0.05));
    expect(iterations).toBe(1);
    expect(turns.timeoutsMs.every((ms) => ms >= 1)).toBe(true);
    expect(turns.immediates + turns.timeoutsMs.length).toBeLessThan(10);
  });
});

describe('idle and liveness', () => {
  it('an idle running loop sleeps in one Node timer instead of polling', async () => {
    const loop = newLoop();
    loop.callLater(0.2, () => loop.stop());
    const turns = await countNodeTurns(() => loop.runForever());
    // One timer for the 0.2 s deadline (a re-arm if Node fires it a hair early).
    expect(turns.timeoutsMs.length).toBeGreaterThanOrEqual(1);
    expect(turns.timeoutsMs.length).toBeLessThanOrEqual(3);
    expect(turns.immediates).toBeLessThanOrEqual(2);
  });

  it('a callback that reschedules itself forever does not starve timers or Node I/O', async () => {
    const loop = newLoop();
    let spins = 0;
    const spin = (): void => {
      spins++;
      loop.callSoon(spin);
    };
    loop.callSoon(spin);
    let nodeTimerAt = -1;
    let loopTimerAt = -1;
    const stopWhenBothRan = (): void => {
      // Stop a few spins later, proving the spinning callback kept going too.
      if (nodeTimerAt >= 0 && loopTimerAt >= 0) loop.callSoon(() => loop.callSoon(() => loop.stop()));
    };
    setTimeout(() => {
      nodeTimerAt = spins;
      loop.callSoonThreadsafe(stopWhenBothRan);
    }, 5);
    loop.callLater(0.01, () => {
      loopTimerAt = spins;
      stopWhenBothRan();
    });
    await loop.runForever();
    expect(nodeTimerAt).toBeGreaterThan(0);
    expect(loopTimerAt).toBeGreaterThan(0);
    expect(spins).toBeGreaterThan(Math.max(nodeTimerAt, loopTimerAt));
  });

  it('a loop with only far timers arms a single Node timer', async () => {
    const loop = newLoop();
    // Track the Node timers armed for far deadlines (the test's own timers are short).
    const live = new Set<unknown>();
    const realSetTimeout = globalThis.setTimeout;
    const realClearTimeout = globalThis.clearTimeout;
    globalThis.setTimeout = ((cb: () => void, ms?: number) => {
      const timer = realSetTimeout(cb, ms);
      if ((ms ?? 0) >= 3_000_000) live.add(timer);
      return timer;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((timer: NodeJS.Timeout) => {
      live.delete(timer);
      realClearTimeout(timer);
    }) as typeof clearTimeout;
    let armed = -1;
    try {
      for (let i = 0; i < 1000; i++) loop.callLater(3600 + i, () => {});
      // Checked from a Node timer started by the running loop, once it has gone idle.
      loop.callSoon(() => {
        realSetTimeout(() => {
          armed = live.size;
          loop.stop();
        }, 30);
      });
      await loop.runForever();
    } finally {
      globalThis.setTimeout = realSetTimeout;
      globalThis.clearTimeout = realClearTimeout;
    }
    expect(armed).toBe(1);
    expect(live.size).toBe(0); // cleared when the loop stopped
  });

  it('callSoonThreadsafe from outside the loop wakes an idle loop at once, not at its next timer', async () => {
    const loop = newLoop();
    let woke = false;
    loop.callSoon(() => {
      setTimeout(() => {
        loop.callSoonThreadsafe(() => {
          woke = true;
          loop.stop();
        });
      }, 10);
    });
    // The loop's only timer is an hour away: without a wakeup, the callback would
    // wait for it (and this test would hit its timeout).
    loop.callLater(3600, () => {});
    await loop.runForever();
    expect(woke).toBe(true);
  });

  // Each script runs in a child Node process, whose output says whether it exited on its own.
  it.each([
    [
      'keeps the Node process alive while runForever() is pending with nothing scheduled',
      `
        // Nothing else keeps the process alive: this timer is unref'ed.
        setTimeout(() => { console.log('still alive'); process.exit(0); }, 300).unref();
        await loop.runForever();
        console.log('runForever returned early');`,
      'still alive',
    ],
    [
      'releases every ref-ed Node handle after stop so the process can exit',
      `
        loop.callLater(3600, () => {});
        loop.callLater(0.01, () => loop.stop());
        await loop.runForever();
        console.log('stopped');`,
      'stopped',
    ],
  ])('%s', async (_name, body, expected) => {
    const { execFileSync } = await import('node:child_process');
    const script = `
      import { EventLoop } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).pathname)};
      const loop = new EventLoop();${body}
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 15_000,
      encoding: 'utf8',
      cwd: new URL('..', import.meta.url).pathname,
    });
    expect(out.trim()).toBe(expected);
  });
});

describe('exception handling', () => {
  it('reports an exception in a callback and keeps running', async () => {
    const loop = newLoop();
    const contexts: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => contexts.push(ctx));
    const seen: string[] = [];
    const handle = loop.callSoon(function failing() {
      throw new Error('bad callback');
    });
    loop.callSoon(() => seen.push('after'));
    await runBriefly(loop, 0.01);
    expect(seen).toEqual(['after']);
    expect(contexts).toHaveLength(1);
    expect(contexts[0]?.message).toMatch(/^Exception in callback <Handle failing\(\)>/);
    expect((contexts[0]?.exception as Error).message).toBe('bad callback');
    expect(contexts[0]?.handle).toBe(handle);
  });

  it('get/setExceptionHandler round-trips and null restores the default', () => {
    const loop = newLoop();
    const h = (): void => {};
    expect(loop.getExceptionHandler()).toBeNull();
    loop.setExceptionHandler(h);
    expect(loop.getExceptionHandler()).toBe(h);
    loop.setExceptionHandler(null);
    expect(loop.getExceptionHandler()).toBeNull();
    expect(() => loop.setExceptionHandler('x' as never)).toThrow(/setExceptionHandler\(\) takes a function/);
  });

  it('an exception handler that throws is logged by the default handler, not propagated', async () => {
    const loop = newLoop();
    const { setLogger } = await import('../src/index.js');
    const errors: string[] = [];
    setLogger({ debug() {}, warn() {}, error: (m) => errors.push(m) });
    try {
      loop.setExceptionHandler(() => {
        throw new Error('handler broke');
      });
      loop.callExceptionHandler({ message: 'original problem' });
      expect(errors.join('\n')).toMatch(/Unhandled error in exception handler/);
      expect(errors.join('\n')).toMatch(/handler broke/);
    } finally {
      setLogger(null);
    }
  });

  it('the default handler logs message, context keys and the stack', async () => {
    const loop = newLoop();
    const { setLogger } = await import('../src/index.js');
    const errors: string[] = [];
    setLogger({ debug() {}, warn() {}, error: (m) => errors.push(m) });
    try {
      loop.defaultExceptionHandler({ message: 'it broke', exception: new Error('deep'), transport: 'T' });
      expect(errors[0]).toMatch(/^it broke/);
      expect(errors[0]).toMatch(/transport: "T"/);
      expect(errors[0]).toMatch(/Error: deep\n\s+at /);
    } finally {
      setLogger(null);
    }
  });

  it('callExceptionHandler rejects a context without a message', () => {
    const loop = newLoop();
    expect(() => loop.callExceptionHandler({} as never)).toThrow(/string 'message'/);
  });
});

describe('debug mode', () => {
  it('logs slow callbacks with what ran', async () => {
    const loop = newLoop();
    loop.setDebug(true);
    expect(loop.getDebug()).toBe(true);
    loop.slowCallbackDuration = 0.01;
    const { setLogger } = await import('../src/index.js');
    const warnings: string[] = [];
    setLogger({ debug() {}, warn: (m) => warnings.push(m), error() {} });
    try {
      loop.callSoon(function slowOne() {
        const end = Date.now() + 30;
        while (Date.now() < end);
      });
      await runBriefly(loop, 0.05);
    } finally {
      setLogger(null);
    }
    const logged = warnings.join('\n').match(/Executing <Handle slowOne\(\) created at .*loop\.test\.ts.*> took (\d+\.\d{3}) seconds/);
    expect(logged).not.toBeNull();
    // At least the 30 ms it busy-waited; a loaded machine may make it longer.
    expect(Number(logged![1])).toBeGreaterThanOrEqual(0.02);
  });

  it('handles remember where they were created in debug mode only', () => {
    const loop = newLoop();
    expect(loop.callSoon(() => {})._sourceTraceback).toBeUndefined();
    loop.setDebug(true);
    expect(loop.callSoon(() => {})._sourceTraceback).toMatch(/loop\.test\.ts/);
    expect(loop.createFuture()._sourceTraceback).toMatch(/loop\.test\.ts/);
  });

  it('the default logger writes debug records to stderr, never to stdout (Python\'s logging does not either)', () => {
    // The asyncio-docs ports (apps/ports) compare a program's stdout with
    // CPython's: a debug loop's "Close <...>" on stdout (console.debug) broke that.
    const toStderr = vi.spyOn(console, 'error').mockImplementation(() => {});
    const toStdout = [vi.spyOn(console, 'debug'), vi.spyOn(console, 'log'), vi.spyOn(console, 'info')];
    try {
      new EventLoop({ debug: true }).close();
      expect(toStderr.mock.calls).toEqual([[expect.stringMatching(/^Close <\w*Loop running=false closed=false debug=true>$/)]]);
      for (const spy of toStdout) expect(spy).not.toHaveBeenCalled();
    } finally {
      toStderr.mockRestore();
      for (const spy of toStdout) spy.mockRestore();
    }
  });

  it('AIOLOOP_DEBUG=1 turns debug mode on', () => {
    const previous = process.env.AIOLOOP_DEBUG;
    process.env.AIOLOOP_DEBUG = '1';
    try {
      expect(new EventLoop().getDebug()).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.AIOLOOP_DEBUG;
      else process.env.AIOLOOP_DEBUG = previous;
    }
    expect(() => newLoop().setDebug('yes' as never)).toThrow(TypeError);
  });
});

describe('extension methods', () => {
  it('without @aioloop/net, loop.createConnection throws an error naming the package', () => {
    const loop = newLoop() as unknown as Record<string, (...args: unknown[]) => unknown>;
    expect(() => loop.createConnection!(() => ({}), '127.0.0.1', 1)).toThrow(MissingPackageError);
    expect(() => loop.createConnection!()).toThrow(/@aioloop\/net/);
    expect(() => loop.subprocessExec!()).toThrow(/@aioloop\/subprocess/);
    expect(() => loop.addSignalHandler!()).toThrow(/@aioloop\/signals/);
  });

  it('installLoopMethods adds a method to every loop and refuses to replace core methods', async () => {
    const { installLoopMethods, loopMethodProvider } = await import('../src/index.js');
    installLoopMethods('my-transport', { openThing(this: EventLoop, x: number) { return [this, x]; } } as never, EventLoop.prototype);
    const loop = newLoop() as unknown as { openThing(x: number): unknown[] };
    expect(loop.openThing(3)).toEqual([loop, 3]);
    expect(loopMethodProvider('openThing')).toBe('my-transport');
    expect(() => installLoopMethods('other', { openThing() {} } as never, EventLoop.prototype)).toThrow(/already installed by my-transport/);
    expect(() => installLoopMethods('evil', { callSoon() {} } as never, EventLoop.prototype)).toThrow(/core loop method/);
  });
});
