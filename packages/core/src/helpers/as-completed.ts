import { RuntimeError, TimeoutError } from '../errors.js';
import { describeValue } from '../debug/describe.js';
import { isFuture, type Future } from '../futures/future.js';
import type { Awaitable, EventLoop } from '../loop/event-loop.js';
import type { TimerHandle } from '../loop/handles.js';
import { _checkOptions, _checkTimeout, _isAwaitable, _notAwaitableError, _pickLoop, type AwaitableResult } from './gather.js';

/** Options for {@link asCompleted}. */
export interface AsCompletedOptions {
  /** Seconds after which the iteration throws TimeoutError (null or absent: no limit). Nothing is cancelled. */
  timeout?: number | null;
}

/**
 * The async iterator returned by {@link asCompleted}: yields Futures in the
 * order they complete.
 */
export class AsCompletedIterator<T> implements AsyncIterableIterator<Future<T>> {
  private readonly _done: (Future<T> | null)[] = [];
  private _getter: Future<void> | null = null;
  private readonly _todo: Set<Future<T>>;
  private _todoLeft: number;
  private _timer: TimerHandle | null = null;

  private readonly _loop: EventLoop;

  /**
   * Prefer {@link asCompleted}, which validates its arguments. Watches `todo`
   * (Futures of `loop`) with an optional `timeout` in seconds.
   */
  constructor(loop: EventLoop, todo: Set<Future<T>>, timeout: number | null) {
    this._loop = loop;
    this._todo = todo;
    this._todoLeft = todo.size;
    for (const f of todo) f.addDoneCallback(this._onCompletion);
    if (todo.size > 0 && timeout !== null) this._timer = loop.callLater(timeout, this._onTimeout);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * The next Future to complete (already done; `await` it or call `result()`).
   * Rejects with TimeoutError once the timeout passed while Futures were left.
   */
  async next(): Promise<IteratorResult<Future<T>, undefined>> {
    if (this._todoLeft === 0) return { done: true, value: undefined };
    this._todoLeft--;
    while (this._done.length === 0) {
      const getter = this._loop.createFuture<void>();
      this._getter = getter;
      try {
        await getter;
      } finally {
        if (this._getter === getter) this._getter = null;
      }
    }
    const f = this._done.shift() as Future<T> | null;
    if (f === null) throw new TimeoutError();
    return { done: false, value: f };
  }

  /**
   * Stops the iteration (`break` in `for await` calls it): the remaining
   * Futures are left running and no longer watched.
   */
  async return(): Promise<IteratorResult<Future<T>, undefined>> {
    this._stopWatching();
    this._todoLeft = 0;
    this._done.length = 0;
    return { done: true, value: undefined };
  }

  private _stopWatching(): void {
    for (const f of this._todo) f.removeDoneCallback(this._onCompletion);
    this._todo.clear();
    if (this._timer !== null) {
      this._timer.cancel();
      this._timer = null;
    }
  }

  private _push(item: Future<T> | null): void {
    this._done.push(item);
    const getter = this._getter;
    if (getter !== null && !getter.done()) getter.setResult(undefined);
  }

  private readonly _onTimeout = (): void => {
    this._timer = null;
    const left = this._todo.size;
    this._stopWatching();
    for (let i = 0; i < left; i++) this._push(null);
  };

  private readonly _onCompletion = (f: Future<T>): void => {
    if (!this._todo.has(f)) return; // timed out or stopped first
    this._todo.delete(f);
    this._push(f);
    if (this._todo.size === 0 && this._timer !== null) {
      this._timer.cancel();
      this._timer = null;
    }
  };
}

/**
 * Iterates over awaitables in completion order (asyncio.as_completed, its
 * Python 3.13 async-iterator form): each step yields a Future that is done.
 * Futures and Tasks are yielded as the same objects; promises are wrapped in
 * Futures and async functions started as Tasks right away. Duplicates count once.
 *
 * With `timeout`, the step that would wait past it throws TimeoutError; the
 * unfinished awaitables are not cancelled.
 *
 * @example
 * ```ts
 * for await (const fut of asCompleted([t1, t2, t3], { timeout: 10 })) {
 *   console.log(await fut);
 * }
 * ```
 * Throws a TypeError for a non-iterable, a non-awaitable element or bad options.
 */
export function asCompleted<A extends Awaitable<unknown>>(
  aws: Iterable<A>,
  options: AsCompletedOptions = {},
): AsCompletedIterator<AwaitableResult<A>> {
  if (
    aws === null ||
    typeof aws !== 'object' ||
    isFuture(aws) ||
    typeof (aws as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function'
  ) {
    throw new TypeError(`asCompleted() takes an iterable (array, Set, ...) of awaitables, got ${describeValue(aws)}`);
  }
  _checkOptions('asCompleted()', options, ['timeout']);
  const rawTimeout = options.timeout;
  _checkTimeout('asCompleted(): options.timeout', rawTimeout, true);
  const timeout = rawTimeout ?? null;
  const items = [...new Set(aws)];
  items.forEach((aw, i) => {
    if (!_isAwaitable(aw)) throw _notAwaitableError(`asCompleted(): element ${i + 1}`, aw);
  });
  const loop = _pickLoop(items);
  if (loop === null) throw new RuntimeError('asCompleted() needs a running event loop: call it from a task');
  for (const aw of items) {
    if (isFuture(aw) && aw.getLoop() !== loop) {
      throw new RangeError(`asCompleted(): ${aw.toString()} belongs to another event loop`);
    }
  }
  const todo = new Set<Future<AwaitableResult<A>>>();
  for (const aw of items) todo.add(loop._ensureFuture(aw) as Future<AwaitableResult<A>>);
  return new AsCompletedIterator(loop, todo, timeout);
}
