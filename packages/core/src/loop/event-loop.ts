import { performance } from 'node:perf_hooks';
import { CancelledError, LOOP_CLOSED_MESSAGE, RuntimeError } from '../errors.js';
import { describeValue, isAsyncFunction } from '../debug/describe.js';
import { logger } from '../debug/logger.js';
import { Future, isFuture, reportUnretrievedAtClose } from '../futures/future.js';
import { Task, type TaskFunction, type TaskOptions } from '../futures/task.js';
import { TaskSteps } from '../futures/task-step.js';
import { Handle, TimerHandle, captureStack, type LoopCallback } from './handles.js';
import { ReadyQueue } from './ready-queue.js';
import { TimerHeap } from './timer-heap.js';
import { isNoRunningLoopError, runningLoopOrNull, setRunningLoop } from './thread-state.js';
import { installMissingMethodStubs } from './extensions.js';
import { ThreadPoolExecutor, type Executor, type WorkerCallable } from '../executor/index.js';
import { LoopBridge, type BridgeCallbacks } from './threadsafe-bridge.js';
import { RELEASE_ON_LOOP_CLOSE, RESOURCE_KIND, type LoopResource } from './resources.js';

export type { LoopResource };

/** Node's `setTimeout` cannot wait longer than this many milliseconds. */
const MAX_NODE_TIMEOUT_MS = 2 ** 31 - 1;
/** The loop hands control back to Node (for I/O) at least this often while busy. */
const SLICE_BUDGET_MS = 1;
/** How many callbacks run between two reads of the clock for the slice budget. */
const CALLBACKS_PER_CLOCK_CHECK = 32;
/** Cancelled timers are purged from the heap when they are this many and over half of it. */
const MIN_CANCELLED_TIMERS_TO_PURGE = 100;

/** The context passed to exception handlers; keys as in asyncio, in camelCase. */
export interface ExceptionContext {
  /** What went wrong, always present. */
  message: string;
  /** The error, if any. */
  exception?: unknown;
  /** The future involved, if any. */
  future?: Future<unknown>;
  /** The task involved, if any. */
  task?: Task<unknown>;
  /** The handle whose callback failed, if any. */
  handle?: Handle;
  /** The protocol involved, if any. */
  protocol?: unknown;
  /** The transport involved, if any. */
  transport?: unknown;
  /** The socket involved, if any. */
  socket?: unknown;
  /** The async generator involved, if any. */
  asyncgen?: AsyncGenerator<unknown, unknown, unknown>;
  /** Where the future/handle was created (debug mode). */
  sourceTraceback?: string;
  /** Where the failing handle was created (debug mode). */
  handleTraceback?: string;
  /** Other keys added by transports and packages. */
  [key: string]: unknown;
}

/** A loop exception handler, as set with `setExceptionHandler`. */
export type ExceptionHandler = (loop: EventLoop, context: ExceptionContext) => void;

/** Builds the task for `createTask`, as set with `setTaskFactory`. */
export type TaskFactory = <T>(loop: EventLoop, fn: TaskFunction<T>, options: TaskOptions) => Task<T>;

/** Something `runUntilComplete` can wait for. */
export type Awaitable<T> = Future<T> | PromiseLike<T> | TaskFunction<T>;

/** Options for {@link EventLoop}. */
export interface EventLoopOptions {
  /** Debug mode from the start (default: `AIOLOOP_DEBUG=1` in the environment). */
  debug?: boolean;
}

const enum Drive {
  /** Not running. */
  Stopped,
  /** Running, nothing scheduled but perhaps a Node timer for the next deadline. */
  Waiting,
  /** Running, a slice is queued with setImmediate. */
  Scheduled,
  /** Running a slice right now, or paused in it while a woken task steps. */
  Active,
}

function noop(): void {}

function envDebug(): boolean {
  const flag = process.env.AIOLOOP_DEBUG;
  return flag !== undefined && flag !== '' && flag !== '0';
}

/**
 * The event loop: a ready queue and a timer heap layered over Node's own loop
 * (asyncio's BaseEventLoop). One iteration runs every callback that was ready
 * when it began, after moving the timers that fell due; then the loop yields
 * to Node so I/O can happen.
 */
export class EventLoop {
  /** Callbacks slower than this many seconds are logged in debug mode. */
  slowCallbackDuration = 0.1;

