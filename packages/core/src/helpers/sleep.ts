import { describeValue } from '../debug/describe.js';
import type { Future } from '../futures/future.js';
import type { EventLoop } from '../loop/event-loop.js';
import { getRunningLoop } from '../loop/thread-state.js';

function resolveSleep<T>(future: Future<T>, value: T): void {
  if (!future.done()) future.setResult(value);
}

/**
 * A future that resolves with `value` after `delay` seconds (asyncio.sleep).
 * Cancelling it (or the task awaiting it) cancels the timer. `sleep(0)` yields
 * to the loop for exactly one iteration.
 */
export function sleep(delay: number): Future<void>;
export function sleep<T>(delay: number, value: T): Future<T>;
export function sleep<T>(delay: number, value?: T): Future<T | undefined> {
  if (typeof delay !== 'number' || Number.isNaN(delay)) {
    throw new TypeError(`sleep(): delay must be a number of seconds, got ${describeValue(delay)}`);
  }
  const loop: EventLoop = getRunningLoop();
  const future = loop.createFuture<T | undefined>();
  if (delay <= 0) {
    const handle = loop._callSoon(resolveSleep as (...args: unknown[]) => void, [future, value]);
    future.addDoneCallback(() => handle.cancel());
    return future;
  }
  const timer = loop._callAt(loop.time() + delay, resolveSleep as (...args: unknown[]) => void, [future, value]);
  future.addDoneCallback(() => timer.cancel());
  return future;
}
