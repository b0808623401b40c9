/**
 * The executor interface used by `loop.runInExecutor()` (Python's
 * `concurrent.futures.Executor`), its errors, and the worker-pool machinery
 * shared by {@link ThreadPoolExecutor} and {@link ProcessPoolExecutor}.
 *
 * @module
 */

import { prepareCallable, WorkerCallableError } from './worker-function.js';
import type { PreparedCallable, WorkerCallable } from './worker-function.js';

/** Options for a single {@link Executor.submit} call. */
export interface SubmitOptions {
  /**
   * Cancels the job while it is still queued: it is removed from the queue and
   * the promise rejects with `signal.reason`. A job that already started runs
   * to completion, as with Python's `Future.cancel()`.
   */
  readonly signal?: AbortSignal;
}

/**
 * Runs functions somewhere else (another thread or process), as Python's
 * `concurrent.futures.Executor`. `loop.runInExecutor(executor, fn, ...args)`
 * calls {@link Executor.submit}.
 */
export interface Executor {
  /**
   * Runs `fn(...args)` elsewhere; resolves with its (awaited) result or rejects
   * with its error.
   *
   * Throws synchronously ({@link ExecutorShutdownError},
   * {@link WorkerCallableError}, `TypeError` for an argument that cannot be
   * copied) when the job cannot be accepted at all.
   */
  submit(fn: WorkerCallable, args: readonly unknown[], options?: SubmitOptions): Promise<unknown>;
  /**
   * Stops accepting work. If `wait` (the default), resolves after queued and
   * running work finished and the workers exited. Otherwise cancels the queued
   * work (rejecting it with {@link ExecutorShutdownError}), terminates idle
   * workers and resolves at once; running jobs finish and their workers then
   * exit. This is Python's `Executor.shutdown(wait, cancel_futures=not wait)`.
   */
  shutdown(wait?: boolean): Promise<void>;
}

/**
 * Work was submitted to an executor after `shutdown()`, or queued work was
 * cancelled by `shutdown(false)` / `terminate()`.
 */