  /** @internal */ _debug: boolean;
  /** @internal */ readonly _ready = new ReadyQueue();
  /** @internal */ readonly _timers = new TimerHeap();
  /** @internal */ _timerCancelledCount = 0;
  /** @internal */ _timerSeq = 0;
  /** @internal */ _closed = false;
  /** @internal */ _stopping = false;
  /** @internal Pending tasks and the task step in progress (futures/task-step.ts owns them). */
  readonly _steps = new TaskSteps(this);

  private _drive = Drive.Stopped;
  private _iterRemaining = 0;
  /** An iteration began and has not reached its end-of-iteration checks yet. */
  private _inIteration = false;
  private _sliceStart = 0;
  private _sinceClockCheck = 0;
  private _nodeTimer: NodeJS.Timeout | null = null;
  private _nodeTimerWhen = Infinity;
  private _keepAlive: NodeJS.Timeout | null = null;
  private _settleRun: { resolve: () => void; reject: (error: unknown) => void } | null = null;
  private _exceptionHandler: ExceptionHandler | null = null;
  private _taskFactory: TaskFactory | null = null;
  private _defaultExecutor: Executor | null = null;
  private _executorShutdownCalled = false;
  private readonly _asyncgens = new Set<AsyncGenerator<unknown, unknown, unknown>>();
  private _asyncgensShutdownCalled = false;
  private readonly _bridges = new Set<LoopBridge>();
  /** @internal Exceptions of this loop's futures that nobody retrieved yet (reported at close). */
  readonly _unretrieved = new Set<object>();
  /** @internal Open transports and servers of this loop (see {@link LoopResource}). */
  readonly _resources = new Set<LoopResource>();

