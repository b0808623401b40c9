/**
 * @aioloop/signals — asyncio's Unix signal handlers for aioloop event loops:
 * `loop.addSignalHandler(sig, callback, ...args)` and
 * `loop.removeSignalHandler(sig)`, plus a graceful-shutdown helper for servers.
 * Importing the package installs the two loop methods.
 */
import { EventLoop, installLoopMethods } from '@aioloop/core';
import { addSignalHandler, removeSignalHandler, type SignalLike } from './signals.js';

export { signalName, signalNumber, type SignalLike } from './signals.js';
export {
  installGracefulShutdown,
  type Closeable,
  type GracefulShutdown,
  type GracefulShutdownOptions,
} from './graceful.js';

declare module '@aioloop/core' {
  interface EventLoop {
    /**
     * Runs `callback(...args)` as a loop callback whenever signal `sig` (a name
     * such as `'SIGINT'` or a number) arrives (asyncio's `add_signal_handler`).
     * One handler per signal per loop: a new one replaces the old. SIGKILL,
     * SIGSTOP and unknown signals throw; so does a closed loop and a worker thread.
     */
    addSignalHandler<A extends unknown[]>(sig: SignalLike, callback: (...args: A) => void, ...args: A): void;
    /**
     * Removes this loop's handler for `sig`; true if there was one. Once no
     * loop handles `sig`, Node's default behaviour for it returns.
     */
    removeSignalHandler(sig: SignalLike): boolean;
  }
}

installLoopMethods(
  '@aioloop/signals',
  {
    addSignalHandler(this: EventLoop, sig: SignalLike, callback: (...args: never[]) => void, ...args: unknown[]): void {
      addSignalHandler(this, sig, callback, args);
    },
    removeSignalHandler(this: EventLoop, sig: SignalLike): boolean {
      return removeSignalHandler(this, sig);
    },
  },
  EventLoop.prototype,
);