export class ExecutorShutdownError extends Error {
  override name = 'ExecutorShutdownError';
  constructor(message = 'cannot schedule new work after shutdown', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A worker exited or crashed while it was running a job (`process.exit()` in
 * the function, an uncaught exception or unhandled rejection left behind by
 * it, a signal, running out of memory). The job is lost; the pool replaces the
 * worker for later jobs.
 */
export class WorkerCrashedError extends Error {
  override name = 'WorkerCrashedError';
  constructor(
    message: string,
    /** The worker's exit code, or null if it was ended by a signal or never started. */
    readonly exitCode: number | null,
    /** The signal that ended a worker process, or null. */
    readonly signal: NodeJS.Signals | null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Python's default `max_workers` for `ThreadPoolExecutor`:
 * `min(32, os.availableParallelism() + 4)`.
 */
export function defaultThreadWorkers(parallelism: number): number {
  if (!Number.isInteger(parallelism) || parallelism < 1) {
    throw new RangeError(`defaultThreadWorkers(): parallelism must be a positive integer (os.availableParallelism()), got ${String(parallelism)}`);
  }
  return Math.min(32, parallelism + 4);
}

/**
 * Checks a pool's options (`maxWorkers` a positive integer, `idleTimeoutMs` a
 * non-negative number or Infinity, `name` a string; no other key): the
 * constructor arguments of the pool. @internal
 */
export function checkPoolOptions(
  options: unknown,
  where: string,
  defaultWorkers: number,
  defaultName: () => string,
): [maxWorkers: number, idleTimeoutMs: number, name: string] {
  // No imports from outside executor/: its files also load on their own in a worker process.
  const shown = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where}(): options must be an object such as { maxWorkers: 4 }, got ${shown(options)}`);
  }
  const accepted = ['maxWorkers', 'idleTimeoutMs', 'name'];
  for (const key of Object.keys(options)) {
    if (!accepted.includes(key)) throw new TypeError(`${where}(): unknown option ${JSON.stringify(key)}; accepted: ${accepted.join(', ')}`);
  }
  const { maxWorkers, idleTimeoutMs, name } = options as { maxWorkers?: unknown; idleTimeoutMs?: unknown; name?: unknown };
  if (maxWorkers !== undefined && (!Number.isInteger(maxWorkers) || (maxWorkers as number) <= 0)) {
    throw new RangeError(`${where}(): maxWorkers must be a positive integer, got ${shown(maxWorkers)}`);
  }
  if (idleTimeoutMs !== undefined && (typeof idleTimeoutMs !== 'number' || Number.isNaN(idleTimeoutMs) || idleTimeoutMs < 0)) {
    throw new RangeError(`${where}(): idleTimeoutMs must be a non-negative number or Infinity, got ${shown(idleTimeoutMs)}`);
  }
  if (name !== undefined && typeof name !== 'string') throw new TypeError(`${where}(): name must be a string, got ${shown(name)}`);
  return [(maxWorkers as number | undefined) ?? defaultWorkers, (idleTimeoutMs as number | undefined) ?? 60_000, (name as string | undefined) ?? defaultName()];
}

// ---------------------------------------------------------------------------
// Errors across the boundary

/** A thrown value as a worker sends it back. @internal */
export type EncodedThrown = EncodedError | { readonly $value: unknown };

/** An error as a worker sends it back. @internal */
export interface EncodedError {
  readonly $error: true;
  readonly name: string;
  readonly message: string;
  readonly stack?: string | undefined;
  readonly props: Readonly<Record<string, unknown>>;
  readonly cause?: EncodedThrown;
  readonly errors?: readonly EncodedThrown[];
}

const ERROR_CONSTRUCTORS: Readonly<Record<string, new (message?: string) => Error>> = {
  Error,
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
  WorkerCallableError,
};

/**
 * Rebuilds a thrown value sent by a worker. Errors become instances of the
 * matching built-in class (or `Error`) with the original `name`, `message`,
 * `stack`, `code` and other cloneable own properties, `cause` and `errors`.
 * @internal
 */
export function decodeThrown(encoded: EncodedThrown, depth = 0): unknown {
  if (!('$error' in encoded)) return encoded.$value;
  const errors = encoded.errors?.map((e) => decodeThrown(e, depth + 1));
  let error: Error;
  if (encoded.name === 'AggregateError' || errors !== undefined) {
    error = new AggregateError(errors ?? [], encoded.message);
  } else {
    const Ctor = Object.prototype.hasOwnProperty.call(ERROR_CONSTRUCTORS, encoded.name)
      ? (ERROR_CONSTRUCTORS[encoded.name] ?? Error)
      : Error;
    error = new Ctor(encoded.message);
  }
  if (error.name !== encoded.name) {
    Object.defineProperty(error, 'name', { value: encoded.name, writable: true, configurable: true, enumerable: false });
  }
  if (encoded.stack !== undefined) {
    Object.defineProperty(error, 'stack', { value: encoded.stack, writable: true, configurable: true, enumerable: false });
  }
  for (const [key, value] of Object.entries(encoded.props)) {
    Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: true });
  }
  if (encoded.cause !== undefined) {
    Object.defineProperty(error, 'cause', {
      value: decodeThrown(encoded.cause, depth + 1),
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  return error;
}

/**
 * Turns a `ReferenceError` for a name used by a function sent as source text
 * (or a `TypeError` from reading a property of its undefined `this`) into the
 * "must be self-contained" explanation (the original is the `cause`).
 * @internal
 */
export function explainThrown(error: unknown, callable: PreparedCallable): unknown {
  if (callable.wire.kind !== 'source') return error;
  if (
    error instanceof TypeError &&
    /^Cannot (?:read|set) properties of undefined/.test(error.message) &&
    /(?<![\p{L}\p{N}_$.])this(?![\p{L}\p{N}_$])/u.test(callable.wire.source)
  ) {
    return new WorkerCallableError(
      `functions run in a worker must be self-contained: ${callable.label} uses \`this\`, which is undefined in ` +
        `the worker (${error.message}). Pass the values it needs as arguments`,
      { cause: error },
    );
  }
  if (!(error instanceof ReferenceError)) return error;
  const match = /^(\S+) is not defined$/.exec(error.message);
  const identifier = match?.[1];
  if (identifier === undefined) return error;
  const escaped = identifier.replace(/[$]/g, '\\$');
  if (!new RegExp(`(?<![\\p{L}\\p{N}_$])${escaped}(?![\\p{L}\\p{N}_$])`, 'u').test(callable.wire.source)) return error;
  return new WorkerCallableError(
    `functions run in a worker must be self-contained: ${callable.label} uses \`${identifier}\`, which is not ` +
      'defined in the worker (it is probably a variable, import or helper from the scope the function was written ' +
      'in). Pass values as arguments, load modules inside the function with `await import()` or `require()`, or ' +
      'put the function in a module file and send workerFunction(module, exportName)',
    { cause: error },
  );
}

/**
 * Builds the `TypeError` thrown at submit time for an argument that cannot be
 * copied. `probe` copies one value the way the pool will (throws if it cannot).
 * @internal
 */
export function argumentError(
  args: readonly unknown[],
  cause: unknown,
  label: string,
  probe: (value: unknown) => void,
): TypeError {
  const hint =
    'arguments are copied with the structured clone algorithm: primitives, plain objects, arrays, Map, Set, ' +
    'Date, RegExp, Error, ArrayBuffer and typed arrays can be sent; functions, symbols, WeakMap/WeakSet, ' +
    'Promise and class instances with private state cannot (a class instance arrives as a plain object without ' +
    'its prototype or methods)';
  for (let index = 0; index < args.length; index++) {
    try {
      probe(args[index]);
    } catch (error) {
      return new TypeError(
        `argument ${index} of ${label} cannot be sent to a worker: ${messageOf(error)}; ${hint}`,
        { cause: error },
      );
    }
  }
  return new TypeError(`the arguments of ${label} cannot be sent to a worker: ${messageOf(cause)}; ${hint}`, {
    cause,
  });
}

/** The message of an error, or the value as a string. @internal */
export function messageOf(error: unknown): string {
  let message: string;
  if (error instanceof Error) {
    message = error.message;
  } else {
    try {
      message = String(error);
    } catch {
      message = Object.prototype.toString.call(error);
    }
  }
  return message.replace(/\.$/, '');
}

// ---------------------------------------------------------------------------
// The pool

/** What a worker reports for a finished job. @internal */
export type JobReply =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: EncodedThrown }
  /** The result could not be copied back; `error` is the copy failure. */
  | { readonly ok: false; readonly unsendable: EncodedThrown };