  constructor(options: EventLoopOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`new EventLoop(options): options must be an object such as { debug: true }, got ${describeValue(options)}`);
    }
    // Subclasses (TestLoop, ...) pass their own options through.
    if (new.target === EventLoop) for (const key of Object.keys(options)) {
      if (key !== 'debug') throw new TypeError(`new EventLoop(options): unknown option ${JSON.stringify(key)}; accepted: debug`);
    }
    if (options.debug !== undefined && typeof options.debug !== 'boolean') {
      throw new TypeError(`new EventLoop(options): debug must be a boolean, got ${describeValue(options.debug)}`);
    }
    this._debug = options.debug ?? envDebug();
  }

  // ------------------------------------------------------------------ clock

  /** The loop's monotonic clock, in seconds (asyncio's `loop.time()`). */
  time(): number {
    return performance.now() / 1000;
  }

  // ------------------------------------------------------------- scheduling

  /**
   * Schedules `callback(...args)` to run in the next iteration. Callbacks run
   * in the order they were scheduled (FIFO).
   */
  callSoon<A extends unknown[]>(callback: (this: void, ...args: A) => void, ...args: A): Handle {
    return this._callSoonChecked(callback, args, 'callSoon');
  }

  /**
   * Like `callSoon`, and safe from any JavaScript context of this thread (Node
   * I/O callbacks, promise continuations outside the loop): it wakes an idle
   * loop. Other threads use {@link EventLoop.createThreadsafeBridge}.
   */
  callSoonThreadsafe<A extends unknown[]>(callback: (this: void, ...args: A) => void, ...args: A): Handle {
    // One thread, one JavaScript context: scheduling already wakes an idle loop,
    // so this is callSoon under asyncio's name (other threads use a bridge).
    return this._callSoonChecked(callback, args, 'callSoonThreadsafe');
  }

  /**
   * Schedules `callback(...args)` after `delay` seconds. Negative delays are
   * accepted and ordered by deadline; `Infinity` never fires.
   */
  callLater<A extends unknown[]>(delay: number, callback: (this: void, ...args: A) => void, ...args: A): TimerHandle {
    checkDelay(delay, 'callLater', 'delay');
    this._checkClosed();
    checkCallback(callback, 'callLater');
    return this._callAt(this.time() + delay, callback as unknown as LoopCallback, args.length === 0 ? undefined : args);
  }

  /** Schedules `callback(...args)` at absolute loop time `when` (as `time()`). */
  callAt<A extends unknown[]>(when: number, callback: (this: void, ...args: A) => void, ...args: A): TimerHandle {
    checkDelay(when, 'callAt', 'when');
    this._checkClosed();
    checkCallback(callback, 'callAt');
    return this._callAt(when, callback as unknown as LoopCallback, args.length === 0 ? undefined : args);
  }

  private _callSoonChecked(callback: unknown, args: unknown[], method: string): Handle {
    this._checkClosed();
    checkCallback(callback, method);
    return this._callSoon(callback as LoopCallback, args.length === 0 ? undefined : args);
  }

  /** @internal callSoon without argument checks, for the library's own callbacks. */
  _callSoon(callback: LoopCallback, args: readonly unknown[] | undefined): Handle {
    const handle = new Handle(callback, args, this);
    this._ready.push(handle);
    if (this._drive === Drive.Waiting) this.wakeup();
    return handle;
  }

  /** @internal */
  _callAt(when: number, callback: LoopCallback, args: readonly unknown[] | undefined): TimerHandle {
    const timer = new TimerHandle(when, this._timerSeq++, callback, args, this);
    timer._scheduled = true;
    this._timers.push(timer);
    if (this._drive === Drive.Waiting && when < this._nodeTimerWhen) this.wakeup();
    return timer;
  }

  /** @internal A scheduled timer was cancelled: count it for purging. */
  _timerHandleCancelled(): void {
    this._timerCancelledCount++;
  }

  // -------------------------------------------------------------- lifecycle

  /**
   * Runs the loop until `stop()` is called. The returned promise settles when
   * the loop stops; it rejects if another loop is already running in this thread.
   */
  runForever(): Promise<void> {
    try {
      this._checkClosed();
      this._checkNotRunning();
    } catch (error) {
      return Promise.reject(error);
    }
    setRunningLoop(this);
    // A ref'd timer that never fires keeps the Node process alive while we run.
    this._keepAlive = setInterval(noop, MAX_NODE_TIMEOUT_MS);
    this._drive = Drive.Scheduled;
    return new Promise<void>((resolve, reject) => {
      this._settleRun = { resolve, reject };
      setImmediate(this._slice);
    });
  }

  /**
   * Runs the loop until `awaitable` completes and returns its result (or throws
   * its error). Pass an async function (`runUntilComplete(main)`, the port of
   * `run_until_complete(main())`): it runs as a task. A Future is awaited; a
   * promise is wrapped, but it started before the loop ran, so code that needs
   * the running loop before its first `await` fails: then the error says to
   * pass the function instead.
   */
  async runUntilComplete<T>(awaitable: Awaitable<T>): Promise<T> {
    this._checkClosed();
    this._checkNotRunning();
    const newTask = !isFuture(awaitable);
    const future = this._ensureFuture(
      newTask && typeof awaitable !== 'function' ? explainStartedTooEarly(awaitable as PromiseLike<T>, 'runUntilComplete') : awaitable,
    );
    if (newTask) future._logDestroyPending = false;
    const onDone = (): void => this.stop();
    future.addDoneCallback(onDone);
    try {
      await this.runForever();
    } catch (error) {
      if (newTask && future.done() && !future.cancelled()) future.exception(); // mark retrieved
      throw error;
    } finally {
      future.removeDoneCallback(onDone);
    }
    if (!future.done()) throw new RuntimeError('Event loop stopped before Future completed.');
    return future.result();
  }

  /**
   * Stops the loop: the current iteration completes (every callback that was
   * ready when it began still runs), then `runForever()` settles. Callbacks
   * scheduled meanwhile wait for the next run.
   */
  stop(): void {
    this._stopping = true;
    if (this._drive === Drive.Waiting) this.wakeup();
  }

  /** Whether the loop is running. */
  isRunning(): boolean {
    return this._drive !== Drive.Stopped;
  }

  /** Whether `close()` was called. */
  isClosed(): boolean {
    return this._closed;
  }

  /**
   * Closes the loop: pending callbacks are dropped, the default executor is
   * shut down without waiting, and every later scheduling call throws
   * "Event loop is closed". Closing twice is harmless; closing a running loop throws.
   */
  close(): void {
    if (this.isRunning()) throw new RuntimeError('Cannot close a running event loop');
    if (this._closed) return;
    if (this._debug) logger.debug(`Close ${this.toString()}`);
    this._closed = true;
    this._ready.clear();
    for (const timer of this._timers.clear()) timer._scheduled = false;
    this._timerCancelledCount = 0;
    for (const bridge of this._bridges) bridge.close();
    this._bridges.clear();
    const executor = this._defaultExecutor;
    this._defaultExecutor = null;
    if (executor) void executor.shutdown(false).catch(noop);
    for (const hook of closeHooks) hook(this);
    // asyncio's process exits with transports left open (they are closed when
    // collected, with a ResourceWarning); here their Node handles would keep
    // the process alive, so they are unref'd, and named in debug mode.
    for (const resource of this._resources) {
      if (this._debug) logger.warn(`unclosed ${resource[RESOURCE_KIND]} ${resource.toString()} when the loop closed; close it before loop.close()`);
      resource[RELEASE_ON_LOOP_CLOSE]();
    }
    this._resources.clear();
    reportUnretrievedAtClose(this);
  }

  /**
   * Registers an async generator so that `shutdownAsyncgens()` closes it.
   * JavaScript has no hook that sees every async generator (Python's
   * `sys.set_asyncgen_hooks`), so tracking is explicit. Returns `agen`.
   */
  trackAsyncgen<G extends AsyncGenerator<unknown, unknown, unknown>>(agen: G): G {
    if (agen === null || typeof agen !== 'object' || typeof (agen as { return?: unknown }).return !== 'function') {
      throw new TypeError(`trackAsyncgen() takes an async generator object, got ${describeValue(agen)}`);
    }
    if (this._asyncgensShutdownCalled) {
      logger.warn(`asynchronous generator ${describeValue(agen)} was tracked after shutdownAsyncgens() was called; closing it`);
      void agen.return(undefined).catch(noop);
      return agen;
    }
    this._asyncgens.add(agen);
    return agen;
  }

  /** Closes every tracked async generator (calls `return()` on each, concurrently). */
  async shutdownAsyncgens(): Promise<void> {
    this._asyncgensShutdownCalled = true;
    if (this._asyncgens.size === 0) return;
    const gens = [...this._asyncgens];
    this._asyncgens.clear();
    const results = await Promise.allSettled(gens.map((agen) => agen.return(undefined)));
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        this.callExceptionHandler({
          message: 'an error occurred during closing of asynchronous generator',
          exception: result.reason,
          asyncgen: gens[i],
        });
      }
    });
  }

  /**
   * Waits for the default executor's work to finish and shuts it down. With a
   * `timeout` (seconds), stops waiting after it, warns, and terminates the
   * workers that are still busy (Python 3.12's `timeout` argument).
   */
  async shutdownDefaultExecutor(timeout: number | null = null): Promise<void> {
    if (timeout !== null && (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0)) {
      throw new TypeError(`shutdownDefaultExecutor(): timeout must be a number of seconds >= 0 or null, got ${describeValue(timeout)}`);
    }
    this._executorShutdownCalled = true;
    const executor = this._defaultExecutor;
    if (executor === null) return;
    this._defaultExecutor = null;
    const done = executor.shutdown(true);
    if (timeout === null) {
      await done;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeout * 1000);
    });
    const outcome = await Promise.race([done.then(() => 'done' as const), expired]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      logger.warn(`The executor did not finish joining its threads within ${timeout} seconds.`);
      const terminate = (executor as { terminate?: () => void }).terminate;
      if (typeof terminate === 'function') terminate.call(executor);
    }
  }

  // ----------------------------------------------------------------- driver

  /**
   * Wakes an idle loop: queues a slice (with setImmediate) to run what became
   * ready. Does nothing unless the loop is running and idle. Virtual-time loops
   * call it after moving their clock.
   */
  protected wakeup(): void {
    if (this._drive !== Drive.Waiting) return;
    this._clearNodeTimer();
    this._drive = Drive.Scheduled;
    setImmediate(this._slice);
  }

  /** A slice starts in its own Node turn (setImmediate or a timer): a fresh time budget. */
  private readonly _slice = (): void => {
    if (this._drive !== Drive.Scheduled && this._drive !== Drive.Active) return;
    this._clearNodeTimer();
    this._drive = Drive.Active;
    this._sliceStart = performance.now();
    this._sinceClockCheck = 0;
    this._runSlice();
  };

  /**
   * Runs loop iterations until the loop stops, idles, or has used its time
   * budget. Also resumed (in a microtask, same budget) after a woken task stepped.
   */
  private _runSlice(): void {
    const ready = this._ready;
    const steps = this._steps;
    const debug = this._debug;
    try {
      for (;;) {
        if (!this._inIteration) {
          this._beginIteration();
          this._inIteration = true;
        }
        while (this._iterRemaining > 0) {
          this._iterRemaining--;
          const handle = ready.shift();
          if (handle._cancelled) continue;
          if (debug) this._runDebug(handle);
          else handle._run();
          this._sinceClockCheck++;
          if (steps.active) {
            // A task was woken: let its continuation run (in microtasks) to its
            // next await before the next callback, as asyncio steps a task in the
            // callback that wakes it.
            steps.waitForStepEnd();
            return;
          }
        }
        this._inIteration = false;
        if (this._stopping) {
          this._finishRun(null);
          return;
        }
        if (ready.length === 0) {
          const delay = this._nextTimerDeadline() - this.time();
          if (delay > 0) {
            this._drive = Drive.Waiting;
            this.onIdle(delay);
            return;
          }
        }
        if (this._sinceClockCheck >= CALLBACKS_PER_CLOCK_CHECK) {
          this._sinceClockCheck = 0;
          if (performance.now() - this._sliceStart >= SLICE_BUDGET_MS) {
            // Yield to Node so I/O and other macrotasks run; continue next turn.
            this._drive = Drive.Scheduled;
            setImmediate(this._slice);
            return;
          }
        }
      }
    } catch (error) {
      // Only a bug in the loop itself lands here: callbacks' errors are reported.
      this._finishRun(error);
    }
  }

  /** @internal The task step that paused the iteration is over: go on with it (same slice budget). */
  _afterStep(): void {
    if (this._drive === Drive.Active) this._runSlice();
  }

  /** Moves due timers to the ready queue and fixes how many callbacks this iteration runs. */
  private _beginIteration(): void {
    const timers = this._timers;
    if (
      this._timerCancelledCount > MIN_CANCELLED_TIMERS_TO_PURGE &&
      this._timerCancelledCount * 2 > timers.length
    ) {
      timers.filter((timer) => {
        if (timer._cancelled) timer._scheduled = false;
        return !timer._cancelled;
      });
      this._timerCancelledCount = 0;
    }
    if (timers.length > 0) {
      const end = this.time();
      for (;;) {
        const top = timers.peek();
        if (top === undefined) break;
        if (top._cancelled) {
          timers.pop();
          top._scheduled = false;
          this._timerCancelledCount--;
          continue;
        }
        if (top._when > end) break;
        timers.pop();
        top._scheduled = false;
        this._ready.push(top);
      }
    }
    this._iterRemaining = this._ready.length;
  }

  /** @internal The deadline of the earliest live timer (Infinity if none); drops cancelled timers at the top. */
  _nextTimerDeadline(): number {
    const timers = this._timers;
    for (;;) {
      const top = timers.peek();
      if (top === undefined) return Infinity;
      if (!top._cancelled) return top._when;
      timers.pop();
      top._scheduled = false;
      this._timerCancelledCount--;
    }
  }

  /**
   * Called when nothing is ready: `delaySeconds` until the earliest timer
   * (Infinity if none). The default arms one Node timer (no polling) and waits
   * for it or for a wakeup; a virtual-time loop (`@aioloop/testing`) overrides
   * it to move its clock instead, then calls `wakeup()`.
   */
  protected onIdle(delaySeconds: number): void {
    if (delaySeconds === Infinity) return;
    // Node timers have millisecond resolution and may fire a little early: round
    // up, and never arm for less than 1 ms so tiny delays cannot busy-spin.
    const ms = Math.min(MAX_NODE_TIMEOUT_MS, Math.max(1, Math.ceil(delaySeconds * 1000)));
    this._nodeTimerWhen = this.time() + ms / 1000;
    this._nodeTimer = setTimeout(this._onNodeTimer, ms);
  }

  private _clearNodeTimer(): void {
    if (this._nodeTimer !== null) {
      clearTimeout(this._nodeTimer);
      this._nodeTimer = null;
      this._nodeTimerWhen = Infinity;
    }
  }

  private readonly _onNodeTimer = (): void => {
    this._nodeTimer = null;
    this._nodeTimerWhen = Infinity;
    if (this._drive !== Drive.Waiting) return;
    this._drive = Drive.Scheduled;
    this._slice();
  };

  private _finishRun(error: unknown): void {
    this._drive = Drive.Stopped;
    this._stopping = false;
    this._clearNodeTimer();
    if (this._keepAlive !== null) {
      clearInterval(this._keepAlive);
      this._keepAlive = null;
    }
    if (runningLoopOrNull() === this) setRunningLoop(null);
    const settle = this._settleRun;
    this._settleRun = null;
    if (settle) {
      if (error === null) settle.resolve();
      else settle.reject(error);
    }
  }

  private _runDebug(handle: Handle): void {
    const start = this.time();
    handle._run();
    const elapsed = this.time() - start;
    if (elapsed >= this.slowCallbackDuration) {
      logger.warn(`Executing ${handle.toString()} took ${elapsed.toFixed(3)} seconds`);
    }
  }

  // -------------------------------------------------------- futures & tasks

  /** A new pending Future attached to this loop. Works on a closed loop too, as in asyncio. */
  createFuture<T>(): Future<T> {
    return new Future<T>(this);
  }

  /**
   * Wraps an async function in a Task and schedules it: its body starts in a
   * later loop iteration, never synchronously. Use the task's `signal` to
   * cancel Node APIs together with the task.
   */
  createTask<T>(fn: TaskFunction<T>, options: TaskOptions = {}): Task<T> {
    this._checkClosed();
    if (typeof fn !== 'function') {
      if (fn !== null && typeof fn === 'object' && typeof (fn as { then?: unknown }).then === 'function') {
        throw new TypeError(
          'createTask() takes an async function, not a promise: a promise is already running. ' +
            'Pass the function (createTask(() => work())) or wrap the promise with wrapFuture(promise)',
        );
      }
      throw new TypeError(`createTask() takes an async function, got ${describeValue(fn)}`);
    }
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`createTask() options must be an object such as { name: 'worker' }, got ${describeValue(options)}`);
    }
    const factory = this._taskFactory;
    if (factory !== null) return factory(this, fn, options);
    return new Task<T>(fn, { ...options, loop: this }) as Task<T>;
  }

  /** Sets the factory `createTask` uses (null restores the default Task). */
  setTaskFactory(factory: TaskFactory | null): void {
    if (factory !== null && typeof factory !== 'function') {
      throw new TypeError(`setTaskFactory() takes a function (loop, fn, options) => Task or null, got ${describeValue(factory)}`);
    }
    this._taskFactory = factory;
  }

  /** The task factory, or null for the default. */
  getTaskFactory(): TaskFactory | null {
    return this._taskFactory;
  }

  /** @internal Turns anything awaitable into a Future of this loop. */
  _ensureFuture<T>(awaitable: Awaitable<T>): Future<T> {
    if (isFuture(awaitable)) {
      if (awaitable.getLoop() !== this) {
        throw new RuntimeError(`The future belongs to a different loop than the one specified as the loop argument`);
      }
      return awaitable as Future<T>;
    }
    if (typeof awaitable === 'function') return this.createTask(awaitable as TaskFunction<T>);
    if (awaitable !== null && typeof awaitable === 'object' && typeof (awaitable as PromiseLike<T>).then === 'function') {
      return this._wrapPromise(awaitable as PromiseLike<T>);
    }
    throw new TypeError(`An async function, a Future or a promise is required, got ${describeValue(awaitable)}`);
  }

  /** @internal A Future that settles like `promise` (from a loop callback). */
  _wrapPromise<T>(promise: PromiseLike<T>): Future<T> {
    this.onPromiseWrapped(promise);
    const future = this.createFuture<T>();
    promise.then(
      (value) => {
        if (!future.done() && !this._closed) this._callSoon(() => future.done() || future.setResult(value), undefined);
      },
      (error: unknown) => {
        if (!future.done() && !this._closed) this._callSoon(() => future.done() || future._setException(error), undefined);
      },
    );
    return future;
  }

  /**
   * Called when a promise from outside the loop is wrapped into a loop future
   * (`wrapFuture`, `runInExecutor`, `runUntilComplete(promise)`). The default
   * does nothing; a virtual-time loop overrides it to know that outside work it
   * cannot see is pending.
   */
  protected onPromiseWrapped(_promise: PromiseLike<unknown>): void {}

  // ------------------------------------------------------ exception handling

  /** Sets the handler for errors in callbacks (null restores the default). */
  setExceptionHandler(handler: ExceptionHandler | null): void {
    if (handler !== null && typeof handler !== 'function') {
      throw new TypeError(`setExceptionHandler() takes a function (loop, context) => void or null, got ${describeValue(handler)}`);
    }
    this._exceptionHandler = handler;
  }

  /** The custom exception handler, or null. */
  getExceptionHandler(): ExceptionHandler | null {
    return this._exceptionHandler;
  }

  /** The default handler: logs the message, the error with its stack, and the other context keys. */
  defaultExceptionHandler(context: ExceptionContext): void {
    checkContext(context, 'defaultExceptionHandler');
    const message = context.message || 'Unhandled exception in event loop';
    const lines: string[] = [message];
    for (const key of Object.keys(context).sort()) {
      if (key === 'message' || key === 'exception') continue;
      const value = context[key];
      if (key === 'sourceTraceback' || key === 'handleTraceback') {
        lines.push(`${key === 'sourceTraceback' ? 'Object created at' : 'Handle created at'} (most recent call first):\n${String(value)}`);
      } else {
        lines.push(`${key}: ${describeValue(value)}`);
      }
    }
    const exception = context.exception;
    if (exception !== undefined) {
      lines.push(exception instanceof Error ? (exception.stack ?? String(exception)) : `exception: ${describeValue(exception)}`);
    }
    logger.error(lines.join('\n'));
  }

  /**
   * Calls the current exception handler with `context`. An error thrown by the
   * handler itself is logged by the default handler, never propagated.
   */
  callExceptionHandler(context: ExceptionContext): void {
    checkContext(context, 'callExceptionHandler');
    const handler = this._exceptionHandler;
    if (handler === null) {
      try {
        this.defaultExceptionHandler(context);
      } catch (error) {
        logger.error(`Exception in default exception handler: ${String(error)}`);
      }
      return;
    }
    try {
      handler(this, context);
    } catch (error) {
      try {
        this.defaultExceptionHandler({
          message: 'Unhandled error in exception handler',
          exception: error,
          context,
        });
      } catch (inner) {
        logger.error(`Exception in default exception handler while handling an unexpected error in custom exception handler: ${String(inner)}`);
      }
    }
  }

  /** @internal A callback threw. */
  _reportCallbackError(exception: unknown, handle: Handle): void {
    const context: ExceptionContext = {
      message: `Exception in callback ${handle.toString()}`,
      exception,
      handle,
    };
    const hint = detachedMethodHint(exception, handle._callback);
    if (hint !== null) context.hint = hint;
    if (handle._sourceTraceback !== undefined) context.sourceTraceback = handle._sourceTraceback;
    this.callExceptionHandler(context);
  }

  // ------------------------------------------------------------------ debug

  /** Turns debug mode on or off (slow-callback logging, creation tracebacks). */
  setDebug(enabled: boolean): void {
    if (typeof enabled !== 'boolean') throw new TypeError(`setDebug() takes a boolean, got ${describeValue(enabled)}`);
    this._debug = enabled;
  }

  /** Whether debug mode is on. */
  getDebug(): boolean {
    return this._debug;
  }

  // --------------------------------------------------------------- executor

  /**
   * Runs `fn(...args)` in `executor` (the default thread pool when null) and
   * returns a Future of its result. Functions and values cross to another
   * thread: see docs/executors.md for what may be sent.
   */
  runInExecutor<R>(executor: Executor | null, fn: WorkerCallable, ...args: unknown[]): Future<R> {
    this._checkClosed();
    let target = executor;
    if (target === null) {
      if (this._executorShutdownCalled) throw new RuntimeError('Executor shutdown has been called');
      target = this._defaultExecutor ??= new ThreadPoolExecutor({ name: 'aioloop-default' });
    } else if (typeof target !== 'object' || typeof (target as Executor).submit !== 'function') {
      throw new TypeError(`runInExecutor() takes an Executor (with submit()) or null for the default, got ${describeValue(target)}`);
    }
    // Cancelling the Future withdraws work still queued (a started job runs to
    // completion, as with Python's executors).
    const controller = new AbortController();
    const future = this._wrapPromise(target.submit(fn, args, { signal: controller.signal }) as Promise<R>);
    future.addDoneCallback((f) => {
      if (f.cancelled()) controller.abort(new CancelledError());
    });
    return future;
  }

  /** Sets the executor `runInExecutor(null, ...)` uses. */
  setDefaultExecutor(executor: Executor): void {
    if (executor === null || typeof executor !== 'object' || typeof executor.submit !== 'function' || typeof executor.shutdown !== 'function') {
      throw new TypeError(`setDefaultExecutor() takes an Executor (an object with submit() and shutdown()), got ${describeValue(executor)}`);
    }
    this._defaultExecutor = executor;
  }

  // --------------------------------------------------------- threads bridge

  /**
   * A bridge through which other threads (worker_threads) schedule callbacks
   * on this loop. Functions cannot cross threads, so the bridge schedules the
   * callbacks registered here by name, with structured-cloneable arguments.
   * Send `bridge.port` to the worker (in `transferList`) and call
   * `connectLoopBridge(port).callSoonThreadsafe(name, ...args)` there.
   */
  createThreadsafeBridge(callbacks: BridgeCallbacks): LoopBridge {
    this._checkClosed();
    const bridge = new LoopBridge(this, callbacks, () => this._bridges.delete(bridge));
    this._bridges.add(bridge);
    return bridge;
  }

  // ----------------------------------------------------------------- checks

  /** @internal */
  _checkClosed(): void {
    if (this._closed) throw new RuntimeError(LOOP_CLOSED_MESSAGE);
  }

  private _checkNotRunning(): void {
    if (this.isRunning()) throw new RuntimeError('This event loop is already running');
    const running = runningLoopOrNull();
    if (running !== null && running !== this) {
      throw new RuntimeError('Cannot run the event loop while another loop is running');
    }
  }

  toString(): string {
    return `<${this.constructor.name} running=${this.isRunning()} closed=${this._closed} debug=${this._debug}>`;
  }

  /** @internal */
  _creationStack(): string | undefined {
    return this._debug ? captureStack(4) : undefined;
  }
}

