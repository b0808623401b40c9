import { CancelledError, RuntimeError, TimeoutError } from '../errors.js';
import { describeValue } from '../debug/describe.js';
import type { Future } from '../futures/future.js';
import type { Task } from '../futures/task.js';
import type { EventLoop } from '../loop/event-loop.js';
import type { Handle } from '../loop/handles.js';
import { runningLoopOrNull } from '../loop/thread-state.js';
import { _checkTimeout, _withCause } from './gather.js';

// Node >= 20.4 defines Symbol.asyncDispose (as Symbol.for('nodejs.asyncDispose')).
// On an older runtime, define it with that same registered symbol, so `await using`
// (TypeScript's and other compilers' helpers look up Symbol.asyncDispose) works.
if (typeof (Symbol as { asyncDispose?: unknown }).asyncDispose !== 'symbol') {
  Object.defineProperty(Symbol, 'asyncDispose', { value: Symbol.for('nodejs.asyncDispose'), configurable: false, writable: false });
}

const CREATED = 0;
const ENTERED = 1;
const EXPIRING = 2;
const EXPIRED = 3;
const EXITED = 4;
type State = typeof CREATED | typeof ENTERED | typeof EXPIRING | typeof EXPIRED | typeof EXITED;
const STATE_NAMES = ['created', 'active', 'expiring', 'expired', 'finished'] as const;

/** A function run under a timeout by the callback form of {@link timeout} / {@link timeoutAt}. */
export type TimeoutBody<T> = (scope: Timeout) => T | PromiseLike<T>;

/**
 * A deadline for the code of the current task (asyncio.Timeout), made by
 * {@link timeout} or {@link timeoutAt}.
 *
 * When the deadline passes, the task is cancelled: the CancelledError is thrown
 * at the await the task is suspended in, so its `try/finally` blocks run. When
 * the scope is exited, that CancelledError is turned into a TimeoutError (with
 * the CancelledError as `cause`) — but only if no other cancellation of the task
 * is pending: the scope counts with `task.cancelling()` / `task.uncancel()`
 * exactly as asyncio does, so nested timeouts each convert only their own
 * expiry, and a cancellation from outside stays a CancelledError.
 *
 * Only an await of an aioloop Future (or Task) can be interrupted: a task
 * awaiting a bare promise gets the CancelledError at its next await of a Future
 * (wrap promises with `wrapFuture(p)`). If the block ends before that, nothing
 * is raised and the pending cancellation is withdrawn, as in asyncio.
 *
 * Two ways to use it:
 * - callback form (exact asyncio semantics): `await timeout(1, async (scope) => { ... })`;
 * - explicit resource management: `await using scope = timeout(1);` — see
 *   `[Symbol.asyncDispose]` for the JavaScript limitation it has.
 *
 * Adaptation: asyncio creates the Timeout and enters it in `async with`; here
 * creating it (with `timeout()`, `timeoutAt()` or `new Timeout()`) enters it at
 * once, because JavaScript's `using` has no "enter" step. It binds to the task
 * running at that moment.
 */
export class Timeout implements AsyncDisposable {
  private _state: State = CREATED;
  private _when: number | null;
  private _handle: Handle | null = null;
  private readonly _loop: EventLoop;
  private readonly _task: Task<unknown>;
  private readonly _cancelling: number;
  /** The future the task was suspended on when the deadline cancelled it. */
  private _cancelledWaiter: Future<unknown> | null = null;
  /** Whether a CancelledError was on its way to the body when the deadline fired. */
  private _deliveredAtExpiry = false;

