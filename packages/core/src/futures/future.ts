import { CancelledError, InvalidStateError, RuntimeError } from '../errors.js';
import { describeValue } from '../debug/describe.js';
import type { EventLoop } from '../loop/event-loop.js';
import { runningLoopOrNull, getRunningLoop } from '../loop/thread-state.js';
import { captureStack, type LoopCallback } from '../loop/handles.js';
import { suspendOn } from './task-step.js';

const PENDING = 0;
const FINISHED = 1;
const CANCELLED = 2;
type State = typeof PENDING | typeof FINISHED | typeof CANCELLED;

/** A callback run (soon, never synchronously) when a future is done. */
export type DoneCallback<F> = (this: void, future: F) => void;

const FUTURE_BRAND = Symbol.for('@aioloop/core.future');

/** Whether `value` is an aioloop Future (or Task), from any copy of this package. */
export function isFuture(value: unknown): value is Future<unknown> {
  return value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[FUTURE_BRAND] === true;
}

/** @internal */
export interface UnretrievedException {
  loop: EventLoop;
  exception: unknown;
  description: string;
  sourceTraceback: string | undefined;
  isTask: boolean;
}

// Reports exceptions nobody retrieved once their future is garbage-collected,
// as asyncio does from Future.__del__; what is still unreported when the loop
// closes is reported then (see reportUnretrievedAtClose).
const neverRetrieved = new FinalizationRegistry<UnretrievedException>((held) => {
  held.loop._unretrieved.delete(held);
  if (held.loop.isClosed() && !held.loop.getExceptionHandler()) return;
  reportNeverRetrieved(held);
});

function reportNeverRetrieved(held: UnretrievedException): void {
  const context: Parameters<EventLoop['callExceptionHandler']>[0] = {
    message: `${held.isTask ? 'Task' : 'Future'} exception was never retrieved`,
    exception: held.exception,
    [held.isTask ? 'taskDescription' : 'futureDescription']: held.description,
  };
  if (held.sourceTraceback !== undefined) context.sourceTraceback = held.sourceTraceback;
  held.loop.callExceptionHandler(context);
}

/**
 * @internal Called by `loop.close()`: reports every exception of the loop's
 * futures and tasks that nobody retrieved, once (the collection of those
 * futures later reports nothing). A short program's failed task is so reported
 * when `run()` ends, not at some later garbage collection.
 */
export function reportUnretrievedAtClose(loop: EventLoop): void {
  const pending = [...loop._unretrieved] as UnretrievedException[];
  loop._unretrieved.clear();
  for (const held of pending) {
    neverRetrieved.unregister(held);
    reportNeverRetrieved(held);
  }
}

/**
 * The result of an operation that will complete later (asyncio.Future). It is
 * awaitable (a thenable). Done-callbacks are scheduled with `callSoon`, even
 * when added to a future that is already done.
 */
export class Future<T> implements PromiseLike<T> {
  /** @internal */ _state: State = PENDING;
  /** @internal */ _result: T | undefined = undefined;
  /** @internal */ _exception: unknown = undefined;
  /** @internal */ _hasException = false;
  /** @internal */ readonly _loop: EventLoop;
  /** @internal */ _callbacks: ((future: never) => void)[] | null = null;
  /** @internal */ _cancelMessage: string | undefined = undefined;
  /** @internal */ _cancelledError: CancelledError | null = null;
  /** @internal */ _logTraceback = false;
  /** @internal What is reported if the exception is never retrieved (null: nothing to report). */
  _unretrieved: UnretrievedException | null = null;
  /** @internal Set false for futures the loop made itself and reports otherwise. */
  _logDestroyPending = true;
  /** @internal Where it was created (debug mode). */
  readonly _sourceTraceback: string | undefined;

  /** A pending future of `loop` (default: the running loop). */
  constructor(loop?: EventLoop) {
    if (loop === undefined) {
      const running = runningLoopOrNull();
      if (running === null) {
        throw new RuntimeError('Future() needs a loop: pass one (new Future(loop)) or use loop.createFuture(); no event loop is running');
      }
      this._loop = running;
    } else {
      if (loop === null || typeof loop !== 'object' || typeof (loop as EventLoop).callSoon !== 'function') {
        throw new TypeError(`Future(loop): loop must be an event loop, got ${describeValue(loop)}`);
      }
      this._loop = loop;
    }
    this._sourceTraceback = this._loop._debug ? captureStack(3) : undefined;
  }