/** Hooks run when any loop closes (signals and others remove what they installed). */
const closeHooks: ((loop: EventLoop) => void)[] = [];

/** Registers `hook` to run whenever any loop closes, so a package can release what it holds per loop. */
export function onLoopClose(hook: (loop: EventLoop) => void): void {
  closeHooks.push(hook);
}

installMissingMethodStubs(EventLoop.prototype);

/**
 * A hint when a callback failed because it is a method passed without its
 * object (`callSoon(fut.setResult, 42)`, natural in asyncio, where methods are
 * bound): JavaScript calls it with `this` undefined. Only looked at on failure.
 */
function detachedMethodHint(exception: unknown, callback: LoopCallback | null): string | null {
  if (!(exception instanceof TypeError) || callback === null || !/^Cannot (read|set) properties of undefined/.test(exception.message)) return null;
  const name = callback.name;
  // Method definitions print as `name(...) {`; plain functions and arrows do not.
  if (name === '' || !Function.prototype.toString.call(callback).startsWith(`${name}(`)) return null;
  return `${name}() is a method passed without its object: JavaScript methods are not bound as Python's are. Pass a function that calls it, e.g. loop.callSoon(() => obj.${name}(...))`;
}

/**
 * `promise` with its "no running event loop" failure explained: the literal
 * port of `run_until_complete(main())` calls `main()` before the loop runs.
 */
