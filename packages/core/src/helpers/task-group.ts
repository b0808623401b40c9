import { CancelledError, RuntimeError } from '../errors.js';
import { describeValue } from '../debug/describe.js';
import type { Future } from '../futures/future.js';
import type { Task, TaskFunction, TaskOptions } from '../futures/task.js';
import type { EventLoop } from '../loop/event-loop.js';
import { getRunningLoop } from '../loop/thread-state.js';

/** The message of the AggregateError a TaskGroup throws (asyncio's ExceptionGroup message). */
export const TASK_GROUP_ERROR_MESSAGE = 'unhandled errors in a TaskGroup';

/**
 * A group of tasks that are all awaited before the group's block ends
 * (asyncio.TaskGroup, structured concurrency).
 *
 * Preferred use — the body runs in the current task, and `run` resolves after
 * every child is done:
 * ```ts
 * await TaskGroup.run(async (tg) => {
 *   tg.createTask(fetchA);
 *   tg.createTask(fetchB);
 * });
 * ```
 * Manual use: `await tg.enter()`, then the body, then `await tg.exit()` — or
 * `await tg.exit(error)` if the body threw `error` (then re-throw `error`
 * yourself if `exit` returns normally; `run` does all that for you).
 *
 * Semantics, as asyncio's:
 * - The group waits for all its tasks, also when the body failed.
 * - The first task that fails with an error (not a CancelledError) cancels the
 *   other tasks and the parent task's body (once; the group withdraws that
 *   cancellation with `uncancel()` when it exits, so the parent is not left
 *   cancelled). New tasks can no longer be created then.
 * - Errors come out as an `AggregateError` (asyncio's ExceptionGroup; message
 *   {@link TASK_GROUP_ERROR_MESSAGE}) whose `errors` holds every task's error in
 *   the order they happened (CancelledErrors excluded), then the body's own
 *   error if it threw one. A body that threw cancels the tasks first.
 * - If the parent task is cancelled from outside, the tasks are cancelled and
 *   the CancelledError propagates (unless tasks failed: then the AggregateError
 *   wins and the parent stays cancelled).
 *
 * Adaptation: the group is not an `AsyncDisposable`, because `await using`
 * gives the disposer no access to the body's error, and the group must cancel
 * its tasks when the body fails. JavaScript has no KeyboardInterrupt/SystemExit,
 * so asyncio's "base error" path does not exist.
 */
export class TaskGroup {
  private _entered = false;
  private _exiting = false;
  private _aborting = false;
  private _loop: EventLoop | null = null;
  private _parentTask: Task<unknown> | null = null;
  private _parentCancelRequested = false;
  private readonly _tasks = new Set<Task<unknown>>();
  private _errors: unknown[] = [];
  private _onCompletedFut: Future<boolean> | null = null;

  /**
   * Runs `body(tg)` in the current task inside a new group, then waits for all
   * the group's tasks. Resolves to the body's result. Rejects with the group's
   * AggregateError if tasks (or the body) failed, with CancelledError if the
   * parent task was cancelled from outside, and with RuntimeError outside a task.
   */
  static async run<T>(body: (tg: TaskGroup) => T | PromiseLike<T>): Promise<Awaited<T>> {
    if (typeof body !== 'function') {
      throw new TypeError(`TaskGroup.run() takes a function (tg) => ... as the group's body, got ${describeValue(body)}`);
    }
    const tg = new TaskGroup();
    tg._enter();
    let result: Awaited<T>;
    try {
      result = await body(tg);
    } catch (error) {
      await tg.exit(error);
      // exit() swallows the body's error only when the group itself cancelled the
      // body and nothing failed, which cannot happen without a failing task.
      throw error;
    }
    await tg.exit();
    return result;
  }

  /**
   * Enters the group (asyncio's `__aenter__`): binds it to the task running now,
   * which becomes the parent task. Rejects with RuntimeError if it was entered
   * before or if no task is running.
   */
  async enter(): Promise<this> {
    this._enter();
    return this;
  }

  /**
   * Creates a task in the group (like `loop.createTask`) and returns it.
   * Throws a RuntimeError if the group was not entered, is finished, or is
   * shutting down because a task failed or the parent was cancelled.
   */
  createTask<T>(fn: TaskFunction<T>, options?: TaskOptions): Task<T> {
    if (!this._entered) throw new RuntimeError(`TaskGroup ${this.toString()} has not been entered`);
    if (this._exiting && this._tasks.size === 0) throw new RuntimeError(`TaskGroup ${this.toString()} is finished`);
    if (this._aborting) throw new RuntimeError(`TaskGroup ${this.toString()} is shutting down`);
    const loop = this._loop as EventLoop;
    const task = options === undefined ? loop.createTask(fn) : loop.createTask(fn, options);
    this._tasks.add(task as Task<unknown>);
    (task as Task<unknown>).addDoneCallback(this._onTaskDone);
    return task;
  }

