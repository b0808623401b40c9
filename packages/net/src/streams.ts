/**
 * asyncio's high-level stream functions: `open_connection`, `start_server`,
 * `open_unix_connection`, `start_unix_server`. Each runs on the running loop
 * and wraps the matching loop method with core's StreamReader,
 * StreamReaderProtocol and StreamWriter.
 */
import {
  DEFAULT_LIMIT,
  RuntimeError,
  StreamReader,
  StreamReaderProtocol,
  StreamWriter,
  describeValue,
  type ClientConnectedCallback,
  type EventLoop,
  type StreamTransport,
  type Task,
  type TlsTransport,
} from '@aioloop/core';
import { runningLoopOrNull } from '@aioloop/core/internal';
import type { PortLike, SockAddr } from './dns.js';
import { createServer, type CreateServerOptions, type Server, type ServerSockLike } from './server.js';
import { createConnection, type CreateConnectionOptions } from './tcp.js';
import { createUnixConnection, createUnixServer, type CreateUnixConnectionOptions, type CreateUnixServerOptions } from './unix.js';
import { renameCall } from './socket-transport.js';

/** The option every stream function adds to its loop method's: the StreamReader's buffer limit. */
export interface StreamLimitOption {
  /** The StreamReader's buffer limit in bytes (default 64 KiB): the longest line `readline()` returns; reading pauses past twice it. */
  limit?: number;
}

/** Options of {@link openConnection}: `createConnection`'s (`ssl`, `family`, `localAddr`, `happyEyeballsDelay`, `sock`, ...) plus `limit`. */
export interface OpenConnectionOptions extends CreateConnectionOptions, StreamLimitOption {}
/** Options of {@link startServer}: `createServer`'s (`ssl`, `backlog`, `family`, `reusePort`, `sock`, ...) plus `limit`. */
export interface StartServerOptions extends CreateServerOptions, StreamLimitOption {}
/** Options of {@link openUnixConnection}: `createUnixConnection`'s (`ssl`, `serverHostname`, `sock`, ...) plus `limit`. */
export interface OpenUnixConnectionOptions extends CreateUnixConnectionOptions, StreamLimitOption {}
/** Options of {@link startUnixServer}: `createUnixServer`'s (`ssl`, `backlog`, `cleanupSocket`, `sock`, ...) plus `limit`. */
export interface StartUnixServerOptions extends CreateUnixServerOptions, StreamLimitOption {}

/** The running loop, or a RuntimeError naming `method` (asyncio's `get_running_loop()` first). */
function runningLoop(method: string): EventLoop {
  const loop = runningLoopOrNull();
  if (loop === null) {
    throw new RuntimeError(`${method}(): no running event loop; call it inside a task (loop.runUntilComplete(async () => { await ${method}(...) }))`);
  }
  return loop;
}

