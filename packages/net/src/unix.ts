/**
 * Unix stream sockets: asyncio's `loop.create_unix_server` and
 * `loop.create_unix_connection`, plus `connect_accepted_socket` and
 * `create_connection` (which share the client-side transport building).
 */
import { checkLoop } from '@aioloop/core/internal';
import fs from 'node:fs';
import net from 'node:net';
import {
  BufferedReadBinding,
  wrapFuture,
  type AnyProtocolLike,
  type EventLoop,
  type Future,
  type StreamTransport,
  type Task,
} from '@aioloop/core';
import { describeValue } from '@aioloop/core';
import { connectSocket, type ConnectSocketOptions } from './connect.js';
import { AF_UNIX, pythonRepr, type PortLike } from './dns.js';
import { checkFactory, type ProtocolFactory } from './protocol-factory.js';
import { checkServerOptions, closeListener, listen, Server, startNewServer } from './server.js';
import { checkConnectedSocket, checkOptionKeys, makeClientTransport } from './socket-transport.js';
import { abstractListener, connectAbstract, listenOptionsFor, nodeSocketFor, useNativeAbstract } from './native/handover.js';
import { Socket } from './native/socket.js';
import { checkTlsKeywords, type SslOption } from './tls/context.js';
import { makeTlsConnection, type TlsConnectionSettings } from './tls/connection.js';
import type { TlsTransport } from '@aioloop/core';

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

/** The TLS keywords of the client methods (asyncio's `ssl`, `server_hostname`, `ssl_handshake_timeout`, `ssl_shutdown_timeout`). */
export interface ClientTlsOptions {
  /**
   * TLS: `true` (Node's root certificates, verifying), a `tls.SecureContext`,
   * or secure-context options (`{ ca, cert, key, rejectUnauthorized, ... }`).
   * The certificate chain and host name are verified unless
   * `rejectUnauthorized: false` is given explicitly.
   */
  ssl?: SslOption | null | false;
  /** TLS only: the name the server's certificate must carry (default: `host`); '' turns host-name checking off. */
  serverHostname?: string | null;
  /** TLS only: seconds the handshake may take before the connection is aborted (default 60). */
  sslHandshakeTimeout?: number | null;
  /** TLS only: seconds close() waits for the peer's close_notify (default 30). */
  sslShutdownTimeout?: number | null;
}

/** Options of {@link createUnixConnection}. */
export interface CreateUnixConnectionOptions extends ClientTlsOptions {
  /** An already-connected Unix socket instead of `path`: a {@link Socket} (the transport owns it) or a `net.Socket`. */
  sock?: net.Socket | Socket | null;
}

/** Options of {@link createConnection}: connectSocket's (family, localAddr, happyEyeballsDelay, ...) plus the TLS keywords. */
export interface CreateConnectionOptions extends Omit<ConnectSocketOptions, 'onread' | 'sock'>, ClientTlsOptions {
  /** An already-connected stream socket instead of host/port: a {@link Socket} (the transport owns it) or a `net.Socket`. */
  sock?: net.Socket | Socket | null;
}

/** Options of {@link connectAcceptedSocket}: serve TLS on the accepted socket with `ssl` (server side). */
export interface ConnectAcceptedSocketOptions {
  /** Serve TLS (server side of the handshake) with this context. */
  ssl?: SslOption | null | false;
  /** TLS only: seconds the handshake may take (default 60). */
  sslHandshakeTimeout?: number | null;
  /** TLS only: seconds close() waits for the peer's close_notify (default 30). */
  sslShutdownTimeout?: number | null;
}

/** `ssl` given (a TLS transport results). */
type WithSsl = { ssl: SslOption };
/** No `ssl` (a plain stream transport results). */
type WithoutSsl = { ssl?: null | false };