  /**
   * Enters a timeout scope for the current task with absolute deadline `when`
   * (in `loop.time()` seconds; null means no deadline, a past deadline expires
   * in the next loop iteration). Prefer {@link timeout} / {@link timeoutAt}.
   *
   * Throws a TypeError for a bad `when` and a RuntimeError outside a task.
   */
  constructor(when: number | null) {
    _checkTimeout('Timeout(): when', when, false);
    const loop = runningLoopOrNull();
    const task = loop === null ? null : loop._steps.current;
    if (loop === null || task === null) {
      throw new RuntimeError(
        'Timeout should be used inside a task: call timeout()/timeoutAt()/waitFor() from the body of a Task ' +
          '(loop.createTask(fn) or loop.runUntilComplete(fn)), not from a plain callback or outside the loop',
      );
    }
    this._loop = loop;
    this._task = task;
    this._when = when;
    this._cancelling = task.cancelling();
    this._state = ENTERED;
    this.reschedule(when);
  }

  /** The deadline in `loop.time()` seconds, or null for none. */
  when(): number | null {
    return this._when;
  }

  /**
   * Moves the deadline to `when` (loop time in seconds; null removes it; a time
   * already past expires in the next iteration). Only while the scope is active:
   * throws a RuntimeError once it expired or was exited.
   */
  reschedule(when: number | null): void {
    _checkTimeout('Timeout.reschedule(): when', when, false);
    if (this._state !== ENTERED) {
      if (this._state === CREATED) throw new RuntimeError('Timeout has not been entered');
      throw new RuntimeError(`Cannot change state of ${STATE_NAMES[this._state]} Timeout`);
    }
    this._when = when;
    if (this._handle !== null) this._handle.cancel();
    if (when === null) {
      this._handle = null;
    } else if (when <= this._loop.time()) {
      this._handle = this._loop._callSoon(this._onTimeout, undefined);
    } else {
      this._handle = this._loop._callAt(when, this._onTimeout, undefined);
    }
  }

  /** Whether the deadline passed (and the task was cancelled for it). */
  expired(): boolean {
    return this._state === EXPIRING || this._state === EXPIRED;
  }

  toString(): string {
    const info: string[] = [STATE_NAMES[this._state]];
    if (this._state === ENTERED) info.push(`when=${this._when === null ? 'null' : this._when.toFixed(3)}`);
    return `<Timeout [${info.join(' ')}]>`;
  }

  /**
   * Exits the scope (for `await using`). JavaScript gives a disposer no access
   * to the exception the block ended with, so this adapts asyncio's `__aexit__`:
   *
   * - If the deadline cancelled the task and no other cancellation is pending,
   *   it throws a TimeoutError whose `cause` is the CancelledError. When the
   *   block ended with that CancelledError (the usual case), the language
   *   combines both: the enclosing `catch` receives a `SuppressedError` whose
   *   `error` is the TimeoutError and whose `suppressed` is the CancelledError.
   *   If the cancellation was never delivered (the block finished without
   *   awaiting a Future after the deadline), it throws nothing, as asyncio.
   * - A block that caught the CancelledError and finished normally still gets a
   *   TimeoutError here (asyncio would not raise): prefer the callback form
   *   `await timeout(delay, fn)`, which sees the block's outcome and converts
   *   exactly like asyncio.
   * - Cancellations from outside are left alone: the block's CancelledError propagates.
   *
   * Disposing twice throws a RuntimeError.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    // Guess how the block ended: with a CancelledError if one was thrown into the
    // task after the deadline (now, or later at its next await of a Future).
    const sawCancel = this._state === EXPIRING && (this._deliveredAtExpiry || !this._task._mustCancel);
    const waiter = this._cancelledWaiter;
    const cause = waiter !== null && waiter.cancelled() ? waiter._makeCancelledError() : new CancelledError();
    const converted = this._exit(sawCancel, cause);
    if (converted !== null) throw converted;
  }

  /**
   * @internal Leaves the scope as `__aexit__` does, given how the body ended.
   * Returns the TimeoutError to throw instead of `error`, or null.
   */
  _exit(hasError: boolean, error: unknown): TimeoutError | null {
    if (this._state !== ENTERED && this._state !== EXPIRING) {
      throw new RuntimeError(`Cannot exit a ${STATE_NAMES[this._state]} Timeout: it was exited already`);
    }
    if (this._handle !== null) {
      this._handle.cancel();
      this._handle = null;
    }
    if (this._state === EXPIRING) {
      this._state = EXPIRED;
      this._cancelledWaiter = null;
      // Since there are no new cancel requests, this expiry is what we handle.
      if (this._task.uncancel() <= this._cancelling && hasError && error instanceof CancelledError) {
        return _withCause(new TimeoutError(), error);
      }
    } else {
      this._state = EXITED;
    }
    return null;
  }

