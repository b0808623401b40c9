import { EventLoop, RuntimeError, type EventLoopOptions } from '@aioloop/core';
import { checkClosed, checkOptionKeys, nextTimerDeadline, pendingTasks } from '@aioloop/core/internal';
import { DeadlockError, findDeadlock } from './deadlock.js';
import { VirtualClock, formatSeconds } from './virtual-clock.js';
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

interface AdvanceWaiter {
  target: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** How the current run was started, which decides what the loop does once idle. */
const enum RunMode {
  /** runForever / runUntilComplete: the clock moves by auto-advance or advance(). */
  Free,
  /** runUntilIdle: stop as soon as nothing is ready. */
  UntilIdle,
  /** advance() on a stopped loop: stop once the clock reaches the target. */
  ToTarget,
}

/** What the loop does when nothing is ready, decided by {@link TestLoop.decideIdle}. */
const enum IdleAction {
  /** Stop the run (runUntilIdle is done, or advance() reached its target). */
  Stop,
  /** A timer is due within reach: move the clock to it after giving Node a turn. */
  JumpToTimer,
  /** No timer before the advance() target: move the clock there and settle the waiters. */
  ReachTarget,
  /** Auto-advance with tasks but no timer: if nothing wakes the loop, it is deadlocked. */
  WatchForDeadlock,
  /** Manual mode, or nothing to wait for: stay idle until woken. */
  Wait,
}

/**
 * One stretch of idleness, from an `onIdle()` to the next wakeup or the end of
 * the run. Node timers armed while idle act only if their period is still the
 * current one.
 */
interface IdlePeriod {
  deadlockTimer: NodeJS.Timeout | null;
}

/** @internal The keys of {@link TestLoopOptions}. */
export const TEST_LOOP_OPTIONS: readonly string[] = ['debug', 'autoAdvance', 'detectDeadlock', 'deadlockGraceMs', 'startTime', 'foreignGraceMs'];

/**
 * A complete {@link EventLoop} on a virtual clock. `time()` starts at 0 and
 * moves only when the loop has nothing else to do: in auto-advance mode
 * (default) it jumps straight to the next timer, so a task that sleeps an hour
 * finishes in milliseconds; in manual mode it moves with {@link advance}.
 * Callbacks and timers keep the loop's deterministic order (FIFO, deadline then
 * scheduling order), so a run without real I/O replays exactly.
 */
export class TestLoop extends EventLoop {
  private readonly _clock: VirtualClock;
  private _auto: boolean;
  private readonly _detectDeadlock: boolean;
  private readonly _deadlockGraceMs: number;
  private readonly _foreignGraceMs: number;
  private _mode = RunMode.Free;
  /** Where advance() takes the clock, or null. */
  private _advanceTarget: number | null = null;
  private readonly _advanceWaiters: AdvanceWaiter[] = [];
  /** The current idle period, or null while the loop runs callbacks or is stopped. */
  private _idle: IdlePeriod | null = null;
  /** A deadlock seen while idle: the next onIdle() ends the run with it if it still holds. */
  private _suspectedDeadlock: DeadlockError | null = null;
  /** Wrapped outside promises still pending (executor jobs, wrapFuture). */
  private _pendingForeign = 0;

