/**
 * Task stepping, in one place (asyncio's Task.__step / __wakeup and the
 * _enter_task / _leave_task / _register_task registry).
 *
 * A task's body is an async function, so the loop cannot run "one step" the
 * way asyncio sends into a coroutine: a done-callback resumes the awaiting code
 * through a promise, and the rest of that step runs in microtasks. To keep
 * asyncio's order (a woken task runs to its next await inside the callback that
 * woke it, before the next callback), the loop pauses its iteration after such
 * a callback until the step ends: the code awaits a pending aioloop future, the
 * task finishes, or MAX_STEP_HOPS microtask hops pass (it awaits something that
 * is not an aioloop future, which the loop cannot see; docs/mapping.md).
 *
 * The loop's side of this is narrow: it holds one {@link TaskSteps}, checks
 * `active` after each callback and then calls `waitForStepEnd()`, which calls
 * the loop's `_afterStep()` when the step is over.
 */
import { CancelledError, RuntimeError } from '../errors.js';
import { logger } from '../debug/logger.js';
import type { EventLoop } from '../loop/event-loop.js';
import { runningLoopOrNull } from '../loop/thread-state.js';
import type { Future } from './future.js';
import type { Task } from './task.js';

/** Microtask hops to wait for a woken task to reach its next await before moving on. */
const MAX_STEP_HOPS = 32;

/** One loop's tasks and the step in progress. */
export class TaskSteps {
  /** Pending tasks, held strongly so a pending task is never collected. */
  readonly tasks = new Set<Task<unknown>>();
  /** The task whose step runs now (null between steps, or when a plain awaiter steps). */
  current: Task<unknown> | null = null;
  /** A woken task (or plain awaiter) is stepping: the loop waits for it before the next callback. */
  active = false;
  /** The stepping code reached its next await of a pending future, or finished. */
  private ended = false;
  private hops = 0;

  constructor(private readonly loop: EventLoop) {}

  /** Waits in microtasks for the active step to end, then lets the loop go on. */
  waitForStepEnd(): void {
    this.hops = 0;
    queueMicrotask(this.poll);
  }

  /** A step begins: `task` (null for code outside any task) is resumed or started. */
  enter(task: Task<unknown> | null): void {
    this.active = true;
    this.ended = false;
    this.current = task;
  }

  private readonly poll = (): void => {
    if (!this.ended && ++this.hops < MAX_STEP_HOPS) {
      queueMicrotask(this.poll);
      return;
    }
    const loop = this.loop;
    if (!this.ended && this.current !== null && loop.getDebug()) {
      logger.warn(
        `${this.current.toString()} is awaiting something that is not an aioloop Future; ` +
          'the loop cannot resume or cancel it there. Wrap promises with wrapFuture(promise) inside tasks',
      );
    }
    this.active = false;
    this.ended = false;
    this.current = null;
    loop._afterStep();
  };

  /** The stepping code suspended or finished: its step is over. */
  end(): void {
    this.ended = true;
  }
}

/** A new task is pending on its loop. */
export function registerTask(task: Task<unknown>): void {
  task._loop._steps.tasks.add(task);
}

/** `task` is done (or will never start): it is no longer pending, and if it was stepping, its step is over. */
export function unregisterTask(task: Task<unknown>): void {
  const steps = task._loop._steps;
  if (steps.current === task) steps.end();
  task._futWaiter = null;
  steps.tasks.delete(task);
}

/** The first step of `task`: its function is about to be called. */
export function enterFirstStep(task: Task<unknown>): void {
  task._loop._steps.enter(task);
}

/**
 * The code running now awaits `future`, which is pending. Registers the
 * wake-up (asyncio's Task.__wakeup): when `future` is done, a loop callback
 * enters a step for the awaiting task and calls `resume(cancelled)`, where
 * `cancelled` is the CancelledError to deliver instead of the future's outcome
 * if the task was cancelled meanwhile, else null. If the code is a task's step,
 * that step is over: the task is suspended on `future` (so cancelling it cancels
 * `future`). Returns the error to deliver at once if the stepping task belongs
 * to another loop than `future`, else null.
 */
export function suspendOn(future: Future<unknown>, resume: (cancelled: CancelledError | null) => void): RuntimeError | null {
  const running = runningLoopOrNull();
  const steps = running === null || !running._steps.active ? null : running._steps;
  const task = steps === null ? null : steps.current;
  if (task !== null && task._loop !== future._loop) {
    return new RuntimeError(`Task ${task.getName()} got Future ${future.toString()} attached to a different loop`);
  }
  const loop = future._loop;
  const wakeup = (): void => {
    loop._steps.enter(task);
    if (task !== null) {
      if (task._futWaiter === future) task._futWaiter = null;
      if (task._mustCancel) {
        // Cancelled after `future` completed but before the task resumed: as
        // asyncio's Task.__step, it gets CancelledError here.
        task._mustCancel = false;
        resume(new CancelledError(task._cancelMessage));
        return;
      }
    }
    resume(null);
  };
  (future._callbacks ??= []).push(wakeup);
  if (steps !== null) {
    steps.end();
    if (task !== null) {
      task._futWaiter = future;
      if (task._mustCancel && future.cancel(task._cancelMessage)) task._mustCancel = false;
    }
  }
  return null;
}
