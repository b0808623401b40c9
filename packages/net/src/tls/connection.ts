/**
 * The TLS tail of the client methods and of accepted connections: handshake
 * over the connected socket, then the {@link TlsTransport} and the protocol's
 * `connectionMade` (asyncio's `_make_ssl_transport` + `_create_connection_transport`).
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { TRANSPORT_ATTACHED, TRANSPORT_DETACHED, type AnyProtocolLike, type BaseTransport, type EventLoop, type Future, type TransportExtraInfo, type TransportServer } from '@aioloop/core';
import type { ProtocolFactory } from '../protocol-factory.js';
import { awaitOrClose } from '../await-or-close.js';
import type { SslConfig } from './context.js';
import { tlsHandshake } from './handshake.js';
import { TlsTransport } from '@aioloop/core';

/** What one TLS connection needs besides the socket. */
export interface TlsConnectionSettings {
  ssl: SslConfig;
  serverHostname: string | null;
  handshakeTimeout: number;
  shutdownTimeout: number;
}

/**
 * The client methods (and connectAcceptedSocket, `serverSide`): builds the
 * protocol, runs the handshake (a client verifies the peer), wraps the TLS
 * socket and waits for `connectionMade`. Any failure closes the socket and rejects.
 */
export async function makeTlsConnection<P extends AnyProtocolLike>(
  loop: EventLoop,
  raw: net.Socket,
  protocolFactory: ProtocolFactory<P>,
  settings: TlsConnectionSettings,
  extra: Record<string, unknown>,
  serverSide = false,
): Promise<[TlsTransport, P]> {
  let protocol: P;
  try {
    protocol = protocolFactory();
  } catch (error) {
    raw.destroy();
    throw error;
  }
  const socket = await tlsHandshake(loop, raw, { serverSide, ssl: settings.ssl, serverHostname: settings.serverHostname, handshakeTimeout: settings.handshakeTimeout });
  const waiter = loop.createFuture<void>();
  const transport = new TlsTransport(loop, socket, protocol, { rawSocket: raw, context: settings.ssl.context, shutdownTimeout: settings.shutdownTimeout, waiter, extra });
  await awaitOrClose(waiter, transport);
  return [transport, protocol];
}

/**
 * An accepted connection still in its TLS handshake, counted by its server
 * (asyncio attaches the socket transport at accept, before the handshake), so
 * `waitClosed()` waits for it and `closeClients()`/`abortClients()` end it.
 */
class HandshakingConnection implements BaseTransport {
  constructor(
    private readonly handshake: Future<tls.TLSSocket>,
    private protocol: AnyProtocolLike,
    private readonly raw: net.Socket,
  ) {}

  close(): void {
    this.handshake.cancel();
  }

  abort(): void {
    this.handshake.cancel();
  }

  isClosing(): boolean {
    return this.handshake.done();
  }

  getExtraInfo<K extends keyof TransportExtraInfo>(name: K): TransportExtraInfo[K] | undefined;
  getExtraInfo<K extends keyof TransportExtraInfo, D>(name: K, defaultValue: D): TransportExtraInfo[K] | D;
  getExtraInfo<V = unknown>(name: string, defaultValue?: V): V | undefined;
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    if (name === 'socket') return this.raw;
    return defaultValue;
  }

  setProtocol(protocol: AnyProtocolLike): void {
    this.protocol = protocol;
  }

  getProtocol(): AnyProtocolLike {
    return this.protocol;
  }
}

/**
 * Server side of an accepted connection: handshake, then the transport
 * (attached to `server`). A failed handshake closes the connection and is
 * only logged in debug mode, as asyncio treats SSL errors (OSErrors) there.
 */
export function acceptTls(
  loop: EventLoop,
  raw: net.Socket,
  protocol: AnyProtocolLike,
  settings: TlsConnectionSettings,
  server: TransportServer,
  extra: Record<string, unknown> | undefined,
): void {
  const handshake = tlsHandshake(loop, raw, { serverSide: true, ssl: settings.ssl, serverHostname: null, handshakeTimeout: settings.handshakeTimeout });
  const pending = new HandshakingConnection(handshake, protocol, raw);
  server[TRANSPORT_ATTACHED](pending);
  handshake.addDoneCallback(() => {
    try {
      if (handshake.cancelled()) return;
      const error = handshake.exception();
      if (error !== null) {
        if (loop.getDebug()) loop.callExceptionHandler({ message: 'SSL handshake failed', exception: error, socket: raw, protocol });
        return;
      }
      new TlsTransport(loop, handshake.result(), protocol, { rawSocket: raw, context: settings.ssl.context, shutdownTimeout: settings.shutdownTimeout, server, extra });
    } finally {
      // After the transport attached itself, so the server's count never touches zero in between.
      server[TRANSPORT_DETACHED](pending);
    }
  });
}
