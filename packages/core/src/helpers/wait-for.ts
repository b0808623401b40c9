import { CancelledError, RuntimeError, TimeoutError } from '../errors.js';
import { isFuture, type Future } from '../futures/future.js';
import type { Awaitable, EventLoop } from '../loop/event-loop.js';
import { runningLoopOrNull } from '../loop/thread-state.js';
import { _checkTimeout, _isAwaitable, _notAwaitableError, _warnBarePromise, _withCause, type AwaitableResult } from './gather.js';
import { timeout as timeoutScope } from './timeout.js';

/**
 * Waits for `aw` with a time limit (asyncio.wait_for, Python 3.12+ semantics:
 * built on {@link timeout}).
 *
 * `aw` may be a Future or Task, a promise, or an async function. An async
 * function runs inside the calling task (as Python 3.12 awaits a coroutine in
 * place): pass it for asyncio's `wait_for(coro(), t)`, as `waitFor(coro, t)` or
 * `waitFor(() => coro(arg), t)`. A promise is wrapped in a Future so the wait
 * stays cancellable, but the promise itself cannot be stopped: it keeps running
 * after the timeout (debug mode warns at the call).
 *
 * - When the time runs out, `aw` is cancelled (a function's pending await gets
 *   the CancelledError, so its `finally` blocks run), waitFor waits for it to
 *   finish, then rejects with TimeoutError (the CancelledError as `cause`).
 * - `timeout` null means no limit.
 * - `timeout <= 0`: if `aw` is already done its result is returned; otherwise it
 *   is cancelled (an async function then never starts), and waitFor rejects with
 *   TimeoutError unless `aw` suppressed the cancellation and produced a result.
 * - Cancelling the calling task cancels `aw` and the wait.
 *
 * Called from a task it runs in that task. Called from a plain loop callback it
 * runs in a new Task of its own. With no running loop it rejects with a
 * RuntimeError (use `loop.runUntilComplete(() => waitFor(aw, t))`).
 * Bad arguments reject with a TypeError.
 */
export function waitFor<A extends Awaitable<unknown>>(aw: A, timeout: number | null): Promise<AwaitableResult<A>> {
  try {
    if (!_isAwaitable(aw)) throw _notAwaitableError('waitFor(): the awaitable', aw);
    if (arguments.length < 2) {
      throw new TypeError('waitFor(aw, timeout): timeout is required: a number of seconds, or null for no limit');
    }
    _checkTimeout('waitFor(): timeout', timeout, false);
  } catch (error) {
    return Promise.reject(error);
  }
  const loop = runningLoopOrNull();
  if (loop === null) {
    return Promise.reject(
      new RuntimeError('waitFor() needs a running event loop: call it from a task, or run it with loop.runUntilComplete(() => waitFor(aw, t))'),
    );
  }
  if (isFuture(aw) && aw.getLoop() !== loop) {
    return Promise.reject(new RangeError(`waitFor(): ${aw.toString()} belongs to another event loop than the running one`));
  }
  _warnBarePromise(loop, aw, 'waitFor(): the awaitable', 'waitFor(coro, t) or waitFor(() => coro(arg), t)');
  if (loop._steps.current === null) {
    // Not inside a task (a plain callback): run it as a task of its own, as asyncio
    // wraps the wait_for coroutine in a Task.
    const task = loop.createTask(() => waitForInTask(loop, aw, timeout));
    return new Promise<AwaitableResult<A>>((resolve, reject) => {
      task.addDoneCallback((done) => {
        try {
          resolve(done.result());
        } catch (error) {
          reject(error);
        }
      });
    });
  }
  return waitForInTask(loop, aw, timeout);
}

async function waitForInTask<A extends Awaitable<unknown>>(loop: EventLoop, aw: A, limit: number | null): Promise<AwaitableResult<A>> {
  type R = AwaitableResult<A>;
  if (limit !== null && limit <= 0) {
    const fut = loop._ensureFuture(aw) as Future<R>;
    if (fut.done()) return fut.result();
    await cancelAndWait(loop, fut);
    try {
      return fut.result();
    } catch (error) {
      if (error instanceof CancelledError) throw _withCause(new TimeoutError(), error);
      throw error;
    }
  }
  const target: Future<R> | (() => R | PromiseLike<R>) =
    typeof aw === 'function' ? (aw as () => R | PromiseLike<R>) : (loop._ensureFuture(aw) as Future<R>);
  return timeoutScope(limit, () => (typeof target === 'function' ? target() : target)) as Promise<R>;
}

/** Cancels `fut` and waits until it is really done (it may take a while to clean up). */
async function cancelAndWait(loop: EventLoop, fut: Future<unknown>): Promise<void> {
  const waiter = loop.createFuture<void>();
  const release = (): void => {
    if (!waiter.done()) waiter.setResult(undefined);
  };
  fut.addDoneCallback(release);
  try {
    fut.cancel();
    await waiter;
  } finally {
    fut.removeDoneCallback(release);
  }
}
