import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  ExecutorShutdownError,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
  WorkerCallableError,
  WorkerCrashedError,
  workerFunction,
  type Executor,
} from '../src/executor/index.js';

const fixture = new URL('./fixtures/executor-functions.mjs', import.meta.url);

type Pool = ThreadPoolExecutor | ProcessPoolExecutor;
interface PoolOptions {
  maxWorkers?: number;
  idleTimeoutMs?: number;
}

const created: Pool[] = [];
afterEach(async () => {
  await Promise.all(created.splice(0).map((pool) => pool.terminate()));
});

const kinds: [string, (options?: PoolOptions) => Pool][] = [
  ['ThreadPoolExecutor', (options) => track(new ThreadPoolExecutor(options))],
  ['ProcessPoolExecutor', (options) => track(new ProcessPoolExecutor(options))],
];

function track<P extends Pool>(pool: P): P {
  created.push(pool);
  return pool;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Blocks the worker for `ms` and returns [start, end] wall-clock times. */
const block = (ms: number, tag: number): [number, number, number] => {
  const start = Date.now();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return [tag, start, Date.now()];
};

/**
 * Writes `dir/me` and waits (up to 15 s, generous on a loaded machine) for
 * `dir/other`: true only if both jobs were running at the same time.
 */
const rendezvous = (dir: string, me: string, other: string): boolean => {
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  fs.writeFileSync(path.join(dir, me), '');
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 1500; i++) {
    if (fs.existsSync(path.join(dir, other))) return true;
    Atomics.wait(nap, 0, 0, 10);
  }
  return false;
};