/** The client TLS settings of a call, or null for plain; `host` is the default server name, as asyncio. */
function clientTls(options: unknown, method: string, host: string | null): TlsConnectionSettings | null {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${method}(): options must be an object, got ${describeValue(options)}`);
  }
  const keywords = checkTlsKeywords(options as Record<string, unknown>, method, 'client');
  if (keywords.ssl === null) return null;
  let serverHostname = keywords.serverHostname;
  if (serverHostname === null) {
    if (host === null) throw new TypeError(`${method}(): You must set serverHostname when using ssl without a host`);
    serverHostname = host;
  }
  return { ...keywords, ssl: keywords.ssl, serverHostname };
}

/** An argument error of `inner()` (which the user did not call) as one of `outer()`. */
export function renameCall(error: unknown, inner: string, outer: string): unknown {
  if (!(error instanceof TypeError || error instanceof RangeError) || !error.message.startsWith(`${inner}(): `)) return error;
  const Ctor = error instanceof TypeError ? TypeError : RangeError;
  return new Ctor(`${outer}(): ${error.message.slice(inner.length + 4)}`);
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
      try {
        await connected;
      } catch (error) {
        native.close();
        throw error;
      }
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

/**
 * asyncio's `loop.create_connection(protocol_factory, host, port, ...)`:
 * connects with `connectSocket` (every address, Happy Eyeballs with
 * `happyEyeballsDelay`, `localAddr`, `family`, `allErrors`, or an existing
 * `sock`) and resolves to `[transport, protocol]` once `connectionMade` ran.
 * The socket is created with Node's `onread` so that a BufferedProtocol
 * receives straight into its own buffer; a plain Protocol gets a copy per read.
 */
export function createConnection<P extends AnyProtocolLike>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  host: string | null | undefined,
  port: PortLike,
  options: CreateConnectionOptions & WithSsl,
): Task<[TlsTransport, P]>;
export function createConnection<P extends AnyProtocolLike>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  host: string | null | undefined,
  port: PortLike,
  options?: CreateConnectionOptions & WithoutSsl,
): Task<[StreamTransport, P]>;
export function createConnection<P extends AnyProtocolLike>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  host: string | null | undefined,
  port: PortLike,
  options?: CreateConnectionOptions,
): Task<[StreamTransport | TlsTransport, P]>;
export function createConnection<P extends AnyProtocolLike>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  host: string | null | undefined,
  port: PortLike,
  options: CreateConnectionOptions = {},
): Task<[StreamTransport | TlsTransport, P]> {
  checkLoop(loop, 'createConnection()');
  const method = 'createConnection';
  checkFactory(protocolFactory, method);
  const tls = clientTls(options, method, typeof host === 'string' && host !== '' ? host : null);
  checkOptionKeys(options, method, [
    'family', 'proto', 'flags', 'localAddr', 'happyEyeballsDelay', 'interleave', 'allErrors', 'sock',
    'ssl', 'serverHostname', 'sslHandshakeTimeout', 'sslShutdownTimeout',
  ]);
  const { ssl: _ssl, serverHostname: _sh, sslHandshakeTimeout: _ht, sslShutdownTimeout: _st, ...connectOptions } = options;
  let given = connectOptions.sock ?? null;
  if (given instanceof Socket) {
    if ((host !== null && host !== undefined) || (port !== null && port !== undefined)) throw new TypeError(`${method}(): host/port and sock can not be specified at the same time`);
    given = nodeSocketFor(given, method);
  }
  // TLS reads through the TLS layer, not into the socket's own buffers.
  const binding = given === null && tls === null ? new BufferedReadBinding() : null;
  let connecting: Future<net.Socket>;
  try {
    connecting = connectSocket(loop, host, port, binding === null ? { ...connectOptions, sock: given } : { ...connectOptions, sock: given, onread: binding.onread });
  } catch (error) {
    throw renameCall(error, 'connectSocket', method);
  }
  let adopted = false;
  const task = loop.createTask(async () => {
    let sock: net.Socket;
    try {
      sock = await connecting;
    } catch (error) {
      connecting.cancel();
      throw error;
    }
    adopted = true;
    if (tls !== null) {
      sock.setNoDelay(true);
      return makeTlsConnection(loop, sock, protocolFactory, tls, {});
    }
    return makeClientTransport(loop, sock, protocolFactory, {}, binding, method);
  }, { name: method });
  // The connect started before the task: a task cancelled before its body ran
  // (or before it took the socket) must still stop the connect or close the socket.
  task.addDoneCallback(() => {
    if (adopted || given !== null) return;
    if (!connecting.done()) connecting.cancel();
    else if (!connecting.cancelled() && connecting.exception() === null) connecting.result().destroy();
  });
  return task;
}

/**
 * asyncio's `loop.connect_accepted_socket(protocol_factory, sock)`: wraps a
 * socket accepted elsewhere (a {@link Socket} from `accept()`/`sockAccept`, which the
 * transport then owns, or a `net.Socket` from a Node server's 'connection' event)
 * and resolves to `[transport, protocol]`.
 */
export function connectAcceptedSocket<P extends AnyProtocolLike>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  sock: net.Socket | Socket,
  options: ConnectAcceptedSocketOptions & WithSsl,
): Task<[TlsTransport, P]>;
export function connectAcceptedSocket<P extends AnyProtocolLike>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  sock: net.Socket | Socket,
  options?: ConnectAcceptedSocketOptions & WithoutSsl,
): Task<[StreamTransport, P]>;
export function connectAcceptedSocket<P extends AnyProtocolLike>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  sock: net.Socket | Socket,
  options?: ConnectAcceptedSocketOptions,
): Task<[StreamTransport | TlsTransport, P]>;
export function connectAcceptedSocket<P extends AnyProtocolLike>(
  loop: EventLoop,
  protocolFactory: ProtocolFactory<P>,
  sock: net.Socket | Socket,
  options: ConnectAcceptedSocketOptions = {},
): Task<[StreamTransport | TlsTransport, P]> {
  checkLoop(loop, 'connectAcceptedSocket()');
  const method = 'connectAcceptedSocket';
  checkFactory(protocolFactory, method);
  if (options === null || typeof options !== 'object') throw new TypeError(`${method}(): options must be an object, got ${describeValue(options)}`);
  const keywords = checkTlsKeywords(options as Record<string, unknown>, method, 'accepted');
  checkOptionKeys(options, method, ['ssl', 'sslHandshakeTimeout', 'sslShutdownTimeout']);
  const checked = sock instanceof Socket ? nodeSocketFor(sock, method) : checkConnectedSocket(sock, method);
  const ssl = keywords.ssl;
  if (ssl === null) return loop.createTask(() => makeClientTransport(loop, checked, protocolFactory, {}, null, method), { name: method });
  const settings = { ...keywords, ssl, serverHostname: null };
  return loop.createTask(() => makeTlsConnection(loop, checked, protocolFactory, settings, {}, true), { name: method });
}