function explainStartedTooEarly<T>(promise: PromiseLike<T>, method: string): PromiseLike<T> {
  if (promise === null || typeof promise !== 'object' || typeof promise.then !== 'function') return promise;
  return Promise.resolve(promise).catch((error: unknown) => {
    if (!isNoRunningLoopError(error)) throw error;
    throw new RuntimeError(
      `${method}() got a promise that failed with "no running event loop": the async function was called before the loop ran. ` +
        `Pass the function itself: ${method}(main), not ${method}(main())`,
      { cause: error },
    );
  });
}

function checkCallback(callback: unknown, method: string): void {
  if (typeof callback !== 'function') {
    throw new TypeError(`${method}(): the callback must be a function, got ${describeValue(callback)}`);
  }
  if (isAsyncFunction(callback)) {
    throw new TypeError(`${method}(): async functions cannot be used as callbacks (nothing would await them); use loop.createTask(fn) instead`);
  }
}

function checkDelay(value: unknown, method: string, name: string): void {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${method}(): ${name} must be a number of seconds (negative, fractional and Infinity are accepted), got ${describeValue(value)}`);
  }
}


function checkContext(context: unknown, method: string): asserts context is ExceptionContext {
  if (context === null || typeof context !== 'object' || typeof (context as ExceptionContext).message !== 'string') {
    throw new TypeError(`${method}() takes a context object with a string 'message', got ${describeValue(context)}`);
  }
}
