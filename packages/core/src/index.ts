/**
 * @aioloop/core — Python asyncio's event loop for Node.js: handles and timers,
 * futures and tasks, exception handling, executors, and the transport/protocol
 * interfaces every other aioloop package implements.
 */
export {
  CancelledError,
  IncompleteReadError,
  InvalidStateError,
  LimitOverrunError,
  MissingPackageError,
  RuntimeError,
  SendfileNotAvailableError,
  TimeoutError,
} from './errors.js';
export { EventLoop, type Awaitable, type EventLoopOptions, type ExceptionContext, type ExceptionHandler, type TaskFactory } from './loop/event-loop.js';
export { Handle, TimerHandle, type LoopCallback } from './loop/handles.js';
export { getRunningLoop } from './loop/thread-state.js';
export { EXTENSION_METHODS, installLoopMethods, loopMethodProvider, type LoopMethod } from './loop/extensions.js';
export { LoopBridge, type BridgeCallbacks } from './loop/threadsafe-bridge.js';
export { connectLoopBridge, type RemoteLoop } from './loop/remote-loop.js';
export { Future, createFuture, isFuture, type DoneCallback } from './futures/future.js';
export { Task, allTasks, createTask, currentTask, type TaskFunction, type TaskOptions } from './futures/task.js';
export * from './helpers/index.js';
export * from './executor/index.js';
export * from './transports/index.js';
export * from './streams/index.js';
export { setLogger, type Logger } from './debug/logger.js';
export { describeValue } from './debug/describe.js';