/** How a worker left. @internal */
export interface WorkerExit {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** An uncaught error or a start-up failure, if that is why it left. */
  readonly error?: unknown;
}

/** One queued or running job. @internal */
export interface PoolJob<Payload> {
  readonly id: number;
  readonly callable: PreparedCallable;
  /** The arguments, already copied at submit time. */
  readonly payload: Payload;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
}

/** The callbacks a worker handle reports through. @internal */
export interface PoolWorkerEvents {
  /** The running job finished. */
  settled(reply: JobReply): void;
  /** The worker is gone; called once (later calls are ignored). */
  exited(exit: WorkerExit): void;
}

/** One worker, as a concrete pool drives it. @internal */
export interface PoolWorkerHandle<Payload> {
  /** Starts `job` on this idle worker. */
  run(job: PoolJob<Payload>): void;
  /** Makes the worker keep the Node process alive (true while a job runs) or not. */
  setRef(ref: boolean): void;
  /** Ends the worker; `exited` follows. */
  terminate(): void;
}

interface Slot<Payload> {
  readonly name: string;
  handle: PoolWorkerHandle<Payload> | undefined;
  job: PoolJob<Payload> | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  terminating: boolean;
  gone: boolean;
  goneWaiters: (() => void)[];
}

let nextJobId = 1;

/**
 * A pool of reusable workers with a FIFO queue, shared by the thread and
 * process pools. Workers are started lazily, one per queued job, up to
 * `maxWorkers`; idle workers do not keep the Node process alive. The base of
 * {@link ThreadPoolExecutor} and {@link ProcessPoolExecutor}.
 */
export abstract class WorkerPoolExecutor<Payload> implements Executor {
  /** The most workers this pool runs at once. */
  readonly maxWorkers: number;
  /** The pool's name, used in worker names and error messages. */
  readonly name: string;
  readonly #idleTimeoutMs: number;
  readonly #slots = new Set<Slot<Payload>>();
  #queue: PoolJob<Payload>[] = [];
  #workerCounter = 0;
  #shutdown = false;
  #drainWaiters: (() => void)[] = [];

  protected constructor(maxWorkers: number, idleTimeoutMs: number, name: string) {
    this.maxWorkers = maxWorkers;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.name = name;
  }

  /** The number of live workers (started, not yet exited). */
  get workerCount(): number {
    return this.#slots.size;
  }

  /** The number of jobs waiting for a free worker. */
  get queuedCount(): number {
    return this.#queue.length;
  }

  /** Whether `shutdown()` or `terminate()` was called. */
  get isShutdown(): boolean {
    return this.#shutdown;
  }