  constructor(options: TestLoopOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`TestLoop(options): options must be an object such as { autoAdvance: false }, got ${describeValue(options)}`);
    }
    if (new.target === TestLoop) checkOptionKeys(options, 'TestLoop', TEST_LOOP_OPTIONS);
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
    this._clock = new VirtualClock(startTime);
    this._auto = autoAdvance;
    this._detectDeadlock = detectDeadlock;
    this._deadlockGraceMs = deadlockGraceMs;
    this._foreignGraceMs = foreignGraceMs;
  }

  /** The virtual clock, in seconds. */
  override time(): number {
    return this._clock.now;
  }

  /** Whether the clock jumps to the next timer by itself. */
  get autoAdvance(): boolean {
    return this._auto;
  }

  /** Switches auto-advance on or off (takes effect the next time the loop idles). */
  setAutoAdvance(enabled: boolean): void {
    if (typeof enabled !== 'boolean') throw new TypeError(`setAutoAdvance() takes a boolean, got ${describeValue(enabled)}`);
    this._auto = enabled;
    if (enabled && this._idle !== null) this.wakeup();
  }

  /** How many times the clock has jumped forward so far (for diagnostics and tests). */
  get clockJumps(): number {
    return this._clock.jumps;
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
    const target = this._clock.now + seconds;
    this._advanceTarget = Math.max(this._advanceTarget ?? -Infinity, target);
    if (!this.isRunning()) {
      this._mode = RunMode.ToTarget;
      return this.runForever().finally(() => {
        this._mode = RunMode.Free;
        this._advanceTarget = null;
      });
    }
    return new Promise<void>((resolve, reject) => {
      this._advanceWaiters.push({ target, resolve, reject });
      if (this._idle !== null) this.wakeup();
    });
  }

  /**
   * Runs the loop until nothing is ready and no timer is due at the current
   * virtual time, without moving the clock. The loop must not be running.
   */
  async runUntilIdle(): Promise<void> {
    if (this.isRunning()) return this.runForever(); // rejects: already running
    this._mode = RunMode.UntilIdle;
    try {
      await this.runForever();
    } finally {
      this._mode = RunMode.Free;
    }
  }

  override runForever(): Promise<void> {
    this._endIdlePeriod();
    this._suspectedDeadlock = null;
    const run = super.runForever();
    return run.finally(() => {
      this._endIdlePeriod();
      const now = this._clock.now;
      for (const waiter of this._advanceWaiters.splice(0)) {
        if (waiter.target <= now) waiter.resolve();
        else waiter.reject(new RuntimeError(`The loop stopped at virtual time ${formatSeconds(now)} before advance() reached its target ${formatSeconds(waiter.target)}`));
      }
      if (this._mode !== RunMode.ToTarget) this._advanceTarget = null;
    });
  }

  override close(): void {
    super.close();
    this._endIdlePeriod();
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

  protected override wakeup(): void {
    this._endIdlePeriod();
    super.wakeup();
  }

  protected override onIdle(delaySeconds: number): void {
    this._endIdlePeriod();
    const period: IdlePeriod = { deadlockTimer: null };
    this._idle = period;
    if (this._suspectedDeadlock !== null) {
      this._suspectedDeadlock = null;
      // Still deadlocked now that the loop ran once more? Then end the run with it.
      const deadlock = delaySeconds === Infinity ? this._findDeadlock() : null;
      if (deadlock !== null) throw deadlock; // runForever() rejects with it
    }
    const deadline = delaySeconds === Infinity ? Infinity : nextTimerDeadline(this);
    switch (this._decideIdle(deadline)) {
      case IdleAction.Stop:
        this.stop();
        return;
      case IdleAction.JumpToTimer: {
        // Give Node one turn (promise continuations, I/O already queued) before
        // jumping; longer while outside work the loop awaits is still pending.
        const jump = (): void => {
          if (this._idle !== period) return;
          this._clock.jumpTo(deadline);
          this.wakeup();
        };
        if (this._pendingForeign > 0 && this._advanceTarget === null) setTimeout(jump, this._foreignGraceMs);
        else setImmediate(jump);
        return;
      }
      case IdleAction.ReachTarget:
        this._reachTarget(deadline);
        return;
      case IdleAction.WatchForDeadlock:
        period.deadlockTimer = setTimeout(() => {
          period.deadlockTimer = null;
          if (this._idle !== period) return;
          const deadlock = this._findDeadlock();
          if (deadlock === null) return;
          this._suspectedDeadlock = deadlock;
          this.wakeup(); // the next onIdle() throws it
        }, this._deadlockGraceMs);
        return;
      case IdleAction.Wait:
        return;
    }
  }

  /** The idle policy: what to do with nothing ready and the earliest timer at `deadline` (Infinity: none). */
  private _decideIdle(deadline: number): IdleAction {
    if (this._mode === RunMode.UntilIdle) return IdleAction.Stop;
    const target = this._advanceTarget;
    const limit = target ?? (this._auto ? Infinity : this._clock.now);
    if (deadline !== Infinity && deadline <= limit) return IdleAction.JumpToTimer;
    if (target !== null) return IdleAction.ReachTarget;
    if (this._auto && deadline === Infinity && this._detectDeadlock && pendingTasks(this).size > 0) return IdleAction.WatchForDeadlock;
    return IdleAction.Wait;
  }

  /** No timer falls due before the advance() target: the clock moves there and advance() settles. */
  private _reachTarget(deadline: number): void {
    this._clock.jumpTo(this._advanceTarget as number);
    this._advanceTarget = null;
    for (const waiter of this._advanceWaiters.splice(0)) waiter.resolve();
    if (this._mode === RunMode.ToTarget) this.stop();
    else if (this._auto && deadline !== Infinity) this.wakeup(); // keep auto-advancing past the target
  }

  private _endIdlePeriod(): void {
    const period = this._idle;
    if (period === null) return;
    this._idle = null;
    if (period.deadlockTimer !== null) clearTimeout(period.deadlockTimer);
  }

  private _findDeadlock(): DeadlockError | null {
    return this._pendingForeign > 0 ? null : findDeadlock(this, this._clock.now);
  }
}
