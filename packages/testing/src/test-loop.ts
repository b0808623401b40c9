import { EventLoop, RuntimeError, type EventLoopOptions, type Future, type Task } from '@aioloop/core';
import { awaitedFuture, checkClosed, nextTimerDeadline, pendingTasks } from '@aioloop/core/internal';
import { describeValue } from './describe.js';

/** Options for {@link TestLoop}. */
export interface TestLoopOptions extends EventLoopOptions {
  /**
   * Jump the clock to the next timer whenever nothing else is ready (default
   * true). With false the clock moves only through {@link TestLoop.advance}.
   */
  autoAdvance?: boolean;
  /**
   * In auto-advance mode, fail the run with a {@link DeadlockError} when every
   * task waits on a loop future and no callback or timer is pending (default
   * true). Turn it off when the test also waits for real I/O (real sockets,
   * child processes) that the loop cannot see.
   */
  detectDeadlock?: boolean;
  /**
   * Real milliseconds the loop stays idle before a deadlock is declared, so
   * that work finishing outside the loop (a promise, a worker) can still wake
   * it (default 50).
   */
  deadlockGraceMs?: number;
  /** The clock's starting value in seconds (default 0). */
  startTime?: number;
  /**
   * While a promise wrapped into a loop future (`wrapFuture`, `runInExecutor`)
   * is pending, auto-advance waits this many real milliseconds of quiet before
   * it jumps the clock, so that outside work that settles quickly (a worker, a
   * real timer) lands before virtual timeouts fire (default 50).
   */
  foreignGraceMs?: number;
}

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

function formatSeconds(seconds: number): string {
  return `${Number(seconds.toFixed(6))}s`;
}

interface AdvanceWaiter {
  target: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * A complete {@link EventLoop} on a virtual clock. `time()` starts at 0 and
 * moves only when the loop has nothing else to do: in auto-advance mode
 * (default) it jumps straight to the next timer, so a task that sleeps an hour
 * finishes in milliseconds; in manual mode it moves with {@link advance}.
 * Callbacks and timers keep the loop's deterministic order (FIFO, deadline then
 * scheduling order), so a run without real I/O replays exactly.
 */
export class TestLoop extends EventLoop {
  private _now: number;
  private _auto: boolean;
  private readonly _detectDeadlock: boolean;
  private readonly _deadlockGraceMs: number;
  private readonly _foreignGraceMs: number;
  /** Incremented whenever the loop is woken or restarted: stale idle checks compare it. */
  private _idleToken = 0;
  private _idleWaiting = false;
  private _advanceTarget: number | null = null;
  private _stopAtTarget = false;
  private _untilIdle = false;
  private readonly _advanceWaiters: AdvanceWaiter[] = [];
  private _failure: Error | null = null;
  private _pendingForeign = 0;
  private _deadlockTimer: NodeJS.Timeout | null = null;
  private _jumps = 0;

