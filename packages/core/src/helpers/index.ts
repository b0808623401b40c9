/**
 * asyncio's high-level helpers: `sleep`, `ensureFuture`/`wrapFuture`, `gather`,
 * `shield`, `wait`, `waitFor`, `timeout`/`timeoutAt`, `TaskGroup`, `staggeredRace` and
 * `asCompleted`, with Python 3.12+ semantics.
 *
 * Adaptations to JavaScript (each helper's TSDoc has the details):
 * - Keyword arguments become a trailing options object (`gather(..., { returnExceptions })`,
 *   `wait(fs, { timeout, returnWhen })`, `asCompleted(aws, { timeout })`).
 * - ExceptionGroup becomes `AggregateError` (TaskGroup); ValueError becomes
 *   `RangeError` (empty `wait`, bad `returnWhen`, Futures of another loop).
 * - An async function passed where asyncio takes a coroutine is started as a
 *   Task (`gather`, `shield`, `asCompleted`) or, in `waitFor` and `timeout(d, fn)`,
 *   run inside the calling task as Python 3.12 awaits a coroutine in place.
 *   `wait` refuses functions and promises, as 3.12 refuses coroutines.
 * - `timeout()` enters its scope when called (JavaScript's `using` has no enter
 *   step). Its callback form converts CancelledError to TimeoutError exactly as
 *   asyncio; with `await using`, the disposer cannot see the block's error, so
 *   an interrupted block surfaces as a `SuppressedError` holding the TimeoutError.
 * - `TaskGroup` is used through `TaskGroup.run(async (tg) => ...)` or
 *   `enter()`/`exit(error?)`; it is not disposable, for the same reason.
 */
export { sleep } from './sleep.js';
export { ensureFuture, wrapFuture } from './ensure-future.js';
export { gather, type AwaitableResult, type GatherOptions, type GatherResults, type GatherSettledResults } from './gather.js';
export { shield } from './shield.js';
export { wait, FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED, type ReturnWhen, type WaitOptions } from './wait.js';
export { waitFor } from './wait-for.js';
export { Timeout, timeout, timeoutAt, type TimeoutBody } from './timeout.js';
export { TaskGroup, TASK_GROUP_ERROR_MESSAGE } from './task-group.js';
export { AsCompletedIterator, asCompleted, type AsCompletedOptions } from './as-completed.js';
export { staggeredRace, type StaggeredRaceOptions, type StaggeredRaceResult } from './staggered.js';
