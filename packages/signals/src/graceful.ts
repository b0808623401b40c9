import type { EventLoop, Future } from '@aioloop/core';
import { addSignalHandler, removeSignalHandler, signalName, _checkCatchable, _signalNumber, type SignalLike } from './signals.js';
import { checkOptionKeys, setExceptionUnchecked } from '@aioloop/core/internal';

/**
 * Something a graceful shutdown closes: a server (for example `@aioloop/net`'s
 * `Server`) or any object with `close()`. `close()` stops accepting;
 * `closeClients()`, when present, closes the open connections; `waitClosed()`,
 * when present, is awaited until everything is closed.
 */
export interface Closeable {
  /** Stops accepting (a server) or closes the resource. */
  close(): unknown;
  /** Closes the connections the resource serves, if it has any. */
  closeClients?(): unknown;
  /** Resolves once the resource is fully closed. */
  waitClosed?(): PromiseLike<unknown>;
}

/** Options of {@link installGracefulShutdown}. */
export interface GracefulShutdownOptions {
  /** The signals that start the shutdown (default `['SIGINT', 'SIGTERM']`). */
  signals?: readonly SignalLike[];
  /** Servers and other resources to close: `close()`, then `closeClients()`, then `await waitClosed()`. */
  closeables?: readonly Closeable[];
  /** Called first (after each closeable's `close()`): stop accepting new work. */
  stopAccepting?: () => unknown;
  /** Called second (after each closeable's `closeClients()`): close the open connections. */
  closeClients?: () => unknown;
  /** Called last, after every closeable finished closing; may return a promise, which is awaited. */
  cleanup?: () => unknown;
  /**
   * Called when a second signal arrives while the shutdown runs. The default
   * removes the handlers and re-raises the signal, so the process dies by the
   * signal's default action (exit status 128 + the signal number as seen by a
   * shell); if something else still catches it, it calls `process.exit(128 + n)`.
   */
  forceExit?: (signal: NodeJS.Signals) => void;
}

/** The handle returned by {@link installGracefulShutdown}. */
export interface GracefulShutdown {
  /**
   * Resolves with the signal name (or `'manual'` for {@link GracefulShutdown.shutdown})
   * once the shutdown finished; rejects with the first error a step threw
   * (every step still runs).
   */
  readonly done: Future<NodeJS.Signals | 'manual'>;
  /** The signal that started the shutdown, `'manual'`, or null before it started. */
  readonly trigger: NodeJS.Signals | 'manual' | null;
  /** Starts the shutdown now, as the first signal would; returns `done`. */
  shutdown(): Future<NodeJS.Signals | 'manual'>;
  /** Removes the signal handlers without shutting down. */
  dispose(): void;
}

function defaultForceExit(signal: NodeJS.Signals): void {
  const num = _signalNumber(signal, 'forceExit');
  if (process.listenerCount(signal) === 0) {
    process.kill(process.pid, signal);
  }
  // Still alive: the signal is ignored or caught elsewhere.
  setTimeout(() => process.exit(128 + num), 200);
}

/**
 * Installs a two-stage shutdown on `loop` for servers: the first SIGINT or
 * SIGTERM stops accepting, closes the clients, waits for everything to close
 * and runs the cleanup, then removes its signal handlers (so Node's default
 * returns); a second signal during the shutdown exits at once. It depends on
 * nothing but `close()`-able objects and callbacks.
 *
 * @example
 * ```ts
 * const server = await loop.createServer(factory, '127.0.0.1', 8080);
 * const shutdown = installGracefulShutdown(loop, { closeables: [server], cleanup: () => db.close() });
 * await loop.runUntilComplete(shutdown.done);
 * ```
 */
export function installGracefulShutdown(loop: EventLoop, options: GracefulShutdownOptions = {}): GracefulShutdown {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('installGracefulShutdown(): options must be an object such as { closeables: [server], cleanup }');
  }
  checkOptionKeys(options, 'installGracefulShutdown', ['signals', 'closeables', 'stopAccepting', 'closeClients', 'cleanup', 'forceExit']);
  const signals = (options.signals ?? ['SIGINT', 'SIGTERM']).map((sig) => {
    _checkCatchable(_signalNumber(sig, 'installGracefulShutdown'), 'installGracefulShutdown');
    return signalName(sig);
  });
  if (signals.length === 0) throw new RangeError('installGracefulShutdown(): signals must name at least one signal');
  const closeables = [...(options.closeables ?? [])];
  closeables.forEach((c, i) => {
    if (c === null || typeof c !== 'object' || typeof c.close !== 'function') {
      throw new TypeError(`installGracefulShutdown(): closeables[${i}] must be an object with a close() method`);
    }
  });
  for (const key of ['stopAccepting', 'closeClients', 'cleanup', 'forceExit'] as const) {
    const value = options[key];
    if (value !== undefined && typeof value !== 'function') {
      throw new TypeError(`installGracefulShutdown(): ${key} must be a function or undefined`);
    }
  }
  const forceExit = options.forceExit ?? defaultForceExit;
  const done = loop.createFuture<NodeJS.Signals | 'manual'>();
  let trigger: NodeJS.Signals | 'manual' | null = null;
  let installed = false;

  const dispose = (): void => {
    if (!installed) return;
    installed = false;
    for (const sig of signals) removeSignalHandler(loop, sig);
  };

  const start = (reason: NodeJS.Signals | 'manual'): void => {
    if (trigger !== null) {
      if (reason !== 'manual' && !done.done()) {
        dispose();
        forceExit(reason);
      }
      return;
    }
    trigger = reason;
    loop.createTask(async () => {
      let firstError: unknown = undefined;
      let failed = false;
      const step = async (fn: () => unknown): Promise<void> => {
        try {
          await fn();
        } catch (error) {
          if (!failed) {
            failed = true;
            firstError = error;
          }
        }
      };
      for (const c of closeables) await step(() => c.close());
      if (options.stopAccepting) await step(options.stopAccepting);
      for (const c of closeables) if (typeof c.closeClients === 'function') await step(() => c.closeClients?.());
      if (options.closeClients) await step(options.closeClients);
      for (const c of closeables) if (typeof c.waitClosed === 'function') await step(() => c.waitClosed?.());
      if (options.cleanup) await step(options.cleanup);
      dispose();
      if (done.done()) return;
      if (failed) setExceptionUnchecked(done, firstError);
      else done.setResult(reason);
    }, { name: 'graceful-shutdown' });
  };

  for (const sig of signals) addSignalHandler(loop, sig, start as (...args: never[]) => void, [sig]);
  installed = true;

  return {
    done,
    get trigger() {
      return trigger;
    },
    shutdown() {
      start('manual');
      return done;
    },
    dispose,
  };
}