  /** @internal */
  get [FUTURE_BRAND](): true {
    return true;
  }

  get [Symbol.toStringTag](): string {
    return 'Future';
  }

  /** The loop this future is attached to. */
  getLoop(this: object): EventLoop;
  getLoop(): EventLoop {
    return this._loop;
  }

  /** Whether it has a result, an exception, or was cancelled. */
  done(this: object): boolean;
  done(): boolean {
    return this._state !== PENDING;
  }

  /** Whether it was cancelled. */
  cancelled(this: object): boolean;
  cancelled(): boolean {
    return this._state === CANCELLED;
  }

  /**
   * Cancels the future and schedules its callbacks. Returns false if it was
   * already done. `message` is carried by the CancelledError it raises.
   */
  cancel(this: object, message?: string): boolean;
  cancel(message?: string): boolean {
    if (message !== undefined && typeof message !== 'string') {
      throw new TypeError(`cancel(): message must be a string, got ${describeValue(message)}`);
    }
    this._untrack();
    if (this._state !== PENDING) return false;
    this._state = CANCELLED;
    this._cancelMessage = message;
    this._scheduleCallbacks();
    return true;
  }

  /** Marks it done with `result` and schedules its callbacks. Throws InvalidStateError if already done. */
  setResult(this: object, result: T): void;
  setResult(result: T): void {
    if (this._state !== PENDING) throw new InvalidStateError(`invalid state: ${this._stateName()} future cannot take a result`);
    this._result = result;
    this._state = FINISHED;
    this._scheduleCallbacks();
  }

  /**
   * Marks it done with `exception` (an Error object, as asyncio requires an
   * exception) and schedules its callbacks. Throws InvalidStateError if already
   * done, TypeError for a string, number or other non-object.
   */
  setException(this: object, exception: unknown): void;
  setException(exception: unknown): void {
    if ((typeof exception !== 'object' || exception === null) && typeof exception !== 'function') {
      throw new TypeError(
        `setException(): exception must be an Error object (asyncio: exceptions must derive from BaseException), got ${describeValue(exception)}; ` +
          'write setException(new Error(message))',
      );
    }
    this._setException(exception);
  }

  /** @internal setException without the type check: for errors the library propagates (anything a task may throw). */
  _setException(exception: unknown): void {
    if (this._state !== PENDING) throw new InvalidStateError(`invalid state: ${this._stateName()} future cannot take an exception`);
    this._exception = exception;
    this._hasException = true;
    this._state = FINISHED;
    this._logTraceback = true;
    // V8 formats an Error's stack lazily and keeps the raw frames, whose receivers
    // can include this very future: format it now so the registry's held value
    // does not keep the future alive forever.
    if (exception instanceof Error) void exception.stack;
    const held: UnretrievedException = {
      loop: this._loop,
      exception,
      description: this.toString(),
      sourceTraceback: this._sourceTraceback,
      isTask: this[Symbol.toStringTag] === 'Task',
    };
    this._unretrieved = held;
    this._loop._unretrieved.add(held);
    neverRetrieved.register(this, held, held);
    this._scheduleCallbacks();
  }

  /**
   * The result. Throws the exception if it has one, CancelledError if it was
   * cancelled, InvalidStateError if it is still pending.
   */
  result(this: object): T;
  result(): T {
    if (this._state === CANCELLED) throw this._makeCancelledError();
    if (this._state === PENDING) throw new InvalidStateError('Result is not set.');
    this._untrack();
    if (this._hasException) throw this._exception;
    return this._result as T;
  }

  /** The exception, or null if it succeeded. Throws CancelledError / InvalidStateError as `result()`. */
  exception(this: object): unknown;
  exception(): unknown {
    if (this._state === CANCELLED) throw this._makeCancelledError();
    if (this._state === PENDING) throw new InvalidStateError('Exception is not set.');
    this._untrack();
    return this._hasException ? this._exception : null;
  }

