import type { MessagePort } from 'node:worker_threads';

// The worker side of a threadsafe bridge. It imports nothing else from the
// package so a worker can load it cheaply.

/** @internal What crosses the port. */
export interface BridgeMessage {
  name: string;
  args: unknown[];
}

/** The other thread's end of a bridge: schedules the loop's named callbacks. */
export interface RemoteLoop {
  /** Schedules the callback registered as `name` on the loop, with structured-cloned `args`. */
  callSoonThreadsafe(name: string, ...args: unknown[]): void;
  /** Closes this end. */
  close(): void;
}

/**
 * Connects to a loop from another thread through the port of a
 * {@link LoopBridge} (received via `workerData` or a message).
 */
export function connectLoopBridge(port: MessagePort): RemoteLoop {
  if (port === null || typeof port !== 'object' || typeof (port as MessagePort).postMessage !== 'function') {
    throw new TypeError(`connectLoopBridge() takes the MessagePort of a LoopBridge, got ${typeof port}`);
  }
  return {
    callSoonThreadsafe(name: string, ...args: unknown[]): void {
      if (typeof name !== 'string') {
        throw new TypeError(`callSoonThreadsafe(): the first argument is the registered callback's name (a string), got ${typeof name}`);
      }
      try {
        port.postMessage({ name, args } satisfies BridgeMessage);
      } catch (error) {
        throw new TypeError(`callSoonThreadsafe('${name}'): arguments must be structured-cloneable (no functions or symbols): ${(error as Error).message}`);
      }
    },
    close(): void {
      port.close();
    },
  };
}
