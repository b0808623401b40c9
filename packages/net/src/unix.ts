/**
 * Unix stream sockets: asyncio's `loop.create_unix_server` and
 * `loop.create_unix_connection` (TCP's `create_connection` is in tcp.ts,
 * `connect_accepted_socket` in socket-transport.ts).
 */
import { checkLoop } from '@aioloop/core/internal';
import fs from 'node:fs';
import net from 'node:net';
import { BufferedReadBinding, wrapFuture, type AnyProtocolLike, type EventLoop, type StreamTransport, type Task, type TlsTransport } from '@aioloop/core';
import { describeValue } from '@aioloop/core';
import { awaitOrClose } from './await-or-close.js';
import { AF_UNIX, pythonRepr } from './dns.js';
import { checkFactory, type ProtocolFactory } from './protocol-factory.js';
import { checkServerOptions, closeListener, listen, Server, startNewServer } from './server.js';
import { checkConnectedSocket, checkOptionKeys, makeClientTransport } from './socket-transport.js';
import { abstractListener, connectAbstract, listenOptionsFor, nodeSocketFor, useNativeAbstract } from './native/handover.js';
import { Socket } from './native/socket.js';
import { clientTls, type ClientTlsOptions, type SslOption, type WithSsl, type WithoutSsl } from './tls/context.js';
import { makeTlsConnection } from './tls/connection.js';

/** Options of {@link createUnixServer} (asyncio's `create_unix_server` keywords). */
export interface CreateUnixServerOptions {
  /** An existing Unix server socket instead of `path`: a bound AF_UNIX {@link Socket} (the server owns it) or a listening Unix net.Server. */
  sock?: Socket | net.Server | null;
  /** The listen() backlog (default 100). */
  backlog?: number;
  /** Serve TLS with this context (a `tls.SecureContext` or secure-context options with `cert` and `key`). */
  ssl?: SslOption | null | false;
  /** TLS only (throws without `ssl`): seconds a handshake may take (default 60). */
  sslHandshakeTimeout?: number | null;
  /** TLS only (throws without `ssl`): seconds close() waits for the peer's close_notify (default 30). */
  sslShutdownTimeout?: number | null;
  /** Start accepting at once (default true). */
  startServing?: boolean;
  /** Remove the socket file when the server closes (default true, Python 3.13). */
  cleanupSocket?: boolean;
}

/** Options of {@link createUnixConnection}. */
export interface CreateUnixConnectionOptions extends ClientTlsOptions {
  /** An already-connected Unix socket instead of `path`: a {@link Socket} (the transport owns it) or a `net.Socket`. */
  sock?: net.Socket | Socket | null;
}

function isAbstract(path: string): boolean {
  return path.startsWith('\0');
}

function checkPath(path: unknown, method: string): string {
  if (typeof path === 'string' && path.length > 0) return path;
  if (Buffer.isBuffer(path) && path.length > 0) return path.toString('latin1');
  throw new TypeError(`${method}(): path must be a non-empty string (a filesystem path, or '\\0name' for a Linux abstract socket), got ${describeValue(path)}`);
}

function addressInUse(path: string, detail: string): Error {
  const error = new Error(`Address ${pythonRepr(path)} is already in use${detail}`) as NodeJS.ErrnoException;
  error.code = 'EADDRINUSE';
  error.errno = -98;
  error.syscall = 'bind';
  return error;
}

/**
 * asyncio's `loop.create_unix_server(protocol_factory, path, ...)`. An existing
 * socket file at `path` (a stale one from a previous run) is removed first; a
 * path that exists and is not a socket is never touched: the call fails with
 * EADDRINUSE. A path starting with NUL is a Linux abstract name (no file).
 * With `cleanupSocket` (default) the file is removed when the server closes.
 */
