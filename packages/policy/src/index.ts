/**
 * @aioloop/policy — how code obtains its event loop (asyncio's
 * `get_event_loop`, `set_event_loop`, `new_event_loop` and event loop
 * policies) and how a program runs on one (`asyncio.run` and `asyncio.Runner`).
 */
export {
  AbstractEventLoopPolicy,
  DefaultEventLoopPolicy,
  getEventLoop,
  getEventLoopPolicy,
  isEventLoop,
  newEventLoop,
  setEventLoop,
  setEventLoopPolicy,
  type EventLoopPolicy,
} from './policy.js';
export { KeyboardInterrupt, Runner, SIGINT_EXIT_CODE, run, type MainAwaitable, type RunnerOptions } from './runner.js';
/** The loop running the current callback or task; throws a RuntimeError when none (re-exported from `@aioloop/core`). */
export { getRunningLoop } from '@aioloop/core';