  /**
   * Calls `callback(future)` when it is done, through `loop.callSoon` (so never
   * synchronously, even if it is done already).
   */
  addDoneCallback(this: object, callback: DoneCallback<this>): void;
  addDoneCallback(callback: DoneCallback<this>): void {
    if (typeof callback !== 'function') {
      throw new TypeError(`addDoneCallback() takes a function (future) => void, got ${describeValue(callback)}`);
    }
    if (this._state !== PENDING) {
      this._loop.callSoon(callback, this);
      return;
    }
    (this._callbacks ??= []).push(callback as (future: never) => void);
  }

  /** Removes every registration of `callback`; returns how many were removed. */
  removeDoneCallback(this: object, callback: DoneCallback<this>): number;
  removeDoneCallback(callback: DoneCallback<this>): number {
    const callbacks = this._callbacks;
    if (callbacks === null) return 0;
    const kept = callbacks.filter((cb) => cb !== (callback as unknown));
    const removed = callbacks.length - kept.length;
    if (removed > 0) this._callbacks = kept;
    return removed;
  }

  /**
   * Thenable protocol: `await future` suspends until it is done. A task that
   * awaits a pending future resumes in the loop callback that wakes it, and
   * cancelling the task cancels the awaited future.
   */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return new Promise<R1 | R2>((resolve, reject) => {
      // `instead`: an error to deliver in place of the outcome (the awaiting task
      // was cancelled meanwhile, or belongs to another loop).
      const settle = (instead: Error | null): void => {
        let value: unknown;
        let failed = true;
        if (instead !== null) {
          value = instead;
        } else if (this._state === CANCELLED) {
          value = this._makeCancelledError();
        } else if (this._hasException) {
          this._untrack();
          value = this._exception;
        } else {
          value = this._result;
          failed = false;
        }
        try {
          if (failed) {
            if (onRejected) resolve(onRejected(value));
            else reject(value);
          } else if (onFulfilled) resolve(onFulfilled(value as T));
          else resolve(value as R1);
        } catch (error) {
          reject(error);
        }
      };
      if (this._state !== PENDING) {
        // Awaiting a done future does not yield to the loop (as in asyncio).
        queueMicrotask(() => settle(null));
        return;
      }
      const error = suspendOn(this, settle);
      if (error !== null) queueMicrotask(() => settle(error));
    });
  }

  /** Like `Promise.prototype.catch`. */
  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.then(undefined, onRejected);
  }

  /** Like `Promise.prototype.finally`. */
  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.then(
      (value) => {
        onFinally?.();
        return value;
      },
      (error: unknown) => {
        onFinally?.();
        throw error;
      },
    );
  }

  toString(): string {
    const state = this._stateName();
    let detail = '';
    if (this._state === FINISHED) {
      detail = this._hasException ? ` exception=${describeValue(this._exception)}` : ` result=${describeValue(this._result)}`;
    }
    return `<${this[Symbol.toStringTag]} ${state}${detail}>`;
  }

  /** @internal */
  _makeCancelledError(): CancelledError {
    if (this._cancelledError !== null) {
      const error = this._cancelledError;
      return error;
    }
    this._cancelledError = new CancelledError(this._cancelMessage);
    return this._cancelledError;
  }

  /** @internal */
  _stateName(): string {
    return this._state === PENDING ? 'pending' : this._state === CANCELLED ? 'cancelled' : 'finished';
  }

  /** @internal The exception was looked at: do not report it when collected. */
  _untrack(): void {
    if (this._logTraceback) {
      this._logTraceback = false;
      const held = this._unretrieved;
      if (held !== null) {
        this._unretrieved = null;
        held.loop._unretrieved.delete(held);
        neverRetrieved.unregister(held);
      }
    }
  }

  /** @internal */
  _scheduleCallbacks(): void {
    const callbacks = this._callbacks;
    if (callbacks === null) return;
    this._callbacks = null;
    const loop = this._loop;
    loop._checkClosed();
    for (let i = 0; i < callbacks.length; i++) loop._callSoon(callbacks[i] as LoopCallback, [this]);
  }
}

/** Runs the running loop's `createFuture()`. */
export function createFuture<T>(): Future<T> {
  return getRunningLoop().createFuture<T>();
}
