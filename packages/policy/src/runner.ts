import { isMainThread } from 'node:worker_threads';
import { CancelledError, RuntimeError, allTasks, describeValue, isFuture, type EventLoop, type Task, type TaskFunction } from '@aioloop/core';
import { checkOptionKeys, runningLoopOrNull } from '@aioloop/core/internal';
import { isEventLoop, newEventLoop, setEventLoop } from './policy.js';

/** Seconds `close()` waits for the default executor, as asyncio. */
const THREAD_JOIN_TIMEOUT = 300;

/**
 * Python's KeyboardInterrupt: `Runner.run()` throws it when Ctrl-C (SIGINT)
 * cancelled the main task and the task ended cancelled. `run()` turns it into
 * `process.exit(130)` after cleaning up.
 */
export class KeyboardInterrupt extends Error {
  override name = 'KeyboardInterrupt';
  constructor(message = 'interrupted by SIGINT (Ctrl-C)') {
    super(message);
  }
}

const RUNNER_OPTIONS = ['debug', 'loopFactory'];

/** Options for {@link Runner} and {@link run}. */
export interface RunnerOptions {
  /** Sets the loop's debug mode (`loop.setDebug()`); left as is when undefined. */
  debug?: boolean;
  /**
   * Makes the loop. Default: `newEventLoop()` from the current policy, which
   * the runner also makes the current loop (`setEventLoop`) until it closes.
   * A loop from `loopFactory` is not made current, as in asyncio.
   */
  loopFactory?: () => EventLoop;
}

/**
 * What `Runner.run()` and `run()` accept as the main program: the async
 * function (`run(main)`, the port of `asyncio.run(main())`), never its promise.
 */
export type MainAwaitable<T> = TaskFunction<T>;

/** Exit status of a process ended by Ctrl-C (128 + SIGINT), as a shell reports it. */
export const SIGINT_EXIT_CODE = 130;

const enum State {
  Created,
  Initialized,
  Closed,
}

function noop(): void {}

/**
 * Runs async code in one event loop and cleans it up afterwards
 * (asyncio.Runner). The loop is created on the first `run()` or `getLoop()`;
 * `close()` (or `await using`) cancels the tasks left behind, closes the
 * tracked async generators, shuts down the default executor and closes the loop.
 *
 * ```ts
 * await using runner = new Runner({ debug: true });
 * await runner.run(async () => setUp());
 * await runner.run(async () => serve());
 * ```
 */
export class Runner {
  private _state = State.Created;
  private readonly _debug: boolean | undefined;
  private readonly _loopFactory: (() => EventLoop) | undefined;
  private _loop: EventLoop | null = null;
  private _setEventLoop = false;
  private _interruptCount = 0;
  private _closing: Promise<void> | null = null;