/** Splits `limit` off the options and checks it; the rest goes to the loop method, which checks its own keys. */
function splitLimit<O extends StreamLimitOption>(options: O | undefined, method: string): [number, Omit<O, 'limit'>] {
  if (options === undefined) return [DEFAULT_LIMIT, {} as Omit<O, 'limit'>];
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${method}(): options must be an object such as { limit: 65536 }, got ${describeValue(options)}`);
  }
  const { limit = DEFAULT_LIMIT, ...rest } = options;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0) {
    throw new RangeError(`${method}(): limit must be a whole number of bytes > 0, got ${describeValue(limit)}`);
  }
  return [limit, rest];
}

function checkCallback(callback: unknown, method: string): void {
  if (typeof callback !== 'function') {
    throw new TypeError(
      `${method}(): clientConnectedCb must be a function (reader, writer) => ..., sync or async (e.g. async (reader, writer) => { ... }), got ${describeValue(callback)}`,
    );
  }
}

/** Calls the loop method `inner` for the public `outer`, naming `outer` in its argument errors. */
function call<T>(inner: string, outer: string, start: () => Task<T>): Task<T> {
  try {
    return start();
  } catch (error) {
    throw renameCall(error, inner, outer);
  }
}

/**
 * The task `outer` returns: awaits the loop method's task and maps its result.
 * Cancelled before it took the result, it cancels that task or `discard`s what it produced.
 */
function follow<T, R>(loop: EventLoop, inner: Task<T>, innerName: string, outer: string, map: (value: T) => R, discard: (value: T) => void): Task<R> {
  let adopted = false;
  const task = loop.createTask(async () => {
    let value: T;
    try {
      value = await inner;
    } catch (error) {
      throw renameCall(error, innerName, outer);
    }
    adopted = true;
    return map(value);
  }, { name: outer });
  task.addDoneCallback(() => {
    if (adopted) return;
    if (!inner.done()) inner.cancel();
    else if (!inner.cancelled() && inner.exception() === null) discard(inner.result());
  });
  return task;
}

function clientStreams(
  loop: EventLoop,
  method: string,
  inner: string,
  limit: number,
  connect: (factory: () => StreamReaderProtocol) => Task<[StreamTransport | TlsTransport, StreamReaderProtocol]>,
): Task<[StreamReader, StreamWriter]> {
  const reader = new StreamReader({ loop, limit });
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const connecting = call(inner, method, () => connect(() => protocol));
  return follow(
    loop,
    connecting,
    inner,
    method,
    ([transport]) => [reader, new StreamWriter(transport, protocol, reader, loop)],
    ([transport]) => transport.close(),
  );
}

/**
 * asyncio's `open_connection(host, port, *, limit, **kwds)`: connects as
 * `loop.createConnection()` does (every option of it, `ssl` included) and
 * resolves to `[reader, writer]`, a {@link StreamReader} and a
 * {@link StreamWriter}. Runs on the running loop; invalid arguments throw at
 * once; cancelling the task stops the connect or closes the connection.
 */
export function openConnection(host?: string | null, port?: PortLike, options?: OpenConnectionOptions): Task<[StreamReader, StreamWriter]> {
  const method = 'openConnection';
  const [limit, rest] = splitLimit(options, method);
  const loop = runningLoop(method);
  return clientStreams(loop, method, 'createConnection', limit, (factory) => createConnection(loop, factory, host, port, rest));
}

/**
 * asyncio's `open_unix_connection(path, *, limit, **kwds)`: as
 * {@link openConnection} over a Unix socket (`loop.createUnixConnection()`).
 */
export function openUnixConnection(path?: string | null, options?: OpenUnixConnectionOptions): Task<[StreamReader, StreamWriter]> {
  const method = 'openUnixConnection';
  const [limit, rest] = splitLimit(options, method);
  const loop = runningLoop(method);
  return clientStreams(loop, method, 'createUnixConnection', limit, (factory) => createUnixConnection(loop, factory, path, rest));
}

function serverFactory(loop: EventLoop, clientConnectedCb: ClientConnectedCallback, limit: number): () => StreamReaderProtocol {
  return () => new StreamReaderProtocol(new StreamReader({ loop, limit }), clientConnectedCb, loop);
}

/**
 * asyncio's `start_server(client_connected_cb, host, port, *, limit, **kwds)`:
 * a server as `loop.createServer()` makes it (every option of it, `ssl`
 * included) that calls `clientConnectedCb(reader, writer)` for each
 * connection. An async callback runs as a task of its own; if it throws, the
 * loop's exception handler gets "Unhandled exception in client_connected_cb"
 * and the connection is closed. Resolves to the {@link Server}.
 */
export function startServer(
  clientConnectedCb: ClientConnectedCallback,
  host: null | undefined,
  port: null | undefined,
  options: StartServerOptions & { sock: ServerSockLike },
): Task<Server<SockAddr | string>>;
export function startServer(
  clientConnectedCb: ClientConnectedCallback,
  host?: string | readonly string[] | null,
  port?: PortLike,
  options?: StartServerOptions & { sock?: null },
): Task<Server<SockAddr>>;
export function startServer(
  clientConnectedCb: ClientConnectedCallback,
  host?: string | readonly string[] | null,
  port?: PortLike,
  options?: StartServerOptions,
): Task<Server<SockAddr | string>>;
export function startServer(
  clientConnectedCb: ClientConnectedCallback,
  host?: string | readonly string[] | null,
  port?: PortLike,
  options?: StartServerOptions,
): Task<Server<SockAddr | string>> {
  const method = 'startServer';
  checkCallback(clientConnectedCb, method);
  const [limit, rest] = splitLimit(options, method);
  const loop = runningLoop(method);
  const creating = call('createServer', method, () => createServer(loop, serverFactory(loop, clientConnectedCb, limit), host, port, rest));
  // createServer's overloads type a server made from `sock` as SockAddr | string; startServer's callers pass host/port.
  return follow(loop, creating, 'createServer', method, (server) => server, (server) => server.close());
}

/**
 * asyncio's `start_unix_server(client_connected_cb, path, *, limit, **kwds)`:
 * as {@link startServer} on a Unix socket (`loop.createUnixServer()`).
 */
export function startUnixServer(clientConnectedCb: ClientConnectedCallback, path?: string | null, options?: StartUnixServerOptions): Task<Server<string>> {
  const method = 'startUnixServer';
  checkCallback(clientConnectedCb, method);
  const [limit, rest] = splitLimit(options, method);
  const loop = runningLoop(method);
  const creating = call('createUnixServer', method, () => createUnixServer(loop, serverFactory(loop, clientConnectedCb, limit), path, rest));
  return follow(loop, creating, 'createUnixServer', method, (server) => server, (server) => server.close());
}