  /** @internal Copies the arguments at submit time; throws a `TypeError` naming the bad argument. */
  protected abstract encodeArgs(args: readonly unknown[], callable: PreparedCallable): Payload;
  /** @internal Releases a payload whose job will never run. */
  protected abstract disposePayload(payload: Payload): void;
  /** @internal Starts a worker. */
  protected abstract startWorker(name: string, events: PoolWorkerEvents): PoolWorkerHandle<Payload>;

  /** {@inheritDoc Executor.submit} */
  submit(fn: WorkerCallable, args: readonly unknown[], options?: SubmitOptions): Promise<unknown> {
    if (this.#shutdown) throw new ExecutorShutdownError();
    const callable = prepareCallable(fn);
    if (!Array.isArray(args)) {
      throw new TypeError(`submit(): args must be an array, got ${args === null ? 'null' : typeof args}`);
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const payload = this.encodeArgs(args, callable);
    return new Promise<unknown>((resolve, reject) => {
      let job: PoolJob<Payload>;
      const onAbort =
        signal === undefined
          ? undefined
          : () => {
              const index = this.#queue.indexOf(job);
              if (index < 0) return; // already running: runs to completion
              this.#queue.splice(index, 1);
              this.disposePayload(job.payload);
              reject(signal.reason);
              this.#checkDrained();
            };
      job = { id: nextJobId++, callable, payload, resolve, reject, signal, onAbort };
      if (onAbort !== undefined) signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(job);
      this.#pump();
    });
  }

  /** {@inheritDoc Executor.shutdown} */
  async shutdown(wait = true): Promise<void> {
    this.#shutdown = true;
    if (!wait) this.#cancelQueued('cancelled by shutdown(false) before it started');
    // Idle workers end now; busy ones end when their job finished (#settled).
    const idleGone: Promise<void>[] = [];
    for (const slot of this.#slots) {
      if (slot.job !== undefined) continue;
      idleGone.push(this.#whenGone(slot));
      this.#terminate(slot);
    }
    if (wait) {
      await new Promise<void>((resolve) => {
        this.#drainWaiters.push(resolve);
        this.#checkDrained();
      });
    } else {
      await Promise.all(idleGone);
    }
  }

  /**
   * Stops at once: cancels queued jobs, ends every worker including busy ones
   * (their jobs reject with {@link ExecutorShutdownError}) and resolves when
   * all workers exited. Use it when a job may never finish.
   */
  async terminate(): Promise<void> {
    this.#shutdown = true;
    this.#cancelQueued('cancelled by terminate() before it started');
    const gone: Promise<void>[] = [];
    for (const slot of this.#slots) {
      gone.push(this.#whenGone(slot));
      this.#terminate(slot);
    }
    await Promise.all(gone);
  }

  /** Same as `shutdown(true)`, for `await using executor = new ThreadPoolExecutor()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown(true);
  }

  #cancelQueued(reason: string): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const job of queue) {
      this.#detachSignal(job);
      this.disposePayload(job.payload);
      job.reject(new ExecutorShutdownError(`${job.callable.label} was ${reason}`));
    }
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let slot: Slot<Payload> | undefined;
      for (const candidate of this.#slots) {
        if (candidate.job === undefined && !candidate.terminating && candidate.handle !== undefined) {
          slot = candidate;
          break;
        }
      }
      if (slot === undefined) {
        if (this.#slots.size >= this.maxWorkers) return;
        slot = this.#spawn();
        if (slot === undefined) continue; // start failed; the job was rejected
      }
      const job = this.#queue.shift();
      if (job === undefined) return;
      this.#assign(slot, job);
    }
  }

  #spawn(): Slot<Payload> | undefined {
    const slot: Slot<Payload> = {
      name: `${this.name}_${this.#workerCounter++}`,
      handle: undefined,
      job: undefined,
      idleTimer: undefined,
      terminating: false,
      gone: false,
      goneWaiters: [],
    };
    this.#slots.add(slot);
    try {
      slot.handle = this.startWorker(slot.name, {
        settled: (reply) => this.#settled(slot, reply),
        exited: (exit) => this.#exited(slot, exit),
      });
      return slot;
    } catch (error) {
      this.#slots.delete(slot);
      slot.gone = true;
      const job = this.#queue.shift();
      if (job !== undefined) {
        this.#detachSignal(job);
        this.disposePayload(job.payload);
        job.reject(
          new WorkerCrashedError(`${this.name} could not start a worker: ${messageOf(error)}`, null, null, {
            cause: error,
          }),
        );
      }
      this.#checkDrained();
      return undefined;
    }
  }

  #assign(slot: Slot<Payload>, job: PoolJob<Payload>): void {
    this.#detachSignal(job);
    if (slot.idleTimer !== undefined) {
      clearTimeout(slot.idleTimer);
      slot.idleTimer = undefined;
    }
    slot.job = job;
    const handle = slot.handle;
    try {
      if (handle === undefined) throw new Error('worker is not running');
      handle.setRef(true);
      handle.run(job);
    } catch (error) {
      // The worker cannot take work (it is exiting); fail this job and drop the worker.
      slot.job = undefined;
      this.disposePayload(job.payload);
      job.reject(new WorkerCrashedError(`${slot.name} could not run ${job.callable.label}: ${messageOf(error)}`, null, null, { cause: error }));
      this.#terminate(slot);
    }
  }

  #settled(slot: Slot<Payload>, reply: JobReply): void {
    const job = slot.job;
    if (job === undefined || slot.gone) return;
    slot.job = undefined;
    if (reply.ok) {
      job.resolve(reply.value);
    } else if ('unsendable' in reply) {
      const cause = decodeThrown(reply.unsendable);
      job.reject(
        new TypeError(
          `the result of ${job.callable.label} cannot be sent back from the worker: ${messageOf(cause)}; results ` +
            'are copied with the structured clone algorithm, so return plain data (primitives, plain objects, ' +
            'arrays, Map, Set, Date, RegExp, Error, ArrayBuffer, typed arrays), not functions, symbols or objects ' +
            'that hold native resources',
          { cause },
        ),
      );
    } else {
      job.reject(explainThrown(decodeThrown(reply.error), job.callable));
    }
    const next = this.#queue.shift();
    if (next !== undefined) {
      this.#assign(slot, next);
      return;
    }
    slot.handle?.setRef(false);
    if (this.#shutdown) {
      this.#terminate(slot);
    } else if (Number.isFinite(this.#idleTimeoutMs)) {
      slot.idleTimer = setTimeout(() => {
        slot.idleTimer = undefined;
        if (slot.job === undefined) this.#terminate(slot);
      }, this.#idleTimeoutMs);
      slot.idleTimer.unref();
    }
  }

  #exited(slot: Slot<Payload>, exit: WorkerExit): void {
    if (slot.gone) return;
    slot.gone = true;
    this.#slots.delete(slot);
    for (const resolve of slot.goneWaiters.splice(0)) resolve();
    if (slot.idleTimer !== undefined) clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    const job = slot.job;
    slot.job = undefined;
    if (job !== undefined) {
      this.disposePayload(job.payload);
      if (slot.terminating) {
        job.reject(new ExecutorShutdownError(`${job.callable.label} was stopped by terminate() while it was running`));
      } else {
        job.reject(crashError(slot.name, job.callable.label, exit));
      }
    } else if (!slot.terminating && exit.error !== undefined) {
      process.emitWarning(
        `${slot.name} crashed while idle (an error left behind by an earlier job?): ${messageOf(exit.error)}`,
        { type: 'WorkerCrashWarning' },
      );
    }
    this.#pump();
    this.#checkDrained();
  }

  #terminate(slot: Slot<Payload>): void {
    if (slot.terminating || slot.gone) return;
    slot.terminating = true;
    if (slot.idleTimer !== undefined) clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    slot.handle?.terminate();
  }

  #whenGone(slot: Slot<Payload>): Promise<void> {
    if (slot.gone) return Promise.resolve();
    return new Promise<void>((resolve) => slot.goneWaiters.push(resolve));
  }

  #detachSignal(job: PoolJob<Payload>): void {
    if (job.onAbort !== undefined) job.signal?.removeEventListener('abort', job.onAbort);
  }

  #checkDrained(): void {
    if (!this.#shutdown || this.#queue.length > 0 || this.#slots.size > 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function crashError(workerName: string, label: string, exit: WorkerExit): WorkerCrashedError {
  let how: string;
  let hint = '';
  if (exit.error !== undefined) {
    how = `crashed with an uncaught exception (${messageOf(exit.error)})`;
    hint = ' (an error thrown in a callback or an unhandled rejection the function left behind)';
  } else if (exit.signal !== null) {
    how = `was killed by ${exit.signal}`;
  } else {
    how = `exited with code ${String(exit.exitCode)}`;
    hint = ' (did the function call process.exit()?)';
  }
  return new WorkerCrashedError(
    `worker ${workerName} ${how} while running ${label}${hint}; the job was lost and the worker will be replaced`,
    exit.exitCode,
    exit.signal,
    exit.error === undefined ? undefined : { cause: exit.error },
  );
}
