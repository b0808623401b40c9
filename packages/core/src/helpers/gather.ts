import { CancelledError, RuntimeError } from '../errors.js';
import { describeValue } from '../debug/describe.js';
import { logger } from '../debug/logger.js';
import { Future, isFuture } from '../futures/future.js';
import type { Awaitable, EventLoop } from '../loop/event-loop.js';
import { runningLoopOrNull } from '../loop/thread-state.js';

/**
 * The value an awaitable produces: a Future's or promise's result, or what an
 * async function resolves to.
 */
export type AwaitableResult<A> = A extends (...args: never[]) => infer R ? Awaited<R> : Awaited<A>;

/** Options for {@link gather}, passed as its last argument. */
export interface GatherOptions {
  /**
   * When true, errors (and CancelledErrors of cancelled children) are returned
   * in the results array at their position instead of failing the gather.
   * Default false.
   */
  returnExceptions?: boolean;
}

/** The results of `gather(...aws)`: one entry per awaitable, in input order. */
export type GatherResults<A extends readonly unknown[]> = { -readonly [K in keyof A]: AwaitableResult<A[K]> };

/**
 * The results of `gather(...aws, { returnExceptions: true })`: each entry is the
 * awaitable's result or the error it failed with. (Typed `Error` as asyncio's
 * stubs type it `BaseException`; a non-Error value thrown by a child is returned as is.)
 */
export type GatherSettledResults<A extends readonly unknown[]> = {
  -readonly [K in keyof A]: AwaitableResult<A[K]> | Error;
};

// ---------------------------------------------------------------- internals

/** @internal Whether `value` is something the helpers accept as an awaitable. */
export function _isAwaitable(value: unknown): value is Awaitable<unknown> {
  if (typeof value === 'function') return true;
  if (value === null || typeof value !== 'object') return false;
  return isFuture(value) || typeof (value as { then?: unknown }).then === 'function';
}

/**
 * @internal In debug mode, warns that `aw` is a bare promise: unlike asyncio's
 * coroutine object (wrapped in a task and cancelled with the wait), a promise
 * has started and cannot be stopped, so it keeps running after a timeout or a
 * cancellation. `call` shows the right form, e.g. "waitFor(coro, t)".
 */
export function _warnBarePromise(loop: EventLoop, aw: unknown, where: string, rightForm: string): void {
  if (!loop._debug || typeof aw !== 'object' || aw === null || isFuture(aw)) return;
  logger.warn(
    `${where} is a promise: it keeps running after a timeout or a cancellation (a promise cannot be cancelled). ` +
      `For asyncio's coroutine argument pass the async function instead: ${rightForm}; ` +
      `wrap a promise that is meant to outlive it with wrapFuture(promise)`,
  );
}

/** @internal A TypeError for an argument that is not awaitable. */
export function _notAwaitableError(where: string, value: unknown): TypeError {
  return new TypeError(`${where} must be awaitable: a Future or Task, a promise, or an async function; got ${describeValue(value)}`);
}

/** @internal The loop of the first Future among `values`, else the running loop, else null. */
export function _pickLoop(values: Iterable<unknown>): EventLoop | null {
  for (const value of values) if (isFuture(value)) return value.getLoop();
  return runningLoopOrNull();
}

