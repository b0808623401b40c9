/**
 * Turning a connected `net.Socket` into an asyncio stream transport: the
 * shared step of createConnection, createUnixConnection and the servers, and
 * asyncio's `loop.connect_accepted_socket`, which is only that step.
 */
import net from 'node:net';
import {
  BufferedReadBinding,
  StreamTransport,
  type AnyProtocolLike,
  type EventLoop,
  type Future,
  type Task,
  type TlsTransport,
  type TransportServer,
} from '@aioloop/core';
import { describeValue } from '@aioloop/core';
import { checkLoop, checkOptionKeys } from '@aioloop/core/internal';

export { checkOptionKeys };
import { checkFactory, type ProtocolFactory } from './protocol-factory.js';
import { nodeSocketFor } from './native/handover.js';
import { Socket } from './native/socket.js';
import { checkTlsKeywords, type SslOption, type WithSsl, type WithoutSsl } from './tls/context.js';
import { makeTlsConnection } from './tls/connection.js';
import { awaitOrClose } from './await-or-close.js';

/** How {@link wrapSocket} builds the transport. */
export interface WrapSocketOptions {
  /** Resolved after `connectionMade` ran. */
  waiter?: Future<void> | null;
  /** The server that accepted the socket. */
  server?: TransportServer | null;
  /** Extra info (overrides what the transport computes: Unix paths go here). */
  extra?: Record<string, unknown>;
  /** The binding the socket was created with (`onread`), for zero-copy BufferedProtocol reads. */
  onread?: BufferedReadBinding | null;
  /** A socket accepted with `pauseOnConnect`: read into the protocol's buffers (see core's `readIntoBuffers`). */
  readIntoBuffers?: boolean;
  /** Whether the socket is TCP (known to a server); asked of the socket when absent. */
  tcp?: boolean;
}

/** An argument error of `inner()` (which the user did not call) as one of `outer()`. */
export function renameCall(error: unknown, inner: string, outer: string): unknown {
  if (!(error instanceof TypeError || error instanceof RangeError) || !error.message.startsWith(`${inner}(): `)) return error;
  const Ctor = error instanceof TypeError ? TypeError : RangeError;
  return new Ctor(`${outer}(): ${error.message.slice(inner.length + 4)}`);
}

/**
 * Throws unless `port` is what asyncio accepts for a port: an integer
 * 0-65535, a service name, or null/undefined (none).
 */
export function checkPortArg(port: unknown, method: string): void {
  if (port === null || port === undefined) return;
  if (typeof port === 'number') {
    if (Number.isInteger(port) && port >= 0 && port <= 65535) return;
    throw new RangeError(`${method}(): port must be an integer 0-65535 or a service name, got ${describeValue(port)}`);
  }
  if (typeof port === 'string' && port !== '') return;
  throw new TypeError(`${method}(): port must be an integer 0-65535, a service name string or null, got ${describeValue(port)}`);
}

/** Throws unless `sock` is a connected, live `net.Socket`. */
export function checkConnectedSocket(sock: unknown, method: string): net.Socket {
  if (!(sock instanceof net.Socket)) {
    throw new TypeError(`${method}(): sock must be a connected net.Socket (a SOCK_STREAM socket), got ${describeValue(sock)}`);
  }
  if (sock.destroyed || sock.errored) throw new TypeError(`${method}(): sock is already closed (destroyed)`);
  if (sock.connecting || sock.pending) throw new TypeError(`${method}(): sock is not connected yet`);
  return sock;
}

/** Whether `sock` is a TCP socket (not a Unix socket). */
export function isTcpSocket(sock: net.Socket): boolean {
  return sock.remoteFamily === 'IPv4' || sock.remoteFamily === 'IPv6';
}

/**
 * Wraps a connected socket in a {@link StreamTransport}. TCP sockets get
 * TCP_NODELAY as asyncio sets it on every TCP transport.
 */
export function wrapSocket(loop: EventLoop, sock: net.Socket, protocol: AnyProtocolLike, options: WrapSocketOptions = {}): StreamTransport {
  checkLoop(loop, 'wrapSocket()');
  if (options.tcp ?? isTcpSocket(sock)) sock.setNoDelay(true);
  return new StreamTransport(loop, sock, protocol, {
    waiter: options.waiter ?? null,
    server: options.server ?? null,
    extra: options.extra ?? {},
    onread: options.onread ?? null,
    readIntoBuffers: options.readIntoBuffers === true,
  });
}

/**
 * Throws a TypeError naming the public call unless `protocol` (what the
 * protocol factory returned) is a protocol object.
 */
export function checkFactoryResult(protocol: unknown, method: string): void {
  if (protocol === null || typeof protocol !== 'object' || typeof (protocol as AnyProtocolLike).connectionLost !== 'function') {
    throw new TypeError(
      `${method}(): protocolFactory() must return a protocol object (with connectionMade/dataReceived/connectionLost, e.g. an instance of a Protocol subclass), got ${describeValue(protocol)}`,
    );
  }
}

/**
 * The common tail of every client method: build the protocol, wrap the socket,
 * wait for `connectionMade`, return `[transport, protocol]`. If the factory
 * throws or returns a non-protocol, or `connectionMade` throws (or the waiting
 * task is cancelled), the socket is closed and the error propagates, as
 * asyncio's `_create_connection_transport`.
 */
export async function makeClientTransport<P extends AnyProtocolLike>(
  loop: EventLoop,
  sock: net.Socket,
  protocolFactory: ProtocolFactory<P>,
  extra: Record<string, unknown>,
  onread: BufferedReadBinding | null,
  method: string,
): Promise<[StreamTransport, P]> {
  let protocol: P;
  const waiter = loop.createFuture<void>();
  let transport: StreamTransport;
  try {
    protocol = protocolFactory();
    checkFactoryResult(protocol, method);
    transport = wrapSocket(loop, sock, protocol, { waiter, extra, onread });
  } catch (error) {
    sock.destroy();
    throw error;
  }
  await awaitOrClose(waiter, transport);
  return [transport, protocol];
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