describe.each(kinds)('%s', (kind, make) => {
  it('runs a plain function with arguments, starting a worker only on first submit', async () => {
    const pool = make();
    expect(pool.workerCount).toBe(0);
    const result = (await pool.submit(
      (a: number, b: { n: number }) => ({
        value: a * b.n,
        mainThread: require('node:worker_threads').isMainThread as boolean,
        pid: process.pid,
      }),
      [6, { n: 7 }],
    )) as { value: number; mainThread: boolean; pid: number };
    expect(result.value).toBe(42);
    if (kind === 'ProcessPoolExecutor') {
      expect(result.pid).not.toBe(process.pid);
    } else {
      expect(result.pid).toBe(process.pid);
      expect(result.mainThread).toBe(false);
    }
    expect(pool.workerCount).toBe(1);
  });

  it('awaits an async function, which may use await import()', async () => {
    const pool = make();
    const result = await pool.submit(
      async (ms: number, text: string) => {
        const { setTimeout: sleep } = await import('node:timers/promises');
        await sleep(ms);
        return `${text} after ${ms}`;
      },
      [30, 'done'],
    );
    expect(result).toBe('done after 30');
  });

  it('calls `this`-free functions with this === undefined', async () => {
    const pool = make();
    expect(await pool.submit(function (this: unknown) { return this === undefined; }, [])).toBe(true);
  });

  it('runs module exports named by workerFunction(), loading each module once per worker', async () => {
    const pool = make({ maxWorkers: 1 });
    expect(await pool.submit(workerFunction(fixture), [2, 3])).toBe(5);
    expect(await pool.submit(workerFunction(fileURLToPath(fixture), 'slowUpper'), ['abc', 10])).toBe('ABC');
    expect(await pool.submit(workerFunction(fixture, 'countCalls'), [])).toBe(1);
    expect(await pool.submit(workerFunction(fixture, 'countCalls'), [])).toBe(2);
    const missing = await rejection(pool.submit(workerFunction(fixture, 'nope'), []));
    expect(missing).toBeInstanceOf(WorkerCallableError);
    expect((missing as Error).message).toMatch(/export "nope" of file:.*executor-functions\.mjs is missing/);
    const notFunction = await rejection(pool.submit(workerFunction(fixture, 'notAFunction'), []));
    expect((notFunction as Error).message).toMatch(/is not a function \(number\)/);
  });

  it('rejects with the worker error, keeping its class, name, message, stack, code and cause', async () => {
    const pool = make();
    const error = await rejection(
      pool.submit(function failing(n: number) {
        const e = new RangeError(`value ${n} out of range`) as RangeError & { code?: string; detail?: unknown };
        e.code = 'E_RANGE';
        e.detail = { n };
        throw e;
      }, [7]),
    );
    expect(error).toBeInstanceOf(RangeError);
    expect(error).toMatchObject({ name: 'RangeError', message: 'value 7 out of range', code: 'E_RANGE', detail: { n: 7 } });
    expect((error as Error).stack).toMatch(/RangeError: value 7 out of range\n\s+at failing/);

    const custom = await rejection(
      pool.submit(() => {
        class ParseError extends Error {
          override name = 'ParseError';
        }
        throw new ParseError('bad input', { cause: new TypeError('inner') });
      }, []),
    );
    expect(custom).toBeInstanceOf(Error);
    expect((custom as Error).name).toBe('ParseError');
    expect((custom as Error).message).toBe('bad input');
    expect((custom as Error).cause).toBeInstanceOf(TypeError);
    expect(((custom as Error).cause as Error).message).toBe('inner');

    const coded = await rejection(pool.submit(workerFunction(fixture, 'throwCoded'), []));
    expect(coded).toMatchObject({ name: 'Error', message: 'fixture failed', code: 'E_FIXTURE' });
  });

  it('explains that a function using a closure variable must be self-contained', async () => {
    const pool = make();
    const factor = 3;
    const error = await rejection(pool.submit((x: number) => x * factor, [2]));
    expect(error).toBeInstanceOf(WorkerCallableError);
    expect((error as Error).message).toMatch(/functions run in a worker must be self-contained/);
    expect((error as Error).message).toMatch(/`factor`/);
    expect((error as Error).cause).toBeInstanceOf(ReferenceError);
    expect(((error as Error).cause as Error).message).toBe('factor is not defined');
    const self = { scale: 2, run(this: { scale: number }) { return (x: number) => x * this.scale; } };
    const usesThis = await rejection(pool.submit(self.run(), [5]));
    expect(usesThis).toBeInstanceOf(WorkerCallableError);
    expect((usesThis as Error).message).toMatch(/must be self-contained: .* uses `this`, which is undefined in the worker/);
    expect((usesThis as Error).cause).toBeInstanceOf(TypeError);
    // A ReferenceError that has nothing to do with the function's own source is left alone.
    const other = await rejection(pool.submit(() => (0, eval)(['not', 'Defined', 'Anywhere'].join('')), []));
    expect(other).toBeInstanceOf(ReferenceError);
  });

  it('throws at submit for an argument that cannot be copied, naming its index', () => {
    const pool = make();
    expect(() => pool.submit((a: unknown, b: unknown) => [a, b], [1, () => 2])).toThrow(TypeError);
    expect(() => pool.submit((a: unknown, b: unknown) => [a, b], [1, () => 2])).toThrow(/argument 1 of .*cannot be sent to a worker/);
    expect(() => pool.submit((a: unknown) => a, [Symbol('s')])).toThrow(/argument 0 .*could not be cloned/);
    expect(() => pool.submit((a: unknown) => a, [{ nested: new WeakMap() }])).toThrow(/argument 0/);
    expect(pool.workerCount).toBe(0);
  });

  it('copies a class instance as a plain object without its prototype', async () => {
    const pool = make();
    class Point {
      constructor(readonly x: number) {}
      norm(): number {
        return Math.abs(this.x);
      }
    }
    const result = await pool.submit((p: { x: number; norm?: unknown }) => [p.x, typeof p.norm, Object.getPrototypeOf(p) === Object.prototype], [new Point(-2)]);
    expect(result).toEqual([-2, 'undefined', true]);
  });

  it('rejects clearly when the result cannot be copied back', async () => {
    const pool = make();
    const error = await rejection(pool.submit(() => ({ callback: () => 1 }), []));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/the result of an anonymous function cannot be sent back from the worker/);
    expect(await pool.submit(() => 'still works', [])).toBe('still works');
  });

  it('runs jobs in parallel up to maxWorkers', async () => {
    const pool = make({ maxWorkers: 2 });
    // Each job marks its arrival in a shared directory and waits for the other's
    // mark: run one after the other, the first would give up and report false.
    const dir = mkdtempSync(join(tmpdir(), 'aioloop-rendezvous-'));
    try {
      const results = await Promise.all([pool.submit(rendezvous, [dir, 'a', 'b']), pool.submit(rendezvous, [dir, 'b', 'a'])]);
      expect(results).toEqual([true, true]);
      expect(pool.workerCount).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('queues jobs FIFO on one worker when maxWorkers is 1', async () => {
    const pool = make({ maxWorkers: 1 });
    const finished: number[] = [];
    const jobs = [0, 1, 2, 3].map((tag) =>
      pool.submit(block, [40, tag]).then((r) => {
        finished.push(tag);
        return r as [number, number, number];
      }),
    );
    expect(pool.queuedCount).toBe(3);
    const results = await Promise.all(jobs);
    expect(finished).toEqual([0, 1, 2, 3]);
    for (let i = 1; i < results.length; i++) {
      // Each job started only after the previous one ended.
      expect(results[i]![1]).toBeGreaterThanOrEqual(results[i - 1]![2]);
    }
    expect(pool.workerCount).toBe(1);
  });

  it('shutdown(true) waits for the running and queued jobs, then ends the workers', async () => {
    const pool = make({ maxWorkers: 1 });
    const order: string[] = [];
    const first = pool.submit(block, [150, 0]).then(() => order.push('first'));
    const second = pool.submit(block, [10, 1]).then(() => order.push('second'));
    await pool.shutdown(true);
    order.push('shutdown');
    expect(order).toEqual(['first', 'second', 'shutdown']);
    await Promise.all([first, second]);
    expect(pool.workerCount).toBe(0);
  });

  it('shutdown(false) rejects queued jobs with ExecutorShutdownError and lets the running one finish', async () => {
    const pool = make({ maxWorkers: 1 });
    const running = pool.submit(block, [200, 0]);
    const queued = [pool.submit(block, [10, 1]), pool.submit(block, [10, 2])];
    await until(() => pool.queuedCount === 2 && pool.workerCount === 1);
    await pool.shutdown(false);
    for (const job of queued) {
      const error = await rejection(job);
      expect(error).toBeInstanceOf(ExecutorShutdownError);
      expect((error as Error).message).toMatch(/cancelled by shutdown\(false\)/);
    }
    expect(((await running) as number[])[0]).toBe(0);
    await until(() => pool.workerCount === 0);
  });

  it('throws ExecutorShutdownError on submit after shutdown', async () => {
    const pool = make();
    await pool.submit(() => 1, []);
    await pool.shutdown();
    expect(() => pool.submit(() => 1, [])).toThrow(ExecutorShutdownError);
    expect(() => pool.submit(() => 1, [])).toThrow('cannot schedule new work after shutdown');
  });

  it('rejects the job of a worker that calls process.exit(3) and replaces the worker', async () => {
    const pool = make({ maxWorkers: 1 });
    const error = await rejection(pool.submit(() => process.exit(3), []));
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error).toMatchObject({ exitCode: 3 });
    expect((error as Error).message).toMatch(/exited with code 3 while running an anonymous function/);
    expect(await pool.submit((x: number) => x + 1, [1])).toBe(2);
  });

  it('rejects the job of a worker killed by an uncaught exception', async () => {
    const pool = make();
    const error = await rejection(
      pool.submit(() => {
        setTimeout(() => {
          throw new Error('late boom');
        }, 0);
        return new Promise(() => {});
      }, []),
    );
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toMatch(/uncaught exception \(late boom\)/);
    expect(((error as Error).cause as Error).message).toBe('late boom');
    expect(await pool.submit(() => 'ok', [])).toBe('ok');
  });

  it('ends workers that stay idle longer than idleTimeoutMs', async () => {
    const pool = make({ idleTimeoutMs: 50 });
    await pool.submit(() => 1, []);
    expect(pool.workerCount).toBe(1);
    await until(() => pool.workerCount === 0);
    expect(await pool.submit(() => 2, [])).toBe(2);
  });

  it('cancels a queued job when its AbortSignal aborts, but not a running one', async () => {
    const pool = make({ maxWorkers: 1 });
    const running = new AbortController();
    const queued = new AbortController();
    const first = pool.submit(block, [150, 0], { signal: running.signal });
    const second = pool.submit(block, [10, 1], { signal: queued.signal });
    running.abort(new Error('too late'));
    queued.abort(new Error('not needed'));
    expect(await rejection(second)).toMatchObject({ message: 'not needed' });
    expect(((await first) as number[])[0]).toBe(0);
    expect(pool.queuedCount).toBe(0);
  });

  it('terminate() stops a job that never finishes', async () => {
    const pool = make();
    const forever = pool.submit(() => {
      for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    }, []);
    await until(() => pool.workerCount === 1);
    await pool.terminate();
    expect(await rejection(forever)).toBeInstanceOf(ExecutorShutdownError);
    expect(pool.workerCount).toBe(0);
  });
});

describe('invalid callables', () => {
  const method = { m(): number { return 1; } }.m;
  const asyncMethod = { async m(): Promise<number> { return 1; } }.m;
  const getter = Object.getOwnPropertyDescriptor({ get g(): number { return 1; } }, 'g')!.get!;
  const cases: [string, unknown, RegExp][] = [
    ['a number', 42, /cannot send a number to a worker: expected a self-contained function .* or a WorkerFunctionRef/],
    ['null', null, /cannot send null to a worker/],
    ['a native function', Math.max, /function "max" is a native \(built-in\) function/],
    ['a bound function', function f() { return 1; }.bind(null), /is a bound function, which cannot be sent/],
    ['a class', class Widget {}, /function "Widget" is a class, which cannot be sent/],
    ['a shorthand method', method, /method shorthand cannot be sent; use a function expression/],
    ['an async shorthand method', asyncMethod, /method shorthand cannot be sent; use a function expression/],
    ['a getter', getter, /method shorthand cannot be sent; use a function expression/],
    ['a generator function', function* gen() { yield 1; }, /function "gen" is a generator function/],
    ['an async generator function', async function* agen() { yield 1; }, /function "agen" is a generator function/],
    ['a hand-made ref with a relative module', { module: './work.mjs', exportName: 'run' }, /must be an absolute file path/],
    ['a hand-made ref with an empty export', { module: fileURLToPath(fixture), exportName: '' }, /export name must be a non-empty string/],
  ];

  it.each(cases)('rejects %s synchronously with WorkerCallableError', (_label, fn, message) => {
    const pool = track(new ThreadPoolExecutor());
    let thrown: unknown;
    try {
      void pool.submit(fn as never, []);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WorkerCallableError);
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toMatch(message);
    expect(pool.workerCount).toBe(0);
  });

  it('workerFunction() rejects relative paths and bare package names, and accepts node: builtins', async () => {
    expect(() => workerFunction('./work.mjs')).toThrow(/must be an absolute file path, a file: URL or a node: builtin/);
    expect(() => workerFunction('lodash', 'map')).toThrow(WorkerCallableError);
    expect(workerFunction(fixture)).toEqual({ module: fixture.href, exportName: 'default' });
    expect(Object.isFrozen(workerFunction(fixture))).toBe(true);
    const pool = track(new ThreadPoolExecutor());
    expect(await pool.submit(workerFunction('node:path', 'basename'), ['/a/b/c.txt'])).toBe('c.txt');
  });

  it('accepts arrow, async and function-expression forms, including an arrow parameter named async', async () => {
    const pool = track(new ThreadPoolExecutor({ maxWorkers: 1 }));
    const asyncParam = (async: number) => async * 2;
    const named = { f: function (x: number) { return x + 1; } }.f;
    expect(await pool.submit(asyncParam, [4])).toBe(8);
    expect(await pool.submit(named, [4])).toBe(5);
    expect(await pool.submit(async function (x: number) { return x * x; }, [4])).toBe(16);
    expect(await pool.submit(() => require('node:path').sep, [])).toBe('/');
  });

  it('WorkerCallableError and ExecutorShutdownError fit the Executor contract', () => {
    const executor: Executor = track(new ProcessPoolExecutor());
    expect(() => executor.submit({} as never, [])).toThrow(WorkerCallableError);
    expect(new ExecutorShutdownError().message).toBe('cannot schedule new work after shutdown');
  });
});

describe('idle pools and the Node process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aioloop-executor-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Compiles src/executor/*.ts to plain JS (ESM or CommonJS) so a child `node` can load it without vitest. */
  function compile(format: 'esm' | 'cjs'): string {
    const out = join(dir, format);
    mkdirSync(join(out, 'executor'), { recursive: true });
    writeFileSync(join(out, 'package.json'), JSON.stringify({ type: format === 'esm' ? 'module' : 'commonjs' }));
    const srcDir = fileURLToPath(new URL('../src/executor/', import.meta.url));
    for (const file of readdirSync(srcDir).filter((f) => f.endsWith('.ts'))) {
      const { outputText } = ts.transpileModule(readFileSync(join(srcDir, file), 'utf8'), {
        compilerOptions: {
          target: ts.ScriptTarget.ES2022,
          module: format === 'esm' ? ts.ModuleKind.ESNext : ts.ModuleKind.CommonJS,
          esModuleInterop: true,
        },
      });
      writeFileSync(join(out, 'executor', file.replace(/\.ts$/, '.js')), outputText);
    }
    return out;
  }

  const compiled = new Map<string, string>();
  const script = (pool: string): string => `
    const pool = new ${pool}({ idleTimeoutMs: Infinity });
    // Nothing else keeps this process alive: the running job must (a busy
    // worker is ref'd), and the idle worker afterwards must not.
    pool.submit(async (ms) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return 'job done';
    }, [200]).then((v) => console.log(v));
  `;

  it.each([
    ['esm', 'ThreadPoolExecutor'],
    ['esm', 'ProcessPoolExecutor'],
    ['cjs', 'ThreadPoolExecutor'],
    ['cjs', 'ProcessPoolExecutor'],
  ] as const)('a %s program with a %s stays alive while a job runs and exits once it is idle', (format, pool) => {
    let out = compiled.get(format);
    if (out === undefined) compiled.set(format, (out = compile(format)));
    const main =
      format === 'esm'
        ? `import { ${pool} } from './executor/index.js';\n${script(pool)}`
        : `const { ${pool} } = require('./executor/index.js');\n${script(pool)}`;
    const file = join(out, `main-${pool}.js`);
    writeFileSync(file, main);
    // A generous bound: the child must exit by itself once idle; a hang is what fails.
    const child = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 15_000 });
    expect(child.error).toBeUndefined();
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.stdout).toBe('job done\n');
  });
});
