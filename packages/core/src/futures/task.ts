import { CancelledError, RuntimeError } from '../errors.js';
import { checkOptionKeys, describeValue } from '../debug/describe.js';
import type { EventLoop } from '../loop/event-loop.js';
import { runningLoopOrNull, getRunningLoop } from '../loop/thread-state.js';
import { Future, checkLoop } from './future.js';
import { enterFirstStep, registerTask, unregisterTask } from './task-step.js';

/** What a task runs: an async function (or any function returning a value or a promise). */
export type TaskFunction<T> = () => T | PromiseLike<T>;

/** Options for `createTask`. */
export interface TaskOptions {
  /** The task's name (default `Task-N`). */
  name?: string;
}

let taskCounter = 0;

const setFutureResult = Future.prototype.setResult;
const setFutureException = Future.prototype._setException;
const cancelFuture = Future.prototype.cancel;

/**
 * An async function running on the loop (asyncio.Task). It starts in a later
 * loop iteration, never synchronously. `cancel(msg)` delivers a CancelledError
 * at the await the task is suspended in, so its `try/finally` blocks run.
 * A pending task is held by its loop and is never garbage-collected.
 */
export class Task<T> extends Future<T> {
  /** @internal */ _fn: TaskFunction<T> | null;
  /** @internal */ _name: string;
  /** @internal */ _mustCancel = false;
  /** @internal The future this task is suspended on. */
  _futWaiter: Future<unknown> | null = null;
  /** @internal */ _numCancelsRequested = 0;
  private _abort: AbortController | null = null;

