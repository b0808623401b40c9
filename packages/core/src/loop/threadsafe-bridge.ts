import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describeValue } from '../debug/describe.js';
import { logger } from '../debug/logger.js';
import type { EventLoop } from './event-loop.js';

/** Callbacks another thread may schedule on a loop, by name. Arguments arrive structured-cloned. */
export type BridgeCallbacks = Readonly<Record<string, (...args: never[]) => void>>;

import type { BridgeMessage } from './remote-loop.js';

/**
 * The loop's end of a cross-thread bridge (see `loop.createThreadsafeBridge`).
 * Send {@link LoopBridge.port} to a worker; messages arriving on it schedule the
 * named callback with `callSoonThreadsafe`. The bridge never keeps the process alive.
 */
export class LoopBridge {
  /** The port to hand to the other thread (put it in `transferList`). */
  readonly port: MessagePort;
  private readonly local: MessagePort;
  private closed = false;

  /** @internal Created by `loop.createThreadsafeBridge(callbacks)`. */
  constructor(
    private readonly loop: EventLoop,
    private readonly callbacks: BridgeCallbacks,
    private readonly onClose: () => void,
  ) {
    if (callbacks === null || typeof callbacks !== 'object') {
      throw new TypeError(`createThreadsafeBridge() takes an object of named callbacks, got ${describeValue(callbacks)}`);
    }
    for (const [name, callback] of Object.entries(callbacks)) {
      if (typeof callback !== 'function') {
        throw new TypeError(`createThreadsafeBridge(): callback '${name}' must be a function, got ${describeValue(callback)}`);
      }
    }
    const { port1, port2 } = new MessageChannel();
    this.local = port1;
    this.port = port2;
    port1.on('message', (message: BridgeMessage) => this.deliver(message));
    port1.unref();
  }

  /** Stops delivering; later messages are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.local.close();
    this.onClose();
  }

  private deliver(message: BridgeMessage): void {
    if (this.closed) return;
    const callback = Object.prototype.hasOwnProperty.call(this.callbacks, message?.name) ? this.callbacks[message.name] : undefined;
    if (callback === undefined) {
      logger.warn(`threadsafe bridge: no callback named ${describeValue(message?.name)}; registered: ${Object.keys(this.callbacks).join(', ')}`);
      return;
    }
    if (this.loop.isClosed()) {
      logger.warn(`threadsafe bridge: dropped '${message.name}': the event loop is closed`);
      return;
    }
    const args = Array.isArray(message.args) ? message.args : [];
    this.loop.callSoonThreadsafe(callback as (...a: unknown[]) => void, ...args);
  }
}

