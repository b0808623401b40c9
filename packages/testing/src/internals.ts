import { getRunningLoop, type EventLoop, type Future, type Handle, type Task, type TimerHandle } from '@aioloop/core';

/**
 * @internal The members of core's loop, tasks and futures this package reads.
 * They are marked internal in `@aioloop/core` (stripped from its published
 * types), so they are described here once and reached through {@link loopInternals}.
 */
export interface LoopInternals {
  readonly _tasks: Set<Task<unknown>>;
  readonly _timers: { peek(): TimerHandle | undefined; readonly length: number };
  readonly _ready: { readonly length: number };
  _callSoon(callback: (...args: never[]) => void, args: readonly unknown[] | undefined): Handle;
  _wrapPromise<T>(promise: PromiseLike<T>): Future<T>;
  _checkClosed(): void;
}

/** @internal A task's internal view. */
export interface TaskInternals {
  _futWaiter: Future<unknown> | null;
}

/** @internal A timer's internal view. */
export interface TimerInternals {
  _when: number;
  _cancelled: boolean;
}

/** @internal */
export function loopInternals(loop: EventLoop): LoopInternals {
  return loop as unknown as LoopInternals;
}

/** @internal Schedules a library callback without argument validation. */
export function soon(loop: EventLoop, callback: () => void): Handle {
  return loopInternals(loop)._callSoon(callback, undefined);
}

/** @internal The running loop, or null (core's own helper is internal to it). */
export function runningLoopOrNull(): EventLoop | null {
  try {
    return getRunningLoop();
  } catch {
    return null;
  }
}
