/**
 * Executors for `loop.runInExecutor()`: run functions on worker threads or in
 * child processes. See `docs/executors.md` for what can be sent to a worker.
 *
 * @module
 */

export {
  ExecutorShutdownError,
  WorkerCrashedError,
  defaultThreadWorkers,
  type Executor,
  type SubmitOptions,
} from './executor.js';
export { ThreadPoolExecutor, type ThreadPoolExecutorOptions } from './thread-pool.js';
export { ProcessPoolExecutor, type ProcessPoolExecutorOptions } from './process-pool.js';
export {
  WorkerCallableError,
  workerFunction,
  type WorkerCallable,
  type WorkerFunctionRef,
} from './worker-function.js';
