/**
 * @aioloop/core/internal — what aioloop's own packages (net, subprocess, signals,
 * policy, testing, and the transports that join them) need from core beyond its
 * public API, in the manner of Tokio's `pub(crate)` or a uvloop `.pxd`.
 *
 * Not covered by semver: these functions may change in any release, together
 * with the aioloop packages that call them (they are released in lockstep).
 * Applications and third-party packages use `@aioloop/core` instead.
 */
import type { EventLoop } from './loop/event-loop.js';
import type { LoopResource } from './loop/resources.js';
import type { Handle, LoopCallback } from './loop/handles.js';
import type { Future } from './futures/future.js';
import type { Task } from './futures/task.js';
import type { StreamTransportBase, TransportServer } from './transports/stream/base.js';
import type { StreamTransport } from './transports/stream/stream-transport.js';
import { PROTOCOL_PAUSED } from './transports/flow-control.js';
import { connectionClosedError } from './transports/stream/base.js';
export { connectionClosedError };
import { RuntimeError } from './errors.js';

export { onLoopClose } from './loop/event-loop.js';
export { parkedTlsErrorListener } from './transports/stream/tls-transport.js';
export { runningLoopOrNull } from './loop/thread-state.js';
export { setSocketErrorProbe, type SocketErrorProbe } from './transports/stream/stream-transport.js';
/** The fd under a Node socket, server or pipe stream, or -1 (Node-private `_handle.fd`, read in one place). */
export { fileno } from './transports/stream/node-private.js';

/**
 * `loop.callSoon(callback, ...args)` without the public checks (closed loop,
 * callback type): for the library's own callbacks on a loop known to be open.
 */
export function callSoonUnchecked(loop: EventLoop, callback: LoopCallback, args?: readonly unknown[]): Handle {
  return loop._callSoon(callback, args);
}

/** Throws asyncio's "Event loop is closed" RuntimeError if `loop` is closed. */
export function checkClosed(loop: EventLoop): void {
  loop._checkClosed();
}

/** The tasks of `loop` that are not done, held by the loop (do not modify). */
export function pendingTasks(loop: EventLoop): ReadonlySet<Task<unknown>> {
  return loop._steps.tasks;
}

/** The future `task` is suspended on, or null (not started, running, or awaiting a foreign promise). */
export function awaitedFuture(task: Task<unknown>): Future<unknown> | null {
  return task._futWaiter;
}

/** The deadline (loop time) of `loop`'s earliest live timer, or Infinity if it has none. */
export function nextTimerDeadline(loop: EventLoop): number {
  return loop._nextTimerDeadline();
}

export { RELEASE_ON_LOOP_CLOSE, RESOURCE_KIND, type LoopResource } from './loop/resources.js';

/** `future.setException(exception)` for any value a task or callback may throw (the public call requires an object). */
export function setExceptionUnchecked(future: Future<unknown>, exception: unknown): void {
  future._setException(exception);
}

/**
 * Registers an open transport or server of `loop`: `loop.close()` releases its
 * Node handles so it cannot keep the process alive (and names it in debug mode).
 */
export function trackResource(loop: EventLoop, resource: LoopResource): void {
  loop._resources.add(resource);
}

/** The resource closed: `loop.close()` has nothing to release for it. */
export function untrackResource(loop: EventLoop, resource: LoopResource): void {
  loop._resources.delete(resource);
}

/** Whether `transport`'s protocol is paused for writing (its write buffer passed the high-water mark). */
export function writingPaused(transport: StreamTransportBase): boolean {
  return (transport._state & PROTOCOL_PAUSED) !== 0;
}

/**
 * asyncio's `transport._make_empty_waiter()` for a zero-copy sendfile: a
 * future resolved once the transport's write buffer (Node's `writableLength`)
 * is empty, rejected with a ConnectionError-like error (code ECONNRESET) if the
 * connection is lost first. Until {@link resetEmptyWaiter}, `write()` and
 * `writelines()` raise RuntimeError('unable to write; sendfile is in
 * progress'), as in asyncio. Throws a RuntimeError if one is already set.
 */
export function makeEmptyWaiter(transport: StreamTransport): Future<void> {
  if (transport._emptyWaiter !== null) throw new RuntimeError('Empty waiter is already set');
  const waiter = transport._loop.createFuture<void>();
  transport._emptyWaiter = waiter;
  if (transport._lostScheduled) waiter.setException(connectionClosedError());
  else if (transport._bufferSize() === 0) waiter.setResult(undefined);
  return waiter;
}

/** asyncio's `transport._reset_empty_waiter()`: writes are accepted again. */
export function resetEmptyWaiter(transport: StreamTransport): void {
  transport._emptyWaiter = null;
}

/** What {@link takeOverStream} hands to the new owner of a transport's socket. */
export interface StreamTakeover {
  /** Bytes received and not delivered, in order. */
  held: Buffer[];
  /** The server that accepted the connection (no longer told about this transport). */
  server: TransportServer | null;
  /** The extra info the transport was given. */
  extra: Record<string, unknown> | null;
}

/**
 * startTls: takes the socket of a (paused) socket transport away from it — its
 * undelivered bytes, its server, its listeners on the stream — so another
 * transport can own the connection. The old transport is not closed and never
 * calls its protocol again.
 */
export function takeOverStream(transport: StreamTransport): StreamTakeover {
  const held = transport._pending ?? [];
  transport._pending = null;
  const server = transport._server;
  transport._server = null;
  const stream = transport._stream;
  for (const event of ['data', 'end', 'error', 'close'] as const) stream.removeAllListeners(event);
  return { held, server, extra: transport._extra };
}

export { checkOptionKeys } from './debug/describe.js';
export { checkLoop } from './futures/future.js';