  /**
   * Exits the group (asyncio's `__aexit__`): waits for every task. Call it
   * with no argument after the body completed, or with the body's error.
   *
   * Rejects with an AggregateError of the tasks' errors (plus the body's error,
   * unless it is a CancelledError), or with the CancelledError of a cancellation
   * from outside. Resolves when nothing failed — including when `error` was the
   * CancelledError the group itself caused, which is then swallowed.
   */
  async exit(...args: [] | [error: unknown]): Promise<void> {
    if (!this._entered) throw new RuntimeError(`TaskGroup ${this.toString()} has not been entered`);
    if (this._exiting) throw new RuntimeError(`TaskGroup ${this.toString()} exit() was already called`);
    const parent = this._parentTask as Task<unknown>;
    const loop = this._loop as EventLoop;
    const hasError = args.length > 0;
    const error = args[0];
    const isCancel = hasError && error instanceof CancelledError;
    this._exiting = true;

    let propagateCancellation: CancelledError | null = isCancel ? (error as CancelledError) : null;
    if (hasError && !this._aborting) {
      // The parent is being cancelled, or the body raised: cancel the tasks.
      this._abort();
    }
    // A loop, because the parent may be cancelled again while we wait.
    let pendingCancellation: CancelledError | null = null;
    while (this._tasks.size > 0) {
      if (this._onCompletedFut === null) this._onCompletedFut = loop.createFuture<boolean>();
      try {
        await this._onCompletedFut;
      } catch (caught) {
        if (!(caught instanceof CancelledError)) throw caught;
        pendingCancellation = caught;
        if (!this._aborting) {
          // The parent task is cancelled from outside while the tasks still run.
          propagateCancellation = caught;
          this._abort();
        }
      }
      this._onCompletedFut = null;
    }

    if (this._parentCancelRequested) {
      // The group cancelled the parent: withdraw that request.
      if (parent.uncancel() === 0) propagateCancellation = null;
      else if (propagateCancellation === null) propagateCancellation = pendingCancellation; // not ours: keep it
    }
    const errors = this._errors;
    this._errors = [];
    this._parentTask = null;
    if (propagateCancellation !== null && errors.length === 0) throw propagateCancellation;
    if (hasError && !isCancel) errors.push(error);
    if (errors.length > 0) {
      // If the parent is also cancelled from outside, re-cancel it so that the
      // cancellation count stays stable (uncancel + cancel, as asyncio).
      if (parent.cancelling() > 0) {
        parent.uncancel();
        parent.cancel();
      }
      throw new AggregateError(errors, TASK_GROUP_ERROR_MESSAGE);
    }
  }

  toString(): string {
    const info: string[] = [];
    if (this._tasks.size > 0) info.push(`tasks=${this._tasks.size}`);
    if (this._errors.length > 0) info.push(`errors=${this._errors.length}`);
    if (this._aborting) info.push('cancelling');
    else if (this._entered) info.push('entered');
    return `<TaskGroup${info.length > 0 ? ' ' + info.join(' ') : ''}>`;
  }

  private _enter(): void {
    if (this._entered) throw new RuntimeError(`TaskGroup ${this.toString()} has already been entered`);
    const loop = getRunningLoop();
    const parent = loop._steps.current;
    if (parent === null) {
      throw new RuntimeError(
        `TaskGroup ${this.toString()} cannot determine the parent task: use it inside a task (loop.createTask(fn) or loop.runUntilComplete(fn))`,
      );
    }
    this._loop = loop;
    this._parentTask = parent;
    this._entered = true;
  }

  private _abort(): void {
    this._aborting = true;
    for (const task of this._tasks) if (!task.done()) task.cancel();
  }

  private readonly _onTaskDone = (task: Task<unknown>): void => {
    this._tasks.delete(task);
    const completed = this._onCompletedFut;
    if (completed !== null && this._tasks.size === 0 && !completed.done()) completed.setResult(true);
    if (task.cancelled()) return;
    task.exception(); // marks it retrieved
    if (!task._hasException) return;
    const error = task._exception;
    this._errors.push(error);
    const parent = this._parentTask;
    if (parent === null || parent.done()) {
      (this._loop as EventLoop).callExceptionHandler({
        message: `Task ${task.toString()} has errored out but its parent task ${parent === null ? '(gone)' : parent.toString()} is already completed`,
        exception: error,
        task,
      });
      return;
    }
    if (!this._aborting && !this._parentCancelRequested) {
      // Abort whatever the body is awaiting now; exit() withdraws this cancel.
      this._abort();
      this._parentCancelRequested = true;
      parent.cancel();
    }
  };
}
