import { describeValue } from '../debug/describe.js';
import { CancelledError } from '../errors.js';
import type { Future } from '../futures/future.js';
import type { Task } from '../futures/task.js';
import type { EventLoop } from '../loop/event-loop.js';
import { getRunningLoop } from '../loop/thread-state.js';

/**
 * What {@link staggeredRace} resolves to (asyncio's `(winner_result,
 * winner_index, exceptions)`): the winner's result and index, or null and
 * null if none succeeded; and, for every attempt started, in order, what it
 * threw (null for the winner and for attempts that never finished by
 * throwing; a cancelled loser holds its CancelledError).
 */
export type StaggeredRaceResult<T> = [winner: T | null, index: number | null, errors: unknown[]];

/** Options of {@link staggeredRace}. */
export interface StaggeredRaceOptions {
  /** The loop to run on (default: the running loop). */
  loop?: EventLoop;
}

/** A future done when `previousFailed` is, or after `delay` seconds (null: never); `previousFailed` itself is never cancelled. */
function failedOrDelay(loop: EventLoop, previousFailed: Future<void>, delay: number | null): Future<void> {
  const wake = loop.createFuture<void>();
  const onFailed = (): void => {
    if (!wake.done()) wake.setResult(undefined);
  };
  previousFailed.addDoneCallback(onFailed);
  const timer = delay === null ? null : loop.callLater(delay, onFailed);
  wake.addDoneCallback(() => {
    previousFailed.removeDoneCallback(onFailed);
    timer?.cancel();
  });
  return wake;
}

/**
 * Runs `fns` one after another, each started `delay` seconds after the
 * previous one or as soon as it fails, until one succeeds (asyncio's
 * `staggered.staggered_race`, the engine of Happy Eyeballs). The first to
 * succeed wins: every other attempt still running is cancelled, and the race
 * ends only once they all finished, so an attempt that owns a resource (a
 * socket) must release it when cancelled (`try/finally` or `catch`). With
 * `delay` null, an attempt starts only after the previous one failed.
 *
 * Returns a Task: cancelling it cancels every attempt, waits for them, then
 * ends cancelled. Each attempt runs in a task of its own, so it can be
 * cancelled at its awaits.
 *
 * Throws a TypeError at once if `fns` is not an iterable or `delay` is not a
 * number >= 0 or null; an element that is not a function rejects the Task
 * with a TypeError when its turn comes.
 */
export function staggeredRace<T>(
  fns: Iterable<() => T | PromiseLike<T>>,
  delay: number | null,
  options: StaggeredRaceOptions = {},
): Task<StaggeredRaceResult<T>> {
  if (fns === null || typeof fns !== 'object' || typeof (fns as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`staggeredRace(): fns must be an iterable of functions returning the attempt's result, got ${describeValue(fns)}`);
  }
  if (delay !== null && (typeof delay !== 'number' || Number.isNaN(delay) || delay < 0)) {
    throw new TypeError(`staggeredRace(): delay must be a number of seconds >= 0 or null, got ${describeValue(delay)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`staggeredRace(): options must be an object such as { loop }, got ${describeValue(options)}`);
  }
  const loop = options.loop ?? getRunningLoop();
  const attempts = fns[Symbol.iterator]();
  return loop.createTask<StaggeredRaceResult<T>>(async () => {
    const running = new Set<Task<void>>();
    const errors: unknown[] = [];
    const unexpected: unknown[] = [];
    let winner: T | null = null;
    let winnerIndex: number | null = null;
    let allDone: Future<void> | null = null;

    const start = (previousFailed: Future<void> | null): void => {
      const task: Task<void> = loop.createTask(() => runOne(task, previousFailed), { name: 'staggeredRace attempt' });
      running.add(task);
      task.addDoneCallback(() => {
        running.delete(task);
        if (!task.cancelled() && task.exception() !== null) unexpected.push(task.exception());
        if (running.size === 0 && allDone !== null && !allDone.done()) allDone.setResult(undefined);
      });
    };

    const runOne = async (self: Task<void>, previousFailed: Future<void> | null): Promise<void> => {
      if (previousFailed !== null && !previousFailed.done()) await failedOrDelay(loop, previousFailed, delay);
      const next = attempts.next();
      if (next.done === true) return;
      const fn = next.value;
      if (typeof fn !== 'function') throw new TypeError(`staggeredRace(): each element of fns must be a function, got ${describeValue(fn)}`);
      const index = errors.length;
      errors.push(null);
      const failed = loop.createFuture<void>();
      start(failed);
      try {
        const result = await fn();
        winner = result;
        winnerIndex = index;
        for (const task of running) if (task !== self) task.cancel();
      } catch (error) {
        errors[index] = error;
        failed.setResult(undefined);
      }
    };

    start(null);
    let cancelled: CancelledError | null = null;
    while (running.size > 0) {
      allDone = loop.createFuture<void>();
      try {
        await allDone;
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
        cancelled = error;
        for (const task of running) task.cancel();
      }
      allDone = null;
    }
    if (unexpected.length > 0) throw new AggregateError(unexpected, 'staggered race failed');
    if (cancelled !== null) throw cancelled;
    return [winner, winnerIndex, errors];
  }, { name: 'staggeredRace' });
}