  constructor(options: TestLoopOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`TestLoop(options): options must be an object such as { autoAdvance: false }, got ${describeValue(options)}`);
    }
    super(options);
    const { autoAdvance = true, detectDeadlock = true, deadlockGraceMs = 50, startTime = 0, foreignGraceMs = 50 } = options;
    if (typeof autoAdvance !== 'boolean') throw new TypeError(`TestLoop(): autoAdvance must be a boolean, got ${describeValue(autoAdvance)}`);
    if (typeof detectDeadlock !== 'boolean') throw new TypeError(`TestLoop(): detectDeadlock must be a boolean, got ${describeValue(detectDeadlock)}`);
    if (typeof deadlockGraceMs !== 'number' || !Number.isFinite(deadlockGraceMs) || deadlockGraceMs < 0) {
      throw new TypeError(`TestLoop(): deadlockGraceMs must be a number of milliseconds >= 0, got ${describeValue(deadlockGraceMs)}`);
    }
    if (typeof foreignGraceMs !== 'number' || !Number.isFinite(foreignGraceMs) || foreignGraceMs < 0) {
      throw new TypeError(`TestLoop(): foreignGraceMs must be a number of milliseconds >= 0, got ${describeValue(foreignGraceMs)}`);
    }
    if (typeof startTime !== 'number' || !Number.isFinite(startTime)) {
      throw new TypeError(`TestLoop(): startTime must be a finite number of seconds, got ${describeValue(startTime)}`);
    }
    this._now = startTime;
    this._auto = autoAdvance;
    this._detectDeadlock = detectDeadlock;
    this._deadlockGraceMs = deadlockGraceMs;
    this._foreignGraceMs = foreignGraceMs;
  }

  /**
   * Counts promises wrapped into loop futures (executor jobs, wrapFuture):
   * while one is pending, a quiet loop is waiting for it, not deadlocked.
   */
  protected override onPromiseWrapped(promise: PromiseLike<unknown>): void {
    this._pendingForeign++;
    const done = (): void => {
      this._pendingForeign--;
    };
    promise.then(done, done);
  }

  /** The virtual clock, in seconds. */
  override time(): number {
    return this._now;
  }

  /** Whether the clock jumps to the next timer by itself. */
  get autoAdvance(): boolean {
    return this._auto;
  }

  /** Switches auto-advance on or off (takes effect the next time the loop idles). */
  setAutoAdvance(enabled: boolean): void {
    if (typeof enabled !== 'boolean') throw new TypeError(`setAutoAdvance() takes a boolean, got ${describeValue(enabled)}`);
    this._auto = enabled;
    if (enabled && this._idleWaiting) this.wakeup();
  }

  /** How many times the clock has jumped forward so far (for diagnostics and tests). */
  get clockJumps(): number {
    return this._jumps;
  }

  /**
   * Moves the clock forward by `seconds`, firing every timer that falls due
   * on the way at its own deadline (the clock reads each timer's deadline when
   * it fires), then runs until nothing is ready at the new time.
   *
   * If the loop is not running, `advance` runs it and stops it there; if it is
   * running (a `runUntilComplete` in progress), the returned promise settles
   * when the clock reaches the target and the loop is idle (or stops there).
   * It rejects if the loop stops before the clock reaches the target.
   */
  advance(seconds: number): Promise<void> {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
      return Promise.reject(new TypeError(`advance(): seconds must be a finite number >= 0, got ${describeValue(seconds)}`));
    }
    try {
      checkClosed(this);
    } catch (error) {
      return Promise.reject(error);
    }
    const target = this._now + seconds;
    this._advanceTarget = Math.max(this._advanceTarget ?? -Infinity, target);
    if (!this.isRunning()) {
      this._stopAtTarget = true;
      return this.runForever().finally(() => {
        this._stopAtTarget = false;
        this._advanceTarget = null;
      });
    }
    return new Promise<void>((resolve, reject) => {
      this._advanceWaiters.push({ target, resolve, reject });
      if (this._idleWaiting) this.wakeup();
    });
  }

  /**
   * Runs the loop until nothing is ready and no timer is due at the current
   * virtual time, without moving the clock. The loop must not be running.
   */
  async runUntilIdle(): Promise<void> {
    this._untilIdle = true;
    try {
      await this.runForever();
    } finally {
      this._untilIdle = false;
    }
  }

  override runForever(): Promise<void> {
    this._idleToken++;
    this._idleWaiting = false;
    this._failure = null;
    const run = super.runForever();
    return run.finally(() => {
      this._idleToken++;
      this._idleWaiting = false;
      this._clearDeadlockTimer();
      for (const waiter of this._advanceWaiters.splice(0)) {
        if (waiter.target <= this._now) waiter.resolve();
        else waiter.reject(new RuntimeError(`The loop stopped at virtual time ${formatSeconds(this._now)} before advance() reached its target ${formatSeconds(waiter.target)}`));
      }
      if (!this._stopAtTarget) this._advanceTarget = null;
    });
  }

  override close(): void {
    super.close();
    this._clearDeadlockTimer();
  }

  protected override wakeup(): void {
    this._idleToken++;
    this._idleWaiting = false;
    this._clearDeadlockTimer();
    super.wakeup();
  }

  protected override onIdle(delaySeconds: number): void {
    this._idleWaiting = true;
    const token = ++this._idleToken;
    if (this._failure !== null) {
      this._failure = null;
      // Still deadlocked now that the loop ran once more? Then end the run with it.
      const failure = delaySeconds === Infinity ? this._findDeadlock() : null;
      if (failure !== null) throw failure; // runForever() rejects with it
    }
    if (this._untilIdle) {
      this.stop();
      return;
    }
    const deadline = delaySeconds === Infinity ? Infinity : nextTimerDeadline(this);
    const target = this._advanceTarget;
    const limit = target ?? (this._auto ? Infinity : this._now);
    if (deadline !== Infinity && deadline <= limit) {
      // Give Node one turn (promise continuations, I/O already queued) before
      // jumping; longer while outside work the loop awaits is still pending.
      const jump = (): void => {
        if (token !== this._idleToken || !this._idleWaiting) return;
        if (deadline > this._now) {
          this._now = deadline;
          this._jumps++;
        }
        this.wakeup();
      };
      if (this._pendingForeign > 0 && this._advanceTarget === null) setTimeout(jump, this._foreignGraceMs);
      else setImmediate(jump);
      return;
    }
    if (target !== null) {
      if (target > this._now) {
        this._now = target;
        this._jumps++;
      }
      this._advanceTarget = null;
      const reached = this._advanceWaiters.splice(0);
      for (const waiter of reached) waiter.resolve();
      if (this._stopAtTarget) {
        this.stop();
        return;
      }
      if (this._auto && deadline !== Infinity) {
        this.wakeup(); // keep auto-advancing past the target
        return;
      }
    }
    if (this._auto && deadline === Infinity && this._detectDeadlock && pendingTasks(this).size > 0) {
      this._deadlockTimer = setTimeout(() => {
        this._deadlockTimer = null;
        if (token !== this._idleToken || !this._idleWaiting) return;
        const deadlock = this._findDeadlock();
        if (deadlock === null) return;
        this._failure = deadlock;
        this.wakeup(); // the next onIdle() throws it
      }, this._deadlockGraceMs);
    }
  }

  private _clearDeadlockTimer(): void {
    if (this._deadlockTimer !== null) {
      clearTimeout(this._deadlockTimer);
      this._deadlockTimer = null;
    }
  }

  /** A DeadlockError if every pending task waits on a loop future, else null. */
  private _findDeadlock(): DeadlockError | null {
    if (this._pendingForeign > 0) return null;
    const waiting: WaitingTask[] = [];
    for (const task of pendingTasks(this)) {
      const waiter = awaitedFuture(task);
      // A task awaiting a non-aioloop promise may be woken from outside the loop.
      if (waiter === null) return null;
      waiting.push({ name: task.getName(), waitingOn: describeFuture(waiter), task });
    }
    return waiting.length === 0 ? null : new DeadlockError(this._now, waiting);
  }
}

function describeFuture(future: Future<unknown>): string {
  const maybeTask = future as Future<unknown> & { getName?: () => string };
  if (typeof maybeTask.getName === 'function') return `task ${maybeTask.getName()}`;
  return String(future);
}