export function createUnixServer(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<AnyProtocolLike>,
  path: string | null | undefined,
  options: CreateUnixServerOptions = {},
): Task<Server<string>> {
  checkLoop(loop, 'createUnixServer()');
  const method = 'createUnixServer';
  checkFactory(protocolFactory, method);
  const { backlog, tls } = checkServerOptions(options, method);
  checkOptionKeys(options, method, ['sock', 'backlog', 'ssl', 'sslHandshakeTimeout', 'sslShutdownTimeout', 'startServing', 'cleanupSocket']);
  const cleanupSocket = options.cleanupSocket ?? true;
  if (typeof cleanupSocket !== 'boolean') throw new TypeError(`${method}(): cleanupSocket must be a boolean, got ${describeValue(cleanupSocket)}`);
  const sock = options.sock ?? null;
  if (sock !== null && path !== null && path !== undefined) throw new TypeError(`${method}(): path and sock can not be specified at the same time`);
  const startServing = options.startServing ?? true;
  let checkedPath: string | null = null;
  if (sock === null) {
    checkedPath = checkPath(path, method);
    if (!isAbstract(checkedPath)) {
      let stat: fs.Stats | undefined;
      try {
        stat = fs.lstatSync(checkedPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      if (stat !== undefined) {
        if (!stat.isSocket()) throw addressInUse(checkedPath, ' by a file that is not a socket (left untouched)');
        fs.unlinkSync(checkedPath); // a stale socket file, as asyncio removes it
      }
    }
  } else if (sock instanceof Socket) {
    if (sock.family !== AF_UNIX) throw new TypeError(`${method}(): sock must be an AF_UNIX socket, got ${String(sock)}`);
  } else if (!(sock instanceof net.Server)) {
    throw new TypeError(`${method}(): sock must be a bound AF_UNIX Socket or a listening net.Server (a Unix server socket), got ${describeValue(sock)}`);
  }

  return loop.createTask(async () => {
    let listener: net.Server;
    let boundPath: string;
    if (sock instanceof net.Server) {
      if (!sock.listening) throw new TypeError(`${method}(): the net.Server given as sock must already be listening`);
      const address = sock.address();
      if (typeof address !== 'string') throw new TypeError(`${method}(): sock must be a Unix server socket (it listens on ${describeValue(address)})`);
      listener = sock;
      boundPath = address;
    } else if (sock instanceof Socket) {
      boundPath = sock.getsockname() as string;
      listener = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
      await listen(loop, listener, { ...listenOptionsFor(sock, listener, method), backlog });
    } else if (useNativeAbstract(checkedPath as string)) {
      // Node pads abstract names to the whole sun_path: bind the exact name here.
      boundPath = checkedPath as string;
      listener = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
      let fd: number;
      try {
        fd = abstractListener(boundPath, backlog);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw addressInUse(boundPath, '');
        throw error;
      }
      await listen(loop, listener, { fd, backlog } as net.ListenOptions);
    } else {
      boundPath = checkedPath as string;
      listener = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
      try {
        await listen(loop, listener, { path: boundPath, backlog });
      } catch (error) {
        closeListener(listener);
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw addressInUse(boundPath, '');
        throw error;
      }
    }
    const fileBacked = !isAbstract(boundPath);
    const server = new Server<string>(loop, [listener], protocolFactory, { path: boundPath }, tls);
    if (fileBacked && !cleanupSocket) {
      // Node removes the file itself on close; keep it by holding a second link
      // across the close and putting it back.
      const keep = `${boundPath}.aioloop-keep-${process.pid}`;
      const originalClose = listener.close.bind(listener);
      listener.close = ((callback?: (err?: Error) => void): net.Server => {
        let linked = false;
        try {
          fs.linkSync(boundPath, keep);
          linked = true;
        } catch {
          // the file is gone already: nothing to keep
        }
        originalClose(callback);
        if (linked) {
          try {
            fs.renameSync(keep, boundPath);
          } catch {
            fs.rmSync(keep, { force: true });
          }
        }
        return listener;
      }) as typeof listener.close;
    }
    return startNewServer(loop, server, startServing);
  }, { name: 'createUnixServer' });
}

/**
 * asyncio's `loop.create_unix_connection(protocol_factory, path)`: connects
 * to the Unix socket `path` (or wraps `sock`) and resolves to
 * `[transport, protocol]` once `connectionMade` ran. Extra info: `peername`
 * is the path, `sockname` '' (an unnamed client socket), as Python reports.
 */
export function createUnixConnection<P extends AnyProtocolLike>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  path: string | null | undefined,
  options: CreateUnixConnectionOptions & WithSsl,
): Task<[TlsTransport, P]>;
export function createUnixConnection<P extends AnyProtocolLike>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  path: string | null | undefined,
  options?: CreateUnixConnectionOptions & WithoutSsl,
): Task<[StreamTransport, P]>;
export function createUnixConnection<P extends AnyProtocolLike>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  path: string | null | undefined,
  options?: CreateUnixConnectionOptions,
): Task<[StreamTransport | TlsTransport, P]>;
export function createUnixConnection<P extends AnyProtocolLike>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  path: string | null | undefined,
  options: CreateUnixConnectionOptions = {},
): Task<[StreamTransport | TlsTransport, P]> {
  checkLoop(loop, 'createUnixConnection()');
  const method = 'createUnixConnection';
  checkFactory(protocolFactory, method);
  // asyncio has no host here: serverHostname must be given with ssl.
  const tls = clientTls(options, method, null);
  checkOptionKeys(options, method, ['sock', 'ssl', 'serverHostname', 'sslHandshakeTimeout', 'sslShutdownTimeout']);
  const sock = options.sock ?? null;
  if (sock !== null) {
    if (path !== null && path !== undefined) throw new TypeError(`${method}(): path and sock can not be specified at the same time`);
    const checked = sock instanceof Socket ? nodeSocketFor(sock, method) : checkConnectedSocket(sock, method);
    if (tls !== null) return loop.createTask(() => makeTlsConnection(loop, checked, protocolFactory, tls, {}), { name: method });
    return loop.createTask(() => makeClientTransport(loop, checked, protocolFactory, {}, null, method), { name: method });
  }
  const target = checkPath(path, method);
  if (useNativeAbstract(target)) {
    // Node pads abstract names to the whole sun_path: connect to the exact name here.
    return loop.createTask(async () => {
      const { sock: native, connected } = connectAbstract(loop, target);
      await awaitOrClose(connected, native);
      const binding = new BufferedReadBinding();
      return makeClientTransport(loop, nodeSocketFor(native, method, binding.onread), protocolFactory, { peername: target, sockname: '' }, binding, method);
    }, { name: method });
  }
  return loop.createTask(async () => {
    const binding = tls === null ? new BufferedReadBinding() : null;
    const socket = net.connect(binding === null ? { path: target, allowHalfOpen: true } : { path: target, allowHalfOpen: true, onread: binding.onread });
    try {
      await wrapFuture(
        new Promise<void>((resolve, reject) => {
          socket.once('connect', () => {
            socket.off('error', reject);
            resolve();
          });
          socket.once('error', reject);
        }),
        loop,
      );
    } catch (error) {
      socket.destroy();
      throw error;
    }
    if (tls !== null) return makeTlsConnection(loop, socket, protocolFactory, tls, { peername: target, sockname: '' });
    return makeClientTransport(loop, socket, protocolFactory, { peername: target, sockname: '' }, binding, method);
  }, { name: method });
}
