import type { EventLoop } from './event-loop.js';
import { describeValue } from '../debug/describe.js';

/**
 * A function the loop calls with the arguments given when it was scheduled.
 * (`never[]` parameters make every callback assignable without `any`.)
 */
export type LoopCallback = (...args: never[]) => void;

/**
 * A callback scheduled with `callSoon` / `callSoonThreadsafe` (asyncio.Handle).
 * `cancel()` before it runs and it never runs.
 */
export class Handle {
  /** @internal */ _callback: LoopCallback | null;
  /** @internal */ _args: readonly unknown[] | undefined;
  /** @internal */ _cancelled = false;
  /** @internal */ readonly _loop: EventLoop;
  /** @internal Where the handle was created; recorded only in debug mode. */
  _sourceTraceback: string | undefined;

  /** @internal Handles are created by the loop's scheduling methods. */
  constructor(callback: LoopCallback, args: readonly unknown[] | undefined, loop: EventLoop) {
    this._callback = callback;
    this._args = args;
    this._loop = loop;
    this._sourceTraceback = loop._debug ? captureStack(3) : undefined;
  }

  /** Cancels the callback. A cancelled handle never runs; cancelling twice is harmless. */
  cancel(this: object): void;
  cancel(): void {
    if (!this._cancelled) {
      this._cancelled = true;
      // Drop references so a cancelled handle keeps nothing alive.
      this._callback = null;
      this._args = undefined;
    }
  }

  /** Whether `cancel()` was called. */
  cancelled(this: object): boolean;
  cancelled(): boolean {
    return this._cancelled;
  }

  /** The loop this handle belongs to. */
  getLoop(): EventLoop {
    return this._loop;
  }

  /** @internal Runs the callback; an exception goes to the loop's exception handler. */
  _run(): void {
    const callback = this._callback as LoopCallback;
    try {
      const args = this._args;
      if (args === undefined) (callback as () => void)();
      else Reflect.apply(callback, undefined, args);
    } catch (exception) {
      this._loop._reportCallbackError(exception, this);
    }
  }

  /** A short description, used in logs: `<Handle name(args)>`. */
  toString(): string {
    const parts = [this.constructor.name];
    if (this._cancelled) parts.push('cancelled');
    else if (this._callback) parts.push(describeCallback(this._callback, this._args));
    if (this._sourceTraceback) parts.push(`created at ${firstFrame(this._sourceTraceback)}`);
    return `<${parts.join(' ')}>`;
  }
}

/**
 * A callback scheduled with `callLater` / `callAt` (asyncio.TimerHandle).
 * Timers with equal deadlines run in the order they were scheduled (FIFO).
 */
export class TimerHandle extends Handle {
  /** @internal Loop time (seconds) at which it is due. */
  _when: number;
  /** @internal Scheduling order, the tie-breaker that makes equal deadlines FIFO. */
  _seq: number;
  /** @internal Whether it is still in the loop's timer heap. */
  _scheduled = false;

  /** @internal Created by `callLater` / `callAt`. */
  constructor(when: number, seq: number, callback: LoopCallback, args: readonly unknown[] | undefined, loop: EventLoop) {
    super(callback, args, loop);
    this._when = when;
    this._seq = seq;
  }

  /** The absolute loop time (as `loop.time()`) at which the callback is due. */
  when(this: object): number;
  when(): number {
    return this._when;
  }

  override cancel(this: object): void;
  override cancel(): void {
    if (!this._cancelled) {
      super.cancel();
      if (this._scheduled) this._loop._timerHandleCancelled();
    }
  }

  override toString(): string {
    return super.toString().replace(/^<TimerHandle/, `<TimerHandle when=${this._when.toFixed(3)}`);
  }
}

// Frames from aioloop's own code are dropped from creation tracebacks: they would
// always point at the loop instead of at the user's call.
const OWN_CODE = ((): string => {
  const frame = (new Error().stack ?? '').split('\n')[1] ?? '';
  const match = /\(?([^\s()]+?):\d+:\d+\)?$/.exec(frame.trim());
  const file = match?.[1] ?? '';
  const sourceSuffix = /[\\/]loop[\\/]handles\.ts$/;
  return sourceSuffix.test(file) ? file.replace(sourceSuffix, '') : file;
})();

/** @internal The current stack trace without the Error line and aioloop's own frames. */
export function captureStack(_skip = 1): string {
  const lines = (new Error().stack ?? '').split('\n').slice(1);
  const user = OWN_CODE === '' ? lines : lines.filter((line) => !line.includes(OWN_CODE));
  return user.join('\n');
}

function firstFrame(stack: string): string {
  const line = stack.split('\n').find((l) => l.trim().length > 0) ?? '';
  return line.trim().replace(/^at /, '');
}

/** @internal `name(arg, ...)` for logs. */
export function describeCallback(callback: LoopCallback, args: readonly unknown[] | undefined): string {
  const name = callback.name || '<anonymous>';
  const shown = args === undefined ? '' : args.map((a) => describeValue(a)).join(', ');
  return `${name}(${shown})`;
}
