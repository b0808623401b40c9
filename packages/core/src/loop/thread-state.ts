import type { EventLoop } from './event-loop.js';
import { RuntimeError } from '../errors.js';

interface ThreadState {
  runningLoop: EventLoop | null;
}

// One slot per JS thread (each worker has its own globalThis), shared by every copy
// of this package that a process may load (ESM and CJS builds side by side).
const STATE_KEY = Symbol.for('@aioloop/core.thread-state');
const holder = globalThis as unknown as Record<symbol, ThreadState | undefined>;
const state: ThreadState = (holder[STATE_KEY] ??= { runningLoop: null });

/**
 * The loop running the current callback, protocol callback or task (also after
 * `await` inside a task). Throws when no loop is running in this thread, as
 * `asyncio.get_running_loop()` raises RuntimeError.
 */
export function getRunningLoop(): EventLoop {
  const loop = state.runningLoop;
  if (loop === null) {
    const error = new RuntimeError('no running event loop');
    Object.defineProperty(error, NO_RUNNING_LOOP, { value: true });
    throw error;
  }
  return loop;
}

const NO_RUNNING_LOOP = Symbol('no running event loop');

/** Whether `error` is the one `getRunningLoop()` throws when no loop runs. */
export function isNoRunningLoopError(error: unknown): boolean {
  return error instanceof RuntimeError && (error as unknown as Record<symbol, unknown>)[NO_RUNNING_LOOP] === true;
}

/** The running loop of this thread, or null (asyncio's `_get_running_loop()`). */
export function runningLoopOrNull(): EventLoop | null {
  return state.runningLoop;
}

/** Marks `loop` as this thread's running loop (null when it stops). */
export function setRunningLoop(loop: EventLoop | null): void {
  state.runningLoop = loop;
}