/** @internal Checks that `value` is a timeout in seconds or null (undefined is refused: pass null for no limit). */
export function _checkTimeout(where: string, value: unknown, allowUndefined: boolean): asserts value is number | null | undefined {
  if (value === null) return;
  if (value === undefined && allowUndefined) return;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${where} must be a number of seconds or null for no limit, got ${describeValue(value)}`);
  }
}

/** @internal Checks an options object: a plain object whose keys are all in `allowed`. */
export function _checkOptions(where: string, options: unknown, allowed: readonly string[]): asserts options is Record<string, unknown> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${where}: options must be an object such as { ${allowed[0]}: ... }, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`${where}: unknown option ${JSON.stringify(key)}; accepted options are ${allowed.join(', ')}`);
    }
  }
}

/** @internal A TimeoutError-style error carrying `cause` like `raise X from cause`. */
export function _withCause<E extends Error>(error: E, cause: unknown): E {
  Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  return error;
}

function isGatherOptions(value: unknown): value is GatherOptions {
  if (value === null || typeof value !== 'object' || isFuture(value)) return false;
  if (typeof (value as { then?: unknown }).then === 'function') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The Future `gather` returns: cancelling it cancels every child that is not
 * done yet (asyncio's _GatheringFuture).
 */
class GatheringFuture<T> extends Future<T> {
  /** @internal */ _cancelRequested = false;

  constructor(
    loop: EventLoop,
    private readonly _children: readonly Future<unknown>[],
  ) {
    super(loop);
  }

  /**
   * Cancels every child that is not done. Returns true if at least one child
   * was cancelled; the gather then fails with CancelledError once the children
   * finish (even if some child swallowed the cancellation).
   */
  override cancel(message?: string): boolean {
    if (message !== undefined && typeof message !== 'string') {
      throw new TypeError(`cancel(): message must be a string, got ${describeValue(message)}`);
    }
    if (this.done()) return false;
    let cancelled = false;
    for (const child of this._children) {
      if (child.cancel(message)) cancelled = true;
    }
    if (cancelled) this._cancelRequested = true;
    return cancelled;
  }
}

/**
 * Runs awaitables concurrently and collects their results in input order
 * (asyncio.gather).
 *
 * Each argument may be a Future or Task, a promise (wrapped in a Future), or an
 * async function (started as a Task right away, like `ensureFuture`). For
 * asyncio's `gather(coro(), ...)` pass the functions (`gather(coro, () =>
 * other(arg))`): a promise has already started and cannot be cancelled, so it
 * keeps running if the gather is cancelled (debug mode warns at the call). The same
 * Future or promise passed twice is awaited once and its result appears at both
 * positions; a function passed twice runs twice.
 *
 * A plain object as the last argument is taken as {@link GatherOptions}.
 *
 * - Without `returnExceptions`, the first child to fail fails the gather with
 *   its error; the other children keep running. A cancelled child fails it with
 *   CancelledError.
 * - With `returnExceptions: true`, errors (and a new CancelledError for each
 *   cancelled child) take the child's place in the results.
 * - Cancelling the returned Future (or the task awaiting it) cancels every
 *   child that is not done, and the gather then fails with CancelledError.
 * - `gather()` with no awaitables resolves to `[]`.
 *
 * Throws a TypeError for an argument that is not awaitable (before starting
 * anything), a RangeError for Futures of different loops, and a RuntimeError
 * when it needs a loop (for a promise or an async function) and none is running.
 *
 * @example
 * ```ts
 * const [a, b] = await gather(fetchA, loop.createTask(fetchB));
 * ```
 */
export function gather<const A extends readonly Awaitable<unknown>[]>(...aws: A): Future<GatherResults<A>>;
export function gather<const A extends readonly Awaitable<unknown>[]>(
  ...args: [...aws: A, options: GatherOptions & { returnExceptions: true }]
): Future<GatherSettledResults<A>>;
export function gather<const A extends readonly Awaitable<unknown>[]>(
  ...args: [...aws: A, options: GatherOptions]
): Future<GatherResults<A> | GatherSettledResults<A>>;
export function gather(...args: unknown[]): Future<unknown[]> {
  let aws = args;
  let returnExceptions = false;
  if (args.length > 0 && isGatherOptions(args[args.length - 1])) {
    const options = args[args.length - 1] as Record<string, unknown>;
    _checkOptions('gather()', options, ['returnExceptions']);
    const flag = options.returnExceptions;
    if (flag !== undefined && typeof flag !== 'boolean') {
      throw new TypeError(`gather(): options.returnExceptions must be a boolean, got ${describeValue(flag)}`);
    }
    returnExceptions = flag === true;
    aws = args.slice(0, -1);
  }
  for (let i = 0; i < aws.length; i++) {
    if (!_isAwaitable(aws[i])) throw _notAwaitableError(`gather(): argument ${i + 1}`, aws[i]);
  }
  const loop = _pickLoop(aws);
  if (loop === null) {
    throw new RuntimeError('gather() needs a running event loop: call it from a task or a loop callback (or pass only Futures)');
  }
  for (let i = 0; i < aws.length; i++) {
    const aw = aws[i];
    if (isFuture(aw) && aw.getLoop() !== loop) {
      throw new RangeError(`gather(): argument ${i + 1} is a Future of another event loop; all awaitables must belong to one loop`);
    }
  }
  if (aws.length === 0) {
    const outer = loop.createFuture<unknown[]>();
    outer.setResult([]);
    return outer;
  }
  if (aws.some((aw) => typeof aw === 'function')) loop._checkClosed();

  const children: Future<unknown>[] = [];
  const argToFuture = new Map<unknown, Future<unknown>>();
  const alreadyDone: Future<unknown>[] = [];
  let nFutures = 0;
  let nFinished = 0;
  let outer: GatheringFuture<unknown[]> | null = null;

  const onChildDone = (fut: Future<unknown>): void => {
    nFinished++;
    if (outer === null || outer.done()) {
      if (!fut.cancelled()) fut.exception(); // mark the error retrieved
      return;
    }
    if (!returnExceptions) {
      if (fut.cancelled()) {
        outer.setException(fut._makeCancelledError());
        return;
      }
      fut.exception(); // marks it retrieved
      if (fut._hasException) {
        outer._setException(fut._exception);
        return;
      }
    }
    if (nFinished === nFutures) {
      const results: unknown[] = [];
      for (const child of children) {
        if (child.cancelled()) {
          results.push(new CancelledError(child._cancelMessage));
        } else {
          child.exception();
          results.push(child._hasException ? child._exception : child._result);
        }
      }
      if (outer._cancelRequested) outer.setException(fut._makeCancelledError());
      else outer.setResult(results);
    }
  };

  for (let i = 0; i < aws.length; i++) {
    const aw = aws[i];
    let fut = typeof aw === 'function' ? undefined : argToFuture.get(aw);
    if (fut === undefined) {
      _warnBarePromise(loop, aw, `gather(): argument ${i + 1}`, 'gather(coro, ...) or gather(() => coro(arg), ...)');
      fut = loop._ensureFuture(aw as Awaitable<unknown>);
      if (fut !== aw) fut._logDestroyPending = false;
      nFutures++;
      if (typeof aw !== 'function') argToFuture.set(aw, fut);
      if (fut.done()) alreadyDone.push(fut);
      else fut.addDoneCallback(onChildDone);
    }
    children.push(fut);
  }
  outer = new GatheringFuture<unknown[]>(loop, children);
  for (const fut of alreadyDone) onChildDone(fut);
  return outer;
}
