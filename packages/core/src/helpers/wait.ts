import { describeValue } from '../debug/describe.js';
import { isFuture, type Future } from '../futures/future.js';
import { getRunningLoop } from '../loop/thread-state.js';
import { _checkOptions, _checkTimeout } from './gather.js';

/** `wait()` returns when any future finishes or is cancelled. */
export const FIRST_COMPLETED = 'FIRST_COMPLETED';
/** `wait()` returns when any future fails with an error, or when all are done. */
export const FIRST_EXCEPTION = 'FIRST_EXCEPTION';
/** `wait()` returns when all futures are done (the default). */
export const ALL_COMPLETED = 'ALL_COMPLETED';

/** When {@link wait} returns. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/** Options for {@link wait}. */
export interface WaitOptions {
  /** Return after this many seconds at the latest (null or absent: no limit). Nothing is cancelled when it passes. */
  timeout?: number | null;
  /** When to return (default {@link ALL_COMPLETED}). */
  returnWhen?: ReturnWhen;
}

const RETURN_WHEN: readonly string[] = [FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED];

/**
 * Waits for Futures/Tasks until the `returnWhen` condition or the timeout
 * (asyncio.wait). Resolves to `[done, pending]`, two Sets holding the very
 * Future objects that were passed.
 *
 * - Nothing is cancelled when the timeout passes: the unfinished futures are
 *   simply in `pending`. No TimeoutError is raised.
 * - Errors of the futures are not thrown: look at `done` (`f.exception()`).
 * - Only Futures and Tasks are accepted, as in Python 3.12 (which refuses
 *   coroutines): create tasks with `loop.createTask(fn)`, and wrap promises with
 *   `wrapFuture(p)`, so you can recognise them in the result.
 *
 * Rejects with a TypeError for a non-iterable, a non-Future element or bad
 * options, and with a RangeError for an empty collection (asyncio's ValueError),
 * an unknown `returnWhen`, or a Future of another loop.
 *
 * @example
 * ```ts
 * const [done, pending] = await wait([t1, t2], { returnWhen: FIRST_COMPLETED, timeout: 5 });
 * ```
 */
export async function wait<F extends Future<unknown>>(
  fs: Iterable<F>,
  options: WaitOptions = {},
): Promise<[done: Set<F>, pending: Set<F>]> {
  if (
    fs === null ||
    typeof fs !== 'object' ||
    isFuture(fs) ||
    typeof (fs as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function'
  ) {
    throw new TypeError(`wait() takes an iterable (array, Set, ...) of Futures/Tasks, got ${describeValue(fs)}`);
  }
  _checkOptions('wait()', options, ['timeout', 'returnWhen']);
  const { timeout, returnWhen = ALL_COMPLETED } = options;
  _checkTimeout('wait(): options.timeout', timeout, true);
  if (!RETURN_WHEN.includes(returnWhen as string)) {
    throw new RangeError(`wait(): invalid returnWhen value ${describeValue(returnWhen)}; use FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED`);
  }
  const futures = new Set<F>();
  for (const f of fs) {
    if (!isFuture(f)) {
      throw new TypeError(
        typeof f === 'function'
          ? 'wait(): passing async functions is forbidden (as in Python 3.12); create tasks explicitly with loop.createTask(fn)'
          : `wait() takes Futures or Tasks, got ${describeValue(f)}` +
              (f !== null && typeof f === 'object' && typeof (f as { then?: unknown }).then === 'function'
                ? ' (wrap a promise with wrapFuture(promise))'
                : ''),
      );
    }
    futures.add(f);
  }
  if (futures.size === 0) throw new RangeError('wait(): the set of Futures/Tasks is empty');
  const loop = getRunningLoop();
  for (const f of futures) {
    if (f.getLoop() !== loop) throw new RangeError(`wait(): ${f.toString()} belongs to another event loop than the running one`);
  }

  const waiter = loop.createFuture<void>();
  const timer = timeout === undefined || timeout === null ? null : loop.callLater(timeout, release);
  let counter = futures.size;
  function release(): void {
    if (!waiter.done()) waiter.setResult(undefined);
  }
  const onCompletion = (f: Future<unknown>): void => {
    counter--;
    if (
      counter <= 0 ||
      returnWhen === FIRST_COMPLETED ||
      (returnWhen === FIRST_EXCEPTION && !f.cancelled() && (f.exception(), f._hasException))
    ) {
      if (timer !== null) timer.cancel();
      release();
    }
  };
  for (const f of futures) f.addDoneCallback(onCompletion);
  try {
    await waiter;
  } finally {
    if (timer !== null) timer.cancel();
    for (const f of futures) f.removeDoneCallback(onCompletion);
  }
  const done = new Set<F>();
  const pending = new Set<F>();
  for (const f of futures) (f.done() ? done : pending).add(f);
  return [done, pending];
}
