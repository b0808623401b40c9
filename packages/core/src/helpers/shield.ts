import { RuntimeError } from '../errors.js';
import type { Future } from '../futures/future.js';
import type { Awaitable } from '../loop/event-loop.js';
import { _isAwaitable, _notAwaitableError, _pickLoop, type AwaitableResult } from './gather.js';

/**
 * Protects an awaitable from cancellation (asyncio.shield).
 *
 * Returns an outer Future that follows the inner one (`aw`, turned into a
 * Future like `ensureFuture`: an async function starts as a Task, a promise is
 * wrapped). Cancelling the outer Future — for example by cancelling the task
 * awaiting it — does not cancel the inner one, which keeps running; the inner's
 * result (or error) still reaches the outer Future unless the outer was
 * cancelled. If the inner is cancelled directly, the outer is cancelled too.
 * If the inner is already done, it is returned as is.
 *
 * Keep a reference to the inner task if you want its result after the outer
 * was cancelled: once the outer is cancelled nothing looks at the inner any
 * more, so an error it ends with is reported as "never retrieved" (as in asyncio)
 * unless you await it.
 *
 * @example
 * ```ts
 * const task = loop.createTask(saveToDisk);
 * try {
 *   await shield(task);        // cancelling us does not stop the save
 * } catch (e) {
 *   if (e instanceof CancelledError) await task; // let it finish, then re-throw
 *   throw e;
 * }
 * ```
 */
export function shield<A extends Awaitable<unknown>>(aw: A): Future<AwaitableResult<A>> {
  if (!_isAwaitable(aw)) throw _notAwaitableError('shield(): the argument', aw);
  const loop = _pickLoop([aw]);
  if (loop === null) {
    throw new RuntimeError('shield() needs a running event loop for a promise or an async function: call it from a task or a loop callback');
  }
  const inner = loop._ensureFuture(aw) as Future<AwaitableResult<A>>;
  if (inner.done()) return inner;
  const outer = loop.createFuture<AwaitableResult<A>>();

  const onInnerDone = (): void => {
    if (outer.cancelled()) {
      if (!inner.cancelled()) inner.exception(); // mark retrieved
      return;
    }
    if (inner.cancelled()) {
      outer.cancel();
      return;
    }
    inner.exception(); // marks it retrieved
    if (inner._hasException) outer._setException(inner._exception);
    else outer.setResult(inner._result as AwaitableResult<A>);
  };
  const onOuterDone = (): void => {
    if (!inner.done()) inner.removeDoneCallback(onInnerDone);
  };
  inner.addDoneCallback(onInnerDone);
  outer.addDoneCallback(onOuterDone);
  return outer;
}
