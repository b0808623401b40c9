/**
 * TCP client connections: asyncio's `loop.create_connection` (Happy Eyeballs
 * over every address in connect.ts, optionally TLS).
 */
import type net from 'node:net';
import { BufferedReadBinding, type AnyProtocolLike, type EventLoop, type Future, type StreamTransport, type Task, type TlsTransport } from '@aioloop/core';
import { checkLoop } from '@aioloop/core/internal';
import { connectSocket, type ConnectSocketOptions } from './connect.js';
import type { PortLike } from './dns.js';
import { checkFactory, type ProtocolFactory } from './protocol-factory.js';
import { checkOptionKeys, makeClientTransport, renameCall } from './socket-transport.js';
import { nodeSocketFor } from './native/handover.js';
import { Socket } from './native/socket.js';
import { clientTls, type ClientTlsOptions, type WithSsl, type WithoutSsl } from './tls/context.js';
import { makeTlsConnection } from './tls/connection.js';

/** Options of {@link createConnection}: connectSocket's (family, localAddr, happyEyeballsDelay, ...) plus the TLS keywords. */
export interface CreateConnectionOptions extends Omit<ConnectSocketOptions, 'onread' | 'sock'>, ClientTlsOptions {
  /** An already-connected stream socket instead of host/port: a {@link Socket} (the transport owns it) or a `net.Socket`. */
  sock?: net.Socket | Socket | null;
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
