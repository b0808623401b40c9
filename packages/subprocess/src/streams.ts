/**
 * asyncio's StreamReader and StreamWriter live in `@aioloop/core` (one class
 * for sockets and child processes); this package re-exports them.
 */
export { CLOSE_WAITER, DEFAULT_LIMIT, DRAIN_HELPER, FlowControl, StreamReader, StreamWriter, connectionResetError, type DrainSource } from '@aioloop/core';

/** Whether `error` is a broken pipe or reset connection (asyncio's BrokenPipeError / ConnectionResetError). */
export function isConnectionLost(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ECONNRESET';
}
