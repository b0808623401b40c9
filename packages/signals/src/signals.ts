import { constants } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { EventLoop, RuntimeError, describeValue, type LoopCallback } from '@aioloop/core';
import { callSoonUnchecked, checkClosed, onLoopClose } from '@aioloop/core/internal';

/** A signal as the signal functions accept it: a name (`'SIGINT'`) or a number (`2`). */
/**
 * A signal: its name (`'SIGINT'`; any string is accepted by the types, so a
 * `string[]` of names needs no `as const`, and an unknown name throws a
 * RangeError at the call) or its number.
 */
export type SignalLike = NodeJS.Signals | (string & {}) | number;

const SIGNALS = constants.signals as Readonly<Record<string, number>>;

/** Signal number -> the name Node listens under (the first name of that number, so no alias). */
const NAME_OF = new Map<number, NodeJS.Signals>();
for (const [name, num] of Object.entries(SIGNALS)) {
  if (!NAME_OF.has(num)) NAME_OF.set(num, name as NodeJS.Signals);
}

/** Signals no process can catch. */
const UNCATCHABLE = new Set<number>([SIGNALS.SIGKILL ?? 9, SIGNALS.SIGSTOP ?? 19]);

/**
 * Checks `sig` and returns its number. Throws a TypeError for something that is
 * not a signal name or number, and a RangeError for an unknown signal or one
 * that cannot be caught (SIGKILL, SIGSTOP).
 * @param method - the method name used in the error message
 * @internal
 */
export function _signalNumber(sig: unknown, method: string): number {
  let num: number;
  if (typeof sig === 'string') {
    const found = SIGNALS[sig];
    if (found === undefined || !Object.prototype.hasOwnProperty.call(SIGNALS, sig)) {
      throw new RangeError(
        `${method}(): unknown signal name ${describeValue(sig)}; use a name such as 'SIGINT' or 'SIGTERM' ` +
          `(upper case, as in os.constants.signals) or a signal number`,
      );
    }
    num = found;
  } else if (typeof sig === 'number') {
    if (!Number.isInteger(sig) || !NAME_OF.has(sig)) {
      throw new RangeError(`${method}(): invalid signal number ${describeValue(sig)}; valid numbers are those of os.constants.signals`);
    }
    num = sig;
  } else {
    throw new TypeError(`${method}(): sig must be a signal name such as 'SIGINT' or a signal number, got ${describeValue(sig)}`);
  }
  return num;
}

/** Throws a RangeError for SIGKILL and SIGSTOP. @internal */
export function _checkCatchable(num: number, method: string): void {
  if (UNCATCHABLE.has(num)) {
    throw new RangeError(`${method}(): ${NAME_OF.get(num)} (${num}) cannot be caught or handled by any process`);
  }
}

interface Entry {
  callback: LoopCallback;
  args: readonly unknown[] | undefined;
}

/** signal number -> loops that have a handler for it -> the handler. */
const handlers = new Map<number, Map<EventLoop, Entry>>();
/** signal number -> the one Node listener we installed for it. */
const nodeListeners = new Map<number, () => void>();

function installNodeListener(num: number): void {
  if (nodeListeners.has(num)) return;
  const name = NAME_OF.get(num) as NodeJS.Signals;
  const listener = (): void => {
    const byLoop = handlers.get(num);
    if (byLoop === undefined) return;
    // Never run user code inside Node's listener: schedule it on each loop.
    for (const [loop, entry] of byLoop) {
      if (!loop.isClosed()) callSoonUnchecked(loop, entry.callback, entry.args);
    }
  };
  process.on(name, listener);
  nodeListeners.set(num, listener);
}

function removeNodeListener(num: number): void {
  const listener = nodeListeners.get(num);
  if (listener === undefined) return;
  nodeListeners.delete(num);
  process.removeListener(NAME_OF.get(num) as NodeJS.Signals, listener);
}

function isAsyncFunction(fn: unknown): boolean {
  const tag = (fn as { [Symbol.toStringTag]?: string })[Symbol.toStringTag];
  return tag === 'AsyncFunction' || tag === 'AsyncGeneratorFunction';
}

/**
 * Adds a handler for `sig` on `loop` (asyncio's `loop.add_signal_handler`);
 * installed on the loop as `loop.addSignalHandler(sig, callback, ...args)`.
 * @internal
 */
export function addSignalHandler(loop: EventLoop, sig: SignalLike, callback: (...args: never[]) => void, args: unknown[]): void {
  if (typeof callback !== 'function') {
    throw new TypeError(`addSignalHandler(): callback must be a function, got ${describeValue(callback)}`);
  }
  if (isAsyncFunction(callback)) {
    throw new TypeError(
      'addSignalHandler(): async functions cannot be used as signal handlers (nothing would await them); ' +
        'pass a plain function that calls loop.createTask(...)',
    );
  }
  const num = _signalNumber(sig, 'addSignalHandler');
  _checkCatchable(num, 'addSignalHandler');
  checkClosed(loop);
  if (!isMainThread) {
    throw new RuntimeError('addSignalHandler(): signals are only delivered to the main thread; Node emits no signal events in worker threads');
  }
  let byLoop = handlers.get(num);
  if (byLoop === undefined) {
    byLoop = new Map();
    handlers.set(num, byLoop);
  }
  // One handler per signal per loop: a new one replaces the old.
  byLoop.set(loop, { callback: callback as unknown as LoopCallback, args: args.length === 0 ? undefined : args });
  installNodeListener(num);
}

/**
 * Removes the handler for `sig` on `loop`; true if there was one. When no loop
 * has a handler for `sig` any more, our Node listener is removed, so Node's
 * default behaviour for it returns (unless other code listens to it).
 * @internal
 */
export function removeSignalHandler(loop: EventLoop, sig: SignalLike): boolean {
  const num = _signalNumber(sig, 'removeSignalHandler');
  const byLoop = handlers.get(num);
  if (byLoop === undefined || !byLoop.delete(loop)) return false;
  if (byLoop.size === 0) {
    handlers.delete(num);
    removeNodeListener(num);
  }
  return true;
}

/** The signal numbers `loop` has handlers for. @internal */
export function _handledSignals(loop: EventLoop): number[] {
  const out: number[] = [];
  for (const [num, byLoop] of handlers) if (byLoop.has(loop)) out.push(num);
  return out;
}

/** The name Node uses for signal `num` (`2` -> `'SIGINT'`). */
export function signalName(sig: SignalLike): NodeJS.Signals {
  return NAME_OF.get(_signalNumber(sig, 'signalName')) as NodeJS.Signals;
}

/** The number of signal `sig` (`'SIGINT'` -> `2`). */
export function signalNumber(sig: SignalLike): number {
  return _signalNumber(sig, 'signalNumber');
}

onLoopClose((loop) => {
  for (const num of _handledSignals(loop)) removeSignalHandler(loop, num);
});
