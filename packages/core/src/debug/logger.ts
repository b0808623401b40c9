/** Where the loop writes its diagnostics (asyncio logs to the `asyncio` logger). */
export interface Logger {
  debug(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

// Every level goes to stderr, as Python's logging does: console.debug() would
// write to stdout, mixing diagnostics into a program's output.
const consoleLogger: Logger = {
  debug: (message) => console.error(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

/** @internal The logger in use; replace it with {@link setLogger}. */
export const logger: Logger = {
  debug: (message) => current.debug(message),
  warn: (message) => current.warn(message),
  error: (message) => current.error(message),
};

let current: Logger = consoleLogger;

/**
 * Sends aioloop's diagnostics (slow callbacks, unhandled errors, never-retrieved
 * exceptions) to `target` instead of the console; null restores the console.
 */
export function setLogger(target: Logger | null): void {
  if (target !== null && (typeof target !== 'object' || typeof target.error !== 'function' || typeof target.warn !== 'function' || typeof target.debug !== 'function')) {
    throw new TypeError('setLogger() takes an object with debug(), warn() and error() methods, or null for the console');
  }
  current = target ?? consoleLogger;
}