  /** Prefer `loop.createTask(fn, options)`. */
  constructor(fn: TaskFunction<T>, options: TaskOptions & { loop?: EventLoop } = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`createTask(): options must be an object such as { name: 'worker' }, got ${describeValue(options)}`);
    }
    checkOptionKeys(options, 'createTask', ['name', 'loop']);
    if (options.loop !== undefined) checkLoop(options.loop, 'createTask()');
    const loop = options.loop ?? getRunningLoop();
    super(loop);
    if (typeof fn !== 'function') throw new TypeError(`Task() takes an async function, got ${describeValue(fn)}`);
    loop._checkClosed();
    this._fn = fn;
    const name = options.name;
    if (name !== undefined && typeof name !== 'string') {
      throw new TypeError(`createTask(): name must be a string, got ${describeValue(name)}`);
    }
    this._name = name ?? `Task-${++taskCounter}`;
    registerTask(this as Task<unknown>);
    loop._callSoon(this._start, undefined);
  }

  override get [Symbol.toStringTag](): string {
    return 'Task';
  }

  /** The task's name. */
  getName(this: object): string;
  getName(): string {
    return this._name;
  }

  /** Renames the task. */
  setName(name: string): void {
    if (typeof name !== 'string') throw new TypeError(`setName() takes a string, got ${describeValue(name)}`);
    this._name = name;
  }

  /**
   * An AbortSignal aborted when the task is first cancelled, for Node APIs that
   * take a `signal`. An API rejecting with an AbortError caused by that
   * cancellation makes the task cancelled, not failed.
   */
  get signal(): AbortSignal {
    if (this._abort === null) {
      this._abort = new AbortController();
      if (this._numCancelsRequested > 0 || this.cancelled()) this._abort.abort(new CancelledError(this._cancelMessage));
    }
    return this._abort.signal;
  }

  /**
   * Requests cancellation: a CancelledError is thrown into the task at its
   * current await (or before its body starts). Returns false if the task is
   * already done. The task can still catch the error and go on.
   */
  override cancel(this: object, message?: string): boolean;
  override cancel(message?: string): boolean {
    if (message !== undefined && typeof message !== 'string') {
      throw new TypeError(`cancel(): message must be a string, got ${describeValue(message)}`);
    }
    this._untrack();
    if (this.done()) return false;
    this._numCancelsRequested++;
    if (this._abort !== null && !this._abort.signal.aborted) this._abort.abort(new CancelledError(message));
    const waiter = this._futWaiter;
    if (waiter !== null && waiter.cancel(message)) {
      // Keep _futWaiter: it may be a task that swallows the cancellation.
      return true;
    }
    this._mustCancel = true;
    this._cancelMessage = message;
    return true;
  }

  /** How many cancellation requests are pending (`cancel()` calls minus `uncancel()` calls). */
  cancelling(this: object): number;
  cancelling(): number {
    return this._numCancelsRequested;
  }

  /** Withdraws one cancellation request; returns the remaining count. */
  uncancel(this: object): number;
  uncancel(): number {
    if (this._numCancelsRequested > 0) {
      this._numCancelsRequested--;
      if (this._numCancelsRequested === 0) this._mustCancel = false;
    }
    return this._numCancelsRequested;
  }

  /** Tasks complete from their function; setting a result from outside is an error. */
  override setResult(_result: T): never {
    throw new RuntimeError('Task does not support setResult()');
  }

  /** Tasks complete from their function; setting an exception from outside is an error. */
  override setException(_exception: unknown): never {
    throw new RuntimeError('Task does not support setException()');
  }

  override toString(): string {
    return super.toString().replace(/^<Task /, `<Task ${this._name} `);
  }

  private readonly _start = (): void => {
    const fn = this._fn as TaskFunction<T>;
    this._fn = null;
    if (this.done()) return;
    if (this._mustCancel) {
      // Cancelled before it started: the body never runs.
      this._mustCancel = false;
      unregisterTask(this as Task<unknown>);
      cancelFuture.call(this, this._cancelMessage);
      return;
    }
    enterFirstStep(this as Task<unknown>);
    let result: T | PromiseLike<T>;
    try {
      result = fn();
    } catch (error) {
      this._complete(false, error);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<T>).then === 'function') {
      (result as PromiseLike<T>).then(this._onFulfilled, this._onRejected);
    } else {
      this._complete(true, result);
    }
  };

  private readonly _onFulfilled = (value: T): void => this._complete(true, value);
  private readonly _onRejected = (error: unknown): void => this._complete(false, error);

  private _complete(ok: boolean, value: unknown): void {
    unregisterTask(this as Task<unknown>);
    if (this.done() || this._loop.isClosed()) return;
    if (ok) {
      if (this._mustCancel) {
        this._mustCancel = false;
        cancelFuture.call(this, this._cancelMessage);
      } else {
        setFutureResult.call(this, value as T);
      }
      return;
    }
    const cancelled = this._asCancelledError(value);
    if (cancelled !== null) {
      this._cancelledError = cancelled;
      cancelFuture.call(this, cancelled.message === '' ? undefined : cancelled.message);
    } else {
      setFutureException.call(this, value);
    }
  }

  /** A CancelledError, or Node's AbortError caused by this task's own signal. */
  private _asCancelledError(error: unknown): CancelledError | null {
    if (error instanceof CancelledError) return error;
    if (
      this._abort !== null &&
      this._abort.signal.aborted &&
      error instanceof Error &&
      error.name === 'AbortError' &&
      (error as Error & { cause?: unknown }).cause === this._abort.signal.reason
    ) {
      return this._abort.signal.reason as CancelledError;
    }
    return null;
  }
}

/** The task running now in `loop` (default: the running loop), or null. */
export function currentTask(loop?: EventLoop): Task<unknown> | null {
  if (loop !== undefined) checkLoop(loop, 'currentTask()');
  const target = loop ?? getRunningLoop();
  return target._steps.current;
}

/** The tasks of `loop` (default: the running loop) that are not done yet. */
export function allTasks(loop?: EventLoop): Set<Task<unknown>> {
  if (loop !== undefined) checkLoop(loop, 'allTasks()');
  const target = loop ?? runningLoopOrNull();
  if (target === null) throw new RuntimeError('allTasks(): no running event loop; pass the loop');
  return new Set(target._steps.tasks);
}

/** Runs the running loop's `createTask(fn, options)`. */
export function createTask<T>(fn: TaskFunction<T>, options?: TaskOptions): Task<T> {
  return getRunningLoop().createTask(fn, options);
}
