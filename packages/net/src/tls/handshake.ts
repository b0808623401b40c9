/**
 * The TLS handshake over a connected socket, bounded by the handshake
 * timeout: asyncio's SSLProtocol up to `_on_handshake_complete`.
 */
import type net from 'node:net';
import tls from 'node:tls';
import type { EventLoop, Future } from '@aioloop/core';
import { parkedTlsErrorListener } from '@aioloop/core/internal';
import type { SslConfig } from './context.js';
import { isIpAddress } from './context.js';
import { SslError, SslHandshakeTimeoutError, handshakeError } from './errors.js';

/** How to run one handshake. */
export interface HandshakeOptions {
  /** Which side of the handshake this end plays. */
  serverSide: boolean;
  ssl: SslConfig;
  /** Client: the name the certificate must carry (and SNI unless an IP address); '' skips the name check; null: none known. */
  serverHostname: string | null;
  /** Seconds before the handshake is aborted. */
  handshakeTimeout: number;
  /** Bytes already read from `raw` that belong to the TLS stream (startTls). */
  held?: readonly Buffer[] | null;
}

function skipNameCheck(): undefined {
  return undefined;
}

/**
 * Runs the TLS handshake over `raw` and resolves with the `tls.TLSSocket`
 * once it completed and (client) the certificate and host name verified.
 * Rejects with an {@link SslCertVerificationError} saying which check failed,
 * an {@link SslError}, the socket's error, or a {@link SslHandshakeTimeoutError}
 * after `handshakeTimeout` seconds; the connection is then closed. Cancelling
 * the Future closes it too.
 */
export function tlsHandshake(loop: EventLoop, raw: net.Socket, options: HandshakeOptions): Future<tls.TLSSocket> {
  const future = loop.createFuture<tls.TLSSocket>();
  const { ssl, serverSide, serverHostname } = options;
  const held = options.held;
  // Bytes the old transport read but did not deliver go back in front of the
  // stream: Node feeds a socket's unread buffer to the TLS engine when it wraps it.
  if (held !== undefined && held !== null && held.length > 0) raw.unshift(held.length === 1 ? held[0] : Buffer.concat(held));
  let socket: tls.TLSSocket;
  if (serverSide) {
    socket = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: ssl.context,
      requestCert: ssl.requestCert,
      rejectUnauthorized: ssl.rejectUnauthorized,
      ALPNProtocols: ssl.ALPNProtocols,
    });
  } else {
    const name = serverHostname ?? '';
    const connectOptions: tls.ConnectionOptions = {
      socket: raw,
      secureContext: ssl.context,
      rejectUnauthorized: ssl.rejectUnauthorized,
      ALPNProtocols: ssl.ALPNProtocols,
      host: name === '' ? undefined : name,
    };
    if (name !== '' && !isIpAddress(name)) connectOptions.servername = name;
    if (name === '') connectOptions.checkServerIdentity = skipNameCheck;
    socket = tls.connect(connectOptions);
  }
  const timer = loop.callLater(options.handshakeTimeout, () => fail(new SslHandshakeTimeoutError(options.handshakeTimeout)));
  const cleanup = (): void => {
    timer.cancel();
    socket.off('error', onError);
    socket.off('close', onClose);
    socket.off('end', onClose);
    socket.off(serverSide ? 'secure' : 'secureConnect', onSecure);
  };
  const fail = (error: Error): void => {
    cleanup();
    socket.on('error', parkedTlsErrorListener);
    socket.destroy();
    raw.destroy();
    if (!future.done() && !loop.isClosed()) future.setException(error);
  };
  const onError = (error: Error): void => fail(handshakeError(error, serverHostname));
  const onClose = (): void => fail(new SslError('Connection lost during the TLS handshake', { code: 'ECONNRESET' }));
  const onSecure = (): void => {
    if (serverSide && ssl.requestCert && ssl.rejectUnauthorized && !socket.authorized) {
      fail(new SslError(`peer did not return a valid certificate: ${String(socket.authorizationError ?? 'no certificate')}`));
      return;
    }
    cleanup();
    socket.on('error', parkedTlsErrorListener);
    if (future.done() || loop.isClosed()) {
      socket.destroy();
      return;
    }
    future.setResult(socket);
  };
  socket.on('error', onError);
  socket.on('close', onClose);
  // A half-open socket (servers allow half-close) gets no 'close' after the
  // peer's EOF, so EOF before the handshake finished is the loss too.
  socket.on('end', onClose);
  socket.once(serverSide ? 'secure' : 'secureConnect', onSecure);
  future.addDoneCallback(() => {
    if (future.cancelled()) fail(new SslError('cancelled'));
  });
  return future;
}
