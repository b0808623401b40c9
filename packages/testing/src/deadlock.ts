import { RuntimeError, type EventLoop, type Future, type Task } from '@aioloop/core';
import { awaitedFuture, pendingTasks } from '@aioloop/core/internal';
import { formatSeconds } from './virtual-clock.js';

/** What a waiting task was waiting on when a deadlock was detected. */
export interface WaitingTask {
  /** The task's name. */
  name: string;
  /** A description of the future it awaits. */
  waitingOn: string;
  /** The task itself. */
  task: Task<unknown>;
}

/**
 * Every task of a {@link TestLoop} waits for a loop future that nothing can
 * complete any more: no callback is ready and no timer is pending.
 */
export class DeadlockError extends RuntimeError {
  override name = 'DeadlockError';
  /** The tasks that were waiting, in creation order. */
  readonly waiting: readonly WaitingTask[];
  /** The virtual time at which it was detected. */
  readonly at: number;

  constructor(at: number, waiting: readonly WaitingTask[]) {
    const lines = waiting.map((w) => `  - ${w.name} waiting on ${w.waitingOn}`);
    super(
      `TestLoop deadlock at virtual time ${formatSeconds(at)}: no callback is ready, no timer is pending, ` +
        `and ${waiting.length} task(s) wait on futures nothing will complete:\n${lines.join('\n')}`,
    );
    this.waiting = waiting;
    this.at = at;
  }
}

/**
 * A DeadlockError (at virtual time `at`) if `loop` has pending tasks and every
 * one waits on a loop future, else null. The caller knows that no callback is
 * ready and no timer is pending.
 */
export function findDeadlock(loop: EventLoop, at: number): DeadlockError | null {
  const waiting: WaitingTask[] = [];
  for (const task of pendingTasks(loop)) {
    const waiter = awaitedFuture(task);
    // A task awaiting a non-aioloop promise may be woken from outside the loop.
    if (waiter === null) return null;
    waiting.push({ name: task.getName(), waitingOn: describeFuture(waiter), task });
  }
  return waiting.length === 0 ? null : new DeadlockError(at, waiting);
}

function describeFuture(future: Future<unknown>): string {
  const maybeTask = future as Future<unknown> & { getName?: () => string };
  if (typeof maybeTask.getName === 'function') return `task ${maybeTask.getName()}`;
  return String(future);
}
