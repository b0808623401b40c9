/**
 * {@link ThreadPoolExecutor}: Python's `concurrent.futures.ThreadPoolExecutor`
 * on Node's `worker_threads`.
 *
 * @module
 */

import { availableParallelism } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import {
  argumentError,
  checkPoolOptions,
  defaultThreadWorkers,
  WorkerPoolExecutor,
} from './executor.js';
import type { JobReply, PoolJob, PoolWorkerEvents, PoolWorkerHandle } from './executor.js';
import type { PreparedCallable } from './worker-function.js';
import { WORKER_RUNTIME_SOURCE } from './worker-function.js';

/** Options for {@link ThreadPoolExecutor}. */
export interface ThreadPoolExecutorOptions {
  /**
   * The most threads run at once. Default: `Math.min(32, os.availableParallelism() + 4)`,
   * as Python.
   */
  readonly maxWorkers?: number;
  /**
   * A thread that stayed idle this long is ended (a later job starts a new
   * one). Default 60 000 ms; `Infinity` keeps threads until shutdown. Idle
   * threads never keep the Node process alive either way.
   */
  readonly idleTimeoutMs?: number;
  /** Names the threads `<name>_0`, `<name>_1`, ... Default `ThreadPoolExecutor-<n>`. */
  readonly name?: string;
}

/** The worker thread's program. It is plain CommonJS script code run with `eval: true`. */
const THREAD_WORKER_SOURCE = `'use strict';
const { parentPort, receiveMessageOnPort } = require('node:worker_threads');
${WORKER_RUNTIME_SOURCE}
const runtime = __aioloopCreateRuntime((value) => {
  try { structuredClone(value); return true; } catch { return false; }
});
parentPort.on('message', (msg) => {
  const received = receiveMessageOnPort(msg.port);
  msg.port.close();
  const args = received === undefined ? [] : received.message;
  runtime.run(msg.callable, args).then(
    (value) => {
      try {
        parentPort.postMessage({ id: msg.id, ok: true, value });
      } catch (error) {
        parentPort.postMessage({ id: msg.id, ok: false, unsendable: runtime.encodeThrown(error) });
      }
    },
    (error) => parentPort.postMessage({ id: msg.id, ok: false, error: runtime.encodeThrown(error) }),
  );
});
`;

/** The arguments of a job, already posted into a channel whose other end goes to the worker. */
interface ThreadPayload {
  readonly local: MessagePort;
  readonly remote: MessagePort;
}

let poolCounter = 0;

/**
 * Runs functions on a pool of `worker_threads` workers (Python's
 * `ThreadPoolExecutor`, but with real parallelism: each worker is a separate
 * V8 isolate with its own event loop and heap).
 *
 * Functions are sent as described in `docs/executors.md`: a self-contained
 * function (sent as source text) or a `workerFunction(module, exportName)`.
 * Arguments are copied with the structured clone algorithm at `submit()` time
 * (a `SharedArrayBuffer` is shared, not copied); results come back the same way.
 *
 * Threads start lazily, one per queued job up to `maxWorkers`, are reused,
 * and take jobs in FIFO order. An idle thread does not keep the process alive.
 *
 * @example
 * ```ts
 * const pool = new ThreadPoolExecutor({ maxWorkers: 4 });
 * const sum = await pool.submit((n: number) => { let s = 0; for (let i = 0; i < n; i++) s += i; return s; }, [1e8]);
 * await pool.shutdown();
 * ```
 */
export class ThreadPoolExecutor extends WorkerPoolExecutor<ThreadPayload> {
  /** Creates a pool; no thread starts before the first `submit()`. */
  constructor(options: ThreadPoolExecutorOptions = {}) {
    super(...checkPoolOptions(options, 'ThreadPoolExecutor', defaultThreadWorkers(availableParallelism()), () => `ThreadPoolExecutor-${poolCounter++}`));
  }

  /** @internal */
  protected encodeArgs(args: readonly unknown[], callable: PreparedCallable): ThreadPayload {
    // Posting now copies the arguments exactly once, with worker_threads' own
    // serializer, and reports a value that cannot be copied synchronously.
    // The worker reads the message when it receives `remote`.
    const { port1: local, port2: remote } = new MessageChannel();
    try {
      local.postMessage(args);
    } catch (error) {
      local.close();
      throw argumentError(args, error, callable.label, (value) => structuredClone(value));
    }
    local.unref();
    remote.unref();
    return { local, remote };
  }

  /** @internal */
  protected disposePayload(payload: ThreadPayload): void {
    payload.local.close();
  }

  /** @internal */
  protected startWorker(name: string, events: PoolWorkerEvents): PoolWorkerHandle<ThreadPayload> {
    const worker = new Worker(THREAD_WORKER_SOURCE, { eval: true, name });
    let current: PoolJob<ThreadPayload> | undefined;
    let crash: unknown;
    worker.on('message', (reply: JobReply & { id: number }) => {
      const job = current;
      if (job === undefined || reply.id !== job.id) return;
      current = undefined;
      job.payload.local.close();
      events.settled(reply);
    });
    worker.on('messageerror', (error: Error) => {
      const job = current;
      if (job === undefined) return;
      current = undefined;
      job.payload.local.close();
      events.settled({
        ok: false,
        unsendable: { $error: true, name: error.name, message: error.message, stack: error.stack, props: {} },
      });
    });
    worker.on('error', (error: unknown) => {
      crash = error;
    });
    worker.on('exit', (exitCode: number) => {
      current?.payload.local.close();
      current = undefined;
      events.exited(crash === undefined ? { exitCode, signal: null } : { exitCode, signal: null, error: crash });
    });
    worker.unref();
    return {
      run(job) {
        current = job;
        worker.postMessage({ id: job.id, callable: job.callable.wire, port: job.payload.remote }, [job.payload.remote]);
      },
      setRef(ref) {
        if (ref) worker.ref();
        else worker.unref();
      },
      terminate() {
        void worker.terminate();
      },
    };
  }
}
