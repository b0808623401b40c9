import { describeValue } from '../debug/describe.js';
import { Future, checkLoop, isFuture } from '../futures/future.js';
import type { Awaitable, EventLoop } from '../loop/event-loop.js';
import { runningLoopOrNull, getRunningLoop } from '../loop/thread-state.js';

/**
 * A Future for `awaitable` (asyncio.ensure_future): a Future or Task is returned
 * as is; an async function becomes a Task; a promise is wrapped.
 */
export function ensureFuture<T>(awaitable: Awaitable<T>, loop?: EventLoop): Future<T> {
  if (loop !== undefined) checkLoop(loop, 'ensureFuture()');
  if (isFuture(awaitable) && loop === undefined) return awaitable as Future<T>;
  const target = loop ?? (isFuture(awaitable) ? awaitable.getLoop() : getRunningLoop());
  return target._ensureFuture(awaitable);
}

/**
 * Wraps a promise (or any thenable) in a Future of the running loop
 * (asyncio.wrap_future). Awaiting the Future inside a task keeps the task
 * cancellable and ordered by the loop; the promise itself is not cancelled.
 */
export function wrapFuture<T>(promise: PromiseLike<T> | Future<T>, loop?: EventLoop): Future<T> {
  if (isFuture(promise)) return promise as Future<T>;
  if (promise === null || typeof promise !== 'object' || typeof (promise as PromiseLike<T>).then !== 'function') {
    throw new TypeError(`wrapFuture() takes a promise or thenable, got ${describeValue(promise)}`);
  }
  if (loop !== undefined) checkLoop(loop, 'wrapFuture()');
  const target = loop ?? runningLoopOrNull();
  if (target === null) throw new TypeError('wrapFuture(): no running event loop; pass the loop');
  return target._wrapPromise(promise);
}


