import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ThreadPoolExecutor, isFuture, sleep, type Executor } from '../src/index.js';
import { newLoop } from './support.js';


describe('runInExecutor', () => {
  it('runs a function on the default worker-thread pool and returns a Future of its result', async () => {
    const loop = newLoop();
    const result = await loop.runUntilComplete(async () => {
      const fut = loop.runInExecutor<number>(null, (a: number, b: number) => {
        // Runs in a worker thread: prove it.
        const { isMainThread } = require('node:worker_threads');
        return isMainThread ? -1 : a * b;
      }, 6, 7);
      expect(isFuture(fut)).toBe(true);
      return await fut;
    });
    expect(result).toBe(42);
    await loop.shutdownDefaultExecutor();
  });

  it('uses the executor passed in, or the one set with setDefaultExecutor', async () => {
    const loop = newLoop();
    const calls: string[] = [];
    const fake: Executor = {
      submit: async (fn, args) => {
        calls.push('submit');
        return (fn as (...a: unknown[]) => unknown)(...args);
      },
      shutdown: async () => {
        calls.push('shutdown');
      },
    };
    loop.setDefaultExecutor(fake);
    const v = await loop.runUntilComplete(() => loop.runInExecutor<number>(null, (x: number) => x + 1, 1));
    expect(v).toBe(2);
    await loop.shutdownDefaultExecutor();
    expect(calls).toEqual(['submit', 'shutdown']);
    expect(() => loop.runInExecutor(null, () => 1)).toThrow(/Executor shutdown has been called/);
    expect(() => loop.setDefaultExecutor({} as never)).toThrow(/setDefaultExecutor\(\) takes an Executor/);
    expect(() => loop.runInExecutor('pool' as never, () => 1)).toThrow(/runInExecutor\(\) takes an Executor/);
  });

  it('an error in the worker rejects the Future with that error', async () => {
    const loop = newLoop();
    const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    try {
      await expect(
        loop.runUntilComplete(() =>
          loop.runInExecutor(pool, () => {
            throw new RangeError('in worker');
          }),
        ),
      ).rejects.toThrow('in worker');
    } finally {
      await pool.shutdown(true);
    }
  });

  it('a function that cannot be sent is refused with a clear error at the call', () => {
    const loop = newLoop();
    const captured = 5;
    expect(() => loop.runInExecutor(null, Math.max)).toThrow(/native/);
    expect(() => loop.runInExecutor(null, (() => captured).bind(null))).toThrow(/bound/);
  });

  it('cancelling the Future withdraws work still queued', async () => {
    const loop = newLoop();
    const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    try {
      const ran = await loop.runUntilComplete(async () => {
        const blocker = loop.runInExecutor(pool, () => {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
          return 'first';
        });
        const queued = loop.runInExecutor(pool, () => 'second');
        queued.cancel();
        return [await blocker, queued.cancelled(), pool.queuedCount];
      });
      expect(ran).toEqual(['first', true, 0]);
    } finally {
      await pool.shutdown(true);
    }
  });

  it('shutdownDefaultExecutor(timeout) stops waiting for a stuck job and terminates it', async () => {
    const loop = newLoop();
    const { setLogger } = await import('../src/index.js');
    const warnings: string[] = [];
    setLogger({ debug() {}, warn: (m) => warnings.push(m), error() {} });
    try {
      await loop.runUntilComplete(async () => {
        void loop.runInExecutor(null, () => {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
        });
        await sleep(0.05);
      });
      const start = Date.now();
      await loop.shutdownDefaultExecutor(0.1);
      expect(Date.now() - start).toBeLessThan(5000);
      expect(warnings.join()).toMatch(/did not finish joining its threads within 0.1 seconds/);
    } finally {
      setLogger(null);
    }
    await expect(loop.shutdownDefaultExecutor(Number.NaN)).rejects.toThrow(TypeError);
  });
});

describe('callSoonThreadsafe bridge for worker threads', () => {
  it('a worker schedules a registered callback with cloned arguments, as a loop callback', async () => {
    const loop = newLoop();
    const received: unknown[] = [];
    const bridge = loop.createThreadsafeBridge({
      progress: (n: number, info: { label: string }) => {
        received.push([n, info.label, loop.isRunning()]);
        if (n === 3) loop.stop();
      },
    });
    // The worker runs the real worker-side module, compiled to CommonJS here.
    const source = readFileSync(new URL('../src/loop/remote-loop.ts', import.meta.url), 'utf8');
    const compiled = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    const worker = new Worker(
      `
      const { workerData } = require('node:worker_threads');
      const module = { exports: {} };
      (function (exports, module) { ${compiled} })(module.exports, module);
      const remote = module.exports.connectLoopBridge(workerData.port);
      for (let i = 1; i <= 3; i++) remote.callSoonThreadsafe('progress', i, { label: 'step ' + i });
      `,
      { eval: true, workerData: { port: bridge.port }, transferList: [bridge.port] },
    );
    try {
      await loop.runForever();
    } finally {
      await worker.terminate();
      bridge.close();
    }
    expect(received.slice(0, 3)).toEqual([
      [1, 'step 1', true],
      [2, 'step 2', true],
      [3, 'step 3', true],
    ]);
  });

  it('rejects non-function callbacks in the registry', () => {
    const loop = newLoop();
    expect(() => loop.createThreadsafeBridge({ bad: 3 as never })).toThrow(/callback 'bad' must be a function/);
  });
});

describe('async generators', () => {
  it('shutdownAsyncgens closes every tracked generator so its finally runs', async () => {
    const loop = newLoop();
    const closed: string[] = [];
    async function* numbers(name: string): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed.push(name);
      }
    }
    await loop.runUntilComplete(async () => {
      const a = loop.trackAsyncgen(numbers('a'));
      const b = loop.trackAsyncgen(numbers('b'));
      await a.next();
      await b.next();
    });
    await loop.shutdownAsyncgens();
    expect(closed.sort()).toEqual(['a', 'b']);
    expect(() => loop.trackAsyncgen({} as never)).toThrow(/takes an async generator/);
  });
});