  /** @param options `{ debug, loopFactory }`, as `asyncio.Runner(debug=, loop_factory=)`. */
  constructor(options: RunnerOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`Runner(): options must be an object such as { debug: true }, got ${describeValue(options)}`);
    }
    checkOptionKeys(options, 'Runner', RUNNER_OPTIONS);
    const { debug, loopFactory } = options;
    if (debug !== undefined && typeof debug !== 'boolean') {
      throw new TypeError(`Runner(): debug must be a boolean or undefined, got ${describeValue(debug)}`);
    }
    if (loopFactory !== undefined && typeof loopFactory !== 'function') {
      throw new TypeError(`Runner(): loopFactory must be a function returning an EventLoop, or undefined, got ${describeValue(loopFactory)}`);
    }
    this._debug = debug;
    this._loopFactory = loopFactory;
  }

  /** The runner's loop (created now if needed). Throws a RuntimeError once the runner is closed. */
  getLoop(): EventLoop {
    return this._lazyInit();
  }

  /**
   * Runs `main` as a task of the runner's loop and returns its result (or
   * throws its error, the same object with its stack). `main` is the async
   * function itself (`runner.run(main)`); a promise or Future is refused with a
   * TypeError, since it started before the loop ran.
   *
   * Throws a RuntimeError when a loop is already running in this thread. In
   * the main thread, when nothing else listens for SIGINT, the first Ctrl-C
   * cancels the main task; if the task then ends cancelled, `run()` throws
   * {@link KeyboardInterrupt}. A second Ctrl-C exits the process with 130.
   */
  async run<T>(main: MainAwaitable<T>): Promise<T> {
    // Everything up to runUntilComplete() happens synchronously, so a second
    // run() started meanwhile sees the running loop and fails fast.
    if (runningLoopOrNull() !== null) {
      throw new RuntimeError('Runner.run() cannot be called from a running event loop');
    }
    const fn = toTaskFunction(main, 'Runner.run()');
    const loop = this._lazyInit();
    const task = loop.createTask(fn) as Task<T>;

    let onSigint: (() => void) | null = null;
    if (isMainThread && process.listenerCount('SIGINT') === 0) {
      onSigint = () => this._onSigint(task);
      process.on('SIGINT', onSigint);
    }
    this._interruptCount = 0;
    try {
      return await loop.runUntilComplete(task);
    } catch (error) {
      if (error instanceof CancelledError && this._interruptCount > 0 && task.uncancel() === 0) {
        throw new KeyboardInterrupt();
      }
      throw error;
    } finally {
      if (onSigint !== null) process.removeListener('SIGINT', onSigint);
    }
  }

  /**
   * Cancels the tasks still pending (and waits for them, so their `finally`
   * blocks run), closes tracked async generators, shuts down the default
   * executor, clears the current loop if the runner set it, and closes the
   * loop. Does nothing before the loop was created or after the first close.
   * Throws a RuntimeError when called while the runner's loop is running.
   */
  close(): Promise<void> {
    if (this._state !== State.Initialized) return Promise.resolve();
    const loop = this._loop as EventLoop;
    if (loop.isRunning()) {
      return Promise.reject(new RuntimeError('Runner.close() cannot be called while its loop is running; await run() first'));
    }
    return (this._closing ??= this._close(loop));
  }

  /** `await using runner = new Runner()` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async _close(loop: EventLoop): Promise<void> {
    try {
      await cancelAllTasks(loop);
      await loop.runUntilComplete(() => loop.shutdownAsyncgens());
      // asyncio waits at most 300 s for executor threads (constants.THREAD_JOIN_TIMEOUT).
      await loop.runUntilComplete(() => loop.shutdownDefaultExecutor(THREAD_JOIN_TIMEOUT));
    } finally {
      if (this._setEventLoop) setEventLoop(null);
      loop.close();
      this._loop = null;
      this._state = State.Closed;
    }
  }

  private _lazyInit(): EventLoop {
    if (this._state === State.Closed || this._closing !== null) throw new RuntimeError('Runner is closed');
    if (this._state === State.Initialized) return this._loop as EventLoop;
    let loop: EventLoop;
    if (this._loopFactory === undefined) {
      loop = newEventLoop();
      if (!isEventLoop(loop)) {
        throw new TypeError(`Runner: the policy's newEventLoop() must return an EventLoop, got ${describeValue(loop)}`);
      }
      if (!this._setEventLoop) {
        setEventLoop(loop);
        this._setEventLoop = true;
      }
    } else {
      loop = this._loopFactory();
      if (!isEventLoop(loop)) {
        throw new TypeError(`Runner: loopFactory must return an EventLoop, got ${describeValue(loop)}`);
      }
    }
    if (this._debug !== undefined) loop.setDebug(this._debug);
    this._loop = loop;
    this._state = State.Initialized;
    return loop;
  }

  private _onSigint(mainTask: Pick<Task<unknown>, 'done' | 'cancel'>): void {
    // Another SIGINT listener appeared (for example loop.addSignalHandler('SIGINT')):
    // it owns Ctrl-C now, as asyncio's handler is replaced by signal.signal().
    if (process.listenerCount('SIGINT') > 1) return;
    this._interruptCount++;
    if (this._interruptCount === 1 && !mainTask.done()) {
      mainTask.cancel();
      const loop = this._loop;
      if (loop !== null && !loop.isClosed()) loop.callSoonThreadsafe(noop);
      return;
    }
    // asyncio raises KeyboardInterrupt here, wherever the program is; JavaScript
    // cannot throw into running code, so the process ends as that would.
    process.exit(SIGINT_EXIT_CODE);
  }
}

/**
 * `main` if it is a function; otherwise a TypeError that says what to write.
 * asyncio.run() takes an unstarted coroutine and refuses anything else; the
 * JavaScript equivalent is the async function: its promise has already started,
 * before the loop existed, and fails at its first use of the loop.
 */