  private readonly _onTimeout = (): void => {
    if (this._state !== ENTERED) return;
    this._handle = null;
    const task = this._task;
    const waiter = task._futWaiter;
    task.cancel();
    // Delivered now if the awaited future took the cancel, or if it was cancelled
    // already (an earlier cancel's CancelledError is on its way to the body).
    this._deliveredAtExpiry = !task._mustCancel || (waiter !== null && waiter.cancelled());
    this._cancelledWaiter = waiter;
    this._state = EXPIRING;
  };
}

/** @internal Runs `body` inside an entered `scope` and exits it with the outcome. */
async function runInScope<T>(scope: Timeout, body: TimeoutBody<T>): Promise<Awaited<T>> {
  let result: Awaited<T>;
  try {
    result = await body(scope);
  } catch (error) {
    const converted = scope._exit(true, error);
    throw converted ?? error;
  }
  scope._exit(false, undefined);
  return result;
}

function checkBody(where: string, body: unknown): void {
  if (typeof body !== 'function') {
    throw new TypeError(
      `${where}: the second argument must be a function (scope) => ... run under the timeout, got ${describeValue(body)}` +
        (body !== null && typeof body === 'object' ? ' (to limit a Future or promise, use waitFor(aw, timeout))' : ''),
    );
  }
}

/**
 * A timeout of `delay` seconds for the current task (asyncio.timeout). `null`
 * means no deadline (it can be set later with `reschedule`); `delay <= 0`
 * expires in the next loop iteration.
 *
 * Callback form — `fn` runs now, in the current task, under the timeout; the
 * result is its result, and expiry makes it reject with TimeoutError:
 * ```ts
 * const data = await timeout(5, async () => readAll(stream));
 * ```
 * Scope form — with explicit resource management (see {@link Timeout} and its
 * `[Symbol.asyncDispose]` for the JavaScript limitation):
 * ```ts
 * await using scope = timeout(5);
 * await readAll(stream);
 * ```
 * Throws a TypeError for a bad delay or callback, and a RuntimeError when not
 * called from a task.
 */
export function timeout(delay: number | null): Timeout;
export function timeout<T>(delay: number | null, fn: TimeoutBody<T>): Promise<Awaited<T>>;
export function timeout<T>(delay: number | null, fn?: TimeoutBody<T>): Timeout | Promise<Awaited<T>> {
  _checkTimeout('timeout(): delay', delay, false);
  if (arguments.length > 1) checkBody('timeout()', fn);
  const loop = runningLoopOrNull();
  const scope = new Timeout(delay === null || loop === null ? null : loop.time() + delay);
  return fn === undefined ? scope : runInScope(scope, fn);
}

/**
 * Like {@link timeout}, with an absolute deadline `when` in `loop.time()`
 * seconds (asyncio.timeout_at); `null` means no deadline.
 */
export function timeoutAt(when: number | null): Timeout;
export function timeoutAt<T>(when: number | null, fn: TimeoutBody<T>): Promise<Awaited<T>>;
export function timeoutAt<T>(when: number | null, fn?: TimeoutBody<T>): Timeout | Promise<Awaited<T>> {
  _checkTimeout('timeoutAt(): when', when, false);
  if (arguments.length > 1) checkBody('timeoutAt()', fn);
  const scope = new Timeout(when);
  return fn === undefined ? scope : runInScope(scope, fn);
}