function toTaskFunction<T>(main: unknown, where: string): TaskFunction<T> {
  if (typeof main === 'function') return main as TaskFunction<T>;
  if (main !== null && typeof main === 'object' && typeof (main as PromiseLike<T>).then === 'function') {
    // Its own failure ("no running event loop" at its first sleep()) would be an
    // unhandled rejection that ends the process before this error is seen.
    (main as PromiseLike<T>).then(undefined, noop);
    throw new TypeError(
      `${where} takes the async function itself: write ${where.slice(0, -1)}main), not ${where.slice(0, -1)}main()). ` +
        `A ${isFuture(main) ? 'Future' : 'promise'} has already started before the loop existed (asyncio.run() takes a coroutine that has not started; ` +
        `here that is the function). To await an existing promise, pass a function: ${where.slice(0, -1)}() => promise)`,
    );
  }
  throw new TypeError(`${where} takes an async function, got ${describeValue(main)}`);
}

/**
 * Cancels every pending task of `loop`, runs the loop until they finish, and
 * reports the ones that failed with something other than cancellation
 * (asyncio.runners._cancel_all_tasks).
 */
async function cancelAllTasks(loop: EventLoop): Promise<void> {
  const toCancel = [...allTasks(loop)];
  if (toCancel.length === 0) return;
  for (const task of toCancel) task.cancel();
  const allDone = loop.createFuture<void>();
  let remaining = toCancel.length;
  const onDone = (): void => {
    if (--remaining === 0 && !allDone.done()) allDone.setResult(undefined);
  };
  for (const task of toCancel) task.addDoneCallback(onDone);
  await loop.runUntilComplete(allDone);
  for (const task of toCancel) {
    if (task.cancelled()) continue;
    const exception = task.exception();
    if (exception !== null) {
      loop.callExceptionHandler({
        message: 'unhandled exception during run() shutdown',
        exception,
        task,
      });
    }
  }
}

/**
 * Runs `main` in a new event loop and returns its result (asyncio.run): the
 * loop comes from `loopFactory` or the current policy's `newEventLoop()`
 * (then it is also the current loop while `main` runs). Afterwards the
 * leftover tasks are cancelled (their `finally` blocks run), async generators
 * and the default executor are shut down, and the loop is closed, whether
 * `main` succeeded or threw. An error thrown by `main` is rethrown as is.
 *
 * Throws a RuntimeError ("run() cannot be called from a running event loop")
 * when a loop is already running in this thread. Ctrl-C cancels the main task
 * (a CancelledError at its current await); if `main` ends cancelled because of
 * it, the process exits with code 130 once the cleanup is done.
 */
export async function run<T>(main: MainAwaitable<T>, options: RunnerOptions = {}): Promise<T> {
  if (runningLoopOrNull() !== null) {
    throw new RuntimeError('run() cannot be called from a running event loop');
  }
  toTaskFunction(main, 'run()');
  if (options !== null && typeof options === 'object') checkOptionKeys(options, 'run', RUNNER_OPTIONS);
  const runner = new Runner(options);
  let result: T;
  try {
    result = await runner.run(main);
  } catch (error) {
    await runner.close();
    if (error instanceof KeyboardInterrupt) process.exit(SIGINT_EXIT_CODE);
    throw error;
  }
  await runner.close();
  return result;
}
